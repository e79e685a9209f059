"""Samplers that augment a labelled set in a latent space (imbalanced-learn API)."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_neighbors_object, check_sampling_strategy
from imblearn.utils._validation import ArraysTransformer
from sklearn.base import _fit_context
from sklearn.frozen import FrozenEstimator
from sklearn.preprocessing import label_binarize
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ._docstrings import GENERATION_PARAMETERS, VAE_PARAMETERS, substitute
from ._input import flatten_samples
from .generators import (
    add_noise,
    extrapolate,
    find_neighbors,
    interpolate,
    pair_with_neighbors,
    spread_counts,
)
from .vae import VAE

_NEIGHBOR_METHODS = {"interpolation": interpolate, "extrapolation": extrapolate}


class BaseLatentAugmenter(BaseOverSampler):
    """Base class: validation, amounts and generation; subclasses map samples to latents.

    Subclasses implement ``_fit_encoder(X, y, sample_shape, rng)``, ``_encode``
    and ``_decode``. Warning: this class should not be used directly.
    """

    _parameter_constraints: dict = {
        "method": [StrOptions({"interpolation", "extrapolation", "noise"}), callable],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "k_neighbors": [Interval(Integral, 1, None, closed="left"), HasMethods(["kneighbors"])],
        "neighbor_search": [StrOptions({"class", "all"})],
        "n_per_sample": [Interval(Integral, 1, None, closed="left")],
        "sampling_strategy": [None, *BaseOverSampler._parameter_constraints["sampling_strategy"]],
        "random_state": ["random_state"],
    }

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Validate the data and fit the encoder, without generating samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, H, W) \
                or (n_samples, C, H, W)
            Samples.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : object
            The fitted sampler.
        """
        self._fit(X, y)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, X, y):
        """Fit, then return the originals followed by the synthetic samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, H, W) \
                or (n_samples, C, H, W)
            Samples; not modified.
        y : array-like of shape (n_samples,)
            Class labels; not modified.

        Returns
        -------
        X_resampled : array-like of shape (n_samples + n_synthetic, ...)
            ``X`` unchanged in its first ``n_samples`` rows, then the synthetic
            samples, in the type, dtype and sample shape of ``X`` (integer
            inputs get rounded synthetic values).
        y_resampled : array-like of shape (n_samples + n_synthetic,)
            Labels; a synthetic sample has the label of the original it was
            made from.
        """
        arrays_transformer = ArraysTransformer(X, y)
        X_2d, y_checked, binarize_y, sample_shape, rng = self._fit(X, y)
        X_res, y_res = self._fit_resample(X_2d, y_checked, random_state=rng)
        if sample_shape is not None:
            X_res = X_res.reshape(len(X_res), *sample_shape)
        if binarize_y:
            y_res = label_binarize(y_res, classes=np.unique(y_checked))
        return arrays_transformer.transform(X_res, y_res)

    def _fit(self, X, y):
        check_classification_targets(y)
        X_2d, sample_shape = flatten_samples(X)
        X_2d, y, binarize_y = self._check_X_y(X_2d, y, accept_sparse=False)
        if self.sampling_strategy is None:
            classes, counts = np.unique(y, return_counts=True)
            check_sampling_strategy("auto", y, self._sampling_type)  # rejects one class
            self.sampling_strategy_ = {
                label: int(count) * self.n_per_sample
                for label, count in zip(classes, counts, strict=True)
            }
        else:
            self.sampling_strategy_ = dict(
                check_sampling_strategy(self.sampling_strategy, y, self._sampling_type)
            )
        if isinstance(self.k_neighbors, Integral):
            self.nn_k_ = check_neighbors_object(
                "k_neighbors", self.k_neighbors, additional_neighbor=1
            )
        else:
            self.nn_k_ = self.k_neighbors
        rng = check_random_state(self.random_state)
        self._fit_encoder(X_2d, y, sample_shape, rng)
        return X_2d, y, binarize_y, sample_shape, rng

    def _fit_resample(self, X, y, random_state):
        """Encode, make new latent vectors, decode; append them to the originals."""
        rng = random_state
        Z = self._encode(X)
        counts = spread_counts(y, self.sampling_strategy_, rng)
        if self.method == "noise":
            base = np.repeat(np.arange(len(Z)), counts)
            partner = np.full(len(base), -1)
            Z_new = add_noise(Z[base], scale=Z.std(axis=0), alpha=self.alpha, random_state=rng)
        else:
            groups = y if self.neighbor_search == "class" else np.zeros(len(y))
            neighbors = find_neighbors(Z, groups, self.nn_k_)
            lonely = (neighbors < 0).all(axis=1) & (counts > 0)
            if lonely.any():
                warnings.warn(
                    f"Classes {np.unique(y[lonely]).tolist()} have a single sample, so no "
                    f"neighbour to pair with: method={self.method!r} makes no synthetic "
                    "samples for them. Use method='noise' or neighbor_search='all' to "
                    "augment them.",
                    UserWarning,
                    stacklevel=2,
                )
                counts[lonely] = 0
            base, partner = pair_with_neighbors(neighbors, counts)
            if callable(self.method):
                Z_new = np.asarray(self.method(Z[base], Z[partner], rng))
                if Z_new.shape != (len(base), Z.shape[1]):
                    raise ValueError(
                        f"The method callable must return an array of shape "
                        f"{(len(base), Z.shape[1])}; it returned shape {Z_new.shape}."
                    )
            else:
                Z_new = _NEIGHBOR_METHODS[self.method](Z[base], Z[partner], alpha=self.alpha)
        if len(base):
            X_new = _cast_like(self._decode(Z_new).reshape(len(base), X.shape[1]), X)
        else:
            X_new = X[:0]
        self.sample_indices_ = np.concatenate([np.arange(len(X)), base])
        self.neighbor_indices_ = np.concatenate([np.full(len(X), -1), partner])
        self.synthetic_mask_ = np.arange(len(self.sample_indices_)) >= len(X)
        return np.concatenate([X, X_new]), np.concatenate([y, y[base]])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.sampler_tags.sample_indices = True
        return tags


def _cast_like(X_new: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Cast synthetic rows to the dtype of the originals, rounding for integers."""
    if np.issubdtype(X.dtype, np.integer):
        info = np.iinfo(X.dtype)
        X_new = np.clip(np.rint(X_new), info.min, info.max)
    return X_new.astype(X.dtype, copy=False)


_ATTRIBUTES = """sampling_strategy_ : dict
        Number of synthetic samples asked for each class.
    nn_k_ : estimator
        The nearest-neighbours estimator (cloned for each class when searched).
    sample_indices_ : ndarray of shape (n_samples + n_synthetic,)
        For each output row, the index of the original it is (first
        ``n_samples`` rows) or was made from (synthetic rows).
    neighbor_indices_ : ndarray of shape (n_samples + n_synthetic,)
        For each synthetic row, the index of the neighbour it was paired
        with; ``-1`` for the originals and for noise.
    synthetic_mask_ : ndarray of bool of shape (n_samples + n_synthetic,)
        ``True`` for the synthetic rows.
    n_features_in_ : int
        Number of values per sample.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a data frame with string column names."""


@substitute(generation_parameters=GENERATION_PARAMETERS, attributes=_ATTRIBUTES)
class LatentAugmenter(BaseLatentAugmenter):
    """Augment samples by noise, interpolation or extrapolation in their own feature space.

    The feature-space augmentation of DeVries & Taylor (2017). Put it after a
    :class:`~vaeaug.VAE` in a pipeline to train a classifier on latent vectors:
    the pipeline then encodes test data too, whereas samplers are skipped at
    predict time::

        Pipeline([("encode", VAE()), ("aug", LatentAugmenter()), ("clf", SVC())])

    Parameters
    ----------
    {generation_parameters}

    random_state : int, RandomState instance or None, default=None
        Seeds the noise and the sharing of new samples among originals.

    Attributes
    ----------
    {attributes}

    See Also
    --------
    VAEAugmenter : Augment in a VAE's latent space and decode back to samples.
    """

    def __init__(
        self,
        *,
        method="interpolation",
        alpha: float = 0.5,
        k_neighbors=3,
        neighbor_search: str = "class",
        n_per_sample: int = 3,
        sampling_strategy=None,
        random_state=None,
    ):
        self.method = method
        self.alpha = alpha
        self.k_neighbors = k_neighbors
        self.neighbor_search = neighbor_search
        self.n_per_sample = n_per_sample
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state

    def _fit_encoder(self, X, y, sample_shape, rng):
        pass

    def _encode(self, X):
        return X

    def _decode(self, Z):
        return Z


@substitute(
    generation_parameters=GENERATION_PARAMETERS,
    vae_parameters=VAE_PARAMETERS,
    attributes=_ATTRIBUTES,
)
class VAEAugmenter(BaseLatentAugmenter):
    """Augment labelled images by moving through a VAE's latent space.

    ``fit_resample`` trains a :class:`~vaeaug.VAE` on ``X`` without labels (or
    reuses a fitted one), encodes each sample to its posterior mean, makes new
    latent vectors with ``method`` and decodes them back to images in the
    scale, dtype and shape of ``X``. The originals come first, unchanged.

    Parameters
    ----------
    vae : VAE, FrozenEstimator of a VAE, or None, default=None
        A VAE fitted beforehand, for instance on many unlabelled samples, to
        use instead of training one on ``X``. Wrap it in
        :class:`sklearn.frozen.FrozenEstimator` so that cloning (e.g. by
        ``GridSearchCV``) keeps its weights. When given, the VAE parameters
        below (``latent_dim`` to ``verbose``) are not used.

    latent_dim : int, default=20
        Size of the latent space.

    {generation_parameters}

    {vae_parameters}

    random_state : int, RandomState instance or None, default=None
        Seeds the VAE's training and the generation; the same seed gives the
        same output on the CPU, without touching global random states.

    Attributes
    ----------
    vae_ : VAE
        The fitted VAE in use.
    {attributes}

    See Also
    --------
    LatentAugmenter : The same generators on vectors, e.g. after a VAE in a pipeline.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from vaeaug import VAEAugmenter
    >>> X, y = load_digits(return_X_y=True)
    >>> augmenter = VAEAugmenter(latent_dim=8, max_epochs=2, random_state=0)
    >>> X_res, y_res = augmenter.fit_resample(X[:100], y[:100])
    >>> X_res.shape
    (400, 64)
    >>> int(augmenter.synthetic_mask_.sum())
    300
    """

    _parameter_constraints: dict = {
        **BaseLatentAugmenter._parameter_constraints,
        **{name: rule for name, rule in VAE._parameter_constraints.items()},
        "vae": [HasMethods(["transform", "inverse_transform"]), None],
    }

    def __init__(
        self,
        vae=None,
        *,
        latent_dim: int = 20,
        method="interpolation",
        alpha: float = 0.5,
        k_neighbors=3,
        neighbor_search: str = "class",
        n_per_sample: int = 3,
        sampling_strategy=None,
        image_shape: tuple[int, ...] | None = None,
        architecture: str = "auto",
        conv_channels: tuple[int, ...] = (16, 8),
        hidden_units: int = 1024,
        max_epochs: int = 100,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        validation_fraction: float = 0.1,
        patience: int | None = 5,
        callbacks: list | None = None,
        device: str = "auto",
        verbose: int = 0,
        random_state=None,
    ):
        self.vae = vae
        self.latent_dim = latent_dim
        self.method = method
        self.alpha = alpha
        self.k_neighbors = k_neighbors
        self.neighbor_search = neighbor_search
        self.n_per_sample = n_per_sample
        self.sampling_strategy = sampling_strategy
        self.image_shape = image_shape
        self.architecture = architecture
        self.conv_channels = conv_channels
        self.hidden_units = hidden_units
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.callbacks = callbacks
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    def _fit_encoder(self, X, y, sample_shape, rng):
        vae_seed = rng.randint(np.iinfo(np.int32).max)
        vae_params = {
            name: getattr(self, name) for name in VAE._get_param_names() if name != "random_state"
        }
        if self.vae is None:
            X_vae = X if sample_shape is None else X.reshape(len(X), *sample_shape)
            self.vae_ = VAE(**vae_params, random_state=vae_seed).fit(X_vae)
            return
        vae = self.vae.estimator if isinstance(self.vae, FrozenEstimator) else self.vae
        try:
            check_is_fitted(vae)
        except Exception as exc:
            raise ValueError(
                "The vae passed to VAEAugmenter is not fitted. Fit it first and wrap it "
                "in sklearn.frozen.FrozenEstimator so that cloning (e.g. by GridSearchCV) "
                "keeps its weights, or leave vae=None to train one on X."
            ) from exc
        defaults = VAE().get_params()
        ignored = sorted(name for name, value in vae_params.items() if value != defaults[name])
        if ignored:
            warnings.warn(
                f"VAEAugmenter parameters {ignored} are not used because a fitted vae "
                "was given; set them on that VAE instead.",
                UserWarning,
                stacklevel=2,
            )
        if vae.n_features_in_ != X.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} values per sample but the given vae was fitted on "
                f"{vae.n_features_in_}."
            )
        self.vae_ = vae

    def _encode(self, X):
        return self.vae_.transform(X.reshape(len(X), *self.vae_.input_shape_))

    def _decode(self, Z):
        return self.vae_.inverse_transform(Z)
