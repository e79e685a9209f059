"""Outputs pinned before the library's redesign (commit 5befa35) and checked after it.

The figures are sums of the outputs of small fits on scikit-learn's digits,
computed with the code before the move into subpackages; a change to a random
stream, an order of draws or a default makes them differ by far more than the
tolerance, which only absorbs the rounding of another thread count or BLAS.
``noise_share=0`` keeps the default of that time (every new sample made by
``method``). The VAEs' figures were pinned again when the VAE of images
started from He's initialisation before its ReLUs and a decoder at the images'
mean intensity (``VAE._initialise``): every other stream and order is as it
was, and the jitter and feature-space figures did not move.
"""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from vaeaug import (
    VAE,
    AffineJitterAugmenter,
    FeatureSpaceAugmenter,
    TorchMLPClassifier,
    VAEAugmenter,
)


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def digits():
    """All of scikit-learn's digits, as rows, as images and labels."""
    X, y = load_digits(return_X_y=True)
    return X, X.reshape(-1, 8, 8), y


def _sums(X):
    rows = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    return float(rows.sum()), float((rows**2).sum()), float(rows[-1].sum())


def _assert_sums(X, expected):
    np.testing.assert_allclose(_sums(X), expected, rtol=1e-5)


def test_vae_encodings(digits):
    _, images, _ = digits
    vae = VAE(latent_dim=8, max_epochs=3, random_state=0).fit(images[:300])
    _assert_sums(
        vae.transform(images[:50]), (1.6728355347877368, 7.912670188755924, 0.16713082324713469)
    )


@pytest.mark.parametrize(
    "name, make, expected, index_sums",
    [
        (
            "default",
            lambda: VAEAugmenter(VAE(latent_dim=8, max_epochs=3), noise_share=0, random_state=0),
            (243345.1910249823, 2590308.9650991573, 332.3190371615201),
            (79600, 10586800),
        ),
        (
            "noise",
            lambda: VAEAugmenter(
                VAE(latent_dim=8, max_epochs=2, train_max_rotation="auto"),
                method="noise",
                noise_share=0,
                decoding="direct",
                random_state=1,
            ),
            (237477.63750367053, 1610957.1165076976, 284.93513572216034),
            (79600, 10586800),
        ),
        (
            "pool",
            lambda: VAEAugmenter(
                VAE(latent_dim=8, max_epochs=2),
                neighbor_search="unlabeled",
                unlabeled_label=-1,
                noise_share=0,
                random_state=2,
            ),
            (121178.21109340429, 1255882.653859171, 322.13010862241754),
            (19800, 1313400),
        ),
        (
            "jitter",
            lambda: AffineJitterAugmenter(random_state=0),
            (223484.72637967268, 2469235.6891928064, 274.1707268692553),
            (79600, 10586800),
        ),
    ],
)
def test_augmenters_on_images(name, make, expected, index_sums, digits):
    _, images, y = digits
    y = y[:200].copy()
    if name == "pool":
        y[100:] = -1
    augmenter = make()
    X_res, _ = augmenter.fit_resample(images[:200], y)
    _assert_sums(X_res, expected)
    # The layout, not a random draw: the originals, then n_per_sample rows from each.
    indices = augmenter.sample_indices_
    assert (int(indices.sum()), int((indices**2).sum())) == index_sums


def test_balancing_and_feature_space(digits):
    X, _, y = digits
    y = y[:200]
    keep = np.r_[np.flatnonzero(y < 5), np.flatnonzero(y >= 5)[:20]]
    augmenter = VAEAugmenter(
        VAE(latent_dim=8, max_epochs=2, image_shape=(8, 8)),
        sampling_strategy="auto",
        noise_share=0,
        random_state=3,
    )
    X_res, _ = augmenter.fit_resample(X[:200][keep], y[keep])
    _assert_sums(X_res, (64556.09579410059, 731804.9338625545, 319.45525635149534))
    assert int(augmenter.sample_indices_.sum()) == 16677
    X_res, _ = FeatureSpaceAugmenter(random_state=0).fit_resample(X[:200], y)
    _assert_sums(X_res, (249258.5, 3040204.25, 336.0))


def test_torch_mlp_probabilities(digits):
    X, _, y = digits
    mlp = TorchMLPClassifier(hidden_units=32, n_layers=2, max_epochs=3, random_state=0)
    proba = mlp.fit(X[:300], y[:300]).predict_proba(X[300:400])
    _assert_sums(proba, (100.00000035017729, 10.330734725655534, 0.9999999478459358))
