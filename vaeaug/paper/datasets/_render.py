"""Rasterise pen strokes into anti-aliased greyscale images."""

import operator
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

# Segments are cut into pieces at most this long (in pixels) so that every
# piece only touches a small, fixed-size window of pixels.
_MAX_PIECE_LENGTH = 2.0


def render_strokes(
    strokes: Sequence[ArrayLike],
    size: int = 70,
    *,
    line_width: float | None = None,
    margin: float | None = None,
) -> np.ndarray:
    """Render pen strokes as a square greyscale image.

    The drawing is scaled, keeping its aspect ratio, so that the longer side of
    its bounding box spans ``size - 2 * margin`` pixels, and centred. Each
    stroke is drawn as a polyline of width ``line_width`` whose edge fades out
    linearly over one pixel (anti-aliasing); a stroke of one point is a dot.

    Parameters
    ----------
    strokes : sequence of array-like of shape (n_points, 2)
        The strokes, as (x, y) points with x to the right and y downwards (the
        convention of pen tablets and images).
    size : int, default=70
        Height and width of the image in pixels.
    line_width : float, default=None
        Width of the lines in pixels. None means ``size / 20`` (3.5 pixels for
        a 70-pixel image).
    margin : float, default=None
        Minimum empty border, in pixels, between the drawing's bounding box
        (stroke centres) and the image edge. None means ``size / 10``.

    Returns
    -------
    image : ndarray of shape (size, size), dtype float32
        Ink is 1.0 and background 0.0; row 0 is the top.

    Raises
    ------
    ValueError
        If ``strokes`` is empty or a stroke is not a non-empty array of finite
        (x, y) points, or if a size parameter is out of range.

    Examples
    --------
    >>> from vaeaug.paper.datasets import render_strokes
    >>> plus = render_strokes([[(0, 50), (100, 50)], [(50, 0), (50, 100)]], size=28)
    >>> plus.shape, plus.dtype
    ((28, 28), dtype('float32'))
    """
    size = operator.index(size)
    line_width = size / 20 if line_width is None else float(line_width)
    margin = size / 10 if margin is None else float(margin)
    if size < 1:
        raise ValueError(f"size must be a positive integer, got {size}.")
    if not line_width > 0:
        raise ValueError(f"line_width must be positive, got {line_width}.")
    if not 0 <= margin < size / 2:
        raise ValueError(f"margin must be in [0, size / 2), got {margin} for size {size}.")

    starts, ends = _segments(strokes)
    points = np.concatenate([starts, ends])
    low, high = points.min(axis=0), points.max(axis=0)
    extent = (high - low).max()
    scale = (size - 2 * margin) / extent if extent > 0 else 1.0
    shift = size / 2 - (low + high) / 2 * scale
    starts, ends = _split_long_segments(starts * scale + shift, ends * scale + shift)
    return _draw_segments(starts, ends, size, line_width)


def _segments(strokes: Sequence[ArrayLike]) -> tuple[np.ndarray, np.ndarray]:
    """Start and end points of every segment; a one-point stroke is a zero-length segment."""
    if len(strokes) == 0:
        raise ValueError("strokes is empty: expected at least one stroke.")
    starts, ends = [], []
    for number, stroke in enumerate(strokes):
        points = np.asarray(stroke, dtype=float)
        if points.ndim != 2 or points.shape[0] == 0 or points.shape[1] != 2:
            raise ValueError(
                f"Stroke {number} has shape {points.shape}: expected (n_points, 2) "
                "with n_points >= 1."
            )
        if not np.isfinite(points).all():
            raise ValueError(f"Stroke {number} has non-finite coordinates.")
        moved = np.any(points[1:] != points[:-1], axis=1)
        points = points[np.r_[True, moved]]  # drop repeated points
        if len(points) == 1:
            starts.append(points)
            ends.append(points)
        else:
            starts.append(points[:-1])
            ends.append(points[1:])
    return np.concatenate(starts), np.concatenate(ends)


def _split_long_segments(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut segments into equal pieces no longer than ``_MAX_PIECE_LENGTH``."""
    lengths = np.linalg.norm(ends - starts, axis=1)
    n_pieces = np.maximum(np.ceil(lengths / _MAX_PIECE_LENGTH).astype(int), 1)
    segment = np.repeat(np.arange(len(starts)), n_pieces)
    first_piece = np.cumsum(n_pieces) - n_pieces
    piece = np.arange(len(segment)) - first_piece[segment]
    direction = (ends - starts)[segment] / n_pieces[segment, None]
    piece_starts = starts[segment] + direction * piece[:, None]
    return piece_starts, piece_starts + direction


def _draw_segments(
    starts: np.ndarray, ends: np.ndarray, size: int, line_width: float
) -> np.ndarray:
    """Draw short segments, each within a fixed window of pixels around its middle."""
    reach = _MAX_PIECE_LENGTH / 2 + line_width / 2 + 0.5  # farthest pixel centre with ink
    radius = int(np.ceil(reach)) + 1
    offsets = np.arange(-radius, radius + 1)
    middle = np.floor((starts + ends) / 2).astype(int)
    # Pixel (row, col) has its centre at (x, y) = (col + 0.5, row + 0.5).
    cols = middle[:, 0, None, None] + offsets[None, None, :]
    rows = middle[:, 1, None, None] + offsets[None, :, None]
    delta = ends - starts
    length2 = np.einsum("ij,ij->i", delta, delta)
    from_start_x = cols + 0.5 - starts[:, 0, None, None]
    from_start_y = rows + 0.5 - starts[:, 1, None, None]
    along = from_start_x * delta[:, 0, None, None] + from_start_y * delta[:, 1, None, None]
    along = np.clip(along / np.where(length2 > 0, length2, 1)[:, None, None], 0, 1)
    distance = np.hypot(
        from_start_x - along * delta[:, 0, None, None],
        from_start_y - along * delta[:, 1, None, None],
    )
    ink = np.clip(line_width / 2 + 0.5 - distance, 0, 1)
    rows, cols = np.broadcast_arrays(rows, cols)
    inside = (ink > 0) & (rows >= 0) & (rows < size) & (cols >= 0) & (cols < size)
    image = np.zeros(size * size, dtype=np.float32)
    np.maximum.at(image, rows[inside] * size + cols[inside], ink[inside].astype(np.float32))
    return image.reshape(size, size)
