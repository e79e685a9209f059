import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from vaeaug.samplers.latent_moves import (
    _as_float,
    add_noise,
    extrapolate,
    find_neighbors,
    interpolate,
    pair_with_neighbors,
    spread_counts,
)


def test_interpolation_and_extrapolation_formulas():
    z = np.array([[0.0, 0.0], [1.0, 2.0]])
    z_nb = np.array([[2.0, 4.0], [3.0, 0.0]])
    np.testing.assert_allclose(interpolate(z, z_nb, alpha=0.5), [[1.0, 2.0], [2.0, 1.0]])
    np.testing.assert_allclose(extrapolate(z, z_nb, alpha=0.5), [[-1.0, -2.0], [0.0, 3.0]])
    np.testing.assert_allclose(interpolate(z, z_nb, alpha=1.0), z_nb)
    np.testing.assert_allclose(extrapolate(z, z_nb, alpha=0.0), z)


def test_noise_is_scaled_per_dimension_and_keeps_dtype():
    z = np.zeros((20000, 3), dtype=np.float32)
    scale = np.array([1.0, 2.0, 0.0], dtype=np.float32)
    out = add_noise(z, scale=scale, alpha=0.5, random_state=np.random.RandomState(0))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.std(axis=0), [0.5, 1.0, 0.0], atol=0.02)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=0.03)


def test_noise_is_reproducible():
    z = np.ones((4, 2))
    a = add_noise(z, scale=np.ones(2), alpha=1.0, random_state=np.random.RandomState(3))
    b = add_noise(z, scale=np.ones(2), alpha=1.0, random_state=np.random.RandomState(3))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int64, bool, np.float16])
def test_generators_compute_integers_and_float16_in_float64(dtype):
    z = np.array([[10, 0], [14, 1]]).astype(dtype)
    z_nb = np.array([[12, 1], [10, 0]]).astype(dtype)
    for generator in (interpolate, extrapolate):
        out = generator(z, z_nb, alpha=0.5)
        expected = generator(z.astype(float), z_nb.astype(float), alpha=0.5)
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out, expected)  # uint8 gave 139 for 14 -> 10
    noisy = add_noise(z, scale=np.ones(2), alpha=1.0, random_state=np.random.RandomState(0))
    reference = add_noise(
        z.astype(float), scale=np.ones(2), alpha=1.0, random_state=np.random.RandomState(0)
    )
    assert noisy.dtype == np.float64
    np.testing.assert_array_equal(noisy, reference)  # not truncated to integers


def test_float32_stays_float32():
    z = np.ones((2, 3), dtype=np.float32)
    assert _as_float(z) is z
    assert interpolate(z, z, alpha=0.5).dtype == np.float32


def test_find_neighbors_within_groups_nearest_first():
    Z = np.array([[0.0], [1.0], [3.0], [10.0], [0.5], [11.0]])
    groups = np.array([0, 0, 0, 1, 0, 1])
    neighbors = find_neighbors(Z, groups, NearestNeighbors(n_neighbors=3))
    assert neighbors.shape == (6, 2)
    np.testing.assert_array_equal(neighbors[0], [4, 1])
    np.testing.assert_array_equal(neighbors[2], [1, 4])
    # class 1 has two members: one neighbour each, the rest padded with -1
    np.testing.assert_array_equal(neighbors[3], [5, -1])
    np.testing.assert_array_equal(neighbors[5], [3, -1])


def test_find_neighbors_single_member_group_has_none():
    Z = np.array([[0.0], [1.0], [5.0]])
    neighbors = find_neighbors(Z, np.array([0, 0, 1]), NearestNeighbors(n_neighbors=2))
    np.testing.assert_array_equal(neighbors[2], [-1])


def test_find_neighbors_never_returns_the_point_itself_with_duplicates():
    Z = np.zeros((4, 2))
    neighbors = find_neighbors(Z, np.zeros(4), NearestNeighbors(n_neighbors=4))
    for i, row in enumerate(neighbors):
        assert i not in row
        assert sorted(row) == sorted(set(range(4)) - {i})


def test_pair_with_neighbors_cycles_through_neighbours():
    neighbors = np.array([[1, 2, 3], [0, -1, -1], [3, 0, 1], [2, 0, 1]])
    base, partner = pair_with_neighbors(neighbors, np.array([4, 2, 0, 1]))
    np.testing.assert_array_equal(base, [0, 0, 0, 0, 1, 1, 3])
    np.testing.assert_array_equal(partner, [1, 2, 3, 1, 0, 0, 2])


def test_pair_with_neighbors_rejects_rows_without_neighbours():
    with pytest.raises(ValueError, match="without neighbours"):
        pair_with_neighbors(np.array([[-1], [0]]), np.array([1, 1]))


def test_spread_counts_shares_evenly():
    y = np.array([0, 0, 0, 1, 1])
    counts = spread_counts(y, {0: 7, 1: 0}, np.random.RandomState(0))
    assert counts[:3].sum() == 7
    assert set(counts[:3]) == {2, 3}
    np.testing.assert_array_equal(counts[3:], 0)
