"""Samplers that move samples in a feature or latent space (imbalanced-learn API)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from numbers import Integral, Real
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from imblearn.over_sampling import SMOTEN, SMOTENC
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import Substitution, check_neighbors_object
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..engine.image import affine_jitter, draw_jitter, refuse_table_jitter, resolve_jitter
from ..estimators import VAE, fit_with_memory
from ..utils._docstrings import AMOUNT_PARAMETERS, GENERATION_PARAMETERS
from ..utils._layout import decide_layout
from ..utils._validation import INFERENCE_BATCH_SIZE, IntegerInterval, row_batches
from ..utils._warnings import warn
from ._base import ATTRIBUTES_DOC, BaseAugmenter, Samples, SamplingStrategy
from .latent_moves import (
    add_noise,
    extrapolate,
    find_neighbors,
    find_neighbors_among,
    interpolate,
    pair_with_neighbors,
)

if TYPE_CHECKING:
    import joblib
    from sklearn.neighbors._base import KNeighborsMixin

_NEIGHBOR_METHODS = {"interpolation": interpolate, "extrapolation": extrapolate}


class LatentMoves(NamedTuple):
    """The encoded rows and the new latent vectors made from them."""

    #: Latent vectors of the rows of ``X`` (zero for rows that take no part).
    Z: np.ndarray
    #: For each new vector, the row it was made from.
    base: np.ndarray
    #: For each new vector, the row it was paired with, or -1.
    partner: np.ndarray
    #: The new latent vectors, in the order of ``base``.
    Z_new: np.ndarray
    #: For each new vector, the fraction of the way it moved towards its partner
    #: (negative: away from it; zero without a partner).
    step: np.ndarray
    #: For each sample asked for but not made, for want of a partner (a class of
    #: one), its row: the vectors above leave it out.
    unpaired: np.ndarray = np.empty(0, dtype=np.intp)


class BaseLatentAugmenter(BaseAugmenter):
    """Base class: generation in a latent space; subclasses map samples to latents.

    Subclasses implement ``_fit_encoder(samples, random_state)``,
    ``_encode(X)`` (samples to latent vectors) and ``_decode(Z)`` (latent
    vectors to an iterable of chunks of samples, see :class:`BaseAugmenter`).
    Warning: this class should not be used directly.
    """

    _parameter_constraints: dict = {
        **BaseAugmenter._parameter_constraints,
        "method": [
            StrOptions({"interpolation", "extrapolation", "noise"}),
            callable,
            BaseOverSampler,
        ],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "k_neighbors": [IntegerInterval(1, None, closed="left"), HasMethods(["kneighbors"])],
        "neighbor_search": [StrOptions({"class", "all", "unlabeled"})],
    }

    def _fit_generator(self, samples: Samples, random_state: np.random.RandomState) -> None:
        if isinstance(self.k_neighbors, Integral):
            self.nn_k_ = check_neighbors_object(
                "k_neighbors", self.k_neighbors, additional_neighbor=1
            )
        else:
            n_neighbors = getattr(self.k_neighbors, "n_neighbors", None)
            if not isinstance(n_neighbors, Integral) or n_neighbors < 2:
                raise ValueError(
                    "k_neighbors as an estimator must have an integer n_neighbors of at least "
                    "2 (it counts the sample itself, as in imbalanced-learn's SMOTE); "
                    f"{self.k_neighbors!r} has n_neighbors={n_neighbors!r}."
                )
            self.nn_k_ = self.k_neighbors
        self._fit_encoder(samples, random_state)

    def _make_samples(self, X, y, counts, random_state):
        """Encode, make new latent vectors with ``method``, decode."""
        moves = self._move_in_latent_space(X, y, counts, random_state)
        return moves.base, moves.partner, self._decode(moves.Z_new)

    def _move_in_latent_space(self, X, y, counts, random_state) -> LatentMoves:
        """Encode the rows that take part and make the new latent vectors.

        Only the rows that take part are encoded: the labelled ones, and the
        unlabelled ones too when they are the partners (``neighbor_search=
        "unlabeled"``); the other rows of ``Z`` are left at zero.
        """
        labelled = self._labelled(y)
        over_sampler = isinstance(self.method, BaseOverSampler)
        if over_sampler:
            _check_latent_over_sampler(self.method, self.neighbor_search)
        pool_partners = (
            not over_sampler and self.method != "noise" and self.neighbor_search == "unlabeled"
        )
        partners = ~labelled if pool_partners else labelled
        if pool_partners:
            self._check_unlabelled_rows(
                partners, "neighbor_search='unlabeled' pairs labelled samples with unlabelled ones"
            )
        encoded = labelled | partners
        if encoded.all():  # no row to leave out: no copies
            Z = self._encode(X)
        else:
            Z_encoded = self._encode(X[encoded])
            Z = np.zeros((len(X), Z_encoded.shape[1]), dtype=Z_encoded.dtype)
            Z[encoded] = Z_encoded
        if over_sampler:
            return self._over_sample(Z, y, labelled, counts, random_state)
        if self.method == "noise":
            base = np.repeat(np.arange(len(Z)), counts)
            partner = np.full(len(base), -1)
            Z_new = _noise_around(Z, base, labelled, self.alpha, random_state)
            return LatentMoves(Z, base, partner, Z_new, np.zeros(len(base)))
        neighbors = self._neighbors(Z, y, labelled, partners)
        lonely = (neighbors < 0).all(axis=1) & (counts > 0)
        if lonely.any():
            warn(
                f"Classes {np.unique(y[lonely]).tolist()} have a single sample, so no "
                f"neighbour to pair with: {self._unpaired_outcome()}"
            )
        unpaired = np.repeat(np.flatnonzero(lonely), counts[lonely])
        base, partner = pair_with_neighbors(neighbors, np.where(lonely, 0, counts))
        if callable(self.method):
            Z_new = np.asarray(self.method(Z[base], Z[partner], random_state))
            if Z_new.shape != (len(base), Z.shape[1]):
                raise ValueError(
                    f"The method callable must return an array of shape "
                    f"{(len(base), Z.shape[1])}; it returned shape {Z_new.shape}."
                )
            step = 0.0
        else:
            Z_new = _NEIGHBOR_METHODS[self.method](Z[base], Z[partner], alpha=self.alpha)
            step = self.alpha if self.method == "interpolation" else -self.alpha
        return LatentMoves(Z, base, partner, Z_new, np.full(len(base), step), unpaired)

    def _unpaired_outcome(self) -> str:
        """What becomes of the samples of a row with no neighbour, for the warning."""
        return (
            f"method={self.method!r} makes no synthetic samples for them. Use "
            "method='noise' or neighbor_search='all' to augment them."
        )

    def _over_sample(self, Z, y, labelled, counts, random_state) -> LatentMoves:
        """New latent vectors made by the imbalanced-learn over-sampler ``method``.

        A clone of it is asked, through its ``sampling_strategy``, for as many
        new vectors of each class as ``counts`` shares out, and seeded from
        ``random_state``. The over-samplers do not say which sample a new
        vector started from: its base is the nearest labelled vector of its
        class, and it has no partner.
        """
        rows = np.flatnonzero(labelled)
        Z_labelled, y_labelled = Z[rows], y[rows]
        classes, sizes = np.unique(y_labelled, return_counts=True)
        targets = {
            label: int(size + counts[rows][y_labelled == label].sum())
            for label, size in zip(classes, sizes, strict=True)
        }
        sampler = clone(self.method).set_params(sampling_strategy=targets)
        if "random_state" in sampler.get_params(deep=False):
            sampler.set_params(random_state=random_state.randint(np.iinfo(np.int32).max))
        try:
            Z_res, y_res = sampler.fit_resample(Z_labelled, y_labelled)
        except (ValueError, RuntimeError) as error:
            raise ValueError(
                f"method={self.method!r} could not over-sample the {len(rows)} latent vectors "
                f"of the labelled rows: {error}"
            ) from error
        Z_new, y_new = np.asarray(Z_res)[len(rows) :], np.asarray(y_res)[len(rows) :]
        asked = sum(targets.values()) - len(rows)
        if len(Z_new) < asked:
            warn(
                f"method={self.method!r} made {len(Z_new)} of the {asked} new samples asked: "
                "it makes samples only near the borders between classes, and found fewer "
                "there. SMOTE makes every sample asked."
            )
        base = np.empty(len(Z_new), dtype=np.intp)
        for label in np.unique(y_new):
            members = rows[y_labelled == label]
            new = np.flatnonzero(y_new == label)
            nearest = NearestNeighbors(n_neighbors=1).fit(Z[members])
            base[new] = members[nearest.kneighbors(Z_new[new], return_distance=False)[:, 0]]
        return LatentMoves(
            Z,
            base,
            np.full(len(base), -1),
            Z_new.astype(Z.dtype, copy=False),
            np.zeros(len(base)),
        )

    def _check_unlabelled_rows(self, unlabelled: np.ndarray, purpose: str) -> None:
        """Raise ValueError, after ``purpose`` (what needs them), if no row is unlabelled."""
        if unlabelled.any():
            return
        raise ValueError(
            f"{purpose}, "
            + (
                "but unlabeled_label is None: set it to the label of the unlabelled "
                "rows (-1 by scikit-learn's convention)."
                if self.unlabeled_label is None
                else f"but y has no row labelled unlabeled_label={self.unlabeled_label!r}."
            )
        )

    def _neighbors(self, Z, y, labelled, partners) -> np.ndarray:
        """Nearest partners of each labelled row, as row indices of ``Z`` (``-1``: none)."""
        queries = np.flatnonzero(labelled)
        if self.neighbor_search == "unlabeled":
            candidates = np.flatnonzero(partners)
            found = find_neighbors_among(Z[queries], Z[candidates], self.nn_k_)
            found_rows = np.where(found >= 0, candidates[found], -1)
        else:
            groups = y[queries] if self.neighbor_search == "class" else np.zeros(len(queries))
            found = find_neighbors(Z[queries], groups, self.nn_k_)
            found_rows = np.where(found >= 0, queries[found], -1)
        neighbors = np.full((len(Z), found.shape[1]), -1, dtype=np.intp)
        neighbors[queries] = found_rows
        return neighbors


@Substitution(
    generation_parameters=GENERATION_PARAMETERS,
    amount_parameters=AMOUNT_PARAMETERS,
    attributes=ATTRIBUTES_DOC,
)
class FeatureSpaceAugmenter(BaseLatentAugmenter):
    """Augment feature vectors by noise, interpolation or extrapolation, where they are.

    The feature-space augmentation of DeVries & Taylor (2017), on any numeric
    features: a table, pixels (interpolation between same-class images), an
    embedding, or the latent vectors of a :class:`~vaeaug.VAE`. After a VAE
    in a pipeline the classifier trains on latent vectors, and the pipeline
    encodes test data too, whereas samplers are skipped at predict time::

        Pipeline([("encode", VAE()), ("aug", FeatureSpaceAugmenter()), ("clf", SVC())])

    Parameters
    ----------
    {generation_parameters}

    {amount_parameters}

    random_state : int, RandomState instance or None, default=None
        Seeds the noise and the sharing of new samples among originals.

    Attributes
    ----------
    nn_k_ : estimator
        The nearest-neighbours estimator (cloned for each class searched).
    {attributes}

    See Also
    --------
    VAEAugmenter : Augment in a VAE's latent space and decode back to samples.
    """

    def __init__(
        self,
        *,
        method: str | Callable[..., np.ndarray] | BaseOverSampler = "interpolation",
        alpha: float = 0.5,
        k_neighbors: int | KNeighborsMixin = 3,
        neighbor_search: str = "class",
        n_per_sample: int = 3,
        sampling_strategy: SamplingStrategy = None,
        unlabeled_label: int | str | None = None,
        random_state: int | np.random.RandomState | None = None,
    ):
        self.method = method
        self.alpha = alpha
        self.k_neighbors = k_neighbors
        self.neighbor_search = neighbor_search
        self.n_per_sample = n_per_sample
        self.sampling_strategy = sampling_strategy
        self.unlabeled_label = unlabeled_label
        self.random_state = random_state

    def _fit_encoder(self, samples: Samples, random_state: np.random.RandomState) -> None:
        pass

    def _encode(self, X):
        # Integer and boolean features are moved in floating point.
        return X.astype(np.float64) if X.dtype.kind in "iub" else X

    def _decode(self, Z):
        return [Z]


@Substitution(
    generation_parameters=GENERATION_PARAMETERS,
    amount_parameters=AMOUNT_PARAMETERS,
    attributes=ATTRIBUTES_DOC,
)
class VAEAugmenter(BaseLatentAugmenter):
    """Augment labelled images by moving through a VAE's latent space.

    ``fit_resample`` trains a clone of ``vae`` on ``X`` without labels (or
    uses a frozen, fitted one), encodes each sample to its posterior mean,
    makes new latent vectors with ``method`` (and, for a share
    ``noise_share`` of them, with latent noise), decodes them back to images in
    the scale, dtype and shape of ``X`` with the detail the VAE cannot
    reconstruct (``decoding="residual"``) and, for images, jitters each one
    with a small random rotation and shift. The originals come first,
    unchanged. ``noise_share=0, decoding="direct", max_rotation=0,
    max_shift=0`` is the paper's recipe; with unlabelled rows (``unlabeled_label``),
    ``neighbor_search="unlabeled"`` pairs each labelled sample with its
    nearest unlabelled ones.

    Parameters
    ----------
    vae : VAE, FrozenEstimator of a fitted VAE, or None, default=None
        The VAE whose latent space is used. An unfitted :class:`~vaeaug.VAE`
        (or subclass) is a template: it is cloned and trained on ``X``, so a
        grid search reaches its parameters as ``vae__latent_dim``. A fitted
        one wrapped in :class:`sklearn.frozen.FrozenEstimator`, for instance
        trained on many unlabelled samples, is used as it is, also after
        cloning. ``None`` trains a ``VAE()`` with its defaults.

    {generation_parameters}

    {amount_parameters}

    noise_share : float, default=0.5
        Share of the new samples made by latent noise around their original
        instead of by ``method``: each new sample is, with this probability,
        decoded from ``z + noise_alpha * e`` as with ``method="noise"``, and
        has no partner. With residual decoding it is its original with a
        small change of shape (then jittered); the others move towards (or
        away from) a neighbour. Interpolated samples help nearest-neighbour
        classifiers most, perturbed originals help MLPs most; the mixture
        serves both (see the user guide). A sample that ``method`` cannot
        make, for want of a neighbour (a class of one), is made by latent
        noise too. ``0``: every sample is made by ``method``, as in the paper.

    noise_alpha : float, default=0.25
        Strength of that noise, in standard deviations of the encoded
        labelled samples along each latent dimension.

    decoding : {{"residual", "direct"}}, default="residual"
        ``"residual"``: the detail that the VAE cannot reconstruct, ``r = x -
        D(z)``, moves with the latent vector and is added to its decoding:
        ``D(z') + r'``, with ``r' = r + alpha * (r_n - r)`` for interpolation
        towards a neighbour ``n`` (``r - alpha * (r_n - r)`` for
        extrapolation) and ``r' = r`` for noise and callable methods; clipped
        to the pixel range for images. It keeps the sharp detail of the
        originals, which a VAE trained on few images cannot reproduce; with a
        VAE that reconstructs nothing, residual interpolation is
        interpolation of the samples themselves. ``"direct"`` (the paper's):
        a synthetic sample is the decoding ``D(z')`` of its new latent vector.

    max_rotation : float or "auto", default="auto"
        Each decoded image is rotated by an angle drawn uniformly from
        ``[-max_rotation, max_rotation]`` degrees (bilinear, background 0).
        ``"auto"``: 10 for images (see the VAE's ``image_shape`` for how it
        tells images from tables), no jitter for tables. ``0`` turns it off.

    max_shift : float or "auto", default="auto"
        Each decoded image is shifted by offsets drawn uniformly from
        ``[-max_shift, max_shift]`` pixels along each axis. ``"auto"``: 2 for
        images of at least 28 pixels a side, 1/14 of the side for
        smaller ones (0.57 for 8x8), no shift otherwise. ``0`` turns it off.

    memory : str, joblib.Memory or None, default=None
        Cache of trained VAEs (a folder, or a :class:`joblib.Memory`), keyed on
        the data, the VAE's class and parameters (its seed included, see
        ``random_state``), vaeaug's training code and the torch version. A
        grid search that only varies generation parameters then trains one
        VAE per fold instead of one per grid point. Needs an int
        ``random_state`` (or a seeded ``vae``) to hit the cache. Entries are
        pickles: never point ``memory`` at a folder that others can write to.
        A folder that cannot be written (a team's cache mounted read-only)
        serves the entries it holds; a VAE it lacks, or one that cannot be
        written there (a full disk), is trained and used without being
        cached, with a warning that says why.

    vae_training_rows : {{"all", "unlabeled"}}, default="all"
        The rows of ``X`` that the cloned VAE trains on: all of them, or only
        the unlabelled ones (``unlabeled_label``). With a pool of unlabelled
        images many times larger than the labelled set, ``"unlabeled"``
        makes the VAE the same in every fold of a cross-validation that
        keeps the pool in each training fold
        (:class:`~vaeaug.model_selection.SemiSupervisedSplit`), so that with
        ``memory`` a grid search trains one VAE per VAE setting for all its
        folds and the refit, instead of one per fold (measured in
        ``benchmarks/README.md``); the labelled rows then only get encoded.
        Unlabelled rows that are one block of an array (all of them after,
        or before, the labelled ones) are used in place, so a memory-mapped
        pool stays on disk; other rows are copied. Not used by a frozen VAE,
        which does not train.

    random_state : int, RandomState instance or None, default=None
        Seeds the generation and, unless ``vae`` has a ``random_state`` of its
        own, the training of the cloned VAE (the VAE's own seed wins when it
        is set). The same seed gives the same output on the CPU of one
        machine, with one torch version and one number of torch threads (see
        :class:`~vaeaug.VAE`), without touching global random states.

    Attributes
    ----------
    vae_ : VAE
        The fitted VAE in use: the trained clone of ``vae``, or the VAE
        inside the ``FrozenEstimator``.
    max_rotation_, max_shift_ : float
        The jitter bounds used, ``"auto"`` resolved for the VAE's data.
    nn_k_ : estimator
        The nearest-neighbours estimator (cloned for each class searched).
    {attributes}

    See Also
    --------
    FeatureSpaceAugmenter : The same generators on feature vectors, e.g. after a VAE in a pipeline.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from vaeaug import VAE, VAEAugmenter
    >>> X, y = load_digits(return_X_y=True)
    >>> vae = VAE(latent_dim=8, image_shape=(8, 8), max_epochs=2)
    >>> augmenter = VAEAugmenter(vae=vae, random_state=0)
    >>> X_res, y_res = augmenter.fit_resample(X[:100], y[:100])
    >>> X_res.shape
    (400, 64)
    >>> int(augmenter.synthetic_mask_.sum())
    300
    """

    _parameter_constraints: dict = {
        **BaseLatentAugmenter._parameter_constraints,
        "vae": [VAE, FrozenEstimator, None],
        "noise_share": [Interval(Real, 0, 1, closed="both")],
        "noise_alpha": [Interval(Real, 0, None, closed="left")],
        "decoding": [StrOptions({"direct", "residual"})],
        "max_rotation": [Interval(Real, 0, 180, closed="both"), StrOptions({"auto"})],
        "max_shift": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "memory": [None, str, HasMethods(["cache"])],
        "vae_training_rows": [StrOptions({"all", "unlabeled"})],
    }

    def __init__(
        self,
        vae: VAE | FrozenEstimator | None = None,
        *,
        method: str | Callable[..., np.ndarray] | BaseOverSampler = "interpolation",
        alpha: float = 0.5,
        k_neighbors: int | KNeighborsMixin = 3,
        neighbor_search: str = "class",
        n_per_sample: int = 3,
        sampling_strategy: SamplingStrategy = None,
        noise_share: float = 0.5,
        noise_alpha: float = 0.25,
        decoding: str = "residual",
        max_rotation: float | str = "auto",
        max_shift: float | str = "auto",
        unlabeled_label: int | str | None = None,
        memory: str | joblib.Memory | None = None,
        vae_training_rows: str = "all",
        random_state: int | np.random.RandomState | None = None,
    ):
        self.vae = vae
        self.method = method
        self.alpha = alpha
        self.k_neighbors = k_neighbors
        self.neighbor_search = neighbor_search
        self.n_per_sample = n_per_sample
        self.sampling_strategy = sampling_strategy
        self.noise_share = noise_share
        self.noise_alpha = noise_alpha
        self.decoding = decoding
        self.max_rotation = max_rotation
        self.max_shift = max_shift
        self.unlabeled_label = unlabeled_label
        self.memory = memory
        self.vae_training_rows = vae_training_rows
        self.random_state = random_state

    def _fit_encoder(self, samples: Samples, random_state: np.random.RandomState) -> None:
        # Drawn whether or not it is used, so that the generation's random
        # stream does not depend on where the VAE comes from.
        vae_seed = random_state.randint(np.iinfo(np.int32).max)
        X = samples.X
        if self.vae_training_rows == "unlabeled" and not isinstance(self.vae, FrozenEstimator):
            unlabelled = ~self._labelled(samples.y)
            self._check_unlabelled_rows(
                unlabelled, "vae_training_rows='unlabeled' trains the VAE on the unlabelled rows"
            )
            rows = np.flatnonzero(unlabelled)
            # One block of rows of an array is a view: a memory-mapped pool stays on
            # disk. In C order, as the copies are: memory= keys on the layout too.
            one_block = isinstance(X, np.ndarray) and rows[-1] - rows[0] + 1 == len(rows)
            X = np.ascontiguousarray(X[rows[0] : rows[-1] + 1]) if one_block else X[rows]
        X_vae = X if samples.sample_shape is None else X.reshape(len(X), *samples.sample_shape)
        if isinstance(self.vae, FrozenEstimator):
            self.vae_ = _frozen_vae(self.vae, X_vae)
        else:
            template = VAE() if self.vae is None else self.vae
            _warn_if_fitted(template)
            vae = clone(template)
            if vae.random_state is None:
                vae.set_params(random_state=vae_seed)
            if samples.tabular and vae.architecture == "auto":
                # The VAE sees the rows as an array; a data frame is a table.
                vae.set_params(architecture="dense")
            self._refuse_table_jitter_before_training(vae, X, samples.sample_shape)
            self.vae_ = fit_with_memory(vae, X_vae, self.memory)
        self.max_rotation_, self.max_shift_ = resolve_jitter(
            self.max_rotation, self.max_shift, self.vae_.layout_
        )

    def _refuse_table_jitter_before_training(self, vae: VAE, X_2d, sample_shape) -> None:
        """Raise ValueError, before the VAE trains, if explicit jitter meets rows it reads
        as a table (``resolve_jitter`` would only refuse it after training)."""
        if not any(bound != "auto" and bound > 0 for bound in (self.max_rotation, self.max_shift)):
            return
        if vae.architecture != "dense":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the VAE's fit warns as it decides the same
                layout = decide_layout(
                    X_2d, sample_shape, image_shape=vae.image_shape, architecture=vae.architecture
                )
            if layout.is_image:
                return
        refuse_table_jitter(self.max_rotation, self.max_shift)

    def _make_samples(self, X, y, counts, random_state):
        moves = self._move_in_latent_space(X, y, counts, random_state)
        jitter = None
        if self.max_rotation_ or self.max_shift_:
            jitter = draw_jitter(len(moves.base), self.max_rotation_, self.max_shift_, random_state)
        chunks = self._decode(moves.Z_new)
        if self.decoding == "residual" and len(moves.base):
            chunks = self._with_detail(chunks, X, moves)
        if jitter is not None:
            chunks = self._jittered(chunks, *jitter)
        return moves.base, moves.partner, chunks

    def _move_in_latent_space(self, X, y, counts, random_state) -> LatentMoves:
        """The moves of ``method``, a share ``noise_share`` of them replaced by latent noise.

        The samples of rows that ``method`` cannot pair (a class of one) are all
        latent noise when ``noise_share`` is set.
        """
        moves = super()._move_in_latent_space(X, y, counts, random_state)
        if not self.noise_share:
            return moves
        unpaired = moves.unpaired
        if not len(moves.base) and not len(unpaired):
            return moves
        noisy = np.concatenate(
            [
                random_state.uniform(size=len(moves.base)) < self.noise_share,
                np.ones(len(unpaired), bool),
            ]
        )
        base = np.concatenate([moves.base, unpaired])
        partner = np.concatenate([moves.partner, np.full(len(unpaired), -1)])
        step = np.concatenate([moves.step, np.zeros(len(unpaired))])
        Z_new = np.concatenate([moves.Z_new, moves.Z[unpaired]])
        Z_new[noisy] = _noise_around(
            moves.Z, base[noisy], self._labelled(y), self.noise_alpha, random_state
        )
        partner[noisy], step[noisy] = -1, 0.0
        # Keep the new samples grouped by their original.
        order = np.argsort(base, kind="stable") if len(unpaired) else slice(None)
        return LatentMoves(moves.Z, base[order], partner[order], Z_new[order], step[order])

    def _unpaired_outcome(self) -> str:
        if not self.noise_share:
            return super()._unpaired_outcome()
        return (
            f"their synthetic samples are all latent noise around it "
            f"(noise_alpha={self.noise_alpha}), none made by method={self.method!r}."
        )

    def _with_detail(self, chunks, X, moves: LatentMoves):
        """Add to each decoded chunk the detail the VAE cannot reconstruct (``decoding``).

        A new sample's detail moves from its base's towards its partner's by the
        step its latent vector took: ``r + step * (r_n - r)``.
        """
        # What the VAE cannot reconstruct of each row that is a base or a partner,
        # computed once for each such row.
        n_new = len(moves.base)
        partner = np.where(moves.step != 0, moves.partner, moves.base)
        rows_used, position = np.unique(np.concatenate([moves.base, partner]), return_inverse=True)
        reconstructed = self.vae_.inverse_transform(moves.Z[rows_used])
        details = X[rows_used] - reconstructed.reshape(len(rows_used), -1)
        of_base, of_partner = position[:n_new], position[n_new:]
        step = moves.step.astype(details.dtype)[:, None]
        pixel_max = self.vae_.layout_.pixel_max
        for rows, chunk in _with_rows(chunks):
            detail = details[of_base[rows]]
            detail = detail + step[rows] * (details[of_partner[rows]] - detail)
            chunk = chunk.reshape(len(chunk), -1) + detail
            if pixel_max is not None:
                np.clip(chunk, 0, pixel_max, out=chunk)
            yield chunk

    def _jittered(self, chunks, angles: np.ndarray, shifts: np.ndarray):
        """Rotate and shift each decoded image by its drawn angle and shift."""
        image_shape = self.vae_.layout_.image_shape
        for rows, chunk in _with_rows(chunks):
            yield affine_jitter(chunk.reshape(len(chunk), *image_shape), angles[rows], shifts[rows])

    def _encode(self, X):
        return self.vae_.transform(X.reshape(len(X), *self.vae_.layout_.sample_shape))

    def _decode(self, Z):
        # Chunk by chunk, so that only the output holds all decoded samples.
        for rows in row_batches(len(Z), INFERENCE_BATCH_SIZE):
            yield self.vae_.inverse_transform(Z[rows])


def _check_latent_over_sampler(sampler: BaseOverSampler, neighbor_search: str) -> None:
    """Refuse over-samplers that cannot work on latent vectors, and the pool search."""
    if isinstance(sampler, (SMOTEN, SMOTENC)):
        raise ValueError(
            f"method={sampler!r} over-samples categorical features; latent vectors are "
            "continuous. Use SMOTE, BorderlineSMOTE, SVMSMOTE, KMeansSMOTE, ADASYN or "
            "RandomOverSampler."
        )
    if neighbor_search == "unlabeled":
        raise ValueError(
            f"method={sampler!r} makes its samples among the labelled vectors of each class, "
            "so neighbor_search='unlabeled' does not apply to it; leave neighbor_search at "
            "'class' or use method='interpolation' to move towards unlabelled rows."
        )


def _with_rows(chunks):
    """Pair each chunk with the slice of rows it holds in the concatenation of ``chunks``."""
    start = 0
    for chunk in chunks:
        yield slice(start, start + len(chunk)), chunk
        start += len(chunk)


def _frozen_vae(frozen: FrozenEstimator, X) -> VAE:
    """The fitted VAE inside ``frozen``, checked against the data it will encode."""
    vae = frozen.estimator
    if not isinstance(vae, VAE):
        raise TypeError(
            "vae=FrozenEstimator(...) must wrap a fitted vaeaug VAE; it wraps "
            f"{type(vae).__name__}."
        )
    try:
        check_is_fitted(vae)
    except NotFittedError as exc:
        raise ValueError(
            "vae=FrozenEstimator(VAE(...)) wraps a VAE that is not fitted. Fit it first "
            "(e.g. on unlabelled samples), or pass the unfitted VAE(...) without "
            "FrozenEstimator to train a clone of it on X."
        ) from exc
    n_features = int(np.prod(X.shape[1:]))
    if vae.n_features_in_ != n_features:
        raise ValueError(
            f"X has {n_features} values per sample but the frozen vae was fitted on "
            f"{vae.n_features_in_}."
        )
    return vae


def _warn_if_fitted(vae: VAE) -> None:
    try:
        check_is_fitted(vae)
    except NotFittedError:
        return
    warn(
        "vae is a fitted VAE that is not wrapped in FrozenEstimator: like scikit-learn's "
        "meta-estimators, VAEAugmenter trains a clone of it on X. Pass "
        "vae=FrozenEstimator(vae) to use its weights as they are."
    )


def _noise_around(
    Z: np.ndarray,
    rows: np.ndarray,
    labelled: np.ndarray,
    alpha: float,
    random_state: np.random.RandomState,
) -> np.ndarray:
    """Latent noise around ``Z[rows]``, in standard deviations of the labelled vectors."""
    return add_noise(Z[rows], scale=Z[labelled].std(axis=0), alpha=alpha, random_state=random_state)
