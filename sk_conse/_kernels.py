"""Compiled CPU kernels (numba): ConSE's search without a score matrix.

The factorised route scores a row as ``sum_t w_t G[y_t]`` with ``G = S0 S1ᵀ``
(:mod:`sk_conse._search`). :func:`factorised_top_k` does, for a chunk of
rows at a time and one column block of ``G`` at a time (the block stays in
cache while the chunk's rows gather from it):

- the weighted sum of the ``T`` rows of the block (in a fixed order: the
  same bits for a row whatever the batch);
- minus the offset (calibrated stacking);
- a streaming top-K: a block whose maximum does not beat the row's K-th
  best is skipped after one pass over it.

No (rows x candidates) array is written: memory is K entries a row. The
direct route has :func:`block_top_k`, the same streaming top-K over blocks
of scores that a GEMM writes one block at a time.

Compiled code is cached on disk in the user's cache folder (see
:mod:`sk_conse._kernel_cache`), never inside the installed package, so a second
process does not compile again. Without numba the search keeps its NumPy
routes (:func:`available`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = [
    "available",
    "block_top_k",
    "exact_dots",
    "factorised_scores",
    "factorised_top_k",
    "largest_t",
    "weighted_rows",
]

# Rows that share each column block of G while it is in cache.
CHUNK_ROWS = 512
# Rows per work unit given to a thread.
UNIT_ROWS = 512
# Pairs per work unit of exact_dots (a dot product of q terms each).
_PAIR_UNIT = 2048
# Columns of G per block: T rows of a block are gathered per sample. Wide
# blocks pay the per-row setup less often; the block's rows are read as
# streams the prefetcher follows (measured on 2 Zen 3 cores, T = 10, 1,024
# rows: 256 columns 40 ms, 512 34 ms, 2,048 25-28 ms, 8,192 32 ms).
BLOCK_COLUMNS = 2048


def available() -> bool:
    """Whether numba is installed (the kernels compile on first use)."""
    if os.environ.get("SK_CONSE_DISABLE_NUMBA"):
        return False
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _compile() -> Any:
    """The kernels' module (numba is imported on first use only)."""
    from . import _numba_kernels

    return _numba_kernels


def _rows(parallel: Any, m: int, kernel: Any, unit_rows: int = UNIT_ROWS) -> None:
    """Run ``kernel(start, stop)`` over the rows in units of ``unit_rows``
    (:data:`UNIT_ROWS`), on the call's threads (the kernels release the GIL).

    Python threads, not an OpenMP team: a team's threads spin after each
    kernel and fight OpenBLAS's for the cores (measured: the GEMMs beside
    them 2x slower).
    """
    if parallel is None or m <= 1:
        kernel(0, m)
        return
    # Units no larger than an even share: 640 rows on 2 threads run as
    # 320 + 320, not 512 + 128.
    unit_rows = max(1, min(unit_rows, -(-m // parallel.n_threads)))
    n_units = -(-m // unit_rows)
    if n_units == 1:
        kernel(0, m)
        return
    parallel.run(
        n_units, lambda u: kernel(u * unit_rows, min(u * unit_rows + unit_rows, m))
    )


def factorised_top_k(
    idx: Any, w: Any, G: Any, offset: Any, K: int, parallel: Any = None
) -> tuple:
    """The ``K`` best columns of each row of ``W G - offset``, best first.

    Parameters
    ----------
    idx : int64 array of shape (m, T)
        Each row's seen labels (rows of ``G``).
    w : array of shape (m, T)
        Their weights (already divided by ||f(x)||), in ``G``'s dtype.
    G : C-contiguous array of shape (n_seen, n)
        ``S0 S1ᵀ`` over the candidates.
    offset : array of shape (n,) or (0,)
        Subtracted from each column; empty for none.
    K : int
        Entries kept a row (at most ``n``).
    parallel : sk_conse._parallel.Parallel or None
        The call's threads; None runs on the calling thread.

    Returns
    -------
    cols : int64 array of shape (m, K)
    values : array of shape (m, K)
        Best first; equal values in increasing column order.
    """
    idx, w, offset = _canonical(idx, w, G, offset)
    m = idx.shape[0]
    top = _empty_top_k(m, K, G.shape[1], G.dtype)
    kernel = _compile().factorised
    _rows(parallel, m, lambda a, b: kernel(idx, w, G, offset, *top, a, b))
    return top[0], top[1]


def _empty_top_k(m: int, K: int, n: int, dtype: Any) -> tuple:
    """Each row's empty top-K: columns, values (best first) and K-th best.

    Empty slots hold ``-inf`` at columns ``n, n + 1, ...`` (beyond every
    real one, so a real score displaces them first)."""
    cols = np.empty((m, K), dtype=np.int64)
    cols[:] = n + np.arange(K)
    vals = np.full((m, K), -np.inf, dtype=dtype)
    low = np.full(m, -np.inf, dtype=dtype)
    return cols, vals, low


def _canonical(idx: Any, w: Any, G: Any, offset: Any) -> tuple:
    """C-contiguous int64 indices, weights and offsets in G's dtype: one
    compiled signature per dtype."""
    return (
        np.ascontiguousarray(idx, dtype=np.int64),
        np.ascontiguousarray(w, dtype=G.dtype),
        np.ascontiguousarray(offset, dtype=G.dtype),
    )


def factorised_scores(
    idx: Any, w: Any, G: Any, offset: Any, out: Any, K: int, parallel: Any = None
) -> tuple:
    """``out[:, :n] = W G - offset`` and ``-inf`` beyond, written once.

    The same sums, in the same order, as :func:`factorised_top_k`; each
    row's ``K`` best come with them (read while the block is in cache, not
    from ``out`` again). ``out`` has shape (m, >= n), C-contiguous rows.

    Returns
    -------
    cols, values : the rows' top-K, as :func:`factorised_top_k`.
    """
    idx, w, offset = _canonical(idx, w, G, offset)
    top = _empty_top_k(idx.shape[0], K, G.shape[1], G.dtype)
    kernel = _compile().scores
    _rows(
        parallel,
        idx.shape[0],
        lambda a, b: kernel(idx, w, G, offset, out, *top, a, b),
    )
    return top[0], top[1]


def largest_t(P: Any, T: int, parallel: Any = None) -> Any:
    """The columns of each row's ``T`` largest entries, ascending.

    Of equal entries the smaller column is taken (as
    :meth:`sk_conse._backend.Backend.select_top_k`). ``P`` is finite.
    """
    P = np.ascontiguousarray(P)
    out = np.empty((P.shape[0], T), dtype=np.int64)
    kernel = _compile().largest_t
    _rows(parallel, P.shape[0], lambda a, b: kernel(P, out, a, b))
    return out


def exact_dots(
    F: Any,
    at: Any,
    units: Any,
    expand: Any,
    cols: Any,
    offset: Any,
    out: Any,
    parallel: Any = None,
) -> Any:
    """``out[i] = F[at[i]] · units[expand[cols[i]]] - offset[cols[i]]``.

    In float64 (``F`` is float64; units and offsets are widened), rounded
    to ``out``'s dtype once. Each dot product sums four interleaved partial
    sums in a fixed order: the same bits on every machine and batch.
    ``expand`` and ``offset`` may be empty (no copies, no offset).
    """
    at = np.ascontiguousarray(at, dtype=np.int64)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    kernel = _compile().exact_dots
    _rows(
        parallel,
        at.shape[0],
        lambda a, b: kernel(F, at, units, expand, cols, offset, out, a, b),
        unit_rows=_PAIR_UNIT,
    )
    return out


def weighted_rows(idx: Any, w: Any, M: Any, dtype: Any, parallel: Any = None) -> Any:
    """``sum_t w[i, t] M[idx[i, t]]`` per row, summed in float64 in the order
    of ``t`` (no fused multiply-add), rounded to ``dtype`` once.

    ``M`` is float64 (the seen vectors, widened once by the search).
    """
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    out = np.empty((idx.shape[0], M.shape[1]), dtype=dtype)
    kernel = _compile().weighted_rows
    _rows(parallel, idx.shape[0], lambda a, b: kernel(idx, w, M, out, a, b))
    return out


def block_top_k(
    blocks: Any, m: int, n_valid: int, K: int, dtype: Any, parallel: Any = None
) -> tuple:
    """The ``K`` best columns of each row over score blocks, best first.

    Parameters
    ----------
    blocks : iterable of (j0, S)
        Column blocks of a score matrix, left to right; ``S`` of shape
        (m, width), C-contiguous, holding columns ``j0:j0 + width``.
    m, n_valid, K : int
        Rows, valid columns (later ones are ignored), entries kept a row.

    Returns
    -------
    cols, values : as :func:`factorised_top_k`.
    """
    kernel = _compile().blocks
    top = _empty_top_k(m, K, n_valid, dtype)
    for j0, S in blocks:
        _rows(parallel, m, lambda a, b, S=S, j0=j0: kernel(S, j0, n_valid, *top, a, b))
    return top[0], top[1]
