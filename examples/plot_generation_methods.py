"""
================================
What each generation method does
================================

:class:`~vaeaug.VAEAugmenter` makes new latent vectors from each original's
vector :math:`z_i` in one of three ways (``method``), with a step
:math:`\\alpha` (``alpha``, default 0.5):

- ``"noise"``: :math:`z_i + \\alpha\\,\\varepsilon`, Gaussian noise scaled by
  the spread of the encoded set in each latent dimension;
- ``"interpolation"`` (the default): :math:`z_i + \\alpha\\,(z_j - z_i)`,
  halfway towards a nearest neighbour :math:`z_j` of the same class;
- ``"extrapolation"``: :math:`z_i + \\alpha\\,(z_i - z_j)`, away from it.

By default half the new vectors are made by ``method`` and the other half by
latent noise of strength 0.25 around the original (``noise_share=0.5``,
``noise_alpha=0.25``). The new vectors are decoded back to images, which are
then jittered with a small random rotation and shift (``max_rotation``,
``max_shift``). This example draws a few originals next to what each method
makes of them, and next to what the default makes.
"""

# %%
# A VAE for the digits
# --------------------
# The VAE is trained once, without labels, on 600 of scikit-learn's 8x8
# digits, then frozen with :class:`~sklearn.frozen.FrozenEstimator` so that
# every augmenter below uses the same latent space. The other 1,197 digits
# train an SVM that serves as a referee further down.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from vaeaug import VAE, VAEAugmenter

X, y = load_digits(return_X_y=True)
X_aug, X_ref, y_aug, y_ref = train_test_split(X, y, train_size=600, stratify=y, random_state=0)
vae = VAE(
    image_shape=(8, 8),
    latent_dim=10,
    kl_weight=0.1,
    batch_size=32,
    max_epochs=100,
    patience=20,
    random_state=0,
)
vae.fit(X_aug)
print(f"VAE trained for {len(vae.history_)} epochs")

# %%
# Samples of each method
# ----------------------
# Each augmenter makes three new images per original (``n_per_sample=3``);
# interpolation and extrapolation pair the three with the original's three
# nearest neighbours in the latent space (``k_neighbors=3``), whose indices
# are in ``neighbor_indices_``. The latent noise share and the jitter are
# turned off (``noise_share=0, max_rotation=0, max_shift=0``) to show the
# methods alone; the last group is the default: half interpolations, half
# latent noise around the original, then jitter.

alone = dict(noise_share=0, max_rotation=0, max_shift=0)  # each method alone, no noise share
settings = {
    "noise": dict(method="noise", **alone),
    "interpolation": dict(method="interpolation", **alone),
    "extrapolation": dict(method="extrapolation", **alone),
    "interpolation and noise\n+ jitter (default)": dict(),
}
samples = {}
for name, params in settings.items():
    augmenter = VAEAugmenter(vae=FrozenEstimator(vae), random_state=0, **params)
    X_res, y_res = augmenter.fit_resample(X_aug, y_aug)
    samples[name] = (X_res, y_res, augmenter)

shown = [list(y_aug).index(digit) for digit in (2, 4, 5, 7)]


def made_from(i, augmenter):
    """Output rows that ``augmenter`` made from original ``i``."""
    return augmenter.synthetic_mask_ & (augmenter.sample_indices_ == i)


interpolator = samples["interpolation"][2]
groups = {
    "original": X_aug[shown][:, None],
    "VAE\nreconstruction": vae.inverse_transform(vae.transform(X_aug[shown]))[:, None],
    # the neighbours the interpolations moved towards, in the order of the samples
    "latent-space\nneighbours": np.stack(
        [X_aug[interpolator.neighbor_indices_[made_from(i, interpolator)]] for i in shown]
    ),
}
for name, (X_res, _, augmenter) in samples.items():
    groups[name] = np.stack([X_res[made_from(i, augmenter)] for i in shown])


def mosaic(images, min_cols=3):
    """Tile an array of shape (rows, cols, 64) into one image with 1-pixel gaps.

    Groups of fewer than ``min_cols`` columns are centred in blank space, so
    that all groups are drawn at the same scale.
    """
    n_rows, n_cols = images.shape[:2]
    pad = max(min_cols - n_cols, 0) / 2
    canvas = np.full((n_rows * 9 - 1, max(n_cols, min_cols) * 9 - 1), np.nan)
    for r in range(n_rows):
        for c in range(n_cols):
            left = round((c + pad) * 9)
            canvas[r * 9 : r * 9 + 8, left : left + 8] = images[r, c].reshape(8, 8)
    return canvas


# Top: what the VAE starts from; bottom: what each method makes of it.
fig, axes = plt.subplots(2, 4, figsize=(9, 7.5))
axes[0, 3].axis("off")
cmap = plt.get_cmap("gray_r").with_extremes(bad="white")
for ax, (name, images) in zip([*axes[0, :3], *axes[1]], groups.items(), strict=True):
    ax.imshow(mosaic(images), cmap=cmap, vmin=0, vmax=16)
    ax.set_title(name, fontsize=10)
    ax.axis("off")
fig.suptitle("Four originals (rows) and the images made from them")
fig.tight_layout()
plt.show()

# %%
# Interpolation moves each digit towards the style of a classmate;
# extrapolation moves it away from one, which exaggerates what sets it
# apart; noise moves it in random directions of the latent space. The VAE's
# own version of a digit is blurrier than the original and, for a digit it
# represents poorly (the 7 here), drifts towards another class; with the
# default residual decoding each new image keeps the detail that the VAE
# does not reconstruct (for interpolation, half its own and half its
# partner's; for the default's latent noise, all its own), so the 7s stay 7s.
#
# How far the samples move, and whether they keep their label
# -------------------------------------------------------------
# For each method: the mean distance (in pixel units, 0-16) of a new image
# from its original, and the share of new images to which an SVM trained on
# the 1,197 other digits gives the label the image inherited from its
# original.

referee = SVC().fit(X_ref, y_ref)
print(f"{'method':<42} {'distance':>8} {'label kept':>10}")
for name, (X_res, y_res, augmenter) in samples.items():
    new = augmenter.synthetic_mask_
    distance = np.linalg.norm(X_res[new] - X_aug[augmenter.sample_indices_[new]], axis=1).mean()
    kept = (referee.predict(X_res[new]) == y_res[new]).mean()
    print(f"{name.replace(chr(10), ' '):<42} {distance:8.1f} {kept:10.1%}")

# %%
# Interpolation keeps the label most often, then extrapolation, then
# noise. The default jitters its images, and the jitter moves every pixel,
# so they are further from their originals, and the referee, trained on
# digits that are not jittered, recognises fewer of them; the jitter still
# helps some classifiers (see :doc:`/results`).
