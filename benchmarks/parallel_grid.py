"""Benchmark 7: one grid search with ``n_jobs=1`` and ``n_jobs=2`` (joblib's loky backend).

scikit-learn's digits as 8x8 images, a pipeline of ``VAEAugmenter`` (VAE of
30 epochs) and kNN, 2 latent sizes x 2 methods x 3 folds, no refit; the
setting of issue 14's first measurement. The table gives the wall time of
each search, the torch thread count of the processes that ran the fits
(loky's reused workers for ``n_jobs=2``) and the ratio of the times, measured
in one run (the machine is shared: compare the ratio, not the seconds).

    python benchmarks/parallel_grid.py
"""

from __future__ import annotations

import time

import torch
from _common import describe_machine, parser
from imblearn.pipeline import Pipeline
from joblib import Parallel, delayed
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier

from vaeaug import VAE, VAEAugmenter

GRID = {"aug__vae__latent_dim": [5, 10], "aug__method": ["interpolation", "extrapolation"]}


def search(n_jobs: int) -> tuple[float, set[int]]:
    """Wall time of the grid search and the torch thread counts its fits ran with."""
    X, y = load_digits(return_X_y=True)
    vae = VAE(image_shape=(8, 8), max_epochs=30, kl_weight=0.1)
    pipe = Pipeline([("aug", VAEAugmenter(vae, random_state=0)), ("clf", KNeighborsClassifier())])
    started = time.perf_counter()
    grid = GridSearchCV(pipe, GRID, cv=3, n_jobs=n_jobs, refit=False, return_train_score=False)
    grid.fit(X, y)
    seconds = time.perf_counter() - started
    # loky reuses its workers: ask them (or this process) for their thread count.
    threads = {torch.get_num_threads()} if n_jobs == 1 else _worker_threads(n_jobs)
    return seconds, threads


def _worker_threads(n_jobs: int) -> set[int]:
    return set(Parallel(n_jobs=n_jobs)(delayed(torch.get_num_threads)() for _ in range(n_jobs)))


def main() -> None:
    parser(__doc__.splitlines()[0]).parse_args()
    print(describe_machine())
    n_candidates = len(GRID["aug__vae__latent_dim"]) * len(GRID["aug__method"])
    print(f"{n_candidates} candidates x 3 folds, 1,797 digits, no refit")
    print("| n_jobs | wall s | torch threads per process |")
    print("|---|---|---|")
    seconds = {}
    for n_jobs in (1, 2):
        seconds[n_jobs], threads = search(n_jobs)
        print(f"| {n_jobs} | {seconds[n_jobs]:.1f} | {sorted(threads)} |", flush=True)
    print(f"n_jobs=2 takes {seconds[2] / seconds[1]:.2f}x the time of n_jobs=1")


if __name__ == "__main__":
    main()
