from itertools import pairwise

import pytest
import torch
from torch.nn import functional as F

from vaeaug.engine.networks import ConvVAE, DenseVAE, elbo_loss


@pytest.mark.parametrize(
    "image_shape", [(1, 8, 8), (1, 28, 28), (1, 70, 70), (3, 7, 9), (2, 1, 1), (1, 5, 12)]
)
def test_conv_vae_reconstructs_the_input_shape(image_shape):
    module = ConvVAE(image_shape, latent_dim=3, hidden_units=16)
    x = torch.rand(4, *image_shape)
    decoded, mean, log_var = module(x)
    assert decoded.shape == x.shape
    assert mean.shape == log_var.shape == (4, 3)


def test_conv_vae_has_the_papers_layers():
    module = ConvVAE((1, 28, 28), latent_dim=20)
    convs = [m for m in module.encoder if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [
        (16, (5, 5), (2, 2)),
        (8, (5, 5), (2, 2)),
    ]
    assert module.head.mean.in_features == 1024
    assert module.head.mean.out_features == 20


def test_init_for_relu_redraws_the_layers_before_a_relu_and_no_other():
    module = ConvVAE((1, 28, 28), latent_dim=20)
    before = {name: p.detach().clone() for name, p in module.named_parameters()}
    module.init_for_relu(torch.Generator().manual_seed(0))
    before_relu = [
        layer
        for stack in (module.encoder, module.decoder)
        for layer, following in pairwise(stack)
        if isinstance(following, torch.nn.ReLU)
    ]
    # Both convolutions, the encoder's linear, the decoder's two linears and
    # its first transposed convolution; the heads and the output layer stay.
    assert len(before_relu) == 6
    redrawn = {id(p) for layer in before_relu for p in layer.parameters()}
    for name, parameter in module.named_parameters():
        if id(parameter) not in redrawn:
            assert torch.equal(parameter, before[name]), name
    for layer in before_relu:
        fan_in = layer.weight[0].numel()  # torch's fan-in, transposed layers included
        assert torch.all(layer.bias == 0)
        std = float(layer.weight.std())
        assert std == pytest.approx((2 / fan_in) ** 0.5, rel=0.15), type(layer).__name__


def test_dense_vae_shapes():
    module = DenseVAE(n_features=2, latent_dim=5, hidden_units=7)
    decoded, mean, _ = module(torch.randn(3, 2))
    assert decoded.shape == (3, 2)
    assert mean.shape == (3, 5)


def test_eval_mode_decodes_the_posterior_mean():
    module = DenseVAE(4, 2, 8).eval()
    x = torch.randn(5, 4)
    decoded, mean, _ = module(x)
    assert torch.equal(decoded, module.decode(mean))


def test_training_noise_is_drawn_from_the_generator():
    module = DenseVAE(4, 2, 8)
    x = torch.randn(5, 4)
    state = torch.random.get_rng_state()
    a, mean, log_var = module(x, torch.Generator().manual_seed(0))
    b, _, _ = module(x, torch.Generator().manual_seed(0))
    c, _, _ = module(x, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and not torch.allclose(a, c)
    assert torch.equal(torch.random.get_rng_state(), state)
    noise = torch.randn(mean.shape, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, module.decode(mean + noise * torch.exp(0.5 * log_var)))


def test_elbo_loss_matches_the_formulas():
    torch.manual_seed(0)
    x = torch.rand(6, 1, 4, 4)
    logits = torch.randn(6, 1, 4, 4)
    mean, log_var = torch.randn(6, 3), torch.randn(6, 3)
    reconstruction, kl = elbo_loss(x, logits, mean, log_var, "bernoulli")
    expected_rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / 6
    expected_kl = 0.5 * (mean**2 + log_var.exp() - 1 - log_var).sum() / 6
    torch.testing.assert_close(reconstruction, expected_rec)
    torch.testing.assert_close(kl, expected_kl)

    reconstruction, _ = elbo_loss(x, logits, mean, log_var, "gaussian")
    torch.testing.assert_close(reconstruction, 0.5 * ((logits - x) ** 2).sum() / 6)
