"""Saving fitted estimators to a file whose loading runs no code.

A pickle (and so a joblib file or cache) runs code of its author's choosing
when it is loaded. The model files written by :func:`dump` hold data only:
a `safetensors <https://huggingface.co/docs/safetensors>`_ file whose tensors
are the network's weights and whose metadata holds, as JSON, the estimator's
class name, its parameters and its fitted attributes. :func:`load` builds
vaeaug's own estimators, or a class of your own that you name, never one the
file names; for each class it accepts only the fitted attributes that the
class declares (:attr:`TorchEstimator._fitted_attributes
<vaeaug.estimators.TorchEstimator>`), of the kinds declared; it rebuilds the network from the
parameters and fitted attributes and fills in the weights, which must have the
network's names, shapes and dtypes and be finite, as must the scales; the
sizes it declares (``n_features_in_``, ``layout_``) must not make the
network compute far more values per sample than its weights (whose size,
for a convolutional VAE, does not grow with its images). Neither a crafted
file's values nor its sizes can make it allocate much more memory than the
file takes: its JSON
is parsed only if it holds few enough lists, objects and strings for its
length, the network is built only if the file holds few enough tensors for
its size and a weight and a bias for each layer its parameters declare, and
the memory :func:`load` takes stays within about 30 times the
size of the file (the arrays its JSON describes may take 16 bytes per
character, Python's objects for its numbers some 10 more).

The file carries a SHA-256 of its content, which detects corruption (a
truncated copy, a flipped bit) but not tampering: it has no key, so whoever
edits a file can write the digest that matches. Loading a file from someone
else runs none of their code, but its weights are whatever they put there:
load models from sources you trust, and check a file you were sent against a
SHA-256 of the whole file that its author published where you trust it
(``sha256sum vae.safetensors``, or
``hashlib.sha256(Path("vae.safetensors").read_bytes()).hexdigest()``).

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from sklearn.datasets import load_digits
>>> from vaeaug import VAE
>>> from vaeaug.persistence import dump, load
>>> X, _ = load_digits(return_X_y=True)
>>> vae = VAE(latent_dim=4, hidden_units=32, max_epochs=1, random_state=0).fit(X)
>>> with tempfile.TemporaryDirectory() as folder:
...     dump(vae, Path(folder) / "vae.safetensors")
...     restored = load(Path(folder) / "vae.safetensors", device="cpu")
>>> bool((restored.transform(X[:5]) == vae.transform(X[:5])).all())
True
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import re
import secrets
from pathlib import Path

import numpy as np
import safetensors.torch
import torch
from safetensors import SafetensorError, safe_open
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .engine._device import available_device, resolve_device
from .estimators import VAE, TorchEstimator, TorchMLPClassifier
from .utils._layout import DataLayout
from .utils._warnings import warn

#: Version of the file layout written by :func:`dump`; :func:`load` reads it
#: and older ones. 2: the VAE's layout is one fitted attribute, ``layout_``.
#: 3: the layout no longer says whether the user declared images.
FORMAT_VERSION = 3

_FORMAT = "vaeaug"

#: Value kinds of numpy arrays and scalars a model file may hold: booleans,
#: integers, floats, strings and objects (whose items are numbers or strings).
_DTYPE_KINDS = "biufUO"

#: The most characters of the numpy strings in a model file.
_MAX_STRING_LENGTH = 4096

#: The JSON values that numpy arrays and scalars in a model file are made of.
_JSON_SCALARS = (bool, int, float, str)

#: The numpy arrays of a JSON text of :func:`_to_json` values may take this
#: many bytes, plus this many per character of the text. The arrays that
#: :func:`dump` writes take a few bytes per character (more only for strings
#: far shorter than their dtype holds); the bound keeps a small crafted file
#: from making :func:`load` allocate much memory.
_MAX_ARRAY_BYTES, _ARRAY_BYTES_PER_CHARACTER = 2**20, 16

#: A JSON text of a model file may hold this many lists and objects, plus one
#: per this many characters, and this many strings, plus one per this many
#: characters. Python's JSON parser makes an object of 50 to 250 bytes of
#: each, where a crafted text takes 2 to 5 characters; counted before parsing,
#: they keep the parse within about 10 bytes per character, what its numbers
#: can take (a float: 32 bytes for 4 characters). The texts that :func:`dump`
#: writes hold one list or object per
#: 100 characters or more (a history record, an array) and one string per 18
#: characters or more (the keys of a history record; a feature name comes
#: with its mean and scale).
_JSON_CONTAINERS_ALLOWED = (4096, 32)
_JSON_STRINGS_ALLOWED = (4096, 8)

#: The deepest nesting of lists and objects in a model file's JSON (those that
#: :func:`dump` writes nest 4 deep).
_MAX_JSON_DEPTH = 16

#: The values that a network computes for one sample (its input and the
#: output of each layer) may take this many bytes in float32, plus this many
#: per byte of the file. A convolutional VAE's weights do not grow with its
#: images, so a small file could otherwise declare images of 2**40 pixels and
#: make the first decode ask for terabytes; those that :func:`dump` writes
#: compute a few bytes or less per byte of the file.
_MAX_SAMPLE_BYTES, _SAMPLE_BYTES_PER_FILE_BYTE = 2**26, 16

#: A model file may hold this many tensors, plus one per this many bytes: a
#: network's layers are built, on the meta device, before its weights are
#: compared with the file's, and each layer takes some 20 KB there; the
#: parameters may declare no more layers than the file holds weights and
#: biases. The networks of vaeaug hold a few dozen tensors.
_MAX_TENSORS, _FILE_BYTES_PER_TENSOR = 4096, 4096

#: vaeaug's estimators, which a model file may name; others must be named by the caller.
_ESTIMATORS: dict[str, type[TorchEstimator]] = {
    "VAE": VAE,
    "TorchMLPClassifier": TorchMLPClassifier,
    "MLPClassifier": TorchMLPClassifier,  # its name in version 1 files
}

#: Value types a model file may hold besides JSON's, numpy's, tuples and dicts.
_DATACLASSES = {"DataLayout": DataLayout}


def dump(estimator: TorchEstimator, path: str | os.PathLike) -> None:
    """Save a fitted estimator to a model file that :func:`load` reads without running code.

    The file is written to a temporary file beside ``path`` and then renamed,
    so an interrupted save leaves ``path`` as it was. Weights are saved from
    any device and the estimator is not modified.

    Parameters
    ----------
    estimator : TorchEstimator
        A fitted :class:`~vaeaug.VAE`, :class:`~vaeaug.TorchMLPClassifier`,
        or an estimator of your own derived from
        :class:`~vaeaug.estimators.TorchEstimator` (load it with
        ``load(path, estimator_class=YourClass)``).
    path : str or path-like
        The file to write, such as ``"vae.safetensors"``; it is replaced if it
        exists. Its folder must exist.

    Warns
    -----
    UserWarning
        For each parameter whose value is an object rather than data, such
        as ``callbacks`` or a ``RandomState`` instance as ``random_state``:
        it is saved as ``None``. Such parameters matter only to a new fit.

    Raises
    ------
    TypeError
        If ``estimator`` is not a :class:`~vaeaug.estimators.TorchEstimator`, or a fitted
        attribute holds a value that cannot be saved as JSON.
    ValueError
        If the fitted attributes or weights are not those that :func:`load`
        accepts: one set by hand, an entry of ``history_`` that is not a
        number, or weights or scales that are NaN or infinite.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    FileNotFoundError
        If the folder of ``path`` does not exist.
    """
    name = type(estimator).__name__
    if not isinstance(estimator, TorchEstimator):
        raise TypeError(
            f"dump saves vaeaug's torch estimators (VAE, TorchMLPClassifier and other "
            f"TorchEstimator classes); got a {name}. Other estimators can be saved with skops.io."
        )
    check_is_fitted(
        estimator, "module_", msg=f"This {name} is not fitted yet; fit it before saving it."
    )
    attributes = json.dumps(_attributes_to_json(estimator))
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"Cannot save to {path}: the folder {path.parent} does not exist.")
    tensors = {
        key: tensor.detach().cpu().contiguous()
        for key, tensor in estimator.module_.state_dict().items()
    }
    metadata = {
        "format": _FORMAT,
        "format_version": str(FORMAT_VERSION),
        "estimator": name,
        "params": json.dumps(_params_to_json(estimator)),
        "attributes": attributes,
    }
    metadata["sha256"] = _digest(metadata, tensors)
    data = safetensors.torch.save(tensors, metadata=metadata)
    try:
        allowed = _MAX_TENSORS + len(data) // _FILE_BYTES_PER_TENSOR
        if len(tensors) > allowed:
            raise ValueError(
                f"its network holds {len(tensors)} tensors, and a file of {len(data)} bytes "
                f"may hold {allowed}"
            )
        _check_finite(tensors)
        with torch.device("meta"):
            _check_network_size(estimator, estimator._build_network(), len(data))
    except ValueError as exc:
        raise ValueError(f"Cannot save the {name}, as load would refuse it: {exc}.") from None
    _write_atomically(path, data)


def load(
    path: str | os.PathLike,
    *,
    device: str | torch.device | None = None,
    estimator_class: type[TorchEstimator] | None = None,
) -> TorchEstimator:
    """Load an estimator saved by :func:`dump`, running no code from the file.

    Parameters
    ----------
    path : str or path-like
        A model file written by :func:`dump`.
    device : str, torch.device or None, default=None
        Where to put the network. ``None``: the device it was fitted on,
        or the CPU (with a warning) where this machine lacks that device.
        Otherwise any value of the estimators' ``device`` parameter, such as
        ``"cpu"``, ``"cuda:1"`` or ``"auto"`` (CUDA when available).
    estimator_class : TorchEstimator subclass or None, default=None
        The class to build, for a file of an estimator of your own (a
        subclass of :class:`~vaeaug.VAE`, say); the file must name a class of
        the same name. ``None``: vaeaug's own classes only. A file never
        chooses the code that builds it.

    Returns
    -------
    estimator : TorchEstimator
        The fitted estimator, with the saved parameters; parameters that
        were saved as ``None`` (see :func:`dump`) are ``None``.

    Warns
    -----
    UserWarning
        When ``device=None`` and this machine lacks the device the model was
        fitted on.

    Raises
    ------
    ValueError
        If ``device`` is not a valid device, or if ``path`` is not a model
        file, is truncated or corrupted, was written by a newer vaeaug in a
        format version this one cannot read, or holds what a fit does not give:
        unknown or missing fitted attributes, attributes of other types or
        shapes (a ``device_`` of a type other than cpu, cuda or mps among
        them, refused before the network is moved), weights of other names,
        shapes or dtypes than the network's,
        weights or scales that are NaN or infinite, sizes (``n_features_in_``,
        ``layout_``) for which the network would compute far more values
        per sample than the size of the file allows, arrays that would take
        much more memory than the file, or JSON that would: more lists,
        objects or strings than its length allows, or nested deeper than 16
        levels; more tensors than its size allows, or parameters that declare
        more layers than it holds weights for.
    FileNotFoundError
        If ``path`` does not exist.
    IsADirectoryError
        If ``path`` is a folder.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"Cannot load {path}: it is a folder; load takes a model file written by "
            "vaeaug.persistence.dump."
        )
    try:
        size = path.stat().st_size
        with safe_open(path, framework="pt") as file:
            metadata = file.metadata() or {}
            cls, version = _check_header(path, metadata, estimator_class)
            keys = file.keys()
            allowed = _MAX_TENSORS + size // _FILE_BYTES_PER_TENSOR
            if len(keys) > allowed:
                raise ValueError(
                    f"Cannot load {path}: it holds {len(keys)} tensors, and a vaeaug model file "
                    f"of {size} bytes holds at most {allowed}."
                )
            tensors = {key: file.get_tensor(key) for key in keys}
    except SafetensorError as exc:
        raise ValueError(
            f"Cannot load {path}: it is not a vaeaug model file, or it is truncated or "
            f"corrupted ({exc})."
        ) from None
    if metadata.get("sha256") != _digest(metadata, tensors):
        raise ValueError(
            f"Cannot load {path}: its content does not match its checksum; the file is corrupted."
        )
    try:
        estimator = cls(**_mapping_from_json(metadata["params"]))
        estimator._validate_params()
        attributes = cls._upgrade_fitted_attributes(
            _mapping_from_json(metadata["attributes"]), version
        )
        _check_fitted_attributes(cls, attributes)
        for name, value in attributes.items():
            setattr(estimator, name, value)
        _check_layer_count(estimator, len(tensors))
        # On the meta device building draws no initial weights: the file's are used.
        with torch.device("meta"):
            module = estimator._build_network()
        _check_network_size(estimator, module, size)
        _check_weights(tensors, module)
        module.load_state_dict(tensors, assign=True)
    except (AttributeError, KeyError, OverflowError, RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"Cannot load {path}: it does not hold a valid {cls.__name__} for this "
            f"version of vaeaug ({exc})."
        ) from exc
    if device is None:
        device = available_device(estimator.device_, f"The {cls.__name__} in {path}")
    estimator.device_ = resolve_device(device)
    estimator.module_ = module.eval().to(estimator.device_)
    return estimator


def _check_header(
    path: Path, metadata: dict[str, str], estimator_class: type[TorchEstimator] | None
) -> tuple[type[TorchEstimator], int]:
    """Check a model file's format and class; return the class to build and the format version."""
    if metadata.get("format") != _FORMAT:
        raise ValueError(
            f"Cannot load {path}: it is a safetensors file but not a vaeaug model file "
            "(its metadata do not say format='vaeaug')."
        )
    version = metadata.get("format_version", "")
    if not re.fullmatch("[0-9]{1,9}", version):  # str.isdigit() takes "²" and "٣"
        raise ValueError(
            f"Cannot load {path}: its format_version {version!r} is not a whole number; "
            "the file is corrupted."
        )
    if int(version) > FORMAT_VERSION:
        raise ValueError(
            f"Cannot load {path}: it was written in vaeaug model format version {version}, "
            f"and this vaeaug reads versions up to {FORMAT_VERSION}. Upgrade vaeaug to load it."
        )
    name = metadata.get("estimator")
    if estimator_class is None:
        if name not in _ESTIMATORS:
            own = sorted({cls.__name__ for cls in _ESTIMATORS.values()})
            raise ValueError(
                f"Cannot load {path}: it holds an estimator of class {name!r}, and vaeaug "
                f"builds only its own ({', '.join(own)}). For a class of your own, pass it: "
                "load(path, estimator_class=YourClass)."
            )
        return _ESTIMATORS[name], int(version)
    if not (isinstance(estimator_class, type) and issubclass(estimator_class, TorchEstimator)):
        raise TypeError(
            f"estimator_class must be a subclass of vaeaug.estimators.TorchEstimator; got "
            f"{estimator_class!r}."
        )
    if name != estimator_class.__name__:
        raise ValueError(
            f"Cannot load {path}: it holds an estimator of class {name!r}, not "
            f"estimator_class={estimator_class.__name__}."
        )
    return estimator_class, int(version)


def _check_fitted_attributes(cls: type[TorchEstimator], attributes: dict) -> None:
    """Raise ValueError unless ``attributes`` are those ``cls`` declares, of their kinds.

    See :attr:`TorchEstimator._fitted_attributes <vaeaug.estimators.TorchEstimator>`.
    """
    declared = cls._fitted_attributes
    for name in attributes:
        if name not in declared:
            raise ValueError(
                f"{name!r} is not the name of a fitted attribute of a {cls.__name__} "
                f"(those are {', '.join(declared)})"
            )
    missing = [
        name
        for name, attribute in declared.items()
        if name not in attributes and attribute.is_required(attributes)
    ]
    if missing:
        raise ValueError(f"it lacks the fitted attributes {', '.join(missing)}")
    for name, attribute in declared.items():
        if name in attributes and not attribute.is_valid(attributes[name], attributes):
            raise ValueError(
                f"its fitted attribute {name} must be {attribute.description}; "
                f"{_describe(attributes[name])}"
            )


def _describe(value) -> str:
    if isinstance(value, torch.device):
        return f"it is the device {str(value)!r}"
    if isinstance(value, np.ndarray):
        return f"it is an ndarray of dtype {value.dtype} and shape {value.shape}"
    return f"it is the {type(value).__name__} {value!r:.80}"


def _check_weights(tensors: dict[str, torch.Tensor], module: torch.nn.Module) -> None:
    """Raise ValueError unless the tensors named as the network's have their dtypes and are finite.

    ``load_state_dict`` checks the names and shapes, but with ``assign=True``
    it would keep float64 weights in a float32 network.
    """
    for key, expected in module.state_dict().items():
        if key in tensors and tensors[key].dtype != expected.dtype:
            raise ValueError(
                f"its tensor {key} is of dtype {tensors[key].dtype}; the network's is "
                f"{expected.dtype}"
            )
    _check_finite(tensors)


def _check_finite(tensors: dict[str, torch.Tensor]) -> None:
    """Raise ValueError if a floating-point tensor holds NaN or an infinity."""
    for key, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"its tensor {key} holds NaN or infinite values")


def _check_layer_count(estimator: TorchEstimator, n_tensors: int) -> None:
    """Raise ValueError if the parameters declare more layers than ``n_tensors`` weigh.

    Each layer of a hidden stack (``conv_channels`` of a convolutional VAE,
    ``n_layers`` of the MLP) has a weight and a bias, so that a file of few
    tensors cannot make :func:`load` build a network of a million layers.
    """
    layers, name = estimator._declared_layers()
    if 2 * layers > n_tensors:
        raise ValueError(
            f"its parameter {name} declares {layers} layers, whose weights and biases would "
            f"be {2 * layers} tensors; it holds {n_tensors}"
        )


def _check_network_size(estimator: TorchEstimator, module: torch.nn.Module, file_size: int) -> None:
    """Raise ValueError if ``module`` computes more values per sample than ``file_size`` allows.

    ``module`` is on the meta device, where a sample is passed through it
    without memory: the shapes of the outputs of its layers are counted.
    """
    shape = estimator._network_input_shape()
    values = math.prod(shape)

    def count(layer, inputs, output):
        nonlocal values
        for tensor in output if isinstance(output, tuple) else (output,):
            values += tensor.numel()

    layers = [layer for layer in module.modules() if next(layer.children(), None) is None]
    hooks = [layer.register_forward_hook(count) for layer in layers]
    try:
        with torch.no_grad():
            module.eval()(torch.empty((1, *shape), device="meta"))
    finally:
        for hook in hooks:
            hook.remove()
    allowed = _MAX_SAMPLE_BYTES + _SAMPLE_BYTES_PER_FILE_BYTE * file_size
    if 4 * values > allowed:
        raise ValueError(
            f"its network computes {values} values for each sample ({4 * values} bytes in "
            f"float32), more than a file of {file_size} bytes allows ({allowed} bytes): its "
            "layout_ or n_features_in_ is far larger than its weights"
        )


def _params_to_json(estimator: BaseEstimator) -> dict:
    params = {}
    for name, value in estimator.get_params(deep=False).items():
        try:
            params[name] = _to_json(value)
        except TypeError:
            warn(
                f"The {name} parameter of the {type(estimator).__name__} holds objects "
                f"({value!r:.80}), which a model file cannot hold; it is saved as None. "
                "It only matters to a new fit."
            )
            params[name] = None
    return params


def _attributes_to_json(estimator: BaseEstimator) -> dict:
    name = type(estimator).__name__
    attributes = {
        key: value
        for key, value in vars(estimator).items()
        if key.endswith("_") and not key.startswith("_") and key != "module_"
    }
    try:
        _check_fitted_attributes(type(estimator), attributes)
    except ValueError as exc:
        raise ValueError(f"Cannot save the {name}, as load would refuse it: {exc}.") from None
    try:
        return {key: _to_json(value) for key, value in attributes.items()}
    except TypeError as exc:
        raise TypeError(f"Cannot save the fitted attributes of the {name}: {exc}") from None


def _to_json(value):
    """Encode ``value`` in JSON types; every JSON object is a tagged non-JSON value."""
    if isinstance(value, np.ndarray):
        data = value.ravel().tolist()
        if not all(isinstance(item, _JSON_SCALARS) for item in data):
            raise TypeError("an ndarray of objects other than numbers and str cannot be saved")
        return {
            "type": "ndarray",
            "dtype": _check_dtype(value.dtype).str,
            "shape": list(value.shape),
            "data": data,
        }
    if isinstance(value, np.generic):
        return {
            "type": "numpy.scalar",
            "dtype": _check_dtype(value.dtype).str,
            "data": value.item(),
        }
    if value is None or isinstance(value, _JSON_SCALARS):
        return value
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    if isinstance(value, tuple):
        return {"type": "tuple", "items": [_to_json(item) for item in value]}
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {"type": "dict", "items": {key: _to_json(item) for key, item in value.items()}}
    if isinstance(value, torch.device):
        return {"type": "torch.device", "value": str(value)}
    if type(value) in _DATACLASSES.values():
        fields = {
            field.name: _to_json(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
        return {"type": type(value).__name__, "fields": fields}
    raise TypeError(f"a {type(value).__name__} cannot be saved as JSON")


def _mapping_from_json(text: str) -> dict:
    """Decode a JSON object of :func:`_to_json` values, within the bounds on nodes and arrays."""
    _check_json_nodes(text)
    try:
        mapping = json.loads(text)
    except RecursionError:
        raise ValueError(
            f"its JSON nests lists and objects deeper than {_MAX_JSON_DEPTH} levels"
        ) from None
    if not isinstance(mapping, dict):
        raise ValueError(f"its JSON must be an object, not a {type(mapping).__name__}")
    decode = _Decoder(_MAX_ARRAY_BYTES + _ARRAY_BYTES_PER_CHARACTER * len(text))
    return {name: decode(value) for name, value in mapping.items()}


def _check_json_nodes(text: str) -> None:
    """Raise ValueError if ``text`` holds more lists, objects or strings than its length allows.

    Counted by their opening characters, so brackets and quotes inside strings
    count too: an overestimate, never an underestimate.
    """
    counts = [
        ("lists and objects", text.count("[") + text.count("{"), *_JSON_CONTAINERS_ALLOWED),
        ("strings", text.count('"') // 2, *_JSON_STRINGS_ALLOWED),
    ]
    for what, count, base, characters in counts:
        allowed = base + len(text) // characters
        if count > allowed:
            raise ValueError(
                f"its JSON of {len(text)} characters holds {count} {what}, and a model "
                f"file's may hold {allowed} (one per {characters} characters, plus {base}): "
                "parsing it would take much more memory than the file"
            )


class _Decoder:
    """Decode what :func:`_to_json` encoded; builds numpy, tuple, dict and device values only.

    Parameters
    ----------
    max_array_bytes : int
        The most bytes that the numpy arrays it builds may take in all.
    """

    def __init__(self, max_array_bytes: int):
        self.array_bytes_left = max_array_bytes

    def __call__(self, value, depth: int = 1):
        if depth > _MAX_JSON_DEPTH:
            raise ValueError(
                f"its JSON nests lists and objects deeper than {_MAX_JSON_DEPTH} levels"
            )
        if isinstance(value, list):  # decoded in place: no second list of as many items
            for index, item in enumerate(value):
                value[index] = self(item, depth + 1)
            return value
        if not isinstance(value, dict):
            return value
        kind = value.get("type")
        if kind == "tuple":
            return tuple(self(item, depth + 2) for item in value["items"])
        if kind == "dict":
            return {key: self(item, depth + 2) for key, item in value["items"].items()}
        if kind == "torch.device":
            return torch.device(value["value"])
        if kind == "numpy.scalar":
            return _check_dtype(np.dtype(value["dtype"])).type(_scalar(value["data"]))
        if kind == "ndarray":
            return self._array(value)
        if kind in _DATACLASSES:
            return self._dataclass(_DATACLASSES[kind], value["fields"], depth + 2)
        raise ValueError(f"unknown value type {kind!r}")

    def _dataclass(self, cls: type, fields, depth: int):
        """Build ``cls`` from exactly its fields, decoded; fields of earlier formats are ignored."""
        names = {field.name for field in dataclasses.fields(cls)}
        dropped = set(getattr(cls, "_dropped_fields", ()))
        if not (isinstance(fields, dict) and set(fields) - dropped == names):
            raise ValueError(f"a {cls.__name__} has the fields {sorted(names)}, not {fields!r:.80}")
        return cls(**{name: self(fields[name], depth) for name in names})

    def _array(self, value) -> np.ndarray:
        """Check the dtype, shape and size of an encoded array before building it."""
        dtype = _check_dtype(np.dtype(value["dtype"]))
        shape, data = value["shape"], value["data"]
        if not (isinstance(shape, list) and all(_is_count(size) for size in shape)):
            raise ValueError(
                f"the shape of an ndarray must be a list of ints >= 0, not {shape!r:.80}"
            )
        if not isinstance(data, list):
            raise ValueError(f"the data of an ndarray must be a list, not {data!r:.80}")
        if math.prod(shape) != len(data):
            raise ValueError(
                f"an ndarray of shape {tuple(shape)} holds {math.prod(shape)} values, "
                f"not the {len(data)} of its data"
            )
        nbytes = dtype.itemsize * len(data)
        if nbytes > self.array_bytes_left:
            raise ValueError(
                f"its arrays would take more memory than a file of this size allows "
                f"(an ndarray of dtype {dtype.str} and shape {tuple(shape)} takes {nbytes} bytes)"
            )
        self.array_bytes_left -= nbytes
        return np.array([_scalar(item) for item in data], dtype=dtype).reshape(shape)


def _scalar(value):
    if not isinstance(value, _JSON_SCALARS):
        raise ValueError(f"a numpy value holds numbers and str, not {value!r:.80}")
    return value


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_dtype(dtype: np.dtype) -> np.dtype:
    if dtype.kind not in _DTYPE_KINDS or dtype.fields is not None:
        raise TypeError(f"a numpy value of dtype {dtype} cannot be saved as JSON")
    if dtype.kind == "U" and not 1 <= dtype.itemsize // 4 <= _MAX_STRING_LENGTH:
        raise TypeError(
            f"numpy strings in a model file hold 1 to {_MAX_STRING_LENGTH} characters; "
            f"those of dtype {dtype.str} hold {dtype.itemsize // 4}"
        )
    return dtype


def _digest(metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 of the estimator's description and weights, to detect corruption."""
    digest = hashlib.sha256()
    described = [metadata.get(key) for key in ("estimator", "params", "attributes")]
    digest.update(json.dumps(described).encode())
    for key in sorted(tensors):
        tensor = tensors[key]
        digest.update(json.dumps([key, str(tensor.dtype), list(tensor.shape)]).encode())
        digest.update(tensor.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file beside ``path``, then rename it to ``path``."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        with open(temporary, "xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
