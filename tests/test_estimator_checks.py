"""scikit-learn's and imbalanced-learn's API checks on small, fast configurations.

AffineJitterAugmenter is not in the list: it only accepts images, and most of
these checks feed tables of 2 to 10 columns. tests/test_jitter.py checks its
conventions (cloning, pickling, unmodified input, parameter validation) directly.
"""

from imblearn.utils.estimator_checks import parametrize_with_checks as imblearn_checks
from sklearn.utils.estimator_checks import parametrize_with_checks as sklearn_checks

from vaeaug import VAE, FeatureSpaceAugmenter, TorchMLPClassifier, VAEAugmenter

FAST_VAE = dict(hidden_units=8, max_epochs=2, batch_size=64)

ESTIMATORS = [
    TorchMLPClassifier(hidden_units=16, n_layers=2, max_epochs=20, random_state=0),
    VAE(latent_dim=2, **FAST_VAE, random_state=0),
    FeatureSpaceAugmenter(random_state=0),
    FeatureSpaceAugmenter(method="noise", sampling_strategy="auto", random_state=0),
    VAEAugmenter(VAE(latent_dim=2, **FAST_VAE), random_state=0),
    VAEAugmenter(VAE(latent_dim=2, **FAST_VAE), sampling_strategy="auto", random_state=0),
]


def expected_failures(estimator):
    if not hasattr(estimator, "fit_resample"):
        return {}
    return {
        "check_samplers_pandas_sparse": (
            "Sparse input is refused with a TypeError (the networks need dense "
            "tensors); this check expects sparse pandas columns to pass through."
        )
    }


@sklearn_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@imblearn_checks(ESTIMATORS[2:], expected_failed_checks=expected_failures)
def test_imblearn_compatible(estimator, check):
    check(estimator)
