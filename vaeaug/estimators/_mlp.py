"""The paper's MLP classifier, trained with PyTorch behind scikit-learn's API."""

from __future__ import annotations

from numbers import Real

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from torch.nn import functional as F

from ..engine.networks import MLP, build_mlp
from ..engine.training import validation_size
from ..utils._validation import (
    INFERENCE_BATCH_SIZE,
    IntegerInterval,
    row_batches,
    standard_scaling,
    standardise,
)
from ._base import FEATURE_FLOATS, FEATURE_SCALES, FittedAttribute, TorchEstimator, TrainingData


class TorchMLPClassifier(ClassifierMixin, TorchEstimator):
    """The paper's multi-layer perceptron: five layers of 1024 units, batch norm and dropout.

    Features are standardised with the training mean and standard deviation.
    Training uses Adam with early stopping on the cross-entropy of a held-out
    validation fraction, restoring the best weights. Named apart from
    scikit-learn's :class:`~sklearn.neural_network.MLPClassifier`, a
    different network.

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
    learning_rate_schedule : {"constant", "cosine"}, default="constant"
        See :class:`~vaeaug.VAE`.
    validation_fraction : float, default=0.1
        Fraction of the samples held out for early stopping; ``0`` disables it.
    patience : int or None, default=5
        Epochs without improvement of the validation loss before stopping;
        ``None`` trains for ``max_epochs``.
    callbacks : list of Callback, default=None
        Extra :class:`~vaeaug.engine.callbacks.Callback` objects, copied at each fit.
    device : str or torch.device, default="auto"
        Torch device: ``"auto"`` picks CUDA when available; ``"cpu"``,
        ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
    precision : {"float32", "bfloat16"}, default="float32"
        See :class:`~vaeaug.VAE`.
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
    feature_names_in_ : ndarray of shape ``(n_features_in_,)``
        Column names, when ``X`` was a data frame with string column names.
    device_ : torch.device
        Device the network lives on.
    """

    _parameter_constraints: dict = {
        **TorchEstimator._parameter_constraints,
        "hidden_units": [IntegerInterval(1, None, closed="left")],
        "n_layers": [IntegerInterval(0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }
    _fitted_attributes = {
        **TorchEstimator._fitted_attributes,
        "classes_": FittedAttribute(
            "an ndarray of 2 or more classes",
            lambda value, attributes: (
                isinstance(value, np.ndarray) and value.ndim == 1 and len(value) >= 2
            ),
        ),
        "mean_": FEATURE_FLOATS,
        "scale_": FEATURE_SCALES,
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
        learning_rate_schedule: str = "constant",
        validation_fraction: float = 0.1,
        patience: int | None = 5,
        callbacks: list | None = None,
        device: str | torch.device = "auto",
        precision: str = "float32",
        verbose: int = 0,
        random_state: int | np.random.RandomState | None = None,
    ):
        self.hidden_units = hidden_units
        self.n_layers = n_layers
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.callbacks = callbacks
        self.device = device
        self.precision = precision
        self.verbose = verbose
        self.random_state = random_state

    def _validate_fit_data(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, reset=True)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; got 1 class: "
                f"{self.classes_}."
            )
        if self.n_layers > 0:
            self._check_batch_normalisation(len(X))
        self.mean_, self.scale_ = standard_scaling(X)
        return X, encoder.transform(y)

    def _check_batch_normalisation(self, n_samples: int) -> None:
        """Raise ValueError unless every training batch holds 2 samples or more.

        Batch normalisation, after each hidden layer, cannot train on one sample.
        """
        name = type(self).__name__
        if self.batch_size < 2:
            raise ValueError(
                f"batch_size={self.batch_size}: {name} normalises each training batch "
                "(batch normalisation after each hidden layer), which needs at least 2 "
                "samples per batch; use batch_size=2 or more."
            )
        n_valid = validation_size(n_samples, self.validation_fraction)
        if n_samples - n_valid < 2:
            raise ValueError(
                f"{name} needs at least 2 training samples for the batch normalisation "
                f"after each hidden layer; X has {n_samples}, of which "
                f"validation_fraction={self.validation_fraction} holds {n_valid} out. Pass "
                "more samples, or validation_fraction=0."
            )

    def _declared_layers(self) -> tuple[int, str]:
        return self.n_layers, "n_layers"

    def _training_data(self, X, y) -> TrainingData:
        return (self._to_tensor(X), torch.as_tensor(y, device=self.device_))

    def _build_network(self) -> MLP:
        return build_mlp(
            self.n_features_in_, len(self.classes_), self.hidden_units, self.n_layers, self.dropout
        )

    def _loss_terms(self, module: MLP, x, y, generator=None) -> dict[str, torch.Tensor]:
        return {"cross_entropy": F.cross_entropy(module(x, generator), y)}

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
        return torch.from_numpy(standardise(X, self.mean_, self.scale_)).to(self.device_)
