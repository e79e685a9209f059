"""Labelled and unlabelled rows together (``unlabeled_label``), and cross-validation of them."""

import warnings

import numpy as np
import pytest
from conftest import FAST
from imblearn import FunctionSampler
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from vaeaug import VAE, AffineJitterAugmenter, FeatureSpaceAugmenter, VAEAugmenter
from vaeaug.model_selection import SemiSupervisedSplit, augmentation_candidates, labeled_rows


@pytest.fixture
def pool(digits):
    """60 labelled digits as 8x8 images, and 240 more whose labels are hidden (-1)."""
    X, y = digits
    y_partial = y.copy()
    y_partial[60:] = -1
    return X.reshape(-1, 8, 8), y_partial, y


@pytest.fixture
def vae_fits(monkeypatch):
    """The ``X`` of every ``VAE.fit`` call, in order; the VAEs still train."""
    seen = []
    fit = VAE.fit
    monkeypatch.setattr(VAE, "fit", lambda self, X, y=None: seen.append(X) or fit(self, X))
    return seen


def test_the_vae_learns_from_every_row_and_only_labelled_rows_come_back(pool, vae_fits):
    X, y, _ = pool
    X_in, y_in = X.copy(), y.copy()
    augmenter = VAEAugmenter(VAE(**FAST), unlabeled_label=-1, random_state=0)
    X_res, y_res = augmenter.fit_resample(X, y)
    assert [len(X_fit) for X_fit in vae_fits] == [300]  # the pool too
    np.testing.assert_array_equal(X, X_in)
    np.testing.assert_array_equal(y, y_in)
    assert X_res.shape == (60 * 4, 8, 8) and -1 not in y_res
    np.testing.assert_array_equal(X_res[:60], X[:60])
    assert augmenter.sampling_strategy_ == {c: 3 * int(np.sum(y[:60] == c)) for c in range(10)}
    np.testing.assert_array_equal(augmenter.sample_indices_[:60], np.arange(60))
    assert augmenter.sample_indices_.max() < 60  # made from labelled rows only
    np.testing.assert_array_equal(y_res, y[augmenter.sample_indices_])


def test_without_unlabeled_label_minus_one_is_a_class():
    X = np.random.RandomState(0).normal(size=(12, 3))
    y = np.repeat([-1, 1], 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", "y has .* rows labelled -1")  # as the warning says
        _, y_res = FeatureSpaceAugmenter(random_state=0).fit_resample(X, y)
    assert np.sum(y_res == -1) == 24 and np.sum(y_res == 1) == 24


@pytest.mark.parametrize("y", [np.repeat([-1, 1, 2], 4), np.repeat([-1.0, 0.0, 1.0], 4)])
@pytest.mark.parametrize("augmenter", [FeatureSpaceAugmenter, AffineJitterAugmenter])
def test_rows_labelled_minus_one_without_unlabeled_label_are_announced(augmenter, y):
    # They were augmented as a class of their own without a word.
    X = np.random.RandomState(0).uniform(size=(12, 16))
    pattern = (
        r"^y has 4 rows labelled -1, scikit-learn's label for unlabelled rows, but "
        r"unlabeled_label is None: they are augmented as a class of their own\. If they are "
        r"unlabelled, pass unlabeled_label=-1\. If -1 is a class, silence this warning with "
        r"warnings\.filterwarnings\('ignore', 'y has \.\* rows labelled -1'\), or give the "
        r"class another label\.$"
    )
    with pytest.warns(UserWarning, match=pattern) as record:
        augmenter(random_state=0).fit_resample(X, y)
    assert len(record) == 1
    assert record[0].filename == __file__  # the user's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        augmenter(unlabeled_label=-1, random_state=0).fit_resample(X, y)
        augmenter(random_state=0).fit_resample(X, np.where(y == -1, 3, y))
        augmenter(random_state=0).fit_resample(X, np.where(y == -1, "-1", y.astype(str)))


def test_unlabelled_partners_are_the_nearest_unlabelled_rows():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 2))
    y = np.where(np.arange(40) < 10, np.arange(40) % 2, -1)
    augmenter = FeatureSpaceAugmenter(
        neighbor_search="unlabeled", unlabeled_label=-1, n_per_sample=3, random_state=0
    )
    X_res, y_res = augmenter.fit_resample(X, y)
    new = augmenter.synthetic_mask_
    base, partner = augmenter.sample_indices_[new], augmenter.neighbor_indices_[new]
    pool = np.arange(10, 40)
    nearest = NearestNeighbors(n_neighbors=3).fit(X[pool]).kneighbors(X[:10])[1]
    for i in range(10):
        assert sorted(partner[base == i]) == sorted(pool[nearest[i]])
    np.testing.assert_allclose(X_res[new], X[base] + 0.5 * (X[partner] - X[base]))
    np.testing.assert_array_equal(y_res[new], y[base])  # the labelled row's own label
    assert len(X_res) == 40


@pytest.mark.parametrize("decoding", ["direct", "residual"])
def test_vae_augmenter_interpolates_towards_unlabelled_rows(pool, decoding):
    X, y, _ = pool
    augmenter = VAEAugmenter(
        VAE(**FAST),
        neighbor_search="unlabeled",
        noise_share=0,
        decoding=decoding,
        max_rotation=0,
        max_shift=0,
        unlabeled_label=-1,
        random_state=0,
    )
    X_res, _ = augmenter.fit_resample(X, y)
    new = augmenter.synthetic_mask_
    base, partner = augmenter.sample_indices_[new], augmenter.neighbor_indices_[new]
    assert base.max() < 60 and partner.min() >= 60
    vae = augmenter.vae_
    Z = vae.transform(X)
    expected = vae.inverse_transform(Z[base] + 0.5 * (Z[partner] - Z[base]))
    if decoding == "residual":  # the unlabelled partner's detail is half of the new one's
        detail = X - vae.inverse_transform(Z)
        expected = expected + detail[base] + 0.5 * (detail[partner] - detail[base])
        if vae.layout_.image_shape is not None:
            expected = np.clip(expected, 0, vae.layout_.pixel_max)
    np.testing.assert_allclose(X_res[new], expected, rtol=1e-5, atol=1e-4)


def test_unlabelled_search_without_unlabelled_rows_is_refused():
    X, y = np.random.RandomState(0).normal(size=(12, 3)), np.arange(12) % 2
    with pytest.raises(ValueError, match="neighbor_search='unlabeled' pairs labelled.*no row"):
        FeatureSpaceAugmenter(neighbor_search="unlabeled", unlabeled_label=-1).fit_resample(X, y)


def test_no_labelled_row_is_refused():
    X = np.random.RandomState(0).normal(size=(6, 3))
    with pytest.raises(ValueError, match="y holds no labelled sample"):
        FeatureSpaceAugmenter(unlabeled_label=-1).fit_resample(X, np.full(6, -1))


def test_string_labels_with_an_unlabelled_marker():
    X = np.random.RandomState(0).normal(size=(9, 3))
    y = np.array(["cat", "cat", "cat", "dog", "dog", "dog", "?", "?", "?"], dtype=object)
    X_res, y_res = FeatureSpaceAugmenter(unlabeled_label="?", random_state=0).fit_resample(X, y)
    assert set(y_res) == {"cat", "dog"} and len(X_res) == 6 * 4


def test_jitter_leaves_unlabelled_rows_out(pool):
    X, y, _ = pool
    X_res, y_res = AffineJitterAugmenter(unlabeled_label=-1, random_state=0).fit_resample(X, y)
    assert len(X_res) == 60 * 4 and -1 not in y_res


def test_the_splitter_trains_on_every_unlabelled_row_and_tests_labelled_ones(pool):
    X, y, _ = pool
    splitter = SemiSupervisedSplit(cv=3)
    folds = list(splitter.split(X, y))
    assert len(folds) == splitter.get_n_splits(X, y) == 3
    unlabelled = np.flatnonzero(y == -1)
    labelled_folds = StratifiedKFold(3).split(np.zeros((60, 1)), y[:60])
    for (train, test), (_, expected_test) in zip(folds, labelled_folds, strict=True):
        assert np.isin(unlabelled, train).all() and (y[test] != -1).all()
        np.testing.assert_array_equal(test, expected_test)
        assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 300


def test_splitter_and_no_augmentation_refuse_a_label_of_the_wrong_kind():
    # The default -1 would match none of these str labels: every row would look labelled.
    y = np.array(["a", "a", "b", "b", "u", "u", "a", "b"])
    X = [[float(i)] for i in range(len(y))]
    for call in (
        lambda: list(SemiSupervisedSplit(cv=2).split(X, y)),
        lambda: labeled_rows(X, y, unlabeled_label=-1),
    ):
        with pytest.raises(ValueError, match=r"unlabeled_label=-1 is a number, but y holds str"):
            call()
    folds = list(SemiSupervisedSplit(cv=2, unlabeled_label="u").split(X, y))
    assert all(set(test).isdisjoint({4, 5}) for _, test in folds)
    X_labelled, y_labelled = labeled_rows(X, y.tolist(), unlabeled_label="u")
    assert X_labelled == [[0.0], [1.0], [2.0], [3.0], [6.0], [7.0]] and "u" not in y_labelled


def test_grid_search_scores_labelled_rows_only(pool):
    X, y, _ = pool
    pipe = Pipeline(
        [
            ("aug", FeatureSpaceAugmenter(unlabeled_label=-1, random_state=0)),
            ("clf", KNeighborsClassifier(1)),
        ]
    )
    X_flat = X.reshape(len(X), -1)
    cv = SemiSupervisedSplit(cv=3)
    scores = cross_val_score(pipe, X_flat, y, cv=cv)
    by_hand = []
    for train, test in cv.split(X_flat, y):
        fitted = pipe.fit(X_flat[train], y[train])
        assert -1 not in fitted["clf"].classes_  # the classifier never learns "unlabeled"
        by_hand.append(np.mean(fitted.predict(X_flat[test]) == y[test]))
    np.testing.assert_allclose(scores, by_hand)
    search = GridSearchCV(pipe, {"aug__neighbor_search": ["class", "unlabeled"]}, cv=cv)
    search.fit(X_flat, y)
    assert -1 not in search.best_estimator_["clf"].classes_


def test_unlabelled_search_without_unlabeled_label_says_to_set_it():
    X, y = np.random.RandomState(0).normal(size=(12, 3)), np.arange(12) % 2
    with pytest.raises(ValueError, match="unlabeled_label is None: set it to the label"):
        FeatureSpaceAugmenter(neighbor_search="unlabeled").fit_resample(X, y)


def test_integer_columns_of_a_frame_are_rounded_with_unlabelled_rows():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame({"count": np.arange(20) % 4, "size": np.linspace(0, 1, 20)})
    y = np.where(np.arange(20) < 12, np.arange(20) % 2, -1)
    augmenter = FeatureSpaceAugmenter(unlabeled_label=-1, random_state=0)
    X_res, _ = augmenter.fit_resample(X, y)
    new = X_res[augmenter.synthetic_mask_]
    np.testing.assert_array_equal(new["count"], np.round(new["count"]))
    base, partner = augmenter.sample_indices_[12:], augmenter.neighbor_indices_[12:]
    halfway = X["count"].to_numpy()[base] + 0.5 * (
        X["count"].to_numpy()[partner] - X["count"].to_numpy()[base]
    )
    np.testing.assert_array_equal(new["count"], np.rint(halfway))


def test_group_splitters_work_inside_grid_search(pool):
    from sklearn.model_selection import GroupKFold

    X, y, _ = pool
    groups = np.arange(len(y)) % 3
    pipe = Pipeline(
        [
            ("aug", FeatureSpaceAugmenter(unlabeled_label=-1, random_state=0)),
            ("clf", KNeighborsClassifier(1)),
        ]
    )
    cv = SemiSupervisedSplit(GroupKFold(3))
    assert cv.get_n_splits(X, y, groups) == 3
    search = GridSearchCV(pipe, {"aug__alpha": [0.25, 0.5]}, cv=cv)
    search.fit(X.reshape(len(X), -1), y, groups=groups)
    for train, test in cv.split(X, y, groups):
        assert len(np.unique(groups[test])) == 1 and (y[test] != -1).all()
        assert np.isin(np.flatnonzero(y == -1), train).all()


# ------------------------------------------------- augmentation_candidates


def test_candidates_are_none_jitter_and_the_vae_recipes():
    vae = VAE(**FAST)
    plain = augmentation_candidates(vae, image_shape=(8, 8))
    assert plain[0] == "passthrough"
    assert isinstance(plain[1], AffineJitterAugmenter) and plain[1].image_shape == (8, 8)
    assert [type(c) for c in plain[2:]] == [VAEAugmenter, VAEAugmenter]
    assert all(c.vae is vae for c in plain[2:])
    jitter = [(c.max_rotation, c.max_shift) for c in plain[2:]]
    assert jitter == [("auto", "auto"), (0, 0)]
    pooled = augmentation_candidates(vae, unlabeled_label=-1)
    assert isinstance(pooled[0], FunctionSampler)
    assert [c.neighbor_search for c in pooled[2:]] == ["class", "class", "unlabeled", "unlabeled"]
    assert [(c.max_rotation, c.max_shift) for c in pooled[2:]] == jitter * 2
    assert all(c.unlabeled_label == -1 for c in pooled[1:])


def test_no_augmentation_with_a_pool_drops_the_unlabelled_rows(pool):
    X, y, _ = pool
    none = augmentation_candidates(unlabeled_label=-1)[0]
    X_res, y_res = clone(none).fit_resample(X, y)
    np.testing.assert_array_equal(X_res, X[y != -1])
    np.testing.assert_array_equal(y_res, y[y != -1])


def test_a_grid_over_the_candidates_trains_one_vae_per_fold(pool, tmp_path, vae_fits):
    images, y, _ = pool
    X = images.reshape(len(images), -1)
    candidates = augmentation_candidates(
        VAE(**FAST, image_shape=(8, 8)),
        image_shape=(8, 8),
        unlabeled_label=-1,
        memory=str(tmp_path),
    )
    pipe = Pipeline([("aug", "passthrough"), ("clf", KNeighborsClassifier(3))])
    search = GridSearchCV(
        pipe, {"aug": candidates}, cv=SemiSupervisedSplit(cv=3, unlabeled_label=-1), refit=False
    )
    search.fit(X, y)
    assert len(search.cv_results_["mean_test_score"]) == 6
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert len(vae_fits) == 3  # four VAE candidates, three folds: one VAE per fold


def test_the_vae_can_train_on_the_unlabelled_rows_alone(pool, vae_fits):
    X, y, _ = pool
    X_in, y_in = X.copy(), y.copy()
    augmenter = VAEAugmenter(
        VAE(**FAST, random_state=0), unlabeled_label=-1, vae_training_rows="unlabeled"
    )
    X_res, y_res = augmenter.fit_resample(X, y)
    np.testing.assert_array_equal(vae_fits[0], X[60:])  # the pool, not the labelled rows
    np.testing.assert_array_equal(X, X_in)
    np.testing.assert_array_equal(y, y_in)
    alone = VAE(**FAST, random_state=0).fit(X[60:])
    np.testing.assert_array_equal(augmenter.vae_.transform(X[:60]), alone.transform(X[:60]))
    assert X_res.shape == (60 * 4, 8, 8) and -1 not in y_res


def test_a_vae_of_the_pool_alone_is_trained_once_for_every_fold_and_the_refit(
    pool, tmp_path, vae_fits
):
    images, y, _ = pool
    X = images.reshape(len(images), -1)
    trained = {}
    for rows in ("all", "unlabeled"):
        before = len(vae_fits)
        augmenter = VAEAugmenter(
            VAE(**FAST, image_shape=(8, 8)),
            neighbor_search="unlabeled",
            unlabeled_label=-1,
            memory=str(tmp_path / rows),
            vae_training_rows=rows,
            random_state=0,
        )
        grid = {"aug__vae__latent_dim": [2, 3], "aug__method": ["noise", "interpolation"]}
        pipe = Pipeline([("aug", augmenter), ("clf", KNeighborsClassifier(3))])
        GridSearchCV(pipe, grid, cv=SemiSupervisedSplit(cv=3)).fit(X, y)
        trained[rows] = len(vae_fits) - before
    assert trained["all"] == 2 * 3 + 1  # a VAE per latent size and fold, and the refit's
    assert trained["unlabeled"] == 2  # a VAE per latent size


@pytest.mark.parametrize(
    "unlabeled_label, message",
    [
        (None, "but unlabeled_label is None: set it to the label of the unlabelled rows"),
        (-1, r"but y has no row labelled unlabeled_label=-1\."),
    ],
)
def test_training_the_vae_on_unlabelled_rows_needs_some(unlabeled_label, message, monkeypatch):
    X, y = np.random.RandomState(0).rand(12, 8, 8), np.arange(12) % 2
    fits = []
    monkeypatch.setattr(VAE, "fit", lambda self, X, y=None: fits.append(1))
    augmenter = VAEAugmenter(
        VAE(**FAST), unlabeled_label=unlabeled_label, vae_training_rows="unlabeled"
    )
    pattern = "vae_training_rows='unlabeled' trains the VAE on the unlabelled rows, " + message
    with pytest.raises(ValueError, match=pattern):
        augmenter.fit_resample(X, y)
    assert fits == []  # refused before training


def test_a_frozen_vae_does_not_use_vae_training_rows(pool):
    X, y, _ = pool
    frozen = FrozenEstimator(VAE(**FAST, random_state=0).fit(X))
    outputs = [
        VAEAugmenter(frozen, vae_training_rows=rows, random_state=0).fit_resample(X[:60], y[:60])[0]
        for rows in ("all", "unlabeled")
    ]
    np.testing.assert_array_equal(*outputs)


def test_a_pool_in_one_block_trains_the_vae_in_place_and_a_scattered_one_too(pool, vae_fits):
    X, y, _ = pool
    augmenter = VAEAugmenter(
        VAE(**FAST, random_state=0), unlabeled_label=-1, vae_training_rows="unlabeled"
    )
    X = np.ascontiguousarray(X)
    augmenter.fit(X, y)  # the pool after the labelled rows: a view, not a copy
    assert np.shares_memory(vae_fits[0], X)
    order = np.random.RandomState(0).permutation(len(X))  # labelled rows among the pool
    augmenter.fit(X[order], y[order])
    np.testing.assert_array_equal(vae_fits[1], X[order][y[order] == -1])


def test_a_vae_of_the_pool_is_found_in_the_cache_whatever_the_memory_order(
    pool, tmp_path, vae_fits
):
    X, y, _ = pool
    X_flat = X.reshape(len(X), -1)
    augmenter = VAEAugmenter(
        VAE(**FAST, image_shape=(8, 8)),
        unlabeled_label=-1,
        memory=str(tmp_path),
        vae_training_rows="unlabeled",
        random_state=0,
    )
    augmenter.fit(np.asfortranarray(X_flat), y)  # as a grid search's refit may pass it
    augmenter.fit(np.ascontiguousarray(X_flat), y)  # as its folds' copies are
    assert len(vae_fits) == 1
