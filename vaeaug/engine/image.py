"""Image kernels: small random rotations and shifts (affine jitter) of image batches."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from ..utils._layout import DataLayout
from ..utils._validation import row_batches

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
    out = np.empty(images.shape, dtype=np.float32)
    for rows in row_batches(len(images), batch_size):
        out[rows] = jitter_tensor(
            torch.as_tensor(images[rows], dtype=torch.float32),
            torch.as_tensor(angles[rows], dtype=torch.float64),
            torch.as_tensor(shifts[rows], dtype=torch.float64),
        ).numpy()
    return out


def jitter_tensor(images: torch.Tensor, angles: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """:func:`affine_jitter` of a batch of images held as a tensor, on its device.

    Parameters
    ----------
    images : Tensor of shape (n, C, H, W)
        Images; the background is taken to be 0.
    angles : Tensor of shape (n,)
        Counter-clockwise rotations in degrees, on the images' device.
    shifts : Tensor of shape (n, 2)
        Shifts in pixels, ``(right, down)``, of the dtype of ``angles``. The
        transforms are built in that dtype (float64 keeps them exact), then
        cast to the images'.

    Returns
    -------
    jittered : Tensor of shape (n, C, H, W)
    """
    height, width = images.shape[-2:]
    theta = torch.deg2rad(angles)
    cos, sin = torch.cos(theta), torch.sin(theta)
    # affine_grid maps output to input in coordinates normalised to [-1, 1] per
    # axis; conjugating by the pixel scale keeps rotations of non-square images rigid.
    half_width, half_height = width / 2, height / 2
    linear = torch.stack(
        [
            torch.stack([cos, -sin * half_height / half_width], dim=1),
            torch.stack([sin * half_width / half_height, cos], dim=1),
        ],
        dim=1,
    )
    # The shift is undone with the linear part as rounded to the images' dtype,
    # the matrix that is applied.
    linear = linear.to(images.dtype)
    normalised_shifts = shifts / shifts.new_tensor([half_width, half_height])
    inverse_shift = -torch.einsum("nij,nj->ni", linear.to(shifts.dtype), normalised_shifts)
    matrices = torch.cat([linear, inverse_shift[:, :, None].to(images.dtype)], dim=2)
    grid = F.affine_grid(matrices, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, align_corners=False)


def resolve_jitter(
    max_rotation: float | str,
    max_shift: float | str,
    layout: DataLayout,
    names: tuple[str, str] = ("max_rotation", "max_shift"),
) -> tuple[float, float]:
    """Jitter bounds with ``"auto"`` resolved for samples laid out as ``layout``.

    ``"auto"`` is :data:`MAX_ROTATION` degrees and :data:`MAX_SHIFT` pixels
    for images of at least 28 pixels a side, the same fraction of the side
    for smaller ones, and no jitter for tables: a table of counts must never
    be rotated by default.

    Parameters
    ----------
    max_rotation, max_shift : float or "auto"
        The bounds as the user gave them.
    layout : DataLayout
        The layout of the samples, see :func:`vaeaug.utils.decide_layout`.
    names : tuple of str, default=("max_rotation", "max_shift")
        The parameters' names, for the error message.

    Returns
    -------
    max_rotation, max_shift : float
        Degrees and pixels; ``(0.0, 0.0)`` for tables.

    Raises
    ------
    ValueError
        When a bound is explicitly positive for a table; ``names`` are the
        parameters named in the message.
    """
    if layout.image_shape is None:
        refuse_table_jitter(max_rotation, max_shift, names)
        return 0.0, 0.0
    # The shift was measured on 28x28 and 70x70 images; smaller ones get the
    # same fraction of their side as 28x28 ones.
    auto = (MAX_ROTATION, MAX_SHIFT * min(1.0, min(layout.image_shape[-2:]) / 28))
    rotation, shift = (
        default if value == "auto" else float(value)
        for value, default in zip((max_rotation, max_shift), auto, strict=True)
    )
    return rotation, shift


def refuse_table_jitter(
    max_rotation: float | str,
    max_shift: float | str,
    names: tuple[str, str] = ("max_rotation", "max_shift"),
) -> None:
    """Raise ValueError when a jitter bound is explicitly positive for samples that are a table."""
    bounds = dict(zip(names, (max_rotation, max_shift), strict=True))
    explicit = {name: value for name, value in bounds.items() if value != "auto" and value > 0}
    if explicit:
        raise ValueError(
            f"{' and '.join(f'{k}={v}' for k, v in explicit.items())} jitter images, but "
            "the VAE treats X as a table (architecture='dense'); leave them at 'auto' "
            "or set them to 0."
        )


def random_jitter(
    images: torch.Tensor,
    max_rotation: float,
    max_shift: float,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Jitter each image of a batch by a uniform random rotation and shift.

    Draws on the images' device, so that it can augment training batches,
    with the bounds of :func:`draw_jitter`.

    Parameters
    ----------
    images : Tensor of shape (n, C, H, W)
        Images; the background is taken to be 0.
    max_rotation : float
        Angles are uniform in ``[-max_rotation, max_rotation]`` degrees.
    max_shift : float
        Shifts are uniform in ``[-max_shift, max_shift]`` pixels along each axis.
    generator : torch.Generator, default=None
        Source of the draws, on the images' device; torch's default generator
        when ``None``.

    Returns
    -------
    jittered : Tensor of shape (n, C, H, W)
    """
    n = len(images)
    options = dict(dtype=torch.float64, device=images.device, generator=generator)
    angles = (2 * torch.rand(n, **options) - 1) * max_rotation
    shifts = (2 * torch.rand(n, 2, **options) - 1) * max_shift
    return jitter_tensor(images, angles, shifts)


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
