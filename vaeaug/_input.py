"""Input layout: flattening image arrays and deciding whether data are images."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import sparse

#: Smallest side of a square image inferred from the number of features.
MIN_INFERRED_SIDE = 8


def flatten_samples(X):
    """Flatten ``(n, H, W)`` or ``(n, C, H, W)`` arrays to ``(n, H*W*C)``.

    Returns
    -------
    X_2d : array-like
        ``X`` itself when it is already two-dimensional (lists, data frames and
        sparse matrices pass through untouched for later validation), else a
        flattened view.
    sample_shape : tuple of int or None
        The shape of one sample when ``X`` had more than two dimensions.
    """
    if sparse.issparse(X) or hasattr(X, "columns"):
        return X, None
    array = np.asarray(X)
    if array.ndim > 2:
        return array.reshape(len(array), -1), array.shape[1:]
    return X, None


def resolve_image_shape(
    n_features: int,
    sample_shape: tuple[int, ...] | None,
    image_shape: Sequence[int] | None,
    architecture: str,
) -> tuple[int, int, int] | None:
    """Return ``(channels, height, width)``, or ``None`` when the data are a table.

    Parameters
    ----------
    n_features : int
        Number of values per sample.
    sample_shape : tuple of int or None
        Shape of one sample when ``X`` was given as ``(n, H, W)`` or ``(n, C, H, W)``.
    image_shape : sequence of int or None
        The user's ``image_shape`` parameter: ``(H, W)`` or ``(C, H, W)``.
    architecture : {"auto", "conv", "dense"}
        The user's ``architecture`` parameter.
    """
    if architecture == "dense":
        return None
    if image_shape is not None:
        shape = tuple(image_shape)
        if len(shape) not in (2, 3) or not all(
            isinstance(s, (int, np.integer)) and s > 0 for s in shape
        ):
            raise ValueError(
                "image_shape must be (height, width) or (channels, height, width) "
                f"with positive integers; got {image_shape!r}."
            )
        if math.prod(shape) != n_features:
            raise ValueError(
                f"image_shape={shape} holds {math.prod(shape)} values but X has "
                f"{n_features} features per sample."
            )
        return (1, *shape) if len(shape) == 2 else shape
    if sample_shape is not None:
        if len(sample_shape) > 3:
            raise ValueError(
                "X must have 2 dimensions (n_samples, n_features), 3 (n_samples, "
                "height, width) or 4 (n_samples, channels, height, width); got "
                f"{len(sample_shape) + 1}."
            )
        return (1, *sample_shape) if len(sample_shape) == 2 else tuple(sample_shape)
    side = math.isqrt(n_features)
    if side * side == n_features and (architecture == "conv" or side >= MIN_INFERRED_SIDE):
        return (1, side, side)
    if architecture == "conv":
        raise ValueError(
            f"X has {n_features} features, which is not a square single-channel image; "
            "pass image_shape=(height, width) or (channels, height, width), or use "
            "architecture='dense' for data that are not images."
        )
    return None


def standard_scaling(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation, with 1 for constant features."""
    scale = X.std(axis=0)
    return X.mean(axis=0), np.where(scale > 0, scale, 1.0)
