"""Probe for issue 22: training images per second of the paper's VAE with
``torch.compile`` (inductor) of the network and loss, against eager.

Channels-last, fused Adam, Z=20, 8,192 random 28x28 images; three warm-up
steps (which include the compilation), then the median of three passes.
The reparameterisation's noise comes from one of three places:

- ``default``: torch's default generator, inside the compiled function;
- ``generator``: a ``torch.Generator`` passed to the network, as vaeaug's
  trainer does (dynamo breaks the graph at ``torch.randn(generator=...)``);
- ``outside``: drawn from that generator before the compiled function and
  passed to it.

One batch size per process: a second compilation in the same process failed
with a fake-tensor error at the reparameterisation's ``torch.randn``.

    python benchmarks/compile_probe.py 128 generator
"""

from __future__ import annotations

import statistics
import sys
import time

import torch
from _common import describe_machine

from vaeaug.engine.networks import ConvVAE, elbo_loss

N_IMAGES = 8192
NOISE_SOURCES = ("default", "generator", "outside")


def images_per_second(
    compiled: bool, batch_size: int, noise_source: str, rounds: int = 3
) -> tuple[float, float]:
    """Median images/s over ``rounds`` passes, and the seconds of the warm-up steps."""
    torch.manual_seed(0)
    images = torch.rand(N_IMAGES, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    model = ConvVAE((1, 28, 28), 20)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    generator = torch.Generator().manual_seed(0)

    def loss_of(batch, noise=None):
        if noise_source == "outside":
            mean, log_var = model.encode(batch)
            decoded = model.decode(mean + noise * torch.exp(0.5 * log_var))
            reconstruction, kl = elbo_loss(batch, decoded, mean, log_var, "bernoulli")
        else:
            passed = generator if noise_source == "generator" else None
            reconstruction, kl = elbo_loss(batch, *model(batch, passed), "bernoulli")
        return reconstruction + kl

    loss = torch.compile(loss_of) if compiled else loss_of

    def step(batch):
        noise = None
        if noise_source == "outside":
            noise = torch.randn(len(batch), 20, generator=generator)
        optimizer.zero_grad()
        loss(batch, noise).backward()
        optimizer.step()

    started = time.perf_counter()
    for _ in range(3):
        step(images[:batch_size])
    warm_up = time.perf_counter() - started
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        batches = [batch for batch in torch.split(images, batch_size) if len(batch) == batch_size]
        for batch in batches:
            step(batch)
        rates.append(len(batches) * batch_size / (time.perf_counter() - started))
    return statistics.median(rates), warm_up


def main() -> None:
    print(describe_machine())
    batch_size = int(sys.argv[1]) if len(sys.argv) > 1 else 128
    noise_source = sys.argv[2] if len(sys.argv) > 2 else "default"
    if noise_source not in NOISE_SOURCES:
        raise SystemExit(f"the noise source must be one of {NOISE_SOURCES}, not {noise_source!r}")
    eager, _ = images_per_second(False, batch_size, noise_source)
    compiled, warm_up = images_per_second(True, batch_size, noise_source)
    print(
        f"batch {batch_size}, noise {noise_source}: eager {eager:,.0f} images/s, "
        f"compiled {compiled:,.0f} ({compiled / eager:.2f}x); "
        f"compilation and 3 warm-up steps {warm_up:.1f} s"
    )


if __name__ == "__main__":
    main()
