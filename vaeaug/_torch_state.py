"""Pickling of estimators that hold a fitted torch module."""

from __future__ import annotations

import copy

import torch

from ._warnings import warn


class TorchStateMixin:
    """Pickle ``module_`` on the CPU; unpickle it on the CPU where its device is missing.

    The estimator must set ``module_`` and ``device_`` in ``fit``. The live
    estimator is left as it is: a model fitted on a GPU stays there.
    """

    def __getstate__(self):
        # From Python 3.11 the base class returns the instance's own __dict__:
        # replacing an entry in it would move the live estimator's module.
        state = dict(super().__getstate__())
        if "module_" in state and self.device_.type != "cpu":
            state["module_"] = copy.deepcopy(self.module_).cpu()
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "module_" in state:
            self.device_ = available_device(self.device_, f"This {type(self).__name__}")
            self.module_.to(self.device_)


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
