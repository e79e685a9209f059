"""Fitting, pickling and safe saving on a CUDA device; skipped where torch sees none."""

import copy
import pickle

import joblib
import numpy as np
import pytest
import torch

from tests.conftest import FAST
from vaeaug import VAE, TorchMLPClassifier
from vaeaug.persistence import dump, load

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

CUDA = torch.device("cuda")


@pytest.fixture(scope="module")
def gpu_models(digits):
    X, y = digits
    return {
        "vae": VAE(**FAST, device="cuda", random_state=0).fit(X),
        "mlp": TorchMLPClassifier(
            hidden_units=16, n_layers=2, max_epochs=3, device="cuda", random_state=0
        ).fit(X, y),
    }


def _output(estimator, X):
    if isinstance(estimator, VAE):
        return estimator.transform(X)
    return estimator.predict_proba(X)


def _on_cuda(estimator):
    return estimator.device_.type == "cuda" and all(
        p.device.type == "cuda" for p in estimator.module_.parameters()
    )


@pytest.mark.parametrize("kind", ["vae", "mlp"])
def test_fits_on_cuda(kind, gpu_models, digits):
    estimator = gpu_models[kind]
    assert _on_cuda(estimator)
    assert np.isfinite(_output(estimator, digits[0][:10])).all()


@pytest.mark.parametrize("kind", ["vae", "mlp"])
def test_pickle_deepcopy_and_joblib_leave_the_live_estimator_on_cuda(
    kind, gpu_models, digits, tmp_path
):
    estimator = gpu_models[kind]
    X = digits[0][:50]
    expected = _output(estimator, X)
    module = estimator.module_
    restored = pickle.loads(pickle.dumps(estimator))
    duplicate = copy.deepcopy(estimator)
    joblib.dump(estimator, tmp_path / "model.joblib")
    for copied in (restored, duplicate, joblib.load(tmp_path / "model.joblib")):
        assert _on_cuda(copied)
        np.testing.assert_allclose(_output(copied, X), expected, rtol=1e-5, atol=1e-6)
    assert estimator.module_ is module
    assert _on_cuda(estimator)
    np.testing.assert_array_equal(_output(estimator, X), expected)


@pytest.mark.parametrize("kind", ["vae", "mlp"])
def test_safe_round_trip_on_cuda_and_on_the_cpu(kind, gpu_models, digits, tmp_path):
    estimator = gpu_models[kind]
    X = digits[0][:50]
    expected = _output(estimator, X)
    path = tmp_path / "model.safetensors"
    dump(estimator, path)
    assert _on_cuda(estimator)
    on_gpu = load(path)
    assert _on_cuda(on_gpu)
    np.testing.assert_array_equal(_output(on_gpu, X), expected)
    on_cpu = load(path, device="cpu")
    assert on_cpu.device_ == torch.device("cpu")
    assert all(p.device.type == "cpu" for p in on_cpu.module_.parameters())
    np.testing.assert_allclose(_output(on_cpu, X), expected, rtol=1e-4, atol=1e-4)
    if kind == "vae":
        Z = estimator.transform(X)
        np.testing.assert_allclose(
            on_cpu.inverse_transform(Z), estimator.inverse_transform(Z), rtol=1e-4, atol=1e-3
        )
