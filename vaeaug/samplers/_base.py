"""Base class of the augmenters: validation, amount of new samples, output layout."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from numbers import Integral
from typing import NamedTuple

import numpy as np
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_sampling_strategy
from imblearn.utils._validation import ArraysTransformer
from sklearn.base import _fit_context
from sklearn.preprocessing import label_binarize
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets

from ..engine._threads import worker_threads
from ..utils._transactional import fit_atomically
from ..utils._validation import (
    IntegerInterval,
    flatten_samples,
    holds_str_labels,
    unlabelled_mask,
)
from ..utils._warnings import warn
from .latent_moves import spread_counts

#: What ``sampling_strategy`` takes: imbalanced-learn's float, str, dict or
#: callable, or ``None`` for ``n_per_sample`` new samples of every original.
SamplingStrategy = float | str | dict | Callable[..., dict] | None


class Samples(NamedTuple):
    """The input of a fit, validated once by :meth:`BaseAugmenter._fit`."""

    #: The samples as rows, of shape (n_samples, n_features).
    X: np.ndarray
    #: The labels, unlabelled rows included.
    y: np.ndarray
    #: The shape of one sample when ``X`` was given as (n, H, W) or (n, C, H, W).
    sample_shape: tuple[int, ...] | None
    #: Whether ``X`` was a data frame (a table, whatever its width).
    tabular: bool
    #: Whether ``y`` was a binarized (one-hot) target, given back in that form.
    binarize_y: bool


class BaseAugmenter(BaseOverSampler):
    """Over-sampler that returns the originals first, then synthetic samples.

    It validates the input (flattening image arrays), decides how many new
    samples each original gets (``n_per_sample``, or imbalanced-learn's
    ``sampling_strategy``), and lays out the output in the type, dtype and
    sample shape of ``X``. Subclasses implement two hooks:

    - ``_fit_generator(samples, random_state)``: learn what the generation
      needs (called by ``fit`` and ``fit_resample``) from the validated
      :class:`Samples`, unlabelled rows included;
    - ``_make_samples(X, y, counts, random_state)``: return ``base`` (the
      original each new row comes from), ``partner`` (the neighbour it was
      paired with, or -1) and ``chunks``, an iterable of 2-D arrays whose
      rows, in the features of ``X``, are the new samples in the order of
      ``base``; making ``counts[i]`` samples from row ``i`` unless documented
      otherwise (``counts`` is 0 for unlabelled rows). Each chunk is copied
      into the output as it comes, so a generator of chunks bounds the memory
      needed beyond the output.

    Warning: this class should not be used directly.
    """

    _parameter_constraints: dict = {
        "n_per_sample": [IntegerInterval(1, None, closed="left")],
        "sampling_strategy": [None, *BaseOverSampler._parameter_constraints["sampling_strategy"]],
        "unlabeled_label": [None, Integral, str],
        "random_state": ["random_state"],
    }

    # False: the VAE and the neighbours estimator are nested estimators to validate.
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **params):
        """Validate the data and fit the generator, without generating samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, H, W) \
                or (n_samples, C, H, W)
            Samples.
        y : array-like of shape (n_samples,)
            Class labels.
        **params : dict
            Accepted for imbalanced-learn's sampler API; these samplers use no
            extra parameters, so any is refused with a ``TypeError``.

        Returns
        -------
        self : object
            The fitted sampler.
        """
        self._check_no_params("fit", params)
        fit_atomically(self, lambda twin: twin._fit(X, y))
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_resample(self, X, y, **params):
        """Fit, then return the originals followed by the synthetic samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, H, W) \
                or (n_samples, C, H, W)
            Samples; not modified.
        y : array-like of shape (n_samples,)
            Class labels; not modified.
        **params : dict
            Accepted for imbalanced-learn's sampler API (e.g. parameters a
            pipeline passes on); these samplers use none, so any is refused
            with a ``TypeError`` that names it.

        Returns
        -------
        X_resampled : array-like of shape (n_labelled + n_synthetic, ...)
            The labelled rows of ``X`` unchanged (all of them, unless
            ``unlabeled_label`` is set), then the synthetic samples, in the
            type, dtype and sample shape of ``X`` (integer inputs get rounded
            synthetic values).
        y_resampled : array-like of shape (n_labelled + n_synthetic,)
            Labels; a synthetic sample has the label of the original it was
            made from.
        """
        self._check_no_params("fit_resample", params)
        arrays_transformer = ArraysTransformer(X, y)
        # The fitted attributes change together, once resampling has succeeded.
        samples, (X_res, y_res) = fit_atomically(self, lambda twin: twin._fit_and_resample(X, y))
        n_kept = int(np.count_nonzero(~self.synthetic_mask_))
        _round_integer_columns(X_res[n_kept:], getattr(X, "dtypes", None))
        if samples.sample_shape is not None:
            X_res = X_res.reshape(len(X_res), *samples.sample_shape)
        if samples.binarize_y:
            y_res = label_binarize(y_res, classes=np.unique(samples.y))
        return arrays_transformer.transform(X_res, y_res)

    def _fit_and_resample(self, X, y) -> tuple[Samples, tuple[np.ndarray, np.ndarray]]:
        with worker_threads():  # generation too runs on this process's share of the cores
            samples, rng = self._fit(X, y)
            return samples, self._fit_resample(samples.X, samples.y, random_state=rng)

    def _check_no_params(self, method: str, params: dict) -> None:
        if params:
            raise TypeError(
                f"{type(self).__name__}.{method} takes no parameters besides X and y; got "
                f"{sorted(params)}."
            )

    def _fit(self, X, y) -> tuple[Samples, np.random.RandomState]:
        """Validate ``X`` and ``y``, decide the amounts, fit the generator."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        check_classification_targets(y)
        X_2d, sample_shape = flatten_samples(X)
        X_2d, y, binarize_y = self._check_X_y(X_2d, y, accept_sparse=False)
        samples = Samples(X_2d, y, sample_shape, hasattr(X, "columns"), binarize_y)
        self._check_unlabeled_label(y)
        y_labelled = y[self._labelled(y)]
        if len(y_labelled) == 0:
            raise ValueError(
                f"y holds no labelled sample: every label is unlabeled_label="
                f"{self.unlabeled_label!r}."
            )
        if self.sampling_strategy is None:
            classes, counts = np.unique(y_labelled, return_counts=True)
            check_sampling_strategy("auto", y_labelled, self._sampling_type)  # one class
            self.sampling_strategy_ = {
                label: int(count) * self.n_per_sample
                for label, count in zip(classes, counts, strict=True)
            }
        else:
            self._warn_if_n_per_sample_is_ignored()
            try:
                strategy = check_sampling_strategy(
                    self.sampling_strategy, y_labelled, self._sampling_type
                )
            except ValueError as error:
                raise ValueError(
                    f"sampling_strategy={self.sampling_strategy!r} does not suit y: {error}"
                ) from error
            self.sampling_strategy_ = dict(strategy)
        rng = check_random_state(self.random_state)
        self._fit_generator(samples, rng)
        return samples, rng

    def _check_unlabeled_label(self, y: np.ndarray) -> None:
        """Refuse an ``unlabeled_label`` of another type than the labels of ``y``, which
        would match no row; when it is ``None``, warn of rows labelled -1.

        A class named -1 is augmented as any other; the warning says how to silence it.
        """
        if self.unlabeled_label is not None:
            unlabelled_mask(y, self.unlabeled_label)
            return
        if holds_str_labels(y):
            return
        n_minus_one = int(np.count_nonzero(y == -1))
        if n_minus_one:
            warn(
                f"y has {n_minus_one} rows labelled -1, scikit-learn's label for unlabelled "
                "rows, but unlabeled_label is None: they are augmented as a class of their "
                "own. If they are unlabelled, pass unlabeled_label=-1. If -1 is a class, "
                "silence this warning with warnings.filterwarnings('ignore', "
                "'y has .* rows labelled -1'), or give the class another label."
            )

    def _labelled(self, y: np.ndarray) -> np.ndarray:
        """Mask of the labelled rows: those whose label is not ``unlabeled_label``."""
        if self.unlabeled_label is None:
            return np.ones(len(y), dtype=bool)
        return ~unlabelled_mask(y, self.unlabeled_label)

    def _warn_if_n_per_sample_is_ignored(self):
        default = inspect.signature(type(self)).parameters["n_per_sample"].default
        if self.n_per_sample != default:
            warn(
                f"n_per_sample={self.n_per_sample} is not used: sampling_strategy="
                f"{self.sampling_strategy!r} sets the number of new samples of each class. "
                f"Leave n_per_sample at {default}, or set sampling_strategy=None to make "
                "n_per_sample new samples from each original."
            )

    def _fit_resample(self, X, y, random_state):
        """Make the synthetic samples and append them to the labelled originals."""
        labelled = np.flatnonzero(self._labelled(y))
        counts = np.zeros(len(y), dtype=np.intp)  # unlabelled rows make no samples
        counts[labelled] = spread_counts(y[labelled], self.sampling_strategy_, random_state)
        # float16 overflows in sums (a standard deviation, a distance): generate in float32.
        X_work = X.astype(np.float32) if X.dtype == np.float16 else X
        base, partner, chunks = self._make_samples(X_work, y, counts, random_state)
        n_kept = len(labelled)
        X_res = np.empty((n_kept + len(base), X.shape[1]), dtype=X.dtype)
        X_res[:n_kept] = X[labelled]
        filled = n_kept
        for chunk in chunks:
            chunk = chunk.reshape(len(chunk), X.shape[1])
            X_res[filled : filled + len(chunk)] = _cast_like(chunk, X)
            filled += len(chunk)
        if filled != len(X_res):  # would leave uninitialised rows
            raise RuntimeError(
                f"{type(self).__name__} made {filled - n_kept} samples, not {len(base)}."
            )
        self.sample_indices_ = np.concatenate([labelled, base])
        self.neighbor_indices_ = np.concatenate([np.full(n_kept, -1), partner])
        self.synthetic_mask_ = np.arange(len(self.sample_indices_)) >= n_kept
        return X_res, y[self.sample_indices_]

    def _fit_generator(self, samples: Samples, random_state: np.random.RandomState) -> None:
        pass

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.sampler_tags.sample_indices = True
        return tags


def _cast_like(X_new: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Cast synthetic rows to the dtype of the originals, rounding for integers and booleans."""
    if X.dtype.kind in "iub":
        X_new = _rounded(X_new, X.dtype)
    return X_new.astype(X.dtype, copy=False)


def _rounded(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Round ``values`` to the nearest integers in the range of the integer or bool ``dtype``."""
    if dtype.kind == "b":
        low, high = 0, 1
    else:
        info = np.iinfo(dtype)
        low, high = info.min, float(info.max)
        if high > info.max:  # 64-bit: the float nearest the maximum is out of range
            high = np.nextafter(high, 0)
    return np.clip(np.rint(values), low, high)


def _round_integer_columns(X_new: np.ndarray, dtypes) -> None:
    """Round, in place, synthetic values of a data frame's integer and boolean columns.

    A data frame with columns of several dtypes is validated into one float
    array; casting back to integer columns would truncate, not round.
    """
    if dtypes is None or X_new.dtype.kind != "f":
        return
    for column, dtype in enumerate(dtypes):
        dtype = getattr(dtype, "numpy_dtype", dtype)  # pandas' nullable Int64, boolean
        if isinstance(dtype, np.dtype) and dtype.kind in "iub":
            X_new[:, column] = _rounded(X_new[:, column], dtype)


ATTRIBUTES_DOC = """sampling_strategy_ : dict
        Number of synthetic samples asked for each class.
    sample_indices_ : ndarray of shape (n_labelled + n_synthetic,)
        For each output row, the index in ``X`` of the original it is (first
        ``n_labelled`` rows: every row of ``X`` unless ``unlabeled_label``
        is set) or was made from (synthetic rows), so indices repeat. Unlike
        the ``sample_indices_`` of imbalanced-learn's under-samplers, which
        lists the rows of ``X`` that were kept, it has one entry per output
        row, synthetic rows included.
    neighbor_indices_ : ndarray of shape (n_labelled + n_synthetic,)
        For each synthetic row, the index of the neighbour it was paired
        with; ``-1`` for the originals and where no neighbour is used.
    synthetic_mask_ : ndarray of bool of shape (n_labelled + n_synthetic,)
        ``True`` for the synthetic rows.
    n_features_in_ : int
        Number of values per sample.
    feature_names_in_ : ndarray of shape ``(n_features_in_,)``
        Column names, when ``X`` was a data frame with string column names."""
