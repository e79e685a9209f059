"""
==============================================
Reusing a VAE pre-trained on unlabelled images
==============================================

A VAE learns without labels, so it can be trained on many more images than
are labelled, once, and then lend its latent space to a small labelled set.
This is the paper's "restricted" protocol, on scikit-learn's 8x8 digits: the
VAE sees 1,297 images without labels, and 100 of them are labelled.
"""

# %%
# Data and the pre-trained VAE
# ----------------------------
# 500 digits are set aside for testing. Of the other 1,297, all train the
# VAE (their labels are not used) and 100, drawn stratified by class, are the
# labelled set.

import matplotlib.pyplot as plt
import numpy as np
from imblearn.pipeline import Pipeline
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

from vaeaug import VAE, VAEAugmenter

X, y = load_digits(return_X_y=True)
X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=500, stratify=y, random_state=0)
X_labelled, _, y_labelled, _ = train_test_split(
    X_pool, y_pool, train_size=100, stratify=y_pool, random_state=0
)

pretrained = VAE(
    image_shape=(8, 8), latent_dim=10, kl_weight=0.1, max_epochs=100, patience=20, random_state=0
)
pretrained.fit(X_pool)  # no labels
print(f"pre-trained VAE: {len(pretrained.history_)} epochs on {len(X_pool)} images")

# %%
# Frozen in a pipeline
# --------------------
# Cross-validation and grid search clone the pipeline for every fit, and a
# clone of a fitted VAE is an unfitted one. Wrapped in
# :class:`~sklearn.frozen.FrozenEstimator` the VAE survives cloning as it
# is: the augmenter uses it without training it again. So a grid search over
# the generation parameters costs no VAE training at all.

pipe = Pipeline(
    [
        ("aug", VAEAugmenter(vae=FrozenEstimator(pretrained), random_state=0)),
        ("clf", KNeighborsClassifier()),
    ]
)
grid = {"aug__method": ["noise", "interpolation", "extrapolation"], "aug__alpha": [0.25, 0.5]}
search = GridSearchCV(pipe, grid, cv=3).fit(X_labelled, y_labelled)
results = search.cv_results_
for params, mean in zip(results["params"], results["mean_test_score"], strict=True):
    print(f"{params['aug__method']:<14} alpha={params['aug__alpha']:<5} 3-fold accuracy {mean:.3f}")
print(f"best: {search.best_params_}, test accuracy {search.score(X_test, y_test):.3f}")

# %%
# Pre-trained or trained on the labelled images only
# --------------------------------------------------
# The same augmentation (the default: half interpolations, half latent noise
# around the original, then jitter) with a VAE trained on the 100 labelled
# images only (in batches of 32, as in the quickstart, since they
# are few), and no augmentation at all, for two classifiers.
# Each augmenter's ``fit_resample`` is called once and both classifiers are
# trained on its output, which is what the pipeline above does for one.

augmenters = {
    "pre-trained VAE (1,297 images)": VAEAugmenter(vae=FrozenEstimator(pretrained), random_state=0),
    "VAE on the 100 labelled images": VAEAugmenter(
        vae=VAE(
            image_shape=(8, 8),
            latent_dim=10,
            kl_weight=0.1,
            batch_size=32,
            max_epochs=100,
            patience=20,
        ),
        random_state=0,
    ),
}
training_sets = {"no augmentation": (X_labelled, y_labelled)}
for name, augmenter in augmenters.items():
    training_sets[name] = augmenter.fit_resample(X_labelled, y_labelled)
own = augmenters["VAE on the 100 labelled images"].vae_

classifiers = {"kNN": KNeighborsClassifier(), "SVM": SVC()}
scores = {}
for name, (X_fit, y_fit) in training_sets.items():
    scores[name] = [clf.fit(X_fit, y_fit).score(X_test, y_test) for clf in classifiers.values()]
    print(f"{name:<32}  kNN {scores[name][0]:.3f}  SVM {scores[name][1]:.3f}")

fig, ax = plt.subplots(figsize=(8, 3.6))
width = 0.8 / len(scores)
for k, (name, values) in enumerate(scores.items()):
    bars = ax.bar(np.arange(len(classifiers)) + k * width, values, width, label=name)
    ax.bar_label(bars, fmt="%.3f", fontsize=8)
ax.set_xticks(np.arange(len(classifiers)) + width * (len(scores) - 1) / 2, list(classifiers))
ax.set_ylim(0.7, 1.0)
ax.set_ylabel("test accuracy (500 digits)")
ax.set_title("100 labelled digits")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
fig.tight_layout()
plt.show()

# %%
# Both VAEs are ahead of no augmentation, by 2.4 to 3.8 points, on this one
# draw of 100 images (the
# :ref:`sphx_glr_auto_examples_plot_compare_augmenters.py` example averages
# over three draws of 200). The VAE trained on the 100 labelled images alone
# is within half a point of the pre-trained one for both classifiers. That
# is residual decoding at work: each new image keeps the detail its VAE
# cannot reconstruct. With direct decodes (``decoding="direct"``, the
# paper's), a VAE trained on 100 images does harm.
#
# Reconstructions
# ---------------
# Test digits, which neither VAE has seen, encoded and decoded by each. A
# VAE trained on 100 images has little to learn from, so its decodings are
# blurrier; residual decoding adds back what they miss.

shown = X_test[:10]
rows = {
    "test digit": shown,
    "pre-trained VAE": pretrained.inverse_transform(pretrained.transform(shown)),
    "VAE on 100": own.inverse_transform(own.transform(shown)),
}
fig, axes = plt.subplots(3, 10, figsize=(8, 2.8))
for r, (name, images) in enumerate(rows.items()):
    for c, image in enumerate(images):
        axes[r, c].imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center")
fig.tight_layout()
plt.show()
for name, model in {"pre-trained VAE": pretrained, "VAE on 100 images": own}.items():
    error = np.abs(model.inverse_transform(model.transform(X_test)) - X_test).mean()
    print(f"{name}: mean absolute reconstruction error on the test digits {error:.2f} (of 16)")
