"""Properties of the generators and of what FeatureSpaceAugmenter and AffineJitterAugmenter return.

For any shape, dtype and class layout that validation accepts: the originals
come back first and bit-identical, the counts follow the documented rule,
``sample_indices_`` and ``neighbor_indices_`` point at the right rows, and the
same seed gives the same output. Examples are derandomised (the same on every
run) and kept few, so that the file runs in seconds.
"""

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors

from vaeaug import AffineJitterAugmenter, FeatureSpaceAugmenter
from vaeaug.samplers.latent_moves import find_neighbors, pair_with_neighbors, spread_counts

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None)

ELEMENTS = {
    np.uint8: st.integers(0, 255),
    np.int64: st.integers(-(10**6), 10**6),
    np.float32: st.floats(-100, 100, width=32),
    np.float64: st.floats(-1000, 1000),
}


@st.composite
def labels(draw, min_classes=2):
    """Classes of 1 to 5 samples, shuffled; integer or string labels."""
    sizes = draw(st.lists(st.integers(1, 5), min_size=min_classes, max_size=3))
    y = np.repeat(np.arange(len(sizes)), sizes)
    y = np.array(draw(st.permutations(y)))
    return np.array(["ab"[i % 2] * (i + 1) for i in y]) if draw(st.booleans()) else y


@st.composite
def amounts(draw, y):
    """``n_per_sample``, or a ``sampling_strategy`` dict of targets no smaller than the counts."""
    if draw(st.booleans()):
        return {"n_per_sample": draw(st.integers(1, 3))}
    classes, counts = np.unique(y, return_counts=True)
    extra = draw(st.lists(st.integers(0, 6), min_size=len(classes), max_size=len(classes)))
    return {"sampling_strategy": dict(zip(classes, counts + np.array(extra), strict=True))}


def check_layout(sampler, X, y, X_res, y_res, params, has_partner):
    """What every augmenter promises about the output and its indices."""
    n = len(y)
    assert X_res.dtype == X.dtype and X_res.shape[1:] == X.shape[1:]
    assert X_res[:n].tobytes() == X.tobytes()  # first, bit-identical
    np.testing.assert_array_equal(y_res[:n], y)
    np.testing.assert_array_equal(sampler.sample_indices_[:n], np.arange(n))
    np.testing.assert_array_equal(sampler.neighbor_indices_[:n], -1)
    np.testing.assert_array_equal(sampler.synthetic_mask_, np.arange(len(X_res)) >= n)
    base = sampler.sample_indices_[n:]
    assert len(base) == len(X_res) - n and np.all(np.diff(base) >= 0)
    np.testing.assert_array_equal(y_res[n:], y[base])
    made = np.bincount(base, minlength=n)
    assert np.all(made[~has_partner] == 0)
    if "n_per_sample" in params:
        np.testing.assert_array_equal(made[has_partner], params["n_per_sample"])
    else:
        for label, target in params["sampling_strategy"].items():
            members = (y == label) & has_partner
            if members.any():
                assert made[members].sum() == target - np.sum(y == label)
                assert made[members].max() - made[members].min() <= 1  # shared evenly
    return base, sampler.neighbor_indices_[n:]


def assert_same_output(sampler, X, y, X_res, y_res):
    again = clone(sampler)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        X_again, y_again = again.fit_resample(X, y)
    assert X_again.tobytes() == X_res.tobytes()
    np.testing.assert_array_equal(y_again, y_res)
    np.testing.assert_array_equal(again.sample_indices_, sampler.sample_indices_)
    np.testing.assert_array_equal(again.neighbor_indices_, sampler.neighbor_indices_)


# ------------------------------------------------------------- FeatureSpaceAugmenter


@st.composite
def latent_cases(draw):
    y = draw(labels())
    sample_shape = draw(
        st.one_of(
            st.tuples(st.integers(1, 4)),
            st.tuples(st.integers(1, 3), st.integers(1, 3)),
            st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 3)),
        )
    )
    dtype = draw(st.sampled_from(list(ELEMENTS)))
    X = draw(hnp.arrays(dtype, (len(y), *sample_shape), elements=ELEMENTS[dtype]))
    params = {
        "method": draw(st.sampled_from(["interpolation", "extrapolation", "noise"])),
        "alpha": draw(st.floats(0, 1.5)),
        "k_neighbors": draw(st.integers(1, 4)),
        "neighbor_search": draw(st.sampled_from(["class", "all"])),
        "random_state": draw(st.integers(0, 2**16)),
        **draw(amounts(y)),
    }
    return X, y, params


@SETTINGS
@given(latent_cases())
def test_latent_augmenter_output_layout(case):
    X, y, params = case
    sampler = FeatureSpaceAugmenter(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # one-sample classes
        X_res, y_res = sampler.fit_resample(X, y)
    class_sizes = np.unique(y, return_counts=True)
    size_of = dict(zip(*class_sizes, strict=True))
    if params["method"] == "noise" or params["neighbor_search"] == "all":
        has_partner = np.ones(len(y), dtype=bool)
    else:
        has_partner = np.array([size_of[label] > 1 for label in y])
    base, partner = check_layout(sampler, X, y, X_res, y_res, params, has_partner)

    if params["method"] == "noise":
        np.testing.assert_array_equal(partner, -1)
    else:
        assert np.all(partner >= 0) and np.all(partner != base)
        if params["neighbor_search"] == "class":
            np.testing.assert_array_equal(y[partner], y[base])
        check_formula(X, X_res[len(y) :], base, partner, params)
    assert_same_output(sampler, X, y, X_res, y_res)


def check_formula(X, X_new, base, partner, params):
    """The synthetic rows are the formula of their base and partner, rounded for integers."""
    X_2d = X.reshape(len(X), -1).astype(np.float64)
    new = X_new.reshape(len(X_new), X_2d.shape[1]).astype(np.float64)
    alpha, start, end = params["alpha"], X_2d[base], X_2d[partner]
    sign = 1 if params["method"] == "interpolation" else -1
    expected = start + sign * alpha * (end - start)
    if np.issubdtype(X.dtype, np.integer):
        info = np.iinfo(X.dtype)
        expected = np.clip(expected, info.min, info.max)
        assert np.all(np.abs(new - expected) <= 0.5 + 1e-6 * np.abs(expected))  # rounded
        return
    tolerance = 1e-4 if X.dtype == np.float32 else 1e-9
    np.testing.assert_allclose(new, expected, rtol=tolerance, atol=tolerance * 1000)
    if params["method"] == "interpolation" and alpha <= 1:  # on the segment
        low, high = np.minimum(start, end), np.maximum(start, end)
        assert np.all((new >= low - tolerance * 1000) & (new <= high + tolerance * 1000))


# ------------------------------------------------------- AffineJitterAugmenter


@st.composite
def jitter_cases(draw):
    y = draw(labels())
    dtype = draw(st.sampled_from(list(ELEMENTS)))
    layout = draw(st.sampled_from(["hw", "chw", "flat"]))
    channels = draw(st.integers(1, 2)) if layout == "chw" else 1
    height, width = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    shape = {"hw": (height, width), "chw": (channels, height, width)}.get(layout, (height * width,))
    elements = st.integers(-1000, 1000) if dtype == np.int64 else ELEMENTS[dtype]
    X = draw(hnp.arrays(dtype, (len(y), *shape), elements=elements))
    params = {
        "max_rotation": draw(st.floats(0, 30)),
        "max_shift": draw(st.floats(0, 2)),
        "image_shape": (height, width) if layout == "flat" else None,
        "random_state": draw(st.integers(0, 2**16)),
        **draw(amounts(y)),
    }
    return X, y, params


@SETTINGS
@given(jitter_cases())
def test_affine_jitter_output_layout(case):
    X, y, params = case
    sampler = AffineJitterAugmenter(**params)
    X_res, y_res = sampler.fit_resample(X, y)
    has_partner = np.ones(len(y), dtype=bool)  # needs no neighbour
    base, partner = check_layout(sampler, X, y, X_res, y_res, params, has_partner)
    np.testing.assert_array_equal(partner, -1)
    # Bilinear interpolation with a background of 0 stays within the values and 0.
    low, high = min(0.0, float(X.min())), max(0.0, float(X.max()))
    slack = 1e-4 * max(1.0, abs(low), high)
    new = X_res[len(y) :].astype(np.float64)
    assert np.all((new >= low - slack) & (new <= high + slack))
    assert_same_output(sampler, X, y, X_res, y_res)


@SETTINGS
@given(jitter_cases())
def test_affine_jitter_without_jitter_copies_the_originals(case):
    X, y, params = case
    params = {**params, "max_rotation": 0.0, "max_shift": 0.0}
    sampler = AffineJitterAugmenter(**params)
    X_res, _ = sampler.fit_resample(X, y)
    copies = X[sampler.sample_indices_[len(y) :]].astype(np.float64)
    new = X_res[len(y) :].astype(np.float64)
    np.testing.assert_allclose(new, copies, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(X).max()))


# -------------------------------------------------------------- pure functions


@SETTINGS
@given(
    hnp.arrays(
        np.float64, st.tuples(st.integers(1, 12), st.integers(1, 3)), elements=st.floats(-9, 9)
    ),
    st.integers(1, 5),
    st.data(),
)
def test_find_neighbors(Z, k, data):
    groups = np.array(data.draw(st.lists(st.integers(0, 2), min_size=len(Z), max_size=len(Z))))
    neighbors = find_neighbors(Z, groups, NearestNeighbors(n_neighbors=k + 1))
    assert neighbors.shape == (len(Z), k)
    for i, row in enumerate(neighbors):
        found = row[row >= 0]
        group_size = np.sum(groups == groups[i])
        assert len(found) == min(k, group_size - 1)
        assert np.all(row[len(found) :] == -1)  # padding trails
        assert i not in found and len(set(found)) == len(found)
        assert np.all(groups[found] == groups[i])
        distances = np.linalg.norm(Z[found] - Z[i], axis=1)
        assert np.all(np.diff(distances) >= -1e-12)  # nearest first
        others = np.flatnonzero((groups == groups[i]) & (np.arange(len(Z)) != i))
        if len(others) > len(found):  # none left out is nearer
            left_out = np.setdiff1d(others, found)
            assert np.linalg.norm(Z[left_out] - Z[i], axis=1).min() >= distances.max() - 1e-12


@SETTINGS
@given(st.data())
def test_pair_with_neighbors(data):
    n = data.draw(st.integers(1, 8))
    k = data.draw(st.integers(1, 4))
    n_available = np.array(data.draw(st.lists(st.integers(0, k), min_size=n, max_size=n)))
    neighbors = np.full((n, k), -1)
    for i, m in enumerate(n_available):
        neighbors[i, :m] = data.draw(st.permutations([j for j in range(n + k) if j != i]))[:m]
    counts = np.array(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)))
    counts[n_available == 0] = 0
    base, partner = pair_with_neighbors(neighbors, counts)
    np.testing.assert_array_equal(base, np.repeat(np.arange(n), counts))
    for i in range(n):
        cycle = neighbors[i, np.arange(counts[i]) % max(n_available[i], 1)]
        np.testing.assert_array_equal(partner[base == i], cycle)


@SETTINGS
@given(labels(min_classes=1), st.data())
def test_spread_counts(y, data):
    classes = np.unique(y)
    wanted = {c: data.draw(st.integers(0, 12)) for c in classes}
    counts = spread_counts(y, wanted, np.random.RandomState(data.draw(st.integers(0, 99))))
    for label, n_new in wanted.items():
        members = counts[y == label]
        assert members.sum() == n_new and members.max() - members.min() <= 1
