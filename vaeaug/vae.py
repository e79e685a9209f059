"""The :class:`VAE` estimator: trains a VAE without labels, encodes and decodes."""

from __future__ import annotations

import copy
import functools
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._atomic import fit_atomically
from ._input import (
    INFERENCE_BATCH_SIZE,
    RowReader,
    flatten_samples,
    resolve_image_shape,
    row_batches,
    standard_scaling,
    value_range,
)
from ._torch_state import TorchStateMixin
from .callbacks import EarlyStopping, ProgressBar
from .jitter import random_jitter, resolve_jitter
from .network import ConvVAE, DenseVAE, VariationalAutoencoder, elbo_terms
from .training import RowSource, fit_module, resolve_device

# A shorter memory of squared gradients than Adam's default 0.999: on MNIST the
# VAE reaches a given loss about an epoch sooner and ends 1 nat lower after its
# 12-epoch schedule (benchmarks/README.md, benchmark 1).
_ADAM_BETAS = (0.9, 0.99)

#: The largest float32: the network computes in float32, where larger values
#: overflow to infinity and give NaN.
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class VAE(TorchStateMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Variational autoencoder as a scikit-learn transformer.

    ``fit`` trains the VAE without labels; ``transform`` encodes samples to the
    mean of their approximate posterior; ``inverse_transform`` decodes latent
    vectors back to samples in the scale of the training data.

    Images may be given flattened ``(n, H*W*C)`` or as ``(n, H, W)`` /
    ``(n, C, H, W)`` arrays. Pixel values must be non-negative: when all of
    them are at most 1 they are read as intensities in [0, 1]; otherwise the
    largest value seen in ``fit`` is taken as full intensity (255 for 8-bit
    images, 16 for scikit-learn's digits). Decoded images come back in that
    same scale.

    Parameters
    ----------
    latent_dim : int, default=20
        Size of the latent space.

    image_shape : tuple of int, default=None
        Shape of one image, ``(height, width)`` or ``(channels, height, width)``
        (channels first), used to unflatten the rows of a 2-D ``X``. When
        ``None``, 3-D or 4-D arrays give their own shape and a 2-D ``X`` is a
        table, except that with ``architecture="auto"`` an array (not a data
        frame) whose width is a perfect square of at least 64 and that has no
        negative value is read as square single-channel images (784 ->
        28x28), with a warning; such inferred images get no ``"auto"`` jitter.

    architecture : {"auto", "conv", "dense"}, default="auto"
        ``"conv"`` is the paper's convolutional VAE with a Bernoulli
        likelihood on pixels; ``"dense"`` a fully connected VAE with a
        Gaussian likelihood on standardised features, for tables. ``"auto"``
        uses ``"conv"`` when the data are images (see ``image_shape``),
        ``"dense"`` otherwise.

    conv_channels : tuple of int, default=(16, 8)
        Output channels of the encoder's 5x5 stride-2 convolutions (the
        decoder mirrors them).

    hidden_units : int, default=1024
        Width of the fully connected hidden layer of encoder and decoder.

    kl_weight : float, default=1.0
        Weight of the KL divergence in the training objective; 1 is the ELBO
        (the paper). Smaller values (a beta-VAE with beta < 1) keep more
        information in the latent code and give sharper decodes, which small
        images (e.g. 8x8) need to avoid posterior collapse.

    train_max_rotation : float or "auto", default=0.0
        Each training image is rotated by a fresh angle drawn uniformly from
        ``[-train_max_rotation, train_max_rotation]`` degrees every time it
        is seen (the images held out for early stopping are not), so the
        VAE learns from more varied images than it is given: unseen images
        are reconstructed much better when the training images are few, and
        training runs for more epochs before it stops early. The background
        is taken to be 0. ``"auto"``: 10 for declared images (an image array,
        ``image_shape`` or ``architecture="conv"``), none for tables and
        images inferred from the width of flat rows (a
        positive value for a table is an error); ``0`` (the paper) turns it
        off.

    train_max_shift : float or "auto", default=0.0
        Likewise, shifts of up to ``train_max_shift`` pixels along each axis.
        ``"auto"``: 2 for images of at least 28 pixels a side, 1/14 of the
        side for smaller ones, none for tables.

    max_epochs : int, default=100
        Largest number of passes over the training data.

    batch_size : int, default=128
        Mini-batch size.

    learning_rate : float, default=2e-3
        Adam's (peak) learning rate; Adam's decay rates are 0.9 and 0.99.

    learning_rate_schedule : {"constant", "cosine"}, default="cosine"
        ``"cosine"`` warms the learning rate up over the first epoch, then
        decays it to zero along a half cosine ending at ``max_epochs``: the
        loss falls faster than with ``"constant"``, and ``max_epochs`` sets
        the length of training.

    validation_fraction : float, default=0.1
        Fraction of the samples held out to monitor the reconstruction loss
        (at least one sample when positive). ``0`` disables early stopping.

    patience : int or None, default=5
        Epochs without improvement of the validation reconstruction loss
        before training stops; the weights of the best epoch are restored.
        ``None`` trains for ``max_epochs``.

    callbacks : list of Callback, default=None
        Extra :class:`~vaeaug.callbacks.Callback` objects, copied at each fit
        and called after the built-in early stopping and progress bar.

    device : str or torch.device, default="auto"
        Torch device for training and inference; ``"auto"`` picks CUDA when
        available (the first GPU the process sees: in a Dask worker started
        with ``CUDA_VISIBLE_DEVICES=i``, GPU ``i``), else the CPU.

    precision : {"float32", "bfloat16"}, default="float32"
        ``"bfloat16"`` trains with mixed precision: the network's matrix
        products and convolutions run in bfloat16 (:class:`torch.autocast`),
        while the weights, the optimiser and the loss stay float32. It is
        made for CPUs with native bfloat16 (AVX-512 BF16 or AMX: 1.34x the
        images per second on an AVX-512 EPYC, see ``benchmarks/README.md``)
        and GPUs from NVIDIA's Ampere on (not measured); other CPUs emulate
        bfloat16, which can make it slower. The model differs a little from
        a float32 one, and from one kind of host to another. Encoding and
        decoding always run in float32.

    verbose : int, default=0
        Show a progress bar over epochs when positive.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, the validation split and the batches.
        An int gives the same weights from run to run on the CPU of one
        machine, with one torch version and one number of torch threads
        (``torch.get_num_threads()``); another thread count, torch version or
        CPU can round differently in the last bits, and training can grow
        such differences (see the user guide's "Reproducibility and
        devices"). The global torch random state is left untouched; so is
        numpy's, unless ``None`` draws the seed from it.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (:class:`~vaeaug.network.ConvVAE` or
        :class:`~vaeaug.network.DenseVAE`), in evaluation mode.
    history_ : list of dict
        One entry per epoch: training and validation losses in nats per
        sample, the learning rate, and the epoch's duration in seconds (see
        :func:`vaeaug.training.train_module`).
    image_shape_ : tuple of int or None
        ``(channels, height, width)`` of the images, or ``None`` for tables.
    images_declared_ : bool
        Whether the user said the samples are images (an image array,
        ``image_shape`` or ``architecture="conv"``), rather than vaeaug
        inferring it from a square width: only declared images get ``"auto"``
        jitter.
    input_shape_ : tuple of int
        Shape of one sample as given to ``fit`` (used by ``inverse_transform``).
    pixel_max_ : float
        Full pixel intensity (images only).
    mean_, scale_ : ndarray of shape ``(n_features_in_,)``
        Standardisation of the features (tables only).
    device_ : torch.device
        Device the network lives on.
    n_features_in_ : int
        Number of values per sample.
    feature_names_in_ : ndarray of shape ``(n_features_in_,)``
        Column names, when ``X`` was a data frame with string column names.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from vaeaug import VAE
    >>> X, _ = load_digits(return_X_y=True)
    >>> vae = VAE(latent_dim=8, image_shape=(8, 8), max_epochs=2, random_state=0).fit(X)
    >>> vae.transform(X[:3]).shape
    (3, 8)
    >>> vae.inverse_transform(vae.transform(X[:3])).shape
    (3, 64)
    """

    _parameter_constraints: dict = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "image_shape": ["array-like", None],
        "architecture": [StrOptions({"auto", "conv", "dense"})],
        "conv_channels": ["array-like"],
        "hidden_units": [Interval(Integral, 1, None, closed="left")],
        "kl_weight": [Interval(Real, 0, None, closed="left")],
        "train_max_rotation": [Interval(Real, 0, 180, closed="both"), StrOptions({"auto"})],
        "train_max_shift": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions({"constant", "cosine"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "callbacks": [list, None],
        "device": [str, torch.device],
        "precision": [StrOptions({"float32", "bfloat16"})],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        latent_dim: int = 20,
        *,
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
        device: str | torch.device = "auto",
        precision: str = "float32",
        verbose: int = 0,
        random_state: int | np.random.RandomState | None = None,
    ):
        self.latent_dim = latent_dim
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
        self.precision = precision
        self.verbose = verbose
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None) -> VAE:
        """Train the VAE on ``X`` (labels are not used).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, H, W) \
                or (n_samples, C, H, W)
            Training samples. Training reads a NumPy array a mini-batch at a
            time and converts only that batch to float32, on the device for
            uint8 images: a pool of uint8 images larger than memory trains
            from a memory map (``np.load(path, mmap_mode="r")`` or
            :class:`numpy.memmap`) without a float copy of it. So do integer
            array-likes that are not NumPy arrays but read rows by index, such
            as h5py datasets (``X[rows]`` with a slice or increasing row
            numbers); tables among them are read whole.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : VAE
            The fitted estimator.

        Raises
        ------
        FloatingPointError
            When training diverges; a smaller ``learning_rate`` usually helps.

        Notes
        -----
        Fitting is transactional: the fitted attributes are computed apart and
        set together once training has finished. If training raises (Ctrl-C's
        ``KeyboardInterrupt``, divergence, a callback's exception), every
        callback's ``on_train_end`` still runs (the progress bar closes), the
        exception propagates, and the estimator is left exactly as it was
        before ``fit``: unfitted, or with the network, scaling and history of
        its previous fit. So Ctrl-C stops a whole grid search, not one fit.
        """
        fit_atomically(self, lambda twin: twin._fit(X))
        return self

    def _fit(self, X) -> None:
        """Body of ``fit``, run on an unfitted twin by :func:`~vaeaug._atomic.fit_atomically`."""
        X_2d, sample_shape = self._validate(X, reset=True)
        self.input_shape_ = sample_shape or (X_2d.shape[1],)
        self.image_shape_ = self._image_shape_of(X, X_2d.shape[1], sample_shape)
        said = self.architecture == "conv" or self.image_shape is not None
        self.images_declared_ = self.image_shape_ is not None and (said or bool(sample_shape))
        if self.image_shape_ is not None:
            self._fit_pixel_scale(X_2d)
        else:
            X_2d = np.asarray(X_2d)  # tables are read whole
            self.mean_, self.scale_ = standard_scaling(X_2d)
        max_rotation, max_shift = resolve_jitter(
            self.train_max_rotation,
            self.train_max_shift,
            self.image_shape_,
            names=("train_max_rotation", "train_max_shift"),
            declared=self.images_declared_,
        )
        augment = None
        if max_rotation or max_shift:
            augment = functools.partial(
                random_jitter, max_rotation=max_rotation, max_shift=max_shift
            )
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
        self.module_, self.history_ = fit_module(
            self._build_network,
            functools.partial(elbo_terms, likelihood=self._likelihood),
            (RowSource(X_2d, self._to_tensor),),
            validation_fraction=self.validation_fraction,
            random_state=check_random_state(self.random_state),
            device=self.device_,
            make_callbacks=self._make_callbacks,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            learning_rate_schedule=self.learning_rate_schedule,
            adam_betas=_ADAM_BETAS,
            autocast_dtype=torch.bfloat16 if self.precision == "bfloat16" else None,
            term_weights={"kl": self.kl_weight},
            augment=augment,
        )

    def transform(self, X) -> np.ndarray:
        """Encode samples to the mean of their approximate posterior.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, H, W) \
                or (n_samples, C, H, W)
            Samples laid out as in ``fit``; encoded 2,048 at a time, so a
            memory map (or an array-like read by index, see ``fit``) is
            not copied whole.

        Returns
        -------
        Z : ndarray of shape (n_samples, latent_dim)
            float32 when ``X`` is float32, float64 otherwise.

        Raises
        ------
        ValueError
            When ``X`` holds a value out of float32's range (as scaled for the
            network), or one so far from the training data that the network
            overflows: the VAE computes in float32.
        """
        check_is_fitted(self)
        X_2d, _ = self._validate(X, reset=False)
        with torch.no_grad():
            means = [
                self.module_.encode(self._to_tensor(X_2d[rows]))[0].cpu()
                for rows in row_batches(len(X_2d), INFERENCE_BATCH_SIZE)
            ]
        Z = torch.cat(means)
        _check_finite_output(Z, "X", "encodes")
        return Z.numpy().astype(_float_dtype(X_2d), copy=False)

    def inverse_transform(self, Z) -> np.ndarray:
        """Decode latent vectors to samples in the scale and shape of the training data.

        Parameters
        ----------
        Z : array-like of shape (n_samples, latent_dim)
            Latent vectors.

        Returns
        -------
        X : ndarray of shape ``(n_samples, *input_shape_)``
            Decoded samples (Bernoulli means times ``pixel_max_`` for images,
            Gaussian means for tables); float32 when ``Z`` is float32, float64
            otherwise.

        Raises
        ------
        ValueError
            When ``Z`` holds a value out of float32's range, or one so large
            that the network overflows: the VAE decodes in float32.
        """
        check_is_fitted(self)
        Z = check_array(Z, dtype=[np.float64, np.float32], input_name="Z")
        if Z.shape[1] != self.latent_dim:
            raise ValueError(
                f"Z has {Z.shape[1]} columns but the VAE's latent_dim is {self.latent_dim}."
            )
        _check_float32_range(Z, "Z")
        out = np.empty((len(Z), self.n_features_in_), dtype=Z.dtype)
        with torch.no_grad():
            for rows in row_batches(len(Z), INFERENCE_BATCH_SIZE):
                z = torch.as_tensor(Z[rows], dtype=torch.float32, device=self.device_)
                decoded = self.module_.decode(z).flatten(1)
                _check_finite_output(decoded, "Z", "decodes", first_row=rows.start)
                if self.image_shape_ is not None:
                    decoded = torch.sigmoid(decoded) * self.pixel_max_
                out[rows] = decoded.cpu().numpy()
        if self.image_shape_ is None:
            out *= self.scale_
            out += self.mean_
        return out.reshape(len(Z), *self.input_shape_)

    def _validate(self, X, *, reset: bool) -> tuple:
        """``X`` as validated rows, and the shape of one sample if ``X`` was not 2-D.

        A NumPy array (memory-mapped or not) is validated without a copy; an
        array-like of integers read by index stays unread (a :class:`RowReader`).
        """
        X_2d, sample_shape = flatten_samples(X)
        if isinstance(X_2d, RowReader):
            validate_data(self, X_2d, reset=reset, skip_check_array=True)
            return X_2d, sample_shape
        return validate_data(self, X_2d, reset=reset, dtype="numeric"), sample_shape

    def _build_network(self) -> VariationalAutoencoder:
        """The untrained network for the data described by the fitted attributes."""
        if self.image_shape_ is not None:
            channels = _check_conv_channels(self.conv_channels)
            return ConvVAE(self.image_shape_, self.latent_dim, channels, self.hidden_units)
        return DenseVAE(self.n_features_in_, self.latent_dim, self.hidden_units)

    def _image_shape_of(
        self, X, n_features: int, sample_shape: tuple[int, ...] | None
    ) -> tuple[int, int, int] | None:
        """``(channels, height, width)`` of the samples of ``X``, or ``None`` for a table."""
        return resolve_image_shape(
            n_features, sample_shape, self.image_shape, self.architecture, X=X
        )

    @property
    def _n_features_out(self) -> int:
        return self.latent_dim

    @property
    def _likelihood(self) -> str:
        return "bernoulli" if self.image_shape_ is not None else "gaussian"

    def _fit_pixel_scale(self, X) -> None:
        low, high = value_range(X)
        if low < 0:
            raise ValueError(
                f"Images must have non-negative pixel values; X has a minimum of {low}. "
                "For data that are not images use architecture='dense'."
            )
        _check_float32_range(np.array([high]), "X")
        self.pixel_max_ = 1.0 if high <= 1 else float(high)

    def _to_tensor(self, X: np.ndarray) -> torch.Tensor:
        """Scale rows like the training data and move them to the device, in network layout.

        Images of a dtype that float32 holds exactly (uint8, float32...) move
        as they are and are divided on the device, which moves a quarter of
        the bytes for uint8; the float32 quotient equals numpy's float64 one
        rounded to float32, so the result is the same as on the host.

        Rows are made C-contiguous: kernels differ with the memory layout, and
        results must not depend on it (a DataFrame's values are F-ordered).
        """
        if self.image_shape_ is not None and np.can_cast(X.dtype, np.float32):
            # torch.from_numpy warns on read-only memory (a memory map opened with mode="r").
            x = torch.from_numpy(np.require(X, requirements="CW"))
            # Divided by a tensor, not a number, which CUDA would multiply by its reciprocal.
            pixel_max = torch.tensor(self.pixel_max_, dtype=torch.float32, device=self.device_)
            x = (x.to(self.device_, torch.float32) / pixel_max).clamp_(0.0, 1.0)
        else:
            if self.image_shape_ is not None:
                _check_float32_range(X, "X")
                x = np.clip(X / self.pixel_max_, 0.0, 1.0, dtype=np.float32)
            else:
                with np.errstate(over="ignore"):  # refused below, by name
                    x = ((X - self.mean_) / self.scale_).astype(np.float32)
                self._check_standardised(X, x)
            x = torch.from_numpy(np.ascontiguousarray(x)).to(self.device_)
        return x if self.image_shape_ is None else x.view(-1, *self.image_shape_)

    def _check_standardised(self, X: np.ndarray, x: np.ndarray) -> None:
        """Raise ValueError if a standardised value ``x`` of ``X`` overflowed float32."""
        if np.isfinite(x).all():
            return
        row, column = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(
            f"X holds {X[row, column].item()!r} in column {column}, which, standardised with the "
            f"training data's mean {self.mean_[column]:.6g} and scale {self.scale_[column]:.6g}, "
            f"is out of float32's range (+-{_FLOAT32_MAX:.4g}), in which the VAE computes."
        )

    def _make_callbacks(self, has_validation: bool) -> list:
        callbacks = []
        if has_validation and self.patience is not None:
            callbacks.append(EarlyStopping(patience=self.patience))
        if self.verbose:
            callbacks.append(ProgressBar())
        return callbacks + copy.deepcopy(self.callbacks or [])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _check_float32_range(values: np.ndarray, name: str) -> None:
    """Raise ValueError if ``values`` holds a number out of float32's range, as ``name``."""
    if values.dtype.kind != "f" or values.dtype.itemsize <= 4 or values.size == 0:
        return
    low, high = values.min(), values.max()
    if -_FLOAT32_MAX <= low and high <= _FLOAT32_MAX:
        return
    value = high if high > _FLOAT32_MAX else low
    raise ValueError(
        f"{name} holds {float(value)!r}, out of float32's range (+-{_FLOAT32_MAX:.4g}), in "
        "which the VAE computes."
    )


def _check_finite_output(output: torch.Tensor, name: str, verb: str, first_row: int = 0) -> None:
    """Raise ValueError if the network's ``output`` for rows of ``name`` holds NaN or infinity."""
    finite = torch.isfinite(output).flatten(1).all(1)
    if bool(finite.all()):
        return
    row = first_row + int(torch.nonzero(~finite)[0, 0])
    raise ValueError(
        f"Row {row} of {name} {verb} to NaN or infinite values: its values are so far from "
        "the training data's that the network, which computes in float32, overflows."
    )


def _float_dtype(X: np.ndarray) -> type:
    return np.float32 if X.dtype == np.float32 else np.float64


def _check_conv_channels(conv_channels) -> tuple[int, ...]:
    channels = tuple(conv_channels)
    if not channels or not all(isinstance(c, (int, np.integer)) and c > 0 for c in channels):
        raise ValueError(
            "conv_channels must be a non-empty sequence of positive integers; "
            f"got {conv_channels!r}."
        )
    return tuple(int(c) for c in channels)
