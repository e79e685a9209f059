"""Tests of vaeaug.paper.datasets; all offline (downloads are served from memory)."""

import gzip
import hashlib
import io
import json
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest

from vaeaug.paper.datasets import (
    get_data_home,
    load_mnist,
    load_ujipen,
    load_ujipen_v1,
    load_ujipen_v2_digits,
    render_strokes,
)
from vaeaug.paper.datasets._fetch import RemoteFile, fetch_files, find_dataset_folder
from vaeaug.paper.datasets.mnist import _read_idx
from vaeaug.paper.datasets.ujipen import _read_ujipen_v1, _read_ujipen_v2

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The real datasets: $VAEAUG_DATA, else ``shared/data`` beside the repository.
SHARED_DATA = next(
    (
        path
        for path in (
            Path(os.environ["VAEAUG_DATA"]) if os.environ.get("VAEAUG_DATA") else None,
            REPO_ROOT.parent / "shared" / "data",
        )
        if path is not None and path.is_dir()
    ),
    None,
)


def requires_shared(subfolder):
    present = SHARED_DATA is not None and (SHARED_DATA / subfolder).is_dir()
    return pytest.mark.skipif(not present, reason=f"shared data {subfolder} not available")


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --------------------------------------------------------------------------- data home


def test_get_data_home_argument_then_environment_then_default(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("VAEAUG_DATA", raising=False)
    assert get_data_home() == tmp_path / "vaeaug_data"
    monkeypatch.setenv("VAEAUG_DATA", str(tmp_path / "from_env"))
    assert get_data_home() == tmp_path / "from_env"
    assert get_data_home("~/given") == tmp_path / "given"
    assert not (tmp_path / "given").exists()  # nothing is created


def test_find_dataset_folder_prefers_subfolder_then_parents(tmp_path):
    assert find_dataset_folder(tmp_path, "ujipen/v1", ["a"]) == tmp_path / "ujipen" / "v1"
    (tmp_path / "a").touch()
    assert find_dataset_folder(tmp_path, "ujipen/v1", ["a"]) == tmp_path
    (tmp_path / "ujipen").mkdir()
    (tmp_path / "ujipen" / "a").touch()
    assert find_dataset_folder(tmp_path, "ujipen/v1", ["a"]) == tmp_path / "ujipen"


# --------------------------------------------------------------------------- downloads


class _BrokenStream(io.BytesIO):
    """A response that delivers ``n_bytes`` bytes, then loses the connection."""

    def __init__(self, content: bytes, n_bytes: int):
        super().__init__(content)
        self.n_bytes = n_bytes

    def read(self, size=-1):
        if self.tell() >= self.n_bytes:
            raise ConnectionResetError("connection reset by peer")
        return super().read(self.n_bytes - self.tell())


@pytest.fixture
def served(monkeypatch):
    """Replace urlopen: map each URL to bytes, a response factory or an exception."""
    responses, requested = {}, []

    def urlopen(url, timeout=None):
        requested.append(url)
        response = responses.get(url, urllib.error.URLError("no route to host"))
        if isinstance(response, Exception):
            raise response
        return response() if callable(response) else io.BytesIO(response)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return responses, requested


PAYLOAD = b"some dataset content\n" * 100
REMOTE = RemoteFile(
    "data.bin", sha256(PAYLOAD), ("https://a.example/data.bin", "https://b.example/data.bin")
)


def test_download_falls_back_to_the_next_mirror(served, tmp_path):
    responses, requested = served
    responses["https://b.example/data.bin"] = PAYLOAD
    (path,) = fetch_files(tmp_path / "cache", [REMOTE])
    assert path.read_bytes() == PAYLOAD
    assert requested == list(REMOTE.urls)
    assert sorted(p.name for p in path.parent.iterdir()) == ["data.bin"]
    fetch_files(tmp_path / "cache", [REMOTE])  # cached: no new request
    assert len(requested) == 2


def test_interrupted_download_leaves_no_file(served, tmp_path):
    responses, _ = served
    for url in REMOTE.urls:
        responses[url] = lambda: _BrokenStream(PAYLOAD, len(PAYLOAD) // 2)
    with pytest.raises(OSError, match="Could not download data.bin") as error:
        fetch_files(tmp_path, [REMOTE])
    assert all(url in str(error.value) for url in REMOTE.urls)
    assert "connection reset" in str(error.value)
    assert list(tmp_path.iterdir()) == []


class _StoppedByTheUser(io.BytesIO):
    """A response during which the user presses Ctrl-C."""

    def read(self, size=-1):
        if self.tell():
            raise KeyboardInterrupt
        return super().read(100)


def test_download_stopped_by_the_user_leaves_no_file(served, tmp_path):
    responses, requested = served
    responses[REMOTE.urls[0]] = lambda: _StoppedByTheUser(PAYLOAD)
    with pytest.raises(KeyboardInterrupt):
        fetch_files(tmp_path / "cache", [REMOTE])
    assert list((tmp_path / "cache").iterdir()) == []
    assert requested == [REMOTE.urls[0]]  # not taken for a bad mirror


def test_unwritable_folder_stops_the_download_at_once(served, tmp_path, monkeypatch):
    responses, requested = served
    responses.update({url: PAYLOAD for url in REMOTE.urls})

    def refuse(*args, dir=None, **kwargs):
        raise PermissionError(13, "Permission denied", str(dir))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError, match="Permission denied"):
        fetch_files(tmp_path, [REMOTE])
    assert requested == [REMOTE.urls[0]]  # the folder, not the mirror, is at fault
    assert list(tmp_path.iterdir()) == []


def test_download_with_wrong_checksum_is_rejected_and_removed(served, tmp_path):
    responses, _ = served
    responses[REMOTE.urls[0]] = PAYLOAD[:-1]
    with pytest.raises(OSError) as error:
        fetch_files(tmp_path, [REMOTE])
    message = str(error.value)
    assert "data.bin" in message and REMOTE.sha256 in message
    assert sha256(PAYLOAD[:-1]) in message
    assert list(tmp_path.iterdir()) == []


def test_bad_mirror_content_falls_back_to_good_mirror(served, tmp_path):
    responses, _ = served
    responses.update({REMOTE.urls[0]: b"<html>moved</html>", REMOTE.urls[1]: PAYLOAD})
    (path,) = fetch_files(tmp_path, [REMOTE])
    assert path.read_bytes() == PAYLOAD


def test_missing_files_without_download_name_folder_and_files(served, tmp_path):
    _, requested = served
    other = RemoteFile("other.bin", "0" * 64, ("https://a.example/other.bin",))
    with pytest.raises(OSError, match="download_if_missing=True") as error:
        fetch_files(tmp_path, [REMOTE, other], download_if_missing=False)
    assert str(tmp_path) in str(error.value)
    assert "data.bin" in str(error.value) and "other.bin" in str(error.value)
    assert requested == []


def test_file_without_public_download_raises(tmp_path):
    with pytest.raises(OSError, match="no public download") as error:
        fetch_files(tmp_path, [RemoteFile("local.json", "0" * 64)])
    assert "local.json" in str(error.value) and str(tmp_path) in str(error.value)


def test_corrupt_local_file_is_reported_unless_verify_is_false(tmp_path):
    (tmp_path / "data.bin").write_bytes(PAYLOAD[:100])  # truncated
    with pytest.raises(OSError, match="Checksum mismatch") as error:
        fetch_files(tmp_path, [REMOTE], download_if_missing=False)
    message = str(error.value)
    assert str(tmp_path / "data.bin") in message
    assert REMOTE.sha256 in message and sha256(PAYLOAD[:100]) in message
    assert fetch_files(tmp_path, [REMOTE], verify=False) == [tmp_path / "data.bin"]


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_files_are_extracted_from_a_downloaded_archive(served, tmp_path):
    responses, _ = served
    archive_bytes = _zip_bytes({"folder/data.bin": PAYLOAD})
    archive = RemoteFile("data.zip", sha256(archive_bytes), ("https://a.example/data.zip",))
    responses[archive.urls[0]] = archive_bytes
    member = RemoteFile("data.bin", REMOTE.sha256)
    (path,) = fetch_files(tmp_path, [member], archive=archive)
    assert path.read_bytes() == PAYLOAD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin", "data.zip"]


def test_archive_without_the_member_raises(tmp_path):
    archive_bytes = _zip_bytes({"readme.txt": b"hello"})
    (tmp_path / "data.zip").write_bytes(archive_bytes)
    archive = RemoteFile("data.zip", sha256(archive_bytes))
    with pytest.raises(OSError, match="does not contain data.bin"):
        fetch_files(tmp_path, [RemoteFile("data.bin", REMOTE.sha256)], archive=archive)


# --------------------------------------------------------------------------- MNIST


def _write_idx(path: Path, array: np.ndarray, magic: int) -> None:
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    with gzip.open(path, "wb") as stream:
        stream.write(header + array.astype(np.uint8).tobytes())


def _write_mnist(folder: Path, n_train: int, n_test: int, rng) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for part, n in (("train", n_train), ("t10k", n_test)):
        _write_idx(folder / f"{part}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)), 2051)
        _write_idx(folder / f"{part}-labels-idx1-ubyte.gz", np.arange(n) % 10, 2049)


def test_read_idx_round_trip(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28)).astype(np.uint8)
    _write_idx(tmp_path / "images.gz", images, 2051)
    read = _read_idx(tmp_path / "images.gz", 2051)
    np.testing.assert_array_equal(read, images)
    assert read.dtype == np.uint8 and read.flags.writeable


@pytest.mark.parametrize(
    "content, message",
    [
        (
            gzip.compress(np.array([2049, 2], ">u4").tobytes() + b"\0\0"),
            "magic number 2049, expected 2051",
        ),
        (gzip.compress(np.array([2051, 2, 2, 2], ">u4").tobytes() + b"\0" * 7), "implies 24"),
        (gzip.compress(np.array([2051, 1], ">u4").tobytes()), "too short"),
        (b"not gzip at all", "not a valid gzip file"),
        (
            gzip.compress(np.array([2051, 1, 2, 2], ">u4").tobytes() + b"\0" * 4)[:-12],
            "not a valid gzip file",
        ),
    ],
    ids=["wrong-magic", "wrong-size", "short-header", "not-gzip", "truncated-gzip"],
)
def test_read_idx_rejects_malformed_files(tmp_path, content, message):
    path = tmp_path / "bad-idx3-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        _read_idx(path, 2051)
    assert str(path) in str(error.value)


def test_load_mnist_splits_local_files(tmp_path):
    _write_mnist(tmp_path / "mnist", n_train=5003, n_test=4, rng=np.random.default_rng(0))
    mnist = load_mnist(tmp_path, download_if_missing=False, verify=False)
    assert mnist.images.shape == (5007, 28, 28) and mnist.images.dtype == np.uint8
    assert mnist.X_train.shape == (3, 28, 28) and mnist.X_val.shape == (5000, 28, 28)
    assert mnist.X_test.shape == (4, 28, 28)
    np.testing.assert_array_equal(mnist.X_val, mnist.images[:5000])
    np.testing.assert_array_equal(mnist.X_train, mnist.images[5000:5003])
    np.testing.assert_array_equal(mnist.y_test, [0, 1, 2, 3])
    np.testing.assert_array_equal(mnist.y_train, [0, 1, 2])  # labels 5000..5002 mod 10
    assert np.shares_memory(mnist.X_train, mnist.images)


def test_load_mnist_checks_checksums_and_counts(tmp_path):
    rng = np.random.default_rng(0)
    _write_mnist(tmp_path, n_train=5003, n_test=4, rng=rng)
    with pytest.raises(OSError, match="Checksum mismatch") as error:
        load_mnist(tmp_path, download_if_missing=False)
    assert str(tmp_path / "train-images-idx3-ubyte.gz") in str(error.value)
    assert "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609" in str(error.value)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(5), 2049)
    with pytest.raises(ValueError, match="has 4 images but .* has 5 labels"):
        load_mnist(tmp_path, download_if_missing=False, verify=False)


def test_load_mnist_missing_files(tmp_path, served):
    with pytest.raises(OSError) as error:
        load_mnist(tmp_path, download_if_missing=False)
    message = str(error.value)
    assert str(tmp_path / "mnist") in message
    assert "train-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message


TRAIN_HISTOGRAM = [5444, 6179, 5470, 5638, 5307, 4987, 5417, 5715, 5389, 5454]
VAL_HISTOGRAM = [479, 563, 488, 493, 535, 434, 501, 550, 462, 495]
TEST_HISTOGRAM = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@requires_shared("mnist")
def test_real_mnist_from_environment_variable(monkeypatch):
    monkeypatch.setenv("VAEAUG_DATA", str(SHARED_DATA))
    mnist = load_mnist(download_if_missing=False)
    assert mnist.images.shape == (70000, 28, 28) and mnist.images.dtype == np.uint8
    assert mnist.X_train.shape == (55000, 28, 28)
    np.testing.assert_array_equal(np.bincount(mnist.y_train), TRAIN_HISTOGRAM)
    np.testing.assert_array_equal(np.bincount(mnist.y_val), VAL_HISTOGRAM)
    np.testing.assert_array_equal(np.bincount(mnist.y_test), TEST_HISTOGRAM)
    assert mnist.images.max() == 255 and mnist.images[:, 0, 0].max() == 0  # ink on black
    assert "MNIST" in mnist.DESCR


@requires_shared("mnist")
def test_real_mnist_folder_given_directly():
    mnist = load_mnist(SHARED_DATA / "mnist", download_if_missing=False)
    np.testing.assert_array_equal(np.bincount(mnist.y_test), TEST_HISTOGRAM)


# --------------------------------------------------------------------------- renderer


def test_render_strokes_output_format():
    image = render_strokes([[(0, 0), (30, 40), (60, 10)], [(5, 5)]])
    assert image.shape == (70, 70) and image.dtype == np.float32
    assert image.min() == 0 and image.max() == 1
    assert ((image > 0) & (image < 1)).any()  # anti-aliased edges
    assert render_strokes([[(0, 0), (1, 1)]], size=28).shape == (28, 28)


def test_horizontal_stroke_lights_the_middle_rows():
    image = render_strokes([[(100, 200), (300, 200)]], size=70, line_width=2, margin=5)
    assert np.all(image[34:36, 6:64] == 1)  # the line y = 35 runs between rows 34 and 35
    assert image[:33].sum() == 0 and image[37:].sum() == 0
    assert image[:, :4].sum() == 0 and image[:, 66:].sum() == 0


def test_render_keeps_aspect_ratio_and_centres():
    # An "L" 10 units wide and 40 high, away from the origin: scaled by 60 / 40.
    image = render_strokes([[(50, 0), (50, 40), (60, 40)]], size=70, line_width=2, margin=5)
    rows, cols = np.nonzero(image >= 0.5)
    assert np.ptp(rows) + 1 == pytest.approx(60 + 2, abs=1)  # plus the line width
    assert np.ptp(cols) + 1 == pytest.approx(15 + 2, abs=1)
    assert (rows.min() + rows.max()) / 2 == pytest.approx(34.5, abs=0.5)
    assert (cols.min() + cols.max()) / 2 == pytest.approx(34.5, abs=0.5)


def test_render_is_upright_and_not_mirrored():
    # y grows downwards: (0, 0) is drawn top left and (10, 5) bottom right. Scaled by
    # 50 / 10 and centred, they land at (x, y) = (10, 22.5) and (60, 47.5).
    image = render_strokes([[(0, 0)], [(10, 5)]], size=70, margin=10)
    assert image[22, 9:11].min() == 1 and image[47, 59:61].min() == 1
    assert image[47, 9:11].max() == 0 and image[22, 59:61].max() == 0


def test_single_point_renders_a_dot():
    image = render_strokes([[(7, 7)]], size=70, line_width=4)
    rows, cols = np.nonzero(image)
    assert image[34:36, 34:36].min() == 1
    assert np.ptp(rows) <= 6 and np.ptp(cols) <= 6
    assert image.sum() == pytest.approx(np.pi * 2**2, rel=0.3)


def test_pen_up_separates_strokes():
    image = render_strokes([[(0, 0), (10, 0)], [(0, 10), (10, 10)]], size=70, line_width=2)
    assert image[35, :].sum() == 0
    assert image[7].sum() > 0 and image[62].sum() > 0


@pytest.mark.parametrize(
    "strokes, kwargs, message",
    [
        ([], {}, "strokes is empty"),
        ([[(0, 0)], []], {}, "Stroke 1 has shape"),
        ([[0, 1, 2]], {}, "Stroke 0 has shape"),
        ([[(0, 0), (np.nan, 1)]], {}, "non-finite"),
        ([[(0, 0)]], {"margin": 35}, "margin"),
        ([[(0, 0)]], {"line_width": 0}, "line_width"),
    ],
)
def test_render_strokes_rejects_bad_input(strokes, kwargs, message):
    with pytest.raises(ValueError, match=message):
        render_strokes(strokes, **kwargs)


# --------------------------------------------------------------------------- UJIPEN v2

V2_TEXT = (
    "// UJI Pen Characters, version 2\r\n"
    "// ASCII char: a\r\n"
    "WORD a trn_UJI_W01-01\r\n"
    "  NUMSTROKES 2\r\n"
    "  POINTS 2 # 100 200 300 400\r\n"
    "  POINTS 1 # 150 250\r\n"
    "\r\n"
    "// Non-ASCII char: ntilde\r\n"
    "WORD ñ tst_UPV_W18-02\r\n"
    "  NUMSTROKES 1\r\n"
    "  POINTS 3 # 152 304 456 608 760 912\r\n"
)


def test_read_ujipen_v2(tmp_path):
    path = tmp_path / "ujipenchars2.txt"
    path.write_bytes(V2_TEXT.encode("utf-8-sig"))  # with a byte order mark
    first, second = _read_ujipen_v2(path)
    assert (first.label, first.writer, first.session, first.writer_split) == (
        "a",
        "UJI_W01",
        1,
        "trn",
    )
    np.testing.assert_array_equal(first.strokes[0], [[100, 200], [300, 400]])
    np.testing.assert_array_equal(first.strokes[1], [[150, 250]])
    assert (second.label, second.writer, second.session, second.writer_split) == (
        "ñ",
        "UPV_W18",
        2,
        "tst",
    )
    np.testing.assert_allclose(second.strokes[0], [[100, 200], [300, 400], [500, 600]])  # / 1.52


@pytest.mark.parametrize(
    "text, line, message",
    [
        (
            "WORD a trn_UJI_W01-01\nNUMSTROKES 2\nPOINTS 1 # 1 2\nWORD b trn_UJI_W01-01\n",
            4,
            "declares 2 strokes",
        ),
        (
            "WORD a trn_UJI_W01-01\nNUMSTROKES 1\nPOINTS 3 # 1 2 3 4\n",
            3,
            "declares 3 points, so expected 6",
        ),
        ("WORD a trn_UJI_W01-01\nNUMSTROKES 1\nPOINTS 1 # 1 x\n", 3, "expected integers"),
        ("WORD a trn_UJI_W01-01\nPOINTS 1 # 1 2\n", 2, "expected 'NUMSTROKES <n>'"),
        ("WORD a UJI_W01\nNUMSTROKES 1\nPOINTS 1 # 1 2\n", 1, "expected 'WORD <character>"),
        ("NUMSTROKES 1\n", 1, "expected 'WORD <character>"),
    ],
    ids=["too-few-strokes", "point-count", "not-integer", "no-numstrokes", "bad-id", "no-word"],
)
def test_read_ujipen_v2_rejects_malformed_records(tmp_path, text, line, message):
    path = tmp_path / "ujipenchars2.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as error:
        _read_ujipen_v2(path)
    assert f"{path}, line {line}:" in str(error.value)


@pytest.mark.parametrize("read", [_read_ujipen_v1, _read_ujipen_v2])
def test_readers_reject_files_without_samples(tmp_path, read):
    path = tmp_path / "UJIpenchars-w01"
    path.write_text("\n  \n", encoding="ascii")
    with pytest.raises(ValueError, match="contains no samples") as error:
        read(path)
    assert str(path) in str(error.value)


def test_read_ujipen_v2_rejects_truncated_file(tmp_path):
    path = tmp_path / "ujipenchars2.txt"
    path.write_text("WORD a trn_UJI_W01-01\nNUMSTROKES 2\nPOINTS 1 # 1 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="ends in the middle of the record of line 1") as error:
        _read_ujipen_v2(path)
    assert str(path) in str(error.value)


def _v2_text(labels: str, n_writers: int, rng) -> str:
    records = []
    for writer in range(1, n_writers + 1):
        split, site = ("trn" if writer % 3 else "tst"), ("UJI" if writer <= 4 else "UPV")
        for session in (1, 2):
            for label in labels:
                points = " ".join(str(value) for value in rng.integers(0, 1000, 8))
                records.append(
                    f"WORD {label} {split}_{site}_W{writer:02d}-{session:02d}\n"
                    f"  NUMSTROKES 1\n  POINTS 4 # {points}\n"
                )
    return "// test file\n" + "".join(records)


def test_load_ujipen_from_local_archive(tmp_path):
    text = _v2_text("abc", n_writers=20, rng=np.random.default_rng(0))
    folder = tmp_path / "ujipen" / "v2"
    folder.mkdir(parents=True)
    archive = _zip_bytes({"ujipenchars2.txt": text.encode("utf-8")})
    (folder / "uji+pen+characters+version+2.zip").write_bytes(archive)

    dataset = load_ujipen(tmp_path, image_size=20, download_if_missing=False, verify=False)
    assert (folder / "ujipenchars2.txt").read_text(encoding="utf-8") == text
    assert dataset.images.shape == (120, 20, 20) and dataset.images.dtype == np.float32
    assert list(dataset.target_names) == ["a", "b", "c"]
    assert set(dataset.writer_split) == {"trn", "tst"}
    assert dataset.writer[0] == "UJI_W01" and dataset.writer[-1] == "UPV_W20"
    assert len(dataset.train_index) == 60 and len(dataset.val_index) == 6
    assert len(dataset.test_index) == 54
    all_indices = np.concatenate([dataset.train_index, dataset.val_index, dataset.test_index])
    np.testing.assert_array_equal(np.sort(all_indices), np.arange(120))
    for part in ("train", "val", "test"):
        index = dataset[f"{part}_index"]
        np.testing.assert_array_equal(dataset[f"X_{part}"], dataset.images[index])
        np.testing.assert_array_equal(dataset[f"y_{part}"], dataset.target[index])
        _, counts = np.unique(dataset[f"y_{part}"], return_counts=True)
        assert np.ptp(counts) == 0  # stratified: as many of each class

    same = load_ujipen(tmp_path, image_size=20, verify=False)
    other = load_ujipen(tmp_path, image_size=20, verify=False, random_state=1)
    np.testing.assert_array_equal(same.train_index, dataset.train_index)
    assert not np.array_equal(other.train_index, dataset.train_index)


def test_load_ujipen_missing_file(tmp_path, served):
    with pytest.raises(OSError) as error:
        load_ujipen(tmp_path, download_if_missing=False)
    message = str(error.value)
    assert "ujipenchars2.txt" in message and "uji+pen+characters+version+2.zip" in message
    assert str(tmp_path / "ujipen" / "v2") in message


# --------------------------------------------------------------------------- UJIPEN v1

V1_TEXT = """\
.LEXICON "a" "b"
.COMMENT Class #01: [A] = { "a" , "A" }
.HIERARCHY CHARACTER

.SEGMENT CHARACTER 0 ? "a"
.COMMENT Class [A]

.PEN_DOWN
 10  20
 30  40
.PEN_UP
.DT 100
.PEN_DOWN
 50  60
.PEN_UP

.SEGMENT CHARACTER 1-2 ? "B"
.PEN_DOWN
 1 2
 3 4
.PEN_UP

.SEGMENT CHARACTER 3 ? "a"
.PEN_DOWN
 5 6
.PEN_UP
"""


def test_read_ujipen_v1(tmp_path):
    path = tmp_path / "UJIpenchars-w07"
    path.write_text(V1_TEXT, encoding="ascii")
    samples = _read_ujipen_v1(path)
    assert [(s.label, s.writer, s.session) for s in samples] == [
        ("a", "UJI_W07", 1),
        ("B", "UJI_W07", 1),
        ("a", "UJI_W07", 2),
    ]
    np.testing.assert_array_equal(samples[0].strokes[0], [[10, 20], [30, 40]])
    np.testing.assert_array_equal(samples[0].strokes[1], [[50, 60]])
    assert len(samples[1].strokes) == 1


@pytest.mark.parametrize(
    "text, line, message",
    [
        ('.SEGMENT CHARACTER 0 ? "a"\n.PEN_DOWN\n1 2\n', 3, "misses its .PEN_UP"),
        ('.SEGMENT CHARACTER 0 ? "a"\n1 2\n', 2, "after .PEN_DOWN"),
        ('.SEGMENT CHARACTER 0 ? "a"\n.PEN_DOWN\n1 2 3\n.PEN_UP\n', 3, "integer coordinates"),
        ('.SEGMENT CHARACTER 0 ? "a"\n.PEN_DOWN\n.PEN_UP\n', 3, ".PEN_DOWN, points, then"),
        ('.SEGMENT CHARACTER 0 ? "a"\n.COMMENT nothing\n', 1, "no strokes"),
        (".SEGMENT CHARACTER 0 ? a\n.PEN_DOWN\n1 2\n.PEN_UP\n", 1, ".SEGMENT CHARACTER"),
    ],
    ids=["no-pen-up", "no-pen-down", "three-numbers", "empty-stroke", "no-strokes", "no-quotes"],
)
def test_read_ujipen_v1_rejects_malformed_files(tmp_path, text, line, message):
    path = tmp_path / "UJIpenchars-w01"
    path.write_text(text, encoding="ascii")
    with pytest.raises(ValueError, match=message) as error:
        _read_ujipen_v1(path)
    assert f"{path}, line {line}:" in str(error.value)


def test_load_ujipen_v1_from_local_files(tmp_path):
    rng = np.random.default_rng(0)
    for writer in range(1, 12):
        segments = [
            f'.SEGMENT CHARACTER {index} ? "{label}"\n.PEN_DOWN\n'
            + "".join(f"{x} {y}\n" for x, y in rng.integers(0, 500, (3, 2)))
            + ".PEN_UP\n"
            for index, label in enumerate("xyzxyz")
        ]
        (tmp_path / f"UJIpenchars-w{writer:02d}").write_text("".join(segments), encoding="ascii")
    dataset = load_ujipen_v1(tmp_path, image_size=16, download_if_missing=False, verify=False)
    assert dataset.images.shape == (66, 16, 16)
    assert sorted(set(dataset.writer)) == [f"UJI_W{writer:02d}" for writer in range(1, 12)]
    assert np.bincount(dataset.session).tolist() == [0, 33, 33]
    assert len(dataset.X_train) == 33 and len(dataset.X_val) + len(dataset.X_test) == 33


# --------------------------------------------------------------------------- UJIPEN v2 digits


def test_load_ujipen_v2_digits_assigns_writers_and_scales_upv(tmp_path):
    rng = np.random.default_rng(0)
    raw = {digit: [rng.integers(0, 1000, (2, 5, 2)).tolist() for _ in range(36)] for digit in "01"}
    path = tmp_path / "ujipenchars2_digits.json"
    path.write_text(json.dumps({"rawData": raw}), encoding="utf-8")
    dataset = load_ujipen_v2_digits(tmp_path, image_size=16, verify=False)
    assert dataset.images.shape == (72, 16, 16)
    assert list(dataset.target_names) == ["0", "1"]
    assert dataset.writer[:4].tolist() == ["UJI_W01", "UJI_W01", "UJI_W02", "UJI_W02"]
    assert dataset.writer[31:36].tolist() == ["UJI_W16", "UPV_W17", "UPV_W17", "UPV_W18", "UPV_W18"]
    assert dataset.session[:4].tolist() == [1, 2, 1, 2]
    np.testing.assert_array_equal(dataset.strokes[31][0], raw["0"][31][0])
    np.testing.assert_allclose(dataset.strokes[32][0], np.array(raw["0"][32][0]) / 1.52)
    with pytest.raises(OSError, match="Checksum mismatch"):
        load_ujipen_v2_digits(tmp_path)


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1, 2]", "not a JSON object with a 'rawData'"),
        ('{"rawData": {"0": [[[1, 2]]', "not a JSON object with a 'rawData'"),
        ('{"rawData": {"0": [[[[1, 2]]], [[[1, 2, 3]]]]}}', r"rawData\['0'\]\[1\]"),
        ('{"rawData": {"0": [[]]}}', r"rawData\['0'\]\[0\]"),
    ],
    ids=["not-object", "truncated", "three-coordinates", "no-strokes"],
)
def test_load_ujipen_v2_digits_rejects_malformed_file(tmp_path, content, message):
    path = tmp_path / "ujipenchars2_digits.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as error:
        load_ujipen_v2_digits(tmp_path, verify=False)
    assert str(path) in str(error.value)


def test_load_ujipen_v2_digits_has_no_download(tmp_path):
    with pytest.raises(OSError, match="no public download") as error:
        load_ujipen_v2_digits(tmp_path)
    assert "ujipenchars2_digits.json" in str(error.value)


# --------------------------------------------------------------------------- real UJIPEN


@requires_shared("ujipen/v1")
def test_real_ujipen_v1():
    dataset = load_ujipen_v1(SHARED_DATA, download_if_missing=False)
    assert dataset.images.shape == (1364, 70, 70)
    assert len(dataset.target_names) == 62
    assert set("aA0zZ9") <= set(dataset.target_names)
    _, per_class = np.unique(dataset.target, return_counts=True)
    assert set(per_class) == {22}
    writers, per_writer = np.unique(dataset.writer, return_counts=True)
    assert len(writers) == 11 and set(per_writer) == {124}
    assert len(dataset.X_train) == 682 and len(dataset.X_val) + len(dataset.X_test) == 682
    assert 0 <= dataset.images.min() and dataset.images.max() == 1


@requires_shared("ujipen/v2_digits_subset")
def test_real_ujipen_v2_digits():
    dataset = load_ujipen_v2_digits(SHARED_DATA / "ujipen" / "v2_digits_subset")
    assert dataset.images.shape == (1200, 70, 70)
    assert dataset.target_names.tolist() == list("0123456789")
    _, per_class = np.unique(dataset.target, return_counts=True)
    assert set(per_class) == {120}
    assert len(set(dataset.writer)) == 60
    assert sum(writer.startswith("UJI") for writer in set(dataset.writer)) == 16
    # Once UPV coordinates are scaled, both sites write digits of similar size.
    heights = {
        site: np.median(
            [
                np.ptp(np.concatenate(strokes)[:, 1])
                for writer, strokes in zip(dataset.writer, dataset.strokes, strict=True)
                if writer.startswith(site)
            ]
        )
        for site in ("UJI", "UPV")
    }
    assert 0.8 < heights["UPV"] / heights["UJI"] < 1.25


@requires_shared("ujipen/v1")
@requires_shared("ujipen/v2_digits_subset")
def test_real_ujipen_v2_digits_first_writers_match_v1():
    digits = load_ujipen_v2_digits(SHARED_DATA, image_size=8)
    v1 = load_ujipen_v1(SHARED_DATA, image_size=8, download_if_missing=False)
    v1_samples = {
        (label, writer, session): strokes
        for label, writer, session, strokes in zip(
            v1.target, v1.writer, v1.session, v1.strokes, strict=True
        )
    }
    n_matched = 0
    for label, writer, session, strokes in zip(
        digits.target, digits.writer, digits.session, digits.strokes, strict=True
    ):
        if (label, writer, session) in v1_samples:
            expected = v1_samples[label, writer, session]
            assert all(map(np.array_equal, strokes, expected)) and len(strokes) == len(expected)
            n_matched += 1
    assert n_matched == 11 * 10 * 2
