"""The MNIST handwritten digits, read from the original IDX files."""

import gzip
import os
import zlib
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._fetch import RemoteFile, explain_permission_errors, fetch_files, find_dataset_folder

__all__ = ["load_mnist"]

_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_FILES = tuple(
    RemoteFile(name, sha256, tuple(mirror + name for mirror in _MIRRORS))
    for name, sha256 in [
        (
            "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ),
        (
            "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ),
        (
            "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
    ]
)
_IMAGES_MAGIC = 2051
_LABELS_MAGIC = 2049
_N_VAL = 5000

_DESCR = """\
MNIST handwritten digits
------------------------

70,000 greyscale images of 28x28 pixels (uint8, 0 = background, 255 = ink) of
the digits 0-9: the 60,000 images of the original training file followed by the
10,000 of the test file.

Split (the paper's, and TensorFlow's ``read_data_sets(validation_size=5000)``):
the first 5,000 images of the training file are the validation set, the other
55,000 the training set, and the 10,000 test images the test set.

Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of handwritten
digits", http://yann.lecun.com/exdb/mnist/ (CC BY-SA 3.0).
"""


@explain_permission_errors
def load_mnist(
    data_home: str | os.PathLike | None = None,
    *,
    download_if_missing: bool = True,
    verify: bool = True,
) -> Bunch:
    """Load MNIST with the paper's 55,000 / 5,000 / 10,000 split.

    The four original ``*-idx?-ubyte.gz`` files are looked for in
    ``data_home/mnist``, then directly in ``data_home``; missing ones are
    downloaded into ``data_home/mnist``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data folder; see :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False, raise an OSError instead of downloading missing files.
    verify : bool, default=True
        Whether to check the SHA-256 of the files found on disk.

    Returns
    -------
    dataset : Bunch
        Dictionary-like object with the following attributes.

        images : ndarray of shape (70000, 28, 28), dtype uint8
            The training file's 60,000 images, then the test file's 10,000.
        target : ndarray of shape (70000,), dtype uint8
            The digit of each image.
        target_names : ndarray of shape (10,)
            The digits 0-9.
        X_train, y_train : ndarray of shape (55000, 28, 28) and (55000,)
            The last 55,000 images of the training file and their labels.
        X_val, y_val : ndarray of shape (5000, 28, 28) and (5000,)
            The first 5,000 images of the training file and their labels.
        X_test, y_test : ndarray of shape (10000, 28, 28) and (10000,)
            The test file.
        DESCR : str
            Description of the dataset.

        The split arrays are views of ``images`` and ``target``: they use no
        extra memory, and modifying one modifies the other. Flatten images for
        scikit-learn estimators with ``X.reshape(len(X), -1)``.

    Raises
    ------
    OSError
        If a file is missing and cannot be downloaded, or fails its checksum;
        a PermissionError if a file or folder cannot be read.
    ValueError
        If a file is not a valid gzip-compressed IDX file of 28x28 images or of
        labels (truncated or corrupted), or if image and label counts disagree.
    """
    folder = find_dataset_folder(data_home, "mnist", [file.filename for file in _FILES])
    train_images, train_labels, test_images, test_labels = fetch_files(
        folder, _FILES, download_if_missing=download_if_missing, verify=verify
    )
    train = _read_images_and_labels(train_images, train_labels)
    test = _read_images_and_labels(test_images, test_labels)
    n_train = len(train[0])
    images = np.concatenate([train[0], test[0]])
    target = np.concatenate([train[1], test[1]])
    return Bunch(
        images=images,
        target=target,
        target_names=np.arange(10),
        X_train=images[_N_VAL:n_train],
        y_train=target[_N_VAL:n_train],
        X_val=images[:_N_VAL],
        y_val=target[:_N_VAL],
        X_test=images[n_train:],
        y_test=target[n_train:],
        DESCR=_DESCR,
    )


def _read_images_and_labels(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a pair of MNIST image and label files, checking that they match."""
    images = _read_idx(images_path, _IMAGES_MAGIC)
    labels = _read_idx(labels_path, _LABELS_MAGIC)
    if images.shape[1:] != (28, 28):
        raise ValueError(
            f"{images_path} holds images of shape {images.shape[1:]}, expected (28, 28)."
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels."
        )
    return images, labels


def _read_idx(path: Path, magic: int) -> np.ndarray:
    """Read a gzip-compressed IDX file of unsigned bytes.

    Parameters
    ----------
    path : pathlib.Path
        The ``.gz`` file.
    magic : int
        The expected magic number: 2051 for images, 2049 for labels. Its last
        byte is the number of dimensions; its third byte must be 8 (uint8).

    Returns
    -------
    array : ndarray of dtype uint8
        The data, shaped as the dimensions in the header say.

    Raises
    ------
    ValueError
        If the file is not gzip, has a different magic number, or its size does
        not match its header.
    """
    with open(path, "rb") as raw:  # outside the try: permissions are not corruption
        try:
            with gzip.open(raw, "rb") as stream:
                content = bytearray(stream.read())  # bytearray: the array is writable
        except (gzip.BadGzipFile, EOFError, zlib.error) as error:
            raise ValueError(
                f"{path} is not a valid gzip file ({error}): it is truncated or "
                "corrupted; delete it so that it can be fetched again."
            ) from error
    n_dims = magic & 0xFF
    header_size = 4 * (1 + n_dims)
    found_magic = int.from_bytes(content[:4], "big") if len(content) >= 4 else None
    if found_magic != magic:
        raise ValueError(f"{path} has IDX magic number {found_magic}, expected {magic}.")
    if len(content) < header_size:
        raise ValueError(f"{path} is too short ({len(content)} bytes) for an IDX header.")
    header = np.frombuffer(content, dtype=">u4", count=1 + n_dims)
    shape = tuple(int(dim) for dim in header[1:])
    expected_size = header_size + int(np.prod(shape))
    if len(content) != expected_size:
        raise ValueError(
            f"{path} holds {len(content)} bytes once decompressed, but its header "
            f"(shape {shape}) implies {expected_size}."
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(shape)
