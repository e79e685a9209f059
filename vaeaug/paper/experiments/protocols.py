"""Protocols: a dataset, how it is split into unlabelled, labelled, validation and test
images, and the VAE settings it needs.

To add a protocol, write a loader ``load(data_home, seed) -> ExperimentData``
and add a :class:`Protocol` to :data:`PROTOCOLS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from ..datasets import load_mnist, load_ujipen, load_ujipen_v1, load_ujipen_v2_digits
from .competitors import COMPETITORS, DEFAULT_COMPETITORS
from .paper import PAPER_RESULTS


@dataclass
class ExperimentData:
    """Images as float32 rows in [0, 1], with integer or string labels."""

    X_unlabelled: np.ndarray
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, int]

    def pool(self) -> np.ndarray:
        """The unlabelled images that are not labelled training images.

        What ``neighbor_search="unlabeled"`` pairs the labelled images with;
        empty where every unlabelled image is labelled (the UJI Pen protocols).
        """
        labelled = {row.tobytes() for row in self.X_train}
        others = np.fromiter(
            (row.tobytes() not in labelled for row in self.X_unlabelled),
            dtype=bool,
            count=len(self.X_unlabelled),
        )
        return self.X_unlabelled[others]


@dataclass
class Protocol:
    """A dataset and how the paper (or we) evaluate on it.

    ``load(data_home, seed)`` returns :class:`ExperimentData`; the seed draws
    the labelled subset or the split, so seeds give independent repetitions.
    ``vae_params`` are :class:`~vaeaug.VAE` settings where the protocol departs
    from the paper's (empty: the paper's architecture and objective).
    ``sampling_strategy``, when set, is the amount every augmenter makes
    instead of a number of new samples per original (``"auto"``: balance the
    classes); ``metrics`` are the scores reported, ``competitors`` the ones run
    by default.
    """

    name: str
    description: str
    load: Callable[[str | None, int], ExperimentData]
    latent_dims: tuple[int, ...]
    paper: dict = field(default_factory=dict)
    vae_params: dict = field(default_factory=dict)
    sampling_strategy: str | None = None
    metrics: tuple[str, ...] = ("accuracy",)
    competitors: tuple[str, ...] = DEFAULT_COMPETITORS


def _rows(images: np.ndarray) -> np.ndarray:
    rows = images.reshape(len(images), -1)
    return rows.astype(np.float32) / 255 if rows.dtype == np.uint8 else rows.astype(np.float32)


def _load_digits(data_home, seed):
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=500, stratify=y, random_state=seed
    )
    X_val, y_val = X_rest[-200:], y_rest[-200:]
    X_rest, y_rest = X_rest[:-200], y_rest[:-200]
    labelled = _stratified_draw(y_rest, 100, seed)
    return ExperimentData(
        X_rest, X_rest[labelled], y_rest[labelled], X_val, y_val, X_test, y_test, (8, 8)
    )


def _stratified_draw(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of ``n`` samples drawn without replacement, stratified by class."""
    chosen, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y, random_state=seed)
    return np.sort(chosen)


def _long_tailed_draw(y: np.ndarray, n_head: int, ratio: int, seed: int) -> np.ndarray:
    """Indices of a long-tailed draw: ``n_head`` of each class in the first half of the
    sorted labels, ``max(1, n_head // ratio)`` of each in the second half."""
    rng = np.random.RandomState(seed)
    labels = np.unique(y)
    n_tail = max(1, n_head // ratio)
    chosen = [
        rng.choice(np.flatnonzero(y == label), n_head if i < len(labels) // 2 else n_tail, False)
        for i, label in enumerate(labels)
    ]
    return np.sort(np.concatenate(chosen))


def _load_mnist(data_home, seed, n_labelled, ratio=None):
    data = load_mnist(data_home, download_if_missing=True)
    X_train, X_val, X_test = (_rows(data[k]) for k in ("X_train", "X_val", "X_test"))
    if n_labelled is None:
        labelled = np.arange(len(X_train))
    elif ratio is None:
        labelled = _stratified_draw(data.y_train, n_labelled, seed)
    else:
        labelled = _long_tailed_draw(data.y_train, n_labelled, ratio, seed)
    return ExperimentData(
        X_train,
        X_train[labelled],
        data.y_train[labelled],
        X_val,
        data.y_val,
        X_test,
        data.y_test,
        (28, 28),
    )


def _ujipen_loader(loader, ratio=None):
    """Load a UJI Pen protocol; with ``ratio``, a long-tailed draw of its training
    characters is labelled (all of each head class) and the VAE sees them all."""

    def load(data_home, seed):
        data = loader(data_home, random_state=seed)
        X_train = _rows(data.X_train)
        shape = data.X_train.shape[1:]
        labelled = np.arange(len(X_train))
        if ratio is not None:
            n_head = int(np.unique(data.y_train, return_counts=True)[1].min())
            labelled = _long_tailed_draw(data.y_train, n_head, ratio, seed)
        return ExperimentData(
            X_train,
            X_train[labelled],
            data.y_train[labelled],
            _rows(data.X_val),
            data.y_val,
            _rows(data.X_test),
            data.y_test,
            shape,
        )

    return load


# With the default patience of 5 epochs, the VAE on UJIPEN v1's 682 training
# images stopped at epoch 10 with a validation reconstruction of 1,723 nats
# (decodes were blobs); with patience 20 it trained for 77 epochs to 828 nats.
# Few images make few steps per epoch, and the small validation set is noisy.
_SMALL_DATA_TRAINING = {"max_epochs": 300, "patience": 20}
# 49,500 images (55,000 less the 10 % held out) make 387 steps per epoch. With
# the cosine schedule 12 epochs on MNIST's training images reach 71.8 nats per
# validation image (Z=20), as low as 30 epochs at a constant learning rate of
# 1e-3 (71.8); see benchmarks/README.md.
_MNIST_TRAINING = {"max_epochs": 12}
# Long-tailed protocols: every augmenter balances, scored by balanced accuracy and
# macro F1, against all of imbalanced-learn's oversamplers.
_BALANCING = {
    "sampling_strategy": "auto",
    "metrics": ("balanced_accuracy", "macro_f1"),
    "competitors": tuple(COMPETITORS),
}

PROTOCOLS = {
    p.name: p
    for p in [
        Protocol(
            "digits",
            "scikit-learn's 8x8 digits (embedded): VAE on 1,097 unlabelled images, "
            "100 labelled, 200 validation, 500 test",
            _load_digits,
            (5, 10, 20),
            # Chosen on this protocol's validation set: with the ELBO's full KL
            # weight and 100 epochs the VAE collapses on 8x8 images (2-3 active
            # latent dimensions, every decode the same blur).
            vae_params={"kl_weight": 0.1, "max_epochs": 300, "patience": 20},
        ),
        Protocol(
            "mnist-restricted",
            "MNIST: VAE on the 55,000 training images without labels, 1,000 of them "
            "labelled (stratified draw per seed), official 10,000 test images",
            lambda data_home, seed: _load_mnist(data_home, seed, 1000),
            (10, 20, 50, 100),
            PAPER_RESULTS["mnist-restricted"],
            vae_params=_MNIST_TRAINING,
        ),
        Protocol(
            "mnist-full",
            "MNIST: VAE and classifiers on all 55,000 training images, official 10,000 test images",
            lambda data_home, seed: _load_mnist(data_home, seed, None),
            (10, 20, 50, 100),
            PAPER_RESULTS["mnist-full"],
            vae_params=_MNIST_TRAINING,
        ),
        *(
            Protocol(
                f"mnist-long-tailed-{ratio}",
                f"MNIST: VAE on the 55,000 training images without labels; labelled: 500 "
                f"of each digit 0-4 and {500 // ratio} of each digit 5-9 (imbalance ratio "
                f"{ratio}); every augmenter balances the classes; official 10,000 test images",
                lambda data_home, seed, ratio=ratio: _load_mnist(data_home, seed, 500, ratio),
                (20,),
                vae_params=_MNIST_TRAINING,
                **_BALANCING,
            )
            for ratio in (20, 100)
        ),
        Protocol(
            "ujipen",
            "UJI Pen Characters v2 (97 classes, 11,640 samples) rendered to 70x70, "
            "50 % train / 5 % validation / 45 % test, stratified",
            _ujipen_loader(load_ujipen),
            (20, 50, 100),
            PAPER_RESULTS["ujipen"],
            vae_params=_SMALL_DATA_TRAINING,
        ),
        Protocol(
            "ujipen-v1",
            "UJI Pen Characters v1 (62 classes, 1,364 samples) rendered to 70x70, "
            "50 % train / 5 % validation / 45 % test, stratified",
            _ujipen_loader(load_ujipen_v1),
            (20, 50, 100),
            vae_params=_SMALL_DATA_TRAINING,
        ),
        Protocol(
            "ujipen-v2-digits",
            "UJI Pen Characters v2, digits only (10 classes, 1,200 samples) rendered "
            "to 70x70, 50 % train / 5 % validation / 45 % test, stratified",
            _ujipen_loader(load_ujipen_v2_digits),
            (20, 50, 100),
            vae_params=_SMALL_DATA_TRAINING,
        ),
        *(
            Protocol(
                f"ujipen-v2-digits-long-tailed-{ratio}",
                f"UJI Pen Characters v2, digits, split as ujipen-v2-digits; VAE on the 600 "
                f"training characters without labels; labelled: all 60 of each digit 0-4 "
                f"and {60 // ratio} of each digit 5-9 (imbalance ratio {ratio}); every "
                "augmenter balances the classes",
                _ujipen_loader(load_ujipen_v2_digits, ratio),
                (20,),
                vae_params=_SMALL_DATA_TRAINING,
                **_BALANCING,
            )
            # 60 training characters a class: a ratio of 100 would leave no tail.
            for ratio in (20, 60)
        ),
    ]
}
