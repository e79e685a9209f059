"""Loaders for the datasets of the paper: MNIST and UJI Pen Characters.

Datasets are looked for in, and downloaded to, the folder given by
:func:`get_data_home`. Every file is checked against its published SHA-256.
"""

from ._fetch import get_data_home
from ._render import render_strokes
from .mnist import load_mnist
from .ujipen import load_ujipen, load_ujipen_v1, load_ujipen_v2_digits

__all__ = [
    "get_data_home",
    "load_mnist",
    "load_ujipen",
    "load_ujipen_v1",
    "load_ujipen_v2_digits",
    "render_strokes",
]
