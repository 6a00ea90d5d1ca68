"""Loaders for real image data.

- :func:`load_fashion_mnist` reads Fashion-MNIST from the idx files shipped by the
  Debian package ``dataset-fashion-mnist`` (70,000 grey 28x28 images, 10
  clothing classes). It is the only real image set installable from a package
  registry, which makes it the data set of the examples and of CI.
- :func:`fetch_cifar10` downloads CIFAR-10 (60,000 colour 32x32 photos, 10
  classes, each mapped to its WordNet synset) once, checks it against its
  SHA-256 and caches the decoded arrays under :func:`get_data_home`.
- :func:`load_image_folder` reads any ``<root>/<class>/<image>`` folder tree, the
  layout of most photo collections, with the folder names as labels.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import os
import pickle
import tarfile
import tempfile
import warnings
import zipfile
from collections import namedtuple
from collections.abc import Sequence
from numbers import Integral
from pathlib import Path
from typing import Literal
from urllib.request import urlopen

import numpy as np
from sklearn.utils import Bunch

from . import _folders
from ._docstrings import fill_doc

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_WNIDS",
    "FASHION_MNIST_CLASSES",
    "fetch_cifar10",
    "get_data_home",
    "load_fashion_mnist",
    "load_image_folder",
]

#: Class names of Fashion-MNIST, indexed by the integer target (Xiao et al., 2017).
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

_FASHION_MNIST_HOME = "/usr/share/datasets/fashion-mnist"
_FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
_IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension

_FASHION_MNIST_DESCR = """\
Fashion-MNIST
-------------

Zalando's article images: 70,000 grey-level 28x28 images (60,000 train, 10,000
test) of 10 clothing classes, 7,000 images per class (6,000 train, 1,000 test).

Read from the idx files of the Debian package ``dataset-fashion-mnist``
(``apt-get install dataset-fashion-mnist``), licence MIT.

:Number of instances: 60,000 (train), 10,000 (test)
:Number of attributes: 784 pixels, uint8 in [0, 255] (0 is background)
:Classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal,
    6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot

References
----------
Han Xiao, Kashif Rasul and Roland Vollgraf. "Fashion-MNIST: a Novel Image
Dataset for Benchmarking Machine Learning Algorithms". arXiv:1708.07747, 2017.
"""


def _open_idx(directory: Path, stem: str):
    """Open ``stem.gz`` (or the uncompressed ``stem``) in ``directory``."""
    gz = directory / f"{stem}.gz"
    if gz.is_file():
        return gzip.open(gz, "rb")
    raw = directory / stem
    if raw.is_file():
        return open(raw, "rb")
    raise FileNotFoundError(
        f"Fashion-MNIST file {gz} not found. On Debian or Ubuntu install it with "
        "`apt-get install dataset-fashion-mnist`, or pass data_home= the folder "
        "holding the four *-idx*-ubyte(.gz) files."
    )


def _read_exact(f, n_bytes: int, name: str) -> np.ndarray:
    """Read exactly ``n_bytes`` into a new writable uint8 array."""
    out = np.empty(n_bytes, dtype=np.uint8)
    view = memoryview(out)
    pos = 0
    while pos < n_bytes:
        got = f.readinto(view[pos:])
        if not got:
            raise ValueError(
                f"{name} is truncated: expected {n_bytes} bytes of data, got {pos}."
            )
        pos += got
    if f.read(1):
        raise ValueError(f"{name} has trailing bytes after {n_bytes} bytes of data.")
    return out


def _read_idx(directory: Path, stem: str, magic: int, kind: str) -> np.ndarray:
    """The uint8 array of an idx file (``magic``: 2051 for images of shape
    (n, rows, cols), 2049 for n labels), its header checked."""
    n_dims = magic & 0xFF
    with _open_idx(directory, stem) as f:
        header = np.frombuffer(f.read(4 * (1 + n_dims)), dtype=">u4")
        if header.size != 1 + n_dims or header[0] != magic:
            raise ValueError(
                f"{stem} is not an idx {kind} file: expected magic number "
                f"{magic}, got {header[0] if header.size else None}."
            )
        shape = tuple(int(v) for v in header[1:])
        data = _read_exact(f, math.prod(shape), stem)
    return data.reshape(shape)


@fill_doc
def load_fashion_mnist(
    subset: Literal["train", "test", "all"] = "train",
    *,
    data_home: str | os.PathLike | None = None,
    return_X_y: bool = False,
    flatten: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the Fashion-MNIST images from the Debian ``dataset-fashion-mnist`` files.

    Reads the four idx files (``train-images-idx3-ubyte.gz``, ...) of the Debian
    package ``dataset-fashion-mnist`` (``apt-get install dataset-fashion-mnist``),
    which installs them under ``/usr/share/datasets/fashion-mnist``. Nothing is
    downloaded. The idx headers are validated (magic numbers 2051 for images and
    2049 for labels, and matching counts).

    =================   ==========================
    Classes             10
    Samples per class   6,000 train, 1,000 test
    Samples total       60,000 train, 10,000 test
    Image               28x28, uint8 in [0, 255]
    =================   ==========================

    Parameters
    ----------
    %(subset)s

    data_home : str or path-like, default=None
        Folder holding the idx files, gzipped or not. ``None`` means
        ``/usr/share/datasets/fashion-mnist``.

    return_X_y : bool, default=False
        If True, return ``(X, y)`` instead of a :class:`~sklearn.utils.Bunch`.

    flatten : bool, default=False
        Only with ``return_X_y=True``: return ``X`` of shape ``(n_samples, 784)``
        instead of the images of shape ``(n_samples, 28, 28)``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (n_samples, 784), dtype uint8
            The flattened images, one row per image (a view of ``images``).
        images : ndarray of shape (n_samples, 28, 28), dtype uint8
            The images.
        target : ndarray of shape (n_samples,), dtype int64
            The class index of each image, in ``0..9``.
        target_names : ndarray of shape (10,), dtype str
            The class names, indexed by ``target``: ``target_names[target]`` gives
            each image's class name ("T-shirt/top", "Trouser", ..., "Ankle boot").
        DESCR : str
            A description of the data set.

    (X, y) : tuple of ndarray
        With ``return_X_y=True``: the images (flattened if ``flatten=True``) and
        the integer targets.

    Raises
    ------
    FileNotFoundError
        If the files are missing (install ``dataset-fashion-mnist``).

    ValueError
        If a file is not a valid idx file.

    See Also
    --------
    load_image_folder : Load images stored as ``<class>/<image>`` folders.

    References
    ----------
    .. [1] H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a Novel Image
       Dataset for Benchmarking Machine Learning Algorithms", arXiv:1708.07747,
       2017.

    Examples
    --------
    >>> from sk_conse.datasets import load_fashion_mnist
    >>> fm = load_fashion_mnist("test")
    >>> fm.images.shape, fm.images.dtype, fm.data.shape
    ((10000, 28, 28), dtype('uint8'), (10000, 784))
    >>> fm.target_names[fm.target[:3]].tolist()
    ['Ankle boot', 'Pullover', 'Trouser']
    >>> X, y = load_fashion_mnist("test", return_X_y=True, flatten=True)
    >>> X.shape, y.shape
    ((10000, 784), (10000,))
    """
    if subset not in ("train", "test", "all"):
        raise ValueError(f"subset must be 'train', 'test' or 'all', got {subset!r}.")
    directory = Path(_FASHION_MNIST_HOME if data_home is None else data_home)
    splits = ["train", "test"] if subset == "all" else [subset]
    images_parts, target_parts = [], []
    for split in splits:
        image_stem, label_stem = _FASHION_MNIST_FILES[split]
        images = _read_idx(directory, image_stem, _IDX_IMAGES_MAGIC, "image")
        target = _read_idx(directory, label_stem, _IDX_LABELS_MAGIC, "label")
        target = target.astype(np.int64)
        if images.shape[0] != target.shape[0]:
            raise ValueError(
                f"{image_stem} holds {images.shape[0]} images but {label_stem} "
                f"holds {target.shape[0]} labels."
            )
        images_parts.append(images)
        target_parts.append(target)
    if len(splits) == 1:
        images, target = images_parts[0], target_parts[0]
    else:
        images = np.concatenate(images_parts)
        target = np.concatenate(target_parts)
    if target.size and (target.min() < 0 or target.max() >= 10):
        raise ValueError("Fashion-MNIST labels must lie in 0..9.")

    data = images.reshape(images.shape[0], -1)
    if return_X_y:
        return (data if flatten else images), target
    return Bunch(
        data=data,
        images=images,
        target=target,
        target_names=np.array(FASHION_MNIST_CLASSES),
        DESCR=_FASHION_MNIST_DESCR,
    )


def _read_image(
    path: str | os.PathLike, mode: str, size: tuple[int, int] | None
) -> np.ndarray:
    """The image file ``path`` in PIL ``mode``, resized to ``size`` (height,
    width) if given; a file PIL cannot decode is named in the error."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img = img.convert(mode)
            if size is not None and img.size != size[::-1]:
                img = img.resize(size[::-1], Image.Resampling.BILINEAR)
            return np.asarray(img)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise OSError(
            f"Cannot read the image {os.fspath(path)!r} ({type(exc).__name__}: "
            f"{exc}): it is damaged, empty or not an image. Replace or remove it."
        ) from exc


def _check_indices(indices: slice | Sequence[int]) -> slice | list[int]:
    """Validate ``indices`` of :func:`load_image_folder` (per-class positions)."""
    if isinstance(indices, slice):
        for name in ("start", "stop", "step"):
            value = getattr(indices, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, Integral)
            ):
                raise TypeError(
                    f"indices={indices!r}: the {name} of the slice must be an "
                    f"integer or None, got {value!r}."
                )
        if indices.step is not None and indices.step < 1:
            raise ValueError(
                f"indices={indices!r}: the step of the slice must be >= 1."
            )
        return indices
    if isinstance(indices, (str, bytes)) or not hasattr(indices, "__iter__"):
        raise TypeError(
            "indices must be a slice or a sequence of integers, got "
            f"{type(indices).__name__}."
        )
    positions = list(indices)
    bad = [
        v
        for v in positions
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, Integral)
    ]
    if bad:
        raise TypeError(
            f"indices must be integers (positions within each class); got {bad[:3]!r}."
        )
    if not positions:
        raise ValueError("indices is empty: it selects no image.")
    return [int(v) for v in positions]


def _select(files: list[Path], selection: slice | list[int], name: str) -> list[Path]:
    """The files of class ``name`` at the positions ``selection``."""
    n = len(files)
    what = f"class {name!r} has {n} image{'s' if n != 1 else ''}"
    if isinstance(selection, slice):
        for bound in (selection.start, selection.stop):
            if bound is not None and not -n <= bound <= n:
                raise ValueError(
                    f"indices={selection!r} is out of range: {what}, so positions "
                    f"run from {-n} to {n}."
                )
        chosen = files[selection]
        if not chosen:
            raise ValueError(f"indices={selection!r} selects no image: {what}.")
        return chosen
    outside = [i for i in selection if not -n <= i < n]
    if outside:
        raise ValueError(
            f"indices {outside[:5]!r} out of range: {what}, at positions 0 to "
            f"{n - 1} (or {-n} to -1)."
        )
    positions = [i % n for i in selection]
    if len(set(positions)) != len(positions):
        raise ValueError(
            f"indices {selection!r} name the same image more than once in class "
            f"{name!r}; each image would be read several times."
        )
    return [files[i] for i in positions]


@fill_doc
def load_image_folder(
    path: str | os.PathLike,
    *,
    size: int | tuple[int, int] | None = None,
    extensions: Sequence[str] = (".jpg", ".jpeg", ".png"),
    mode: str = "RGB",
    max_per_class: int | None = None,
    indices: slice | Sequence[int] | None = None,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray | list[np.ndarray], np.ndarray]:
    """Load images stored as ``<path>/<class name>/<image file>`` folders.

    Every sub-folder of ``path`` is a class, named after the folder; every file
    in it whose extension (case-insensitive) is in ``extensions`` is an image of
    that class. Classes and files are read in sorted order, hidden files and
    folders (starting with ``"."``) are ignored, and sub-folders are not
    searched recursively.

    Parameters
    ----------
    path : str or path-like
        The root folder.

    size : int or tuple of (height, width), default=None
        Resize every image to this size (bilinear, aspect ratio not kept); an
        int means a square. ``None`` keeps the original sizes.

    extensions : sequence of str, default=(".jpg", ".jpeg", ".png")
        File extensions to read, compared case-insensitively.

    mode : str, default="RGB"
        PIL mode every image is converted to, e.g. ``"RGB"`` (3 channels) or
        ``"L"`` (grey, 2-D arrays).

    max_per_class : int, default=None
        Read at most this many images per class (the first ones in sorted
        order). ``None`` reads them all.

    indices : slice or sequence of int, default=None
        Which images to read in each class, by position in the class's
        sorted file list, as in Python indexing: ``slice(200, 300)`` reads
        the 201st to the 300th image of every class, ``[0, 5, 9]`` three
        chosen ones, and negative positions count from the end. Use it to
        draw disjoint sets from one folder tree (e.g. ``slice(0, 200)`` to
        train, ``slice(200, 300)`` to test). A position beyond the images of
        some class raises ``ValueError`` naming the class, rather than
        giving that class fewer images. ``None`` reads them all; cannot be
        combined with ``max_per_class``.

    %(return_X_y_images)s

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        images : ndarray of shape (n_samples, height, width[, channels]) or list
            The images as uint8 arrays: one stacked array when ``size`` is given
            or when all images have the same shape, else a list of arrays.
        target : ndarray of shape (n_samples,), dtype str
            The class name (folder name) of each image.
        target_names : ndarray of shape (n_classes,), dtype str
            The sorted class names.
        filenames : ndarray of shape (n_samples,), dtype str
            The path of each image.

    (images, target) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a folder.

    ValueError
        If no image is found, or if ``indices`` selects a position that some
        class does not have.

    See Also
    --------
    load_fashion_mnist : Load Fashion-MNIST from the Debian package files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> from sk_conse.datasets import load_image_folder
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for label, colour in [("red", (255, 0, 0)), ("blue", (0, 0, 255))]:
    ...     (root / label).mkdir()
    ...     Image.new("RGB", (8, 6), colour).save(root / label / "0.png")
    >>> data = load_image_folder(root, size=4)
    >>> data.images.shape, data.target.tolist(), data.target_names.tolist()
    ((2, 4, 4, 3), ['blue', 'red'], ['blue', 'red'])

    Choosing images by position within each class:

    >>> for label, colour in [("red", (255, 0, 0)), ("blue", (0, 0, 255))]:
    ...     for i in range(1, 4):
    ...         Image.new("RGB", (8, 6), colour).save(root / label / f"{i}.png")
    >>> test = load_image_folder(root, indices=slice(2, 4))  # images 2 and 3
    >>> [pathlib.Path(f).name for f in test.filenames], test.target.tolist()
    (['2.png', '3.png', '2.png', '3.png'], ['blue', 'blue', 'red', 'red'])
    """

    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"Image folder {str(root)!r} does not exist.")
    if size is not None:
        height, width = (size, size) if isinstance(size, int) else tuple(size)
        if height < 1 or width < 1:
            raise ValueError(f"size must be positive, got {size!r}.")
    if max_per_class is not None and max_per_class < 1:
        raise ValueError(f"max_per_class must be >= 1, got {max_per_class!r}.")
    if indices is not None and max_per_class is not None:
        raise ValueError(
            "Give max_per_class or indices, not both: max_per_class=n is "
            "indices=slice(0, n)."
        )
    selection = None if indices is None else _check_indices(indices)
    exts = {e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions}

    class_files = []
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if class_dir.name.startswith("."):
            continue
        files = sorted(
            p
            for p in class_dir.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in exts
        )
        if max_per_class is not None:
            files = files[:max_per_class]
        class_files.append((class_dir.name, files))
    if selection is not None:
        # Check every class before reading any image.
        class_files = [
            (name, _select(files, selection, name)) for name, files in class_files
        ]

    images: list[np.ndarray] = []
    target: list[str] = []
    filenames: list[str] = []
    for name, files in class_files:
        for file in files:
            images.append(
                _read_image(file, mode, None if size is None else (height, width))
            )
            target.append(name)
            filenames.append(str(file))
    if not images:
        raise ValueError(
            f"No image with extension {sorted(exts)} found in the class folders "
            f"of {str(root)!r}; expected the layout <path>/<class>/<image>."
        )

    shapes = {im.shape for im in images}
    stacked: np.ndarray | list[np.ndarray] = (
        np.stack(images) if len(shapes) == 1 else images
    )
    target_arr = np.array(target)
    if return_X_y:
        return stacked, target_arr
    return Bunch(
        images=stacked,
        target=target_arr,
        target_names=np.unique(target_arr),
        filenames=np.array(filenames),
    )


# ------------------------------------------------------------------ CIFAR-10

#: Class names of CIFAR-10, indexed by the integer target (Krizhevsky, 2009).
CIFAR10_CLASSES: tuple[str, ...] = (
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
)

#: WordNet 3.0 noun synset of each CIFAR-10 class, aligned with
#: :data:`CIFAR10_CLASSES` ("n" + the 8-digit offset in ``data.noun``). None is
#: an ImageNet-1k label: each is a parent of ImageNet-1k labels or farther up.
CIFAR10_WNIDS: tuple[str, ...] = (
    "n02691156",  # airplane, aeroplane, plane
    "n02958343",  # car, auto, automobile, machine, motorcar
    "n01503061",  # bird
    "n02121808",  # domestic_cat, house_cat, Felis_domesticus, Felis_catus
    "n02430045",  # deer, cervid
    "n02084071",  # dog, domestic_dog, Canis_familiaris
    "n01639765",  # frog, toad, toad_frog, anuran, batrachian, salientian
    "n02374451",  # horse, Equus_caballus
    "n04194289",  # ship
    "n04490091",  # truck, motortruck
)

#: What a fetcher downloads: file name, URL and SHA-256 of the file, the
#: fields of scikit-learn's ``RemoteFileMetadata``.
RemoteFileMetadata = namedtuple("RemoteFileMetadata", ["filename", "url", "checksum"])

# The official archive of the Python version (170,498,071 bytes; the page
# https://www.cs.toronto.edu/~kriz/cifar.html gives its MD5,
# c58f30108f718f92721af3b95e74349a).
_CIFAR10_ARCHIVE = RemoteFileMetadata(
    filename="cifar-10-python.tar.gz",
    url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    checksum="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
)
_CIFAR10_FOLDER = "cifar10"
_CIFAR10_CACHE = "cifar-10.npz"
_CIFAR10_BATCHES = {
    "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
    "test": ("test_batch",),
}

_CIFAR10_DESCR = """\
CIFAR-10
--------

60,000 colour photographs of 32x32 pixels in 10 classes, 6,000 per class
(5,000 train, 1,000 test): airplane, automobile, bird, cat, deer, dog, frog,
horse, ship, truck. A labelled subset of the 80 million tiny images.

Downloaded once from https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz,
checked against its SHA-256 and cached as decoded arrays under the data home.

:Number of instances: 50,000 (train), 10,000 (test)
:Number of attributes: 32x32x3 pixels, uint8 in [0, 255] (RGB)
:Classes: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog,
    7 horse, 8 ship, 9 truck; WordNet 3.0 synsets n02691156 (airplane),
    n02958343 (car), n01503061 (bird), n02121808 (domestic cat), n02430045
    (deer), n02084071 (dog), n01639765 (frog), n02374451 (horse), n04194289
    (ship), n04490091 (truck), none of them an ImageNet-1k label.

References
----------
Alex Krizhevsky. "Learning Multiple Layers of Features from Tiny Images".
Technical report, University of Toronto, 2009.
"""


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """The folder where the fetchers of :mod:`sk_conse.datasets` cache data.

    Like :func:`sklearn.datasets.get_data_home`, with this package's own
    default and environment variable. The folder is created by the fetchers
    when they write into it, not here.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Returned (``~`` expanded) when given. Otherwise the environment
        variable ``SK_CONSE_DATA``, else ``~/sk_conse_data``.

    Returns
    -------
    path : pathlib.Path
        The data home.

    Examples
    --------
    >>> from pathlib import Path
    >>> from sk_conse.datasets import get_data_home
    >>> get_data_home("~/my_data") == Path.home() / "my_data"
    True
    """
    return _folders.data_home(data_home)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(remote: RemoteFileMetadata, target: Path) -> None:
    """Download ``remote`` to ``target``, checked against its SHA-256.

    The bytes go to a temporary file in the same folder, renamed to ``target``
    only once the checksum matches: a failed or corrupt download leaves
    nothing behind, and concurrent downloads never see a partial file.
    """
    by_hand = (
        f"To install it by hand, download {remote.url} and place it at "
        f"{target} (the next call checks its SHA-256 {remote.checksum})."
    )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
    except OSError as exc:
        raise OSError(
            f"Cannot write into {target.parent} ({exc}). Give a data_home "
            f"you can write to, or set {_folders.DATA_HOME_ENV} to one. {by_hand}"
        ) from exc
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, urlopen(remote.url, timeout=60) as resp:
                for chunk in iter(lambda: resp.read(1 << 20), b""):
                    out.write(chunk)
                    digest.update(chunk)
        except OSError as exc:  # urllib's URLError and socket errors
            raise OSError(f"Could not download {remote.url}: {exc}. {by_hand}") from exc
        got = digest.hexdigest()
        if got != remote.checksum:
            raise OSError(
                f"The file downloaded from {remote.url} has SHA-256 {got}, not "
                f"the expected {remote.checksum}: it was deleted, nothing was "
                f"cached. Try again. {by_hand}"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles the CIFAR-10 batches: dicts, lists, bytes, NumPy arrays only.

    The batches are Python 2 pickles; an arbitrary pickle can run code, so
    only the globals that rebuild a NumPy array are allowed.
    """

    _ALLOWED = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.numeric", "_frombuffer"),
            ("numpy._core.numeric", "_frombuffer"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("_codecs", "encode"),  # bytes in protocol-2 pickles written by Python 3
        }
    )

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"CIFAR-10 batch refers to {module}.{name}, which a CIFAR-10 batch "
            "never holds; the file is not the official one."
        )


def _read_batch(raw: bytes, name: str) -> dict:
    batch = _ArrayUnpickler(io.BytesIO(raw), encoding="bytes").load()
    if not isinstance(batch, dict):
        raise ValueError(f"CIFAR-10 file {name} does not hold a dict.")
    return batch


def _batch_arrays(batch: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, 32, 32, 3) uint8, labels (n,) int64) of one batch."""
    try:
        data, labels = batch[b"data"], batch[b"labels"]
    except KeyError as exc:
        raise ValueError(
            f"CIFAR-10 file {name} lacks the key {exc.args[0]!r}."
        ) from None
    data = np.asarray(data)
    labels = np.asarray(labels, dtype=np.int64).ravel()
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(
            f"CIFAR-10 file {name}: expected uint8 data of shape (n, 3072), got "
            f"{data.dtype} {data.shape}."
        )
    if data.shape[0] != labels.shape[0]:
        raise ValueError(
            f"CIFAR-10 file {name} holds {data.shape[0]} images but "
            f"{labels.shape[0]} labels."
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"CIFAR-10 file {name}: labels must lie in 0..9.")
    # Each row is the red, then the green, then the blue 32x32 plane.
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def _decode_cifar10(archive: Path) -> dict[str, np.ndarray]:
    """The train and test arrays of the official ``cifar-10-python.tar.gz``."""
    names = [b for batches in _CIFAR10_BATCHES.values() for b in batches]
    wanted = {f"cifar-10-batches-py/{b}" for b in [*names, "batches.meta"]}
    found: dict[str, bytes] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:  # one pass over the gzip stream
            if member.name in wanted and member.isfile():
                found[member.name.rsplit("/", 1)[1]] = tar.extractfile(member).read()
    missing = sorted(n.rsplit("/", 1)[1] for n in wanted)
    missing = [n for n in missing if n not in found]
    if missing:
        raise ValueError(
            f"{archive} is not the CIFAR-10 archive: it lacks "
            f"cifar-10-batches-py/{{{', '.join(missing)}}}."
        )
    meta = _read_batch(found["batches.meta"], "batches.meta")
    names = tuple(
        n.decode() if isinstance(n, bytes) else str(n)
        for n in meta.get(b"label_names", [])
    )
    if names != CIFAR10_CLASSES:
        raise ValueError(
            f"batches.meta names the classes {list(names)}, not CIFAR-10's "
            f"{list(CIFAR10_CLASSES)}."
        )
    out = {}
    for subset, batches in _CIFAR10_BATCHES.items():
        parts = [_batch_arrays(_read_batch(found[b], b), b) for b in batches]
        out[f"{subset}_images"] = np.concatenate([p[0] for p in parts])
        out[f"{subset}_labels"] = np.concatenate([p[1] for p in parts])
    return out


def _keys(subsets: list[str]) -> list[str]:
    return [f"{s}_{part}" for s in subsets for part in ("images", "labels")]


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` through a temporary file and a rename."""
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".part", dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp_name, path)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def _read_npz(path: Path, subsets: list[str]) -> tuple[dict | None, str]:
    """The cached arrays of ``subsets``, or None and what is wrong with the file.

    The cache is checked against what :func:`_decode_cifar10` writes: for
    each subset, uint8 images of shape (n, 32, 32, 3) with n >= 1 and n int64
    labels in 0..9. (The zip format checks each array's CRC-32 on reading.)
    """
    try:
        with open(path, "rb") as f:
            npz = np.load(f, allow_pickle=False)
            if not isinstance(npz, np.lib.npyio.NpzFile):
                return None, "it is a single .npy array, not an .npz archive"
            with npz:
                arrays = {key: npz[key] for key in _keys(subsets)}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        return None, f"it cannot be read ({type(exc).__name__}: {exc})"
    for subset in subsets:
        images = arrays[f"{subset}_images"]
        labels = arrays[f"{subset}_labels"]
        if images.dtype != np.uint8 or images.shape[1:] != (32, 32, 3):
            return None, (
                f"its {subset} images are {images.dtype} of shape {images.shape}, "
                "not uint8 of shape (n, 32, 32, 3)"
            )
        if len(images) == 0:
            return None, f"it holds no {subset} image"
        if labels.dtype != np.int64 or labels.shape != (len(images),):
            return None, (
                f"its {subset} labels are {labels.dtype} of shape {labels.shape}, "
                f"not int64 of shape ({len(images)},), one per image"
            )
        if labels.min() < 0 or labels.max() > 9:
            return None, (
                f"its {subset} labels range over {labels.min()}..{labels.max()}, "
                "not 0..9"
            )
    return arrays, ""


def _cifar10_arrays(
    folder: Path, subsets: list[str], download_if_missing: bool
) -> dict[str, np.ndarray]:
    cache = folder / _CIFAR10_CACHE
    problem = ""
    if cache.exists():
        arrays, problem = _read_npz(cache, subsets)
        if arrays is not None:
            return arrays
        problem = (
            f"The CIFAR-10 cache {cache} is not what fetch_cifar10 writes: {problem}. "
        )
    archive = folder / _CIFAR10_ARCHIVE.filename
    if not archive.is_file():
        if not download_if_missing:
            if problem:
                raise OSError(
                    f"{problem}Delete it, then call fetch_cifar10() again "
                    "(with download_if_missing=True, the default, it downloads "
                    f"CIFAR-10 again; or place {_CIFAR10_ARCHIVE.url} at "
                    f"{archive} by hand)."
                )
            raise OSError(
                f"CIFAR-10 is not cached in {folder} and download_if_missing=False. "
                f"Call fetch_cifar10() with download_if_missing=True (the default) "
                f"to download it (163 MiB), or download "
                f"{_CIFAR10_ARCHIVE.url} by hand and place it at {archive}."
            )
        # A damaged or foreign cache is rebuilt from a verified download.
        _download(_CIFAR10_ARCHIVE, archive)
    else:
        got = _sha256(archive)
        if got != _CIFAR10_ARCHIVE.checksum:
            raise OSError(
                f"{archive} has SHA-256 {got}, not the expected "
                f"{_CIFAR10_ARCHIVE.checksum} of {_CIFAR10_ARCHIVE.url}: it is "
                "incomplete or another file. Delete it and call fetch_cifar10() "
                "again, or replace it with the official archive."
            )
    arrays = _decode_cifar10(archive)
    try:
        _write_npz(cache, arrays)
    except OSError as exc:  # a folder others may read but this user not write
        warnings.warn(
            f"CIFAR-10 was decoded from {archive} but cannot be cached in "
            f"{folder} ({exc}): the next call decodes the archive again. Give a "
            "data_home you can write to, to cache it.",
            RuntimeWarning,
            stacklevel=3,
        )
        return {key: arrays[key] for key in _keys(subsets)}
    # Like scikit-learn's fetchers: the decoded cache replaces the archive.
    archive.unlink(missing_ok=True)
    return {key: arrays[key] for key in _keys(subsets)}


def _check_classes(classes: Sequence[str | int] | None) -> list[int]:
    """Class indices (sorted, CIFAR-10 order) named by ``classes``."""
    if classes is None:
        return list(range(len(CIFAR10_CLASSES)))
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
        raise TypeError(
            "classes must be a sequence of CIFAR-10 class names or indices, got "
            f"{type(classes).__name__}."
        )
    out = []
    for c in classes:
        if isinstance(c, str) and c in CIFAR10_CLASSES:
            out.append(CIFAR10_CLASSES.index(c))
        elif (
            isinstance(c, Integral)
            and not isinstance(c, (bool, np.bool_))
            and 0 <= c < len(CIFAR10_CLASSES)
        ):
            out.append(int(c))
        else:
            raise ValueError(
                f"Unknown CIFAR-10 class {c!r}; the classes are "
                f"{list(CIFAR10_CLASSES)} (or their indices 0 to 9)."
            )
    if not out:
        raise ValueError("classes is empty: it selects no image.")
    if len(set(out)) != len(out):
        raise ValueError(f"classes names a class more than once: {list(classes)!r}.")
    return sorted(out)


@fill_doc
def fetch_cifar10(
    subset: Literal["train", "test", "all"] = "train",
    *,
    data_home: str | os.PathLike | None = None,
    classes: Sequence[str | int] | None = None,
    n_per_class: int | None = None,
    indices: slice | Sequence[int] | None = None,
    download_if_missing: bool = True,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load CIFAR-10, downloading it once (163 MiB) if it is not cached.

    The first call downloads the official archive
    ``https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz``, checks its
    SHA-256 (``6d958be0...c001ce``), decodes its batches into arrays, caches
    them as ``<data_home>/cifar10/cifar-10.npz`` (184 MB) and deletes the
    archive. Later calls read the cache only. Offline, put the archive at
    ``<data_home>/cifar10/cifar-10-python.tar.gz`` by hand: it is checked and
    decoded the same way. The cache is checked on every read (uint8 images
    of shape (n, 32, 32, 3), one int64 label in 0..9 per image); a damaged or
    foreign one is rebuilt from the verified archive, downloaded again if it
    is not there.

    =================   ==========================
    Classes             10
    Samples per class   5,000 train, 1,000 test
    Samples total       50,000 train, 10,000 test
    Image               32x32x3, uint8 in [0, 255]
    =================   ==========================

    Parameters
    ----------
    %(subset)s

    data_home : str or path-like, default=None
        The data home (see :func:`get_data_home`): ``SK_CONSE_DATA``, else
        ``~/sk_conse_data``. The files live in its ``cifar10`` folder.

    classes : sequence of str or int, default=None
        Keep the images of these classes only, by name ("cat") or index (3).
        ``target_names`` and ``wnids`` then list these classes, in CIFAR-10's
        order, and ``target`` indexes them. ``None`` keeps all ten.

    n_per_class : int, default=None
        Keep the first ``n_per_class`` images of each class, in the order of
        the split (the order of ``data_batch_1`` to ``5``, then ``test_batch``
        for ``"all"``). Same as ``indices=slice(0, n_per_class)``.

    indices : slice or sequence of int, default=None
        Which images to keep in each class, by position within that class in
        the order of the split, as in Python indexing: ``slice(100, 200)``
        keeps the 101st to the 200th image of every class. A position beyond
        a class's images raises ``ValueError``. Cannot be combined with
        ``n_per_class``.

    download_if_missing : bool, default=True
        If False, raise an ``OSError`` instead of downloading when the data is
        not cached; the message gives the URL and where to put the archive.

    %(return_X_y_images)s

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        images : ndarray of shape (n_samples, 32, 32, 3), dtype uint8
            The RGB images, in the order of the split.
        data : ndarray of shape (n_samples, 3072), dtype uint8
            The flattened images (a view of ``images``).
        target : ndarray of shape (n_samples,), dtype int64
            Each image's class, an index into ``target_names``.
        target_names : ndarray of shape (n_classes,), dtype str
            The class names ("airplane", ..., "truck").
        wnids : ndarray of shape (n_classes,), dtype str
            The WordNet 3.0 noun synset of each class, aligned with
            ``target_names`` ("n02691156" for airplane, ...; none is an
            ImageNet-1k label).
        index : ndarray of shape (n_samples,), dtype int64
            Each image's position in the whole split (for ``"all"``, test
            images count from 50,000), to say exactly which images were used.
        DESCR : str
            A description of the data set.

    (images, target) : tuple of ndarray
        With ``return_X_y=True``.

    Raises
    ------
    OSError
        If the data is not cached (or its cache is damaged) and
        ``download_if_missing=False``, if the download fails, if the archive's
        SHA-256 is not the official one (a downloaded file is then deleted),
        or if the folder cannot be written. The message names the URL and the
        path where to put the archive by hand. ``NotADirectoryError`` if
        ``data_home`` is a file.

    ValueError
        If ``classes``, ``n_per_class`` or ``indices`` select no image or an
        image a class does not have, or if the archive is malformed.

    See Also
    --------
    load_image_folder : Load images stored as ``<class>/<image>`` folders.

    References
    ----------
    .. [1] A. Krizhevsky, "Learning Multiple Layers of Features from Tiny
       Images", technical report, University of Toronto, 2009.

    Examples
    --------
    Offline, with nothing cached, the error says what to do:

    >>> import tempfile
    >>> from sk_conse.datasets import fetch_cifar10
    >>> try:
    ...     fetch_cifar10(data_home=tempfile.mkdtemp(), download_if_missing=False)
    ... except OSError as exc:
    ...     print(str(exc).split(" in ")[0])
    CIFAR-10 is not cached

    With the data (downloaded on the first call):

    >>> test = fetch_cifar10("test", n_per_class=50)  # doctest: +SKIP
    >>> test.images.shape, test.target_names[test.target[:3]].tolist()  # doctest: +SKIP
    ((500, 32, 32, 3), ['cat', 'ship', 'ship'])
    >>> dict(zip(test.target_names[:2], test.wnids[:2]))  # doctest: +SKIP
    {'airplane': 'n02691156', 'automobile': 'n02958343'}
    """
    if subset not in ("train", "test", "all"):
        raise ValueError(f"subset must be 'train', 'test' or 'all', got {subset!r}.")
    if n_per_class is not None:
        if isinstance(n_per_class, bool) or not isinstance(n_per_class, Integral):
            raise TypeError(f"n_per_class must be an integer, got {n_per_class!r}.")
        if n_per_class < 1:
            raise ValueError(f"n_per_class must be >= 1, got {n_per_class!r}.")
        if indices is not None:
            raise ValueError(
                "Give n_per_class or indices, not both: n_per_class=n is "
                "indices=slice(0, n)."
            )
    selection = None if indices is None else _check_indices(indices)
    if n_per_class is not None:
        selection = slice(0, int(n_per_class))
    keep_classes = _check_classes(classes)

    subsets = ["train", "test"] if subset == "all" else [subset]
    home = _folders.check_folder(get_data_home(data_home), "data_home")
    folder = _folders.check_folder(home / _CIFAR10_FOLDER, "data_home")
    arrays = _cifar10_arrays(folder, subsets, download_if_missing)
    images = np.concatenate([arrays[f"{s}_images"] for s in subsets])
    labels = np.concatenate([arrays[f"{s}_labels"] for s in subsets])

    keep = np.zeros(len(labels), dtype=bool)
    for c in keep_classes:
        rows = np.flatnonzero(labels == c)
        if selection is not None:
            name = CIFAR10_CLASSES[c]
            chosen = _select(list(rows), selection, name)
            rows = np.asarray(chosen, dtype=np.intp)
        keep[rows] = True
    index = np.flatnonzero(keep)
    images = images[index]
    relabel = np.full(len(CIFAR10_CLASSES), -1, dtype=np.int64)
    relabel[keep_classes] = np.arange(len(keep_classes))
    target = relabel[labels[index]]
    if return_X_y:
        return images, target
    return Bunch(
        images=images,
        data=images.reshape(len(images), -1),
        target=target,
        target_names=np.array([CIFAR10_CLASSES[c] for c in keep_classes]),
        wnids=np.array([CIFAR10_WNIDS[c] for c in keep_classes]),
        index=index.astype(np.int64),
        DESCR=_CIFAR10_DESCR,
    )
