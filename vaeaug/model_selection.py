"""Model selection: letting cross-validation choose the augmentation, with unlabelled rows too."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from imblearn import FunctionSampler
from sklearn.model_selection import BaseCrossValidator, check_cv
from sklearn.utils import _safe_indexing

from .estimators import VAE
from .samplers import AffineJitterAugmenter, VAEAugmenter
from .utils._validation import unlabelled_mask


def augmentation_candidates(
    vae: VAE | None = None,
    *,
    image_shape: Sequence[int] | None = None,
    unlabeled_label: int | str | None = None,
    memory=None,
    random_state: int = 0,
) -> list:
    """The augmentation steps worth comparing, for a grid search to choose among.

    Put them in a grid over a pipeline's augmentation step, so that
    cross-validation picks, for your classifier and your data, between no
    augmentation, affine jitter and vaeaug's recipes, with and without their
    jitter (see the README's "Which recipe")::

        pipe = Pipeline([("aug", "passthrough"), ("clf", SVC())])
        search = GridSearchCV(pipe, {"aug": augmentation_candidates(memory=cache)})

    With ``memory``, the VAE recipes share one VAE per training fold: it is
    trained once per fold, however many VAE candidates the grid holds.

    Each recipe comes with and without its jitter: rotations and shifts help
    with handwriting, but some images' labels do not survive them (an
    orientation, a position), and on some data interpolation without them
    does better (``docs/results.md``, "A check of the jitter on the labelled
    data").

    Parameters
    ----------
    vae : VAE or None, default=None
        The VAE of the VAE recipes (cloned and trained on each fold);
        ``None``: ``VAE()``.
    image_shape : tuple of int or None, default=None
        ``(height, width)`` or ``(channels, height, width)`` for the jitter
        when ``X`` holds flat rows; ``None`` for image arrays. Give the same
        to ``vae``.
    unlabeled_label : int, str or None, default=None
        The label of unlabelled rows in ``y`` (``-1`` by scikit-learn's
        convention), when ``X`` holds a pool of unlabelled images: every
        candidate then leaves them out of what the classifier sees, and one
        more candidate pairs each labelled image with its nearest unlabelled
        ones (``neighbor_search="unlabeled"``). Split with
        :class:`SemiSupervisedSplit` so that test folds hold labelled rows only.
    memory : str, joblib.Memory or None, default=None
        The cache of trained VAEs (see :class:`~vaeaug.VAEAugmenter`); without
        it each VAE candidate trains its own VAE on each fold.
    random_state : int, default=0
        Seeds every candidate; an int, so that the VAE recipes share their VAE.

    Returns
    -------
    candidates : list
        No augmentation (``"passthrough"``, or a sampler that only drops
        the unlabelled rows), :class:`~vaeaug.AffineJitterAugmenter`,
        :class:`~vaeaug.VAEAugmenter` with its defaults and the same with
        ``max_rotation=0, max_shift=0``, and with ``unlabeled_label`` the
        pool recipe (``neighbor_search="unlabeled"``), with and without its
        jitter.
    """
    common = {"unlabeled_label": unlabeled_label, "random_state": random_state}
    vae = VAE() if vae is None else vae
    none = "passthrough"
    if unlabeled_label is not None:
        none = FunctionSampler(
            func=labeled_rows, kw_args={"unlabeled_label": unlabeled_label}, validate=False
        )
    recipes = [{}]
    if unlabeled_label is not None:
        recipes.append({"neighbor_search": "unlabeled"})
    candidates = [none, AffineJitterAugmenter(image_shape=image_shape, **common)]
    for recipe in recipes:
        candidates += [
            VAEAugmenter(vae, memory=memory, **recipe, **common),
            VAEAugmenter(vae, max_rotation=0, max_shift=0, memory=memory, **recipe, **common),
        ]
    return candidates


def labeled_rows(X, y, *, unlabeled_label: int | str) -> tuple:
    """The rows of ``X`` and ``y`` whose label is not ``unlabeled_label``.

    The "no augmentation" candidate of :func:`augmentation_candidates` when
    ``y`` marks unlabelled rows, as imbalanced-learn's ``FunctionSampler``.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Samples: an array, a data frame or a list.
    y : array-like of shape (n_samples,)
        Labels, ``unlabeled_label`` for unlabelled rows.
    unlabeled_label : int or str
        The label of the unlabelled rows.

    Returns
    -------
    X_labelled : array-like
        The labelled rows of ``X``, of its type.
    y_labelled : ndarray
        Their labels.

    Raises
    ------
    ValueError
        When ``unlabeled_label`` is a str and the labels numbers, or the
        other way round.
    """
    keep = ~unlabelled_mask(y, unlabeled_label)
    return _safe_indexing(X, keep), np.asarray(y)[keep]


class SemiSupervisedSplit(BaseCrossValidator):
    """Cross-validation that trains on unlabelled rows in every fold and tests on labelled ones.

    With semi-supervised data (unlabelled rows marked by ``unlabeled_label``
    in ``y``, as :class:`~vaeaug.VAEAugmenter` takes them), an ordinary
    splitter puts unlabelled rows in test folds, where they would be scored
    as a class of their own. This splitter splits the labelled rows with
    ``cv`` and adds every unlabelled row to each training fold, so that a
    VAE can learn from them while the scores count labelled rows only.

    Parameters
    ----------
    cv : int, cross-validation generator or iterable, default=5
        How the labelled rows are split, as the ``cv`` of
        :class:`~sklearn.model_selection.GridSearchCV`: an int is a
        :class:`~sklearn.model_selection.StratifiedKFold` with that many folds.
        A generator or an iterable of splits indexes the labelled rows only,
        in their order in ``X``.
    unlabeled_label : int or str, default=-1
        The label of the unlabelled rows (scikit-learn's convention); give
        the augmenters' ``unlabeled_label`` the same value.

    Examples
    --------
    >>> import numpy as np
    >>> from vaeaug.model_selection import SemiSupervisedSplit
    >>> y = np.array([0, 0, 1, 1, -1, -1])
    >>> for train, test in SemiSupervisedSplit(cv=2).split(np.zeros((6, 1)), y):
    ...     print(train, test)
    [1 3 4 5] [0 2]
    [0 2 4 5] [1 3]
    """

    def __init__(self, cv=5, unlabeled_label: int | str = -1):
        self.cv = cv
        self.unlabeled_label = unlabeled_label

    def split(self, X, y, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train, test)`` indices: test folds hold labelled rows only.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples; only their number is used.
        y : array-like of shape (n_samples,)
            Labels, ``unlabeled_label`` for unlabelled rows.
        groups : array-like of shape (n_samples,), default=None
            Passed on, for the labelled rows, to ``cv``.

        Yields
        ------
        train : ndarray
            The training rows of the labelled split, and every unlabelled row.
        test : ndarray
            The test rows of the labelled split.
        """
        labelled, unlabelled = self._partition(y)
        y = np.asarray(y)
        labelled_groups = None if groups is None else np.asarray(groups)[labelled]
        cv = check_cv(self.cv, y[labelled], classifier=True)
        for train, test in cv.split(np.zeros((len(labelled), 1)), y[labelled], labelled_groups):
            yield np.sort(np.concatenate([labelled[train], unlabelled])), labelled[test]

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Number of folds (``y``, and ``groups`` where ``cv`` needs them, as in ``split``)."""
        if y is None:
            return check_cv(self.cv, None, classifier=True).get_n_splits(None, None, groups)
        labelled, _ = self._partition(y)
        y_labelled = np.asarray(y)[labelled]
        labelled_groups = None if groups is None else np.asarray(groups)[labelled]
        cv = check_cv(self.cv, y_labelled, classifier=True)
        return cv.get_n_splits(np.zeros((len(labelled), 1)), y_labelled, labelled_groups)

    def _partition(self, y) -> tuple[np.ndarray, np.ndarray]:
        if y is None:
            raise ValueError("SemiSupervisedSplit needs y to tell labelled from unlabelled rows.")
        unlabelled = unlabelled_mask(y, self.unlabeled_label)
        if unlabelled.all():
            raise ValueError(
                f"y holds no labelled row: every label is unlabeled_label={self.unlabeled_label!r}."
            )
        return np.flatnonzero(~unlabelled), np.flatnonzero(unlabelled)
