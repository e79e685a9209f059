"""UJI Pen Characters (UCI datasets 160 and 177), rendered to greyscale images.

The samples are online handwriting: strokes of integer (x, y) pen positions,
x to the right and y downwards. Writers are named by acquisition site and
number, such as ``"UJI_W01"`` or ``"UPV_W17"``. UPV-site tablets record 152
units per millimetre and UJI-site ones 100, so UPV coordinates are divided by
1.52: all strokes returned are in units of 0.01 mm.
"""

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.utils import Bunch

from ._fetch import RemoteFile, explain_permission_errors, fetch_files, find_dataset_folder
from ._render import render_strokes
from ._split import add_stratified_split

__all__ = ["load_ujipen", "load_ujipen_v1", "load_ujipen_v2_digits"]

_UPV_UNITS_PER_UJI_UNIT = 1.52
# UCI dataset 177: writers W01-W11 (1st phase) and W12-W16 (2nd phase) wrote at
# UJI, writers W17-W60 at UPV.
_N_UJI_WRITERS = 16

_V2_FILE = RemoteFile(
    "ujipenchars2.txt", "cc56f72f8477e763dd06a44746ba05a679e9232468aac93b3a7aad46a0300d61"
)
_V2_ARCHIVE = RemoteFile(
    "uji+pen+characters+version+2.zip",
    "0881b522911b99d9922820289441b50fd3d307f71cd7f9cc70e86872424a5f90",
    ("https://archive.ics.uci.edu/static/public/177/uji+pen+characters+version+2.zip",),
)
_V1_FILES = tuple(
    RemoteFile(f"UJIpenchars-w{number:02d}", sha256)
    for number, sha256 in enumerate(
        [
            "fdbaac66233c05fbf685a977807ec7555a8753d9c20702b40ac99f3e1fb635f6",
            "d576a82ec0ddd72456051437cd5818e357e00df6f224a78236a10348d1ee9cbd",
            "f4f8ce957dac7f67cda197f2bfa2ef8e8cb7ce8bdfd1f6a298d0f0f9f580e1cc",
            "ff40fe0cfa9b0a1bd5a23971978f71b0b5f212d2bce1662551c651f597996256",
            "6aacaad8bc19efec531ef8cb9cbf93deac4ddc6547a7177f5004bf7430b2e6c7",
            "3a96f361394cb208ac6182bb9c513edca42332473fe71fda8aeb4ebe4ab7e6be",
            "e1e42923f74924b70455803741596bd5e387e60c1e111ff289bc2606bd82f855",
            "b06b620c24df8e25179dac8e65b812086891d0909e767f37e0b0218a8a2f7528",
            "7d7c0d6a77f66f26820605a679adb27e4eeafc93a42f454d9ec1bb50bb381d21",
            "84fbc105f23a11dd5edb819af883be76b09a0ae1535ea04141c20c2b97b27e4e",
            "93d341a429b55936fc975ba9beff9049352563935d16696878e988513fe1a99d",
        ],
        start=1,
    )
)
_V1_ARCHIVE = RemoteFile(
    "uji+pen+characters.zip",
    "06e484103d21ead80ec7675059d3ffe66f39f51bfcb9c77a00fbbfb1c85546dc",
    ("https://archive.ics.uci.edu/static/public/160/uji+pen+characters.zip",),
)
_DIGITS_FILE = RemoteFile(
    "ujipenchars2_digits.json", "e09d00763f0ff33a98f5e2d14b3140c41423b27497af543c9cef4cdc1f3edc31"
)

_V2_SAMPLE_ID = re.compile(
    r"(?P<split>trn|tst)_(?P<site>UJI|UPV)_W(?P<writer>\d+)-(?P<session>\d+)"
)
_V1_SEGMENT = re.compile(r'\.SEGMENT CHARACTER [\d-]+ \S+ "(?P<label>.+)"')
_V1_FILE_NAME = re.compile(r"UJIpenchars-w(?P<writer>\d+)")

_SPLIT_DESCR = """
Split: ``X_train``/``y_train`` (50 %), ``X_val``/``y_val`` (5 %) and
``X_test``/``y_test`` (45 %), stratified by class with ``random_state``, as in
the paper; ``train_index``, ``val_index`` and ``test_index`` locate them. Use
``writer`` for writer-independent splits instead.
"""
_CITATION = """
F. Prat, M. J. Castro, D. Llorens, A. Marzal and J. M. Vilar, UJI Pen
Characters (Version 2), UCI Machine Learning Repository, 2009,
doi:10.24432/C5FG8S (CC BY 4.0). D. Llorens et al., "The UJIpenchars database:
a pen-based database of isolated handwritten characters", LREC 2008.
"""
_V2_DESCR = (
    """\
UJI Pen Characters, version 2
-----------------------------

11,640 isolated handwritten characters: 60 writers x 97 characters x 2
sessions (the 52 ASCII letters, 14 Spanish accented letters, 10 digits and 21
punctuation and other signs), rendered from the pen strokes. Writers W01-W16
wrote at UJI and W17-W60 at UPV; the dataset's own writer-independent split
(``writer_split``) has 40 "trn" and 20 "tst" writers.
"""
    + _SPLIT_DESCR
    + _CITATION
)
_V1_DESCR = (
    """\
UJI Pen Characters (version 1)
------------------------------

1,364 isolated handwritten characters: 11 writers (UJI_W01-UJI_W11) x 62
characters (a-z, A-Z, 0-9, case kept) x 2 sessions, rendered from the pen
strokes. These are the first-phase samples of version 2. The original task
merges cases (and o, O, 0) into 35 classes, tested leaving one writer out.
"""
    + _SPLIT_DESCR
    + _CITATION
)
_DIGITS_DESCR = (
    """\
UJI Pen Characters, version 2, digits only
------------------------------------------

1,200 handwritten digits: 60 writers x 10 digits x 2 sessions, from a JSON
copy of the version 2 file that kept only the digits, in file order, without
writer names. Within each digit, entries 2k and 2k+1 are writer k+1's two
sessions. The first 11 writers are identical to version 1's; the first 16
are taken to be the UJI-site writers (UCI's description; their coordinates
also span the smaller UJI range) and the others UPV-site writers, numbered in
file order. The dataset's trn/tst writer split is not recorded in this file.
"""
    + _SPLIT_DESCR
    + _CITATION
)


class _Sample(NamedTuple):
    label: str
    writer: str
    session: int
    strokes: list[np.ndarray]
    writer_split: str | None = None


@explain_permission_errors
def load_ujipen(
    data_home: str | os.PathLike | None = None,
    *,
    image_size: int = 70,
    download_if_missing: bool = True,
    verify: bool = True,
    random_state: int | np.random.RandomState | None = 0,
) -> Bunch:
    """Load UJI Pen Characters version 2 (97 classes) as images.

    ``ujipenchars2.txt`` is looked for in ``data_home/ujipen/v2``, then in
    ``data_home/ujipen`` and ``data_home``, where UCI's zip archive is also
    accepted; if neither is found, the archive is downloaded into
    ``data_home/ujipen/v2`` and the text file extracted from it.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data folder; see :func:`get_data_home`.
    image_size : int, default=70
        Height and width of the images; see :func:`render_strokes`.
    download_if_missing : bool, default=True
        If False, raise an OSError instead of downloading missing files.
    verify : bool, default=True
        Whether to check the SHA-256 of the files found on disk.
    random_state : int, RandomState instance or None, default=0
        Controls the stratified train / validation / test split.

    Returns
    -------
    dataset : Bunch
        Dictionary-like object with the following attributes.

        images : ndarray of shape (11640, image_size, image_size), dtype float32
            The rendered characters, ink 1 and background 0.
        target : ndarray of shape (11640,), dtype str
            The character written.
        target_names : ndarray of shape (97,), dtype str
            The sorted classes.
        writer : ndarray of shape (11640,), dtype str
            The writer, such as ``"UJI_W01"`` or ``"UPV_W17"``.
        session : ndarray of shape (11640,), dtype int
            The writer's session, 1 or 2.
        writer_split : ndarray of shape (11640,), dtype str
            The dataset's own writer split, ``"trn"`` or ``"tst"``.
        strokes : list of list of ndarray of shape (n_points, 2)
            The strokes of each sample, in units of 0.01 mm.
        X_train, y_train, X_val, y_val, X_test, y_test : ndarray
            The stratified 50 % / 5 % / 45 % split (copies of the rows of
            ``images`` and ``target``).
        train_index, val_index, test_index : ndarray of int
            The rows of each part.
        DESCR : str
            Description of the dataset.

    Raises
    ------
    OSError
        If the file is missing and cannot be downloaded, or fails its checksum;
        a PermissionError if a file or folder cannot be read.
    ValueError
        If the file is malformed; the message gives the file and line.
    """
    folder = find_dataset_folder(data_home, "ujipen/v2", [_V2_FILE.filename, _V2_ARCHIVE.filename])
    (path,) = fetch_files(
        folder,
        [_V2_FILE],
        archive=_V2_ARCHIVE,
        download_if_missing=download_if_missing,
        verify=verify,
    )
    samples = _read_ujipen_v2(path)
    dataset = _make_dataset(samples, _V2_DESCR, image_size, random_state)
    dataset.writer_split = np.array([sample.writer_split for sample in samples])
    return dataset


@explain_permission_errors
def load_ujipen_v1(
    data_home: str | os.PathLike | None = None,
    *,
    image_size: int = 70,
    download_if_missing: bool = True,
    verify: bool = True,
    random_state: int | np.random.RandomState | None = 0,
) -> Bunch:
    """Load UJI Pen Characters version 1 (62 classes, 11 writers) as images.

    The eleven files ``UJIpenchars-w01`` ... ``UJIpenchars-w11`` are looked for
    in ``data_home/ujipen/v1``, then in ``data_home/ujipen`` and ``data_home``,
    where UCI's zip archive is also accepted; if neither is found, the archive
    is downloaded into ``data_home/ujipen/v1`` and the files extracted.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data folder; see :func:`get_data_home`.
    image_size : int, default=70
        Height and width of the images; see :func:`render_strokes`.
    download_if_missing : bool, default=True
        If False, raise an OSError instead of downloading missing files.
    verify : bool, default=True
        Whether to check the SHA-256 of the files found on disk.
    random_state : int, RandomState instance or None, default=0
        Controls the stratified train / validation / test split.

    Returns
    -------
    dataset : Bunch
        Dictionary-like object with the attributes of :func:`load_ujipen`
        except ``writer_split`` (all these writers are "trn" writers), for
        1,364 samples of 62 classes (a-z, A-Z, 0-9) by writers ``"UJI_W01"``
        to ``"UJI_W11"``.

    Raises
    ------
    OSError
        If files are missing and cannot be downloaded, or fail their checksum;
        a PermissionError if a file or folder cannot be read.
    ValueError
        If a file is malformed; the message gives the file and line.
    """
    names = [file.filename for file in _V1_FILES] + [_V1_ARCHIVE.filename]
    folder = find_dataset_folder(data_home, "ujipen/v1", names)
    paths = fetch_files(
        folder,
        _V1_FILES,
        archive=_V1_ARCHIVE,
        download_if_missing=download_if_missing,
        verify=verify,
    )
    samples = [sample for path in paths for sample in _read_ujipen_v1(path)]
    return _make_dataset(samples, _V1_DESCR, image_size, random_state)


@explain_permission_errors
def load_ujipen_v2_digits(
    data_home: str | os.PathLike | None = None,
    *,
    image_size: int = 70,
    verify: bool = True,
    random_state: int | np.random.RandomState | None = 0,
) -> Bunch:
    """Load the digits of UJI Pen Characters version 2 from a local JSON copy.

    The file ``ujipenchars2_digits.json`` (``{"rawData": {"0": [sample, ...],
    ...}}``, a sample being a list of strokes of ``[x, y]`` points) is looked
    for in ``data_home/ujipen/v2_digits_subset``, then in ``data_home/ujipen``
    and ``data_home``. There is no public download for it.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data folder; see :func:`get_data_home`.
    image_size : int, default=70
        Height and width of the images; see :func:`render_strokes`.
    verify : bool, default=True
        Whether to check the SHA-256 of the file.
    random_state : int, RandomState instance or None, default=0
        Controls the stratified train / validation / test split.

    Returns
    -------
    dataset : Bunch
        Dictionary-like object with the attributes of :func:`load_ujipen`
        except ``writer_split``, for 1,200 samples of the 10 digits (as the
        strings ``"0"`` to ``"9"``).

    Notes
    -----
    The file does not name writers. Entries ``2k`` and ``2k + 1`` of each digit
    are writer ``k + 1``'s sessions 1 and 2; that the first 11 writers are
    UJI_W01-UJI_W11 is verified against version 1. Writers 1-16 are taken to be
    the UJI-site writers and 17-60 the UPV-site ones (whose coordinates are
    divided by 1.52): UCI's description lists 16 UJI writers, first, and the
    coordinate ranges agree, but the UPV writer numbers assume file order.

    Raises
    ------
    OSError
        If the file is missing or fails its checksum;
        a PermissionError if a file or folder cannot be read.
    ValueError
        If the file is not in the expected format.
    """
    folder = find_dataset_folder(data_home, "ujipen/v2_digits_subset", [_DIGITS_FILE.filename])
    (path,) = fetch_files(folder, [_DIGITS_FILE], verify=verify)
    return _make_dataset(_read_ujipen_v2_digits(path), _DIGITS_DESCR, image_size, random_state)


def _make_dataset(
    samples: list[_Sample],
    descr: str,
    image_size: int,
    random_state: int | np.random.RandomState | None,
) -> Bunch:
    """Render ``samples`` and split them into a Bunch."""
    strokes = [sample.strokes for sample in samples]
    target = np.array([sample.label for sample in samples])
    dataset = Bunch(
        images=np.stack([render_strokes(sample, image_size) for sample in strokes]),
        target=target,
        target_names=np.unique(target),
        writer=np.array([sample.writer for sample in samples]),
        session=np.array([sample.session for sample in samples]),
        strokes=strokes,
        DESCR=descr,
    )
    return add_stratified_split(dataset, random_state)


def _writer_name(site: str, number: int) -> str:
    return f"{site}_W{number:02d}"


def _to_uji_units(points: np.ndarray, site: str) -> np.ndarray:
    return points / _UPV_UNITS_PER_UJI_UNIT if site == "UPV" else points


def _read_ujipen_v2(path: Path) -> list[_Sample]:
    """Parse the ``ujipenchars2.txt`` format.

    Each sample is a ``WORD <character> <trn|tst>_<UJI|UPV>_W<writer>-<session>``
    line, then ``NUMSTROKES <n>``, then n lines ``POINTS <k> # x1 y1 ... xk yk``.
    Blank lines and lines starting with ``//`` are ignored.
    """
    with open(path, encoding="utf-8-sig") as stream:
        lines = (line for line in _tokenized_lines(stream) if not line[1][0].startswith("//"))
        # Each record reads its NUMSTROKES and POINTS lines from the same iterator.
        try:
            samples = [_read_v2_record(path, number, tokens, lines) for number, tokens in lines]
        except UnicodeDecodeError as error:
            raise _decode_error(path, error) from error
    return _require_samples(path, samples)


def _read_v2_record(path: Path, number: int, tokens: list[str], lines) -> _Sample:
    """Parse one sample of ``ujipenchars2.txt`` from its WORD line onwards."""
    sample_id = _V2_SAMPLE_ID.fullmatch(tokens[2]) if len(tokens) == 3 else None
    if tokens[0] != "WORD" or sample_id is None:
        raise _format_error(
            path,
            number,
            "expected 'WORD <character> <trn|tst>_<UJI|UPV>_W<writer>-<session>'",
            tokens,
        )
    label, record = tokens[1], f"the record of line {number} ({' '.join(tokens)})"
    number, tokens = _next_line(path, lines, record)
    if len(tokens) != 2 or tokens[0] != "NUMSTROKES" or not tokens[1].isdigit():
        raise _format_error(path, number, f"expected 'NUMSTROKES <n>' in {record}", tokens)
    n_strokes = int(tokens[1])
    strokes = []
    for stroke_number in range(1, n_strokes + 1):
        number, tokens = _next_line(path, lines, record)
        if len(tokens) < 3 or tokens[0] != "POINTS" or tokens[2] != "#":
            raise _format_error(
                path,
                number,
                f"{record} declares {n_strokes} strokes; expected 'POINTS <k> # x1 y1 ...' "
                f"for stroke {stroke_number}",
                tokens,
            )
        strokes.append(_parse_points(path, number, tokens))
    site = sample_id["site"]
    return _Sample(
        label=label,
        writer=_writer_name(site, int(sample_id["writer"])),
        session=int(sample_id["session"]),
        strokes=[_to_uji_units(stroke, site) for stroke in strokes],
        writer_split=sample_id["split"],
    )


def _next_line(path: Path, lines, record: str) -> tuple[int, list[str]]:
    line = next(lines, None)
    if line is None:
        raise ValueError(f"{path}: the file ends in the middle of {record}.")
    return line


def _parse_points(path: Path, number: int, tokens: list[str]) -> np.ndarray:
    """Parse ``POINTS <k> # x1 y1 ... xk yk`` into an array of shape (k, 2)."""
    try:
        n_points = int(tokens[1])
        coordinates = np.array([int(token) for token in tokens[3:]], dtype=float)
    except ValueError:
        raise _format_error(
            path, number, "expected integers in 'POINTS <k> # x1 y1 ...'", tokens
        ) from None
    if n_points < 1 or len(coordinates) != 2 * n_points:
        raise _format_error(
            path,
            number,
            f"POINTS declares {n_points} points, so expected {2 * n_points} coordinates, "
            f"got {len(coordinates)}",
            tokens,
        )
    return coordinates.reshape(n_points, 2)


def _read_ujipen_v1(path: Path) -> list[_Sample]:
    """Parse one ``UJIpenchars-wNN`` file of version 1 (a UNIPEN-like format).

    Each sample starts with ``.SEGMENT CHARACTER <id or id-id> ? "<char>"``,
    followed by strokes: ``.PEN_DOWN``, one ``x y`` line per point, ``.PEN_UP``.
    Other lines starting with ``.`` (``.COMMENT``, ``.DT``...) are ignored.
    """
    file_name = _V1_FILE_NAME.fullmatch(path.name)
    if file_name is None:
        raise ValueError(f"{path}: expected a file named 'UJIpenchars-w<writer number>'.")
    writer = _writer_name("UJI", int(file_name["writer"]))
    preamble, segments = [], []  # segments: (line number, .SEGMENT tokens, following lines)
    with open(path, encoding="ascii") as stream:
        try:
            for number, tokens in _tokenized_lines(stream):
                if tokens[0] == ".SEGMENT":
                    segments.append((number, tokens, []))
                else:
                    (segments[-1][2] if segments else preamble).append((number, tokens))
        except UnicodeDecodeError as error:
            raise _decode_error(path, error) from error
    if _parse_v1_strokes(path, preamble):
        raise ValueError(f"{path}: strokes precede the first .SEGMENT line.")
    samples, sessions = [], Counter()
    for number, tokens, body in segments:
        segment = _V1_SEGMENT.fullmatch(" ".join(tokens))
        if segment is None:
            raise _format_error(
                path, number, "expected '.SEGMENT CHARACTER <id> ? \"<char>\"'", tokens
            )
        strokes = _parse_v1_strokes(path, body)
        if not strokes:
            raise _format_error(path, number, "this sample has no strokes", tokens)
        label = segment["label"]
        sessions[label] += 1
        samples.append(_Sample(label, writer, sessions[label], strokes))
    return _require_samples(path, samples)


def _parse_v1_strokes(path: Path, lines: list[tuple[int, list[str]]]) -> list[np.ndarray]:
    """Parse the ``.PEN_DOWN`` / ``x y`` / ``.PEN_UP`` strokes among ``lines``."""
    strokes, points = [], None
    for number, tokens in lines:
        if tokens[0] == ".PEN_DOWN" and points is None:
            points = []
        elif tokens[0] == ".PEN_UP" and points:
            strokes.append(np.array(points, dtype=float))
            points = None
        elif tokens[0] in (".PEN_DOWN", ".PEN_UP"):
            raise _format_error(path, number, "expected .PEN_DOWN, points, then .PEN_UP", tokens)
        elif tokens[0].startswith("."):
            continue
        elif points is None or len(tokens) != 2 or not all(_is_integer(token) for token in tokens):
            raise _format_error(
                path, number, "expected integer coordinates 'x y' after .PEN_DOWN", tokens
            )
        else:
            points.append([int(tokens[0]), int(tokens[1])])
    if points is not None:
        number, tokens = lines[-1]
        raise _format_error(path, number, "a stroke misses its .PEN_UP", tokens)
    return strokes


def _is_integer(token: str) -> bool:
    return token.lstrip("-").isdigit()


def _tokenized_lines(stream):
    """Yield (line number, tokens) for the non-blank lines of ``stream``."""
    for number, line in enumerate(stream, start=1):
        tokens = line.split()
        if tokens:
            yield number, tokens


def _read_ujipen_v2_digits(path: Path) -> list[_Sample]:
    """Parse the JSON digits file; see :func:`load_ujipen_v2_digits`."""
    try:
        with open(path, encoding="utf-8") as stream:
            raw = json.load(stream)["rawData"]
        digits = sorted(raw)
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"{path} is not a JSON object with a 'rawData' object of digits "
            f"({type(error).__name__}: {error})."
        ) from None
    samples = []
    for digit in digits:
        for index, sample in enumerate(raw[digit]):
            try:
                strokes = [np.array(stroke, dtype=float) for stroke in sample]
            except (ValueError, TypeError):
                strokes = []
            if not strokes or any(
                s.ndim != 2 or s.shape[1:] != (2,) or not len(s) for s in strokes
            ):
                raise ValueError(
                    f"{path}: rawData[{digit!r}][{index}] is not a non-empty list of strokes "
                    "of [x, y] points."
                )
            writer_number = index // 2 + 1
            site = "UJI" if writer_number <= _N_UJI_WRITERS else "UPV"
            samples.append(
                _Sample(
                    label=digit,
                    writer=_writer_name(site, writer_number),
                    session=index % 2 + 1,
                    strokes=[_to_uji_units(stroke, site) for stroke in strokes],
                )
            )
    return _require_samples(path, samples)


def _require_samples(path: Path, samples: list[_Sample]) -> list[_Sample]:
    if not samples:
        raise ValueError(f"{path} contains no samples.")
    return samples


def _decode_error(path: Path, error: UnicodeDecodeError) -> ValueError:
    return ValueError(
        f"{path} is not a text file in {error.encoding} (byte {error.start}: {error.reason}): "
        "it is corrupted or not the dataset's file; replace it with a good copy."
    )


def _format_error(path: Path, number: int, message: str, tokens: list[str]) -> ValueError:
    return ValueError(f"{path}, line {number}: {message}; got {' '.join(tokens)!r}.")
