"""vaeaug: data augmentation for scikit-learn with a variational autoencoder."""

from .engine.callbacks import Callback, EarlyStopping, ProgressBar
from .estimators import VAE, TorchMLPClassifier
from .samplers import AffineJitterAugmenter, FeatureSpaceAugmenter, VAEAugmenter

__all__ = [
    "VAE",
    "VAEAugmenter",
    "FeatureSpaceAugmenter",
    "AffineJitterAugmenter",
    "TorchMLPClassifier",
    "Callback",
    "EarlyStopping",
    "ProgressBar",
]
__version__ = "0.1.0"
