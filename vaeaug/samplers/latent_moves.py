"""Latent-space generators and the neighbour bookkeeping around them.

Pure functions over arrays, after DeVries & Taylor (2017) as used by the paper:

- noise: ``z' = z + alpha * e``, ``e ~ N(0, sigma^2)`` with ``sigma`` the
  per-dimension standard deviation of the encoded set;
- interpolation: ``z' = z + alpha * (z_neighbor - z)``;
- extrapolation: ``z' = z + alpha * (z - z_neighbor)``.

The generators compute integer, boolean and float16 inputs in float64 (unsigned
differences would wrap around, noise would be truncated); float32 and float64
keep their dtype.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sklearn.base import clone


def add_noise(
    z: np.ndarray, *, scale: np.ndarray, alpha: float, random_state: np.random.RandomState
) -> np.ndarray:
    """Perturb each row with Gaussian noise of per-dimension standard deviation ``alpha * scale``.

    Parameters
    ----------
    z : ndarray of shape (n, latent_dim)
        Vectors to perturb.
    scale : ndarray of shape (latent_dim,)
        Per-dimension standard deviation, usually ``Z.std(axis=0)`` of the encoded set.
    alpha : float
        Strength of the noise.
    random_state : RandomState
        Source of the noise.

    Returns
    -------
    z_new : ndarray of shape (n, latent_dim)
        Of the dtype of ``z`` when it is float32 or float64, else float64.
    """
    z = _as_float(z)
    noise = random_state.standard_normal(z.shape).astype(z.dtype, copy=False)
    return z + alpha * scale * noise


def interpolate(z: np.ndarray, z_neighbor: np.ndarray, *, alpha: float) -> np.ndarray:
    """Move each row of ``z`` a fraction ``alpha`` of the way towards its neighbour.

    Returns ``z + alpha * (z_neighbor - z)``, computed in float64 for integer, boolean and
    float16 inputs.
    """
    z, z_neighbor = _as_float(z), _as_float(z_neighbor)
    return z + alpha * (z_neighbor - z)


def extrapolate(z: np.ndarray, z_neighbor: np.ndarray, *, alpha: float) -> np.ndarray:
    """Move each row of ``z`` away from its neighbour by ``alpha`` times their difference.

    Returns ``z + alpha * (z - z_neighbor)``, computed in float64 for integer, boolean and
    float16 inputs.
    """
    z, z_neighbor = _as_float(z), _as_float(z_neighbor)
    return z + alpha * (z - z_neighbor)


def _as_float(z) -> np.ndarray:
    """``z`` as an array of float32 or float64: other dtypes are cast to float64.

    Integer and boolean arrays must not be computed with in their own dtype
    (``uint8`` differences wrap around), and float16 loses too much precision.
    """
    z = np.asarray(z)
    return z if z.dtype in (np.float32, np.float64) else z.astype(np.float64)


def find_neighbors(Z: np.ndarray, groups: np.ndarray, nn_estimator) -> np.ndarray:
    """Nearest neighbours of each row among the other rows of its group.

    Parameters
    ----------
    Z : ndarray of shape (n, d)
        Points.
    groups : ndarray of shape (n,)
        Group of each row (class labels, or a constant to search all rows).
    nn_estimator : estimator with ``fit`` and ``kneighbors``
        Its ``n_neighbors`` counts the point itself, so ``k = n_neighbors - 1``
        neighbours are returned. It is cloned for each group.

    Returns
    -------
    neighbors : ndarray of shape (n, k)
        Row indices into ``Z``, nearest first. A group of ``m <= k`` rows
        leaves ``k - m + 1`` trailing entries at ``-1``; a single-row group has
        no neighbour at all.
    """
    k = nn_estimator.n_neighbors - 1
    neighbors = np.full((len(Z), k), -1, dtype=np.intp)
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        n_query = min(k + 1, len(members))
        if n_query < 2:
            continue
        nn = clone(nn_estimator).fit(Z[members])
        found = nn.kneighbors(Z[members], n_neighbors=n_query, return_distance=False)
        # Drop each point itself; with duplicates it may not come first, and if
        # it is missing altogether the farthest neighbour makes room instead.
        is_self = found == np.arange(len(members))[:, None]
        is_self[~is_self.any(axis=1), -1] = True
        others = found[~is_self].reshape(len(members), n_query - 1)
        neighbors[members, : n_query - 1] = members[others]
    return neighbors


def find_neighbors_among(Z_query: np.ndarray, Z_candidates: np.ndarray, nn_estimator) -> np.ndarray:
    """Nearest neighbours of each query row among other rows, the candidates.

    Parameters
    ----------
    Z_query : ndarray of shape (n, d)
        Points whose neighbours are sought.
    Z_candidates : ndarray of shape (m, d)
        Points to choose the neighbours from (none of them a query).
    nn_estimator : estimator with ``fit`` and ``kneighbors``
        As for :func:`find_neighbors`: ``k = n_neighbors - 1`` neighbours are
        returned, the same number as within a set. It is cloned.

    Returns
    -------
    neighbors : ndarray of shape (n, k)
        Row indices into ``Z_candidates``, nearest first; with ``m < k``
        candidates the last ``k - m`` entries are ``-1``.
    """
    k = nn_estimator.n_neighbors - 1
    neighbors = np.full((len(Z_query), k), -1, dtype=np.intp)
    n_found = min(k, len(Z_candidates))
    if n_found and len(Z_query):
        nn = clone(nn_estimator).fit(Z_candidates)
        found = nn.kneighbors(Z_query, n_neighbors=n_found, return_distance=False)
        neighbors[:, :n_found] = found
    return neighbors


def pair_with_neighbors(neighbors: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expand per-row counts into (base, neighbour) index pairs.

    Row ``i`` appears ``counts[i]`` times; its ``j``-th copy is paired with its
    ``(j mod n_i)``-th nearest neighbour, ``n_i`` being the number it has. So
    with ``counts == k`` each row meets each of its ``k`` neighbours once.

    Parameters
    ----------
    neighbors : ndarray of shape (n, k)
        As returned by :func:`find_neighbors`.
    counts : ndarray of shape (n,)
        New samples wanted from each row; rows without neighbours must have 0.

    Returns
    -------
    base, partner : ndarray of shape (counts.sum(),)
        Row indices, grouped by base row in increasing order.
    """
    base = np.repeat(np.arange(len(counts)), counts)
    copy_number = np.arange(len(base)) - np.repeat(np.cumsum(counts) - counts, counts)
    n_available = (neighbors >= 0).sum(axis=1)
    if np.any(n_available[base] == 0):
        raise ValueError("Rows without neighbours cannot be paired; give them a count of 0.")
    partner = neighbors[base, copy_number % n_available[base]]
    return base, partner


def spread_counts(
    y: np.ndarray, n_new_per_class: Mapping, random_state: np.random.RandomState
) -> np.ndarray:
    """Share each class's number of new samples evenly among its rows.

    Every row of class ``c`` gets ``n_new // m_c`` new samples and a random
    ``n_new % m_c`` of them one more.

    Returns
    -------
    counts : ndarray of shape (n,)
    """
    counts = np.zeros(len(y), dtype=np.intp)
    for label, n_new in n_new_per_class.items():
        members = np.flatnonzero(y == label)
        counts[members] = n_new // len(members)
        extra = random_state.choice(members, n_new % len(members), replace=False)
        counts[extra] += 1
    return counts
