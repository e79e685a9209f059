"""Classic affine jitter of images (small random rotations and shifts), as a sampler."""

from __future__ import annotations

from numbers import Real

import numpy as np
from imblearn.utils import Substitution
from sklearn.utils._param_validation import Interval

from ..engine.image import BATCH_SIZE, MAX_ROTATION, MAX_SHIFT, affine_jitter, draw_jitter
from ..utils._docstrings import AMOUNT_PARAMETERS
from ..utils._layout import declared_image_shape
from ..utils._validation import row_batches
from ._base import ATTRIBUTES_DOC, BaseAugmenter, Samples, SamplingStrategy


@Substitution(amount_parameters=AMOUNT_PARAMETERS, attributes=ATTRIBUTES_DOC)
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
        sampling_strategy: SamplingStrategy = None,
        unlabeled_label: int | str | None = None,
        random_state: int | np.random.RandomState | None = None,
    ):
        self.max_rotation = max_rotation
        self.max_shift = max_shift
        self.image_shape = image_shape
        self.n_per_sample = n_per_sample
        self.sampling_strategy = sampling_strategy
        self.unlabeled_label = unlabeled_label
        self.random_state = random_state

    def _fit_generator(self, samples: Samples, random_state: np.random.RandomState) -> None:
        self.image_shape_ = declared_image_shape(
            samples.X.shape[1], samples.sample_shape, self.image_shape
        )

    def _make_samples(self, X, y, counts, random_state):
        base = np.repeat(np.arange(len(X)), counts)
        angles, shifts = draw_jitter(len(base), self.max_rotation, self.max_shift, random_state)
        chunks = (
            affine_jitter(X[base[rows]].reshape(-1, *self.image_shape_), angles[rows], shifts[rows])
            for rows in row_batches(len(base), BATCH_SIZE)
        )
        return base, np.full(len(base), -1), chunks
