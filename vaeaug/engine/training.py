"""A generic PyTorch training loop: Adam on mini-batches of tensors or of rows read by index."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from ..utils._validation import row_batches
from .callbacks import Callback

#: ``loss_terms(module, *batch, generator=None)`` returns named scalar losses
#: (means over the batch); their weighted sum is minimised. Training passes the
#: fit's ``generator``, the source of any noise (the VAE's reparameterisation,
#: dropout); evaluation, in evaluation mode, passes none.
LossTerms = Callable[..., dict[str, torch.Tensor]]


def init_module(build: Callable[[], nn.Module], generator: torch.Generator) -> nn.Module:
    """Build a network on the CPU with initial weights drawn from ``generator``.

    The layers are built on the meta device, where their default
    initialisation draws nothing, then initialised from ``generator`` with
    torch's default distributions, in the order of :meth:`~torch.nn.Module.modules`:
    with the same seed, the weights equal those that ``build()`` gives after
    :func:`torch.manual_seed`. torch's global random state is neither used
    nor changed.

    Parameters
    ----------
    build : callable
        Returns the network; its layers with parameters or buffers must be
        linear, convolutional or batch-norm layers.
    generator : torch.Generator
        A CPU generator.

    Returns
    -------
    module : torch.nn.Module
        The network, on the CPU.

    Raises
    ------
    TypeError
        For a layer with parameters or buffers of another kind, which would
        otherwise keep uninitialised memory.
    """
    with torch.device("meta"):
        module = build()
    module.to_empty(device="cpu")
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.modules.conv._ConvNd)):
            # As in nn.Linear.reset_parameters and _ConvNd.reset_parameters, drawn
            # in the contiguous layout of construction, then copied into the
            # layer's (e.g. channels-last) one.
            weight = torch.empty(layer.weight.shape)
            nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
            with torch.no_grad():
                layer.weight.copy_(weight)
                if layer.bias is not None:
                    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(weight)
                    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                    layer.bias.uniform_(-bound, bound, generator=generator)
        elif isinstance(layer, nn.modules.batchnorm._BatchNorm):
            layer.reset_parameters()  # constants: no randomness
        elif any(True for _ in layer.parameters(recurse=False)) or any(
            True for _ in layer.buffers(recurse=False)
        ):
            raise TypeError(
                f"init_module cannot initialise a {type(layer).__name__} layer from a generator."
            )
    return module


class RowSource:
    """Rows of an array that training reads a mini-batch at a time.

    Indexing gathers the rows asked for and converts them with
    ``to_tensor``, so that only the rows of one batch are ever converted:
    training on a memory-mapped array reads it, but copies no more of it
    than a batch. :meth:`subset` selects rows without reading them.

    Parameters
    ----------
    array : array-like
        A NumPy array (memory-mapped or not) or any array-like whose
        ``array[rows]`` takes a slice or an array of row numbers.
    to_tensor : callable
        ``to_tensor(rows)`` turns a NumPy array of rows into a tensor on the
        training device.
    rows : ndarray of int, default=None
        The rows of ``array`` that this source holds, in order; all by default.
    """

    def __init__(
        self,
        array,
        to_tensor: Callable[[np.ndarray], torch.Tensor],
        rows: np.ndarray | None = None,
    ):
        self.array = array
        self.to_tensor = to_tensor
        self.rows = np.arange(len(array)) if rows is None else rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: slice | np.ndarray | torch.Tensor) -> torch.Tensor:
        """The tensor of the ``index``-th rows of this source (a slice or positions)."""
        if isinstance(index, torch.Tensor):
            index = index.cpu().numpy()
        return self.to_tensor(np.asarray(self.array[self.rows[index]]))

    def subset(self, index: np.ndarray) -> RowSource:
        """The ``index``-th rows of this source, not read."""
        return RowSource(self.array, self.to_tensor, self.rows[index])


def split_validation(
    n_samples: int, validation_fraction: float, rng: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``range(n_samples)`` into training and validation indices.

    At least one sample is held out when ``validation_fraction > 0`` and there
    are two samples or more; none otherwise.
    """
    order = rng.permutation(n_samples)
    n_valid = validation_size(n_samples, validation_fraction)
    return order[n_valid:], order[:n_valid]


def validation_size(n_samples: int, validation_fraction: float) -> int:
    """The number of samples that :func:`split_validation` holds out of ``n_samples``."""
    if validation_fraction > 0 and n_samples > 1:
        return min(max(1, round(validation_fraction * n_samples)), n_samples - 1)
    return 0


def evaluate(
    module: nn.Module,
    loss_terms: LossTerms,
    data: Sequence[torch.Tensor | RowSource],
    batch_size: int,
) -> dict[str, float]:
    """Mean of each loss term over ``data``, in evaluation mode and without gradients."""
    module.eval()
    totals: dict[str, float] = {}
    n_samples = len(data[0])
    with torch.no_grad():
        for rows in row_batches(n_samples, batch_size):
            batch = [tensor[rows] for tensor in data]
            for name, value in loss_terms(module, *batch).items():
                totals[name] = totals.get(name, 0.0) + value.item() * len(batch[0])
    return {name: total / n_samples for name, total in totals.items()}


def train_module(
    module: nn.Module,
    loss_terms: LossTerms,
    train_data: Sequence[torch.Tensor | RowSource],
    valid_data: Sequence[torch.Tensor | RowSource] | None,
    *,
    generator: torch.Generator,
    max_epochs: int,
    batch_size: int,
    learning_rate: float,
    learning_rate_schedule: str = "constant",
    adam_betas: tuple[float, float] = (0.9, 0.999),
    autocast_dtype: torch.dtype | None = None,
    term_weights: Mapping[str, float] | None = None,
    augment: Callable[..., torch.Tensor] | None = None,
    callbacks: Sequence[Callback] = (),
) -> list[dict]:
    """Train ``module`` in place with Adam by minimising the weighted sum of ``loss_terms``.

    Parameters
    ----------
    module : torch.nn.Module
        The network, already on the device of the data.
    loss_terms : callable
        ``loss_terms(module, *batch, generator=None)`` returns a dict of named
        scalar losses, each a mean over the batch; their weighted sum is
        minimised. Training batches are passed with ``generator``, which any
        noise must be drawn from; validation batches without, in evaluation mode.
    train_data : sequence of Tensor or RowSource
        Tensors on the device of ``generator``, or row sources, of equal
        length (inputs, and targets if any), sliced together into shuffled
        mini-batches each epoch.
    valid_data : sequence of Tensor or RowSource, or None
        Evaluated after each epoch in evaluation mode when given.
    generator : torch.Generator
        On the training device; the only source of randomness: the batch
        order, ``augment`` and the noise of ``loss_terms`` draw from it.
    max_epochs, batch_size, learning_rate : int, int, float
        Adam's schedule.
    learning_rate_schedule : {"constant", "cosine"}, default="constant"
        ``"cosine"`` warms the learning rate up linearly over the first
        epoch, then decays it to zero along a half cosine that ends with
        epoch ``max_epochs`` (see :func:`cosine_with_warmup`).
    adam_betas : tuple of float, default=(0.9, 0.999)
        Adam's decay rates of its running means of the gradient and of its square.
    autocast_dtype : torch.dtype, default=None
        When given (``torch.bfloat16``), training batches go through
        ``loss_terms`` under :class:`torch.autocast` to this type: mixed
        precision. Validation batches are evaluated in the module's own type.
    term_weights : mapping of str to float, default=None
        Weight of each named term in the objective (1 when not given).
    augment : callable, default=None
        ``augment(x, generator=generator)`` is applied to the inputs (the
        first tensor) of every training mini-batch, e.g. a random jitter;
        validation data are left as they are.
    callbacks : sequence of Callback
        Called in order; any of them can stop training. Each callback whose
        ``on_train_begin`` has run also gets ``on_train_end``, in order, however
        training ends: after the last epoch, when a callback stops it, or when
        it raises (an interrupt, divergence, a callback's exception), in which
        case the exception then propagates.

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

    Notes
    -----
    ``module`` is left in evaluation mode, also when training raises.
    """
    device = generator.device
    # One kernel call updates every parameter, where the CPU default loops over
    # them; as fast as that loop on the CPUs measured (benchmarks/README.md, 1b).
    optimizer = torch.optim.Adam(
        module.parameters(),
        lr=learning_rate,
        betas=adam_betas,
        fused=device.type in ("cpu", "cuda") or None,
    )
    n_train = len(train_data[0])
    steps_per_epoch = len(_batches(torch.arange(n_train), batch_size))
    scheduler = None
    if learning_rate_schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, cosine_with_warmup(steps_per_epoch, max_epochs * steps_per_epoch)
        )
    weights = dict(term_weights or {})
    history: list[dict] = []
    with _callbacks_running(callbacks, module, history):
        for epoch in range(1, max_epochs + 1):
            started = time.perf_counter()
            module.train()
            order = torch.randperm(n_train, device=device, generator=generator)
            if not isinstance(train_data[0], torch.Tensor):
                order = order.cpu()  # row sources gather on the host: one copy per epoch
            totals: dict[str, torch.Tensor] = {}
            for index in _batches(order, batch_size):
                batch = [tensor[index] for tensor in train_data]
                if augment is not None:
                    batch[0] = augment(batch[0], generator=generator)
                with torch.autocast(
                    device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None
                ):
                    terms = loss_terms(module, *batch, generator=generator)
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
    return history


@contextlib.contextmanager
def _callbacks_running(
    callbacks: Sequence[Callback], module: nn.Module, history: list[dict]
) -> Iterator[None]:
    """Begin the callbacks; however the block exits, end those begun, in order, then eval()."""
    begun: list[Callback] = []
    try:
        for callback in callbacks:
            callback.on_train_begin(module)
            begun.append(callback)
        yield
    finally:
        # An exit stack makes every call even if one raises; it calls last in, first out.
        with contextlib.ExitStack() as stack:
            stack.callback(module.eval)
            for callback in reversed(begun):
                stack.callback(callback.on_train_end, module, history)


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
