"""PyTorch networks: the paper's convolutional VAE, a fully connected one for tables, its MLP."""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn
from torch.nn import functional as F


class _GaussianEncoderHead(nn.Module):
    """Maps hidden features to the mean and log-variance of q(z | x)."""

    def __init__(self, in_features: int, latent_dim: int):
        super().__init__()
        self.mean = nn.Linear(in_features, latent_dim)
        self.log_var = nn.Linear(in_features, latent_dim)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mean(h), self.log_var(h)


class VariationalAutoencoder(nn.Module):
    """Encoder, Gaussian latent and decoder; subclasses define the two stacks.

    ``decode`` returns the decoder's raw output: Bernoulli logits for images,
    Gaussian means for tables (see :func:`elbo_loss`).
    """

    encoder: nn.Module
    head: _GaussianEncoderHead
    decoder: nn.Module

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the mean and log-variance of the approximate posterior."""
        return self.head(self.encoder(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Return the decoder output for latent vectors ``z``."""
        return self.decoder(z)

    def forward(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return the decoder output, the posterior mean and its log-variance.

        In training mode the decoded latent vector is sampled from the
        posterior with noise drawn from ``generator`` (torch's default
        generator when ``None``); in evaluation mode it is the mean.
        """
        mean, log_var = self.encode(x)
        if self.training:
            noise = torch.randn(
                mean.shape, generator=generator, dtype=mean.dtype, device=mean.device
            )
            z = mean + noise * torch.exp(0.5 * log_var)
        else:
            z = mean
        return self.decode(z), mean, log_var


def _conv_output_size(size: int, kernel_size: int, stride: int) -> int:
    return (size + 2 * (kernel_size // 2) - kernel_size) // stride + 1


class ConvVAE(VariationalAutoencoder):
    """The paper's convolutional VAE, for images of any size and channel count.

    Encoder: ``len(conv_channels)`` convolutions (5x5, stride 2, ReLU), a fully
    connected layer of ``hidden_units``, then the mean and log-variance heads.
    The decoder mirrors it with transposed convolutions and returns logits of
    the same shape as the input.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)``.
    latent_dim : int
        Size of the latent space.
    conv_channels : tuple of int, default=(16, 8)
        Output channels of the encoder's convolutions.
    hidden_units : int, default=1024
        Width of the fully connected layer.
    kernel_size : int, default=5
        Side of the square convolution kernels.
    """

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        latent_dim: int,
        conv_channels: tuple[int, ...] = (16, 8),
        hidden_units: int = 1024,
        kernel_size: int = 5,
    ):
        super().__init__()
        channels, height, width = image_shape
        padding = kernel_size // 2
        sizes = [(height, width)]
        for _ in conv_channels:
            h, w = sizes[-1]
            sizes.append(
                (_conv_output_size(h, kernel_size, 2), _conv_output_size(w, kernel_size, 2))
            )
        in_channels = (channels, *conv_channels[:-1])
        flat_shape = (conv_channels[-1], *sizes[-1])
        flat_size = conv_channels[-1] * sizes[-1][0] * sizes[-1][1]

        encoder_layers: list[nn.Module] = []
        for c_in, c_out in zip(in_channels, conv_channels, strict=True):
            encoder_layers += [nn.Conv2d(c_in, c_out, kernel_size, 2, padding), nn.ReLU()]
        encoder_layers += [nn.Flatten(), nn.Linear(flat_size, hidden_units), nn.ReLU()]
        self.encoder = nn.Sequential(*encoder_layers)
        self.head = _GaussianEncoderHead(hidden_units, latent_dim)

        decoder_layers: list[nn.Module] = [
            nn.Linear(latent_dim, hidden_units),
            nn.ReLU(),
            nn.Linear(hidden_units, flat_size),
            nn.ReLU(),
            nn.Unflatten(1, flat_shape),
        ]
        # Walk the encoder backwards; output_padding recovers odd/even sizes exactly.
        layer_pairs = list(zip(in_channels, conv_channels, sizes[:-1], strict=True))[::-1]
        for i, (c_in, c_out, (h, w)) in enumerate(layer_pairs):
            output_padding = (1 - h % 2, 1 - w % 2)
            decoder_layers.append(
                nn.ConvTranspose2d(c_out, c_in, kernel_size, 2, padding, output_padding)
            )
            if i < len(layer_pairs) - 1:
                decoder_layers.append(nn.ReLU())
        self.decoder = nn.Sequential(*decoder_layers)
        # Channels-last kernels run these small convolutions faster on some CPUs
        # (measured in benchmarks/README.md); activations follow the weights' layout.
        self.to(memory_format=torch.channels_last)

    def init_for_relu(self, generator: torch.Generator) -> None:
        """Redraw the layers followed by a ReLU with He et al.'s initialisation.

        Weights normal with variance ``2 / fan_in`` (torch's default draws a
        sixth of that), biases zero. The VAE then reaches a given
        reconstruction error in fewer epochs (benchmarks/README.md, benchmark 1).

        Parameters
        ----------
        generator : torch.Generator
            A CPU generator, the source of the weights.
        """
        for stack in (self.encoder, self.decoder):
            for layer, following in pairwise(stack):
                if isinstance(following, nn.ReLU):
                    # Drawn in the contiguous layout, then copied, as init_module does.
                    weight = torch.empty(layer.weight.shape)
                    nn.init.kaiming_normal_(weight, nonlinearity="relu", generator=generator)
                    with torch.no_grad():
                        layer.weight.copy_(weight)
                        layer.bias.zero_()

    def start_at_intensity(self, mean: torch.Tensor) -> None:
        """Set the output biases so that the decoder starts at ``mean``, per channel.

        With biases near zero every pixel starts at 0.5; images that are mostly
        background reach a given reconstruction error about an epoch sooner from
        their mean intensity (benchmarks/README.md, benchmark 1).

        Parameters
        ----------
        mean : Tensor of shape (channels,)
            Mean pixel intensity of each channel, in (0, 1).
        """
        output = self.decoder[-1]
        with torch.no_grad():
            output.bias.copy_(torch.logit(mean).to(output.bias))


class DenseVAE(VariationalAutoencoder):
    """A fully connected VAE for feature tables.

    Parameters
    ----------
    n_features : int
        Number of input features.
    latent_dim : int
        Size of the latent space.
    hidden_units : int, default=1024
        Width of the single hidden layer of the encoder and of the decoder.
    """

    def __init__(self, n_features: int, latent_dim: int, hidden_units: int = 1024):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_features, hidden_units), nn.ReLU())
        self.head = _GaussianEncoderHead(hidden_units, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden_units), nn.ReLU(), nn.Linear(hidden_units, n_features)
        )


def elbo_loss(
    x: torch.Tensor,
    decoded: torch.Tensor,
    mean: torch.Tensor,
    log_var: torch.Tensor,
    likelihood: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Negative ELBO terms, summed over features and averaged over the batch.

    Parameters
    ----------
    x : Tensor
        The batch.
    decoded : Tensor
        Decoder output of the same shape: logits when ``likelihood="bernoulli"``,
        means when ``likelihood="gaussian"`` (unit variance).
    mean, log_var : Tensor of shape (batch, latent_dim)
        Parameters of the approximate posterior.
    likelihood : {"bernoulli", "gaussian"}
        Reconstruction likelihood.

    Returns
    -------
    reconstruction, kl : Tensor
        Scalars, in nats per sample.
    """
    # In the input's type also when the network ran under bfloat16 autocast.
    decoded, mean, log_var = (t.to(x.dtype) for t in (decoded, mean, log_var))
    if likelihood == "bernoulli":
        per_element = F.binary_cross_entropy_with_logits(decoded, x, reduction="none")
    else:
        per_element = 0.5 * (decoded - x) ** 2
    reconstruction = per_element.flatten(1).sum(1).mean()
    kl = -0.5 * (1 + log_var - mean.pow(2) - log_var.exp()).sum(1).mean()
    return reconstruction, kl


def elbo_terms(
    module: VariationalAutoencoder,
    x: torch.Tensor,
    *,
    likelihood: str,
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """Loss terms of a VAE for :func:`vaeaug.engine.training.train_module`.

    Returns ``{"reconstruction": ..., "kl": ...}`` from :func:`elbo_loss`;
    in training mode the latent noise is drawn from ``generator``, in
    evaluation mode the posterior mean is decoded.
    """
    reconstruction, kl = elbo_loss(x, *module(x, generator), likelihood)
    return {"reconstruction": reconstruction, "kl": kl}


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
