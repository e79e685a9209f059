"""Benchmark 6: training a VAE on a pool of uint8 images kept on disk, against MNIST in memory.

Builds a pool of ``--copies`` jittered copies of MNIST's 55,000 training
images (a random rotation of up to 10 degrees and shift of up to 2 pixels
each, rounded back to uint8) in a ``.npy`` file, written chunk by chunk so
that building it does not hold the pool in memory. Then it trains
``VAE(latent_dim=20, max_epochs=1, random_state=0)`` (otherwise the
defaults: batch 128, a tenth held out for validation) on:

- ``float32``: the 55,000 images in memory, scaled to [0, 1];
- ``uint8``: the same images in memory as uint8;
- ``pool``: the pool, opened with ``np.load(..., mmap_mode="r")``.

Each case runs in a fresh process, which reports its resident memory before
``fit`` (data loaded) and its peak during ``fit`` (``ru_maxrss``, the peak
reset just before ``fit`` through ``/proc/self/clear_refs``), and the
training speed: training images per second of the epoch (its
duration includes the validation pass). The pages of a memory map that
``fit`` reads count in the resident memory of the process, so the peak of
the ``pool`` case includes the pool file, less whatever the kernel evicts.
``--old-code PATH`` runs the cases again with the vaeaug found in PATH (a
checkout from before the change) for a before/after comparison.

``--compare-paths`` instead times, in one process and alternating to share
out the machine's drift, one epoch on the first ``--path-images`` float32
images in memory read a batch at a time (what ``fit`` does) and converted
into one tensor on the device beforehand (what ``fit`` did before).

    python benchmarks/memmap_pool.py --data-home ../shared/data
    python benchmarks/memmap_pool.py --data-home ../shared/data --copies 10  # 550,000 images
    python benchmarks/memmap_pool.py --data-home ../shared/data --compare-paths
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from unittest import mock

import numpy as np
from _common import describe_machine, parser

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = ("float32", "uint8", "pool")
#: Images jittered and written at once while building the pool.
CHUNK = 5000
MIB = 2**20


def build_pool(path: str, images: np.ndarray, copies: int, seed: int = 0) -> None:
    """Write ``copies`` randomly jittered copies of ``images`` (uint8) to the .npy file ``path``."""
    from vaeaug.engine.image import MAX_ROTATION, MAX_SHIFT, affine_jitter, draw_jitter

    rng = np.random.RandomState(seed)
    n = len(images)
    pool = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(copies * n, 28, 28))
    for start in range(0, copies * n, CHUNK):
        originals = images[np.arange(start, min(start + CHUNK, copies * n)) % n]
        angles, shifts = draw_jitter(len(originals), MAX_ROTATION, MAX_SHIFT, rng)
        jittered = affine_jitter(originals[:, None], angles, shifts)[:, 0]
        pool[start : start + len(originals)] = np.clip(np.rint(jittered), 0, 255)
    pool.flush()
    del pool


def current_rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_case(case: str, data_home: str, pool_path: str) -> dict:
    """Train in this process and return the figures of ``case``."""
    from vaeaug import VAE
    from vaeaug.paper.datasets import load_mnist

    if case == "pool":
        X = np.load(pool_path, mmap_mode="r")
    else:
        X = load_mnist(data_home, download_if_missing=False).X_train.copy()
        if case == "float32":
            X = X.astype(np.float32)
            X /= 255
    before = current_rss_mib()
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # the peak resident memory starts again from here
    started = time.perf_counter()
    vae = VAE(latent_dim=20, max_epochs=1, random_state=0).fit(X)
    fit_s = time.perf_counter() - started
    n_train = len(X) - round(0.1 * len(X))
    return {
        "case": case,
        "images": len(X),
        "data_mib": X.nbytes / MIB,
        "rss_before_mib": before,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "fit_s": fit_s,
        "images_per_s": n_train / vae.history_[0]["duration"],
        "valid_loss": vae.history_[0]["valid_loss"],
    }


def compare_paths(data_home: str, n_images: int, rounds: int) -> None:
    """Print training images/s of batches read from an array and sliced from one tensor."""
    from vaeaug import VAE
    from vaeaug.paper.datasets import load_mnist

    X = load_mnist(data_home, download_if_missing=False).X_train[:n_images].astype(np.float32)
    X /= 255
    # What fit did before: the whole input converted to one tensor, then sliced.
    whole_tensor = mock.patch("vaeaug.estimators._vae.RowSource", lambda X, to_tensor: to_tensor(X))
    rates: dict[str, list[float]] = {"batches read from the array": [], "one tensor": []}
    for _ in range(rounds):
        for path, rate in rates.items():
            with whole_tensor if path == "one tensor" else contextlib.nullcontext():
                vae = VAE(latent_dim=20, max_epochs=1, random_state=0).fit(X)
            rate.append((len(X) - round(0.1 * len(X))) / vae.history_[0]["duration"])
            print(f"{path}: {rate[-1]:,.0f} images/s", flush=True)
    medians = {path: float(np.median(rate)) for path, rate in rates.items()}
    print(
        f"median over {rounds} rounds: "
        + ", ".join(f"{p} {r:,.0f}" for p, r in medians.items())
        + f"; ratio {medians['batches read from the array'] / medians['one tensor']:.3f}"
    )


def run_in_subprocess(case: str, code: str, args) -> dict:
    """Run ``case`` in a fresh Python with the vaeaug of the folder ``code``."""
    env = dict(os.environ, PYTHONPATH=code)
    command = [sys.executable, os.path.abspath(__file__), "--case", case]
    command += ["--data-home", args.data_home, "--pool", args.pool]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    cli = parser(__doc__.splitlines()[0])
    cli.add_argument("--copies", type=int, default=2, help="jittered copies of the 55,000 images")
    cli.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    cli.add_argument("--old-code", help="also run the cases with the vaeaug in this folder")
    cli.add_argument("--compare-paths", action="store_true", help="time the two paths only")
    cli.add_argument("--path-images", type=int, default=16384)
    cli.add_argument("--rounds", type=int, default=3)
    cli.add_argument("--case", choices=CASES, help="(internal) run one case here")
    cli.add_argument("--pool", help="(internal) the pool file")
    args = cli.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.data_home, args.pool)))
        return
    print(describe_machine())
    if args.compare_paths:
        compare_paths(args.data_home, args.path_images, args.rounds)
        return
    with tempfile.TemporaryDirectory() as folder:
        args.pool = os.path.join(folder, "pool.npy")
        if "pool" in args.cases:
            from vaeaug.paper.datasets import load_mnist

            images = load_mnist(args.data_home, download_if_missing=False).X_train
            started = time.perf_counter()
            build_pool(args.pool, images, args.copies)
            print(
                f"pool: {args.copies} x 55,000 = {args.copies * 55000:,} images, "
                f"{os.path.getsize(args.pool) / MIB:,.0f} MiB, built in "
                f"{time.perf_counter() - started:.1f} s"
            )
        print(
            "| code | case | images | data MiB | RSS before fit MiB | peak RSS in fit MiB "
            "| fit s | training images/s | valid loss |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        codes = [("this", REPOSITORY)] + ([("old", args.old_code)] if args.old_code else [])
        for name, code in codes:
            for case in args.cases:
                r = run_in_subprocess(case, code, args)
                print(
                    f"| {name} | {r['case']} | {r['images']:,} | {r['data_mib']:,.0f} "
                    f"| {r['rss_before_mib']:,.0f} | {r['peak_rss_mib']:,.0f} | {r['fit_s']:.1f} "
                    f"| {r['images_per_s']:,.0f} | {r['valid_loss']:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
