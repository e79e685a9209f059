"""The VAE training loop: Adam on mini-batches, with callbacks."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from .callbacks import Callback
from .network import VariationalAutoencoder, elbo_loss


@contextlib.contextmanager
def seeded_torch(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch inside the block and restore the global random state afterwards."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def split_validation(
    n_samples: int, validation_fraction: float, rng: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``range(n_samples)`` into training and validation indices.

    At least one sample is held out when ``validation_fraction > 0`` and there
    are two samples or more; none otherwise.
    """
    order = rng.permutation(n_samples)
    n_valid = 0
    if validation_fraction > 0 and n_samples > 1:
        n_valid = min(max(1, round(validation_fraction * n_samples)), n_samples - 1)
    return order[n_valid:], order[:n_valid]


def _mean_losses(
    module: VariationalAutoencoder, x: torch.Tensor, likelihood: str, batch_size: int
) -> tuple[float, float]:
    """Reconstruction and KL per sample, decoding the posterior mean."""
    module.eval()
    reconstruction = kl = 0.0
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            batch = x[start : start + batch_size]
            rec, div = elbo_loss(batch, *module(batch), likelihood)
            reconstruction += rec.item() * len(batch)
            kl += div.item() * len(batch)
    return reconstruction / len(x), kl / len(x)


def train_vae(
    module: VariationalAutoencoder,
    x_train: torch.Tensor,
    x_valid: torch.Tensor | None,
    *,
    likelihood: str,
    max_epochs: int,
    batch_size: int,
    learning_rate: float,
    callbacks: Sequence[Callback] = (),
) -> list[dict]:
    """Train ``module`` in place by minimising the negative ELBO.

    Parameters
    ----------
    module : VariationalAutoencoder
        The network, already on the device of the data.
    x_train : Tensor
        Training inputs, preprocessed (pixels in [0, 1] or standardised features).
    x_valid : Tensor or None
        Validation inputs; when given, each epoch records ``valid_loss``,
        ``valid_reconstruction`` and ``valid_kl`` (posterior mean decoded).
    likelihood : {"bernoulli", "gaussian"}
        Reconstruction likelihood, see :func:`vaeaug.network.elbo_loss`.
    max_epochs, batch_size, learning_rate : int, int, float
        Adam's schedule.
    callbacks : sequence of Callback
        Called in order; any of them can stop training.

    Returns
    -------
    history : list of dict
        One entry per epoch with the losses (nats per sample) and its duration.

    Raises
    ------
    FloatingPointError
        When the training loss becomes NaN or infinite.
    """
    optimizer = torch.optim.Adam(module.parameters(), lr=learning_rate)
    history: list[dict] = []
    for callback in callbacks:
        callback.on_train_begin(module)
    n_train = len(x_train)
    for epoch in range(1, max_epochs + 1):
        started = time.perf_counter()
        module.train()
        order = torch.randperm(n_train, device=x_train.device)
        total_reconstruction = torch.zeros((), device=x_train.device)
        total_kl = torch.zeros((), device=x_train.device)
        for start in range(0, n_train, batch_size):
            batch = x_train[order[start : start + batch_size]]
            reconstruction, kl = elbo_loss(batch, *module(batch), likelihood)
            optimizer.zero_grad(set_to_none=True)
            (reconstruction + kl).backward()
            optimizer.step()
            total_reconstruction += reconstruction.detach() * len(batch)
            total_kl += kl.detach() * len(batch)
        record = {
            "epoch": epoch,
            "train_reconstruction": total_reconstruction.item() / n_train,
            "train_kl": total_kl.item() / n_train,
        }
        record["train_loss"] = record["train_reconstruction"] + record["train_kl"]
        if not math.isfinite(record["train_loss"]):
            raise FloatingPointError(
                f"VAE training diverged at epoch {epoch}: the training loss is "
                f"{record['train_loss']}. Try a smaller learning_rate or check the "
                "input scale."
            )
        if x_valid is not None:
            reconstruction, kl = _mean_losses(module, x_valid, likelihood, batch_size)
            record.update(
                valid_reconstruction=reconstruction, valid_kl=kl, valid_loss=reconstruction + kl
            )
        record["duration"] = time.perf_counter() - started
        history.append(record)
        stop = [bool(callback.on_epoch_end(module, history)) for callback in callbacks]
        if any(stop):
            break
    for callback in callbacks:
        callback.on_train_end(module, history)
    module.eval()
    return history
