"""Benchmark 3b: the README's grid search with a pool of unlabelled images, end to end.

Restricted MNIST (``vaeaug reproduce``'s ``mnist-restricted``, draw 0: 1,000
labelled training images, the other 54,000 training images as the pool,
labelled -1): the README's pipeline with the pool recipe,
``VAEAugmenter(VAE(max_epochs=12, image_shape=(28, 28)),
neighbor_search="unlabeled", unlabeled_label=-1, memory=...)`` and an SVM,
``GridSearchCV`` over 4 latent sizes x 3 methods with 3 folds of the
labelled images (``SemiSupervisedSplit``, the pool in every training fold),
refit, then scored on the 10,000 test images. One run per process, with an
empty cache of its own; ``--vae-training-rows unlabeled`` trains each VAE on
the pool alone.

    python benchmarks/grid_search_pool.py --vae-training-rows all
    python benchmarks/grid_search_pool.py --vae-training-rows unlabeled
"""

from __future__ import annotations

import tempfile
import time

import numpy as np
from _common import TimeTrainings, describe_machine, parser
from imblearn.pipeline import Pipeline
from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVC

from vaeaug import VAE, VAEAugmenter
from vaeaug.model_selection import SemiSupervisedSplit
from vaeaug.paper.experiments.protocols import PROTOCOLS

GRID = {
    "aug__vae__latent_dim": [10, 20, 50, 100],
    "aug__method": ["noise", "interpolation", "extrapolation"],
}


def main() -> None:
    args = parser(__doc__.splitlines()[0])
    args.add_argument("--vae-training-rows", choices=["all", "unlabeled"], default="all")
    args = args.parse_args()
    print(describe_machine())
    data = PROTOCOLS["mnist-restricted"].load(args.data_home, 0)
    pool = data.pool()
    X = np.concatenate([data.X_train, pool])
    y = np.concatenate([data.y_train.astype(np.int64), np.full(len(pool), -1)])
    print(f"{len(data.X_train)} labelled images, a pool of {len(pool)}; {args.vae_training_rows=}")
    with tempfile.TemporaryDirectory() as cache:
        augmenter = VAEAugmenter(
            VAE(max_epochs=12, image_shape=(28, 28), callbacks=[TimeTrainings()]),
            neighbor_search="unlabeled",
            unlabeled_label=-1,
            memory=cache,
            vae_training_rows=args.vae_training_rows,
            random_state=0,
        )
        search = GridSearchCV(
            Pipeline([("aug", augmenter), ("clf", SVC())]), GRID, cv=SemiSupervisedSplit(3)
        )
        started = time.perf_counter()
        search.fit(X, y)
        seconds = time.perf_counter() - started
    accuracy = 100 * search.score(data.X_test, data.y_test)
    print(
        f"| {args.vae_training_rows} | {TimeTrainings.count} | {TimeTrainings.seconds:.0f} | "
        f"{seconds:.0f} | {search.best_params_} | {100 * search.best_score_:.2f} | "
        f"{accuracy:.2f} |"
    )
    print("(VAEs trained, s training them, s of the whole search, best parameters, CV accuracy,")
    print(" test accuracy of the refit pipeline)")


if __name__ == "__main__":
    main()
