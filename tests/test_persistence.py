"""Pickling of the torch estimators, and the safe model files of vaeaug.persistence."""

import copy
import json
import os
import pickle
import re
import warnings

import numpy as np
import pytest
import safetensors
import safetensors.torch
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import StandardScaler

from tests.conftest import FAST
from vaeaug import VAE, EarlyStopping
from vaeaug._torch_state import available_device
from vaeaug.classifiers import MLPClassifier
from vaeaug.persistence import FORMAT_VERSION, _digest, dump, load

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
        "mlp": MLPClassifier(**MLP_FAST, random_state=0).fit(X, np.array(list("abcdefghij"))[y]),
    }


def _fit_small(kind, digits):
    X, y = digits
    if kind == "vae":
        return VAE(**FAST, random_state=0).fit(X), X
    return MLPClassifier(**MLP_FAST, random_state=0).fit(X, y), X


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
        estimator = MLPClassifier(**MLP_FAST, device=device, random_state=0).fit(X, y)
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
        assert restored.input_shape_ == (8, 8)
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


def test_unfitted_and_foreign_estimators_are_refused(tmp_path):
    with pytest.raises(NotFittedError, match="This VAE is not fitted yet; fit it before saving"):
        dump(VAE(), tmp_path / "vae.safetensors")
    scaler = StandardScaler().fit(np.ones((3, 2)))
    with pytest.raises(TypeError, match=r"dump saves one of \['MLPClassifier', 'VAE'\].*"):
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


def _rewrite(path, digest=False, **metadata):
    """Rewrite the metadata of the model file at ``path``, keeping its weights."""
    with safetensors.safe_open(path, framework="pt") as file:
        tensors = {key: file.get_tensor(key) for key in file.keys()}
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
        r"it was written in vaeaug model format version 2, and this vaeaug reads versions "
        r"up to 1. Upgrade vaeaug to load it."
    )
    with pytest.raises(ValueError, match=pattern):
        load(path)
    _rewrite(path, format_version="one")
    with pytest.raises(ValueError, match="its format_version 'one' is not a whole number"):
        load(path)


def test_an_unknown_class_is_refused(fitted, tmp_path):
    path = tmp_path / "vae.safetensors"
    dump(fitted["table"], path)
    _rewrite(path, digest=True, estimator="subprocess.Popen")
    pattern = (
        r"it holds an estimator of class 'subprocess.Popen', and vaeaug model files hold "
        r"only \['MLPClassifier', 'VAE'\]"
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
    with safetensors.safe_open(path, framework="pt") as file:
        content = json.loads(file.metadata()[field])
    _rewrite(path, digest=True, **{field: json.dumps({**content, **change})})
    pattern = r"(?s)it does not hold a valid VAE for this version of vaeaug \(.*" + re.escape(
        message
    )
    with pytest.raises(ValueError, match=pattern):
        load(path)
