"""Backends as objects: NumPy, CuPy and torch (CPU or CUDA).

Each backend is a class with the same methods (POT's ``ot/backend.py`` is the
model): the search code in :mod:`sk_conse._search` calls ``nx.<method>`` and the
backend's array-API namespace ``nx.xp`` only, so it has no ``if xp is numpy``
in it, and a new backend is one class here.

What a backend owns:

- conversions: :meth:`Backend.asarray` (onto its device), :meth:`Backend.to_numpy`
  (the one exit to NumPy);
- **top-k**: :meth:`Backend.select_top_k` (ascending columns) and
  :meth:`Backend.top_k` (best first), exact, ties to the smaller column;
- **row gather**: :meth:`Backend.take_rows`, :meth:`Backend.put_rows`;
- the **sparse product** ``W @ M`` where ``W`` holds ``T`` weights a row
  (:meth:`Backend.weighted_rows`): ConSE's f(x) = W S0, and its factorised
  scores W (S0 S1ᵀ).

:class:`Backend` implements top-k and the sparse product generically, through
a few primitives (the k-th largest value of each row, a stable sort, a
cumulative sum): this is the code CuPy and torch run, and CI runs it through
the torch backend on the CPU. :class:`NumpyBackend` replaces them with the
tuned CPU versions (narrow strided groups, threaded gathers through
:mod:`sk_conse._parallel`). CuPy and torch are imported lazily, so importing
sk_conse never needs them or a GPU.

The backends are registered in one table (``_BACKENDS``, at the end): each
class knows its library's name (which is how its arrays are recognised), the
devices it computes on, how to build itself for one (:meth:`Backend.on_device`)
and how its arrays go to NumPy (:meth:`Backend.array_to_numpy`).
:func:`to_numpy`, :func:`cuda_available`, :func:`resolve_device`,
:func:`get_backend`, :func:`backend_for` and :func:`backend_of` all read that
table, so a new backend is one class and one entry.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from types import ModuleType
from typing import Any

import numpy as np

from ._compat import array_api_compat_namespace
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

# Scores are laid out in groups of this many columns for the generic grouped
# top-k; candidate sets are padded (with -inf) to a multiple of it.
GROUP = 64
# Rows per call in :meth:`Backend.rowwise_matmul` (a multiple of every BLAS
# kernel's row tile).
_STABLE_ROWS = 64
# Above this many weights a row, the sparse product W @ M goes dense.
_GATHER_MAX_T = 32


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
    generic.
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

    def rowwise_matmul(self, a: Any, b: Any) -> Any:
        """``a @ b`` with each row computed as it would be in any batch.

        A BLAS rounds a row differently by its place in the kernel's tiles
        and by the size of the call (one row goes through GEMV). The product
        runs in float64 and is rounded to the dtype of ``a``: for float32,
        what is left of the BLAS's choices lies far below the final rounding.
        float64 input gets no such margin: it is multiplied in row blocks of
        one fixed size (the last zero-padded), so that no row ever goes
        through another code path than the others.
        """
        xp = self.xp
        wide = xp.float64
        if xp.isdtype(a.dtype, xp.float32):
            return xp.astype(
                self.matmul(xp.astype(a, wide), xp.astype(b, wide, copy=False)),
                a.dtype,
            )
        m = a.shape[0]
        out = self.empty((m, b.shape[1]), a.dtype)
        block = _STABLE_ROWS
        for start in range(0, m, block):
            part = a[start : start + block]
            rows = part.shape[0]
            if rows < block:
                padded = self.zeros((block, a.shape[1]), a.dtype)
                padded[:rows] = part
                part = padded
            out[start : start + rows] = self.matmul(part, b)[:rows]
        return out

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

    def top_k(self, S: Any, k: int, n_valid: int | None = None) -> tuple[Any, Any]:
        """Exact top-k of each row of ``S[:, :n_valid]``, best first.

        ``S`` may carry ``-inf`` padding beyond ``n_valid``. Ties go to the
        smaller column. Wide blocks whose width is a multiple of ``GROUP``
        first take the maximum over strided groups of columns, keep the ``k``
        best groups and select within them.

        Returns
        -------
        idx : int array of shape (m, min(k, n_valid))
        values : array of shape (m, min(k, n_valid))
        """
        n_valid = S.shape[1] if n_valid is None else n_valid
        k = min(k, n_valid)
        if S.shape[1] % GROUP == 0 and n_valid >= 8 * k * GROUP:
            idx, vals = self._grouped_top_k(S, k, n_valid)
        else:
            idx = self.select_top_k(S[:, :n_valid], k)
            vals = self.take_rows(S, idx)
        order = self.xp.argsort(vals, axis=1, descending=True, stable=True)
        return self.take_rows(idx, order), self.take_rows(vals, order)

    def _grouped_top_k(self, S: Any, k: int, n_valid: int) -> tuple[Any, Any]:
        """Top-k (ascending columns) through the maxima of column groups.

        Group ``g`` holds the strided columns ``g, g + n_groups, ...``. When
        no group outside the ``k`` chosen ties the ``k``-th best group
        maximum, the top-k lie within the chosen groups; rows where one does
        are recomputed on the whole row.
        """
        xp = self.xp
        m, width = S.shape
        n_groups = width // GROUP
        group_max = xp.max(xp.reshape(S, (m, GROUP, n_groups)), axis=1)
        groups = self.select_top_k(group_max, k)  # ascending group ids
        kth = xp.min(self.take_rows(group_max, groups), axis=1)[:, None]
        # Position-major: column p * n_groups + g increases along each row, so
        # ties inside the chosen groups still go to the smaller column.
        positions = xp.arange(GROUP, dtype=groups.dtype, device=self.device)
        cols = positions[None, :, None] * n_groups + groups[:, None, :]
        cols = xp.reshape(cols, (m, GROUP * k))
        sub = self.take_rows(S, cols)
        pos = self.select_top_k(sub, k)
        idx = self.take_rows(cols, pos)
        vals = self.take_rows(sub, pos)
        unsafe = xp.sum(xp.astype(group_max >= kth, xp.int64), axis=1) > k
        if bool(xp.any(unsafe)):
            rows = xp.nonzero(unsafe)[0]
            fix = self.select_top_k(S[rows, :n_valid], k)
            idx[rows] = fix
            vals[rows] = self.take_rows(S[rows], fix)
        return idx, vals

    # --------------------------------------------------- sparse product

    def dense_weights(self, idx: Any, w: Any, n_rows: int) -> Any:
        """The dense (m, n_rows) matrix with ``w[i, t]`` at ``idx[i, t]``."""
        W = self.zeros((w.shape[0], n_rows), w.dtype)
        self.put_rows(W, idx, w)
        return W

    def prepare_product(self, M: Any) -> Any:
        """``M`` laid out for repeated :meth:`weighted_rows` products."""
        return M

    def weighted_rows(self, idx: Any, w: Any, M: Any, out: Any = None) -> Any:
        """``out[i] = sum_t w[i, t] M[idx[i, t]]``: the product ``W @ M``.

        ``W`` holds ``T = idx.shape[1]`` weights a row; above ``_GATHER_MAX_T``
        it is applied as a dense product. ``M`` is an array or what
        :meth:`prepare_product` made of one.
        """
        if idx.shape[1] > _GATHER_MAX_T:
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


# ----------------------------------------------------- the tuned CPU backend

# NumPy's grouped top-k uses narrower groups (a divisor of GROUP): gathering
# the chosen strided groups touches one cache line per element, so it costs
# ~k * group cache lines a row (16 was fastest at 21,888 columns, k = 20), and
# the group maxima are themselves selected by the same method.
_NP_GROUP = 16
# The factorised product on NumPy: columns of G = S0 S1ᵀ per block (a block
# stays in the last-level cache while rows gather from it), and rows of the
# output filled per gather (measured on 2 Zen cores, 1,000 x 21,841 G).
_GRAM_BLOCK = 2048
_GATHER_ROWS = 16
# Work is split between threads in units of rows so that a thread slowed by
# a busy core takes fewer of them; below the minimum work (output entries x T
# for the gather, entries for the top-k) a block runs on the calling thread.
_GATHER_THREAD_ROWS = 128
_GATHER_THREAD_MIN_WORK = 1 << 26
_TOPK_THREAD_ROWS = 64
_TOPK_THREAD_MIN_WORK = 1 << 23


@dataclasses.dataclass(frozen=True)
class _ColumnBlocks:
    """A matrix as contiguous column blocks ``[(first column, block), ...]``."""

    blocks: tuple
    shape: tuple


class NumpyBackend(_NumpyLike):
    """NumPy on the CPU, with the tuned top-k and threaded gathers.

    Python threads come from :mod:`sk_conse._parallel` (NumPy releases the GIL
    in ``take``, small BLAS products and ufuncs): ~1.7x on 2 cores for the
    factorised gather at T = 10 and 1.9x for the group maxima of the top-k.
    """

    name = "numpy"
    title = "NumPy"

    def __init__(self, parallel: Parallel = SERIAL) -> None:
        self.module = np
        self.xp = array_api_compat_namespace("numpy")
        self.device = "cpu"
        self.parallel = parallel

    def with_parallel(self, parallel: Parallel) -> NumpyBackend:
        return NumpyBackend(parallel)

    # A flat take / put is ~2x faster than take_along_axis / put_along_axis.
    def take_rows(self, A: Any, idx: Any) -> Any:
        if not A.flags.c_contiguous:
            return np.take_along_axis(A, idx, axis=1)
        flat = idx + (np.arange(A.shape[0], dtype=idx.dtype) * A.shape[1])[:, None]
        return A.reshape(-1).take(flat)

    def put_rows(self, A: Any, idx: Any, values: Any) -> None:
        flat = idx + (np.arange(A.shape[0], dtype=idx.dtype) * A.shape[1])[:, None]
        A.reshape(-1).put(flat, values)

    def dense_weights(self, idx: Any, w: Any, n_rows: int) -> Any:
        # T = all keeps indices ascending: w is W already.
        if idx.shape[1] == n_rows and np.array_equal(
            idx, np.broadcast_to(np.arange(n_rows), idx.shape)
        ):
            return w
        return super().dense_weights(idx, w, n_rows)

    # ----------------------------------------------------------- top-k

    def top_k(self, S: Any, k: int, n_valid: int | None = None) -> tuple[Any, Any]:
        n_valid = S.shape[1] if n_valid is None else n_valid
        k = min(k, n_valid)
        if S.shape[1] % _NP_GROUP == 0 and n_valid >= 8 * k * _NP_GROUP:
            idx, vals = self._threaded_top_k(S, k, n_valid)
            # Best first, ties to the smaller column.
            order = np.lexsort((idx, -vals), axis=1)
            return self.take_rows(idx, order), self.take_rows(vals, order)
        return super().top_k(S, k, n_valid)

    def _threaded_top_k(self, S: Any, k: int, n_valid: int) -> tuple[Any, Any]:
        """Exact top-k (unordered) of ``S[:, :n_valid]``, rows split by thread."""
        if not S.flags.c_contiguous:
            S = np.ascontiguousarray(S)
        m = S.shape[0]
        step = _TOPK_THREAD_ROWS
        if m * S.shape[1] < _TOPK_THREAD_MIN_WORK or self.parallel.n_threads <= 1:
            return self._unordered_rows(S, k, n_valid)
        idx = np.empty((m, k), dtype=np.intp)
        vals = np.empty((m, k), dtype=S.dtype)

        def unit(u: int) -> None:
            rows = slice(u * step, min(u * step + step, m))
            idx[rows], vals[rows] = self._unordered_rows(S[rows], k, n_valid)

        self.parallel.run(-(-m // step), unit)
        return idx, vals

    def _unordered_rows(self, S: Any, k: int, n_valid: int) -> tuple[Any, Any]:
        idx, bad = _unordered_top_k_np(S, k)
        vals = self.take_rows(S, idx)
        if bool(bad.any()):
            rows = np.nonzero(bad)[0]
            fix = self.select_top_k(S[rows, :n_valid], k)
            idx[rows] = fix
            vals[rows] = self.take_rows(S[rows], fix)
        return idx, vals

    # --------------------------------------------------- sparse product

    def prepare_product(self, M: Any) -> Any:
        if M.shape[1] <= _GRAM_BLOCK:
            return M
        blocks = tuple(
            (j, np.ascontiguousarray(M[:, j : j + _GRAM_BLOCK]))
            for j in range(0, M.shape[1], _GRAM_BLOCK)
        )
        return _ColumnBlocks(blocks, M.shape)

    def weighted_rows(self, idx: Any, w: Any, M: Any, out: Any = None) -> Any:
        blocks = M.blocks if isinstance(M, _ColumnBlocks) else ((0, M),)
        m = idx.shape[0]
        if out is None:
            out = np.empty((m, M.shape[1]), dtype=w.dtype)
        if idx.shape[1] > _GATHER_MAX_T:
            W = self.dense_weights(idx, w, M.shape[0])
            for j, block in blocks:
                np.matmul(W, block, out=out[:, j : j + block.shape[1]])
            return out
        return self._sparse_product(idx, w, blocks, out)

    def _sparse_product(self, idx: Any, w: Any, blocks: Any, out: Any) -> Any:
        m, T = idx.shape
        work = m * out.shape[1] * T
        if work < _GATHER_THREAD_MIN_WORK or self.parallel.n_threads <= 1:
            for block in blocks:
                _gather_rows(block, idx, w, out, 0, m)
            return out
        # (column block, row chunk) units, block-major so that the threads
        # share the block of G in the last-level cache.
        units = [
            (block, i, min(i + _GATHER_THREAD_ROWS, m))
            for block in blocks
            for i in range(0, m, _GATHER_THREAD_ROWS)
        ]

        def unit(u: int) -> None:
            block, r0, r1 = units[u]
            _gather_rows(block, idx, w, out, r0, r1)

        self.parallel.run(len(units), unit)
        return out


def _gather_rows(
    block: tuple[int, Any], idx: Any, w: Any, out: Any, r0: int, r1: int
) -> None:
    """Rows ``r0:r1`` of ``out[:, j:j + width] = W @ block``, by gathers.

    A few rows of the block are gathered at a time and combined by a batched
    (1 x T) @ (T x width) product; SciPy's CSR @ dense runs a scalar loop,
    about 2x slower here.
    """
    j, G = block
    T = idx.shape[1]
    width = G.shape[1]
    w3 = w[:, None, :]
    for i in range(r0, r1, _GATHER_ROWS):
        rows = slice(i, min(i + _GATHER_ROWS, r1))
        dest = out[rows, j : j + width]
        if T == 1:
            np.multiply(np.take(G, idx[rows, 0], axis=0), w[rows], out=dest)
        else:
            dest[...] = np.matmul(w3[rows], np.take(G, idx[rows], axis=0))[:, 0]


def _unordered_top_k_np(A: Any, k: int) -> tuple[Any, Any]:
    """Column indices of ``k`` largest entries of each row, unordered.

    Also returns a flag per row, set where the ``k``-th largest value is tied
    with an entry left out (or a chosen group's maximum ties one left out):
    only unflagged rows are exact with ties going to the smaller column; the
    caller recomputes the flagged ones.
    """
    m, n = A.shape
    if n % _NP_GROUP == 0 and n >= 8 * k * _NP_GROUP:
        n_groups = n // _NP_GROUP
        strided = A.reshape(m, _NP_GROUP, n_groups)
        # An explicit elementwise maximum is ~2x faster than max(axis=1).
        group_max = strided[:, 0].copy()
        for p in range(1, _NP_GROUP):
            np.maximum(group_max, strided[:, p], out=group_max)
        groups, bad = _unordered_top_k_np(group_max, k)
        base = groups + (np.arange(m, dtype=groups.dtype) * n)[:, None]
        offsets = np.arange(_NP_GROUP, dtype=groups.dtype)[None, :, None] * n_groups
        cols = (offsets + base[:, None, :]).reshape(m, _NP_GROUP * k)
        sub = A.reshape(-1).take(cols)
        pos, bad_sub = _unordered_top_k_np(sub, k)
        position, member = np.divmod(pos, k)
        idx = position * n_groups + np.take_along_axis(groups, member, axis=1)
        return idx, bad | bad_sub
    if k >= n:
        return np.broadcast_to(np.arange(n), (m, n)).copy(), np.zeros(m, bool)
    # A single-kth partition (multi-kth ones are ~5x slower in NumPy 2).
    idx = np.argpartition(A, n - k, axis=1)[:, n - k :]
    flat = idx + (np.arange(m, dtype=idx.dtype) * n)[:, None]
    kth = A.reshape(-1).take(flat).min(axis=1, keepdims=True)
    bad = np.count_nonzero(A >= kth, axis=1) > k
    return idx, bad


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
    of columns returns every column. The one top-k of sk_conse: the search
    and the metrics both rank through it.

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
