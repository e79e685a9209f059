"""The estimator layer: scikit-learn estimators that train PyTorch networks.

- :class:`TorchEstimator`: the base they share (training parameters, ``fit``,
  pickling, the state a model file holds);
- :class:`~vaeaug.VAE`: the variational autoencoder, a transformer;
- :class:`TorchMLPClassifier`: the paper's MLP;
- :func:`fit_with_memory`: a fit cached on disk, keyed on what decides it.
"""

from ._base import FittedAttribute, TorchEstimator
from ._cache import fit_with_memory
from ._mlp import TorchMLPClassifier
from ._vae import VAE

__all__ = ["FittedAttribute", "TorchEstimator", "TorchMLPClassifier", "VAE", "fit_with_memory"]
