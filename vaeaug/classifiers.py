"""The paper's MLP classifier, trained with PyTorch behind scikit-learn's API."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn
from torch.nn import functional as F

from ._atomic import fit_atomically
from ._input import INFERENCE_BATCH_SIZE, row_batches, standard_scaling
from ._torch_state import TorchStateMixin
from .callbacks import EarlyStopping, ProgressBar
from .training import fit_module, resolve_device, validation_size


class GeneratorDropout(nn.Dropout):
    """:class:`torch.nn.Dropout` that draws its mask from a generator given to ``forward``."""

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device) >= self.p
        return x * keep / (1 - self.p)


class MLP(nn.Sequential):
    """:class:`torch.nn.Sequential` that passes ``forward``'s generator to its dropout layers."""

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        for layer in self:
            x = layer(x, generator) if isinstance(layer, GeneratorDropout) else layer(x)
        return x


def build_mlp(
    n_features: int, n_classes: int, hidden_units: int, n_layers: int, dropout: float
) -> MLP:
    """``n_layers`` blocks of Linear, BatchNorm, ReLU and Dropout, then a linear output.

    In training mode, ``module(x, generator)`` draws the dropout masks from
    ``generator`` (torch's default generator when omitted).
    """
    layers: list[nn.Module] = []
    width = n_features
    for _ in range(n_layers):
        layers += [
            nn.Linear(width, hidden_units),
            nn.BatchNorm1d(hidden_units),
            nn.ReLU(),
            GeneratorDropout(dropout),
        ]
        width = hidden_units
    layers.append(nn.Linear(width, n_classes))
    return MLP(*layers)


def _cross_entropy_terms(
    module: MLP, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None
) -> dict:
    return {"cross_entropy": F.cross_entropy(module(x, generator), y)}


class MLPClassifier(TorchStateMixin, ClassifierMixin, BaseEstimator):
    """The paper's multi-layer perceptron: five layers of 1024 units, batch norm and dropout.

    Features are standardised with the training mean and standard deviation.
    Training uses Adam with early stopping on the cross-entropy of a held-out
    validation fraction, restoring the best weights.

    Parameters
    ----------
    hidden_units : int, default=1024
        Width of each hidden layer.
    n_layers : int, default=5
        Number of hidden layers.
    dropout : float, default=0.2
        Dropout probability after each hidden layer (the paper does not give it).
    max_epochs : int, default=100
        Largest number of passes over the training data.
    batch_size : int, default=128
        Mini-batch size; at least 2 when ``n_layers > 0``, as batch
        normalisation cannot train on one sample (and so are the training
        samples left beside the ``validation_fraction``).
    learning_rate : float, default=1e-3
        Adam's learning rate.
    validation_fraction : float, default=0.1
        Fraction of the samples held out for early stopping; ``0`` disables it.
    patience : int, default=5
        Epochs without improvement of the validation loss before stopping.
    device : str or torch.device, default="auto"
        Torch device; ``"auto"`` picks CUDA when available.
    verbose : int, default=0
        Show a progress bar over epochs when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, dropout, batches and the validation split,
        without touching global random states.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    module_ : MLP
        The trained network, in evaluation mode.
    history_ : list of dict
        Losses per epoch.
    mean_, scale_ : ndarray of shape ``(n_features_in_,)``
        Standardisation of the features.
    n_features_in_ : int
        Number of features.
    device_ : torch.device
        Device the network lives on.
    """

    _parameter_constraints: dict = {
        "hidden_units": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        hidden_units: int = 1024,
        n_layers: int = 5,
        dropout: float = 0.2,
        *,
        max_epochs: int = 100,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        validation_fraction: float = 0.1,
        patience: int = 5,
        device: str | torch.device = "auto",
        verbose: int = 0,
        random_state=None,
    ):
        self.hidden_units = hidden_units
        self.n_layers = n_layers
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y) -> MLPClassifier:
        """Train on ``X`` and class labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : MLPClassifier
            The fitted classifier.

        Raises
        ------
        FloatingPointError
            When training diverges; a smaller ``learning_rate`` usually helps.

        Notes
        -----
        Fitting is transactional, as :meth:`vaeaug.VAE.fit`: if training raises
        (Ctrl-C's ``KeyboardInterrupt``, divergence), the exception propagates
        and the classifier is left exactly as it was before ``fit``.
        """
        fit_atomically(self, lambda twin: twin._fit(X, y))
        return self

    def _fit(self, X, y) -> None:
        """Body of ``fit``, run on an unfitted twin by :func:`~vaeaug._atomic.fit_atomically`."""
        X, y = validate_data(self, X, y, reset=True)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"MLPClassifier needs samples of at least 2 classes; got 1 class: {self.classes_}."
            )
        if self.n_layers > 0:
            self._check_batch_normalisation(len(X))
        self.mean_, self.scale_ = standard_scaling(X)
        self.device_ = resolve_device(self.device)
        self.module_, self.history_ = fit_module(
            self._build_network,
            _cross_entropy_terms,
            (self._to_tensor(X), torch.as_tensor(encoder.transform(y), device=self.device_)),
            validation_fraction=self.validation_fraction,
            random_state=check_random_state(self.random_state),
            device=self.device_,
            make_callbacks=self._make_callbacks,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
        )

    def _check_batch_normalisation(self, n_samples: int) -> None:
        """Raise ValueError unless every training batch holds 2 samples or more.

        Batch normalisation, after each hidden layer, cannot train on one sample.
        """
        if self.batch_size < 2:
            raise ValueError(
                f"batch_size={self.batch_size}: MLPClassifier normalises each training batch "
                "(batch normalisation after each hidden layer), which needs at least 2 "
                "samples per batch; use batch_size=2 or more."
            )
        n_valid = validation_size(n_samples, self.validation_fraction)
        if n_samples - n_valid < 2:
            raise ValueError(
                f"MLPClassifier needs at least 2 training samples for the batch normalisation "
                f"after each hidden layer; X has {n_samples}, of which "
                f"validation_fraction={self.validation_fraction} holds {n_valid} out. Pass "
                "more samples, or validation_fraction=0."
            )

    def _build_network(self) -> MLP:
        """The untrained network for the data described by the fitted attributes."""
        return build_mlp(
            self.n_features_in_, len(self.classes_), self.hidden_units, self.n_layers, self.dropout
        )

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        with torch.no_grad():
            logits = torch.cat(
                [
                    self.module_(self._to_tensor(X[rows]))
                    for rows in row_batches(len(X), INFERENCE_BATCH_SIZE)
                ]
            )
        return torch.softmax(logits, dim=1).cpu().numpy().astype(np.float64)

    def predict(self, X) -> np.ndarray:
        """Most probable class of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def _to_tensor(self, X: np.ndarray) -> torch.Tensor:
        x = ((X - self.mean_) / self.scale_).astype(np.float32)
        return torch.from_numpy(x).to(self.device_)

    def _make_callbacks(self, has_validation: bool) -> list:
        callbacks = []
        if has_validation:
            callbacks.append(EarlyStopping(patience=self.patience, monitor="valid_loss"))
        if self.verbose:
            callbacks.append(ProgressBar())
        return callbacks
