"""Classic affine jitter of images (small random rotations and shifts), as a sampler."""

from __future__ import annotations

from numbers import Real

import numpy as np
import torch
from sklearn.utils import gen_batches
from sklearn.utils._param_validation import Interval
from torch.nn import functional as F

from ._base import ATTRIBUTES_DOC, BaseAugmenter
from ._docstrings import AMOUNT_PARAMETERS, substitute
from ._input import resolve_image_shape

#: Images transformed at once (bounds memory).
BATCH_SIZE = 4096
#: Default largest rotation (degrees) and shift (pixels) of the jitter.
MAX_ROTATION = 10.0
MAX_SHIFT = 2.0


def affine_jitter(
    images: np.ndarray, angles: np.ndarray, shifts: np.ndarray, *, batch_size: int = BATCH_SIZE
) -> np.ndarray:
    """Rotate images about their centre and shift them, with bilinear interpolation.

    Parameters
    ----------
    images : ndarray of shape (n, C, H, W)
        Images; the background is taken to be 0.
    angles : ndarray of shape (n,)
        Counter-clockwise rotations in degrees.
    shifts : ndarray of shape (n, 2)
        Shifts in pixels, ``(right, down)``.
    batch_size : int, default=4096
        Images transformed at once (bounds memory).

    Returns
    -------
    jittered : ndarray of shape (n, C, H, W), float32
    """
    _, _, height, width = images.shape
    theta = np.radians(angles)
    cos, sin = np.cos(theta), np.sin(theta)
    # affine_grid maps output to input in coordinates normalised to [-1, 1] per
    # axis; conjugating by the pixel scale keeps rotations of non-square images rigid.
    half = np.array([width / 2, height / 2])
    matrices = np.empty((len(images), 2, 3), dtype=np.float32)
    matrices[:, 0, 0] = cos
    matrices[:, 0, 1] = -sin * half[1] / half[0]
    matrices[:, 1, 0] = sin * half[0] / half[1]
    matrices[:, 1, 1] = cos
    inverse_shift = -np.einsum("nij,nj->ni", matrices[:, :, :2], shifts / half)
    matrices[:, :, 2] = inverse_shift
    out = np.empty(images.shape, dtype=np.float32)
    for start in range(0, len(images), batch_size):
        stop = start + batch_size
        x = torch.as_tensor(images[start:stop], dtype=torch.float32)
        grid = F.affine_grid(torch.from_numpy(matrices[start:stop]), list(x.shape), False)
        out[start:stop] = F.grid_sample(x, grid, align_corners=False).numpy()
    return out


def draw_jitter(
    n: int, max_rotation: float, max_shift: float, random_state: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray]:
    """Draw uniform rotations and shifts for :func:`affine_jitter`.

    Returns
    -------
    angles : ndarray of shape (n,)
        Degrees, uniform in ``[-max_rotation, max_rotation]``.
    shifts : ndarray of shape (n, 2)
        Pixels, uniform in ``[-max_shift, max_shift]`` along each axis.
    """
    angles = random_state.uniform(-max_rotation, max_rotation, n)
    shifts = random_state.uniform(-max_shift, max_shift, (n, 2))
    return angles, shifts


@substitute(amount_parameters=AMOUNT_PARAMETERS, attributes=ATTRIBUTES_DOC)
class AffineJitterAugmenter(BaseAugmenter):
    """Augment images with small random rotations and shifts.

    Each new image is an original rotated by an angle drawn uniformly from
    ``[-max_rotation, max_rotation]`` degrees and shifted by offsets drawn
    uniformly from ``[-max_shift, max_shift]`` pixels along each axis
    (bilinear interpolation, background 0). It is the classic baseline that a
    generative augmenter has to beat.

    Parameters
    ----------
    max_rotation : float, default=10.0
        Largest rotation in degrees.

    max_shift : float, default=2.0
        Largest shift in pixels along each axis.

    image_shape : tuple of int, default=None
        ``(height, width)`` or ``(channels, height, width)`` of the images
        when ``X`` holds flattened rows that are not square single-channel
        images.

    {amount_parameters}

    random_state : int, RandomState instance or None, default=None
        Seeds the angles, the shifts and the sharing of new samples.

    Attributes
    ----------
    image_shape_ : tuple of int
        ``(channels, height, width)`` of the images.
    {attributes}
    """

    _parameter_constraints: dict = {
        **BaseAugmenter._parameter_constraints,
        "max_rotation": [Interval(Real, 0, 180, closed="both")],
        "max_shift": [Interval(Real, 0, None, closed="left")],
        "image_shape": ["array-like", None],
    }

    def __init__(
        self,
        *,
        max_rotation: float = MAX_ROTATION,
        max_shift: float = MAX_SHIFT,
        image_shape: tuple[int, ...] | None = None,
        n_per_sample: int = 3,
        sampling_strategy=None,
        random_state=None,
    ):
        self.max_rotation = max_rotation
        self.max_shift = max_shift
        self.image_shape = image_shape
        self.n_per_sample = n_per_sample
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state

    def _fit_generator(self, X, y, sample_shape, random_state):
        self.image_shape_ = resolve_image_shape(X.shape[1], sample_shape, self.image_shape, "conv")

    def _make_samples(self, X, y, counts, random_state):
        base = np.repeat(np.arange(len(X)), counts)
        angles, shifts = draw_jitter(len(base), self.max_rotation, self.max_shift, random_state)
        chunks = (
            affine_jitter(X[base[rows]].reshape(-1, *self.image_shape_), angles[rows], shifts[rows])
            for rows in gen_batches(len(base), BATCH_SIZE)
        )
        return base, np.full(len(base), -1), chunks
