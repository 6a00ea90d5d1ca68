"""Backends as objects: NumPy, CuPy and torch (CPU or CUDA).

Each backend is a class with the same methods (POT's ``ot/backend.py`` is the
model): the search in :mod:`sk_conse._search` calls ``nx.<method>`` and the
backend's array-API namespace ``nx.xp`` only, and never asks which backend
it runs on. A new backend is one class here.

What a backend owns:

- conversions: :meth:`Backend.asarray` (onto its device), :meth:`Backend.to_numpy`
  (the one exit to NumPy);
- the exact top-k (:meth:`Backend.top_k`, ties to the smaller column) and
  the *raw* top-K the search certifies (:meth:`Backend.raw_top_k`, no
  tie-breaking required);
- ConSE's f(x) in a fixed order (:meth:`Backend.weighted_sum`) and the
  compensated dot products of the certificate (:meth:`Backend.dot2`): the
  same bits on every backend;
- raw scores and their top-K, by the direct product or the factorised
  gather (:meth:`Backend.product_top_k`, :meth:`Backend.gather_top_k`,
  :meth:`Backend.gather_scores`).

:class:`Backend` implements all of it through a few primitives (the k-th
largest value of each row, a sort, a gather): the code CuPy and torch run,
and NumPy without numba. :class:`NumpyBackend` replaces some methods by the
compiled kernels (:mod:`sk_conse._kernels`). CuPy and torch are imported
lazily, so importing sk_conse never needs them or a GPU.

The backends are registered in one table (``_BACKENDS``, at the end): each
class knows its library's name (which is how its arrays are recognised), the
devices it computes on, how to build itself for one (:meth:`Backend.on_device`)
and how its arrays go to NumPy (:meth:`Backend.array_to_numpy`).
:func:`to_numpy`, :func:`cuda_available`, :func:`resolve_device`,
:func:`get_backend`, :func:`backend_for` and :func:`backend_of` all read that
table, so a new backend is one class and one entry.
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import Any

import numpy as np

from . import _kernels as kernels
from ._compat import array_api_compat_namespace
from ._compensated import dot2_step
from ._parallel import SERIAL, Parallel

__all__ = [
    "Backend",
    "CupyBackend",
    "NumpyBackend",
    "TorchBackend",
    "backend_for",
    "cuda_available",
    "get_backend",
    "resolve_device",
    "to_numpy",
    "top_k",
]

_DEVICES = ("auto", "cpu", "cuda")

# Above this many weights a row, the sparse product W @ M goes dense.
GATHER_MAX_T = 32
# Pairs re-scored at a time by the generic Dot2 (bounds its temporaries).
_DOT2_PAIRS = 1024
# The compiled factorised route is cheaper up to T = base + q * per_q.
_KERNEL_T_BASE = 16
_KERNEL_T_PER_Q = 1 / 3
# The direct route's scores are made in blocks of at most this many bytes.
_DIRECT_BLOCK_BYTES = 16 << 20


# ---------------------------------------------------------------- imports


@functools.cache
def _import_library(name: str) -> ModuleType | None:
    """Import an array library once; ``None`` when it is absent or cannot load."""
    try:
        return importlib.import_module(name)
    except Exception:  # ImportError, or a broken CUDA runtime under it
        return None


def _library(a: Any) -> str:
    """The name of the library an array (or dtype) comes from."""
    return type(a).__module__.split(".")[0]


@functools.cache
def cuda_available(library: str = "cupy") -> bool:
    """Whether ``library`` is installed and sees at least one CUDA device.

    Parameters
    ----------
    library : {"cupy", "torch", "numpy"}, default="cupy"
        The array library that would compute on the device: CuPy for
        ConSE's search, torch for DeViSE's training (NumPy never does).

    Returns
    -------
    available : bool
        ``True`` when ``device="cuda"`` (and ``"auto"``) can run on a GPU.

    Examples
    --------
    >>> from sk_conse._backend import cuda_available
    >>> cuda_available() in (True, False), cuda_available("numpy")
    (True, False)
    """
    if "cuda" not in _backend_class(library).devices:
        return False
    module = _import_library(library)
    if module is None:
        return False
    try:
        return bool(module.cuda.is_available())
    except Exception:  # CUDARuntimeError and friends: no usable device
        return False


def resolve_device(device: str, library: str = "cupy") -> str:
    """Turn a ``device`` parameter into ``"cpu"`` or ``"cuda"``.

    The one device resolver of sk_conse: the estimators call it at fit time,
    each naming the library that computes on the device.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}
        ``"auto"`` picks ``"cuda"`` when ``library`` sees a CUDA device,
        ``"cpu"`` otherwise. ``"cuda"`` without a device is an error.

    library : {"cupy", "torch"}, default="cupy"
        Whose CUDA device counts: CuPy for ConSE, torch for DeViSE.

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
    if cuda_available(library):
        return "cuda"
    if device == "cuda":
        cls = _backend_class(library)
        reason = (
            f"{cls.title} is not installed (pip install 'sk_conse[{cls.extra}]')"
            if _import_library(library) is None
            else f"{cls.title} sees no CUDA device"
        )
        raise RuntimeError(
            f"device='cuda' was requested but {reason}. "
            "Use device='auto' to fall back to the CPU, or device='cpu'."
        )
    return "cpu"


def to_numpy(a: Any) -> Any:
    """Any NumPy, CuPy or torch array as NumPy (a no-op for NumPy).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._backend import to_numpy
    >>> to_numpy(np.arange(3))
    array([0, 1, 2])
    """
    return _class_of(a).array_to_numpy(a)


# --------------------------------------------------------------- backends


class Backend:
    """Array operations of one library on one device.

    Subclasses set the class attributes of the registry (``name``, ``title``,
    ``extra``, ``devices``, :meth:`array_to_numpy`; :meth:`on_device` where
    the device is a choice), ``xp`` (the library's array-API namespace, from
    :func:`sk_conse._compat.array_api_compat_namespace`) and ``device``, and
    implement the primitives :meth:`asarray`, :meth:`kth_largest`,
    :meth:`put_rows` and :meth:`_sparse_product`. Everything else here is
    generic: it is what torch and CuPy run, and what NumPy runs without the
    compiled kernels.
    """

    #: The array library's module name: its arrays are recognised by it.
    name: str = ""
    #: The library's name in messages, and the pip extra that installs it.
    title: str = ""
    extra: str = ""
    #: The resolved devices it computes on; the first is its default.
    devices: tuple[str, ...] = ("cpu",)
    xp: Any = None
    device: Any = None
    parallel: Parallel = SERIAL

    @classmethod
    def on_device(cls, device: Any = None) -> Backend:
        """This backend built for ``device`` (``None``: its default device)."""
        return cls()

    @staticmethod
    def array_to_numpy(a: Any) -> np.ndarray:
        """One of this library's arrays as NumPy."""
        return np.asarray(a)

    @classmethod
    def owns(cls, a: Any) -> bool:
        """Whether ``a`` is an array of this backend's library."""
        return _library(a) == cls.name

    def to_numpy(self, a: Any) -> np.ndarray:
        """The one exit to NumPy (an array of any registered library)."""
        return to_numpy(a)

    @property
    def key(self) -> tuple:
        """What identifies this backend's arrays (for caches of device state)."""
        return (self.name, str(self.device))

    def with_parallel(self, parallel: Parallel) -> Backend:
        """This backend with a thread budget (used by the CPU backend only)."""
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}(device={self.device!r})"

    def factorised_max_t(self, q: int) -> float:
        """The largest ``T`` at which the factorised route beats the direct
        one here, for vectors of ``q`` components.

        On the CPU without the compiled kernels each row costs ``T`` row
        additions of ``G`` against ``q`` GEMM multiply-adds a candidate:
        ``T <= q / 8`` (benchmarks/README.md, "Route crossovers"). On a GPU
        the direct route is one dense GEMM: the factorised route is never
        chosen automatically there.
        """
        return q / 8 if str(self.device) == "cpu" else 0

    # ------------------------------------------------------- primitives

    def asarray(self, a: Any, dtype: Any = None) -> Any:
        """``a`` (NumPy or this library) as an array on this backend's device."""
        raise NotImplementedError

    def dtype(self, dtype: Any) -> Any:
        """This library's dtype for a NumPy dtype."""
        return np.dtype(dtype)

    def empty(self, shape: tuple, dtype: Any) -> Any:
        return self.xp.empty(shape, dtype=self.dtype(dtype), device=self.device)

    def zeros(self, shape: tuple, dtype: Any) -> Any:
        return self.xp.zeros(shape, dtype=self.dtype(dtype), device=self.device)

    def kth_largest(self, A: Any, k: int) -> Any:
        """The ``k``-th largest value of each row, shape (m, 1)."""
        raise NotImplementedError

    def take_rows(self, A: Any, idx: Any) -> Any:
        """``A[i, idx[i, j]]``: a gather along the rows."""
        return self.xp.take_along_axis(A, idx, axis=1)

    def put_rows(self, A: Any, idx: Any, values: Any) -> None:
        """``A[i, idx[i, j]] = values[i, j]`` in place."""
        raise NotImplementedError

    def matmul(self, a: Any, b: Any, out: Any = None) -> Any:
        if out is None:
            return self.xp.matmul(a, b)
        out[...] = self.xp.matmul(a, b)
        return out

    # ----------------------------------------------------------- top-k

    def select_top_k(self, A: Any, k: int) -> Any:
        """Column indices of the ``k`` largest entries of each row, ascending.

        Exactly ``k`` indices per row; among equal values the smaller column
        wins, as with :func:`numpy.argmax`.

        Examples
        --------
        >>> import numpy as np
        >>> from sk_conse._backend import get_backend
        >>> get_backend("numpy").select_top_k(np.array([[0.2, 0.5, 0.2, 0.1]]), 2)
        array([[0, 1]])
        """
        xp = self.xp
        m, n = A.shape
        if k >= n:
            cols = xp.arange(n, device=self.device)
            return xp.broadcast_to(cols[None, :], (m, n)) * 1
        if k == 1:
            return xp.argmax(A, axis=1)[:, None]
        kth = self.kth_largest(A, k)
        mask = A >= kth
        if bool(xp.any(xp.sum(xp.astype(mask, xp.int64), axis=1) != k)):
            # Ties at the k-th value: keep the leftmost of the tied entries.
            above = A > kth
            tied = A == kth
            need = k - xp.sum(xp.astype(above, xp.int64), axis=1)[:, None]
            rank = xp.cumulative_sum(xp.astype(tied, xp.int64), axis=1)
            mask = above | (tied & (rank <= need))
        cols = xp.nonzero(mask)[1]
        return xp.reshape(cols, (m, k))

    def top_k(self, S: Any, k: int) -> tuple[Any, Any]:
        """Exact top-k of each row of ``S``, best first, ties to the smaller
        column.

        Returns
        -------
        idx : int array of shape (m, min(k, n))
        values : array of shape (m, min(k, n))
        """
        idx = self.select_top_k(S, min(k, S.shape[1]))
        vals = self.take_rows(S, idx)
        order = self.xp.argsort(vals, axis=1, descending=True, stable=True)
        return self.take_rows(idx, order), self.take_rows(vals, order)

    def raw_top_k(self, S: Any, K: int) -> tuple[Any, Any]:
        """``K`` largest entries of each row of ``S`` (columns and values),
        in any order and with any choice among ties: the search certifies
        them (:mod:`sk_conse._search`)."""
        return self.top_k(S, K)

    # --------------------------------------------------- raw scores

    def largest(self, P: Any, T: int) -> Any:
        """The columns of each row's ``T`` largest entries, ascending; of
        equal entries the smaller column (the top-T seen labels)."""
        return self.select_top_k(P, T)

    def weighted_sum(self, idx: Any, w: Any, M: Any, dtype: Any) -> Any:
        """``sum_t w[i, t] M[idx[i, t]]`` in float64, term after term from
        zero, rounded once to ``dtype``: ConSE's f(x), the same bits on
        every backend. ``M`` is float64; ``idx`` of one row serves every row.
        """
        xp = self.xp
        w = xp.astype(w, xp.float64)
        acc = self.zeros((w.shape[0], M.shape[1]), np.float64)
        for t in range(w.shape[1]):
            acc = acc + w[:, t : t + 1] * xp.take(M, idx[:, t], axis=0)
        return xp.astype(acc, self.dtype(dtype))

    def dot2(self, A: Any, ia: Any, B: Any, ib: Any) -> Any:
        """``A[ia[i]] · B[ib[i]]`` for each pair, in float64, by the
        compensated Dot2 (:func:`sk_conse._compensated.dot2_step`, the step
        the compiled kernel runs too), vectorised over the pairs: the same
        bits."""
        xp = self.xp
        out = self.empty((ia.shape[0],), np.float64)
        for start in range(0, ia.shape[0], _DOT2_PAIRS):
            a = xp.take(A, ia[start : start + _DOT2_PAIRS], axis=0)
            b = xp.take(B, ib[start : start + _DOT2_PAIRS], axis=0)
            a, b = xp.astype(a, xp.float64), xp.astype(b, xp.float64)
            p = xp.zeros_like(a[:, 0])
            s = xp.zeros_like(p)
            for j in range(a.shape[1]):
                p, s = dot2_step(p, s, a[:, j], b[:, j])
            out[start : start + _DOT2_PAIRS] = p + s
        return out

    def product_top_k(self, F: Any, U: Any, offset: Any, K: int) -> tuple:
        """Raw top-K of ``F @ Uᵀ - offset`` (``offset`` may be None)."""
        S = self.matmul(F, U.T)
        if offset is not None:
            S = S - offset
        return self.raw_top_k(S, K)

    def gather_top_k(self, idx: Any, w: Any, G: Any, offset: Any, K: int) -> tuple:
        """Raw top-K of ``W G - offset``, ``W`` the top-T weights."""
        S = self.weighted_rows(idx, w, G)
        if offset is not None:
            S = S - offset
        return self.raw_top_k(S, K)

    def gather_scores(
        self, idx: Any, w: Any, G: Any, offset: Any, out: Any, K: int
    ) -> tuple:
        """``out[...] = W G - offset``, and its raw top-K."""
        self.weighted_rows(idx, w, G, out=out)
        if offset is not None:
            out -= offset
        return self.raw_top_k(out, K)

    # --------------------------------------------------- sparse product

    def dense_weights(self, idx: Any, w: Any, n_rows: int) -> Any:
        """The dense (m, n_rows) matrix with ``w[i, t]`` at ``idx[i, t]``."""
        W = self.zeros((w.shape[0], n_rows), w.dtype)
        self.put_rows(W, idx, w)
        return W

    def weighted_rows(self, idx: Any, w: Any, M: Any, out: Any = None) -> Any:
        """``out[i] = sum_t w[i, t] M[idx[i, t]]``: the product ``W @ M``.

        ``W`` holds ``T = idx.shape[1]`` weights a row; above ``GATHER_MAX_T``
        it is applied as a dense product.
        """
        if idx.shape[1] > GATHER_MAX_T:
            W = self.dense_weights(idx, w, M.shape[0])
            return self.matmul(W, M, out=out)
        return self._sparse_product(idx, w, M, out)

    def _sparse_product(self, idx: Any, w: Any, M: Any, out: Any) -> Any:
        raise NotImplementedError


class _NumpyLike(Backend):
    """Primitives shared by NumPy and CuPy, whose APIs mirror each other."""

    module: Any = np

    def asarray(self, a: Any, dtype: Any = None) -> Any:
        return self.module.asarray(a, dtype=dtype)

    def empty(self, shape: tuple, dtype: Any) -> Any:
        return self.module.empty(shape, dtype=dtype)

    def zeros(self, shape: tuple, dtype: Any) -> Any:
        return self.module.zeros(shape, dtype=dtype)

    def kth_largest(self, A: Any, k: int) -> Any:
        n = A.shape[1]
        return self.module.partition(A, n - k, axis=1)[:, n - k][:, None]

    def put_rows(self, A: Any, idx: Any, values: Any) -> None:
        self.module.put_along_axis(A, idx, values, axis=1)

    def matmul(self, a: Any, b: Any, out: Any = None) -> Any:
        return self.module.matmul(a, b, out=out)


class CupyBackend(_NumpyLike):
    """CuPy on the current CUDA device: the generic top-k, cuSPARSE products."""

    name = "cupy"
    title = "CuPy"
    extra = "gpu"
    devices = ("cuda",)

    def __init__(self) -> None:
        self.module = _import_library("cupy")
        self.xp = array_api_compat_namespace("cupy")
        self.device = "cuda"

    @staticmethod
    def array_to_numpy(a: Any) -> np.ndarray:
        return a.get()

    @property
    def key(self) -> tuple:
        # Arrays live on the GPU that was current when they were made.
        return (self.name, f"cuda:{self.module.cuda.Device().id}")

    def _sparse_product(self, idx: Any, w: Any, M: Any, out: Any) -> Any:
        import cupyx.scipy.sparse as sparse  # pragma: no cover - GPU only

        cp = self.module  # pragma: no cover - GPU only
        n, T = idx.shape  # pragma: no cover
        # cuSPARSE takes 32-bit indices.
        itype = cp.int32 if n * T < 2**31 else cp.int64  # pragma: no cover
        indptr = cp.arange(0, n * T + 1, T, dtype=itype)  # pragma: no cover
        W = sparse.csr_matrix(  # pragma: no cover
            (w.ravel(), idx.ravel().astype(itype), indptr), shape=(n, M.shape[0])
        )
        product = W @ M  # pragma: no cover
        if out is None:  # pragma: no cover
            return product
        out[...] = product  # pragma: no cover
        return out  # pragma: no cover


class TorchBackend(Backend):
    """torch on one device (CPU or CUDA): the generic top-k, ``embedding_bag``."""

    name = "torch"
    title = "torch"
    extra = "torch"
    devices = ("cpu", "cuda")

    def __init__(self, device: Any = "cpu") -> None:
        import torch

        self.torch = torch
        self.xp = array_api_compat_namespace("torch")
        self.device = torch.device(device)

    @classmethod
    def on_device(cls, device: Any = None) -> TorchBackend:
        return cls("cpu" if device is None else device)

    @staticmethod
    def array_to_numpy(a: Any) -> np.ndarray:
        return a.detach().cpu().numpy()

    def dtype(self, dtype: Any) -> Any:
        if not isinstance(dtype, np.dtype) and _library(dtype) == "torch":
            return dtype
        return getattr(self.torch, np.dtype(dtype).name)

    def asarray(self, a: Any, dtype: Any = None) -> Any:
        if _library(a) == "cupy":
            a = a.get()
        dtype = None if dtype is None else self.dtype(dtype)
        return self.torch.as_tensor(a, dtype=dtype, device=self.device)

    def kth_largest(self, A: Any, k: int) -> Any:
        n = A.shape[1]
        return self.torch.kthvalue(A, n - k + 1, dim=1, keepdim=True).values

    def put_rows(self, A: Any, idx: Any, values: Any) -> None:
        A.scatter_(1, idx, values)

    def raw_top_k(self, S: Any, K: int) -> tuple[Any, Any]:
        vals, cols = self.torch.topk(S, K, dim=1)
        return cols, vals

    def matmul(self, a: Any, b: Any, out: Any = None) -> Any:
        if out is None:
            return self.torch.matmul(a, b)
        return self.torch.matmul(a, b, out=out)

    def _sparse_product(self, idx: Any, w: Any, M: Any, out: Any) -> Any:
        # Exactly the rows of W @ M, without building W.
        product = self.torch.nn.functional.embedding_bag(
            idx, M, per_sample_weights=w, mode="sum"
        )
        if out is None:
            return product
        out[...] = product
        return out


# ----------------------------------------------------- the CPU backend


class NumpyBackend(_NumpyLike):
    """NumPy on the CPU, with the compiled kernels (:mod:`sk_conse._kernels`).

    The kernels make the raw scores and their top-K without writing a score
    matrix, on the call's threads (:mod:`sk_conse._parallel`). Without numba
    (or with the test switch of :func:`sk_conse._kernels.available`) every
    method is the generic one of :class:`Backend`, the path torch and CuPy
    take.
    """

    name = "numpy"
    title = "NumPy"

    def __init__(self, parallel: Parallel = SERIAL) -> None:
        self.module = np
        self.xp = array_api_compat_namespace("numpy")
        self.device = "cpu"
        self.parallel = parallel
        self.compiled = kernels.available()

    def with_parallel(self, parallel: Parallel) -> NumpyBackend:
        return NumpyBackend(parallel)

    def factorised_max_t(self, q: int) -> float:
        # Per (row, candidate), the kernel's factorised route costs about
        # 1.4 + 0.075 T ns and the direct one 2.2-2.4 + 0.016-0.022 q ns
        # (benchmarks/README.md, "Route crossovers").
        if not self.compiled:
            return super().factorised_max_t(q)
        return _KERNEL_T_BASE + q * _KERNEL_T_PER_Q

    def _sparse_product(self, idx: Any, w: Any, M: Any, out: Any) -> Any:
        if out is None:
            out = np.empty((idx.shape[0], M.shape[1]), dtype=w.dtype)
        np.multiply(w[:, :1], M[idx[:, 0]], out=out)
        for t in range(1, idx.shape[1]):
            out += w[:, t : t + 1] * M[idx[:, t]]
        return out

    def raw_top_k(self, S: Any, K: int) -> tuple[Any, Any]:
        if not self.compiled:
            return super().raw_top_k(S, K)
        S = np.ascontiguousarray(S)
        m, n = S.shape
        return kernels.block_top_k([(0, S)], m, n, K, S.dtype, self.parallel)

    def largest(self, P: Any, T: int) -> Any:
        if not self.compiled:
            return super().largest(P, T)
        return kernels.largest_t(P, T, self.parallel)

    def weighted_sum(self, idx: Any, w: Any, M: Any, dtype: Any) -> Any:
        if not self.compiled:
            return super().weighted_sum(idx, w, M, dtype)
        return kernels.weighted_rows(idx, w, M, dtype, self.parallel)

    def dot2(self, A: Any, ia: Any, B: Any, ib: Any) -> Any:
        if not self.compiled:
            return super().dot2(A, ia, B, ib)
        return kernels.dot2(A, ia, B, ib, self.parallel)

    def product_top_k(self, F: Any, U: Any, offset: Any, K: int) -> tuple:
        if not self.compiled:
            return super().product_top_k(F, U, offset, K)
        m, n = F.shape[0], U.shape[0]
        # Blocks of scores that stay in the last-level cache while the
        # kernel reads them (benchmarks/README.md, "Direct block width").
        width = max(64, _DIRECT_BLOCK_BYTES // (F.dtype.itemsize * max(m, 1)))
        buffer = np.empty((m, min(width, n)), F.dtype)

        def blocks():
            for j0 in range(0, n, width):
                S = buffer[:, : min(width, n - j0)]
                np.matmul(F, U[j0 : j0 + width].T, out=S)
                if offset is not None:
                    S -= offset[j0 : j0 + width]
                yield j0, S

        return kernels.block_top_k(blocks(), m, n, K, F.dtype, self.parallel)

    def gather_top_k(self, idx: Any, w: Any, G: Any, offset: Any, K: int) -> tuple:
        if not self.compiled or idx.shape[1] > GATHER_MAX_T:
            return super().gather_top_k(idx, w, G, offset, K)
        return kernels.factorised_top_k(idx, w, G, offset, K, self.parallel)

    def gather_scores(
        self, idx: Any, w: Any, G: Any, offset: Any, out: Any, K: int
    ) -> tuple:
        if not self.compiled or idx.shape[1] > GATHER_MAX_T:
            return super().gather_scores(idx, w, G, offset, out, K)
        return kernels.factorised_scores(idx, w, G, offset, out, K, self.parallel)


# ----------------------------------------------------------------- lookup

#: Every backend by library name, the host's (NumPy) first: the one registry.
_BACKENDS: dict[str, type[Backend]] = {
    cls.name: cls for cls in (NumpyBackend, CupyBackend, TorchBackend)
}
_HOST = NumpyBackend


def _backend_class(name: str) -> type[Backend]:
    try:
        return _BACKENDS[name]
    except KeyError:
        known = ", ".join(map(repr, _BACKENDS))
        raise ValueError(f"Unknown backend {name!r}; use one of {known}.") from None


def _class_of(a: Any) -> type[Backend]:
    """The backend class whose library ``a`` comes from (the host's for the rest)."""
    return next((cls for cls in _BACKENDS.values() if cls.owns(a)), _HOST)


def get_backend(name: str = "numpy", device: Any = None) -> Backend:
    """A backend by library name: ``"numpy"``, ``"cupy"`` or ``"torch"``.

    ``device`` is the backend's device (its default when ``None``); a CUDA
    device needs the library to see one.

    Examples
    --------
    >>> from sk_conse._backend import get_backend
    >>> get_backend("numpy")
    NumpyBackend(device='cpu')
    """
    cls = _backend_class(name)
    wanted = cls.devices[0] if device is None else device
    on_cuda = "cuda" in cls.devices and str(wanted).startswith("cuda")
    if on_cuda and not cuda_available(name):
        raise RuntimeError(
            f"The {cls.title} backend needs {cls.title} and a CUDA device."
        )
    return cls.on_device(device)


def backend_for(X: Any, device: str, *, follow_input: bool) -> Backend:
    """The backend a public call computes on.

    Parameters
    ----------
    X : array-like
        The call's input.
    device : {"cpu", "cuda"}
        The estimator's resolved device: the first registered backend that
        computes on it and, for ``"cuda"``, sees a device (CuPy, then torch).
    follow_input : bool
        When true (scikit-learn's ``array_api_dispatch`` is on), a torch or
        CuPy ``X`` is computed on in its own library and on its own device.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._backend import backend_for
    >>> backend_for(np.zeros(3), "cpu", follow_input=True)
    NumpyBackend(device='cpu')
    """
    if follow_input and _class_of(X) is not _HOST:
        return backend_of(X)
    able = [cls for cls in _BACKENDS.values() if device in cls.devices]
    usable = [cls for cls in able if device == "cpu" or cuda_available(cls.name)]
    return (usable or able)[0].on_device(device)


def backend_of(a: Any) -> Backend:
    """The backend that owns array ``a`` (NumPy's for anything else)."""
    return _class_of(a).on_device(getattr(a, "device", None))


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
    return backend_of(scores).top_k(scores, k)
