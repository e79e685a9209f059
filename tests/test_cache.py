"""The cache of fitted VAEs behind ``memory=``: what its key holds, and faults."""

import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import FAST

from vaeaug import VAE, Callback, EarlyStopping
from vaeaug.estimators._cache import cache_key, fit_with_memory


@pytest.fixture
def fits(monkeypatch):
    """Count the VAEs actually trained."""
    calls = []
    original_fit = VAE.fit
    monkeypatch.setattr(
        VAE, "fit", lambda self, X, y=None: calls.append(1) or original_fit(self, X)
    )
    return calls


class Clock(Callback):
    """A callback whose state (a start time) differs at each run."""

    def __init__(self, every=1):
        self.every = every

    def on_train_begin(self, module):
        import time

        self.started_ = time.time()


class Renamed(Callback):
    """A callback that keeps its argument under another name."""

    def __init__(self, threshold=1.0):
        self._threshold = threshold


def test_settings_that_do_not_change_the_model_share_an_entry():
    base = cache_key(VAE(**FAST, conv_channels=(16, 8), random_state=0))
    same = [
        VAE(**FAST, conv_channels=[16, 8], random_state=0),  # list or tuple
        VAE(**FAST, conv_channels=(np.int64(16), 8), random_state=0),
        VAE(**FAST, verbose=1, random_state=0),
        VAE(**FAST, device="cpu", random_state=0) if not torch.cuda.is_available() else None,
    ]
    for vae in filter(None, same):
        assert cache_key(vae) == base, vae


def test_callbacks_are_keyed_on_what_they_were_made_with_not_their_state():
    clock = Clock(every=2)
    clock.on_train_begin(None)
    key = cache_key(VAE(**FAST, callbacks=[clock], random_state=0))
    assert key == cache_key(VAE(**FAST, callbacks=[Clock(every=2)], random_state=0))
    assert key != cache_key(VAE(**FAST, callbacks=[Clock(every=3)], random_state=0))
    assert cache_key(VAE(callbacks=[EarlyStopping(patience=2)])) != cache_key(
        VAE(callbacks=[EarlyStopping(patience=3)])
    )


def test_settings_that_change_the_model_change_the_key():
    base = cache_key(VAE(**FAST, random_state=0))
    for other in [
        VAE(**FAST, random_state=1),
        VAE(**{**FAST, "latent_dim": 5}, random_state=0),
        VAE(**FAST, kl_weight=0.5, random_state=0),
    ]:
        assert cache_key(other) != base


def test_an_entry_is_reused_for_the_same_data_and_settings_only(digits, tmp_path, fits):
    X, _ = digits
    first = fit_with_memory(VAE(**FAST, random_state=0), X, str(tmp_path))
    again = fit_with_memory(VAE(**FAST, verbose=0, random_state=0), X, str(tmp_path))
    assert len(fits) == 1
    np.testing.assert_array_equal(first.transform(X), again.transform(X))
    fit_with_memory(VAE(**FAST, random_state=1), X, str(tmp_path))
    X_other = X.copy()
    X_other[0, 0] += 1
    fit_with_memory(VAE(**FAST, random_state=0), X_other, str(tmp_path))
    assert len(fits) == 3


def test_new_training_code_or_torch_never_reuses_an_old_entry(digits, tmp_path, fits, monkeypatch):
    X, _ = digits
    fit_with_memory(VAE(**FAST, random_state=0), X, str(tmp_path))
    monkeypatch.setattr(
        "vaeaug.estimators._cache._code_token", lambda klass: "edited training code"
    )
    fit_with_memory(VAE(**FAST, random_state=0), X, str(tmp_path))
    assert len(fits) == 2
    monkeypatch.setattr(torch, "__version__", "99.0")
    fit_with_memory(VAE(**FAST, random_state=0), X, str(tmp_path))
    assert len(fits) == 3


@pytest.mark.parametrize(
    "module",
    [
        "vaeaug.estimators._vae",
        "vaeaug.engine.networks",
        "vaeaug.engine.training",
        "vaeaug.engine.callbacks",
        __name__,
    ],
)
def test_editing_the_training_code_or_a_subclass_changes_the_key(module, tmp_path, monkeypatch):
    from vaeaug.estimators import _cache

    class MyVAE(VAE):  # a user's subclass, defined in this test module
        pass

    _cache._code_token.cache_clear()
    before = cache_key(MyVAE(**FAST, random_state=0))
    edited = tmp_path / "edited.py"
    edited.write_bytes(Path(sys.modules[module].__file__).read_bytes() + b"\n# edited\n")
    monkeypatch.setattr(sys.modules[module], "__file__", str(edited))
    _cache._code_token.cache_clear()
    assert cache_key(MyVAE(**FAST, random_state=0)) != before
    monkeypatch.undo()
    _cache._code_token.cache_clear()


def test_objects_that_cannot_be_normalised_are_keyed_by_their_whole_state():
    rng = np.random.RandomState
    assert cache_key(VAE(random_state=rng(0))) != cache_key(VAE(random_state=rng(1)))
    assert cache_key(VAE(random_state=rng(0))) == cache_key(VAE(random_state=rng(0)))
    assert cache_key(VAE(callbacks=[Renamed(1.0)])) != cache_key(VAE(callbacks=[Renamed(2.0)]))


def test_a_corrupted_entry_is_recomputed_with_a_warning(digits, tmp_path, fits):
    X, _ = digits
    expected = fit_with_memory(VAE(**FAST, random_state=0), X, str(tmp_path)).transform(X)
    (entry,) = tmp_path.rglob("output.pkl")
    entry.write_bytes(entry.read_bytes()[:100])  # truncated
    with pytest.warns(UserWarning, match="could not be loaded.*trained again"):
        vae = fit_with_memory(VAE(**FAST, random_state=0), X, str(tmp_path))
    assert len(fits) == 2
    np.testing.assert_array_equal(vae.transform(X), expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # repaired: loads cleanly
        fit_with_memory(VAE(**FAST, random_state=0), X, str(tmp_path))
    assert len(fits) == 2


def test_two_processes_sharing_a_cache_folder_get_the_same_intact_model(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        from sklearn.datasets import load_digits
        from vaeaug import VAE
        from vaeaug.estimators._cache import fit_with_memory

        trained = []
        fit = VAE.fit
        VAE.fit = lambda self, X, y=None: trained.append(1) or fit(self, X)
        X = load_digits().data[:300]
        vae = fit_with_memory(VAE(**{FAST!r}, random_state=0), X, sys.argv[1])
        np.save(sys.argv[2], vae.transform(X))
        print("trained" if trained else "loaded")
        """
    )
    cache = str(tmp_path / "cache")
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, cache, str(tmp_path / f"z{i}.npy")],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outcomes = [run.communicate(timeout=300)[0].strip() for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert sorted(outcomes) == ["loaded", "trained"]  # one trains, the other waits and loads
    np.testing.assert_array_equal(np.load(tmp_path / "z0.npy"), np.load(tmp_path / "z1.npy"))
    third = subprocess.run(
        [sys.executable, "-c", script, cache, str(tmp_path / "z2.npy")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert third.stdout.strip() == "loaded"  # the entry left behind is intact
    np.testing.assert_array_equal(np.load(tmp_path / "z0.npy"), np.load(tmp_path / "z2.npy"))
