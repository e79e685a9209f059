"""Locate, download and verify dataset files.

Every file is checked against a known SHA-256. Downloads and archive
extractions are written to a temporary file next to their destination and
renamed into place only once complete and verified, so the cache never holds a
partially written file.
"""

import errno
import functools
import hashlib
import logging
import os
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import BinaryIO, TypeVar

logger = logging.getLogger(__name__)

DATA_HOME_ENV = "VAEAUG_DATA"
_CHUNK_SIZE = 1 << 20
_TIMEOUT_SECONDS = 60

Loader = TypeVar("Loader", bound=Callable)


@dataclass(frozen=True)
class RemoteFile:
    """A dataset file: its name, SHA-256 and the URLs to try, in order.

    An empty ``urls`` means there is no public download for the file.
    """

    filename: str
    sha256: str
    urls: tuple[str, ...] = ()


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the folder where vaeaug looks for and caches datasets.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use. When None, the environment variable
        ``VAEAUG_DATA`` is used if set, else ``~/vaeaug_data``.

    Returns
    -------
    path : pathlib.Path
        The folder, with ``~`` expanded. It is not created here; loaders create
        it only when they download something.
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or Path("~") / "vaeaug_data"
    return Path(data_home).expanduser()


def explain_permission_errors(loader: Loader) -> Loader:
    """Decorator: re-raise a loader's PermissionError naming the path and what to do."""

    @functools.wraps(loader)
    def load(*args, **kwargs):
        try:
            return loader(*args, **kwargs)
        except PermissionError as error:
            raise PermissionError(
                f"Permission denied for {error.filename or 'a dataset file'}: the dataset "
                "files and the folders that hold them must be readable by this user (and "
                "writable, to download missing files). Fix their permissions, or pass a "
                "data_home that this user can read."
            ) from error

    return load


def find_dataset_folder(
    data_home: str | os.PathLike | None, subfolder: str, filenames: Sequence[str]
) -> Path:
    """Return the folder that holds (or will hold) one dataset's files.

    The folder ``data_home/subfolder`` is tried first, then each of its parents
    up to ``data_home`` itself; the first that contains any of ``filenames`` is
    returned. If none does, ``data_home/subfolder`` is returned, which is where
    missing files are downloaded.

    Raises
    ------
    NotADirectoryError
        If ``data_home`` is a file.
    PermissionError
        If one of these folders exists but cannot be entered.
    """
    home = get_data_home(data_home)
    if home.exists() and not home.is_dir():
        raise NotADirectoryError(f"data_home {home} is a file, not a folder.")
    relative = Path(subfolder)
    for candidate in [relative, *relative.parents]:
        folder = home / candidate
        if folder.is_dir() and not os.access(folder, os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))
        if any((folder / name).is_file() for name in filenames):
            return folder
    return home / relative


def fetch_files(
    folder: Path,
    files: Sequence[RemoteFile],
    *,
    archive: RemoteFile | None = None,
    download_if_missing: bool = True,
    verify: bool = True,
) -> list[Path]:
    """Make sure ``files`` are in ``folder``; return their paths.

    A missing file is extracted from ``archive`` when one is given (the archive
    itself is fetched first if needed), else downloaded from its own URLs.

    Parameters
    ----------
    folder : pathlib.Path
        Where the files are, or go.
    files : sequence of RemoteFile
        The files needed.
    archive : RemoteFile, default=None
        A zip archive containing ``files`` (matched by base name).
    download_if_missing : bool, default=True
        Whether to download what is missing. If False, a missing file raises.
    verify : bool, default=True
        Whether to check the SHA-256 of the files found on disk, including a
        local archive and what is extracted from it. Downloads are always
        checked.

    Returns
    -------
    paths : list of pathlib.Path
        The local path of each of ``files``, in order.

    Raises
    ------
    OSError
        If a file is missing and cannot be fetched, or fails its checksum.
    """
    paths = [folder / remote.filename for remote in files]
    missing = []
    for remote, path in zip(files, paths, strict=True):
        if not path.is_file():
            missing.append(remote)
        elif verify:
            check_sha256(path, remote.sha256)
    if not missing:
        return paths
    _raise_if_unobtainable(folder, missing, archive, download_if_missing)
    if archive is None:
        for remote in missing:
            _download(remote, folder / remote.filename)
    else:
        (archive_path,) = fetch_files(
            folder, [archive], download_if_missing=download_if_missing, verify=verify
        )
        _extract(archive_path, folder, missing, verify=verify)
    return paths


def check_sha256(path: Path, expected: str) -> None:
    """Raise OSError unless the file at ``path`` has SHA-256 ``expected``."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK_SIZE), b""):
            digest.update(chunk)
    _compare_sha256(str(path), digest.hexdigest(), expected)


def _compare_sha256(name: str, actual: str, expected: str) -> None:
    if actual != expected:
        raise OSError(
            f"Checksum mismatch for {name}: expected SHA-256 {expected}, got {actual}. "
            "The file is corrupt, truncated or a different version; delete it so "
            "that it can be fetched again."
        )


def _raise_if_unobtainable(
    folder: Path,
    missing: Sequence[RemoteFile],
    archive: RemoteFile | None,
    download_if_missing: bool,
) -> None:
    names = ", ".join(remote.filename for remote in missing)
    if archive is not None:
        if (folder / archive.filename).is_file():
            return
        names += f" (or the archive {archive.filename} that contains them)"
        downloadable = bool(archive.urls)
    else:
        downloadable = all(remote.urls for remote in missing)
    if not downloadable:
        raise OSError(
            f"Files not found in {folder}: {names}. There is no public download for "
            "them: copy them into that folder, or pass the folder that holds them as "
            "data_home."
        )
    if not download_if_missing:
        raise OSError(
            f"Files not found in {folder}: {names}. Copy them there, or pass "
            "download_if_missing=True to download them."
        )


def _download(remote: RemoteFile, destination: Path) -> None:
    """Download ``remote`` to ``destination``, trying each URL in turn."""
    failures = []
    for url in remote.urls:
        logger.info("Downloading %s to %s", url, destination)
        try:
            with urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response:
                _save_verified(response, destination, remote.sha256, source=url)
            return
        except PermissionError:  # the folder, not the mirror: no use trying others
            raise
        except (OSError, HTTPException) as error:  # URLError, timeouts, checksums
            failures.append(f"{url}: {error}")
    raise OSError(
        f"Could not download {remote.filename} to {destination.parent}:\n  "
        + "\n  ".join(failures)
        + f"\nWithout internet, copy {remote.filename} into {destination.parent} from any "
        "machine that has it, or pass the folder that holds it as data_home (--data-home)."
    )


def _extract(archive: Path, folder: Path, members: Sequence[RemoteFile], *, verify: bool) -> None:
    """Extract ``members`` (by base name) from the zip file ``archive`` into ``folder``."""
    try:
        with zipfile.ZipFile(archive) as zip_file:
            by_name = {Path(info.filename).name: info for info in zip_file.infolist()}
            for remote in members:
                if remote.filename not in by_name:
                    raise OSError(f"{archive} does not contain {remote.filename}.")
                with zip_file.open(by_name[remote.filename]) as stream:
                    _save_verified(
                        stream,
                        folder / remote.filename,
                        remote.sha256 if verify else None,
                        source=f"{archive}:{remote.filename}",
                    )
    except zipfile.BadZipFile as error:
        raise OSError(f"{archive} is not a valid zip file ({error}); delete it.") from error


def _save_verified(stream: BinaryIO, destination: Path, sha256: str | None, *, source: str) -> None:
    """Copy ``stream`` to ``destination`` atomically, checking its SHA-256 if given."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
    )
    try:
        digest = hashlib.sha256()
        with os.fdopen(descriptor, "wb") as output:
            for chunk in iter(lambda: stream.read(_CHUNK_SIZE), b""):
                digest.update(chunk)
                output.write(chunk)
        if sha256 is not None:
            _compare_sha256(source, digest.hexdigest(), sha256)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
