"""Loaders for real image data that work offline.

Two loaders are provided:

- :func:`load_fashion_mnist` reads Fashion-MNIST from the idx files shipped by the
  Debian package ``dataset-fashion-mnist`` (70,000 grey 28x28 images, 10
  clothing classes). It is the only real image set installable from a package
  registry, which makes it the data set of the examples and of CI.
- :func:`load_image_folder` reads any ``<root>/<class>/<image>`` folder tree, the
  layout of most photo collections, with the folder names as labels.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Sequence
from numbers import Integral
from pathlib import Path
from typing import Literal

import numpy as np
from sklearn.utils import Bunch

__all__ = [
    "FASHION_MNIST_CLASSES",
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


def _read_idx_images(directory: Path, stem: str) -> np.ndarray:
    with _open_idx(directory, stem) as f:
        header = np.frombuffer(f.read(16), dtype=">u4")
        if header.size != 4 or header[0] != _IDX_IMAGES_MAGIC:
            raise ValueError(
                f"{stem} is not an idx image file: expected magic number "
                f"{_IDX_IMAGES_MAGIC}, got {header[0] if header.size else None}."
            )
        n, rows, cols = (int(v) for v in header[1:])
        data = _read_exact(f, n * rows * cols, stem)
    return data.reshape(n, rows, cols)


def _read_idx_labels(directory: Path, stem: str) -> np.ndarray:
    with _open_idx(directory, stem) as f:
        header = np.frombuffer(f.read(8), dtype=">u4")
        if header.size != 2 or header[0] != _IDX_LABELS_MAGIC:
            raise ValueError(
                f"{stem} is not an idx label file: expected magic number "
                f"{_IDX_LABELS_MAGIC}, got {header[0] if header.size else None}."
            )
        data = _read_exact(f, int(header[1]), stem)
    return data.astype(np.int64)


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
    subset : {"train", "test", "all"}, default="train"
        Which split to load. ``"all"`` is the 60,000 training images followed by
        the 10,000 test images.

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
        images = _read_idx_images(directory, image_stem)
        target = _read_idx_labels(directory, label_stem)
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

    return_X_y : bool, default=False
        If True, return ``(images, target)`` instead of a Bunch.

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
    from PIL import Image

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
            with Image.open(file) as img:
                img = img.convert(mode)
                if size is not None:
                    img = img.resize((width, height), Image.Resampling.BILINEAR)
                images.append(np.asarray(img))
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
