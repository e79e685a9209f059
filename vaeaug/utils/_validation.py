"""Input validation: numbers only, image arrays flattened to rows, rows read a batch at a time."""

from __future__ import annotations

import math
from collections.abc import Iterator
from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.utils._param_validation import Interval

#: The largest float32: the networks compute in float32, where larger values
#: overflow to infinity and give NaN.
FLOAT32_MAX = float(np.finfo(np.float32).max)
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


def standard_scaling(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation, with 1 for constant features.

    float16 data are computed with in float32: their sums of squares overflow.
    """
    if X.dtype == np.float16:
        X = X.astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # refused below, by column
        mean, scale = X.mean(axis=0), X.std(axis=0)
    overflowed = ~(np.isfinite(mean) & np.isfinite(scale))
    if overflowed.any():
        column = int(np.flatnonzero(overflowed)[0])
        raise ValueError(
            f"X's column {column} is too large to standardise (its largest magnitude is "
            f"{np.abs(X[:, column]).max():.4g}): its mean or standard deviation overflows "
            f"{X.dtype}. Rescale it first."
        )
    return mean, np.where(scale > 0, scale, 1.0)


def standardise(X: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(X - mean) / scale`` in float32, in which the networks compute.

    Raises ValueError, naming the value and its column, where a standardised
    value is out of float32's range.
    """
    with np.errstate(over="ignore"):  # refused below, by name
        x = ((X - mean) / scale).astype(np.float32)
    if not np.isfinite(x).all():
        row, column = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(
            f"X holds {X[row, column].item()!r} in column {column}, which, standardised with the "
            f"training data's mean {mean[column]:.6g} and scale {scale[column]:.6g}, is out of "
            f"float32's range (+-{FLOAT32_MAX:.4g}), in which the network computes."
        )
    return x


class IntegerInterval(Interval):
    """An :class:`~sklearn.utils._param_validation.Interval` of ints that refuses booleans.

    ``True`` is an :class:`~numbers.Integral`, so scikit-learn's interval of
    integers takes it, and ``batch_size=True`` would reach torch as 1.
    """

    def __init__(self, left: int | None, right: int | None, *, closed: str):
        super().__init__(Integral, left, right, closed=closed)

    def is_satisfied_by(self, val) -> bool:
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


def check_float32_range(values: np.ndarray, name: str) -> None:
    """Raise ValueError if ``values`` holds a number out of float32's range, as ``name``."""
    if values.dtype.kind != "f" or values.dtype.itemsize <= 4 or values.size == 0:
        return
    low, high = values.min(), values.max()
    if -FLOAT32_MAX <= low and high <= FLOAT32_MAX:
        return
    value = high if high > FLOAT32_MAX else low
    raise ValueError(
        f"{name} holds {float(value)!r}, out of float32's range (+-{FLOAT32_MAX:.4g}), in "
        "which the VAE computes."
    )


def holds_str_labels(y: np.ndarray) -> bool:
    """Whether the labels ``y`` are strings (of a str dtype, or objects among which a str)."""
    return y.dtype.kind in "US" or (
        y.dtype.kind == "O" and any(isinstance(item, str) for item in y)
    )


def unlabelled_mask(y, unlabeled_label: int | str) -> np.ndarray:
    """Mask of the rows of ``y`` labelled ``unlabeled_label``.

    Raises ValueError when ``unlabeled_label`` is a str and the labels are
    numbers, or the other way round: it would match no row.
    """
    y = np.asarray(y)
    strings = holds_str_labels(y)
    if isinstance(unlabeled_label, str) != strings:
        held = "str labels" if strings else "numeric labels"
        kind = "a str" if isinstance(unlabeled_label, str) else "a number"
        raise ValueError(
            f"unlabeled_label={unlabeled_label!r} is {kind}, but y holds {held} (dtype "
            f"{y.dtype}): it would match no row. Give the label of the unlabelled rows as it "
            "is in y."
        )
    return np.asarray(y == unlabeled_label, dtype=bool)
