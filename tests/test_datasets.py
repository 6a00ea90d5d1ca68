import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sk_conse.datasets import (
    FASHION_MNIST_CLASSES,
    load_fashion_mnist,
    load_image_folder,
)

FASHION_HOME = Path("/usr/share/datasets/fashion-mnist")
CIFAR_SAMPLE = Path(__file__).resolve().parents[2] / "shared/data/cifar10-sample"

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


@pytest.mark.skipif(not CIFAR_SAMPLE.is_dir(), reason="CIFAR-10 sample not present")
def test_image_folder_real_cifar10_sample():
    data = load_image_folder(CIFAR_SAMPLE, max_per_class=20)
    assert data.images.shape == (200, 32, 32, 3)
    assert data.target_names.tolist() == [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    np.testing.assert_array_equal(np.unique(data.target, return_counts=True)[1], 20)
    # Real photos use the whole range of colours.
    assert data.images.std() > 30


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


@pytest.mark.skipif(not CIFAR_SAMPLE.is_dir(), reason="CIFAR-10 sample not present")
def test_image_folder_real_cifar10_indices():
    # The sample holds the first 100 test images of each class.
    tail = load_image_folder(CIFAR_SAMPLE, indices=slice(90, 100))
    assert tail.images.shape == (100, 32, 32, 3)
    with pytest.raises(ValueError, match="class 'airplane' has 100 images"):
        load_image_folder(CIFAR_SAMPLE, indices=slice(200, 300))
