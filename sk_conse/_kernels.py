"""Compiled CPU kernels (numba): the NumPy backend's raw scores and top-K.

Wrappers around :mod:`sk_conse._numba_kernels`, which is imported on first
use only. Each wrapper checks its indices before entering a kernel (a
compiled kernel does not: an index out of range would read outside the
array), makes its arrays C-contiguous in one dtype (one compiled signature
per dtype) and splits the rows between the call's threads.

- :func:`factorised_top_k` and :func:`block_top_k`: a streaming top-K over
  scores made one column block at a time (gathered from ``G``, or written by
  a GEMM); no (rows x candidates) array is kept. Raw: the search certifies
  the ranking (:mod:`sk_conse._search`).
- :func:`factorised_scores`: the same sums, written out.
- :func:`weighted_rows`: ConSE's f(x), summed in float64 in a fixed order.
- :func:`dot2`: compensated dot products, the search's reference scores.
- :func:`largest_t`: the top-T seen labels of p(y|x).

Compiled code is cached on disk (:mod:`sk_conse._kernel_cache`).
:func:`available` says whether the kernels run: numba is a dependency of
sk_conse, and without it (or with the private test switch
``SK_CONSE_DISABLE_NUMBA`` set) the NumPy backend takes the generic path
that torch and CuPy take.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = [
    "available",
    "block_top_k",
    "dot2",
    "factorised_scores",
    "factorised_top_k",
    "largest_t",
    "weighted_rows",
]

# Rows per work unit given to a thread; pairs per unit for dot2.
UNIT_ROWS = 512
PAIR_UNIT = 2048


def available() -> bool:
    """Whether the compiled kernels run (numba is installed, and the test
    switch ``SK_CONSE_DISABLE_NUMBA`` is not set)."""
    if os.environ.get("SK_CONSE_DISABLE_NUMBA"):
        return False
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _compiled() -> Any:
    from . import _numba_kernels

    return _numba_kernels


def _check_range(name: str, index: Any, size: int) -> None:
    """Refuse indices outside ``[0, size)`` before a kernel reads with them."""
    if index.size and (index.min() < 0 or index.max() >= size):
        raise IndexError(
            f"{name} holds indices from {int(index.min())} to {int(index.max())}, "
            f"outside [0, {size}): refusing to run a compiled kernel on them."
        )


def _rows(parallel: Any, m: int, kernel: Any, unit_rows: int = UNIT_ROWS) -> None:
    """Run ``kernel(start, stop)`` over the rows in units of at most
    ``unit_rows`` (an even share when fewer), on the call's threads (the
    kernels release the GIL; Python threads, not an OpenMP team, whose
    spinning threads fight OpenBLAS's for the cores)."""
    if parallel is None or m <= 1:
        kernel(0, m)
        return
    unit_rows = max(1, min(unit_rows, -(-m // parallel.n_threads)))
    n_units = -(-m // unit_rows)
    parallel.run(
        n_units, lambda u: kernel(u * unit_rows, min(u * unit_rows + unit_rows, m))
    )


def _empty_top_k(m: int, K: int, n: int, dtype: Any) -> tuple:
    """Each row's empty top-K: columns, values and K-th best. Empty slots
    hold ``-inf`` at columns ``n, n + 1, ...``."""
    cols = np.empty((m, K), dtype=np.int64)
    cols[:] = n + np.arange(K)
    vals = np.full((m, K), -np.inf, dtype=dtype)
    low = np.full(m, -np.inf, dtype=dtype)
    return cols, vals, low


def _gather_args(idx: Any, w: Any, G: Any, offset: Any) -> tuple:
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    _check_range("idx", idx, G.shape[0])
    offset = np.zeros(0, G.dtype) if offset is None else offset
    return idx, np.ascontiguousarray(w, G.dtype), np.ascontiguousarray(offset, G.dtype)


def factorised_top_k(
    idx: Any, w: Any, G: Any, offset: Any, K: int, parallel: Any = None
) -> tuple:
    """The ``K`` best columns of each row of ``W G - offset``, best first.

    ``idx`` (m, T) are rows of ``G`` (C-contiguous, (n_seen, n)), ``w``
    (m, T) their weights; ``offset`` (n,) or None. Returns ``cols`` (int64)
    and ``values``, each (m, K).
    """
    idx, w, offset = _gather_args(idx, w, G, offset)
    m = idx.shape[0]
    top = _empty_top_k(m, K, G.shape[1], G.dtype)
    kernel = _compiled().factorised
    _rows(parallel, m, lambda a, b: kernel(idx, w, G, offset, *top, a, b))
    return top[0], top[1]


def factorised_scores(
    idx: Any, w: Any, G: Any, offset: Any, out: Any, K: int, parallel: Any = None
) -> tuple:
    """``out[:, :n] = W G - offset``: the sums of :func:`factorised_top_k`,
    written; each row's raw top-K comes with them (read while in cache)."""
    idx, w, offset = _gather_args(idx, w, G, offset)
    top = _empty_top_k(idx.shape[0], K, G.shape[1], G.dtype)
    kernel = _compiled().scores
    _rows(
        parallel,
        idx.shape[0],
        lambda a, b: kernel(idx, w, G, offset, out, *top, a, b),
    )
    return top[0], top[1]


def block_top_k(
    blocks: Any, m: int, n_valid: int, K: int, dtype: Any, parallel: Any = None
) -> tuple:
    """The ``K`` best columns of each row over blocks of scores, best first.

    ``blocks`` yields ``(j0, S)``: C-contiguous (m, width) scores of columns
    ``j0:j0 + width``, left to right; columns from ``n_valid`` on are ignored.
    """
    kernel = _compiled().blocks
    top = _empty_top_k(m, K, n_valid, dtype)
    for j0, S in blocks:
        _rows(parallel, m, lambda a, b, S=S, j0=j0: kernel(S, j0, n_valid, *top, a, b))
    return top[0], top[1]


def largest_t(P: Any, T: int, parallel: Any = None) -> Any:
    """The columns of each row's ``T`` largest entries, ascending (of equal
    entries the smaller column). ``P`` is finite."""
    P = np.ascontiguousarray(P)
    out = np.empty((P.shape[0], T), dtype=np.int64)
    kernel = _compiled().largest_t
    _rows(parallel, P.shape[0], lambda a, b: kernel(P, out, a, b))
    return out


def weighted_rows(idx: Any, w: Any, M: Any, dtype: Any, parallel: Any = None) -> Any:
    """``sum_t w[i, t] M[idx[i, t]]`` per row in float64, term after term,
    rounded once to ``dtype``. ``idx`` of one row serves every row."""
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    _check_range("idx", idx, M.shape[0])
    # float32 weights are read as they are (each widened exactly in the
    # kernel): no float64 copy of a (rows x T) table.
    w = np.ascontiguousarray(w, dtype=w.dtype if w.dtype == np.float32 else np.float64)
    q = M.shape[1]
    width = q
    wide = np.ascontiguousarray(M, dtype=np.float64)
    if idx.shape[0] == 1 and q % _compiled().LANES:
        # Zero columns up to whole vectors: the tiles cover every column
        # (a scalar tail reading M by columns cost a fifth of the time at
        # q = 500); each column's sum is its own, so the bits are the same.
        width = -(-q // _compiled().LANES) * _compiled().LANES
        wide = np.zeros((M.shape[0], width), dtype=np.float64)
        wide[:, :q] = M
    out = np.empty((w.shape[0], width), dtype=dtype)
    kernel = _compiled().weighted_rows
    _rows(parallel, w.shape[0], lambda a, b: kernel(idx, w, wide, out, a, b))
    return out if width == q else np.ascontiguousarray(out[:, :q])


def dot2(A: Any, ia: Any, B: Any, ib: Any, parallel: Any = None) -> Any:
    """``A[ia[i]] · B[ib[i]]`` for each pair, compensated (Dot2), float64."""
    ia = np.ascontiguousarray(ia, dtype=np.int64)
    ib = np.ascontiguousarray(ib, dtype=np.int64)
    _check_range("ia", ia, A.shape[0])
    _check_range("ib", ib, B.shape[0])
    A = np.ascontiguousarray(A, dtype=np.float64)
    B = np.ascontiguousarray(B)
    out = np.empty(ia.shape[0], dtype=np.float64)
    kernel = _compiled().dot2
    _rows(
        parallel,
        ia.shape[0],
        lambda a, b: kernel(A, ia, B, ib, out, a, b),
        unit_rows=PAIR_UNIT,
    )
    return out
