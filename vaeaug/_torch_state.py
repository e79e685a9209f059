"""Pickling of estimators that hold a fitted torch module."""

from __future__ import annotations

import copy

import torch


class TorchStateMixin:
    """Pickle ``module_`` on the CPU and unpickle on the CPU where CUDA is missing.

    The estimator must set ``module_`` and ``device_`` in ``fit``.
    """

    def __getstate__(self):
        state = super().__getstate__()
        if "module_" in state and self.device_.type != "cpu":
            state["module_"] = copy.deepcopy(self.module_).cpu()
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "module_" in state:
            if self.device_.type == "cuda" and not torch.cuda.is_available():
                self.device_ = torch.device("cpu")
            self.module_.to(self.device_)
