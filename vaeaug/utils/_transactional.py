"""Fitting that changes an estimator only once it has succeeded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.base import BaseEstimator


def fit_atomically(estimator: BaseEstimator, fit: Callable[[Any], Any]) -> Any:
    """Fit an unfitted twin of ``estimator``, then give ``estimator`` the twin's fitted state.

    The twin is built from ``estimator``'s parameters (the same objects, so a
    ``RandomState`` is consumed as usual). ``estimator`` changes only once
    ``fit(twin)`` has returned: if it raises, ``estimator`` is left exactly as
    it was, unfitted or with its previous fit. Otherwise its fitted attributes
    (names ending in ``_``) are replaced by the twin's, none surviving from an
    earlier fit.

    Returns
    -------
    result : object
        What ``fit(twin)`` returned.
    """
    twin = type(estimator)(**estimator.get_params(deep=False))
    result = fit(twin)
    state = vars(estimator)
    for name in [name for name in state if _is_fitted_attribute(name)]:
        del state[name]
    state.update((name, value) for name, value in vars(twin).items() if _is_fitted_attribute(name))
    return result


def _is_fitted_attribute(name: str) -> bool:
    """As in :func:`sklearn.utils.validation.check_is_fitted`."""
    return name.endswith("_") and not name.startswith("__")
