"""What augmented sets are scored with, and what vaeaug is compared against.

To add a classifier or a competing augmenter, add an entry to
:data:`CLASSIFIERS` or :data:`COMPETITORS`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from imblearn.over_sampling import SMOTE
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.svm import SVC

from ..augmenters import FeatureSpaceAugmenter
from ..classifiers import MLPClassifier
from ..jitter import AffineJitterAugmenter

#: ``name -> factory(seed)``: ``svm``, ``knn``, ``mlp`` (the paper's) and a
#: wider scikit-learn MLP.
CLASSIFIERS: dict[str, Callable] = {
    "svm": lambda seed: SVC(),
    "knn": lambda seed: KNeighborsClassifier(),
    "mlp": lambda seed: MLPClassifier(random_state=seed),
    "sklearn-mlp": lambda seed: SklearnMLPClassifier(
        hidden_layer_sizes=(512, 512), early_stopping=True, random_state=seed
    ),
}


def _smote(image_shape, seed, n_per_sample):
    def targets(y):
        labels, counts = np.unique(y, return_counts=True)
        return {label: int(c) * (n_per_sample + 1) for label, c in zip(labels, counts, strict=True)}

    return SMOTE(sampling_strategy=targets, k_neighbors=3, random_state=seed)


#: ``name -> factory(image_shape, seed, n_per_sample)``, each making
#: ``n_per_sample`` new samples per original:
#:
#: - ``smote``: imbalanced-learn's SMOTE in pixel space (same-class
#:   neighbours, ``k_neighbors=3``);
#: - ``pixel-interpolation``: half-way towards each of the 3 nearest
#:   same-class neighbours in pixel space (the paper's interpolation without
#:   the VAE);
#: - ``jitter``: rotations of up to 10 degrees and shifts of up to 2 pixels.
COMPETITORS: dict[str, Callable] = {
    "smote": _smote,
    "pixel-interpolation": lambda image_shape, seed, n_per_sample: FeatureSpaceAugmenter(
        method="interpolation",
        alpha=0.5,
        k_neighbors=3,
        n_per_sample=n_per_sample,
        random_state=seed,
    ),
    "jitter": lambda image_shape, seed, n_per_sample: AffineJitterAugmenter(
        image_shape=image_shape, n_per_sample=n_per_sample, random_state=seed
    ),
}


def make_classifier(name: str, seed: int):
    """A fresh classifier of :data:`CLASSIFIERS`, seeded with ``seed`` where it draws."""
    if name not in CLASSIFIERS:
        raise ValueError(f"Unknown classifier {name!r}; expected one of {list(CLASSIFIERS)}.")
    return CLASSIFIERS[name](seed)


def make_competitor(name: str, image_shape: tuple[int, int], seed: int, n_per_sample: int = 3):
    """A competing augmenter of :data:`COMPETITORS` making ``n_per_sample`` new samples each."""
    if name not in COMPETITORS:
        raise ValueError(f"Unknown competitor {name!r}; expected one of {list(COMPETITORS)}.")
    return COMPETITORS[name](image_shape, seed, n_per_sample)
