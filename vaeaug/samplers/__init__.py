"""The sampler layer: imbalanced-learn over-samplers that add synthetic samples.

- :class:`~vaeaug.VAEAugmenter`: moves samples through a VAE's latent space;
- :class:`~vaeaug.FeatureSpaceAugmenter`: the same moves where the features are;
- :class:`~vaeaug.AffineJitterAugmenter`: small random rotations and shifts;
- :mod:`~vaeaug.samplers.latent_moves`: the maths of the moves, as pure functions.
"""

from ._base import BaseAugmenter
from ._jitter import AffineJitterAugmenter
from ._latent import BaseLatentAugmenter, FeatureSpaceAugmenter, VAEAugmenter

__all__ = [
    "AffineJitterAugmenter",
    "BaseAugmenter",
    "BaseLatentAugmenter",
    "FeatureSpaceAugmenter",
    "VAEAugmenter",
]
