"""What augmented sets are scored with, and what vaeaug is compared against.

To add a classifier or a competing augmenter, add an entry to
:data:`CLASSIFIERS` or :data:`COMPETITORS`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from imblearn.over_sampling import ADASYN, SMOTE, BorderlineSMOTE, RandomOverSampler
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC

from vaeaug import AffineJitterAugmenter, FeatureSpaceAugmenter, TorchMLPClassifier

#: ``name -> factory(seed)``: ``svm``, ``knn``, ``mlp`` (the paper's) and a
#: wider scikit-learn MLP.
CLASSIFIERS: dict[str, Callable] = {
    "svm": lambda seed: SVC(),
    "knn": lambda seed: KNeighborsClassifier(),
    "mlp": lambda seed: TorchMLPClassifier(random_state=seed),
    "sklearn-mlp": lambda seed: MLPClassifier(
        hidden_layer_sizes=(512, 512), early_stopping=True, random_state=seed
    ),
}


def _per_sample_targets(n_per_sample: int):
    """imbalanced-learn's ``sampling_strategy`` for ``n_per_sample`` new samples per original."""

    def targets(y):
        labels, counts = np.unique(y, return_counts=True)
        return {label: int(c) * (n_per_sample + 1) for label, c in zip(labels, counts, strict=True)}

    return targets


def _imblearn(sampler_class, neighbors_parameter=None):
    """Factory of an imbalanced-learn oversampler; with ``neighbors_parameter``, it
    searches 3 neighbours within a class, fewer where the smallest class has fewer
    other samples (as a user would have to), and cannot run on classes of one."""

    def make(image_shape, seed, n_per_sample, sampling_strategy, smallest_class):
        strategy = (
            _per_sample_targets(n_per_sample) if sampling_strategy is None else sampling_strategy
        )
        params = {}
        if neighbors_parameter is not None:
            if smallest_class < 2:
                return None
            params[neighbors_parameter] = min(3, smallest_class - 1)
        return sampler_class(sampling_strategy=strategy, random_state=seed, **params)

    return make


#: ``name -> factory(image_shape, seed, n_per_sample, sampling_strategy,
#: smallest_class)``; each makes ``n_per_sample`` new samples per original, or,
#: when ``sampling_strategy`` is given, as many as it asks for (``"auto"``: every
#: class up to the largest). A factory returns ``None`` where it cannot run on a
#: smallest class of ``smallest_class`` samples:
#:
#: - ``smote``: imbalanced-learn's SMOTE in pixel space (same-class
#:   neighbours, ``k_neighbors=3``);
#: - ``pixel-interpolation``: half-way towards each of the 3 nearest
#:   same-class neighbours in pixel space (the paper's interpolation without
#:   the VAE);
#: - ``jitter``: rotations of up to 10 degrees and shifts of up to 2 pixels;
#: - ``random-oversampling``, ``borderline-smote``, ``adasyn``: imbalanced-learn's
#:   other oversamplers, with 3 neighbours like ``smote``.
#:
#: imbalanced-learn's samplers search ``min(3, smallest_class - 1)`` neighbours.
COMPETITORS: dict[str, Callable] = {
    "smote": _imblearn(SMOTE, "k_neighbors"),
    "pixel-interpolation": lambda image_shape, seed, n_per_sample, sampling_strategy, _: (
        FeatureSpaceAugmenter(
            method="interpolation",
            alpha=0.5,
            k_neighbors=3,
            n_per_sample=n_per_sample,
            sampling_strategy=sampling_strategy,
            random_state=seed,
        )
    ),
    "jitter": lambda image_shape, seed, n_per_sample, sampling_strategy, _: AffineJitterAugmenter(
        image_shape=image_shape,
        n_per_sample=n_per_sample,
        sampling_strategy=sampling_strategy,
        random_state=seed,
    ),
    "random-oversampling": _imblearn(RandomOverSampler),
    "borderline-smote": _imblearn(BorderlineSMOTE, "k_neighbors"),
    "adasyn": _imblearn(ADASYN, "n_neighbors"),
}

#: The competitors of the accuracy protocols; the balancing ones run all of them.
DEFAULT_COMPETITORS = ("smote", "pixel-interpolation", "jitter")


def make_classifier(name: str, seed: int):
    """A fresh classifier of :data:`CLASSIFIERS`, seeded with ``seed`` where it draws."""
    if name not in CLASSIFIERS:
        raise ValueError(f"Unknown classifier {name!r}; expected one of {list(CLASSIFIERS)}.")
    return CLASSIFIERS[name](seed)


def make_competitor(
    name: str,
    image_shape: tuple[int, int],
    seed: int,
    n_per_sample: int = 3,
    sampling_strategy=None,
    smallest_class: int = 4,
):
    """A competing augmenter of :data:`COMPETITORS`, or ``None`` where it cannot run.

    It makes ``n_per_sample`` new samples per original, or what
    ``sampling_strategy`` asks for when it is given, for labelled data whose
    smallest class has ``smallest_class`` samples.
    """
    if name not in COMPETITORS:
        raise ValueError(f"Unknown competitor {name!r}; expected one of {list(COMPETITORS)}.")
    return COMPETITORS[name](image_shape, seed, n_per_sample, sampling_strategy, smallest_class)
