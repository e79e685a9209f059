"""A generic PyTorch training loop: Adam on mini-batches of in-memory tensors, with callbacks."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from .callbacks import Callback

#: ``loss_terms(module, *batch)`` returns named scalar losses (means over the
#: batch); their sum is minimised.
LossTerms = Callable[..., dict[str, torch.Tensor]]

#: Samples per forward pass at inference (bounds peak memory).
INFERENCE_BATCH_SIZE = 2048


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn the ``device`` parameter into a :class:`torch.device`."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device={device!r} is not a torch device: {exc}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available.")
    return resolved


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


def evaluate(
    module: nn.Module, loss_terms: LossTerms, data: Sequence[torch.Tensor], batch_size: int
) -> dict[str, float]:
    """Mean of each loss term over ``data``, in evaluation mode and without gradients."""
    module.eval()
    totals: dict[str, float] = {}
    n_samples = len(data[0])
    with torch.no_grad():
        for start in range(0, n_samples, batch_size):
            batch = [tensor[start : start + batch_size] for tensor in data]
            for name, value in loss_terms(module, *batch).items():
                totals[name] = totals.get(name, 0.0) + value.item() * len(batch[0])
    return {name: total / n_samples for name, total in totals.items()}


def fit_module(
    build: Callable[[], nn.Module],
    loss_terms: LossTerms,
    data: Sequence[torch.Tensor],
    *,
    validation_fraction: float,
    random_state: np.random.RandomState,
    device: torch.device,
    make_callbacks: Callable[[bool], list[Callback]],
    **schedule,
) -> tuple[nn.Module, list[dict]]:
    """Build a network reproducibly, hold out validation rows and train it.

    Parameters
    ----------
    build : callable
        Returns the untrained network; called under a seed drawn from
        ``random_state``, so weight initialisation is reproducible.
    loss_terms : callable
        See :func:`train_module`.
    data : sequence of Tensor
        Tensors of equal length on ``device``, split together.
    validation_fraction : float
        See :func:`split_validation`.
    random_state : RandomState
        Source of the torch seed and of the validation split.
    device : torch.device
        Where the network lives.
    make_callbacks : callable
        ``make_callbacks(has_validation)`` returns the callbacks to train with.
    **schedule
        ``max_epochs``, ``batch_size``, ``learning_rate``,
        ``learning_rate_schedule``, ``term_weights`` and ``augment`` of
        :func:`train_module`.

    Returns
    -------
    module : torch.nn.Module
        The trained network, in evaluation mode.
    history : list of dict
        As returned by :func:`train_module`.
    """
    seed = random_state.randint(np.iinfo(np.int32).max)
    train_idx, valid_idx = split_validation(len(data[0]), validation_fraction, random_state)
    train = torch.as_tensor(train_idx, device=device)
    valid = torch.as_tensor(valid_idx, device=device)
    with seeded_torch(seed, device):
        module = build().to(device)
        history = train_module(
            module,
            loss_terms,
            [tensor[train] for tensor in data],
            [tensor[valid] for tensor in data] if len(valid_idx) else None,
            callbacks=make_callbacks(len(valid_idx) > 0),
            **schedule,
        )
    return module, history


def train_module(
    module: nn.Module,
    loss_terms: LossTerms,
    train_data: Sequence[torch.Tensor],
    valid_data: Sequence[torch.Tensor] | None,
    *,
    max_epochs: int,
    batch_size: int,
    learning_rate: float,
    learning_rate_schedule: str = "constant",
    term_weights: Mapping[str, float] | None = None,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    callbacks: Sequence[Callback] = (),
) -> list[dict]:
    """Train ``module`` in place with Adam by minimising the weighted sum of ``loss_terms``.

    Parameters
    ----------
    module : torch.nn.Module
        The network, already on the device of the data.
    loss_terms : callable
        ``loss_terms(module, *batch)`` returns a dict of named scalar losses,
        each a mean over the batch; their sum is minimised.
    train_data : sequence of Tensor
        Tensors of equal length (inputs, and targets if any), sliced together
        into shuffled mini-batches each epoch.
    valid_data : sequence of Tensor or None
        Evaluated after each epoch in evaluation mode when given.
    max_epochs, batch_size, learning_rate : int, int, float
        Adam's schedule.
    learning_rate_schedule : {"constant", "cosine"}, default="constant"
        ``"cosine"`` warms the learning rate up linearly over the first
        epoch, then decays it to zero along a half cosine that ends with
        epoch ``max_epochs`` (see :func:`cosine_with_warmup`).
    term_weights : mapping of str to float, default=None
        Weight of each named term in the objective (1 when not given).
    augment : callable, default=None
        Applied to the inputs (the first tensor) of every training
        mini-batch, e.g. a random jitter; validation data are left as they are.
    callbacks : sequence of Callback
        Called in order; any of them can stop training.

    Returns
    -------
    history : list of dict
        One entry per epoch: ``epoch``, ``learning_rate`` (that of the
        epoch's last step), ``train_<term>`` (unweighted),
        ``train_loss`` (the weighted objective) and, with validation data,
        ``valid_<term>`` and ``valid_loss`` (means per sample), and
        ``duration`` in seconds.

    Raises
    ------
    FloatingPointError
        When the training loss becomes NaN or infinite.
    """
    optimizer = torch.optim.Adam(module.parameters(), lr=learning_rate)
    n_train = len(train_data[0])
    steps_per_epoch = len(_batches(torch.arange(n_train), batch_size))
    scheduler = None
    if learning_rate_schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, cosine_with_warmup(steps_per_epoch, max_epochs * steps_per_epoch)
        )
    weights = dict(term_weights or {})
    history: list[dict] = []
    for callback in callbacks:
        callback.on_train_begin(module)
    device = train_data[0].device
    for epoch in range(1, max_epochs + 1):
        started = time.perf_counter()
        module.train()
        order = torch.randperm(n_train, device=device)
        totals: dict[str, torch.Tensor] = {}
        for index in _batches(order, batch_size):
            batch = [tensor[index] for tensor in train_data]
            if augment is not None:
                batch[0] = augment(batch[0])
            terms = loss_terms(module, *batch)
            optimizer.zero_grad(set_to_none=True)
            sum(weights.get(name, 1.0) * value for name, value in terms.items()).backward()
            rate = optimizer.param_groups[0]["lr"]
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            for name, value in terms.items():
                totals[name] = totals.get(name, 0.0) + value.detach() * len(index)
        record = {
            "epoch": epoch,
            "learning_rate": rate,
            **_with_total("train", {k: v.item() / n_train for k, v in totals.items()}, weights),
        }
        if not math.isfinite(record["train_loss"]):
            raise FloatingPointError(
                f"Training diverged at epoch {epoch}: the training loss is "
                f"{record['train_loss']}. Try a smaller learning_rate or check the input scale."
            )
        if valid_data is not None:
            valid_terms = evaluate(module, loss_terms, valid_data, batch_size)
            record.update(_with_total("valid", valid_terms, weights))
        record["duration"] = time.perf_counter() - started
        history.append(record)
        if any([bool(callback.on_epoch_end(module, history)) for callback in callbacks]):
            break
    for callback in callbacks:
        callback.on_train_end(module, history)
    module.eval()
    return history


def cosine_with_warmup(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """Learning-rate factor of step ``i``: linear warm-up, then a half cosine to zero.

    Examples
    --------
    >>> factor = cosine_with_warmup(warmup_steps=2, total_steps=6)
    >>> [round(factor(i), 2) for i in range(6)]
    [0.5, 1.0, 1.0, 0.85, 0.5, 0.15]
    """

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


def _with_total(prefix: str, terms: dict[str, float], weights: Mapping[str, float]) -> dict:
    record = {f"{prefix}_{name}": value for name, value in terms.items()}
    record[f"{prefix}_loss"] = sum(weights.get(name, 1.0) * v for name, v in terms.items())
    return record


def _batches(order: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    """Split ``order`` into mini-batches; a lone last sample joins the one before.

    Batch normalisation cannot train on a batch of one sample.
    """
    batches = list(torch.split(order, batch_size))
    if len(batches) > 1 and len(batches[-1]) == 1:
        batches[-2:] = [torch.cat(batches[-2:])]
    return batches
