import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from vaeaug import VAE, Callback

#: Small, quick VAE settings shared by the tests.
FAST = dict(latent_dim=4, hidden_units=32, max_epochs=3, batch_size=64)


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 8x8 digits: 300 samples, pixel values 0..16 (float64)."""
    X, y = load_digits(return_X_y=True)
    return X[:300], y[:300]


@pytest.fixture
def blobs():
    """Three small classes of 5-D points."""
    rng = np.random.RandomState(0)
    X = np.concatenate([rng.normal(c, 1.0, size=(n, 5)) for c, n in [(0, 8), (5, 6), (10, 5)]])
    y = np.repeat([0, 1, 2], [8, 6, 5])
    return X, y


@pytest.fixture
def training_jitter_calls(monkeypatch):
    """Record ``(batch shape, max_rotation, max_shift rounded to 1e-6)`` of each
    training-batch jitter a VAE draws; the batches pass through unchanged. The
    jitter must be given the fit's generator."""
    calls = []

    def spy(images, max_rotation, max_shift, *, generator):
        assert isinstance(generator, torch.Generator)
        calls.append((tuple(images.shape), max_rotation, round(max_shift, 6)))
        return images

    monkeypatch.setattr("vaeaug.estimators._vae.random_jitter", spy)
    return calls


def global_random_states():
    """torch's and numpy's global random states, to check that a fit leaves them alone."""
    return torch.random.get_rng_state(), np.random.get_state()  # noqa: NPY002


def assert_global_random_states_are(states):
    torch_state, (name, keys, *position) = states
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    now_name, now_keys, *now_position = np.random.get_state()  # noqa: NPY002
    assert now_name == name and now_position == position
    np.testing.assert_array_equal(now_keys, keys)


class ScriptedLoss(Callback):
    """Overwrites the monitored validation loss with scripted values, to drive EarlyStopping."""

    def __init__(self, losses):
        self.losses = losses

    def on_epoch_end(self, module, history):
        history[-1]["valid_reconstruction"] = self.losses[len(history) - 1]


class TorchThreads(Callback):
    """Records ``torch.get_num_threads()`` during each epoch in the history, as
    ``torch_threads``: the fitted estimator carries it back from a worker process."""

    def on_epoch_end(self, module, history):
        history[-1]["torch_threads"] = torch.get_num_threads()


def fit_threads(X) -> set[int]:
    """The torch threads a small VAE trained with, in the process that runs this."""
    vae = VAE(**FAST, callbacks=[TorchThreads()], random_state=0).fit(X)
    return {record["torch_threads"] for record in vae.history_}
