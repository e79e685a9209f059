"""The torch layer: networks, the training loop, callbacks, image kernels, devices, threads.

It knows nothing of scikit-learn's estimators or of the samplers built on it.
"""
