"""The cache of fitted VAEs behind ``memory=``: keyed on what decides the fitted model."""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import sys
from pathlib import Path

import joblib
import numpy as np
import torch
from filelock import FileLock
from sklearn.utils.validation import check_memory

from ..engine._device import resolve_device
from ..engine.callbacks import Callback
from ..utils._warnings import warn

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


def fit_with_memory(estimator, X, memory):
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
        ``estimator`` itself without a cache; else the copy loaded from the
        cache. An entry that cannot be loaded (truncated, corrupted) is
        trained again and replaced, with a warning. Processes sharing the
        cache folder train each entry once: a file lock per entry makes the
        others wait for it and load it.
    """
    memory = check_memory(memory)
    if memory.location is None:
        return estimator.fit(X)
    cached_fit = memory.cache(_fit, ignore=["estimator"])
    key = cache_key(estimator)
    # Processes (grid-search workers) that need the same entry take turns: the
    # first trains it, the others then load it instead of training it again.
    locks = Path(memory.location) / "vaeaug-locks"
    locks.mkdir(parents=True, exist_ok=True)
    with FileLock(locks / f"{joblib.hash([key, X])}.lock"):
        entry = cached_fit.call_and_shelve(estimator, X, key=key)
        try:
            return entry.get()
        except Exception as exc:  # whatever a truncated or corrupted pickle raises
            warn(
                f"A cached VAE in {memory.location} could not be loaded "
                f"({type(exc).__name__}: {exc}); it is trained again and the entry replaced."
            )
            entry.clear()
            return cached_fit(estimator, X, key=key)


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
