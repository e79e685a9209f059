"""Pickling of the torch estimators, and the safe model files of vaeaug.persistence."""

import copy
import json
import os
import pickle
import re
import subprocess
import sys
import textwrap
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
import safetensors
import safetensors.torch
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import StandardScaler

from tests.conftest import FAST
from vaeaug import VAE, EarlyStopping, TorchMLPClassifier
from vaeaug.engine._device import available_device
from vaeaug.engine.image import resolve_jitter
from vaeaug.estimators import FittedAttribute
from vaeaug.persistence import FORMAT_VERSION, _digest, dump, load

REPO_ROOT = Path(__file__).resolve().parents[1]
MLP_FAST = dict(hidden_units=16, n_layers=2, max_epochs=3, batch_size=64)


@pytest.fixture(scope="module")
def fitted(digits):
    """A VAE fitted on (n, 8, 8) images, one on a table, and an MLP with string labels."""
    pd = pytest.importorskip("pandas")
    X, y = digits
    table = pd.DataFrame(X[:, 20:30], columns=[f"f{i}" for i in range(10)])
    return {
        "image": VAE(**FAST, random_state=0).fit(X.reshape(-1, 8, 8)),
        "table": VAE(**FAST, random_state=0).fit(table),
        "mlp": TorchMLPClassifier(**MLP_FAST, random_state=0).fit(
            X, np.array(list("abcdefghij"))[y]
        ),
    }


def _fit_small(kind, digits):
    X, y = digits
    if kind == "vae":
        return VAE(**FAST, random_state=0).fit(X), X
    return TorchMLPClassifier(**MLP_FAST, random_state=0).fit(X, y), X


def _output(estimator, X):
    if isinstance(estimator, VAE):
        return estimator.transform(X)
    return estimator.predict_proba(X)


def _fitted_attributes(estimator):
    return {
        name: value
        for name, value in vars(estimator).items()
        if name.endswith("_") and not name.startswith("_") and name != "module_"
    }


def _assert_same_attributes(restored, original):
    expected = _fitted_attributes(original)
    got = _fitted_attributes(restored)
    assert sorted(got) == sorted(expected)
    for name, value in expected.items():
        if isinstance(value, np.ndarray):
            assert got[name].dtype == value.dtype, name
            np.testing.assert_array_equal(got[name], value)
        else:
            assert type(got[name]) is type(value), name
            assert got[name] == value, name


# Pickling -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["vae", "mlp"])
def test_pickling_a_gpu_model_leaves_the_live_estimator_alone(kind, digits, monkeypatch):
    estimator, X = _fit_small(kind, digits)
    expected = _output(estimator, X[:5])
    module = estimator.module_
    estimator.device_ = torch.device("cuda")  # as if fitted on a GPU: pickles a CPU copy
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    state = estimator.__getstate__()
    assert state["module_"] is not module
    pickle.dumps(estimator)
    with pytest.warns(UserWarning, match="fitted on device cuda, which this machine"):
        duplicate = copy.deepcopy(estimator)

    assert estimator.module_ is module
    assert estimator.device_ == torch.device("cuda")
    assert duplicate.module_ is not module
    assert duplicate.device_ == torch.device("cpu")
    np.testing.assert_array_equal(_output(duplicate, X[:5]), expected)
    estimator.device_ = torch.device("cpu")
    np.testing.assert_array_equal(_output(estimator, X[:5]), expected)


@pytest.mark.parametrize(
    "cuda_available, device_count, message",
    [(False, 0, "it has 0 CUDA devices"), (True, 2, "it has 2 CUDA devices")],
)
def test_unpickling_on_a_missing_cuda_device_moves_to_the_cpu(
    cuda_available, device_count, message, digits, monkeypatch
):
    vae, X = _fit_small("vae", digits)
    vae.device_ = torch.device("cuda:3")
    data = pickle.dumps(vae)
    vae.device_ = torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda_available)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: device_count)
    with pytest.warns(UserWarning, match=f"VAE was fitted on device cuda:3.*{message}"):
        restored = pickle.loads(data)
    assert restored.device_ == torch.device("cpu")
    np.testing.assert_array_equal(restored.transform(X[:5]), vae.transform(X[:5]))


def test_available_device_keeps_devices_that_are_present(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert available_device(torch.device("cuda:1"), "x") == torch.device("cuda:1")
        assert available_device(torch.device("cuda"), "x") == torch.device("cuda")
        assert available_device(torch.device("cpu"), "x") == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.warns(UserWarning, match=r"x was fitted on device mps.*MPS is not available"):
        assert available_device(torch.device("mps"), "x") == torch.device("cpu")


@pytest.mark.parametrize("kind", ["vae", "mlp"])
def test_device_parameter_takes_a_torch_device(kind, digits, tmp_path):
    X, y = digits
    device = torch.device("cpu")
    if kind == "vae":
        estimator = VAE(**FAST, device=device, random_state=0).fit(X)
    else:
        estimator = TorchMLPClassifier(**MLP_FAST, device=device, random_state=0).fit(X, y)
    assert estimator.device_ == device
    assert clone(estimator).device == device
    dump(estimator, tmp_path / "model.safetensors")
    assert load(tmp_path / "model.safetensors").device == device


# Safe model files ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["image", "table", "mlp"])
def test_round_trip_gives_the_same_estimator(kind, fitted, digits, tmp_path):
    original = fitted[kind]
    path = tmp_path / "model.safetensors"
    dump(original, path)
    restored = load(path)

    assert type(restored) is type(original)
    assert restored.get_params() == original.get_params()
    _assert_same_attributes(restored, original)
    for key, tensor in original.module_.state_dict().items():
        torch.testing.assert_close(restored.module_.state_dict()[key], tensor, rtol=0, atol=0)
    assert not restored.module_.training
    X, y = digits
    if kind == "mlp":
        np.testing.assert_array_equal(restored.predict_proba(X), original.predict_proba(X))
        np.testing.assert_array_equal(restored.predict(X), original.predict(X))
        assert restored.predict(X[:3]).dtype.kind == "U"
        return
    if kind == "image":
        X_in = X.reshape(-1, 8, 8)
    else:
        columns = original.feature_names_in_
        X_in = pytest.importorskip("pandas").DataFrame(X[:, 20:30], columns=columns)
        X_in = X_in.astype(np.float32)
    Z = original.transform(X_in)
    np.testing.assert_array_equal(restored.transform(X_in), Z)
    np.testing.assert_array_equal(restored.inverse_transform(Z), original.inverse_transform(Z))
    if kind == "image":
        assert restored.layout_.sample_shape == (8, 8)
        assert restored.inverse_transform(Z[:2]).shape == (2, 8, 8)
        conv = restored.module_.encoder[0].weight
        assert conv.is_contiguous(memory_format=torch.channels_last)
    else:
        assert list(restored.feature_names_in_) == [f"f{i}" for i in range(10)]
        assert restored.transform(X_in).dtype == np.float32


def test_parameter_types_survive(digits, tmp_path):
    X, _ = digits
    vae = VAE(
        np.int64(3),
        image_shape=(1, 8, 8),
        conv_channels=[4, 2],
        hidden_units=16,
        max_epochs=1,
        device="cpu",
        random_state=0,
    ).fit(X)
    dump(vae, tmp_path / "vae.safetensors")
    params = load(tmp_path / "vae.safetensors").get_params()
    assert type(params["latent_dim"]) is np.int64 and params["latent_dim"] == 3
    assert params["image_shape"] == (1, 8, 8)
    assert params["conv_channels"] == [4, 2]
    assert params["device"] == "cpu"


def test_object_parameters_are_saved_as_none_with_a_warning(digits, tmp_path):
    X, _ = digits
    vae = VAE(
        **FAST,
        patience=None,
        callbacks=[EarlyStopping(patience=2)],
        random_state=np.random.RandomState(0),
    ).fit(X)
    with pytest.warns(UserWarning) as record:
        dump(vae, tmp_path / "vae.safetensors")
    messages = sorted(str(w.message) for w in record)
    assert len(messages) == 2
    assert messages[0].startswith("The callbacks parameter of the VAE holds objects")
    assert messages[1].startswith("The random_state parameter of the VAE holds objects")
    assert messages[0].endswith("it is saved as None. It only matters to a new fit.")
    restored = load(tmp_path / "vae.safetensors")
    assert restored.callbacks is None and restored.random_state is None
    assert len(vae.callbacks) == 1  # the estimator itself keeps them
    np.testing.assert_array_equal(restored.transform(X[:5]), vae.transform(X[:5]))


def test_dump_does_not_modify_the_estimator(fitted, tmp_path):
    vae = fitted["image"]
    module = vae.module_
    weights = {key: tensor.clone() for key, tensor in module.state_dict().items()}
    params = vae.get_params()
    attributes = copy.deepcopy(_fitted_attributes(vae))
    dump(vae, tmp_path / "vae.safetensors")
    assert vae.module_ is module
    assert not module.training
    assert module.encoder[0].weight.is_contiguous(memory_format=torch.channels_last)
    for key, tensor in module.state_dict().items():
        torch.testing.assert_close(tensor, weights[key], rtol=0, atol=0)
    assert vae.get_params() == params
    for name, value in attributes.items():
        np.testing.assert_equal(getattr(vae, name), value)


def test_load_on_the_cpu_a_model_fitted_on_a_missing_gpu(digits, tmp_path):
    vae, X = _fit_small("vae", digits)
    vae.device_ = torch.device("cuda:3")  # the weights are on the CPU all the same
    dump(vae, tmp_path / "vae.safetensors")
    vae.device_ = torch.device("cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explicit = load(tmp_path / "vae.safetensors", device="cpu")
    pattern = r"The VAE in .*vae.safetensors was fitted on device cuda:3, which this machine"
    with pytest.warns(UserWarning, match=pattern):
        default = load(tmp_path / "vae.safetensors")
    for restored in (explicit, default):
        assert restored.device_ == torch.device("cpu")
        np.testing.assert_array_equal(restored.transform(X[:5]), vae.transform(X[:5]))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device='cuda' was requested but CUDA"):
            load(tmp_path / "vae.safetensors", device="cuda")
    if not torch.backends.mps.is_available():
        with pytest.raises(ValueError, match="device='mps' was requested but MPS"):
            load(tmp_path / "vae.safetensors", device="mps")
    with pytest.raises(ValueError, match="device='meta' is not supported"):
        load(tmp_path / "vae.safetensors", device="meta")


def test_unfitted_and_foreign_estimators_are_refused(tmp_path):
    with pytest.raises(NotFittedError, match="This VAE is not fitted yet; fit it before saving"):
        dump(VAE(), tmp_path / "vae.safetensors")
    scaler = StandardScaler().fit(np.ones((3, 2)))
    with pytest.raises(TypeError, match=r"dump saves vaeaug's torch estimators .*; got a Standard"):
        dump(scaler, tmp_path / "scaler.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_saving_into_a_missing_folder_is_refused(fitted, tmp_path):
    path = tmp_path / "absent" / "vae.safetensors"
    with pytest.raises(FileNotFoundError, match=r"Cannot save to .*: the folder .*absent does"):
        dump(fitted["table"], path)


def test_an_interrupted_save_leaves_the_old_file(fitted, tmp_path, monkeypatch):
    path = tmp_path / "vae.safetensors"
    dump(fitted["table"], path)
    before = path.read_bytes()

    def interrupt(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        dump(fitted["image"], path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["vae.safetensors"]


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.safetensors"):
        load(tmp_path / "absent.safetensors")


NOT_A_MODEL = r"Cannot load .*: it is not a vaeaug model file, or it is truncated or corrupted"


def test_a_file_that_is_not_a_model_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("This is not a model, just a long enough line of text.")
    with pytest.raises(ValueError, match=NOT_A_MODEL + r" \(.*header too large\)"):
        load(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=NOT_A_MODEL):
        load(path)


def test_a_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ValueError, match=NOT_A_MODEL):
        load(path)
    assert not marker.exists()
    pickle.loads(path.read_bytes()).close()  # the payload is live: a pickle load runs it
    assert marker.exists()


def test_a_torch_save_file_is_refused(fitted, tmp_path):
    path = tmp_path / "vae.pt"
    torch.save(fitted["table"], path)
    with pytest.raises(ValueError, match=NOT_A_MODEL):
        load(path)


def test_a_truncated_file_is_refused(fitted, tmp_path):
    path = tmp_path / "vae.safetensors"
    dump(fitted["image"], path)
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    with pytest.raises(ValueError, match=NOT_A_MODEL + r" \(.*not fully covered\)"):
        load(path)
    path.write_bytes(data[:200])
    with pytest.raises(ValueError, match=NOT_A_MODEL):
        load(path)


def test_corrupted_weights_are_refused(fitted, tmp_path):
    path = tmp_path / "vae.safetensors"
    dump(fitted["image"], path)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF  # a bit flip in the last weights
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="does not match its checksum; the file is corrupted"):
        load(path)


def _rewrite(path, digest=False, tensors=None, **metadata):
    """Rewrite the metadata of the model file at ``path``, and the ``tensors`` given."""
    with safetensors.safe_open(path, framework="pt") as file:
        tensors = {**{key: file.get_tensor(key) for key in file.keys()}, **(tensors or {})}
        new = {**file.metadata(), **metadata}
    if digest:
        new["sha256"] = _digest(new, tensors)
    safetensors.torch.save_file(tensors, path, metadata=new)


def test_a_safetensors_file_of_another_kind_is_refused(fitted, tmp_path):
    path = tmp_path / "weights.safetensors"
    safetensors.torch.save_file(fitted["table"].module_.state_dict(), path)
    with pytest.raises(ValueError, match="it is a safetensors file but not a vaeaug model file"):
        load(path)


def test_a_newer_format_version_is_refused(fitted, tmp_path):
    path = tmp_path / "vae.safetensors"
    dump(fitted["table"], path)
    _rewrite(path, format_version=str(FORMAT_VERSION + 1))
    pattern = (
        rf"it was written in vaeaug model format version {FORMAT_VERSION + 1}, and this vaeaug "
        rf"reads versions up to {FORMAT_VERSION}. Upgrade vaeaug to load it."
    )
    with pytest.raises(ValueError, match=pattern):
        load(path)
    _rewrite(path, format_version="one")
    with pytest.raises(ValueError, match="its format_version 'one' is not a whole number"):
        load(path)


@pytest.mark.parametrize("version", ["\u00b2", "\u0663", "9" * 5000])
def test_a_format_version_of_other_characters_than_ascii_digits_is_refused(
    version, fitted, tmp_path
):
    # "²".isdigit() and "٣".isdigit() are True, and int() refuses both.
    path = tmp_path / "vae.safetensors"
    dump(fitted["table"], path)
    _rewrite(path, format_version=version)
    pattern = f"its format_version {re.escape(repr(version))} is not a whole number"
    with pytest.raises(ValueError, match=pattern):
        load(path)


def test_loading_a_folder_is_refused_by_name(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"Cannot load .*: it is a folder; load takes a"):
        load(tmp_path)


def test_an_unknown_class_is_refused(fitted, tmp_path):
    path = tmp_path / "vae.safetensors"
    dump(fitted["table"], path)
    _rewrite(path, digest=True, estimator="subprocess.Popen")
    pattern = (
        r"it holds an estimator of class 'subprocess.Popen', and vaeaug builds only its own "
        r"\(TorchMLPClassifier, VAE\). For a class of your own, pass it: "
        r"load\(path, estimator_class=YourClass\)."
    )
    with pytest.raises(ValueError, match=pattern):
        load(path)


@pytest.mark.parametrize(
    "field, change, message",
    [
        ("params", {"latent_dim": 0}, "'latent_dim' parameter of VAE must be an int in the range"),
        ("params", {"latent_dim": 5}, "size mismatch for head.mean.weight"),
        ("params", {"colour": "red"}, "unexpected keyword argument 'colour'"),
        ("attributes", {"__class__": None}, "'__class__' is not the name of a fitted attribute"),
        ("attributes", {"mean_": {"type": "module", "name": "os"}}, "unknown value type 'module'"),
        (
            "attributes",
            {"mean_": {"type": "ndarray", "dtype": "|V8", "shape": [1], "data": [0]}},
            "a numpy value of dtype |V8 cannot be saved as JSON",
        ),
    ],
)
def test_a_model_file_with_invalid_content_is_refused(field, change, message, fitted, tmp_path):
    path = tmp_path / "vae.safetensors"
    dump(fitted["table"], path)
    _change_json(path, field, change)
    with pytest.raises(ValueError, match=_invalid("VAE", message)):
        load(path)


def _change_json(path, field, change, remove=()):
    """Update the JSON object of ``field`` and drop the names ``remove``; keep a valid checksum."""
    with safetensors.safe_open(path, framework="pt") as file:
        content = json.loads(file.metadata()[field])
    content = {name: value for name, value in content.items() if name not in remove}
    _rewrite(path, digest=True, **{field: json.dumps({**content, **change})})


def _invalid(name, message):
    """Pattern of the error for a valid file whose content is not a valid ``name``."""
    prefix = rf"(?s)Cannot load .*: it does not hold a valid {name} for this version of vaeaug \(.*"
    return prefix + re.escape(message)


def _layout(**fields):
    """The JSON of the layout of ``fitted["image"]`` with ``fields`` changed."""
    layout = {
        "sample_shape": {"type": "tuple", "items": [8, 8]},
        "image_shape": {"type": "tuple", "items": [1, 8, 8]},
        "pixel_max": 16.0,
    }
    return {"type": "DataLayout", "fields": {**layout, **fields}}


def _strings(dtype, n):
    # Strings of 8 characters: shorter ones, as many, would exceed the strings a
    # JSON text of their length may hold, refused before the bound on arrays.
    return {"type": "ndarray", "dtype": dtype, "shape": [n], "data": ["abcdefgh"] * n}


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"feature_names_in_": {**_strings("<U200000000", 1), "data": ["a"]}},
            "numpy strings in a model file hold 1 to 4096 characters; those of dtype "
            "<U200000000 hold 200000000",
        ),
        (
            {"mean_": {"type": "ndarray", "dtype": "<f8", "shape": [10**9], "data": [0.0]}},
            "an ndarray of shape (1000000000,) holds 1000000000 values, not the 1 of its data",
        ),
        (
            {"feature_names_in_": _strings("<U4096", 20_000)},
            "its arrays would take more memory than a file of this size allows (an ndarray "
            "of dtype <U4096 and shape (20000,) takes 327680000 bytes)",
        ),
        (  # small arrays that would take 1 GB together
            {"history_": [_strings("<U4096", 300)] * 200},
            "its arrays would take more memory than a file of this size allows",
        ),
    ],
)
def test_arrays_larger_than_the_file_allows_are_refused_without_allocating(
    change, message, fitted, tmp_path
):
    path = tmp_path / "vae.safetensors"
    dump(fitted["table"], path)
    _change_json(path, "attributes", change)
    assert path.stat().st_size < 2_000_000
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=_invalid("VAE", message)):
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20


def test_json_of_many_small_nodes_is_refused_before_it_is_parsed(fitted, tmp_path):
    # 2.8 million empty lists in 11 MB: parsing them took some 400 MB.
    path = tmp_path / "vae.safetensors"
    dump(fitted["table"], path)
    _change_json(path, "attributes", {"history_": [[]] * 2_800_000})
    size = path.stat().st_size
    script = textwrap.dedent(
        """
        import resource, sys
        from vaeaug.persistence import load

        def peak():  # bytes
            try:  # Linux: the peak since the reset below
                with open("/proc/self/status") as status:
                    lines = [line.split() for line in status]
                return next(int(line[1]) for line in lines if line[0] == "VmHWM:") * 1024
            except OSError:  # the peak since the start, in bytes on macOS
                return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        try:
            with open("/proc/self/clear_refs", "w") as clear_refs:
                clear_refs.write("5")  # peak memory := current memory
        except OSError:
            pass
        before = peak()
        try:
            load(sys.argv[1])
        except ValueError as error:
            print(error)
        print(peak() - before)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=REPO_ROOT,
    )
    *error, growth = result.stdout.strip().splitlines()
    # safetensors' parse of the header takes 3 times its size, the checksum 2 times.
    assert int(growth) < 8 * size
    message = "lists and objects, and a model file's may hold"
    assert re.match(_invalid("VAE", message), "\n".join(error)), result.stdout


def test_json_nested_too_deep_is_refused(fitted, tmp_path):
    path = tmp_path / "vae.safetensors"
    dump(fitted["table"], path)
    nested = []
    for _ in range(20):
        nested = [nested]
    _change_json(path, "attributes", {"history_": nested})
    with pytest.raises(ValueError, match=_invalid("VAE", "nests lists and objects deeper than 16")):
        load(path)
    with safetensors.safe_open(path, framework="pt") as file:
        attributes = file.metadata()["attributes"]
    deep = attributes[:-1] + ', "history_": ' + "[" * 3000 + "]" * 3000 + "}"
    _rewrite(path, digest=True, attributes=deep)
    with pytest.raises(ValueError, match=_invalid("VAE", "nests lists and objects deeper than 16")):
        load(path)


@pytest.mark.parametrize(
    "kind, change, message",
    [
        (
            "image",
            {"colour_": "red"},
            "'colour_' is not the name of a fitted attribute of a VAE (those are "
            "n_features_in_, feature_names_in_, history_, device_, layout_, mean_, scale_)",
        ),
        (
            "mlp",
            {"pixel_max_": 1.0},
            "'pixel_max_' is not the name of a fitted attribute of a TorchMLPClassifier",
        ),
        (
            "image",
            {"layout_": _layout(pixel_max="sixteen")},
            "its fitted attribute layout_ must be a DataLayout of n_features_in_ values (pixel_max "
            "at most float32's largest, 3.4e38); it is the DataLayout DataLayout(sample_shape=",
        ),
        (
            "image",
            {"layout_": _layout(pixel_max=-1.0)},
            "its fitted attribute layout_ must be a DataLayout of n_features_in_ values",
        ),
        (
            "image",
            {"layout_": _layout(image_shape={"type": "tuple", "items": [1, 4, 4]})},
            "its fitted attribute layout_ must be a DataLayout of n_features_in_ values",
        ),
        (
            "image",
            {"layout_": {"type": "DataLayout", "fields": {"sample_shape": None}}},
            "a DataLayout has the fields ['image_shape', 'pixel_max', 'sample_shape']",
        ),
        (
            "table",
            {"mean_": {"type": "ndarray", "dtype": "<f8", "shape": [3], "data": [0.0] * 3}},
            "its fitted attribute mean_ must be a float ndarray of shape (n_features_in_,) "
            "of finite values; it is an ndarray of dtype float64 and shape (3,)",
        ),
        (
            "table",
            {"n_features_in_": True},
            "its fitted attribute n_features_in_ must be a positive int; it is the bool True",
        ),
        (
            "table",
            {"history_": [{"type": "dict", "items": {"train_loss": "low"}}]},
            "its fitted attribute history_ must be a list of dicts of str to numbers",
        ),
        (
            "mlp",
            {"classes_": {"type": "ndarray", "dtype": "<i8", "shape": [1], "data": [0]}},
            "its fitted attribute classes_ must be an ndarray of 2 or more classes; "
            "it is an ndarray of dtype int64 and shape (1,)",
        ),
        (
            "mlp",
            {"device_": "cpu"},
            "its fitted attribute device_ must be a torch.device of type cpu, cuda or mps; "
            "it is the str 'cpu'",
        ),
    ],
)
def test_fitted_attributes_of_other_names_or_kinds_are_refused(
    kind, change, message, fitted, tmp_path
):
    path = tmp_path / "model.safetensors"
    dump(fitted[kind], path)
    _change_json(path, "attributes", change)
    with pytest.raises(ValueError, match=_invalid(type(fitted[kind]).__name__, message)):
        load(path)


@pytest.mark.parametrize("device", ["meta", "xla", "hpu", "ipu:1", "privateuseone"])
def test_a_device_of_another_type_is_refused_before_the_network_is_moved(
    device, fitted, tmp_path, monkeypatch
):
    # "meta" loaded without weights; "xla", "hpu"... made torch look for their backends.
    path = tmp_path / "vae.safetensors"
    dump(fitted["table"], path)
    _change_json(path, "attributes", {"device_": {"type": "torch.device", "value": device}})
    moves = []
    monkeypatch.setattr(torch.nn.Module, "to", lambda module, *args, **kwargs: moves.append(args))
    message = (
        "its fitted attribute device_ must be a torch.device of type cpu, cuda or mps; "
        f"it is the device {device!r}"
    )
    for requested in (None, "cpu"):
        with pytest.raises(ValueError, match=_invalid("VAE", message)):
            load(path, device=requested)
    assert moves == []


@pytest.mark.parametrize(
    "kind, names",
    [("image", ["layout_"]), ("table", ["device_", "mean_"]), ("mlp", ["classes_"])],
)
def test_missing_fitted_attributes_are_refused(kind, names, fitted, tmp_path):
    path = tmp_path / "model.safetensors"
    dump(fitted[kind], path)
    _change_json(path, "attributes", {}, remove=names)
    message = f"it lacks the fitted attributes {', '.join(names)}"
    with pytest.raises(ValueError, match=_invalid(type(fitted[kind]).__name__, message)):
        load(path)


def test_a_version_1_vae_file_still_loads(fitted, tmp_path):
    vae = fitted["image"]
    path = tmp_path / "vae.safetensors"
    dump(vae, path)
    layout = {
        "input_shape_": {"type": "tuple", "items": [8, 8]},
        "image_shape_": {"type": "tuple", "items": [1, 8, 8]},
        "images_declared_": True,
        "pixel_max_": 16.0,
    }
    _change_json(path, "attributes", layout, remove=["layout_"])
    _rewrite(path, digest=True, format_version="1")
    restored = load(path)
    assert restored.layout_ == vae.layout_
    X = np.arange(128.0).reshape(2, 8, 8) % 17
    np.testing.assert_array_equal(restored.transform(X), vae.transform(X))


@pytest.mark.parametrize("declared", [True, False])
def test_a_version_2_vae_file_still_loads_and_its_images_get_the_default_jitter(
    declared, fitted, tmp_path
):
    # Version 2 said whether the user had declared the images; undeclared
    # ones got no "auto" jitter. Every image gets it now.
    vae = fitted["image"]
    path = tmp_path / "vae.safetensors"
    dump(vae, path)
    _change_json(path, "attributes", {"layout_": _layout(declared=declared)})
    _rewrite(path, digest=True, format_version="2")
    restored = load(path)
    assert restored.layout_ == vae.layout_
    assert resolve_jitter("auto", "auto", restored.layout_) == (10.0, 2 * 8 / 28)


def test_a_layout_field_of_version_2_is_not_accepted_beside_a_misspelt_one(fitted, tmp_path):
    path = tmp_path / "vae.safetensors"
    dump(fitted["image"], path)
    layout = _layout(declared=True)
    del layout["fields"]["pixel_max"]
    _change_json(path, "attributes", {"layout_": layout})
    message = "a DataLayout has the fields ['image_shape', 'pixel_max', 'sample_shape']"
    with pytest.raises(ValueError, match=_invalid("VAE", message)):
        load(path)


class _VAEWithCodes(VAE):
    """A subclass with one more fitted attribute, declared next to the code that sets it."""

    _fitted_attributes = {
        **VAE._fitted_attributes,
        "codes_": FittedAttribute(
            "a float ndarray", lambda value, attributes: isinstance(value, np.ndarray)
        ),
    }

    def _validate_fit_data(self, X, y):
        X, y = super()._validate_fit_data(X, y)
        self.codes_ = np.arange(3.0)
        return X, y


def test_a_subclass_with_one_more_fitted_attribute_round_trips(digits, tmp_path):
    X = digits[0][:100].reshape(-1, 8, 8)
    vae = _VAEWithCodes(**FAST, random_state=0).fit(X)
    path = tmp_path / "vae.safetensors"
    dump(vae, path)
    with pytest.raises(ValueError, match=r"class '_VAEWithCodes'.*estimator_class=YourClass"):
        load(path)
    with pytest.raises(ValueError, match=r"class '_VAEWithCodes', not estimator_class=VAE"):
        load(path, estimator_class=VAE)
    with pytest.raises(TypeError, match="estimator_class must be a subclass of vaeaug"):
        load(path, estimator_class=StandardScaler)
    restored = load(path, estimator_class=_VAEWithCodes)
    assert type(restored) is _VAEWithCodes
    _assert_same_attributes(restored, vae)
    np.testing.assert_array_equal(restored.transform(X[:5]), vae.transform(X[:5]))
    # An attribute the class does not declare is refused, naming it.
    vae.extra_ = 1
    with pytest.raises(ValueError, match="'extra_' is not the name of a fitted attribute"):
        dump(vae, path)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda weight: weight.double(),
            "its tensor head.mean.weight is of dtype torch.float64; the network's is torch.float32",
        ),
        (lambda weight: weight[:, :-1].contiguous(), "size mismatch for head.mean.weight"),
    ],
)
def test_weights_of_other_dtypes_or_shapes_are_refused(change, message, fitted, tmp_path):
    path = tmp_path / "vae.safetensors"
    dump(fitted["table"], path)
    weight = fitted["table"].module_.state_dict()["head.mean.weight"]
    _rewrite(path, digest=True, tensors={"head.mean.weight": change(weight)})
    with pytest.raises(ValueError, match=_invalid("VAE", message)):
        load(path)


@pytest.mark.parametrize(
    "kind, name, value, message",
    [
        ("table", "mean_", np.nan, "mean_ must be a float ndarray of shape (n_features_in_,) of "),
        ("table", "scale_", np.inf, "scale_ must be a float ndarray of shape (n_features_in_,)"),
        ("table", "scale_", 0.0, "finite positive values; it is an ndarray of dtype float64"),
        ("table", "scale_", -1.0, "finite positive values; it is an ndarray of dtype float64"),
        ("mlp", "mean_", -np.inf, "finite values; it is an ndarray of dtype float64"),
        ("image", "layout_", 1e39, "(pixel_max at most float32's largest, 3.4e38)"),
    ],
)
def test_scales_that_are_not_finite_are_refused(kind, name, value, message, fitted, tmp_path):
    path = tmp_path / "model.safetensors"
    dump(fitted[kind], path)
    if name == "layout_":
        change = _layout(pixel_max=value)
    else:
        array = getattr(fitted[kind], name).copy()
        array[1] = value
        change = {"type": "ndarray", "dtype": "<f8", "shape": [len(array)], "data": list(array)}
    _change_json(path, "attributes", {name: change})
    with pytest.raises(ValueError, match=_invalid(type(fitted[kind]).__name__, message)):
        load(path)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_weights_that_are_not_finite_are_refused_and_not_saved(value, fitted, digits, tmp_path):
    path = tmp_path / "vae.safetensors"
    dump(fitted["table"], path)
    weight = fitted["table"].module_.state_dict()["decoder.2.bias"].clone()
    weight[3] = value
    _rewrite(path, digest=True, tensors={"decoder.2.bias": weight})
    message = "its tensor decoder.2.bias holds NaN or infinite values"
    with pytest.raises(ValueError, match=_invalid("VAE", message)):
        load(path)
    vae, _ = _fit_small("vae", digits)
    with torch.no_grad():
        vae.module_.head.mean.weight[0, 0] = value
    pattern = "Cannot save the VAE, as load would refuse it: its tensor head.mean.weight holds NaN"
    with pytest.raises(ValueError, match=pattern):
        dump(vae, tmp_path / "other.safetensors")
    assert not (tmp_path / "other.safetensors").exists()


def test_images_far_larger_than_the_weights_are_refused(digits, tmp_path):
    # Twenty stride-2 convolutions take 8x8 and 2**20 x 2**20 images alike to one
    # value: the same weights, 12 KB, fit both, and the first decode of the
    # latter asked for 8 TiB.
    X, _ = digits
    vae = VAE(
        latent_dim=2,
        hidden_units=4,
        conv_channels=(1,) * 20,
        image_shape=(8, 8),
        max_epochs=1,
        random_state=0,
    ).fit(X)
    path = tmp_path / "vae.safetensors"
    dump(vae, path)
    side = 2**20
    _change_json(
        path,
        "attributes",
        {
            "n_features_in_": side * side,
            "layout_": {
                "type": "DataLayout",
                "fields": {
                    "sample_shape": {"type": "tuple", "items": [side * side]},
                    "image_shape": {"type": "tuple", "items": [1, side, side]},
                    "pixel_max": 16.0,
                },
            },
        },
    )
    assert path.stat().st_size < 20_000
    message = "values for each sample (14660155037096 bytes in float32), more than a file of "
    with pytest.raises(ValueError, match=_invalid("VAE", message)):
        load(path)


@pytest.mark.parametrize(
    "kind, change, message",
    [
        (  # 100,000 layers in 340 KB took 1.7 GB and two minutes to build
            "image",
            {"conv_channels": [1] * 20_000},
            "its parameter conv_channels declares 20000 layers, whose weights and biases would "
            "be 40000 tensors; it holds 18",
        ),
        (
            "mlp",
            {"n_layers": 1000},
            "its parameter n_layers declares 1000 layers, whose weights and biases would be "
            "2000 tensors; it holds 16",
        ),
    ],
)
def test_more_layers_than_the_file_holds_weights_for_are_refused_before_they_are_built(
    kind, change, message, fitted, tmp_path, monkeypatch
):
    path = tmp_path / "model.safetensors"
    dump(fitted[kind], path)
    _change_json(path, "params", change)
    built = []
    monkeypatch.setattr(type(fitted[kind]), "_build_network", lambda self: built.append(1))
    with pytest.raises(ValueError, match=_invalid(type(fitted[kind]).__name__, message)):
        load(path)
    assert built == []


def test_more_tensors_than_the_size_of_the_file_allows_are_refused(fitted, digits, tmp_path):
    path = tmp_path / "vae.safetensors"
    dump(fitted["table"], path)
    _rewrite(path, digest=True, tensors={f"extra{i}": torch.zeros(1) for i in range(5000)})
    pattern = (
        r"^Cannot load .*: it holds 5010 tensors, and a vaeaug model file of \d+ bytes holds at"
    )
    with pytest.raises(ValueError, match=pattern):
        load(path)
    X, y = digits
    deep = TorchMLPClassifier(hidden_units=1, n_layers=600, max_epochs=1, random_state=0).fit(X, y)
    pattern = (
        r"^Cannot save the TorchMLPClassifier, as load would refuse it: its network holds 4202 "
        r"tensors, and a file of \d+ bytes may hold \d+\.$"
    )
    with pytest.raises(ValueError, match=pattern):
        dump(deep, tmp_path / "deep.safetensors")
    assert not (tmp_path / "deep.safetensors").exists()


def test_attributes_that_load_would_refuse_are_not_saved(digits, tmp_path):
    vae, _ = _fit_small("vae", digits)
    vae.history_[0]["note"] = "a str"
    pattern = (
        r"Cannot save the VAE, as load would refuse it: its fitted attribute history_ must be "
        r"a list of dicts of str to numbers"
    )
    with pytest.raises(ValueError, match=pattern):
        dump(vae, tmp_path / "vae.safetensors")
    del vae.history_[0]["note"]
    vae.colour_ = "red"
    with pytest.raises(ValueError, match="'colour_' is not the name of a fitted attribute"):
        dump(vae, tmp_path / "vae.safetensors")
    assert list(tmp_path.iterdir()) == []
