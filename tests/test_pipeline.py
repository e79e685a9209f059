import numpy as np
import pytest
from conftest import FAST
from imblearn.pipeline import Pipeline
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC

from vaeaug import VAE, FeatureSpaceAugmenter, VAEAugmenter


@pytest.fixture(scope="module")
def split():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:240], y[:240], X[1000:1300], y[1000:1300]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "classifier",
    [SVC(), KNeighborsClassifier(), MLPClassifier(hidden_layer_sizes=(32,), max_iter=50)],
    ids=["svc", "knn", "mlp"],
)
def test_grid_search_over_latent_size_and_method(split, classifier, monkeypatch):
    X_train, y_train, X_test, y_test = split
    pipe = Pipeline(
        [
            ("aug", VAEAugmenter(VAE(**{**FAST, "max_epochs": 2}), random_state=0)),
            ("clf", classifier),
        ]
    )
    grid = {
        "aug__vae__latent_dim": [2, 4],
        "aug__method": ["noise", "interpolation", "extrapolation"],
    }
    generated_with = []
    move = VAEAugmenter._move_in_latent_space

    def spy(self, *args):
        generated_with.append((self.vae_.latent_dim, self.method))
        return move(self, *args)

    monkeypatch.setattr(VAEAugmenter, "_move_in_latent_space", spy)
    search = GridSearchCV(pipe, grid, cv=2, error_score="raise")
    search.fit(X_train, y_train)
    # Every candidate's parameters reached the augmenter and its VAE in each fold,
    # and the refitted pipeline is the best candidate's, trained on 4x the rows.
    candidates = [
        (p["aug__vae__latent_dim"], p["aug__method"]) for p in search.cv_results_["params"]
    ]
    assert sorted(generated_with[:-1]) == sorted(candidates * 2)
    best = search.best_estimator_
    assert generated_with[-1] == (best["aug"].vae_.latent_dim, best["aug"].method)
    assert best["aug"].vae_.latent_dim == search.best_params_["aug__vae__latent_dim"]
    assert best["aug"].method == search.best_params_["aug__method"]
    assert best["aug"].synthetic_mask_.sum() == 3 * len(X_train)
    assert search.score(X_test, y_test) > 0.5


def test_pipeline_trains_on_the_augmented_set_and_predicts_raw_test_data(split):
    X_train, y_train, X_test, _ = split
    X_res, y_res = VAEAugmenter(VAE(**FAST), random_state=0).fit_resample(X_train, y_train)
    by_hand = SVC().fit(X_res, y_res)
    pipe = Pipeline([("aug", VAEAugmenter(VAE(**FAST), random_state=0)), ("clf", SVC())])
    pipe.fit(X_train, y_train)
    assert pipe["clf"].shape_fit_ == X_res.shape
    np.testing.assert_array_equal(pipe.predict(X_test), by_hand.predict(X_test))


def test_latent_space_route_encodes_test_data(split):
    X_train, y_train, X_test, y_test = split
    pipe = Pipeline(
        [
            ("encode", VAE(**FAST, random_state=0)),
            ("aug", FeatureSpaceAugmenter(random_state=0)),
            ("clf", KNeighborsClassifier()),
        ]
    ).fit(X_train, y_train)
    assert pipe["clf"].n_features_in_ == FAST["latent_dim"]
    assert len(pipe.predict(X_test)) == len(X_test)
    assert pipe.score(X_test, y_test) > 0.3


def test_no_augmentation_is_a_candidate_of_the_grid(split):
    X_train, y_train, _, _ = split

    def random_rows(z, z_neighbor, random_state):  # copies of other rows: label noise
        return z_neighbor[random_state.permutation(len(z_neighbor))]

    harmful = FeatureSpaceAugmenter(method=random_rows, random_state=0)
    pipe = Pipeline([("aug", harmful), ("clf", KNeighborsClassifier(3))])
    search = GridSearchCV(pipe, {"aug": ["passthrough", harmful]}, cv=3).fit(X_train, y_train)
    results = search.cv_results_
    scores = dict(zip(map(str, results["param_aug"]), results["mean_test_score"], strict=True))
    assert scores["passthrough"] > scores[str(harmful)]
    assert search.best_params_ == {"aug": "passthrough"}
    assert search.best_estimator_["clf"].n_samples_fit_ == len(X_train)
