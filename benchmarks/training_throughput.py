"""Benchmark 1b: training images per second of the paper's VAE by memory layout and batch size.

One Adam step after another on 8,192 random 28x28 images (speed does not
depend on the pixel values), Z=20; the first three steps are a warm-up. The
default layout is PyTorch's (NCHW); channels-last (NHWC) is what vaeaug's
``ConvVAE`` uses. Last, the cost of jittering every training batch
(``VAE(train_max_rotation=10, train_max_shift=2)``) in that layout.

    python benchmarks/training_throughput.py
"""

from __future__ import annotations

import time

import torch
from _common import describe_machine, parser

from vaeaug.jitter import MAX_ROTATION, MAX_SHIFT, random_jitter
from vaeaug.network import ConvVAE, elbo_loss

N_IMAGES = 8192


def images_per_second(
    memory_format: torch.memory_format, batch_size: int, jitter: bool = False
) -> float:
    torch.manual_seed(0)
    images = torch.rand(N_IMAGES, 1, 28, 28)
    model = ConvVAE((1, 28, 28), 20).to(memory_format=memory_format)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(batch):
        if jitter:
            batch = random_jitter(batch, MAX_ROTATION, MAX_SHIFT)
        reconstruction, kl = elbo_loss(batch, *model(batch), "bernoulli")
        optimizer.zero_grad()
        (reconstruction + kl).backward()
        optimizer.step()

    for _ in range(3):
        step(images[:batch_size])
    started = time.perf_counter()
    for batch in torch.split(images, batch_size):
        step(batch)
    return N_IMAGES / (time.perf_counter() - started)


def main() -> None:
    parser(__doc__.splitlines()[0]).parse_args()
    print(describe_machine())
    print("| layout | batch | images/s | vs NCHW at 128 |")
    print("|---|---|---|---|")
    reference = None
    for name, memory_format in [
        ("NCHW", torch.contiguous_format),
        ("channels-last", torch.channels_last),
    ]:
        for batch_size in (128, 256, 512):
            rate = images_per_second(memory_format, batch_size)
            reference = reference or rate
            print(f"| {name} | {batch_size} | {rate:,.0f} | {rate / reference:.2f}x |", flush=True)
    plain = images_per_second(torch.channels_last, 128)
    jittered = images_per_second(torch.channels_last, 128, jitter=True)
    print(
        f"\nchannels-last, batch 128: {plain:,.0f} images/s plain, {jittered:,.0f} with "
        f"training jitter ({jittered / plain:.2f}x)"
    )


if __name__ == "__main__":
    main()
