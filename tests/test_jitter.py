import numpy as np
import pytest
import torch

from vaeaug import AffineJitterAugmenter
from vaeaug.engine.image import affine_jitter, draw_jitter, random_jitter, resolve_jitter
from vaeaug.utils import DataLayout


def test_identity_and_shift():
    rng = np.random.RandomState(0)
    images = rng.rand(2, 1, 4, 6)
    same = affine_jitter(images, np.zeros(2), np.zeros((2, 2)))
    np.testing.assert_allclose(same, images, atol=1e-6)
    moved = affine_jitter(images, np.zeros(2), np.array([[1.0, 2.0], [0.0, 0.0]]))
    np.testing.assert_allclose(moved[0, 0, 2:, 1:], images[0, 0, :-2, :-1], atol=1e-6)
    np.testing.assert_allclose(moved[0, 0, :2], 0.0)


def test_rotations_are_rigid_and_counter_clockwise():
    image = np.zeros((1, 1, 5, 5))
    image[0, 0, 0, 2] = 1.0  # top centre
    turned = affine_jitter(image, np.array([90.0]), np.zeros((1, 2)))
    assert turned[0, 0, 2, 0] == pytest.approx(1.0)  # now left centre
    rect = np.random.RandomState(1).rand(1, 2, 4, 6)
    flipped = affine_jitter(rect, np.array([180.0]), np.zeros((1, 2)))
    np.testing.assert_allclose(flipped, rect[:, :, ::-1, ::-1], atol=1e-6)


def test_sampler_jitters_within_bounds_and_keeps_uint8(digits):
    X, y = digits
    X8 = (X * 255 / 16).astype(np.uint8)
    sampler = AffineJitterAugmenter(max_rotation=0.0, max_shift=0.0, random_state=0)
    X_res, y_res = sampler.fit_resample(X8, y)
    assert X_res.dtype == np.uint8 and X_res.shape == (1200, 64)
    assert sampler.image_shape_ == (1, 8, 8)
    np.testing.assert_array_equal(X_res[300:], X8[sampler.sample_indices_[300:]])
    np.testing.assert_array_equal(y_res[300:], y[sampler.sample_indices_[300:]])


def test_sampler_changes_images_and_is_reproducible(digits):
    X, y = digits
    a, _ = AffineJitterAugmenter(random_state=0).fit_resample(X, y)
    b, _ = AffineJitterAugmenter(random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a[300:] - X[np.repeat(np.arange(300), 3)]).mean() > 0.5


def test_output_does_not_depend_on_the_chunk_size(digits, monkeypatch):
    X, y = digits
    whole, _ = AffineJitterAugmenter(random_state=0).fit_resample(X, y)
    monkeypatch.setattr("vaeaug.samplers._jitter.BATCH_SIZE", 7)
    chunked, _ = AffineJitterAugmenter(random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(chunked, whole)


def test_non_square_width_needs_an_image_shape():
    with pytest.raises(ValueError, match="pass image_shape"):
        AffineJitterAugmenter().fit_resample(np.ones((4, 10)), [0, 1, 0, 1])


def test_estimator_conventions(digits):
    import pickle

    from sklearn.base import clone

    X, y = digits
    X_in = X.copy()
    sampler = AffineJitterAugmenter(max_rotation=5.0, n_per_sample=2, random_state=3)
    assert clone(sampler).get_params() == sampler.get_params()
    X_res, _ = sampler.fit_resample(X, y)
    np.testing.assert_array_equal(X, X_in)
    np.testing.assert_array_equal(X_res[:300], X)
    restored = pickle.loads(pickle.dumps(sampler))
    np.testing.assert_array_equal(restored.sample_indices_, sampler.sample_indices_)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"max_rotation": -1.0}, "'max_rotation' parameter"),
        ({"max_rotation": 200.0}, "'max_rotation' parameter"),
        ({"max_shift": -2.0}, "'max_shift' parameter"),
        ({"n_per_sample": 0}, "'n_per_sample' parameter"),
    ],
)
def test_bad_parameters_are_named(digits, params, match):
    with pytest.raises(ValueError, match=match):
        AffineJitterAugmenter(**params).fit_resample(*digits)


def test_draws_fill_the_bounds_and_no_more():
    angles, shifts = draw_jitter(2000, 10.0, 2.0, np.random.RandomState(0))
    assert angles.shape == (2000,) and shifts.shape == (2000, 2)
    assert np.abs(angles).max() <= 10.0 and np.abs(angles).max() > 9.9
    assert np.abs(shifts).max() <= 2.0 and (np.abs(shifts).max(axis=0) > 1.99).all()


def _centroids(images):
    """``(row, column)`` centre of mass of each single-channel image, shape (n, 2)."""
    height, width = images.shape[-2:]
    rows, cols = torch.meshgrid(
        torch.arange(float(height)), torch.arange(float(width)), indexing="ij"
    )
    mass = images[:, 0].sum(dim=(1, 2))
    return torch.stack(
        [(images[:, 0] * grid).sum(dim=(1, 2)) / mass for grid in (rows, cols)], dim=1
    )


def test_random_jitter_stays_within_its_bounds():
    image = torch.zeros(500, 1, 9, 9)
    image[:, 0, 4, 4] = 1.0
    moved = random_jitter(
        image, max_rotation=0.0, max_shift=1.5, generator=torch.Generator().manual_seed(0)
    )
    offsets = _centroids(moved) - 4
    assert offsets.abs().max() <= 1.5 + 1e-5
    assert (offsets.abs().amax(dim=0) > 1.4).all()  # both axes use the whole range
    torch.testing.assert_close(random_jitter(image, 0.0, 0.0), image)


def test_random_jitter_rotates_both_ways_within_its_bound():
    image = torch.zeros(500, 1, 21, 21)
    image[:, 0, 10, 18] = 1.0  # 8 pixels right of the centre
    turned = random_jitter(
        image, max_rotation=30.0, max_shift=0.0, generator=torch.Generator().manual_seed(0)
    )
    row, col = (_centroids(turned) - 10).unbind(dim=1)
    angles = torch.rad2deg(torch.atan2(-row, col))  # counter-clockwise is positive
    assert angles.abs().max() <= 30.5
    assert angles.min() < -27 and angles.max() > 27


def test_random_jitter_draws_from_its_generator_only():
    images = torch.rand(20, 1, 9, 9)
    state = torch.random.get_rng_state()
    a = random_jitter(images, 10.0, 1.0, generator=torch.Generator().manual_seed(0))
    b = random_jitter(images, 10.0, 1.0, generator=torch.Generator().manual_seed(0))
    c = random_jitter(images, 10.0, 1.0, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and not torch.allclose(a, c)
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize(
    "shape, expected",
    [((1, 28, 28), (10.0, 2.0)), ((1, 70, 70), (10.0, 2.0)), ((1, 8, 8), (10.0, 2 * 8 / 28))],
)
def test_auto_jitter_scales_with_small_images(shape, expected):
    layout = DataLayout(shape, shape, pixel_max=1.0)
    assert resolve_jitter("auto", "auto", layout) == pytest.approx(expected)
    assert resolve_jitter(3, "auto", layout) == pytest.approx((3.0, expected[1]))


def test_tables_are_not_jittered_and_explicit_jitter_on_them_is_an_error():
    table = DataLayout((5,), None)
    assert resolve_jitter("auto", 0, table) == (0.0, 0.0)
    with pytest.raises(ValueError, match="train_max_shift=1 jitter images"):
        resolve_jitter("auto", 1, table, names=("train_max_rotation", "train_max_shift"))


@pytest.mark.parametrize("where", ["vaeaug.samplers._jitter", "vaeaug.samplers._latent"])
def test_the_samplers_draw_within_the_bounds_the_user_set(digits, monkeypatch, where):
    from sklearn.frozen import FrozenEstimator

    from vaeaug import VAE, VAEAugmenter

    X, y = digits
    drawn = []

    def spy(n, max_rotation, max_shift, random_state):
        angles, shifts = draw_jitter(n, max_rotation, max_shift, random_state)
        drawn.append((max_rotation, max_shift, angles, shifts))
        return angles, shifts

    monkeypatch.setattr(f"{where}.draw_jitter", spy)
    bounds = dict(max_rotation=30.0, max_shift=3.0, random_state=0)
    if where.endswith("_jitter"):
        sampler = AffineJitterAugmenter(**bounds)
    else:
        vae = VAE(latent_dim=2, max_epochs=1, hidden_units=8, random_state=0)
        sampler = VAEAugmenter(FrozenEstimator(vae.fit(X.reshape(-1, 8, 8))), **bounds)
    sampler.fit_resample(X.reshape(-1, 8, 8), y)
    [(max_rotation, max_shift, angles, shifts)] = drawn
    assert (max_rotation, max_shift) == (30.0, 3.0)
    assert len(angles) == 900 and 27 < np.abs(angles).max() <= 30
    assert 2.7 < np.abs(shifts).max() <= 3
