"""Devices: the ``device`` parameter resolved, and a fitted model's device where it is missing."""

from __future__ import annotations

import torch

from ..utils._warnings import warn

#: The device types vaeaug is made for. Others (``"meta"``, ``"xla"``,
#: ``"hpu"``...) would make torch try their backends when a network is moved
#: there, or, for ``"meta"``, drop the weights.
DEVICE_TYPES = ("cpu", "cuda", "mps")


def available_device(device: torch.device, what: str) -> torch.device:
    """Return ``device`` if this machine has it, else the CPU with a warning.

    Parameters
    ----------
    device : torch.device
        The device a model was fitted on.
    what : str
        The model, for the warning, such as ``"This VAE"``.

    Returns
    -------
    device : torch.device
        ``device``, or the CPU when ``device`` is a CUDA device that is
        missing (no CUDA, or an index beyond the devices present) or the MPS
        device without MPS.
    """
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        missing = (device.index or 0) >= count
        reason = f"it has {count} CUDA devices"
    elif device.type == "mps":
        missing = not torch.backends.mps.is_available()
        reason = "MPS is not available"
    else:
        missing = False
    if not missing:
        return device
    warn(
        f"{what} was fitted on device {device}, which this machine does not have "
        f"({reason}); it is loaded on the CPU."
    )
    return torch.device("cpu")


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn the ``device`` parameter into a :class:`torch.device`.

    ``"auto"`` is ``"cuda"``, the current CUDA device (the first the process
    sees, so a worker's own GPU under ``CUDA_VISIBLE_DEVICES``), when CUDA is
    available, else ``"cpu"``.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device={device!r} is not a torch device: {exc}") from None
    if resolved.type not in DEVICE_TYPES:
        raise ValueError(
            f"device={device!r} is not supported: use 'auto', 'cpu', 'cuda' (or 'cuda:N') or 'mps'."
        )
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available.")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} was requested but MPS is not available.")
    return resolved
