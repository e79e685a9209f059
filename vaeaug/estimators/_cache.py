"""The cache of fitted VAEs behind ``memory=``: keyed on what decides the fitted model."""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import sys
import warnings
from pathlib import Path
from typing import TypeVar

import joblib
import numpy as np
import torch
from filelock import FileLock
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_memory

from ..engine._device import resolve_device
from ..engine.callbacks import Callback
from ..utils._warnings import warn

try:  # what joblib warns with when it cannot write an entry
    from joblib.memory import CacheWarning
except ImportError:  # older joblib: a UserWarning
    CacheWarning = UserWarning

Estimator = TypeVar("Estimator", bound=BaseEstimator)

#: Bumped whenever the layout of cached entries changes (2: the VAE's ``layout_``).
CACHE_FORMAT = 2
#: Parameters that change how a fit reports, not what it learns.
_NOT_IN_KEY = ("verbose",)
#: Modules, besides the estimator's own classes, whose code decides what a fit learns.
_TRAINING_MODULES = (
    "vaeaug.engine.callbacks",
    "vaeaug.engine.image",
    "vaeaug.engine.networks",
    "vaeaug.engine.training",
    "vaeaug.utils._layout",
    "vaeaug.utils._validation",
)


def fit_with_memory(
    estimator: Estimator, X: np.ndarray, memory: str | joblib.Memory | None
) -> Estimator:
    """``estimator.fit(X)``, or the estimator fitted earlier with the same key in ``memory``.

    Parameters
    ----------
    estimator : estimator
        An unfitted estimator, e.g. a :class:`~vaeaug.VAE`.
    X : array-like
        Training data; its content is part of the key.
    memory : str, joblib.Memory or None
        Where fitted estimators are cached; ``None`` fits without caching.

    Returns
    -------
    fitted : estimator
        The copy loaded from the cache when it holds the entry; else
        ``estimator`` itself, fitted, and written to the cache. An entry that
        cannot be loaded (truncated, corrupted) is trained again and
        replaced, with a warning. Processes sharing the cache folder train
        each entry once: a file lock per entry makes the others wait for it
        and load it. A cache that cannot be written (read-only, full) trains
        each time it lacks the entry, once, with a warning that says why; a
        read-only one (shared, mounted read-only) serves the entries it holds,
        without the lock.
    """
    memory = check_memory(memory)
    if memory.location is None:
        return estimator.fit(X)
    cached_fit = memory.cache(_fit, ignore=["estimator"])
    key = cache_key(estimator)
    # Processes (grid-search workers) that need the same entry take turns: the
    # first trains it, the others then load it instead of training it again.
    locks = Path(memory.location) / "vaeaug-locks"
    lock = FileLock(locks / f"{joblib.hash([key, X])}.lock")
    try:
        locks.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except OSError as exc:  # a read-only folder or file system: nobody writes there
        return _fit_read_only(cached_fit, estimator, X, key, memory.location, exc)
    try:
        fitted = _load(cached_fit, estimator, X, key, memory.location, replace=True)
        if fitted is not None:
            return fitted
        estimator.fit(X)
        _store(cached_fit, estimator, X, key, memory.location)
        return estimator
    finally:
        lock.release()


def _fit_read_only(cached_fit, estimator, X, key, location, reason: OSError):
    """The entry of a cache whose lock cannot be taken, else ``estimator.fit(X)``, not cached."""
    fitted = _load(cached_fit, estimator, X, key, location, replace=False)
    if fitted is not None:
        return fitted
    warn(
        f"The cache folder {location} cannot be written ({_describe(reason)}) and holds no "
        "entry for this VAE: it is trained without being cached."
    )
    return estimator.fit(X)


def _load(cached_fit, estimator, X, key, location, *, replace: bool):
    """The cached estimator, or ``None`` when the cache lacks it or cannot load it.

    An entry that cannot be loaded is cleared when ``replace``, with a warning.
    """
    try:
        if not cached_fit.check_call_in_cache(estimator, X, key=key):
            return None
        entry = cached_fit.call_and_shelve(estimator, X, key=key)  # in the cache: trains nothing
    except OSError:  # writing the code of _fit, on first use, into a folder that refuses it
        return None
    try:
        return entry.get()
    except Exception as exc:  # whatever a truncated or corrupted pickle raises
        if replace:
            warn(
                f"A cached VAE in {location} could not be loaded ({_describe(exc)}); it is "
                "trained again and the entry replaced."
            )
            entry.clear()
        else:
            warn(
                f"A cached VAE in {location} could not be loaded ({_describe(exc)}), and the "
                "folder cannot be written: it is trained without being cached."
            )
        return None


def _store(cached_fit, fitted, X, key, location) -> None:
    """Write ``fitted`` as the entry of ``key`` and ``X``; warn with the reason if it cannot be.

    joblib only warns when it cannot write an entry, and that it may be a race;
    its warning is made an error here to tell the user what went wrong, once.
    The filter holds while the entry is written only: not while training runs.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        try:
            cached_fit.call(_Fitted(fitted), X, key=key)
        except (CacheWarning, OSError) as exc:
            # The CacheWarning is raised while joblib handles the error of the write.
            reason = exc.__context__ if isinstance(exc, CacheWarning) and exc.__context__ else exc
            warn(
                f"The VAE trained for the cache in {location} could not be written there "
                f"({_describe(reason)}); it is used without being cached, and will be trained "
                "again the next time."
            )


class _Fitted:
    """Stands for an estimator already fitted, so that joblib writes it without training it."""

    def __init__(self, fitted):
        self.fitted = fitted

    def fit(self, X):
        return self.fitted


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _fit(estimator, X, key):
    return estimator.fit(X)


def cache_key(estimator) -> dict:
    """What decides a fitted estimator, besides its data.

    The class, its parameters normalised (``verbose`` dropped, ``device="auto"``
    resolved, sequences as tuples, callbacks by class and constructor
    arguments, not by their state, other objects by their whole state), a
    token of the code of its classes and of vaeaug's training code, the torch
    version and :data:`CACHE_FORMAT`.
    """
    params = {
        name: _normalise(value)
        for name, value in estimator.get_params(deep=False).items()
        if name not in _NOT_IN_KEY
    }
    if "device" in params:
        params["device"] = str(resolve_device(params["device"]))
    return {
        "estimator": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        "params": params,
        "code": _code_token(type(estimator)),
        "torch": torch.__version__,
        "format": CACHE_FORMAT,
    }


def _normalise(value):
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_normalise(item) for item in value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (str, int, float, bool, type(None), torch.device)):
        return value
    if isinstance(value, Callback):
        # What a callback was made with, not what it holds (a start time, the
        # best weights), when it keeps its constructor arguments as attributes.
        names = [n for n in inspect.signature(type(value).__init__).parameters if n != "self"]
        if all(hasattr(value, name) for name in names):
            arguments = {name: _normalise(getattr(value, name)) for name in names}
            return (f"{type(value).__module__}.{type(value).__qualname__}", arguments)
    # Anything else (a RandomState, a function, ...) by its whole state: an
    # entry may be missed, never a wrong one served.
    return (f"{type(value).__module__}.{type(value).__qualname__}", joblib.hash(value))


@functools.cache
def _code_token(estimator_class: type) -> str:
    """SHA-256 of the source files of ``estimator_class``'s classes and of vaeaug's training code.

    A user's own subclass counts too, so editing it makes new entries.
    """
    modules = {klass.__module__ for klass in estimator_class.__mro__} | set(_TRAINING_MODULES)
    digest = hashlib.sha256()
    for name in sorted(modules):
        path = getattr(sys.modules.get(name), "__file__", None)
        if path and os.path.isfile(path):
            with open(path, "rb") as source:
                digest.update(source.read())
    return digest.hexdigest()
