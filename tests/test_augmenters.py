import warnings

import numpy as np
import pytest
from conftest import FAST, assert_global_random_states_are, global_random_states
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import InvalidParameterError

from vaeaug import VAE, FeatureSpaceAugmenter, VAEAugmenter

NO_JITTER = dict(max_rotation=0, max_shift=0)

# ---------------------------------------------------------------- generation


@pytest.mark.parametrize("method, sign", [("interpolation", 1.0), ("extrapolation", -1.0)])
def test_latent_augmenter_follows_the_formulas(blobs, method, sign):
    X, y = blobs
    sampler = FeatureSpaceAugmenter(method=method, alpha=0.3, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    new = sampler.synthetic_mask_
    base, partner = sampler.sample_indices_[new], sampler.neighbor_indices_[new]
    np.testing.assert_allclose(X_res[new], X[base] + sign * 0.3 * (X[partner] - X[base]))
    np.testing.assert_array_equal(y_res[new], y[base])
    np.testing.assert_array_equal(y[partner], y[base])  # neighbours within the class


def test_default_pairs_each_sample_with_its_three_nearest_classmates(blobs):
    X, y = blobs
    sampler = FeatureSpaceAugmenter(random_state=0)
    sampler.fit_resample(X, y)
    new = sampler.synthetic_mask_
    for i in range(len(X)):
        partners = sampler.neighbor_indices_[new][sampler.sample_indices_[new] == i]
        same_class = np.flatnonzero((y == y[i]) & (np.arange(len(y)) != i))
        distances = np.linalg.norm(X[same_class] - X[i], axis=1)
        assert sorted(partners) == sorted(same_class[np.argsort(distances)[:3]])


def test_noise_scale_is_the_per_dimension_std_of_the_encoded_set():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 2)) * [1.0, 10.0]
    y = np.repeat([0, 1], 200)
    sampler = FeatureSpaceAugmenter(method="noise", alpha=0.5, n_per_sample=20, random_state=0)
    X_res, _ = sampler.fit_resample(X, y)
    new = sampler.synthetic_mask_
    step = X_res[new] - X[sampler.sample_indices_[new]]
    np.testing.assert_allclose(step.std(axis=0), 0.5 * X.std(axis=0), rtol=0.03)
    assert np.all(sampler.neighbor_indices_ == -1)


def test_neighbor_search_all_may_cross_classes():
    X = np.array([[0.0], [0.1], [5.0], [5.1], [0.05], [5.05]])
    y = np.array([0, 1, 0, 1, 0, 1])
    sampler = FeatureSpaceAugmenter(k_neighbors=1, n_per_sample=1, neighbor_search="all")
    sampler.fit_resample(X, y)
    partners = sampler.neighbor_indices_[sampler.synthetic_mask_]
    assert np.any(y[partners] != y)


def test_k_neighbors_accepts_an_estimator(blobs):
    X, y = blobs
    # Six samples per original cycle through all the partners: their set tells k.
    a = FeatureSpaceAugmenter(k_neighbors=NearestNeighbors(n_neighbors=3), n_per_sample=6)
    b = FeatureSpaceAugmenter(k_neighbors=2, n_per_sample=6)
    np.testing.assert_array_equal(a.fit_resample(X, y)[0], b.fit_resample(X, y)[0])
    np.testing.assert_array_equal(a.neighbor_indices_, b.neighbor_indices_)
    new = a.synthetic_mask_
    for row in (0, 17):  # n_neighbors counts the sample itself: 2 partners
        classmates = np.flatnonzero(y == y[row])
        distances = np.linalg.norm(X[classmates] - X[row], axis=1)
        nearest = set(classmates[np.argsort(distances)[1:3]].tolist())
        partners = a.neighbor_indices_[new & (a.sample_indices_ == row)]
        assert set(partners.tolist()) == nearest


def test_custom_generator_callable(blobs):
    X, y = blobs

    def midpoint_plus_one(z, z_neighbor, random_state):
        assert isinstance(random_state, np.random.RandomState)
        return (z + z_neighbor) / 2 + 1

    sampler = FeatureSpaceAugmenter(method=midpoint_plus_one)
    X_res, _ = sampler.fit_resample(X, y)
    new = sampler.synthetic_mask_
    base, partner = sampler.sample_indices_[new], sampler.neighbor_indices_[new]
    np.testing.assert_allclose(X_res[new], (X[base] + X[partner]) / 2 + 1)


def test_custom_generator_with_a_wrong_shape_is_reported(blobs):
    with pytest.raises(ValueError, match="must return an array of shape"):
        FeatureSpaceAugmenter(method=lambda z, zn, rng: z[:, :1]).fit_resample(*blobs)


# ------------------------------------------------------------------- amounts


def test_plain_augmentation_works_on_balanced_data():
    X = np.random.RandomState(0).normal(size=(20, 3))
    y = np.repeat([0, 1], 10)
    sampler = FeatureSpaceAugmenter(n_per_sample=5)
    X_res, y_res = sampler.fit_resample(X, y)
    assert len(X_res) == 20 + 100
    assert np.bincount(y_res).tolist() == [60, 60]
    assert sampler.sampling_strategy_ == {0: 50, 1: 50}


def test_more_samples_than_neighbours_cycle_through_them(blobs):
    X, y = blobs
    sampler = FeatureSpaceAugmenter(k_neighbors=2, n_per_sample=5)
    sampler.fit_resample(X, y)
    new = sampler.synthetic_mask_
    partners = sampler.neighbor_indices_[new][sampler.sample_indices_[new] == 0]
    assert len(partners) == 5 and len(set(partners)) == 2
    np.testing.assert_array_equal(partners[:2], partners[2:4])


def test_small_class_uses_the_neighbours_it_has():
    X = np.array([[0.0], [1.0], [2.0], [3.0], [10.0], [11.0]])
    y = np.array([0, 0, 0, 0, 1, 1])
    sampler = FeatureSpaceAugmenter(k_neighbors=3, n_per_sample=3)
    _, y_res = sampler.fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [4 + 12, 2 + 6]
    partners = sampler.neighbor_indices_[sampler.synthetic_mask_ & (y_res == 1)]
    assert set(partners) == {4, 5}


def test_single_sample_class_is_skipped_with_a_warning():
    X = np.array([[0.0], [1.0], [2.0], [10.0]])
    y = np.array([0, 0, 0, 1])
    with pytest.warns(UserWarning, match=r"Classes \[1\] have a single sample"):
        _, y_res = FeatureSpaceAugmenter().fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [3 + 9, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, y_res = FeatureSpaceAugmenter(method="noise").fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [12, 4]


@pytest.mark.parametrize("decoding", ["residual", "direct"])
def test_balancing_classes_of_one_leaves_the_originals_when_nothing_can_be_made(digits, decoding):
    # Classes 0-4 are already at the largest count; 5-9 have one image, no partner.
    X, y = digits
    rows = np.concatenate([np.flatnonzero(y == c)[: 20 if c < 5 else 1] for c in range(10)])
    sampler = VAEAugmenter(
        VAE(**FAST), noise_share=0, decoding=decoding, sampling_strategy="auto", random_state=0
    )
    with pytest.warns(UserWarning, match="have a single sample"):
        X_res, y_res = sampler.fit_resample(X[rows], y[rows])
    np.testing.assert_array_equal(X_res, X[rows])
    np.testing.assert_array_equal(y_res, y[rows])


def test_balancing_classes_of_one_with_latent_noise(digits):
    # With the default noise share, a class of one gets its samples from latent noise.
    X, y = digits
    rows = np.concatenate([np.flatnonzero(y == c)[: 20 if c < 5 else 1] for c in range(10)])
    sampler = VAEAugmenter(VAE(**FAST), sampling_strategy="auto", random_state=0)
    with pytest.warns(UserWarning, match="have a single sample, .* all latent noise"):
        X_res, y_res = sampler.fit_resample(X[rows], y[rows])
    assert np.bincount(y_res).tolist() == [20] * 10
    new = sampler.synthetic_mask_
    base = sampler.sample_indices_[new]
    assert (sampler.neighbor_indices_[new] == -1).all()
    np.testing.assert_array_equal(y_res[new], y[rows][base])
    np.testing.assert_array_equal(base, np.sort(base))  # grouped by original


@pytest.mark.parametrize(
    "strategy, expected",
    [("auto", [8, 8, 8]), ("minority", [8, 6, 8]), ({1: 10, 2: 7}, [8, 10, 7])],
)
def test_sampling_strategy_balances_like_imblearn(blobs, strategy, expected):
    _, y_res = FeatureSpaceAugmenter(sampling_strategy=strategy, random_state=0).fit_resample(
        *blobs
    )
    assert np.bincount(y_res).tolist() == expected


def test_balancing_shares_new_samples_evenly(blobs):
    X, y = blobs
    sampler = FeatureSpaceAugmenter(sampling_strategy={2: 5 + 12}, random_state=0)
    sampler.fit_resample(X, y)
    sources = sampler.sample_indices_[sampler.synthetic_mask_]
    assert sorted(np.bincount(sources, minlength=19)[y == 2]) == [2, 2, 2, 3, 3]


# ---------------------------------------------------------- VAEAugmenter I/O


def test_vae_augmenter_returns_originals_first_and_unchanged(digits):
    X, y = digits
    X_in, y_in = X.copy(), y.copy()
    sampler = VAEAugmenter(VAE(**FAST), random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    np.testing.assert_array_equal(X, X_in)
    np.testing.assert_array_equal(y, y_in)
    assert X_res.shape == (1200, 64)
    np.testing.assert_array_equal(X_res[:300], X)
    np.testing.assert_array_equal(y_res[:300], y)
    assert sampler.synthetic_mask_.sum() == 900
    np.testing.assert_array_equal(y_res[300:], y[sampler.sample_indices_[300:]])
    assert X_res[300:].min() >= 0 and X_res[300:].max() <= 16


# 8 new samples for each of 300 originals are 2,400 rows: decoded in two chunks.
@pytest.mark.parametrize("n_per_sample", [3, 8])
def test_decoded_samples_are_the_vae_decoding_of_the_latent_formula(digits, n_per_sample):
    X, y = digits
    sampler = VAEAugmenter(
        VAE(**FAST),
        **NO_JITTER,
        noise_share=0,
        decoding="direct",
        n_per_sample=n_per_sample,
        random_state=0,
    )
    X_res, _ = sampler.fit_resample(X, y)
    Z = sampler.vae_.transform(X)
    new = sampler.synthetic_mask_
    base, partner = sampler.sample_indices_[new], sampler.neighbor_indices_[new]
    expected = sampler.vae_.inverse_transform(Z[base] + 0.5 * (Z[partner] - Z[base]))
    np.testing.assert_allclose(X_res[new], expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("method", "detail_weight"), [("interpolation", 0.5), ("extrapolation", -0.5), ("noise", 0.0)]
)
def test_residual_decoding_moves_the_detail_with_the_latent_vector(digits, method, detail_weight):
    X, y = digits
    # Without collapse (small KL weight), so that moves in the latent space show.
    trained = {**FAST, "kl_weight": 0.1, "max_epochs": 20}
    sampler = VAEAugmenter(
        VAE(**trained),
        **NO_JITTER,
        method=method,
        decoding="residual",
        n_per_sample=8,
        random_state=0,
    )
    X_res, _ = sampler.fit_resample(X, y)
    vae, new = sampler.vae_, sampler.synthetic_mask_
    base, partner = sampler.sample_indices_[new], sampler.neighbor_indices_[new]
    Z = vae.transform(X)
    detail = X - vae.inverse_transform(Z)
    detail_new = detail[base]
    # Half the new samples (noise_share=0.5) are latent noise: no partner, the base's detail.
    moved = partner >= 0
    assert 0 < moved.sum() < len(moved) if detail_weight else not moved.any()
    detail_new[moved] += detail_weight * (detail[partner[moved]] - detail[base[moved]])
    # The decodings of the new latent vectors, from the direct recipe with the same seed.
    direct = VAEAugmenter(
        FrozenEstimator(vae),
        **NO_JITTER,
        method=method,
        decoding="direct",
        n_per_sample=8,
        random_state=0,
    )
    X_direct, _ = direct.fit_resample(X, y)
    expected = np.clip(X_direct[new] + detail_new, 0, 16)
    np.testing.assert_allclose(X_res[new], expected, rtol=1e-5, atol=1e-4)
    assert np.abs(X_direct[new] - vae.inverse_transform(Z[base])).max() > 0.1  # the VAE moves


@pytest.mark.parametrize("method", ["interpolation", "extrapolation"])
def test_noise_share_replaces_that_share_of_the_moves_by_latent_noise(digits, method):
    X, y = digits
    # Without collapse (small KL weight), so that moves in the latent space show.
    trained = VAE(**{**FAST, "kl_weight": 0.1, "max_epochs": 20, "random_state": 0}).fit(X)
    vae = FrozenEstimator(trained)
    common = dict(method=method, decoding="direct", **NO_JITTER, n_per_sample=8, random_state=0)
    X_plain, _ = VAEAugmenter(vae, noise_share=0, **common).fit_resample(X, y)
    still = VAEAugmenter(vae, noise_share=0.5, noise_alpha=0.0, **common)
    X_still, _ = still.fit_resample(X, y)
    new = still.synthetic_mask_
    base, partner = still.sample_indices_[new], still.neighbor_indices_[new]
    noisy = partner == -1
    assert 1000 < noisy.sum() < 1400  # about half of the 2,400, drawn one by one
    np.testing.assert_allclose(X_still[new][~noisy], X_plain[new][~noisy], atol=1e-6)
    # Without noise (noise_alpha=0) such a sample is the decoding of its original.
    decoded = still.vae_.inverse_transform(still.vae_.transform(X[base[noisy]]))
    np.testing.assert_allclose(X_still[new][noisy], decoded.reshape(noisy.sum(), -1), atol=1e-5)
    # With noise, the same samples move away from that decoding, further for a stronger noise.
    changes = []
    for noise_alpha in (0.3, 0.6):
        noisy_sampler = VAEAugmenter(vae, noise_share=0.5, noise_alpha=noise_alpha, **common)
        X_noisy, _ = noisy_sampler.fit_resample(X, y)
        np.testing.assert_allclose(X_noisy[new][~noisy], X_plain[new][~noisy], atol=1e-6)
        changes.append(np.abs(X_noisy[new][noisy] - X_still[new][noisy]).mean())
    assert 0.01 < changes[0] < changes[1]


def test_noise_share_one_makes_every_sample_from_noise_around_its_original(digits):
    X, y = digits
    vae = FrozenEstimator(VAE(**FAST, random_state=0).fit(X))
    sampler = VAEAugmenter(vae, noise_share=1.0, **NO_JITTER, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    new = sampler.synthetic_mask_
    assert (sampler.neighbor_indices_ == -1).all()
    np.testing.assert_array_equal(y_res[new], y[sampler.sample_indices_[new]])
    # Residual decoding: the original plus the change of the decoding; a small noise
    # keeps a sample close to its original.
    distance = np.abs(X_res[new] - X[sampler.sample_indices_[new]]).mean()
    assert 0 < distance < np.abs(X[:-1] - X[1:]).mean() / 4


def test_residual_decoding_without_a_move_returns_the_originals(digits):
    X, y = digits
    sampler = VAEAugmenter(
        VAE(**FAST), **NO_JITTER, decoding="residual", alpha=0.0, noise_alpha=0.0, random_state=0
    )
    X_res, _ = sampler.fit_resample(X, y)
    new = sampler.synthetic_mask_
    np.testing.assert_allclose(X_res[new], X[sampler.sample_indices_[new]], atol=1e-4)


def test_jitter_moves_each_synthetic_sample_by_its_own_draw(digits, monkeypatch):
    X, y = digits
    plain = VAEAugmenter(VAE(**FAST), **NO_JITTER, n_per_sample=8, random_state=0)
    X_plain, _ = plain.fit_resample(X, y)
    new = plain.synthetic_mask_
    # One pixel right for even rows, none for odd ones, across the two decoded chunks.
    shifts = np.zeros((new.sum(), 2))
    shifts[::2, 0] = 1.0

    def draw(n, max_rotation, max_shift, random_state):
        assert (n, max_rotation, max_shift) == (len(shifts), 5.0, 1.0)
        return np.zeros(n), shifts

    monkeypatch.setattr("vaeaug.samplers._latent.draw_jitter", draw)
    jittered = VAEAugmenter(
        VAE(**FAST), n_per_sample=8, max_rotation=5, max_shift=1, random_state=0
    )
    X_jit, _ = jittered.fit_resample(X, y)
    expected = X_plain[new].reshape(-1, 8, 8).copy()
    expected[::2] = np.pad(expected[::2], ((0, 0), (0, 0), (1, 0)))[:, :, :8]
    np.testing.assert_allclose(X_jit[new].reshape(-1, 8, 8), expected, atol=1e-4)
    np.testing.assert_array_equal(X_jit[~new], X)


def test_training_jitter_reaches_the_vae_and_is_off_by_default(digits, training_jitter_calls):
    X, y = digits
    VAEAugmenter(VAE(**FAST), random_state=0).fit(X, y)
    assert training_jitter_calls == []
    jittered = dict(train_max_rotation="auto", train_max_shift="auto")
    augmenter = VAEAugmenter(VAE(**FAST, **jittered), random_state=0).fit(X.reshape(-1, 8, 8), y)
    assert {(rot, shift) for _, rot, shift in training_jitter_calls} == {(10.0, round(8 / 14, 6))}
    assert augmenter.vae_.get_params()["train_max_rotation"] == "auto"


def test_default_jitter_is_for_images_only(digits):
    X, y = digits
    images = VAEAugmenter(VAE(**FAST, image_shape=(8, 8)), random_state=0).fit(X, y)
    assert (images.max_rotation_, images.max_shift_) == (10.0, pytest.approx(2 * 8 / 28))
    # Flat rows whose pixels correlate as an image's do are images too.
    with pytest.warns(UserWarning, match="read as 8x8 single-channel images"):
        recognised = VAEAugmenter(VAE(**FAST), random_state=0).fit(X, y)
    assert (recognised.max_rotation_, recognised.max_shift_) == (10.0, pytest.approx(2 * 8 / 28))
    asked = VAEAugmenter(VAE(**FAST), max_rotation=5, max_shift=1, random_state=0).fit(X, y)
    assert (asked.max_rotation_, asked.max_shift_) == (5.0, 1.0)
    X_28 = np.repeat(X.reshape(-1, 8, 8), 4, axis=1).repeat(4, axis=2)[:, :28, :28]
    mnist_sized = VAEAugmenter(VAE(**FAST), random_state=0).fit(X_28, y)
    assert (mnist_sized.max_rotation_, mnist_sized.max_shift_) == (10.0, 2.0)
    table = VAEAugmenter(VAE(**FAST, architecture="dense"), random_state=0).fit(X, y)
    assert (table.max_rotation_, table.max_shift_) == (0.0, 0.0)
    X_res, _ = table.fit_resample(X, y)  # no jitter, no error
    assert X_res.shape == (1200, 64)


def test_jitter_of_tables_is_refused(monkeypatch):
    X, y = np.random.RandomState(0).normal(size=(20, 4)), [0, 1] * 10
    fits = []
    monkeypatch.setattr(VAE, "fit", lambda self, X, y=None: fits.append(1))
    sampler = VAEAugmenter(VAE(**FAST, architecture="dense"), max_shift=2)
    with pytest.raises(ValueError, match="max_shift=2 jitter images.*architecture='dense'"):
        sampler.fit_resample(X, y)
    assert fits == []  # refused before training


def test_float32_and_uint8_are_kept(digits):
    X, y = digits
    X32 = X.astype(np.float32)
    X_res, _ = VAEAugmenter(VAE(**FAST), random_state=0).fit_resample(X32, y)
    assert X_res.dtype == np.float32
    X8 = (X * 255 / 16).astype(np.uint8)
    X_res, _ = VAEAugmenter(VAE(**FAST), random_state=0).fit_resample(X8, y)
    assert X_res.dtype == np.uint8
    np.testing.assert_array_equal(X_res[:300], X8)
    assert X_res[300:].max() > 16  # decoded in the 0-255 scale


@pytest.mark.parametrize("shape", [(8, 8), (1, 8, 8)])
def test_image_arrays_come_back_in_their_shape(digits, shape):
    X, y = digits
    X_img = X.reshape(300, *shape)
    X_res, _ = VAEAugmenter(VAE(**FAST), random_state=0).fit_resample(X_img, y)
    assert X_res.shape == (1200, *shape)
    np.testing.assert_array_equal(X_res[:300], X_img)


def test_same_random_state_same_output(digits):
    X, y = digits
    a, _ = VAEAugmenter(VAE(**FAST), method="noise", random_state=1).fit_resample(X, y)
    b, _ = VAEAugmenter(VAE(**FAST), method="noise", random_state=1).fit_resample(X, y)
    np.testing.assert_array_equal(a, b)


def test_pandas_input_comes_back_as_pandas(digits):
    pd = pytest.importorskip("pandas")
    X, y = digits
    X_df = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    X_res, y_res = VAEAugmenter(VAE(**FAST), random_state=0).fit_resample(X_df, pd.Series(y))
    assert list(X_res.columns) == list(X_df.columns)
    assert len(y_res) == len(X_res) == 1200


# ------------------------------------------------------ pre-trained VAE reuse


def test_prefit_vae_is_reused_not_retrained(digits):
    X, y = digits
    vae = VAE(**FAST, random_state=0).fit(X)
    weights = vae.module_.head.mean.weight.detach().clone()
    sampler = VAEAugmenter(vae=FrozenEstimator(vae), random_state=0)
    X_res, _ = sampler.fit_resample(X[:50], y[:50])
    assert sampler.vae_ is vae
    assert (vae.module_.head.mean.weight == weights).all()
    assert X_res.shape == (200, 64)


def test_prefit_vae_survives_cloning(digits):
    X, y = digits
    vae = VAE(**FAST, random_state=0).fit(X)
    sampler = clone(VAEAugmenter(vae=FrozenEstimator(vae)))
    sampler.fit_resample(X[:50], y[:50])
    assert sampler.vae_ is vae


def test_vae_template_is_cloned_and_trained_not_modified(digits):
    X, y = digits
    template = VAE(**FAST)
    params = template.get_params()
    sampler = VAEAugmenter(template, random_state=0).fit(X, y)
    assert sampler.vae_ is not template and sampler.vae_.latent_dim == FAST["latent_dim"]
    assert template.get_params() == params and not hasattr(template, "module_")


def test_default_vae_is_a_default_VAE(digits, monkeypatch):
    trained = []

    def record(vae, X, memory):
        trained.append(vae)
        raise InterruptedError

    monkeypatch.setattr("vaeaug.samplers._latent.fit_with_memory", record)
    with pytest.raises(InterruptedError):
        VAEAugmenter(random_state=0).fit(*digits)
    expected = VAE().get_params()
    assert {k: v for k, v in trained[0].get_params().items() if k != "random_state"} == {
        k: v for k, v in expected.items() if k != "random_state"
    }


def test_augmenter_seed_trains_the_vae_unless_the_vae_has_its_own(digits):
    X, y = digits
    seeded_by_augmenter = VAEAugmenter(VAE(**FAST), random_state=0).fit(X, y).vae_
    again = VAEAugmenter(VAE(**FAST), random_state=0).fit(X, y).vae_
    assert seeded_by_augmenter.random_state == again.random_state
    np.testing.assert_array_equal(seeded_by_augmenter.transform(X), again.transform(X))
    other = VAEAugmenter(VAE(**FAST), random_state=1).fit(X, y).vae_
    assert other.random_state != seeded_by_augmenter.random_state
    own_a = VAEAugmenter(VAE(**FAST, random_state=7), random_state=0).fit(X, y).vae_
    own_b = VAEAugmenter(VAE(**FAST, random_state=7), random_state=1).fit(X, y).vae_
    assert own_a.random_state == own_b.random_state == 7
    np.testing.assert_array_equal(own_a.transform(X), own_b.transform(X))


def test_grid_search_reaches_the_vae_parameters(digits):
    from imblearn.pipeline import Pipeline
    from sklearn.model_selection import GridSearchCV
    from sklearn.neighbors import KNeighborsClassifier

    X, y = digits
    pipe = Pipeline(
        [("aug", VAEAugmenter(VAE(**FAST), random_state=0)), ("clf", KNeighborsClassifier())]
    )
    search = GridSearchCV(pipe, {"aug__vae__latent_dim": [2, 3]}, cv=2).fit(X, y)
    assert [p["aug__vae__latent_dim"] for p in search.cv_results_["params"]] == [2, 3]
    assert (
        search.best_estimator_["aug"].vae_.latent_dim == search.best_params_["aug__vae__latent_dim"]
    )
    assert search.best_estimator_["aug"].vae_.transform(X[:2]).shape == (
        2,
        search.best_params_["aug__vae__latent_dim"],
    )


def test_fitted_vae_without_frozen_estimator_is_retrained_with_a_warning(digits):
    X, y = digits
    vae = VAE(**FAST, random_state=0).fit(X[:100])
    with pytest.warns(UserWarning, match="trains a clone of it on X.*FrozenEstimator"):
        sampler = VAEAugmenter(vae, random_state=0).fit(X, y)
    assert sampler.vae_ is not vae


def test_frozen_unfitted_vae_is_refused_with_advice(digits):
    with pytest.raises(ValueError, match="not fitted.*without FrozenEstimator"):
        VAEAugmenter(vae=FrozenEstimator(VAE())).fit_resample(*digits)


@pytest.mark.parametrize("vae", [PCA(2), FrozenEstimator(PCA(2).fit(np.eye(4, 64)))])
def test_vae_that_is_not_a_vaeaug_vae_is_refused(digits, vae):
    with pytest.raises((ValueError, TypeError), match="vae"):
        VAEAugmenter(vae=vae).fit_resample(*digits)


def test_prefit_vae_of_another_width_is_refused(digits):
    X, y = digits
    vae = VAE(**FAST, random_state=0).fit(X[:, :49])
    with pytest.raises(ValueError, match="fitted on 49"):
        VAEAugmenter(vae=FrozenEstimator(vae)).fit_resample(X, y)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "params, X, y, match",
    [
        ({}, np.full((6, 4), np.nan), [0, 1] * 3, "NaN"),
        ({}, np.full((6, 4), np.inf), [0, 1] * 3, "infinity"),
        ({}, np.ones((6, 4)), [0, 1] * 2, "inconsistent numbers of samples"),
        ({}, np.ones((6, 4)), [0] * 6, "needs to have more than 1 class"),
        ({}, np.ones((0, 4)), [], "0 sample"),
        ({}, np.ones(6), [0, 1] * 3, "Expected 2D array"),
        ({}, np.ones((6, 4)), np.linspace(0, 1, 6), "Unknown label type"),
        ({"method": "mixup"}, np.ones((6, 4)), [0, 1] * 3, "'method' parameter"),
        ({"vae": VAE(latent_dim=0)}, np.ones((6, 4)), [0, 1] * 3, "'latent_dim' parameter"),
        ({"vae": "VAE"}, np.ones((6, 4)), [0, 1] * 3, "'vae' parameter"),
        ({"alpha": -0.5}, np.ones((6, 4)), [0, 1] * 3, "'alpha' parameter"),
        ({"k_neighbors": 0}, np.ones((6, 4)), [0, 1] * 3, "'k_neighbors' parameter"),
        ({"n_per_sample": 0}, np.ones((6, 4)), [0, 1] * 3, "'n_per_sample' parameter"),
        ({"neighbor_search": "x"}, np.ones((6, 4)), [0, 1] * 3, "'neighbor_search' param"),
        ({"sampling_strategy": "some"}, np.ones((6, 4)), [0, 1] * 3, "'sampling_strategy'"),
        ({"vae": VAE(architecture="conv")}, np.ones((6, 10)), [0, 1] * 3, "not a square"),
        ({"vae": VAE(image_shape=(2, 2))}, np.ones((6, 10)), [0, 1] * 3, "holds 4 values"),
        ({"decoding": "sharp"}, np.ones((6, 4)), [0, 1] * 3, "'decoding' parameter"),
        ({"max_rotation": 270}, np.ones((6, 4)), [0, 1] * 3, "'max_rotation' parameter"),
        ({"max_shift": -1}, np.ones((6, 4)), [0, 1] * 3, "'max_shift' parameter"),
        ({"noise_share": 1.5}, np.ones((6, 4)), [0, 1] * 3, "'noise_share' parameter"),
        ({"noise_alpha": -0.1}, np.ones((6, 4)), [0, 1] * 3, "'noise_alpha' parameter"),
    ],
)
def test_bad_input_gets_a_clear_error(params, X, y, match):
    with pytest.raises((ValueError, TypeError), match=match):
        VAEAugmenter(**{"vae": VAE(**FAST), **params}).fit_resample(X, y)


def test_sparse_input_is_refused(digits):
    from scipy import sparse

    with pytest.raises(TypeError, match="dense data is required"):
        VAEAugmenter(VAE(**FAST)).fit_resample(sparse.csr_matrix(digits[0]), digits[1])


def test_fit_trains_the_vae_without_generating(digits):
    sampler = VAEAugmenter(VAE(**FAST), random_state=0).fit(*digits)
    assert hasattr(sampler, "vae_") and not hasattr(sampler, "sample_indices_")


def test_memory_trains_one_vae_per_fold_in_a_grid_search(digits, tmp_path, monkeypatch):
    from imblearn.pipeline import Pipeline
    from sklearn.model_selection import GridSearchCV
    from sklearn.neighbors import KNeighborsClassifier

    fits = []
    original_fit = VAE.fit
    monkeypatch.setattr(VAE, "fit", lambda self, X, y=None: fits.append(1) or original_fit(self, X))
    X, y = digits
    pipe = Pipeline(
        [
            ("aug", VAEAugmenter(VAE(**FAST), memory=str(tmp_path), random_state=0)),
            ("clf", KNeighborsClassifier()),
        ]
    )
    grid = {"aug__method": ["noise", "interpolation", "extrapolation"], "aug__alpha": [0.3, 0.6]}
    GridSearchCV(pipe, grid, cv=2, refit=False).fit(X, y)
    assert len(fits) == 2  # one per fold, not 12

    GridSearchCV(pipe, {"aug__vae__latent_dim": [2, 3]}, cv=2, refit=False).fit(X, y)
    assert len(fits) == 2 + 4  # a new latent size means new VAEs
    X_other = X.copy()
    X_other[0, 0] += 1
    VAEAugmenter(VAE(**FAST), memory=str(tmp_path), random_state=0).fit_resample(X_other, y)
    assert len(fits) == 7  # different data, never a stale VAE


def test_warnings_point_at_the_users_line():
    from imblearn.pipeline import Pipeline
    from sklearn.neighbors import KNeighborsClassifier

    X = np.random.RandomState(0).normal(size=(7, 3))
    y = np.array([0, 0, 0, 1, 1, 1, 2])
    pipe = Pipeline([("aug", FeatureSpaceAugmenter()), ("clf", KNeighborsClassifier(1))])
    for call in (lambda: FeatureSpaceAugmenter().fit_resample(X, y), lambda: pipe.fit(X, y)):
        with pytest.warns(UserWarning, match="single sample") as caught:
            call()
        assert [w.filename for w in caught] == [__file__]


def test_parameter_validation_can_be_skipped_like_scikit_learns(digits):
    import sklearn

    with sklearn.config_context(skip_parameter_validation=True):
        with pytest.raises(TypeError) as raised:
            VAE(**{**FAST, "latent_dim": "two"}).fit(digits[0])
    # torch's own error, not the InvalidParameterError (a TypeError too) of validation
    assert not isinstance(raised.value, InvalidParameterError)
    with pytest.raises(ValueError, match="'latent_dim' parameter"):
        VAE(**{**FAST, "latent_dim": "two"}).fit(digits[0])


def test_extra_fit_parameters_are_refused_by_name(blobs):
    X, y = blobs
    with pytest.raises(TypeError, match=r"fit_resample takes no parameters.*\['sample_weight'\]"):
        FeatureSpaceAugmenter().fit_resample(X, y, sample_weight=np.ones(len(y)))
    with pytest.raises(
        TypeError, match=r"FeatureSpaceAugmenter.fit takes no parameters.*\['weights'\]"
    ):
        FeatureSpaceAugmenter().fit(X, y, weights=None)


def test_two_fits_in_two_threads_match_one_fit_alone(digits):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    X, y = digits
    X = X[:120].reshape(-1, 8, 8)  # declared images: decoded, then jittered
    y = y[:120]

    def augment(barrier=None):
        if barrier is not None:
            barrier.wait()
        return VAEAugmenter(VAE(**FAST), random_state=3).fit_resample(X, y)[0]

    alone = augment()
    states = global_random_states()
    barrier = threading.Barrier(2)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(augment, [barrier, barrier]))
    for result in results:
        np.testing.assert_array_equal(result, alone)
    assert_global_random_states_are(states)


def test_a_data_frame_is_a_table_for_the_vae_too(digits):
    pd = pytest.importorskip("pandas")
    X, y = digits
    X_df = pd.DataFrame(X, columns=[f"count{i}" for i in range(64)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "read as 8x8 images"
        augmenter = VAEAugmenter(VAE(**FAST), random_state=0).fit(X_df, y)
    assert augmenter.vae_.layout_.image_shape is None
    assert (augmenter.max_rotation_, augmenter.max_shift_) == (0.0, 0.0)


def test_a_failed_refit_leaves_the_augmenter_as_it_was(digits, monkeypatch):
    X, y = digits
    augmenter = VAEAugmenter(VAE(**FAST), random_state=0)
    X_res, _ = augmenter.fit_resample(X, y)
    before = dict(vars(augmenter))

    def interrupt(vae, X, memory):
        raise KeyboardInterrupt

    monkeypatch.setattr("vaeaug.samplers._latent.fit_with_memory", interrupt)
    with pytest.raises(KeyboardInterrupt):
        augmenter.fit_resample(X[:100], y[:100])
    assert vars(augmenter).keys() == before.keys()
    assert all(vars(augmenter)[name] is value for name, value in before.items())
