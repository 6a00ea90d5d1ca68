"""The NumPy / CuPy switch: device resolution, array namespaces, conversion.

Every numeric routine of sk_conse takes an array namespace ``xp`` (``numpy`` or
``cupy``) from :func:`get_namespace` once, calls only through it, and hands
results back to the user through :func:`to_numpy`. CuPy is imported here and
nowhere else, lazily, so that importing sk_conse never needs a GPU.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "blas_threads",
    "cuda_available",
    "get_namespace",
    "namespace_of",
    "resolve_device",
    "single_blas_thread",
    "to_numpy",
]

_DEVICES = ("auto", "cpu", "cuda")


@functools.cache
def _import_cupy() -> ModuleType | None:
    """Import CuPy once; ``None`` when it is not installed or cannot load."""
    try:
        import cupy
    except Exception:  # ImportError, or a broken CUDA runtime under it
        return None
    return cupy


@functools.cache
def cuda_available() -> bool:
    """Whether CuPy is installed and sees at least one CUDA device.

    Returns
    -------
    available : bool
        ``True`` when ``device="cuda"`` (and ``"auto"``) can run on a GPU.

    Examples
    --------
    >>> from sk_conse._backend import cuda_available
    >>> isinstance(cuda_available(), bool)
    True
    """
    cupy = _import_cupy()
    if cupy is None:
        return False
    try:
        return bool(cupy.cuda.is_available())
    except Exception:  # CUDARuntimeError and friends: no usable device
        return False


def resolve_device(device: str) -> str:
    """Turn a ``device`` parameter into ``"cpu"`` or ``"cuda"``.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}
        ``"auto"`` picks ``"cuda"`` when CuPy and a CUDA device are present,
        ``"cpu"`` otherwise. ``"cuda"`` without a device is an error.

    Returns
    -------
    device : {"cpu", "cuda"}

    Examples
    --------
    >>> from sk_conse._backend import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    """
    if device not in _DEVICES:
        raise ValueError(f"device must be one of {_DEVICES}, got {device!r}.")
    if device == "cpu":
        return "cpu"
    if cuda_available():
        return "cuda"
    if device == "cuda":
        reason = (
            "CuPy is not installed (pip install 'sk_conse[gpu]')"
            if _import_cupy() is None
            else "CuPy found no CUDA device"
        )
        raise RuntimeError(
            f"device='cuda' was requested but {reason}. "
            "Use device='auto' to fall back to NumPy, or device='cpu'."
        )
    return "cpu"


def get_namespace(device: str) -> ModuleType:
    """The array module for a resolved device: ``numpy`` or ``cupy``.

    Examples
    --------
    >>> from sk_conse._backend import get_namespace
    >>> get_namespace("cpu").__name__
    'numpy'
    """
    if device == "cuda":
        cupy = _import_cupy()
        if cupy is None:  # pragma: no cover - resolve_device guards this
            raise RuntimeError("CuPy is not installed.")
        return cupy
    return np


def namespace_of(*arrays: Any) -> ModuleType:
    """The namespace the arrays live in (``cupy`` if any is a CuPy array).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._backend import namespace_of
    >>> namespace_of(np.zeros(2)).__name__
    'numpy'
    """
    for a in arrays:
        if type(a).__module__.split(".")[0] == "cupy":
            return _import_cupy()  # type: ignore[return-value]
    return np


def to_numpy(a: Any) -> Any:
    """Convert a NumPy or CuPy array to NumPy (a no-op for NumPy).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._backend import to_numpy
    >>> to_numpy(np.arange(3))
    array([0, 1, 2])
    """
    if type(a).__module__.split(".")[0] == "cupy":
        return a.get()
    return a


@functools.cache
def _threadpool_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def blas_threads() -> int:
    """How many threads BLAS may use now, limits set by the user or joblib included.

    The CPU kernel sizes its own Python thread pool by this, so that a
    ``threadpool_limits(1)`` block or a joblib worker (which limits BLAS to its
    share of the cores) is not oversubscribed.

    Examples
    --------
    >>> from sk_conse._backend import blas_threads
    >>> blas_threads() >= 1
    True
    """
    libs = _threadpool_controller().select(user_api="blas").lib_controllers
    return max(1, min((lib.num_threads for lib in libs), default=1))


def single_blas_thread() -> Any:
    """A context manager running BLAS on one thread (cheap to enter and leave)."""
    return _threadpool_controller().limit(limits=1, user_api="blas")


def top_k(scores: Any, k: int) -> tuple[Any, Any]:
    """The ``k`` best columns of each row of ``scores``, best first.

    Exact; ties go to the smaller column index. ``k`` larger than the number
    of columns returns every column.

    Returns
    -------
    idx : int array of shape (n, min(k, n_columns))
    values : array of shape (n, min(k, n_columns))

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._backend import top_k
    >>> top_k(np.array([[0.1, 0.9, 0.9, 0.3]]), 3)
    (array([[1, 2, 3]]), array([[0.9, 0.9, 0.3]]))
    """
    from ._kernel import rank_top_k

    return rank_top_k(scores, k, scores.shape[1])
