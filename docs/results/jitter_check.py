"""Screening of a jitter check, not kept (docs/results.md, "A check of the jitter
on the labelled data"). Not part of the library.

    python docs/results/jitter_check.py PROTOCOL VAE_DATA SEEDS [OUT]
    python docs/results/jitter_check.py bars - SEEDS [OUT]

The check: on at most 1,000 labelled rows (every class capped at the same
number), 3 stratified folds, each fold's training rows are augmented by
``VAEAugmenter`` (the fitted VAE frozen, interpolation towards 3 classmates,
3 new samples per row) with the default jitter and without it; an ``SVC()``
and a ``KNeighborsClassifier()`` trained on each predict the held-out rows.
The jitter would be dropped when the held-out rows right only without it
outnumber those right only with it, over both classifiers and each class
weighing the same, by two standard errors of a sign test.

For a protocol of ``vaeaug reproduce`` the script fits
``VAEAugmenter(FrozenEstimator(vae), random_state=seed)`` on each seed's
labelled training rows (``VAE_DATA`` as in ``screen_levers.py``) and prints
the check's verdict. ``bars`` is a synthetic set where a rotation changes the
label: 28x28 images of a bar at one of 10 orientations 12 degrees apart (600
to train, 2,000 to validate, a new draw per seed); it also prints the
validation accuracy of the SVM, kNN and sklearn MLP trained with the jitter
and without it.
"""

import json
import sys
import time
import warnings

import numpy as np
from screen_levers import vae_and_pool
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

from vaeaug import VAE, VAEAugmenter
from vaeaug.paper.experiments.competitors import make_classifier
from vaeaug.paper.experiments.protocols import PROTOCOLS

ROWS, FOLDS, Z = 1000, 3, 2.0


def check_jitter(augmenter, X, y, bounds, seed):
    """The check's balanced accuracies with and without jitter, and its verdict."""
    rng = np.random.RandomState(seed)
    if len(y) > ROWS:
        rows = _balanced_draw(y, ROWS, rng)
        X, y = X[rows], y[rows]
    folds = np.empty(len(y), dtype=np.intp)
    folds[np.lexsort((rng.uniform(size=len(y)), y))] = np.arange(len(y)) % FOLDS
    right = {}
    for name, (max_rotation, max_shift) in (("with", bounds), ("without", (0, 0))):
        twin = clone(augmenter).set_params(
            vae=FrozenEstimator(augmenter.vae_),
            neighbor_search="class",
            max_rotation=max_rotation,
            max_shift=max_shift,
            random_state=seed,
        )
        right[name] = np.zeros((2, len(y)), dtype=bool)
        for fold in range(FOLDS):
            train, held_out = folds != fold, folds == fold
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                X_aug, y_aug = twin.fit_resample(X[train], y[train])
            for i, classifier in enumerate((SVC(random_state=seed), KNeighborsClassifier())):
                predicted = classifier.fit(X_aug, y_aug).predict(X[held_out])
                right[name][i, held_out] = predicted == y[held_out]
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    weight = 1.0 / counts[inverse]  # each class weighs the same
    only_with = right["with"] & ~right["without"]
    only_without = right["without"] & ~right["with"]
    gain = ((only_without.astype(float) - only_with) * weight).sum()
    kept = gain <= Z * np.sqrt(((only_with | only_without) * weight**2).sum())
    accuracy = {name: (hits * weight).sum(axis=1) / weight.sum() for name, hits in right.items()}
    return dict(
        n_rows=len(y),
        svc=[float(accuracy["with"][0]), float(accuracy["without"][0])],
        knn=[float(accuracy["with"][1]), float(accuracy["without"][1])],
        only_with=int(only_with.sum()),
        only_without=int(only_without.sum()),
        kept=bool(kept),
    )


def _balanced_draw(y, n, random_state):
    """At most ``n`` rows: all of a class's rows up to a cap the same for every class."""
    classes, counts = np.unique(y, return_counts=True)
    cap = max(1, n // len(classes))
    while np.minimum(counts, cap + 1).sum() <= n:
        cap += 1
    rows = [random_state.permutation(np.flatnonzero(y == label))[:cap] for label in classes]
    return np.sort(np.concatenate(rows))


def bars(n, seed, n_classes=10, step=12.0):
    """``n`` noisy 28x28 images of a bar at ``step`` degrees times its label (+-2)."""
    rs = np.random.RandomState(seed)
    y = rs.randint(n_classes, size=n)
    angle = np.deg2rad(y * step + rs.uniform(-2, 2, n))[:, None, None]
    centre_row, centre_col = (13.5 + rs.uniform(-3, 3, (2, n)))[:, :, None, None]
    half_length = rs.uniform(8, 12, n)[:, None, None]
    row, col = np.mgrid[:28, :28]
    along = (col - centre_col) * np.cos(angle) + (row - centre_row) * np.sin(angle)
    across = (row - centre_row) * np.cos(angle) - (col - centre_col) * np.sin(angle)
    ink = np.clip(1.5 - np.abs(across), 0, 1) * np.clip(half_length - np.abs(along), 0, 1)
    ink = np.clip(ink + rs.normal(0, 0.15, ink.shape), 0, 1)
    return (255 * ink).astype(np.uint8).reshape(n, -1), y


def report(row, out):
    print(json.dumps(row), flush=True)
    if out:
        with open(out, "a") as file:
            file.write(json.dumps(row) + "\n")


def main():
    protocol, vae_data, seeds = sys.argv[1:4]
    out = sys.argv[4] if len(sys.argv) > 4 else None
    for seed in map(int, seeds.split(",")):
        started = time.perf_counter()
        if protocol == "bars":
            X, y = bars(600, 2 * seed)
            X_val, y_val = bars(2000, 2 * seed + 1)
            vae = VAE(latent_dim=20, max_epochs=30, image_shape=(28, 28), random_state=seed).fit(X)
        else:
            data = PROTOCOLS[protocol].load("../shared/data", seed)
            vae, _ = vae_and_pool(protocol, vae_data, data, seed)
            X, y = data.X_train.reshape(len(data.X_train), -1), data.y_train
        augmenter = VAEAugmenter(FrozenEstimator(vae), random_state=seed).fit(X, y)
        check = check_jitter(augmenter, X, y, (augmenter.max_rotation_, augmenter.max_shift_), seed)
        report(
            dict(
                protocol=protocol,
                vae=vae_data,
                seed=seed,
                check=check,
                s=time.perf_counter() - started,
            ),
            out,
        )
        if protocol != "bars":
            continue
        for name, bound in (("jitter", 10), ("no jitter", 0)):
            augmenter.set_params(max_rotation=bound, max_shift=bound / 5)
            X_set, y_set = augmenter.fit_resample(X, y)
            for classifier_name in ("svm", "knn", "sklearn-mlp"):
                classifier = make_classifier(classifier_name, seed).fit(X_set, y_set)
                accuracy = 100 * float(np.mean(classifier.predict(X_val) == y_val))
                report(
                    dict(protocol="bars", seed=seed, set=name, clf=classifier_name, acc=accuracy),
                    out,
                )


if __name__ == "__main__":
    main()
