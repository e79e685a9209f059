"""vaeaug: data augmentation for scikit-learn with a variational autoencoder."""

from .augmenters import FeatureSpaceAugmenter, VAEAugmenter
from .callbacks import Callback, EarlyStopping, ProgressBar
from .jitter import AffineJitterAugmenter
from .vae import VAE

__all__ = [
    "VAE",
    "VAEAugmenter",
    "FeatureSpaceAugmenter",
    "AffineJitterAugmenter",
    "Callback",
    "EarlyStopping",
    "ProgressBar",
]
__version__ = "0.1.0"
