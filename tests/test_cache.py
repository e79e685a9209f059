"""The cache of fitted VAEs behind ``memory=``: what its key holds, and faults."""

import errno
import os
import shutil
import stat
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

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_permissions = pytest.mark.skipif(
    AS_ROOT or sys.platform == "win32", reason="root writes into read-only folders"
)


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


def _entries(folder):
    return sorted(path.parent.name for path in Path(folder).rglob("output.pkl"))


@pytest.fixture
def full_disk(monkeypatch):
    """joblib's writes of entries fail as on a full disk (works as root too)."""
    from joblib._store_backends import FileSystemStoreBackend

    def write(name, mode="r", *args, **kwargs):
        if "w" in mode and os.path.basename(name).startswith("output.pkl"):
            raise OSError(errno.ENOSPC, "No space left on device", name)
        return open(name, mode, *args, **kwargs)

    monkeypatch.setattr(FileSystemStoreBackend, "_open_item", staticmethod(write))


def _fit_once_with_one_warning(X, folder, match):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", "X has 64 features per sample", UserWarning)
        vae = fit_with_memory(VAE(**FAST, random_state=1), X, str(folder))
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1, messages
    assert caught[0].category is UserWarning
    assert match in messages[0], messages[0]
    return vae


def test_an_entry_that_cannot_be_written_is_trained_once_with_one_warning(
    digits, tmp_path, fits, full_disk
):
    # It was trained, not written, not loaded ("could not be loaded"), trained again.
    X, _ = digits
    vae = _fit_once_with_one_warning(
        X, tmp_path, "could not be written there (OSError: [Errno 28] No space left on device"
    )
    assert len(fits) == 1
    expected = VAE(**FAST, random_state=1).fit(X).transform(X)
    np.testing.assert_array_equal(vae.transform(X), expected)
    assert _entries(tmp_path) == []
    _fit_once_with_one_warning(X, tmp_path, "will be trained again the next time")
    assert len(fits) == 3  # the fit above, and the one it compares with


@needs_permissions
def test_an_entry_in_a_read_only_folder_is_trained_once_with_one_warning(digits, tmp_path, fits):
    X, _ = digits
    fit_with_memory(VAE(**FAST, random_state=0), X, str(tmp_path))
    (entry,) = tmp_path.rglob("output.pkl")
    function = entry.parent.parent  # holds an entry per call
    function.chmod(stat.S_IRUSR | stat.S_IXUSR)  # entries cannot be created there
    try:
        _fit_once_with_one_warning(X, tmp_path, "could not be written there (PermissionError")
    finally:
        function.chmod(stat.S_IRWXU)
    assert len(fits) == 2
    assert len(_entries(tmp_path)) == 1


class _ReadOnlyLock:
    """A FileLock on a folder that cannot be written."""

    def __init__(self, path):
        self.path = path

    def acquire(self):
        raise PermissionError(errno.EACCES, "Permission denied", str(self.path))


def _check_a_read_only_cache_serves_its_entries(X, folder, fits, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vae = fit_with_memory(VAE(**FAST, random_state=0), X, str(folder))
    assert len(fits) == 0
    np.testing.assert_array_equal(vae.transform(X), expected)
    entries = _entries(folder)
    vae = _fit_once_with_one_warning(X, folder, "cannot be written (PermissionError: [Errno 13]")
    assert len(fits) == 1
    np.testing.assert_array_equal(vae.transform(X), VAE(**FAST, random_state=1).fit(X).transform(X))
    assert _entries(folder) == entries


def test_a_cache_whose_lock_cannot_be_taken_serves_its_entries(digits, tmp_path, fits, monkeypatch):
    # The lock file could not be opened: PermissionError, although the entry was there.
    X, _ = digits
    expected = fit_with_memory(VAE(**FAST, random_state=0), X, str(tmp_path)).transform(X)
    fits.clear()
    monkeypatch.setattr("vaeaug.estimators._cache.FileLock", _ReadOnlyLock)
    _check_a_read_only_cache_serves_its_entries(X, tmp_path, fits, expected)


@needs_permissions
def test_a_read_only_cache_serves_its_entries(digits, tmp_path, fits):
    X, _ = digits
    folder = tmp_path / "cache"
    expected = fit_with_memory(VAE(**FAST, random_state=0), X, str(folder)).transform(X)
    fits.clear()
    paths = [folder, *folder.rglob("*")]
    for path in paths:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        _check_a_read_only_cache_serves_its_entries(X, folder, fits, expected)
    finally:
        for path in paths:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    shutil.rmtree(folder)
