"""
==========
Quickstart
==========

VAE augmentation in front of a support vector classifier, on 300 labelled
images of scikit-learn's 8x8 digits.
"""

# %%
# Data
# ----
# :func:`~sklearn.datasets.load_digits` gives 1,797 images of 8x8 pixels, as
# rows of 64 values from 0 to 16. 300 of them, stratified by class, are the
# labelled training set; the other 1,497 are the test set.

from imblearn.pipeline import Pipeline
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from vaeaug import VAE, VAEAugmenter

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=300, stratify=y, random_state=0
)
print(f"{len(X_train)} training images, {len(X_test)} test images")

# %%
# The augmenter in a pipeline
# ---------------------------
# :class:`~vaeaug.VAEAugmenter` is an imbalanced-learn sampler, so it goes into
# an :class:`imblearn.pipeline.Pipeline` in front of the classifier. When the
# pipeline is fitted, the augmenter trains a VAE on the training images
# (without their labels) and makes three new images per original in the
# VAE's latent space: about half by interpolating towards one of its nearest
# neighbours of the same class, the others by adding a little noise to the
# original's own latent vector. The classifier is trained on the originals
# and the new images together. At prediction time the augmenter does
# nothing.
#
# The VAE is given as a template: ``VAE(...)`` holds every setting of the
# network and its training. ``image_shape=(8, 8)`` says that the 64 columns
# are 8x8 images, which get the convolutional network and, after decoding,
# small random rotations and shifts. On 8x8 images the default KL weight of
# 1 leaves so little information in the latent code that every digit
# decodes to the same blur; ``kl_weight=0.1`` keeps the decodings faithful.
# On a few hundred images, batches of 32 (``batch_size``, default 128) make
# more training steps per epoch, and 100 epochs keep the example short.

vae = VAE(
    image_shape=(8, 8), latent_dim=10, kl_weight=0.1, batch_size=32, max_epochs=100, patience=20
)
pipe = Pipeline([("aug", VAEAugmenter(vae=vae, random_state=0)), ("clf", SVC())])
pipe.fit(X_train, y_train)

augmenter = pipe.named_steps["aug"]
print(f"VAE trained for {len(augmenter.vae_.history_)} epochs")
baseline = SVC().fit(X_train, y_train)
print(f"SVC + VAE augmentation: test accuracy {pipe.score(X_test, y_test):.3f}")
print(f"SVC alone:              test accuracy {baseline.score(X_test, y_test):.3f}")

# %%
# The augmentation is about a point ahead here, but an SVM is already good on
# these digits, and one split of 300 images cannot tell such a difference
# from noise. The :ref:`sphx_glr_auto_examples_plot_compare_augmenters.py`
# example averages over several draws and compares with other augmenters: on
# these small digits the VAE comes second for both classifiers, behind SMOTE
# for kNN and behind plain affine jitter for the SVM.
#
# What the classifier was trained on
# ----------------------------------
# The fitted augmenter keeps its VAE in ``vae_``. Wrapped in
# :class:`~sklearn.frozen.FrozenEstimator` it is reused as it is, without
# training it again, to look at the images it makes. ``fit_resample``
# returns the originals first, then the new images, and says where each row
# comes from: ``sample_indices_`` is the index of its original.

import matplotlib.pyplot as plt
from sklearn.frozen import FrozenEstimator

viewer = VAEAugmenter(vae=FrozenEstimator(augmenter.vae_), random_state=0)
X_res, y_res = viewer.fit_resample(X_train, y_train)
print(f"resampled: {X_res.shape[0]} rows ({viewer.synthetic_mask_.sum()} of them new)")

shown = [list(y_train).index(digit) for digit in range(10)]  # one original per digit
fig, axes = plt.subplots(4, 10, figsize=(8, 3.6))
for col, i in enumerate(shown):
    new = X_res[viewer.synthetic_mask_ & (viewer.sample_indices_ == i)]
    for row, image in enumerate([X_train[i], *new]):
        axes[row, col].imshow(image.reshape(8, 8), cmap="gray_r")
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
for row, label in enumerate(["original", "new 1", "new 2", "new 3"]):
    axes[row, 0].set_ylabel(label, rotation=0, ha="right", va="center")
fig.suptitle("One original per digit and the three images made from it")
fig.tight_layout()
plt.show()
