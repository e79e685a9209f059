"""Screening of issue 20's levers on the validation sides (docs/results.md,
"Interpolated and perturbed samples"). Not part of the library: the levers
that were not kept are private overrides of VAEAugmenter here.

    python docs/results/screen_levers.py PROTOCOL VAE_DATA SEEDS VARIANTS OUT [CLASSIFIERS [test]]

``VAE_DATA`` is ``labelled`` (the VAE of the labelled images only),
``unlabelled`` (the protocol's unlabelled images) or ``poolN`` (a pool of N
of them drawn per seed, the VAE of the labelled images and that pool, 12
epochs, as the README's pool recipe trains it); ``VARIANTS`` is a JSON
object ``name -> parameters``: VAEAugmenter's own, or the screening knobs of
:class:`Variant`. Each row of ``OUT`` (JSON lines) is one seed, training set
and classifier, scored on the validation images (on the test images with
``test`` after the classifiers, once a choice is made). The runs of December 2026
used commit abfd640 with ``noise_share`` implemented by the knobs; the
library's ``noise_share`` and ``noise_alpha`` now do the same. The later
rows (jitter on the perturbed originals only, no jitter, pool images as
samples, pixel-space partners; docs/results.md, "Flat rows read as images")
ran at commit 770e4fa and after it, with the knobs ``jitter_noise_only``,
``pixel_partners``, ``mixed_partners`` and ``step="distance"``, and the
``pool5000`` VAE data; the ``delta`` rows at commit 6cae712 and after it.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import accuracy_score
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from vaeaug import VAE, VAEAugmenter
from vaeaug.engine.image import affine_jitter, draw_jitter
from vaeaug.estimators import fit_with_memory
from vaeaug.paper.experiments.competitors import make_classifier, make_competitor
from vaeaug.paper.experiments.protocols import PROTOCOLS

KNOBS = (
    "step",
    "originals",
    "jitter_share",
    "class_partners",
    "candidates",
    "rot",
    "shift",
    "detail",
    "jitter_noise_only",
    "pixel_partners",
    "mixed_partners",
    "delta",
)


class Variant(VAEAugmenter):
    """VAEAugmenter with screening knobs, set as class attributes of a subclass."""

    step = "fixed"  # "uniform": each step from U(0, alpha); "distance": alpha * min(1, r / gap)
    originals = 0.0  # share of the interpolations put back at step 0
    jitter_share = 1.0  # share of the new samples that are jittered
    class_partners = False  # pool partners only where a latent 5-NN of the labelled agrees
    candidates = 1  # > 1: make that many times more, keep the most label-faithful
    rot = None  # jitter bounds instead of max_rotation_ and max_shift_
    shift = None
    detail = None  # a fixed weight of the partner's residual detail instead of the step
    jitter_noise_only = False  # jitter only the samples without a partner (latent noise)
    pixel_partners = False  # partners: the nearest in pixel space, not in the latent space
    mixed_partners = False  # pool recipe: the nearest of the labelled classmates and the pool
    delta = None  # the samples without a partner move by delta * (z_a - z_b), b a random
    # labelled row of any class and a one of its 3 nearest labelled classmates

    def _move_in_latent_space(self, X, y, counts, random_state):
        moves = super()._move_in_latent_space(X, y, counts, random_state)
        n = len(moves.base)
        moved = moves.partner >= 0
        steps = np.where(moved, self.alpha, 0.0)
        if self.step == "uniform":
            steps = np.where(moved, random_state.uniform(0, self.alpha, n), 0.0)
        if self.step == "distance":  # far partners move a fixed latent distance, alpha * r
            labelled = np.flatnonzero(self._labelled(y))
            nearest = _nearest_classmates(moves.Z[labelled], y[labelled], 1)[0][:, 0]
            r = np.median(nearest[~np.isnan(nearest)])
            gap = np.linalg.norm(moves.Z[moves.partner] - moves.Z[moves.base], axis=1)
            steps = np.where(moved, self.alpha * np.minimum(1.0, r / np.maximum(gap, 1e-12)), 0.0)
        if self.originals:
            steps[random_state.uniform(size=n) < self.originals] = 0.0
        if self.method == "interpolation" and (self.step != "fixed" or self.originals):
            Z_base, Z_partner = moves.Z[moves.base], moves.Z[moves.partner]
            Z_new = np.where(
                moved[:, None],
                Z_base + steps[:, None].astype(Z_base.dtype) * (Z_partner - Z_base),
                moves.Z_new,
            ).astype(Z_base.dtype)
            moves = moves._replace(Z_new=Z_new)
        if self.detail is not None:
            steps = np.where(moved, self.detail, 0.0)
        if self.delta is not None:
            moves = moves._replace(Z_new=self._moved_by_deltas(moves, y, random_state))
        return moves._replace(step=steps if self.method == "interpolation" else moves.step)

    def _moved_by_deltas(self, moves, y, random_state):
        """Z_new with each sample without a partner moved by a classmate-pair difference."""
        labelled = np.flatnonzero(self._labelled(y))
        Z = moves.Z[labelled]
        mates = _nearest_classmates(Z, y[labelled], 3)[1]
        free = np.flatnonzero(moves.partner < 0)
        b = random_state.randint(len(labelled), size=len(free))
        a = mates[b, random_state.randint(3, size=len(free))]
        shift = np.where((a >= 0)[:, None], Z[np.maximum(a, 0)] - Z[b], 0.0)
        Z_new = moves.Z_new.copy()
        Z_new[free] = moves.Z[moves.base[free]] + (self.delta * shift).astype(Z_new.dtype)
        return Z_new

    def _neighbors(self, Z, y, labelled, partners):
        if self.pixel_partners:
            Z = self._pixels
        if self.mixed_partners and self.neighbor_search == "unlabeled":
            queries = np.flatnonzero(labelled)
            pool = np.flatnonzero(partners)
            k = self.nn_k_.n_neighbors - 1
            neighbors = np.full((len(Z), k), -1, dtype=np.intp)
            for label in np.unique(y[queries]):
                members = queries[y[queries] == label]
                candidates = np.concatenate([members, pool])
                nn = NearestNeighbors(n_neighbors=min(k + 1, len(candidates))).fit(Z[candidates])
                found = candidates[nn.kneighbors(Z[members], return_distance=False)]
                for row, near in zip(members, found, strict=True):
                    near = near[near != row][:k]
                    neighbors[row, : len(near)] = near
            return neighbors
        if not (self.class_partners and self.neighbor_search == "unlabeled"):
            return super()._neighbors(Z, y, labelled, partners)
        queries = np.flatnonzero(labelled)
        candidates = np.flatnonzero(partners)
        guessed = KNeighborsClassifier(5).fit(Z[queries], y[queries]).predict(Z[candidates])
        k = self.nn_k_.n_neighbors - 1
        neighbors = np.full((len(Z), k), -1, dtype=np.intp)
        for label in np.unique(y[queries]):
            members, pool = queries[y[queries] == label], candidates[guessed == label]
            if len(pool):
                nn = NearestNeighbors(n_neighbors=min(k, len(pool))).fit(Z[pool])
                found = nn.kneighbors(Z[members], return_distance=False)
                neighbors[members, : found.shape[1]] = pool[found]
        return neighbors

    def _make_samples(self, X, y, counts, random_state):
        self._pixels = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
        if self.rot is not None:
            self.max_rotation_, self.max_shift_ = self.rot, self.shift
        wanted = counts
        if self.candidates > 1:
            counts = counts * self.candidates
        moves = self._move_in_latent_space(X, y, counts, random_state)
        chunks = self._decode(moves.Z_new)
        if self.decoding == "residual" and len(moves.base):
            chunks = self._with_detail(chunks, X, moves)
        new = np.concatenate([chunk.reshape(len(chunk), -1) for chunk in chunks])
        base, partner = moves.base, moves.partner
        if self.candidates > 1:
            labelled = np.flatnonzero(self._labelled(y))
            knn = KNeighborsClassifier(10).fit(X[labelled], y[labelled])
            proba = knn.predict_proba(new)
            own = proba[np.arange(len(new)), np.searchsorted(knn.classes_, y[base])]
            score = own + 1e-6 * random_state.uniform(size=len(new))
            keep = []
            for row in np.flatnonzero(wanted):
                mine = np.flatnonzero(base == row)
                keep.extend(mine[np.argsort(-score[mine])[: wanted[row]]])
            keep = np.sort(np.array(keep, dtype=np.intp))
            new, base, partner = new[keep], base[keep], partner[keep]
        if self.max_rotation_ or self.max_shift_:
            angles, shifts = draw_jitter(
                len(base), self.max_rotation_, self.max_shift_, random_state
            )
            if self.jitter_share < 1:
                off = random_state.uniform(size=len(base)) >= self.jitter_share
                angles[off], shifts[off] = 0, 0
            if self.jitter_noise_only:
                angles[partner >= 0], shifts[partner >= 0] = 0, 0
            new = affine_jitter(
                new.reshape(len(new), *self.vae_.layout_.image_shape), angles, shifts
            )
        return base, partner, [new]


def _nearest_classmates(Z, y, k):
    """Distances to and rows of each row's ``k`` nearest other rows of the same label
    (NaN and -1 where a class has fewer)."""
    distances, mates = np.full((len(Z), k), np.nan), np.full((len(Z), k), -1)
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        n_neighbors = min(k + 1, len(rows))
        if n_neighbors > 1:
            nn = NearestNeighbors(n_neighbors=n_neighbors).fit(Z[rows])
            found_distances, found = nn.kneighbors(Z[rows])
            distances[rows, : n_neighbors - 1] = found_distances[:, 1:]
            mates[rows, : n_neighbors - 1] = rows[found[:, 1:]]
    return distances, mates


def vae_and_pool(protocol, vae_data, data, seed):
    """The fitted VAE of ``VAE_DATA`` (cached in ~/.cache/vaeaug) and the pool, or None."""
    pool = None
    if vae_data == "labelled":  # as docs/results.md's --vae-data labelled runs
        X_vae, vae_seed = data.X_train, seed
        vae_params = {"max_epochs": 100, "patience": 5}
    elif vae_data.startswith("pool"):  # "pool5000": a pool of that many, drawn per seed
        full = data.pool()
        pool = full[np.random.RandomState(seed).choice(len(full), int(vae_data[4:]), False)]
        # The README's pool recipe: the VAE of the labelled images and the pool.
        X_vae, vae_seed = np.concatenate([data.X_train, pool]), seed
        vae_params = {"max_epochs": 12}
    else:
        X_vae, vae_seed = data.X_unlabelled, 0 if protocol.startswith("mnist") else seed
        vae_params = dict(PROTOCOLS[protocol].vae_params)
        pool = data.pool()
    vae = fit_with_memory(
        VAE(10 if protocol == "digits" else 20, random_state=vae_seed, **vae_params),
        X_vae.reshape(-1, *data.image_shape),
        str(Path.home() / ".cache/vaeaug"),
    )
    return vae, pool


def main():
    protocol, vae_data, seeds, variants_json, out = sys.argv[1:6]
    classifiers = sys.argv[6].split(",") if len(sys.argv) > 6 else ["svm", "knn", "sklearn-mlp"]
    on_test = len(sys.argv) > 7 and sys.argv[7] == "test"  # once, after choosing on validation
    variants = json.loads(variants_json)
    proto = PROTOCOLS[protocol]
    for seed in map(int, seeds.split(",")):
        data = proto.load("../shared/data", seed)
        started = time.perf_counter()
        vae, pool = vae_and_pool(protocol, vae_data, data, seed)
        print(f"# {protocol} seed {seed} vae {time.perf_counter() - started:.0f}s", flush=True)
        sets = {"none": (data.X_train, data.y_train)}
        for name in ("pixel-interpolation", "jitter", "smote"):
            competitor = make_competitor(name, data.image_shape, seed)
            sets[name] = competitor.fit_resample(data.X_train, data.y_train)
        for name, spec in variants.items():
            spec = dict(spec)
            knobs = {key: spec.pop(key) for key in list(spec) if key in KNOBS}
            augmenter = type("V", (Variant,), knobs)(
                FrozenEstimator(vae), random_state=seed, **spec
            )
            X, y = data.X_train, data.y_train
            if spec.get("neighbor_search") == "unlabeled":
                X = np.concatenate([X, pool])
                y = np.concatenate([y.astype(np.int64), np.full(len(pool), -1)])
                augmenter.set_params(unlabeled_label=-1)
            sets[name] = augmenter.fit_resample(X, y)
        score_sets(
            sets, data, classifiers, on_test, out, protocol=protocol, vae=vae_data, seed=seed
        )


def score_sets(sets, data, classifiers, on_test, out, **row_keys):
    """Fit each classifier on each training set of ``sets`` (name -> (X, y)), score it on
    the validation images (the test images when ``on_test``) and append one JSON row to
    ``out`` for each, starting with ``row_keys``."""
    for name, (X_set, y_set) in sets.items():
        for classifier_name in classifiers:
            classifier = make_classifier(classifier_name, row_keys["seed"])
            started = time.perf_counter()
            classifier.fit(X_set, y_set)
            X_eval, y_eval = (data.X_test, data.y_test) if on_test else (data.X_val, data.y_val)
            accuracy = 100 * accuracy_score(y_eval, classifier.predict(X_eval))
            row = dict(
                **row_keys,
                set=name,
                clf=classifier_name,
                scored_on="test" if on_test else "validation",
                acc=accuracy,
                s=time.perf_counter() - started,
            )
            print(json.dumps(row), flush=True)
            with open(out, "a") as file:
                file.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
