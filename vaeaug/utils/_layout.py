"""How a VAE's samples are laid out (an image or a table, their shape and scale), decided once."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ._validation import check_float32_range, value_range
from ._warnings import warn

#: Smallest side of a square image inferred from the number of features.
MIN_INFERRED_SIDE = 8
#: Mean correlation of neighbouring pixels that flat rows need to be read as
#: images, and by how much it must exceed that of pixels half a row apart
#: (MNIST: 0.71 against 0.05; scikit-learn's 8x8 digits: 0.33 against 0.07;
#: smooth 1-D signals fail the second test; docs/results.md, "Flat rows read
#: as images").
NEIGHBOUR_CORRELATION = 0.2
NEIGHBOUR_MARGIN = 0.15
#: Channel counts of grey, colour and colour-with-alpha images, to recognise
#: channels-last arrays.
_CHANNEL_COUNTS = (1, 3, 4)


@dataclass(frozen=True)
class DataLayout:
    """The layout of the samples a :class:`~vaeaug.VAE` was fitted on.

    Decided once per fit by :func:`decide_layout` and kept as the VAE's
    ``layout_``; the augmenters and the jitter read it rather than looking at
    the data again.

    Parameters
    ----------
    sample_shape : tuple of int
        One sample as given to ``fit``: ``(n_features,)``, ``(H, W)`` or
        ``(C, H, W)``; decoded samples come back in it.
    image_shape : tuple of 3 int or None
        ``(channels, height, width)`` of images; ``None`` for a table.
    pixel_max : float or None
        Full intensity of images (1 for values in [0, 1], else the largest
        value seen); ``None`` for tables.
    """

    sample_shape: tuple[int, ...]
    image_shape: tuple[int, int, int] | None
    pixel_max: float | None = None

    #: Fields of earlier model files that loading ignores: format version 2's
    #: ``declared`` (whether the user declared images; every image now gets
    #: ``"auto"`` jitter, since flat rows are only read as images when their
    #: pixels correlate as an image's do).
    _dropped_fields = ("declared",)

    @property
    def n_features(self) -> int:
        """Number of values per sample."""
        return math.prod(self.sample_shape)

    @property
    def is_image(self) -> bool:
        """Whether the samples are images."""
        return self.image_shape is not None


def decide_layout(
    X_2d,
    sample_shape: tuple[int, ...] | None,
    *,
    image_shape: Sequence[int] | None,
    architecture: str,
    tabular: bool = False,
) -> DataLayout:
    """Decide whether the rows of ``X_2d`` are images, their shape and their pixel scale.

    Images are recognised from what the user said: ``architecture="conv"``,
    an ``image_shape``, or samples given as ``(n, H, W)`` / ``(n, C, H, W)``
    arrays. With ``architecture="auto"`` and none of these, flat rows are
    read as square single-channel images when they look like them: their
    width is a square of at least :data:`MIN_INFERRED_SIDE` squared (64,
    81, ..., 784), they are not ``tabular`` (a data frame), have no negative
    value, and their values correlate as an image's pixels do (see
    :func:`has_pixel_structure`). A warning announces it, once; other rows
    are a table.

    Parameters
    ----------
    X_2d : array-like of shape (n_samples, n_features)
        The samples as rows (read a batch at a time for the value range).
    sample_shape : tuple of int or None
        Shape of one sample when ``X`` was given as ``(n, H, W)`` or ``(n, C, H, W)``.
    image_shape : sequence of int or None
        The user's ``image_shape`` parameter: ``(H, W)`` or ``(C, H, W)``.
    architecture : {"auto", "conv", "dense"}
        The user's ``architecture`` parameter.
    tabular : bool, default=False
        Whether ``X`` was a data frame, which ``"auto"`` never reads as images.

    Returns
    -------
    layout : DataLayout

    Raises
    ------
    ValueError
        When ``image_shape`` is malformed, does not hold the number of
        features or disagrees with ``sample_shape``; when the samples look
        like channels-last images ``(n, H, W, 3)``; when
        ``architecture="conv"`` and the shape of the images cannot be told;
        when images have negative pixel values.
    """
    n_features = X_2d.shape[1]
    given_shape = tuple(sample_shape) if sample_shape is not None else (n_features,)
    pixel_range = functools.cache(lambda: value_range(X_2d))  # one pass over X at most
    shape = _image_shape(
        n_features,
        sample_shape,
        image_shape,
        architecture,
        pixel_range,
        tabular,
        pixel_structure=lambda side: has_pixel_structure(X_2d, side),
    )
    if shape is None:
        return DataLayout(given_shape, None)
    if architecture == "auto" and image_shape is None and sample_shape is None:
        side = shape[1]
        warn(
            f"X has {n_features} features per sample whose neighbouring values correlate "
            f"as an image's pixels do, so it is read as {side}x{side} single-channel images "
            "(architecture='auto'), with the default rotations and shifts. Pass "
            f"image_shape=({side}, {side}), or X of shape (n_samples, {side}, {side}), to "
            "declare them; use architecture='dense' if X is a table."
        )
    low, high = pixel_range()
    if low < 0:
        raise ValueError(
            f"Images must have non-negative pixel values; X has a minimum of {low}. "
            "For data that are not images use architecture='dense'."
        )
    check_float32_range(np.array([high]), "X")
    return DataLayout(given_shape, shape, pixel_max=1.0 if high <= 1 else float(high))


def declared_image_shape(
    n_features: int, sample_shape: tuple[int, ...] | None, image_shape: Sequence[int] | None
) -> tuple[int, int, int]:
    """``(channels, height, width)`` of samples known to be images (``architecture="conv"``).

    For samplers that only transform images (the affine jitter), which need
    no pixel scale: see :func:`decide_layout` for the rules and errors.
    """
    return _image_shape(
        n_features,
        sample_shape,
        image_shape,
        "conv",
        pixel_range=None,
        for_tables="this sampler transforms images only",
    )


def _image_shape(
    n_features: int,
    sample_shape: tuple[int, ...] | None,
    image_shape: Sequence[int] | None,
    architecture: str,
    pixel_range: Callable[[], tuple] | None,
    tabular: bool = False,
    pixel_structure: Callable[[int], bool] | None = None,
    for_tables: str = "use architecture='dense' for data that are not images",
) -> tuple[int, int, int] | None:
    """``(channels, height, width)`` of the samples, or ``None`` for a table.

    ``pixel_range`` and ``pixel_structure`` are only called for flat rows
    with ``architecture="auto"``; ``for_tables`` ends the error for rows
    that cannot be square images.
    """
    if architecture == "dense":
        return None
    if sample_shape is not None:
        _refuse_channels_last(sample_shape)
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
                "pass image_shape=(height, width) or (channels, height, width); "
                f"{for_tables}."
            )
        return (1, side, side)
    if (
        not is_square
        or side < MIN_INFERRED_SIDE
        or tabular
        or pixel_range()[0] < 0
        or not pixel_structure(side)
    ):
        return None
    return (1, side, side)


def has_pixel_structure(X_2d, side: int) -> bool:
    """Whether flat rows of ``side * side`` values correlate as the pixels of images do.

    In an image, a pixel correlates with its neighbours to the right and
    below (in flat rows: the next value and the one ``side`` values on),
    and much less with the pixel half a row away. A table's columns either
    do not correlate, or, when they are ordered (spectra, time series),
    correlate the less the further apart they are, so that the column
    ``side`` places on correlates less than the one ``side // 2`` on.
    Read on at most 1,000 evenly spaced rows, and at most 4 million values
    (fewer rows for large images).

    Parameters
    ----------
    X_2d : array-like of shape (n_samples, side * side)
        The rows, read by index.
    side : int
        The side of the square images the rows would be.

    Returns
    -------
    bool
        True when the mean correlation of neighbouring pixels along each
        axis is at least :data:`NEIGHBOUR_CORRELATION` and exceeds that of
        pixels half a row apart by :data:`NEIGHBOUR_MARGIN`; pixels that
        never change are left out.
    """
    right, below, half_row = pixel_correlations(X_2d, side)
    neighbours = min(right, below)
    return neighbours >= NEIGHBOUR_CORRELATION and neighbours - half_row >= NEIGHBOUR_MARGIN


def pixel_correlations(X_2d, side: int) -> tuple[float, float, float]:
    """Mean correlations that :func:`has_pixel_structure` reads: of each pixel with
    the one to its right, the one below it and the one half a row on."""
    # At most 4 million values, so that large images read few rows.
    n_rows = min(len(X_2d), 1_000, max(10, 2**22 // (side * side)))
    rows = np.unique(np.linspace(0, len(X_2d) - 1, n_rows).astype(np.intp))
    images = np.asarray(X_2d[rows], dtype=np.float32).reshape(len(rows), side, side)
    return (
        _mean_correlation(images, 0, 1),
        _mean_correlation(images, 1, 0),
        _mean_correlation(images, 0, side // 2),
    )


def _mean_correlation(images: np.ndarray, down: int, across: int) -> float:
    """Mean correlation over rows of each pixel with the one ``down`` and ``across`` from it."""
    side = images.shape[1]
    first = images[:, : side - down, : side - across].reshape(len(images), -1)
    second = images[:, down:, across:].reshape(len(images), -1)
    first, second = first - first.mean(0), second - second.mean(0)
    scale = np.sqrt((first**2).mean(0) * (second**2).mean(0))
    varying = scale > 0
    if not varying.any():
        return 0.0
    return float(((first * second).mean(0)[varying] / scale[varying]).mean())


def _refuse_channels_last(sample_shape: tuple[int, ...]) -> None:
    """Raise for ``(H, W, C)`` samples, which would be read as ``H`` channels of ``W x C``.

    Samples whose last axis has 1, 3 or 4 values and whose first has more
    than 4 are taken to be channels last.
    """
    if (
        len(sample_shape) == 3
        and sample_shape[-1] in _CHANNEL_COUNTS
        and sample_shape[0] > max(_CHANNEL_COUNTS)
    ):
        height, width, channels = sample_shape
        raise ValueError(
            f"X has samples of shape {tuple(sample_shape)}, which look like channels-last "
            f"images ({height}x{width} with {channels} channels); vaeaug takes images "
            "channels first, as (n_samples, channels, height, width). Pass "
            "X.transpose(0, 3, 1, 2)."
        )


def _check_image_shape(image_shape: Sequence[int], n_features: int) -> tuple[int, int, int]:
    """``image_shape`` as ``(channels, height, width)``, checked against ``n_features``."""
    shape = tuple(image_shape)
    if len(shape) not in (2, 3) or not all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in shape
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
    channels, height, width = (1, *shape) if len(shape) == 2 else shape
    return (int(channels), int(height), int(width))
