"""The :class:`VAE` estimator: trains a VAE without labels, encodes and decodes."""

from __future__ import annotations

import dataclasses
import functools
import math
from numbers import Real

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ..engine.image import random_jitter, resolve_jitter
from ..engine.networks import ConvVAE, DenseVAE, VariationalAutoencoder, elbo_terms
from ..engine.training import RowSource
from ..utils._layout import DataLayout, decide_layout
from ..utils._validation import (
    FLOAT32_MAX,
    INFERENCE_BATCH_SIZE,
    IntegerInterval,
    RowReader,
    check_float32_range,
    flatten_samples,
    row_batches,
    standard_scaling,
    standardise,
)
from ._base import FEATURE_FLOATS, FEATURE_SCALES, FittedAttribute, TorchEstimator, TrainingData


def _is_table(attributes: dict) -> bool:
    layout = attributes.get("layout_")
    return isinstance(layout, DataLayout) and not layout.is_image


def _is_shape(value, n_features: int) -> bool:
    return (
        isinstance(value, tuple)
        and all(isinstance(size, int) and not isinstance(size, bool) and size > 0 for size in value)
        and math.prod(value) == n_features
    )


def _is_layout(value, attributes: dict) -> bool:
    n_features = attributes["n_features_in_"]
    if not (isinstance(value, DataLayout) and _is_shape(value.sample_shape, n_features)):
        return False
    if value.image_shape is None:
        return value.pixel_max is None
    return (
        _is_shape(value.image_shape, n_features)
        and len(value.image_shape) == 3
        and isinstance(value.pixel_max, float)
        and 0 < value.pixel_max <= FLOAT32_MAX
    )


class VAE(ClassNamePrefixFeaturesOutMixin, TransformerMixin, TorchEstimator):
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
        frame) whose width is a perfect square of at least 64, that has no
        negative value and whose neighbouring values correlate as an image's
        pixels do is read as square single-channel images (784 -> 28x28),
        with a warning (see :func:`vaeaug.utils.decide_layout`).

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
        is taken to be 0. ``"auto"``: 10 for images, none for tables (a
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
        Extra :class:`~vaeaug.engine.callbacks.Callback` objects, copied at each fit
        and called after the built-in early stopping and progress bar.

    device : str or torch.device, default="auto"
        Torch device for training and inference; ``"auto"`` picks CUDA when
        available (the first GPU the process sees: in a Dask worker started
        with ``CUDA_VISIBLE_DEVICES=i``, GPU ``i``), else the CPU. Otherwise
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"`` (an Apple GPU).

    precision : {"float32", "bfloat16"}, default="float32"
        ``"bfloat16"`` trains with mixed precision: the network's matrix
        products and convolutions run in bfloat16 (:class:`torch.autocast`),
        while the weights, the optimiser and the loss stay float32. It is
        made for CPUs with native bfloat16 (AVX-512 BF16 or AMX; measured
        speed-ups are in ``benchmarks/README.md``) and GPUs from NVIDIA's
        Ampere on; other CPUs emulate
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
        The trained network (:class:`~vaeaug.engine.networks.ConvVAE` or
        :class:`~vaeaug.engine.networks.DenseVAE`), in evaluation mode.
    history_ : list of dict
        One entry per epoch: training and validation losses in nats per
        sample, the learning rate, and the epoch's duration in seconds (see
        :func:`vaeaug.engine.training.train_module`).
    layout_ : DataLayout
        How the samples are laid out, decided once in ``fit``: the shape of
        one sample (``layout_.sample_shape``, which decoded samples take),
        whether they are images (``layout_.image_shape``, ``(channels,
        height, width)``, or ``None`` for a table) and the full pixel
        intensity (``layout_.pixel_max``). See
        :class:`vaeaug.utils.DataLayout`.
    mean_, scale_ : ndarray of shape ``(n_features_in_,)``
        Standardisation of the features (tables only).
    device_ : torch.device
        Device the network lives on.
    n_features_in_ : int
        Number of values per sample.
    feature_names_in_ : ndarray of shape ``(n_features_in_,)``
        Column names, when ``X`` was a data frame with string column names.

    Notes
    -----
    ``fit`` reads a NumPy array a mini-batch at a time and converts only that
    batch to float32, on the device for uint8 images: a pool of uint8 images
    larger than memory trains from a memory map (``np.load(path,
    mmap_mode="r")`` or :class:`numpy.memmap`) without a float copy of it.
    So do integer array-likes that are not NumPy arrays but read rows by
    index, such as h5py datasets (``X[rows]`` with a slice or increasing row
    numbers); tables among them are read whole. Fitting is transactional
    (see :meth:`TorchEstimator.fit <vaeaug.estimators.TorchEstimator.fit>`).

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
        **TorchEstimator._parameter_constraints,
        "latent_dim": [IntegerInterval(1, None, closed="left")],
        "image_shape": ["array-like", None],
        "architecture": [StrOptions({"auto", "conv", "dense"})],
        "conv_channels": ["array-like"],
        "hidden_units": [IntegerInterval(1, None, closed="left")],
        "kl_weight": [Interval(Real, 0, None, closed="left")],
        "train_max_rotation": [Interval(Real, 0, 180, closed="both"), StrOptions({"auto"})],
        "train_max_shift": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
    }
    # A shorter memory of squared gradients than Adam's default 0.999 (see
    # benchmarks/README.md, benchmark 1).
    _adam_betas = (0.9, 0.99)
    _monitor = "valid_reconstruction"
    _fitted_attributes = {
        **TorchEstimator._fitted_attributes,
        "layout_": FittedAttribute(
            "a DataLayout of n_features_in_ values (pixel_max at most float32's largest, 3.4e38)",
            _is_layout,
        ),
        # Tables only: images are scaled by layout_.pixel_max.
        "mean_": dataclasses.replace(FEATURE_FLOATS, is_required=_is_table),
        "scale_": dataclasses.replace(FEATURE_SCALES, is_required=_is_table),
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

    @classmethod
    def _upgrade_fitted_attributes(cls, attributes: dict, format_version: int) -> dict:
        if format_version >= 2:
            return attributes
        # Version 1 kept the layout as four attributes.
        attributes = dict(attributes)
        layout = DataLayout(
            attributes.pop("input_shape_", None),
            attributes.pop("image_shape_", None),
            attributes.pop("pixel_max_", None),
        )
        attributes.pop("images_declared_", None)
        return {**attributes, "layout_": layout}

    def _validate_fit_data(self, X, y) -> tuple:
        X_2d, sample_shape = self._validate(X, reset=True)
        self.layout_ = decide_layout(
            X_2d,
            sample_shape,
            image_shape=self.image_shape,
            architecture=self.architecture,
            tabular=hasattr(X, "columns"),
        )
        if not self.layout_.is_image:
            X_2d = np.asarray(X_2d)  # tables are read whole
            self.mean_, self.scale_ = standard_scaling(X_2d)
        return X_2d, None

    def _training_data(self, X, y) -> TrainingData:
        # Read, converted and moved a mini-batch at a time (see fit's X).
        return (RowSource(X, self._to_tensor),)

    def _initialise(
        self,
        module: VariationalAutoencoder,
        train_data: TrainingData,
        generator: torch.Generator,
    ) -> None:
        """For images: He's initialisation before ReLUs, the decoder at the mean intensity.

        The mean intensity per channel is estimated on at most 10,000 evenly
        spaced training images, read a batch at a time. Tables keep torch's
        initialisation.
        """
        if not self.layout_.is_image:
            return
        module.init_for_relu(generator)
        images = train_data[0]
        positions = np.linspace(0, len(images) - 1, min(len(images), 10_000)).astype(np.intp)
        total = 0.0
        for rows in row_batches(len(positions), INFERENCE_BATCH_SIZE):
            total = total + images[positions[rows]].float().mean(dim=(2, 3)).sum(dim=0)
        module.start_at_intensity((total / len(positions)).clamp(1e-3, 1 - 1e-3))

    def _build_network(self) -> VariationalAutoencoder:
        """The untrained network for the data described by ``layout_``."""
        if self.layout_.is_image:
            channels = _check_conv_channels(self.conv_channels)
            return ConvVAE(self.layout_.image_shape, self.latent_dim, channels, self.hidden_units)
        return DenseVAE(self.n_features_in_, self.latent_dim, self.hidden_units)

    def _loss_terms(self, module: VariationalAutoencoder, x, generator=None) -> dict:
        likelihood = "bernoulli" if self.layout_.is_image else "gaussian"
        return elbo_terms(module, x, likelihood=likelihood, generator=generator)

    def _term_weights(self) -> dict[str, float]:
        return {"kl": self.kl_weight}

    def _batch_augmentation(self):
        max_rotation, max_shift = resolve_jitter(
            self.train_max_rotation,
            self.train_max_shift,
            self.layout_,
            names=("train_max_rotation", "train_max_shift"),
        )
        if not (max_rotation or max_shift):
            return None
        return functools.partial(random_jitter, max_rotation=max_rotation, max_shift=max_shift)

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
        X : ndarray of shape ``(n_samples, *layout_.sample_shape)``
            Decoded samples (Bernoulli means times ``layout_.pixel_max`` for images,
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
        check_float32_range(Z, "Z")
        out = np.empty((len(Z), self.n_features_in_), dtype=Z.dtype)
        with torch.no_grad():
            for rows in row_batches(len(Z), INFERENCE_BATCH_SIZE):
                z = torch.as_tensor(Z[rows], dtype=torch.float32, device=self.device_)
                decoded = self.module_.decode(z).flatten(1)
                _check_finite_output(decoded, "Z", "decodes", first_row=rows.start)
                if self.layout_.is_image:
                    decoded = torch.sigmoid(decoded) * self.layout_.pixel_max
                out[rows] = decoded.cpu().numpy()
        if not self.layout_.is_image:
            out *= self.scale_
            out += self.mean_
        return out.reshape(len(Z), *self.layout_.sample_shape)

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

    def _declared_layers(self) -> tuple[int, str]:
        return (len(self.conv_channels) if self.layout_.is_image else 0), "conv_channels"

    def _network_input_shape(self) -> tuple[int, ...]:
        return self.layout_.image_shape or (self.n_features_in_,)

    @property
    def _n_features_out(self) -> int:
        return self.latent_dim

    def _to_tensor(self, X: np.ndarray) -> torch.Tensor:
        """Scale rows like the training data and move them to the device, in network layout.

        Images of a dtype that float32 holds exactly (uint8, float32...) move
        as they are and are divided on the device, which moves a quarter of
        the bytes for uint8; the float32 quotient equals numpy's float64 one
        rounded to float32, so the result is the same as on the host.

        Rows are made C-contiguous: kernels differ with the memory layout, and
        results must not depend on it (a DataFrame's values are F-ordered).
        """
        layout = self.layout_
        if layout.is_image and np.can_cast(X.dtype, np.float32):
            # torch.from_numpy warns on read-only memory (a memory map opened with mode="r").
            x = torch.from_numpy(np.require(X, requirements="CW"))
            # Divided by a tensor, not a number, which CUDA would multiply by its reciprocal.
            pixel_max = torch.tensor(layout.pixel_max, dtype=torch.float32, device=self.device_)
            x = (x.to(self.device_, torch.float32) / pixel_max).clamp_(0.0, 1.0)
        else:
            if layout.is_image:
                check_float32_range(X, "X")
                x = np.clip(X / layout.pixel_max, 0.0, 1.0, dtype=np.float32)
            else:
                x = standardise(X, self.mean_, self.scale_)
            x = torch.from_numpy(np.ascontiguousarray(x)).to(self.device_)
        return x.view(-1, *layout.image_shape) if layout.is_image else x

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


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
