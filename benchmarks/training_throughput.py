"""Benchmark 1b: training images per second of the paper's VAE by memory layout and batch size.

One Adam step after another on 8,192 random 28x28 images (speed does not
depend on the pixel values), Z=20; the first three steps are a warm-up. The
default layout is PyTorch's (NCHW); channels-last (NHWC) is what vaeaug's
``ConvVAE`` uses. The table's steps use Adam's default implementation, a
loop over the parameters on the CPU; then the fused Adam kernel that vaeaug
trains with against it, the cost of jittering every training batch
(``VAE(train_max_rotation=10, train_max_shift=2)``), and bfloat16 autocast of
the network (``VAE(precision="bfloat16")``, made for CPUs with native
bfloat16, AVX-512 BF16 or AMX), all in channels-last at batch 128.

    python benchmarks/training_throughput.py --repeats 5
"""

from __future__ import annotations

import statistics
import time

import torch
from _common import describe_machine, parser

from vaeaug.engine.image import MAX_ROTATION, MAX_SHIFT, random_jitter
from vaeaug.engine.networks import ConvVAE, elbo_loss

N_IMAGES = 8192


def images_per_second(
    memory_format: torch.memory_format,
    batch_size: int,
    fused: bool = False,
    jitter: bool = False,
    bfloat16: bool = False,
) -> float:
    torch.manual_seed(0)
    images = torch.rand(N_IMAGES, 1, 28, 28)
    model = ConvVAE((1, 28, 28), 20).to(memory_format=memory_format)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused or None)

    def step(batch):
        if jitter:
            batch = random_jitter(batch, MAX_ROTATION, MAX_SHIFT)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
            outputs = model(batch)
        reconstruction, kl = elbo_loss(batch, *outputs, "bernoulli")  # float32 loss
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
    args = parser(__doc__.splitlines()[0])
    args.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="rounds over all the settings; each figure is its median (default: %(default)s)",
    )
    args = args.parse_args()
    print(describe_machine())
    layouts = {"NCHW": torch.contiguous_format, "channels-last": torch.channels_last}
    settings = {
        (name, batch_size): dict(memory_format=memory_format, batch_size=batch_size)
        for name, memory_format in layouts.items()
        for batch_size in (128, 256, 512)
    }
    last = dict(memory_format=torch.channels_last, batch_size=128, fused=True)
    settings.update(
        {
            "fused": last,
            "jitter": dict(last, jitter=True),
            "bfloat16": dict(last, bfloat16=True),
        }
    )
    # Rounds over every setting, so that a drift of the machine's speed
    # reaches them all alike.
    rates = {key: [] for key in settings}
    for _ in range(args.repeats):
        for key, setting in settings.items():
            rates[key].append(images_per_second(**setting))
    rate = {key: statistics.median(values) for key, values in rates.items()}
    reference = rate["NCHW", 128]
    print("| layout | batch | images/s | vs NCHW at 128 |")
    print("|---|---|---|---|")
    for name in layouts:
        for batch_size in (128, 256, 512):
            value = rate[name, batch_size]
            print(f"| {name} | {batch_size} | {value:,.0f} | {value / reference:.2f}x |")
    looped, fused = rate["channels-last", 128], rate["fused"]
    print(
        f"\nchannels-last, batch 128: {looped:,.0f} images/s with Adam's loop, {fused:,.0f} "
        f"with fused Adam ({fused / looped:.2f}x); fused, {rate['jitter']:,.0f} with training "
        f"jitter ({rate['jitter'] / fused:.2f}x) and {rate['bfloat16']:,.0f} with bfloat16 "
        f"autocast ({rate['bfloat16'] / fused:.2f}x); medians of {args.repeats} rounds"
    )


if __name__ == "__main__":
    main()
