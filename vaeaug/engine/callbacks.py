"""Training callbacks: hooks called by :func:`vaeaug.engine.training.train_module`.

A callback sees the network and the history (a list with one dict per epoch)
and can stop training by returning ``True`` from :meth:`Callback.on_epoch_end`.
"""

from __future__ import annotations

import copy
import math

from torch import nn


class Callback:
    """Base class: override the hooks you need.

    ``on_train_end`` is the place to release what ``on_train_begin`` took
    (a progress bar, a saved state): it runs however training ends, also when
    training raises (Ctrl-C's ``KeyboardInterrupt``, divergence, another
    callback's exception). The exception then propagates, and an estimator's
    ``fit`` discards the network and keeps the estimator as it was before.
    """

    def on_train_begin(self, module: nn.Module) -> None:
        """Called once before the first epoch."""

    def on_epoch_end(self, module: nn.Module, history: list[dict]) -> bool | None:
        """Called after each epoch; return ``True`` to stop training."""

    def on_train_end(self, module: nn.Module, history: list[dict]) -> None:
        """Called once when training ends, also when a callback stopped it or it raised."""


class EarlyStopping(Callback):
    """Stop when a monitored validation loss stops improving; restore the best weights.

    Parameters
    ----------
    patience : int, default=5
        Number of epochs without improvement to wait before stopping.
    monitor : str, default="valid_reconstruction"
        Key of the history entry to minimise.
    min_delta : float, default=0.0
        Smallest decrease that counts as an improvement.
    restore_best : bool, default=True
        Whether to load the weights of the best epoch when training ends.

    Attributes
    ----------
    best_score_ : float
        The lowest value of ``monitor`` seen (``inf`` before the first epoch).
    best_epoch_ : int
        The epoch, counted from 1, that reached it (0 before the first epoch).
    """

    def __init__(
        self,
        patience: int = 5,
        monitor: str = "valid_reconstruction",
        min_delta: float = 0.0,
        restore_best: bool = True,
    ):
        self.patience = patience
        self.monitor = monitor
        self.min_delta = min_delta
        self.restore_best = restore_best

    def on_train_begin(self, module: nn.Module) -> None:
        self.best_score_ = math.inf
        self.best_epoch_ = 0
        self._best_state = None

    def on_epoch_end(self, module: nn.Module, history: list[dict]) -> bool:
        record = history[-1]
        if self.monitor not in record:
            raise KeyError(
                f"EarlyStopping monitors {self.monitor!r}, which the history does not "
                f"record; available keys: {sorted(record)}."
            )
        score = record[self.monitor]
        if score < self.best_score_ - self.min_delta:
            self.best_score_ = score
            self.best_epoch_ = record["epoch"]
            if self.restore_best:
                self._best_state = copy.deepcopy(module.state_dict())
        return record["epoch"] - self.best_epoch_ >= self.patience

    def on_train_end(self, module: nn.Module, history: list[dict]) -> None:
        if self._best_state is not None:
            module.load_state_dict(self._best_state)
        self._best_state = None


class ProgressBar(Callback):
    """Show a tqdm progress bar over epochs with the latest losses.

    Parameters
    ----------
    description : str, default="training"
        The bar's label; the estimators name the model that trains.
    """

    def __init__(self, description: str = "training"):
        self.description = description

    def on_train_begin(self, module: nn.Module) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(desc=self.description, unit="epoch")

    def on_epoch_end(self, module: nn.Module, history: list[dict]) -> None:
        record = history[-1]
        self._bar.set_postfix(
            {k: f"{v:.2f}" for k, v in record.items() if k.endswith("loss")}, refresh=False
        )
        self._bar.update()

    def on_train_end(self, module: nn.Module, history: list[dict]) -> None:
        self._bar.close()
