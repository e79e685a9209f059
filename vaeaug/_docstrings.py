"""Docstring fragments shared by estimators that expose the same parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def substitute(**fragments: str) -> Callable[[T], T]:
    """Class decorator filling ``{name}`` placeholders of the docstring.

    Does nothing when docstrings are stripped (``python -OO``).
    """

    def decorate(obj: T) -> T:
        if obj.__doc__ is not None:
            obj.__doc__ = obj.__doc__.format(**fragments)
        return obj

    return decorate


VAE_PARAMETERS = """image_shape : tuple of int, default=None
        Shape of one image, ``(height, width)`` or ``(channels, height, width)``
        (channels first), used to unflatten the rows of a 2-D ``X``. When
        ``None``, 3-D or 4-D arrays give their own shape and a 2-D ``X`` is a
        table, except that with ``architecture="auto"`` an array (not a data
        frame) whose width is a perfect square of at least 64 and that has no
        negative value is read as square single-channel images (784 -> 28x28),
        with a warning that says so.

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
        Adam's (peak) learning rate.

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

    device : str, default="auto"
        Torch device for training and inference; ``"auto"`` picks CUDA when
        available, else the CPU.

    verbose : int, default=0
        Show a progress bar over epochs when positive."""


GENERATION_PARAMETERS = """method : {"interpolation", "extrapolation", "noise"} or callable, \
default="interpolation"
        How new latent vectors are made from each encoded sample ``z`` (see
        :mod:`vaeaug.generators`): towards a neighbour ``z + alpha (z_n - z)``,
        away from it ``z + alpha (z - z_n)``, or ``z + alpha * e`` with
        Gaussian ``e`` scaled by the per-dimension standard deviation of the
        encoded set. A callable ``method(z, z_neighbor, random_state)`` gets
        arrays of shape ``(n, latent_dim)`` (each row paired with a neighbour,
        as for interpolation) and a ``RandomState``, and returns the new
        vectors, of the same shape.

    alpha : float, default=0.5
        Step of interpolation and extrapolation, strength of the noise.
        Not used by a callable ``method``.

    k_neighbors : int or estimator, default=3
        Number of nearest neighbours of each sample to pair it with, or a
        fitted-on-demand estimator with ``fit`` and ``kneighbors`` (such as
        :class:`~sklearn.neighbors.NearestNeighbors`) whose ``n_neighbors``
        counts the sample itself, as in imbalanced-learn's SMOTE. The ``j``-th
        new sample of an original is paired with its ``(j mod k)``-th nearest
        neighbour, so ``n_per_sample=3`` with ``k_neighbors=3`` is the paper's
        "one new sample per neighbour".

    neighbor_search : {"class", "all"}, default="class"
        Search neighbours among the samples of the same class (as the
        feature-space augmentation of DeVries & Taylor) or among all samples.
        A class with fewer than ``k_neighbors + 1`` samples pairs with the
        neighbours it has; a class with a single sample has none, gets no
        synthetic samples from the neighbour methods, and a warning says so."""


AMOUNT_PARAMETERS = """n_per_sample : int, default=3
        New samples made from each original when ``sampling_strategy`` is
        ``None``. Not used otherwise: a warning says so when it was changed.

    sampling_strategy : float, str, dict, callable or None, default=None
        ``None`` augments every class: ``n_per_sample`` new samples for each
        original, also on balanced data. Any other value has the meaning it
        has in imbalanced-learn's over-samplers (``"auto"``, ``"minority"``,
        a ratio, a dict of target counts, a callable) and balances classes;
        the new samples of a class are shared evenly among its originals."""
