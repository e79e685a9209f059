"""The runner: every training set of a protocol, scored with every classifier.

:func:`run_protocol` trains one VAE per (latent size, seed), augments the
labelled set with each paper method and each extra recipe, and scores each
classifier trained on the result; the un-augmented baseline and the competing
augmenters are scored on the same labelled sets.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

from vaeaug import VAE, VAEAugmenter
from vaeaug.estimators import fit_with_memory

from .competitors import make_classifier, make_competitor
from .paper import METHODS, PAPER_RECIPE
from .protocols import ExperimentData, Protocol

#: The VAEAugmenter parameters a recipe may set (the run sets the VAE, its
#: cache and the seed).
RECIPE_PARAMETERS = tuple(
    name
    for name in sorted(VAEAugmenter().get_params(deep=False))
    if name not in ("vae", "memory", "random_state")
)
#: The VAE parameters a run may set over its protocol's (not the latent size,
#: which has its own option, nor the seed).
RUN_VAE_PARAMETERS = tuple(
    name
    for name in sorted(VAE().get_params(deep=False))
    if name not in ("latent_dim", "random_state")
)


@dataclass(frozen=True)
class _Plan:
    """The cells of a run that are the same for every seed."""

    latent_dims: tuple[int, ...]
    vae_cells: tuple[tuple[str, dict], ...]
    competitors: tuple[str, ...]
    n_per_sample: int
    sampling_strategy: str | None
    vae_params: dict
    memory: object
    vae_seed: int | None
    vae_data: str


@dataclass
class _TrainingSet:
    """An augmented (or plain) labelled set and where it came from."""

    augmenter: str
    X: np.ndarray
    y: np.ndarray
    seconds: float
    latent_dim: int | None = None
    method: str | None = None
    vae_seconds: float | None = None


def run_protocol(
    protocol: Protocol,
    *,
    seeds: Iterable[int] = (0,),
    latent_dims: Iterable[int] | None = None,
    methods: Iterable[str] = METHODS,
    classifiers: Iterable[str] = ("svm", "knn", "mlp"),
    competitors: Iterable[str] | None = None,
    recipes: Iterable[dict] = (),
    n_per_sample: int = 3,
    evaluate_on: str = "test",
    data_home: str | None = None,
    vae_params: dict | None = None,
    vae_store: dict | None = None,
    memory=None,
    vae_seed: int | None = None,
    vae_data: str = "unlabeled",
    log: Callable[[str], None] = print,
) -> list[dict]:
    """Run every cell of a protocol and return one result row per score.

    Parameters
    ----------
    protocol : Protocol
        What to run, e.g. ``PROTOCOLS["mnist-restricted"]``.
    seeds : iterable of int
        One repetition per seed: labelled draw or split, VAE and classifiers.
    latent_dims : iterable of int, default=None
        Latent sizes; ``None`` uses the protocol's.
    methods, classifiers, competitors : iterable of str
        Cells to run; empty iterables skip them. ``methods`` use the paper's
        generation (:data:`~vaeaug.paper.experiments.PAPER_RECIPE`); ``classifiers``
        and ``competitors`` are names of
        :data:`~vaeaug.paper.experiments.CLASSIFIERS` and
        :data:`~vaeaug.paper.experiments.COMPETITORS` (``None``: the protocol's).
    recipes : iterable of dict
        More :class:`~vaeaug.VAEAugmenter` cells, each given by the parameters
        it sets over the estimator's defaults (``{}`` is the default recipe;
        keys among :data:`RECIPE_PARAMETERS`), with the VAE of each latent size.
    n_per_sample : int, default=3
        New samples per original, for every augmenter (a recipe may set its
        own), unless the protocol sets a ``sampling_strategy`` for all.
    evaluate_on : {"test", "validation"}
        Score on the test set, or on the validation set to choose settings.
    data_home : str, default=None
        Where the datasets are, see :func:`vaeaug.paper.datasets.get_data_home`.
    vae_params : dict, default=None
        :class:`~vaeaug.VAE` parameters (among :data:`RUN_VAE_PARAMETERS`),
        over the protocol's own ``vae_params``.
    vae_store : dict, default=None
        When given, each trained VAE is stored in it under ``(seed, latent_dim)``.
    memory : str, joblib.Memory or None, default=None
        Cache of trained VAEs shared across runs and protocols (MNIST's full
        and restricted protocols train the same VAEs). Use a folder only you
        can write to: entries are pickles.
    vae_seed : int, default=None
        ``None`` trains the VAE of each repetition with that repetition's
        seed. An int trains one VAE per latent size, with this seed, for all
        repetitions: right where the unlabelled set does not depend on the
        seed (MNIST), so repetitions vary the labelled draw and the classifiers.
        With ``memory`` that VAE is trained once.
    vae_data : {"unlabeled", "labelled"}, default="unlabeled"
        What the VAE learns from: the protocol's unlabelled images, or only
        the labelled ones (a user without a pool; recipes with
        ``neighbor_search="unlabeled"`` are then refused).
    log : callable
        Receives one line per step (progress).

    Returns
    -------
    rows : list of dict
        Keys: ``protocol``, ``seed``, ``augmenter``, ``latent_dim``, ``method``,
        ``classifier``, ``accuracy``, ``balanced_accuracy``, ``macro_f1`` (%),
        ``n_train``, ``augment_seconds``, ``fit_seconds`` (classifier),
        ``score_seconds``, ``vae_seconds`` (the VAE's training epochs, also when
        it came from the cache).
    """
    if evaluate_on not in ("test", "validation"):
        raise ValueError(f"evaluate_on must be 'test' or 'validation'; got {evaluate_on!r}.")
    if vae_data not in ("unlabeled", "labelled"):
        raise ValueError(f"vae_data must be 'unlabeled' or 'labelled'; got {vae_data!r}.")
    recipes = tuple(recipes)
    if vae_data == "labelled" and any(
        params.get("neighbor_search") == "unlabeled" for params in recipes
    ):
        raise ValueError(
            "vae_data='labelled' runs without a pool, so a recipe cannot pair samples "
            "with unlabelled ones (neighbor_search='unlabeled')."
        )
    classifiers = tuple(classifiers)
    for name in classifiers:
        make_classifier(name, 0)  # unknown names fail before any training
    amount = {"n_per_sample": n_per_sample, "sampling_strategy": protocol.sampling_strategy}
    plan = _Plan(
        latent_dims=tuple(protocol.latent_dims if latent_dims is None else latent_dims),
        vae_cells=tuple(
            [(f"vae-{method}", {**PAPER_RECIPE, "method": method, **amount}) for method in methods]
            + [(recipe_name(params), {**amount, **params}) for params in recipes]
        ),
        competitors=tuple(protocol.competitors if competitors is None else competitors),
        n_per_sample=n_per_sample,
        sampling_strategy=protocol.sampling_strategy,
        vae_params={**protocol.vae_params, **(vae_params or {})},
        memory=memory,
        vae_seed=vae_seed,
        vae_data=vae_data,
    )
    rows: list[dict] = []
    for seed in seeds:
        started = time.perf_counter()
        data = protocol.load(data_home, seed)
        X_eval, y_eval = (
            (data.X_test, data.y_test) if evaluate_on == "test" else (data.X_val, data.y_val)
        )
        prefix = f"[{protocol.name} seed {seed}]"
        log(
            f"{prefix} data loaded in {time.perf_counter() - started:.1f} s: "
            f"{len(data.X_unlabelled)} unlabelled, {len(data.X_train)} labelled, "
            f"{len(X_eval)} {evaluate_on}"
        )
        seed_log = functools.partial(_log_with_prefix, log, prefix)
        for training_set in _training_sets(data, seed, plan, vae_store, seed_log):
            for name in classifiers:
                result = _score(make_classifier(name, seed), training_set, X_eval, y_eval)
                rows.append(
                    {
                        "protocol": protocol.name,
                        "seed": seed,
                        "augmenter": training_set.augmenter,
                        "latent_dim": training_set.latent_dim,
                        "method": training_set.method,
                        "classifier": name,
                        "n_train": len(training_set.X),
                        "vae_seconds": training_set.vae_seconds,
                        "augment_seconds": training_set.seconds,
                        **result,
                    }
                )
                scores = "  ".join(f"{result[m]:6.2f} %" for m in protocol.metrics)
                log(
                    f"{prefix} {training_set.augmenter:<30} Z={training_set.latent_dim!s:<5} "
                    f"{name:<11} {scores}  (n={len(training_set.X)}, "
                    f"fit {result['fit_seconds']:.1f} s)"
                )
    return rows


def recipe_name(params: dict) -> str:
    """Label of a :class:`~vaeaug.VAEAugmenter` cell set by ``params``."""
    if not params:
        return "vae default"
    return "vae " + ", ".join(f"{key}={value}" for key, value in params.items())


def _training_sets(
    data: ExperimentData, seed: int, plan: _Plan, vae_store: dict | None, log: Callable
) -> Iterator[_TrainingSet]:
    """The labelled set as it is, then augmented by each competitor and each VAE cell."""
    yield _TrainingSet("none", data.X_train, data.y_train, 0.0)
    smallest_class = int(np.unique(data.y_train, return_counts=True)[1].min())
    for name in plan.competitors:
        competitor = make_competitor(
            name, data.image_shape, seed, plan.n_per_sample, plan.sampling_strategy, smallest_class
        )
        if competitor is None:
            log(f"{name} skipped: it needs two samples of each class, a class has one")
            continue
        try:
            training_set = _augment(name, competitor, data)
        except RuntimeError as exc:  # ADASYN, where no minority sample has a majority neighbour
            log(f"{name} skipped: {exc}")
            continue
        yield training_set
    for latent_dim in plan.latent_dims if plan.vae_cells else ():
        vae = _fit_vae(data, latent_dim, seed, plan, log)
        if vae_store is not None:
            vae_store[seed, latent_dim] = vae
        vae_seconds = sum(record["duration"] for record in vae.history_)
        for name, params in plan.vae_cells:
            augmenter = VAEAugmenter(FrozenEstimator(vae), **params, random_state=seed)
            training_set = _augment(name, augmenter, data)
            training_set.latent_dim = latent_dim
            training_set.method = augmenter.method
            training_set.vae_seconds = vae_seconds
            yield training_set


def _augment(name: str, augmenter, data: ExperimentData) -> _TrainingSet:
    """Augment the labelled set; with the pool as unlabelled rows where it is searched."""
    started = time.perf_counter()
    X, y = data.X_train, data.y_train
    if getattr(augmenter, "neighbor_search", None) == "unlabeled":
        pool = data.pool()
        # scikit-learn's -1 for integer labels; a string that is no class for strings.
        # (MNIST's labels are uint8, where -1 does not fit.)
        unlabelled, dtype = (-1, np.int64) if y.dtype.kind in "iu" else ("<unlabelled>", object)
        X = np.concatenate([X, pool])
        y = np.concatenate([y.astype(dtype), np.full(len(pool), unlabelled, dtype=dtype)])
        augmenter.set_params(unlabeled_label=unlabelled)
    X_aug, y_aug = augmenter.fit_resample(X, y)
    return _TrainingSet(name, X_aug, y_aug, time.perf_counter() - started)


def _fit_vae(data: ExperimentData, latent_dim: int, seed: int, plan: _Plan, log: Callable) -> VAE:
    """The VAE of one latent size, trained on ``plan.vae_data`` (or from the cache)."""
    started = time.perf_counter()
    vae_seed = seed if plan.vae_seed is None else plan.vae_seed
    X_vae = data.X_unlabelled if plan.vae_data == "unlabeled" else data.X_train
    vae = fit_with_memory(
        VAE(latent_dim, **{"random_state": vae_seed, **plan.vae_params}),
        X_vae.reshape(-1, *data.image_shape),
        plan.memory,
    )
    best = min(record.get("valid_reconstruction", np.inf) for record in vae.history_)
    log(
        f"VAE Z={latent_dim} ready in {time.perf_counter() - started:.0f} s (trained for "
        f"{len(vae.history_)} epochs in {sum(r['duration'] for r in vae.history_):.0f} s; "
        f"best validation reconstruction {best:.1f} nats)"
    )
    return vae


def _log_with_prefix(log: Callable[[str], None], prefix: str, line: str) -> None:
    log(f"{prefix} {line}")


def _score(classifier, training_set: _TrainingSet, X_eval, y_eval) -> dict:
    started = time.perf_counter()
    classifier.fit(training_set.X, training_set.y)
    fitted = time.perf_counter()
    predicted = classifier.predict(X_eval)
    return dict(
        accuracy=100 * accuracy_score(y_eval, predicted),
        balanced_accuracy=100 * balanced_accuracy_score(y_eval, predicted),
        macro_f1=100 * f1_score(y_eval, predicted, average="macro"),
        fit_seconds=fitted - started,
        score_seconds=time.perf_counter() - fitted,
    )
