"""Probe for issue 22: training images per second of the paper's VAE with
``torch.compile`` (inductor) of the network and loss, against eager.

Channels-last, fused Adam, Z=20, 8,192 random 28x28 images; three warm-up
steps (which include the compilation), then the median of three passes.
One batch size per process: a second compilation in the same process failed
with a fake-tensor error at the reparameterisation's ``torch.randn``.
The noise is drawn from torch's default generator here; vaeaug's trainer
passes a ``torch.Generator`` to the network, which this probe does not try.

    python benchmarks/compile_probe.py 128
"""

from __future__ import annotations

import statistics
import sys
import time

import torch
from _common import describe_machine

from vaeaug.engine.networks import ConvVAE, elbo_loss

N_IMAGES = 8192


def images_per_second(compiled: bool, batch_size: int, rounds: int = 3) -> tuple[float, float]:
    """Median images/s over ``rounds`` passes, and the seconds of the warm-up steps."""
    torch.manual_seed(0)
    images = torch.rand(N_IMAGES, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    model = ConvVAE((1, 28, 28), 20).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)

    def loss_of(batch):
        reconstruction, kl = elbo_loss(batch, *model(batch), "bernoulli")
        return reconstruction + kl

    loss = torch.compile(loss_of) if compiled else loss_of

    def step(batch):
        optimizer.zero_grad()
        loss(batch).backward()
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
    eager, _ = images_per_second(False, batch_size)
    compiled, warm_up = images_per_second(True, batch_size)
    print(
        f"batch {batch_size}: eager {eager:,.0f} images/s, compiled {compiled:,.0f} "
        f"({compiled / eager:.2f}x); compilation and 3 warm-up steps {warm_up:.1f} s"
    )


if __name__ == "__main__":
    main()
