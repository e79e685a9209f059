"""Benchmark 2: encode + generate + decode throughput, and peak memory at 165k samples.

A VAE (Z=20, one epoch: speed does not depend on its quality) is trained on
the 55,000 MNIST training images, then ``VAEAugmenter`` reuses it to make
three new samples per original from float32 images (784 columns), for 1k,
55k and 165k new samples and each method. Throughput counts the whole
``fit_resample`` call: encoding, neighbour search, generation, decoding and
assembling the output. Peak memory is the resident set size of a fresh
process that loads the data and the VAE and makes 165k samples (Linux).
The paper's generation (decoded samples as they are) unless ``--jitter``
adds ``VAEAugmenter``'s default jitter of the decoded images.

    python benchmarks/generation.py --repeats 3
    python benchmarks/generation.py --repeats 3 --jitter
"""

from __future__ import annotations

import multiprocessing
import pickle
import statistics
import tempfile
import time

import numpy as np
from _common import describe_machine, mnist_images, parser
from sklearn.frozen import FrozenEstimator

from vaeaug import VAE, VAEAugmenter

METHODS = ("noise", "interpolation", "extrapolation")
SIZES = (1_000, 55_000, 165_000)
PER_ORIGINAL = 3


def labelled_originals(
    images: np.ndarray, labels: np.ndarray, n_new: int
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n_new / 3`` images, flattened, and their labels."""
    n_originals = n_new // PER_ORIGINAL
    return images[:n_originals].reshape(n_originals, -1), labels[:n_originals]


def augment(vae: VAE, method: str, X: np.ndarray, y: np.ndarray, jitter: bool) -> float:
    """Seconds taken by one ``fit_resample`` making ``PER_ORIGINAL`` samples per row."""
    no_jitter = {} if jitter else {"max_rotation": 0, "max_shift": 0}
    augmenter = VAEAugmenter(
        FrozenEstimator(vae),
        method=method,
        n_per_sample=PER_ORIGINAL,
        **no_jitter,
        random_state=0,
    )
    started = time.perf_counter()
    X_res, _ = augmenter.fit_resample(X, y)
    elapsed = time.perf_counter() - started
    assert X_res.shape == (len(X) * (PER_ORIGINAL + 1), X.shape[1]), X_res.shape
    return elapsed


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def peak_rss_child(
    vae_path: str, data_home: str, method: str, n_new: int, jitter: bool
) -> tuple[float, float]:
    """In a fresh process: (RSS before generating, peak RSS while generating), in MiB.

    Reads Linux's /proc: the peak is reset after loading (``clear_refs``), so
    it is that of ``fit_resample`` on top of what was already resident.
    """
    with open(vae_path, "rb") as file:
        vae = pickle.load(file)
    train, _, labels = mnist_images(data_home)
    X, y = labelled_originals(train, labels, n_new)
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # resets the peak to the current RSS
    before = _status_mib("VmRSS")
    augment(vae, method, X, y, jitter)
    return before, _status_mib("VmHWM")


def main() -> None:
    args = parser(__doc__.splitlines()[0])
    args.add_argument("--repeats", type=int, default=3, help="runs per cell (median shown)")
    args.add_argument("--skip-throughput", action="store_true", help="measure memory only")
    args.add_argument("--jitter", action="store_true", help="jitter the decoded images")
    args = args.parse_args()
    print(describe_machine())
    train, _, labels = mnist_images(args.data_home)
    started = time.perf_counter()
    vae = VAE(20, max_epochs=1, random_state=0).fit(train.reshape(len(train), -1))
    print(f"VAE trained in {time.perf_counter() - started:.1f} s (1 epoch, Z=20)")

    print("| method | new samples | median s | samples/s |")
    print("|---|---|---|---|")
    for method in () if args.skip_throughput else METHODS:
        for n_new in SIZES:
            X, y = labelled_originals(train, labels, n_new)
            seconds = statistics.median(
                augment(vae, method, X, y, args.jitter) for _ in range(args.repeats)
            )
            print(
                f"| {method} | {len(X) * PER_ORIGINAL:,} | {seconds:.2f} | "
                f"{len(X) * PER_ORIGINAL / seconds:,.0f} |",
                flush=True,
            )

    with tempfile.NamedTemporaryFile(suffix=".pkl") as file:
        pickle.dump(vae, file)
        file.flush()
        context = multiprocessing.get_context("spawn")
        print("\n| method | RSS before generating (MiB) | peak RSS while generating (MiB) |")
        print("|---|---|---|")
        for method in METHODS:
            with context.Pool(1) as pool:
                before, peak = pool.apply(
                    peak_rss_child, (file.name, args.data_home, method, SIZES[-1], args.jitter)
                )
            print(f"| {method} | {before:,.0f} | {peak:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
