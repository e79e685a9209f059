"""Utilities every layer uses: input validation, the data layout, warnings, docstrings."""

from ._layout import DataLayout, decide_layout, has_pixel_structure

__all__ = ["DataLayout", "decide_layout", "has_pixel_structure"]
