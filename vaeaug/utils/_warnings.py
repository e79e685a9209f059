"""Warnings attributed to the user's line, not to vaeaug's internals."""

from __future__ import annotations

import sys
import warnings

#: Modules whose frames stand between the user's call and vaeaug's warning.
_LIBRARY_PREFIXES = ("vaeaug.", "sklearn.", "imblearn.", "joblib.")


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Issue a warning that points at the first caller outside vaeaug and its frameworks.

    A fixed ``stacklevel`` would point into vaeaug, scikit-learn or
    imbalanced-learn whenever the call comes through a pipeline, a grid search
    or a decorator; walking the stack finds the user's own line instead.
    """
    frame = sys._getframe(1)
    stacklevel = 2
    while frame.f_back is not None and f"{frame.f_globals.get('__name__', '')}.".startswith(
        _LIBRARY_PREFIXES
    ):
        frame = frame.f_back
        stacklevel += 1
    warnings.warn(message, category, stacklevel=stacklevel)
