"""Input layout: flattening image arrays, deciding whether data are images, reading rows."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
from scipy import sparse

from ._warnings import warn

#: Smallest side of a square image inferred from the number of features.
MIN_INFERRED_SIDE = 8
#: Rows read, encoded or decoded at once by the passes over a whole input
#: (bounds peak memory).
INFERENCE_BATCH_SIZE = 2048


def flatten_samples(X):
    """Check that ``X`` holds numbers; flatten ``(n, H, W)`` or ``(n, C, H, W)`` to ``(n, H*W*C)``.

    Returns
    -------
    X_2d : array-like
        ``X`` itself when it is already two-dimensional (lists, data frames and
        sparse matrices pass through untouched for later validation), a
        :class:`RowReader` of an array-like of integers that is not a NumPy
        array (an h5py dataset, say), else a flattened view.
    sample_shape : tuple of int or None
        The shape of one sample when ``X`` had more than two dimensions.

    Raises
    ------
    ValueError
        When ``X`` holds anything but real numbers (booleans, integers,
        floats, or objects that convert to floats), such as strings or
        categorical columns, or has more than 4 dimensions.
    TypeError
        When an object array holds values that are neither numbers nor
        strings (``None``, dicts...), as numpy's conversion would.
    """
    if sparse.issparse(X):
        return X, None
    if hasattr(X, "columns"):
        _check_numeric_columns(X)
        return X, None
    if _reads_integers_by_index(X):
        return RowReader(X), (tuple(X.shape[1:]) if len(X.shape) > 2 else None)
    try:
        array = np.asarray(X)
    except ValueError as error:  # ragged nested sequences
        raise ValueError(
            f"X must be an array of numbers of shape (n_samples, n_features); {error}"
        ) from error
    _check_numeric_values(array)
    if array.ndim > 4:
        raise ValueError(
            "X must have 2 dimensions (n_samples, n_features), 3 (n_samples, "
            "height, width) or 4 (n_samples, channels, height, width); got "
            f"{array.ndim}."
        )
    if array.ndim > 2:
        if min(array.shape) < 1:  # reshape cannot tell the width of no value
            raise ValueError(
                "X must hold at least one sample and one value per sample; its shape is "
                f"{array.shape}."
            )
        return array.reshape(len(array), -1), array.shape[1:]
    return X, None


def _reads_integers_by_index(X) -> bool:
    """Whether ``X`` is an array-like of 2 to 4 dimensions holding integers or
    booleans that is not a NumPy array, so that it can be read row by row."""
    dtype = getattr(X, "dtype", None)
    return (
        not isinstance(X, np.ndarray)
        and isinstance(dtype, np.dtype)
        and dtype.kind in "biu"
        and hasattr(X, "__getitem__")
        and 2 <= len(getattr(X, "shape", ())) <= 4
    )


class RowReader:
    """Flattened rows of an array-like that is read by index, not loaded.

    ``reader[rows]`` reads the rows (a slice, or an array of row numbers) of
    the array-like and returns them as a 2-D NumPy array; row numbers are
    asked for in increasing order, each once, as h5py datasets require.
    ``np.asarray(reader)`` reads every row.

    Parameters
    ----------
    source : array-like
        Has ``shape`` (2 to 4 dimensions), a NumPy ``dtype`` and
        ``__getitem__`` taking a slice or a sorted array of row numbers.
    """

    ndim = 2

    def __init__(self, source):
        self.source = source
        self.shape = (int(source.shape[0]), math.prod(int(s) for s in source.shape[1:]))
        self.dtype = source.dtype
        if min(self.shape) < 1:
            raise ValueError(
                f"X must hold at least one sample and one value per sample; its shape is "
                f"{tuple(source.shape)}."
            )

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        if isinstance(rows, slice):
            block = np.asarray(self.source[rows])
        else:
            unique, inverse = np.unique(rows, return_inverse=True)
            block = np.asarray(self.source[unique])[inverse]
        return block.reshape(len(block), self.shape[1])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return np.asarray(self[:], dtype=dtype)


def row_batches(n_rows: int, batch_size: int) -> Iterator[slice]:
    """Slices of at most ``batch_size`` consecutive rows covering ``range(n_rows)``; none for 0."""
    return (slice(start, start + batch_size) for start in range(0, n_rows, batch_size))


def value_range(X) -> tuple:
    """Smallest and largest value of ``X``, read :data:`INFERENCE_BATCH_SIZE` rows at a time.

    Neither a memory-mapped array nor a :class:`RowReader` is loaded whole.
    """
    lows, highs = [], []
    for rows in row_batches(len(X), INFERENCE_BATCH_SIZE):
        block = np.asarray(X[rows])
        lows.append(block.min())
        highs.append(block.max())
    return min(lows), max(highs)


def _check_numeric_values(array: np.ndarray) -> None:
    """Raise unless ``array`` holds real numbers, or objects that all convert to floats."""
    if _holds_numbers(array.dtype, array):
        return
    message = f"X must hold real numbers (booleans, integers or floats); got dtype {array.dtype}"
    error_type = ValueError
    if array.dtype.kind == "c":
        message = f"Complex data not supported: {message}"
    if array.dtype.kind == "O":
        value, error = _first_non_number(array)
        message += f" holding {value!r} ({error})"
        error_type = type(error)  # TypeError for objects that are not even strings
    if array.dtype.kind in "OSU":
        message += (
            ". Encode categories as numbers first, for instance with "
            "sklearn.preprocessing.OneHotEncoder"
        )
    raise error_type(message + ".")


def _check_numeric_columns(frame) -> None:
    """Raise unless every column of the data frame holds real numbers.

    Categorical, string and date columns are refused even when their values
    look like numbers: new samples between categories have no meaning.
    """
    bad = [
        f"{name!r} ({dtype})"
        for name, dtype in frame.dtypes.items()
        if not _holds_numbers(dtype, frame[name])
    ]
    if bad:
        raise ValueError(
            f"X must hold numbers, but these columns do not: {', '.join(bad)}. "
            "Encode categorical columns as numbers first, for instance with "
            "sklearn.preprocessing.OneHotEncoder, or drop them."
        )


def _holds_numbers(dtype, values) -> bool:
    """Whether ``values`` of ``dtype`` (numpy's or pandas') are booleans, integers or floats.

    Values of numpy's object dtype pass when they all convert to floats.
    """
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        return _first_non_number(np.asarray(values)) is None
    return getattr(dtype, "kind", "O") in "biuf"


def _first_non_number(array: np.ndarray) -> tuple[object, Exception] | None:
    """The first value that does not convert to a float and the error, or ``None``."""
    for value in array.flat:
        try:
            float(value)
        except (TypeError, ValueError) as error:
            return value, error
    return None


def resolve_image_shape(
    n_features: int,
    sample_shape: tuple[int, ...] | None,
    image_shape: Sequence[int] | None,
    architecture: str,
    *,
    X=None,
) -> tuple[int, int, int] | None:
    """Return ``(channels, height, width)``, or ``None`` when the data are a table.

    Images are recognised from what the user said: ``architecture="conv"``,
    an ``image_shape``, or samples given as ``(n, H, W)`` / ``(n, C, H, W)``
    arrays. With ``architecture="auto"`` and none of these, a 2-D ``X`` whose
    width is a square of at least :data:`MIN_INFERRED_SIDE` squared (64, 81,
    ..., 784) is read as square single-channel images only if it is not a
    data frame and has no negative value, and a warning announces it.

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
    X : array-like or data frame, default=None
        The samples as the user gave them, to tell a table from images under
        ``architecture="auto"``; when ``None``, the width alone decides.

    Raises
    ------
    ValueError
        When ``image_shape`` is malformed, does not hold ``n_features``
        values or disagrees with ``sample_shape``, or when
        ``architecture="conv"`` and the shape of the images cannot be told.
    """
    if architecture == "dense":
        return None
    if image_shape is not None:
        shape = _check_image_shape(image_shape, n_features)
        if sample_shape is not None and _with_channels(sample_shape) != shape:
            raise ValueError(
                f"image_shape={tuple(image_shape)} does not match the shape "
                f"{tuple(sample_shape)} of the samples of X; leave image_shape=None "
                "for image arrays, or give X as (n_samples, n_features) rows."
            )
        return shape
    if sample_shape is not None:
        return _with_channels(sample_shape)
    side = math.isqrt(n_features)
    is_square = side * side == n_features
    if architecture == "conv":
        if not is_square:
            raise ValueError(
                f"X has {n_features} features, which is not a square single-channel image; "
                "pass image_shape=(height, width) or (channels, height, width), or use "
                "architecture='dense' for data that are not images."
            )
        return (1, side, side)
    if not is_square or side < MIN_INFERRED_SIDE or hasattr(X, "columns"):
        return None
    if X is not None and value_range(X)[0] < 0:
        return None
    warn(
        f"X has {n_features} features per sample and no negative value, so it is read "
        f"as {side}x{side} single-channel images (architecture='auto'), without the "
        "default rotations and shifts, which only declared images get. Pass "
        f"image_shape=({side}, {side}), or X of shape (n_samples, {side}, {side}), to "
        "declare them; use architecture='dense' if X is a table."
    )
    return (1, side, side)


def _check_image_shape(image_shape: Sequence[int], n_features: int) -> tuple[int, int, int]:
    """``image_shape`` as ``(channels, height, width)``, checked against ``n_features``."""
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
    return _with_channels(shape)


def _with_channels(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """``(H, W)`` as ``(1, H, W)``; ``(C, H, W)`` unchanged."""
    return tuple(int(s) for s in ((1, *shape) if len(shape) == 2 else shape))


def standard_scaling(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation, with 1 for constant features.

    float16 data are computed with in float32: their sums of squares overflow.
    """
    if X.dtype == np.float16:
        X = X.astype(np.float32)
    scale = X.std(axis=0)
    return X.mean(axis=0), np.where(scale > 0, scale, 1.0)
