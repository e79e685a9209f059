"""The base of vaeaug's torch estimators: shared parameters, the fit, pickling, persisted state."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ..engine._device import DEVICE_TYPES, available_device, resolve_device
from ..engine._threads import worker_threads
from ..engine.callbacks import Callback, EarlyStopping, ProgressBar
from ..engine.training import RowSource, init_module, split_validation, train_module
from ..utils._transactional import fit_atomically
from ..utils._validation import IntegerInterval

#: Training data as the loop takes it: tensors on the device, or row sources.
TrainingData = Sequence[torch.Tensor | RowSource]


@dataclass(frozen=True)
class FittedAttribute:
    """What a fitted attribute of a model file must be (see :mod:`vaeaug.persistence`).

    Parameters
    ----------
    description : str
        What the value must be, for error messages ("a positive int").
    is_valid : callable
        ``is_valid(value, attributes)`` tells whether ``value`` is valid,
        given all the file's fitted attributes (``n_features_in_`` has been
        checked first).
    is_required : callable, default=always
        ``is_required(attributes)`` tells whether a fit sets it.
    """

    description: str
    is_valid: Callable[[Any, dict], bool]
    is_required: Callable[[dict], bool] = lambda attributes: True


def _is_positive_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def _is_feature_vector(value, attributes: dict, kinds: str) -> bool:
    return (
        isinstance(value, np.ndarray)
        and value.dtype.kind in kinds
        and value.shape == (attributes["n_features_in_"],)
    )


def _is_history(value, attributes: dict) -> bool:
    return isinstance(value, list) and all(
        isinstance(record, dict)
        and all(isinstance(key, str) for key in record)
        and all(isinstance(item, Real) for item in record.values())
        for record in value
    )


#: ``n_features_in_``, whose value the other attributes' checks read.
N_FEATURES_IN = FittedAttribute("a positive int", lambda value, attributes: _is_positive_int(value))
#: Per-feature finite floats, such as the mean of a standardisation.
FEATURE_FLOATS = FittedAttribute(
    "a float ndarray of shape (n_features_in_,) of finite values",
    lambda value, attributes: (
        _is_feature_vector(value, attributes, "f") and bool(np.isfinite(value).all())
    ),
)
#: Per-feature finite positive floats, such as the scale of a standardisation.
FEATURE_SCALES = FittedAttribute(
    "a float ndarray of shape (n_features_in_,) of finite positive values",
    lambda value, attributes: (
        _is_feature_vector(value, attributes, "f")
        and bool((np.isfinite(value) & (value > 0)).all())
    ),
)


class TorchEstimator(BaseEstimator):
    """Base class of vaeaug's PyTorch estimators, in the spirit of skorch's ``NeuralNet``.

    It owns what every torch model here shares: the training parameters
    (epochs, batch size, learning rate and its schedule, early stopping,
    callbacks, device, precision, verbosity, seed) and their validation,
    ``fit`` (transactional, on this worker's share of the cores, see
    :mod:`vaeaug.engine._threads`), the reproducible initialisation and
    validation split, the training loop
    (:func:`vaeaug.engine.training.train_module`), and pickling that works
    from a GPU to a machine without one. A model declares its data, its
    network and its loss by implementing:

    - ``_validate_fit_data(X, y)``: validate the data, set the fitted
      attributes that describe them, return ``(X, y)`` as the model reads them;
    - ``_training_data(X, y)``: the tensors (or :class:`RowSource`) to train on,
      on ``device_``, inputs first;
    - ``_build_network()``: the untrained network;
    - ``_loss_terms(module, *batch, generator=None)``: named scalar losses.

    and may override ``_term_weights`` (weights of the loss terms),
    ``_batch_augmentation`` (a random transform of the training inputs), the class
    attributes ``_adam_betas`` and ``_monitor`` (the validation loss that early
    stopping watches), and ``_fitted_attributes``: the fitted attributes a
    model file holds, each with what it must be, so that
    :func:`vaeaug.persistence.load` can check a file against them.

    Warning: this class should not be used directly.
    """

    _parameter_constraints: dict = {
        "max_epochs": [IntegerInterval(1, None, closed="left")],
        "batch_size": [IntegerInterval(1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions({"constant", "cosine"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [IntegerInterval(1, None, closed="left"), None],
        "callbacks": [list, None],
        "device": [str, torch.device],
        "precision": [StrOptions({"float32", "bfloat16"})],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    #: Adam's decay rates of its running means of the gradient and of its square.
    _adam_betas: ClassVar[tuple[float, float]] = (0.9, 0.999)
    #: The history entry that early stopping minimises.
    _monitor: ClassVar[str] = "valid_loss"
    #: The fitted attributes a model file holds besides ``module_``, ``n_features_in_`` first.
    _fitted_attributes: ClassVar[dict[str, FittedAttribute]] = {
        "n_features_in_": N_FEATURES_IN,
        "feature_names_in_": FittedAttribute(
            "an ndarray of n_features_in_ str",
            lambda value, attributes: (
                _is_feature_vector(value, attributes, "OU")
                and all(isinstance(item, str) for item in value.tolist())
            ),
            is_required=lambda attributes: False,  # data frames only
        ),
        "history_": FittedAttribute("a list of dicts of str to numbers", _is_history),
        "device_": FittedAttribute(
            f"a torch.device of type {', '.join(DEVICE_TYPES[:-1])} or {DEVICE_TYPES[-1]}",
            lambda value, attributes: (
                isinstance(value, torch.device) and value.type in DEVICE_TYPES
            ),
        ),
    }

    @classmethod
    def _upgrade_fitted_attributes(cls, attributes: dict, format_version: int) -> dict:
        """The fitted attributes of a model file of an older format, as this version has them."""
        return attributes

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the network on ``X`` (and ``y`` for a classifier).

        Parameters
        ----------
        X : array-like
            Training samples, laid out as the model's class says.
        y : array-like of shape (n_samples,) or None
            Class labels for a classifier; ignored by the :class:`~vaeaug.VAE`.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        FloatingPointError
            When training diverges; a smaller ``learning_rate`` usually helps.

        Notes
        -----
        Fitting is transactional: the fitted attributes are computed on an
        unfitted twin and set together once training has finished. If
        training raises (Ctrl-C's ``KeyboardInterrupt``, divergence, a
        callback's exception), every callback's ``on_train_end`` still runs
        (the progress bar closes), the exception propagates, and the estimator
        is left exactly as it was before ``fit``: unfitted, or with the
        network and fitted attributes of its previous fit. So Ctrl-C stops a
        whole grid search, not one fit.
        """
        fit_atomically(self, lambda twin: twin._fit(X, y))
        return self

    def _fit(self, X, y) -> None:
        """Body of ``fit``, run on an unfitted twin (see ``fit``'s notes)."""
        X, y = self._validate_fit_data(X, y)
        self.device_ = resolve_device(self.device)
        if (
            self.precision == "bfloat16"
            and self.device_.type == "cuda"
            and not torch.cuda.is_bf16_supported()
        ):
            raise ValueError(
                f"precision='bfloat16' needs a GPU with bfloat16 support; {self.device_} has "
                "none. Use precision='float32'."
            )
        data = self._training_data(X, y)
        # Two seeds start two generators of this fit alone: one on the CPU for the
        # initial weights (so that they do not depend on the device), one on the
        # device for the training noise; torch's global random state is untouched.
        rng = check_random_state(self.random_state)
        init_seed, train_seed = (int(seed) for seed in rng.randint(np.iinfo(np.int32).max, size=2))
        train_rows, valid_rows = split_validation(len(data[0]), self.validation_fraction, rng)
        init_generator = torch.Generator().manual_seed(init_seed)
        module = init_module(self._build_network, init_generator).to(self.device_)
        train_data = [_rows(part, train_rows) for part in data]
        self._initialise(module, train_data, init_generator)
        with worker_threads():
            self.history_ = train_module(
                module,
                self._loss_terms,
                train_data,
                [_rows(part, valid_rows) for part in data] if len(valid_rows) else None,
                generator=torch.Generator(self.device_).manual_seed(train_seed),
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                learning_rate=self.learning_rate,
                learning_rate_schedule=self.learning_rate_schedule,
                adam_betas=self._adam_betas,
                autocast_dtype=torch.bfloat16 if self.precision == "bfloat16" else None,
                term_weights=self._term_weights(),
                augment=self._batch_augmentation(),
                callbacks=self._callbacks(has_validation=len(valid_rows) > 0),
            )
        self.module_ = module

    def _validate_fit_data(self, X, y) -> tuple:
        raise NotImplementedError

    def _training_data(self, X, y) -> TrainingData:
        raise NotImplementedError

    def _build_network(self) -> nn.Module:
        raise NotImplementedError

    def _initialise(
        self, module: nn.Module, train_data: TrainingData, generator: torch.Generator
    ) -> None:
        """Adjust ``module``, initialised with torch's defaults (nothing by default).

        ``train_data`` are the training rows; ``generator``, the CPU generator
        that drew the initial weights, is the source of any further draws.
        """

    def _loss_terms(self, module: nn.Module, *batch, generator=None) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def _term_weights(self) -> dict[str, float]:
        """Weight of each loss term in the objective (1 for those not named)."""
        return {}

    def _batch_augmentation(self) -> Callable[..., torch.Tensor] | None:
        """``augment(x, generator=...)``, a random transform of each training batch's inputs.

        ``None`` (the default): the inputs are used as they are.
        """
        return None

    def _callbacks(self, *, has_validation: bool) -> list[Callback]:
        """Early stopping, the progress bar, then copies of the user's ``callbacks``."""
        for callback in self.callbacks or []:
            if not isinstance(callback, Callback):
                raise TypeError(
                    "callbacks must be a list of vaeaug.Callback instances; "
                    f"it holds {callback!r}, a {type(callback).__name__}."
                )
        callbacks: list[Callback] = []
        if has_validation and self.patience is not None:
            callbacks.append(EarlyStopping(patience=self.patience, monitor=self._monitor))
        if self.verbose:
            callbacks.append(ProgressBar(description=f"{type(self).__name__} training"))
        return callbacks + copy.deepcopy(self.callbacks or [])

    def _declared_layers(self) -> tuple[int, str]:
        """How many hidden layers the parameters declare, and the parameter that does.

        :func:`vaeaug.persistence.load` checks that a file holds a weight and a
        bias for each before it builds the network.
        """
        return 0, "none"

    def _network_input_shape(self) -> tuple[int, ...]:
        """The shape of one sample as the network takes it."""
        return (self.n_features_in_,)

    def __getstate__(self):
        # The base class returns the instance's own __dict__ (Python 3.11 on):
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


def _rows(data: torch.Tensor | RowSource, index: np.ndarray) -> torch.Tensor | RowSource:
    """The ``index``-th rows of ``data``: copied from a tensor, selected from a row source."""
    if isinstance(data, RowSource):
        return data.subset(index)
    return data[torch.as_tensor(index, device=data.device)]
