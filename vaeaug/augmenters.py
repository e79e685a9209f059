"""Samplers that augment a labelled set in a latent space (imbalanced-learn API)."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from imblearn.utils import check_neighbors_object
from sklearn.frozen import FrozenEstimator
from sklearn.utils import gen_batches
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_memory

from ._base import ATTRIBUTES_DOC, BaseAugmenter
from ._docstrings import AMOUNT_PARAMETERS, GENERATION_PARAMETERS, VAE_PARAMETERS, substitute
from ._input import resolve_image_shape
from .generators import (
    add_noise,
    extrapolate,
    find_neighbors,
    interpolate,
    pair_with_neighbors,
)
from .jitter import affine_jitter, draw_jitter, resolve_jitter
from .training import INFERENCE_BATCH_SIZE
from .vae import VAE, fit_vae

_NEIGHBOR_METHODS = {"interpolation": interpolate, "extrapolation": extrapolate}


class BaseLatentAugmenter(BaseAugmenter):
    """Base class: generation in a latent space; subclasses map samples to latents.

    Subclasses implement ``_fit_encoder(X, y, sample_shape, rng)``,
    ``_encode(X)`` (samples to latent vectors) and ``_decode(Z)`` (latent
    vectors to an iterable of chunks of samples, see :class:`BaseAugmenter`).
    Warning: this class should not be used directly.
    """

    _parameter_constraints: dict = {
        **BaseAugmenter._parameter_constraints,
        "method": [StrOptions({"interpolation", "extrapolation", "noise"}), callable],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "k_neighbors": [Interval(Integral, 1, None, closed="left"), HasMethods(["kneighbors"])],
        "neighbor_search": [StrOptions({"class", "all"})],
    }

    def _fit_generator(self, X, y, sample_shape, random_state):
        if isinstance(self.k_neighbors, Integral):
            self.nn_k_ = check_neighbors_object(
                "k_neighbors", self.k_neighbors, additional_neighbor=1
            )
        else:
            self.nn_k_ = self.k_neighbors
        self._fit_encoder(X, y, sample_shape, random_state)

    def _make_samples(self, X, y, counts, random_state):
        """Encode, make new latent vectors with ``method``, decode."""
        _, base, partner, Z_new = self._move_in_latent_space(X, y, counts, random_state)
        return base, partner, self._decode(Z_new)

    def _move_in_latent_space(self, X, y, counts, random_state):
        """Return ``(Z, base, partner, Z_new)``: the encoded originals and the new vectors."""
        Z = self._encode(X)
        if self.method == "noise":
            base = np.repeat(np.arange(len(Z)), counts)
            partner = np.full(len(base), -1)
            Z_new = add_noise(
                Z[base], scale=Z.std(axis=0), alpha=self.alpha, random_state=random_state
            )
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
                Z_new = np.asarray(self.method(Z[base], Z[partner], random_state))
                if Z_new.shape != (len(base), Z.shape[1]):
                    raise ValueError(
                        f"The method callable must return an array of shape "
                        f"{(len(base), Z.shape[1])}; it returned shape {Z_new.shape}."
                    )
            else:
                Z_new = _NEIGHBOR_METHODS[self.method](Z[base], Z[partner], alpha=self.alpha)
        return Z, base, partner, Z_new


@substitute(
    generation_parameters=GENERATION_PARAMETERS,
    amount_parameters=AMOUNT_PARAMETERS,
    attributes=ATTRIBUTES_DOC,
)
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

    {amount_parameters}

    random_state : int, RandomState instance or None, default=None
        Seeds the noise and the sharing of new samples among originals.

    Attributes
    ----------
    nn_k_ : estimator
        The nearest-neighbours estimator (cloned for each class searched).
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
        return [Z]


@substitute(
    generation_parameters=GENERATION_PARAMETERS,
    amount_parameters=AMOUNT_PARAMETERS,
    vae_parameters=VAE_PARAMETERS,
    attributes=ATTRIBUTES_DOC,
)
class VAEAugmenter(BaseLatentAugmenter):
    """Augment labelled images by moving through a VAE's latent space.

    ``fit_resample`` trains a :class:`~vaeaug.VAE` on ``X`` without labels (or
    reuses a fitted one), encodes each sample to its posterior mean, makes new
    latent vectors with ``method``, decodes them back to images in the
    scale, dtype and shape of ``X`` and, for images, jitters each one with a
    small random rotation and shift. The originals come first, unchanged.
    ``max_rotation=0, max_shift=0`` is the paper's recipe.

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

    {amount_parameters}

    decoding : {{"direct", "residual"}}, default="direct"
        ``"direct"``: a synthetic sample is the decoding ``D(z')`` of its new
        latent vector. ``"residual"``: it is its original plus the change the
        new vector makes to the decoding, ``x + D(z') - D(z)``, clipped to the
        pixel range for images; it keeps the detail that the VAE cannot
        reconstruct.

    max_rotation : float or "auto", default="auto"
        Each decoded image is rotated by an angle drawn uniformly from
        ``[-max_rotation, max_rotation]`` degrees (bilinear, background 0).
        ``"auto"``: 10 for images, no jitter for tables. ``0`` turns it off.

    max_shift : float or "auto", default="auto"
        Each decoded image is shifted by offsets drawn uniformly from
        ``[-max_shift, max_shift]`` pixels along each axis. ``"auto"``: 2 for
        images of at least 28 pixels a side, 1/14 of the side for smaller
        ones (0.57 for 8x8), no shift for tables. ``0`` turns it off.

    {vae_parameters}

    memory : str, joblib.Memory or None, default=None
        Cache of trained VAEs (a folder, or a :class:`joblib.Memory`), keyed on
        the data and every VAE parameter, the derived seed included. A grid
        search that only varies generation parameters then trains one VAE per
        fold instead of one per grid point. Needs an int ``random_state`` to
        hit the cache.

    random_state : int, RandomState instance or None, default=None
        Seeds the VAE's training and the generation; the same seed gives the
        same output on the CPU, without touching global random states.

    Attributes
    ----------
    vae_ : VAE
        The fitted VAE in use.
    nn_k_ : estimator
        The nearest-neighbours estimator (cloned for each class searched).
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
        "decoding": [StrOptions({"direct", "residual"})],
        "max_rotation": [Interval(Real, 0, 180, closed="both"), StrOptions({"auto"})],
        "max_shift": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "memory": [None, str, HasMethods(["cache"])],
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
        decoding: str = "direct",
        max_rotation: float | str = "auto",
        max_shift: float | str = "auto",
        image_shape: tuple[int, ...] | None = None,
        architecture: str = "auto",
        conv_channels: tuple[int, ...] = (16, 8),
        hidden_units: int = 1024,
        kl_weight: float = 1.0,
        train_max_rotation: float | str = 0.0,
        train_max_shift: float | str = 0.0,
        max_epochs: int = 100,
        batch_size: int = 128,
        learning_rate: float = 2e-3,
        learning_rate_schedule: str = "cosine",
        validation_fraction: float = 0.1,
        patience: int | None = 5,
        callbacks: list | None = None,
        device: str = "auto",
        verbose: int = 0,
        memory=None,
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
        self.decoding = decoding
        self.max_rotation = max_rotation
        self.max_shift = max_shift
        self.image_shape = image_shape
        self.architecture = architecture
        self.conv_channels = conv_channels
        self.hidden_units = hidden_units
        self.kl_weight = kl_weight
        self.train_max_rotation = train_max_rotation
        self.train_max_shift = train_max_shift
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.callbacks = callbacks
        self.device = device
        self.verbose = verbose
        self.memory = memory
        self.random_state = random_state

    def _fit_encoder(self, X, y, sample_shape, rng):
        vae_seed = rng.randint(np.iinfo(np.int32).max)
        vae_params = {
            name: getattr(self, name) for name in VAE._get_param_names() if name != "random_state"
        }
        if self.vae is None:
            resolve_jitter(
                self.max_rotation,
                self.max_shift,
                resolve_image_shape(X.shape[1], sample_shape, self.image_shape, self.architecture),
            )
            X_vae = X if sample_shape is None else X.reshape(len(X), *sample_shape)
            cached_fit = check_memory(self.memory).cache(fit_vae)
            self.vae_ = cached_fit(VAE(**vae_params, random_state=vae_seed), X_vae)
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
        defaults = type(self)().get_params()
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
        resolve_jitter(self.max_rotation, self.max_shift, vae.image_shape_)
        self.vae_ = vae

    def _jitter_bounds(self) -> tuple[float, float]:
        """``(max_rotation, max_shift)`` with ``"auto"`` resolved for the VAE's data."""
        return resolve_jitter(self.max_rotation, self.max_shift, self.vae_.image_shape_)

    def _make_samples(self, X, y, counts, random_state):
        Z, base, partner, Z_new = self._move_in_latent_space(X, y, counts, random_state)
        max_rotation, max_shift = self._jitter_bounds()
        jitter = None
        if max_rotation or max_shift:
            jitter = draw_jitter(len(base), max_rotation, max_shift, random_state)
        return base, partner, self._finish(self._decode(Z_new), X, Z, base, jitter)

    def _finish(self, decoded, X, Z, base, jitter):
        """Turn chunks of decoded samples into synthetic samples (``decoding``, jitter)."""
        if self.decoding == "residual":
            # What the VAE cannot reconstruct of each original, added back to its new samples.
            details = X - self.vae_.inverse_transform(Z).reshape(X.shape)
        start = 0
        for chunk in decoded:
            rows = slice(start, start + len(chunk))
            start = rows.stop
            if self.decoding == "residual":
                chunk = chunk.reshape(len(chunk), -1) + details[base[rows]]
                if self.vae_.image_shape_ is not None:
                    np.clip(chunk, 0, self.vae_.pixel_max_, out=chunk)
            if jitter is not None:
                angles, shifts = jitter
                chunk = affine_jitter(
                    chunk.reshape(len(chunk), *self.vae_.image_shape_), angles[rows], shifts[rows]
                )
            yield chunk

    def _encode(self, X):
        return self.vae_.transform(X.reshape(len(X), *self.vae_.input_shape_))

    def _decode(self, Z):
        # Chunk by chunk, so that only the output holds all decoded samples.
        for rows in gen_batches(len(Z), INFERENCE_BATCH_SIZE):
            yield self.vae_.inverse_transform(Z[rows])
