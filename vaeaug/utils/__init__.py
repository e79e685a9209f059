"""Utilities every layer uses: input validation, the data layout, warnings, docstrings."""

from ._layout import DataLayout, decide_layout

__all__ = ["DataLayout", "decide_layout"]
