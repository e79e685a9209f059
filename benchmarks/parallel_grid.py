"""Benchmark 7: one grid search run sequentially, on joblib's loky workers and on Dask workers.

scikit-learn's digits as 8x8 images, a pipeline of ``VAEAugmenter`` (VAE of
30 epochs) and kNN, 2 latent sizes x 2 methods x 3 folds, no refit; the
setting of issue 14's first measurement. Each row gives the wall time of one
search, its ratio to the sequential one (``n_jobs=1``) and the torch threads
a fit runs on in each process that ran fits (the main process, loky's reused
workers, or each Dask worker), all measured in one run (the machine is
shared: compare the ratios, not the seconds). The searches:

- ``n_jobs=1``, then ``n_jobs=2`` with joblib's default loky backend;
- ``joblib.parallel_backend("dask")`` on a ``LocalCluster`` of 2 worker
  processes of 1 thread each (what ``dask worker --nworkers 2 --nthreads 1``
  starts), or on the cluster at ``--scheduler``;
- without ``--scheduler``, also on 1 worker of 2 threads inside this process
  (``LocalCluster(processes=False)``), which sets no thread limit: with
  vaeaug's rule each fit runs on its share of the cores, and "before" shows
  the same search with the rule switched off (each fit on all cores).

    python benchmarks/parallel_grid.py
    python benchmarks/parallel_grid.py --scheduler tcp://127.0.0.1:8786 --device cuda
"""

from __future__ import annotations

import contextlib
import functools
import time
from unittest import mock

import joblib
from _common import describe_machine, parser
from imblearn.pipeline import Pipeline
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier

from vaeaug import VAE, VAEAugmenter
from vaeaug.engine._threads import worker_threads

GRID = {"aug__vae__latent_dim": [5, 10], "aug__method": ["interpolation", "extrapolation"]}


def search(max_epochs: int, device: str, n_jobs: int | None = None) -> float:
    """Wall time of the grid search under the active joblib backend."""
    X, y = load_digits(return_X_y=True)
    vae = VAE(image_shape=(8, 8), max_epochs=max_epochs, kl_weight=0.1, device=device)
    pipe = Pipeline([("aug", VAEAugmenter(vae, random_state=0)), ("clf", KNeighborsClassifier())])
    started = time.perf_counter()
    grid = GridSearchCV(pipe, GRID, cv=3, n_jobs=n_jobs, refit=False, return_train_score=False)
    grid.fit(X, y)
    return time.perf_counter() - started


def fit_threads() -> int:
    """The torch threads a fit runs on in the process (and thread) that calls this."""
    with worker_threads() as threads:
        return threads


def loky_threads(n_jobs: int) -> list[int]:
    # loky reuses its workers: ask them.
    return joblib.Parallel(n_jobs=n_jobs)(joblib.delayed(fit_threads)() for _ in range(n_jobs))


def dask_threads(client) -> list[int]:
    """One task on each worker (on one of its threads) asks for the count."""
    workers = sorted(client.scheduler_info()["workers"])
    futures = [client.submit(fit_threads, workers=[w], pure=False) for w in workers]
    return client.gather(futures)


def main() -> None:
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--max-epochs", type=int, default=30, help="VAE epochs (default 30)")
    arguments.add_argument("--device", default="auto", help='the VAE\'s device (default "auto")')
    arguments.add_argument(
        "--scheduler", help="address of a running Dask scheduler (default: a LocalCluster)"
    )
    args = arguments.parse_args()
    from distributed import Client, LocalCluster

    print(describe_machine())
    n_candidates = len(GRID["aug__vae__latent_dim"]) * len(GRID["aug__method"])
    print(f"{n_candidates} candidates x 3 folds, 1,797 digits, {args.max_epochs} epochs, no refit")
    print("| run | wall s | ratio to n_jobs=1 | torch threads of a fit, per process |")
    print("|---|---|---|---|")
    run = functools.partial(search, args.max_epochs, args.device)
    sequential = run(n_jobs=1)

    def row(name: str, seconds: float, threads: list[int]) -> None:
        ratio = seconds / sequential
        print(f"| {name} | {seconds:.1f} | {ratio:.2f}x | {threads} |", flush=True)

    row("n_jobs=1", sequential, [fit_threads()])
    row("loky, n_jobs=2", run(n_jobs=2), loky_threads(2))
    if args.scheduler:
        cluster, name = contextlib.nullcontext(args.scheduler), f"Dask at {args.scheduler}"
    else:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0")
        name = "Dask, 2 worker processes x 1 thread"
    with cluster as address, Client(address) as client, joblib.parallel_backend("dask"):
        row(name, run(), dask_threads(client))
    if args.scheduler:
        return
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
        joblib.parallel_backend("dask"),
    ):
        row("Dask, 1 in-process worker x 2 threads", run(), dask_threads(client))
        # Before the rule: a Dask worker's fits took the process's whole count.
        with mock.patch("vaeaug.engine._threads._concurrent_tasks", return_value=1):
            row("same, before (rule off)", run(), dask_threads(client))


if __name__ == "__main__":
    main()
