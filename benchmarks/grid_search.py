"""Benchmark 3: a GridSearchCV over generation method and latent size, with and without caching.

Restricted MNIST (1,000 labelled training images drawn at random), a
pipeline of ``VAEAugmenter`` and a kNN classifier, 3 methods x 2 latent sizes
x 3 folds, refit on the whole labelled set. Run once with ``memory=None``
(every candidate trains its own VAE) and once with a joblib cache
(``memory=``), counting the VAEs actually trained in each.

    python benchmarks/grid_search.py
"""

from __future__ import annotations

import tempfile
import time

import numpy as np
from _common import TimeTrainings, describe_machine, mnist_images, parser
from imblearn.pipeline import Pipeline
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier

from vaeaug import VAE, VAEAugmenter

GRID = {
    "aug__method": ["noise", "interpolation", "extrapolation"],
    "aug__vae__latent_dim": [10, 20],
}


def search(X: np.ndarray, y: np.ndarray, memory: str | None) -> tuple[float, int, dict]:
    """Wall time, number of VAEs trained and best parameters of one grid search."""
    TimeTrainings.reset()
    pipeline = Pipeline(
        [
            (
                "aug",
                VAEAugmenter(VAE(callbacks=[TimeTrainings()]), memory=memory, random_state=0),
            ),
            ("clf", KNeighborsClassifier()),
        ]
    )
    started = time.perf_counter()
    grid = GridSearchCV(pipeline, GRID, cv=3).fit(X, y)
    return time.perf_counter() - started, TimeTrainings.count, grid.best_params_


def main() -> None:
    args = parser(__doc__.splitlines()[0])
    args.add_argument("--n-labelled", type=int, default=1000)
    args = args.parse_args()
    print(describe_machine())
    images, _, labels = mnist_images(args.data_home)
    rows = np.random.RandomState(0).choice(len(images), args.n_labelled, replace=False)
    X, y = images[rows].reshape(len(rows), -1), labels[rows]
    n_candidates = np.prod([len(values) for values in GRID.values()])
    print(f"{n_candidates} candidates x 3 folds + refit, {len(X)} labelled images")
    print("| memory | VAEs trained | wall s | best parameters |")
    print("|---|---|---|---|")
    results = {}
    with tempfile.TemporaryDirectory() as cache:
        for name, memory in [("None", None), ("joblib cache", cache)]:
            seconds, count, best = search(X, y, memory)
            results[name] = seconds
            print(f"| {name} | {count} | {seconds:.1f} | {best} |", flush=True)
    print(f"speed-up from caching: {results['None'] / results['joblib cache']:.2f}x")


if __name__ == "__main__":
    main()
