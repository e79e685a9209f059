"""imbalanced-learn's over-samplers as the ``method`` of the latent-space augmenters."""

import warnings

import numpy as np
import pytest
from imblearn.over_sampling import (
    ADASYN,
    SMOTE,
    SMOTEN,
    SMOTENC,
    SVMSMOTE,
    BorderlineSMOTE,
    KMeansSMOTE,
    RandomOverSampler,
)
from sklearn.datasets import make_classification

from tests.conftest import FAST
from vaeaug import VAE, FeatureSpaceAugmenter, VAEAugmenter

#: Over-samplers that make every sample asked.
EXACT = [SMOTE(k_neighbors=3), RandomOverSampler()]
#: KMeansSMOTE shares the samples out among clusters and rounds: about the number asked.
ABOUT = [KMeansSMOTE(cluster_balance_threshold=0.0)]
#: Over-samplers that make samples only near the borders between classes.
BORDER = [BorderlineSMOTE(k_neighbors=3), SVMSMOTE(k_neighbors=3), ADASYN(n_neighbors=3)]


@pytest.fixture(scope="module")
def overlapping():
    """Three overlapping classes, the last one rare: every over-sampler finds borders."""
    X, y = make_classification(
        240,
        n_features=6,
        n_informative=4,
        n_classes=3,
        weights=[0.45, 0.45, 0.1],
        class_sep=0.6,
        random_state=0,
    )
    return X, y


def _check_traceable(augmenter, X, y, X_res, y_res):
    n = len(y)
    np.testing.assert_array_equal(X_res[:n], X)
    synthetic = augmenter.sample_indices_[n:]
    # Each synthetic row is traced to a labelled row of its own class, with no partner.
    np.testing.assert_array_equal(y_res[n:], y[synthetic])
    np.testing.assert_array_equal(augmenter.neighbor_indices_[n:], -1)
    assert len(X_res) == len(y_res) == len(augmenter.sample_indices_)


@pytest.mark.parametrize("sampler", EXACT + ABOUT + BORDER, ids=lambda s: type(s).__name__)
def test_every_over_sampler_balances_in_the_feature_space(sampler, overlapping):
    X, y = overlapping
    augmenter = FeatureSpaceAugmenter(method=sampler, sampling_strategy="minority", random_state=0)
    with warnings.catch_warnings():
        # Only a border sampler may say that it made fewer samples than asked.
        warnings.simplefilter("ignore" if sampler in BORDER else "error")
        X_res, y_res = augmenter.fit_resample(X, y)
    _check_traceable(augmenter, X, y, X_res, y_res)
    # In the feature space a new row's base is the labelled row of its class nearest to it.
    n = len(y)
    for row, base in zip(X_res[n:], augmenter.sample_indices_[n:], strict=True):
        members = np.flatnonzero(y == y[base])
        assert base == members[np.argmin(np.linalg.norm(X[members] - row, axis=1))]
    counts, before = np.bincount(y_res), np.bincount(y)
    np.testing.assert_array_equal(counts[:2], before[:2])  # only the minority grows
    if sampler in EXACT:
        assert counts[2] == before.max()
    elif sampler in ABOUT:
        assert abs(counts[2] - before.max()) <= 0.1 * before.max()
    else:
        assert before[2] < counts[2] <= before.max() + 0.1 * before.max()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again, _ = FeatureSpaceAugmenter(
            method=sampler, sampling_strategy="minority", random_state=0
        ).fit_resample(X, y)
    np.testing.assert_array_equal(again, X_res)


@pytest.mark.parametrize("sampler", EXACT + ABOUT, ids=lambda s: type(s).__name__)
def test_n_per_sample_is_asked_of_the_over_sampler(sampler, overlapping):
    X, y = overlapping
    augmenter = FeatureSpaceAugmenter(method=sampler, n_per_sample=2, random_state=0)
    X_res, y_res = augmenter.fit_resample(X, y)
    _check_traceable(augmenter, X, y, X_res, y_res)
    expected = 3 * np.bincount(y)
    tolerance = 0 if sampler in EXACT else 0.05 * expected
    assert np.all(np.abs(np.bincount(y_res) - expected) <= tolerance)
    copies = np.array_equal(X_res[len(y) :], X[augmenter.sample_indices_[len(y) :]])
    assert copies == isinstance(sampler, RandomOverSampler)  # the others make new points


def test_a_border_sampler_that_makes_fewer_samples_says_so():
    X = np.r_[np.zeros((20, 2)), np.full((20, 2), 100.0)] + np.random.RandomState(0).rand(40, 2)
    y = np.repeat([0, 1], 20)
    augmenter = FeatureSpaceAugmenter(method=BorderlineSMOTE(k_neighbors=3), random_state=0)
    with pytest.warns(UserWarning, match=r"made 0 of the 120 new samples asked: it makes"):
        X_res, _ = augmenter.fit_resample(X, y)
    assert len(X_res) == 40


def test_vae_augmenter_decodes_smote_in_the_latent_space(digits):
    X, y = digits
    images = X[:150].reshape(-1, 8, 8)
    augmenter = VAEAugmenter(VAE(**FAST), method=SMOTE(k_neighbors=3), random_state=0)
    X_res, y_res = augmenter.fit_resample(images, y[:150])
    assert X_res.shape == (600, 8, 8)
    _check_traceable(augmenter, images, y[:150], X_res, y_res)
    assert X_res.min() >= 0 and X_res.max() <= 16
    again, _ = VAEAugmenter(VAE(**FAST), method=SMOTE(k_neighbors=3), random_state=0).fit_resample(
        images, y[:150]
    )
    np.testing.assert_array_equal(again, X_res)
    other, _ = VAEAugmenter(VAE(**FAST), method=SMOTE(k_neighbors=3), random_state=1).fit_resample(
        images, y[:150]
    )
    assert not np.array_equal(other[150:], X_res[150:])


@pytest.mark.parametrize("sampler", [SMOTEN(), SMOTENC(categorical_features=[0])])
def test_categorical_over_samplers_are_refused(sampler, overlapping):
    X, y = overlapping
    with pytest.raises(ValueError, match="over-samples categorical features; latent vectors"):
        FeatureSpaceAugmenter(method=sampler).fit_resample(X, y)


def test_an_over_sampler_does_not_search_the_pool(overlapping):
    X, y = overlapping
    y = np.where(np.arange(len(y)) % 4 == 0, -1, y)
    augmenter = FeatureSpaceAugmenter(
        method=SMOTE(), neighbor_search="unlabeled", unlabeled_label=-1
    )
    with pytest.raises(ValueError, match="neighbor_search='unlabeled' does not apply to it"):
        augmenter.fit_resample(X, y)


def test_an_over_sampler_that_fails_is_named(overlapping):
    X, y = overlapping
    with pytest.raises(ValueError, match=r"method=SMOTE\(k_neighbors=500\) could not over-sample"):
        FeatureSpaceAugmenter(method=SMOTE(k_neighbors=500)).fit_resample(X, y)
