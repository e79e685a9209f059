"""The library's layers: which way imports go, what stands alone, one base for torch models."""

import ast
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

import vaeaug
from tests.conftest import FAST
from vaeaug import VAE, ProgressBar, TorchMLPClassifier, VAEAugmenter
from vaeaug.estimators import TorchEstimator

PACKAGE = Path(vaeaug.__file__).parent

#: Each layer and the layers of vaeaug it may import; imports go one way.
ALLOWED = {
    "utils": {"utils"},
    "engine": {"engine", "utils"},
    "estimators": {"estimators", "engine", "utils"},
    "samplers": {"samplers", "estimators", "engine", "utils"},
    "top": {"samplers", "estimators", "engine", "utils", "top"},
    "paper": {"paper", "top", "samplers", "estimators", "engine", "utils"},
}


def _layer(module: str) -> str:
    """The layer of a module named ``vaeaug.x.y``: its subpackage, or "top"."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else "top"


def _imported_modules(path: Path) -> set[str]:
    """The vaeaug modules that the file at ``path`` imports, as absolute names."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if path.name == "__init__.py":
        package += ".__init__"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: -node.level]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found |= {name} | {f"{name}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name == "vaeaug" or name.startswith("vaeaug.")}


def _library_files():
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _library_files(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_imports_go_one_way(path):
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    layer = _layer(module)
    for imported in _imported_modules(path):
        if imported == "vaeaug":
            assert layer == "paper", f"{module} imports vaeaug's top level"
            continue
        assert _layer(imported) in ALLOWED[layer], f"{module} ({layer}) imports {imported}"


def test_the_library_fits_without_matplotlib_or_the_harness():
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from sklearn.datasets import load_digits\n"
        "from vaeaug import VAE, VAEAugmenter, TorchMLPClassifier\n"
        "import vaeaug.persistence, vaeaug.model_selection\n"
        "X, y = load_digits(return_X_y=True)\n"
        "aug = VAEAugmenter(VAE(latent_dim=2, hidden_units=8, max_epochs=1), random_state=0)\n"
        "aug.fit_resample(X[:60].reshape(-1, 8, 8), y[:60])\n"
        "TorchMLPClassifier(hidden_units=8, n_layers=1, max_epochs=1).fit(X[:60], y[:60])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'"
        " or m.startswith('vaeaug.paper'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("layer", ["utils", "engine", "estimators"])
def test_only_the_samplers_import_imbalanced_learn(layer):
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            assert not [name for name in names if name.startswith("imblearn")], path


def test_matplotlib_is_not_a_core_dependency():
    from importlib.metadata import requires

    core = [line for line in requires("vaeaug") if "extra ==" not in line]
    assert not [line for line in core if line.startswith("matplotlib")]


def test_the_torch_models_share_one_fit():
    for model in (VAE, TorchMLPClassifier):
        assert issubclass(model, TorchEstimator)
        assert model.fit is TorchEstimator.fit
    shared = set(TorchEstimator._parameter_constraints)
    assert shared <= set(VAE().get_params()) and shared <= set(TorchMLPClassifier().get_params())


def test_the_augmenter_reads_no_private_attribute_of_the_vae():
    source = (PACKAGE / "samplers" / "_latent.py").read_text()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.endswith("__")
        ):
            owner = ast.unparse(node.value)
            assert "vae" not in owner.lower(), f"{owner}.{node.attr}"


def test_one_fit_warns_once_that_flat_rows_are_read_as_images(digits):
    X, y = digits
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        VAEAugmenter(VAE(**FAST), max_rotation=5, random_state=0).fit_resample(X[:60], y[:60])
    messages = [str(w.message) for w in caught if "read as 8x8" in str(w.message)]
    assert len(messages) == 1, messages


@pytest.mark.parametrize("shape", [(6, 8, 8, 3), (6, 8, 8, 1), (6, 10, 12, 4)])
def test_channels_last_images_are_refused_with_the_transpose_to_use(shape):
    X = np.zeros(shape)
    message = r"look like channels-last images .* Pass X\.transpose\(0, 3, 1, 2\)"
    with pytest.raises(ValueError, match=message):
        VAE(**FAST).fit(X)
    with pytest.raises(ValueError, match=message):
        VAEAugmenter(VAE(**FAST)).fit_resample(X, np.arange(6) % 2)
    VAE(**FAST, random_state=0).fit(X.transpose(0, 3, 1, 2))  # channels first: fine


@pytest.mark.parametrize("model", [VAE, TorchMLPClassifier])
@pytest.mark.parametrize("name", ["batch_size", "max_epochs", "patience"])
def test_booleans_are_not_counts(model, name):
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of {model.__name__}"):
        model(**{name: True}).fit(np.zeros((10, 4)), np.arange(10) % 2)


@pytest.mark.parametrize(
    "model, X, y",
    [
        (VAE(**FAST, verbose=1), np.zeros((20, 4)), None),
        (
            TorchMLPClassifier(hidden_units=8, max_epochs=1, verbose=1),
            np.zeros((20, 4)),
            [0, 1] * 10,
        ),
    ],
)
def test_the_progress_bar_names_the_model_that_trains(model, X, y, capsys):
    model.fit(X, y)
    assert f"{type(model).__name__} training" in capsys.readouterr().err
    assert ProgressBar().description == "training"
