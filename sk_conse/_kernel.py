"""The numeric kernel of ConSE, free of scikit-learn and backend-generic.

Everything here takes arrays from one namespace ``xp`` (NumPy or CuPy) and
returns arrays from the same namespace. The estimator in :mod:`sk_conse._conse`
validates input, batches rows and converts results; this module only computes.

Notation (Norouzi et al., ICLR 2014):

- ``P``  (n, n_seen): p(y|x) from the seen-label classifier;
- ``S0`` (n_seen, q): the seen labels' semantic vectors s(y);
- ``T``: how many of the most likely seen labels to combine;
- ``f(x) = (1/Z) sum_{t<=T} p(y_t|x) s(y_t)``, with ``Z = sum_{t<=T} p(y_t|x)``;
- ``S1`` (n_candidates, q): candidate label vectors, ranked by ``cos(f(x), s(y'))``.

Two routes compute the same cosine scores:

- *direct*: normalise ``f(x)`` and multiply by the unit-normalised ``S1``ᵀ, a
  dense (n x q) @ (q x n_candidates) product;
- *factorised*: ``f(x) = W S0`` where ``W`` holds ``T`` nonzeros per row, so
  ``f(x)·s1 = W (S0 S1ᵀ)``: with ``G = S0 S1ᵀ`` computed once per candidate
  set, each row costs ``T`` scaled row additions of ``G`` instead of a GEMM
  row. It is the faster route when ``T`` is small compared with ``q``.

Top-k selection is exact, with ties going to the smaller candidate index (the
rule of :func:`numpy.argmax`, so that ``predict`` is the top-1; note that
:func:`sklearn.metrics.top_k_accuracy_score` sends ties the other way). For
wide score blocks it first takes the maximum over groups of columns, keeps the
``k`` best groups and selects within them, which avoids a full
``argpartition`` of the block.
"""

from __future__ import annotations

import itertools
import os
import threading
from types import ModuleType
from typing import Any

import numpy as np

from ._backend import blas_threads, namespace_of

__all__ = [
    "CandidateSearch",
    "embed",
    "select_top_k",
    "top_t_weights",
]

# Candidates are scored in groups of this many columns for the grouped top-k.
_GROUP = 64
# NumPy's grouped top-k uses narrower groups (a divisor of _GROUP): gathering
# the chosen strided groups touches one cache line per element, so it costs
# ~k * group cache lines a row (16 was fastest at 21,888 columns, k = 20), and
# the group maxima are themselves selected by the same method.
_NP_GROUP = 16
# Above this many nonzeros per row the weights are applied as a dense product.
_GATHER_MAX_T = 32
# The factorised route on NumPy: columns of G = S0 S1ᵀ per block, and rows of
# the output filled per gather (measured on 2 Zen cores, 1,000 x 21,841 G).
_GRAM_BLOCK = 2048
_GATHER_ROWS = 16
# Python threads on NumPy (the GIL is released in take, small BLAS products
# and ufuncs; measured on 2 Zen cores). Work is handed out in units of rows
# so that a thread slowed by a busy core takes fewer of them; below the
# minimum work (output entries x T for the factorised route, entries for the
# top-k) a block runs on the calling thread alone.
_MAX_THREADS = 4
_GATHER_THREAD_ROWS = 128
_GATHER_THREAD_MIN_WORK = 1 << 26
_TOPK_THREAD_ROWS = 64
_TOPK_THREAD_MIN_WORK = 1 << 23


def _sparse_module(xp: ModuleType) -> Any:
    if xp is np:
        import scipy.sparse

        return scipy.sparse
    import cupyx.scipy.sparse  # pragma: no cover - GPU only

    return cupyx.scipy.sparse  # pragma: no cover - GPU only


def select_top_k(A: Any, k: int) -> Any:
    """Column indices of the ``k`` largest entries of each row, ascending.

    Exactly ``k`` indices per row; among equal values the smaller column index
    wins, as with :func:`numpy.argmax`. The
    result is sorted by column index, not by value.

    Parameters
    ----------
    A : array of shape (m, n)
        Finite values, or ``-inf`` for columns that must never win.
    k : int
        ``1 <= k <= n``.

    Returns
    -------
    cols : int array of shape (m, k)

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._kernel import select_top_k
    >>> select_top_k(np.array([[0.2, 0.5, 0.2, 0.1]]), 2)
    array([[0, 1]])
    """
    xp = namespace_of(A)
    m, n = A.shape
    if k >= n:
        return xp.broadcast_to(xp.arange(n), (m, n)).copy()
    if k == 1:
        return xp.argmax(A, axis=1)[:, None]
    kth = xp.partition(A, n - k, axis=1)[:, n - k][:, None]
    mask = A >= kth
    if bool((mask.sum(axis=1) != k).any()):
        # Ties at the k-th value: keep the leftmost of the tied entries.
        above = A > kth
        tied = A == kth
        need = k - above.sum(axis=1, keepdims=True)
        mask = above | (tied & (xp.cumsum(tied, axis=1) <= need))
    cols = xp.nonzero(mask)[1]
    return cols.reshape(m, k)


def top_t_weights(P: Any, T: int) -> tuple[Any, Any]:
    """The ``T`` most likely seen labels of each row and their ConSE weights.

    Parameters
    ----------
    P : array of shape (n, n_seen)
        Nonnegative probabilities with a positive entry in every row.
    T : int
        ``1 <= T``; ``T >= n_seen`` keeps every label.

    Returns
    -------
    idx : int array of shape (n, min(T, n_seen))
        Seen-label indices, ascending within each row; ties in probability go
        to the smaller index.
    weights : array of shape (n, min(T, n_seen))
        ``p(y_t|x) / Z`` with ``Z = sum_t p(y_t|x)``; rows sum to 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._kernel import top_t_weights
    >>> idx, w = top_t_weights(np.array([[0.1, 0.6, 0.3]]), 2)
    >>> idx, w
    (array([[1, 2]]), array([[0.66666667, 0.33333333]]))
    """
    idx = select_top_k(P, min(T, P.shape[1]))
    w = _take_rows(P, idx)
    w /= w.sum(axis=1, keepdims=True)
    return idx, w


def _take_rows(A: Any, idx: Any) -> Any:
    xp = namespace_of(A)
    if xp is np and A.flags.c_contiguous:
        # A flat take is ~2x faster than take_along_axis in NumPy.
        flat = idx + (np.arange(A.shape[0], dtype=idx.dtype) * A.shape[1])[:, None]
        return A.reshape(-1).take(flat)
    return xp.take_along_axis(A, idx, axis=1)


def _dense_weights(idx: Any, w: Any, n_seen: int) -> Any:
    xp = namespace_of(w)
    # T = all (top_t_weights keeps indices ascending): w is W already.
    full = xp is np and idx.shape[1] == n_seen
    if full and np.array_equal(idx, np.broadcast_to(np.arange(n_seen), idx.shape)):
        return w
    W = xp.zeros((w.shape[0], n_seen), dtype=w.dtype)
    if xp is np:
        # A flat put is ~2x faster than put_along_axis in NumPy.
        flat = idx + (np.arange(w.shape[0], dtype=idx.dtype) * n_seen)[:, None]
        W.reshape(-1).put(flat, w)
    else:
        xp.put_along_axis(W, idx, w, axis=1)
    return W


def embed(idx: Any, w: Any, S0: Any) -> Any:
    """ConSE's semantic embedding ``f(x) = sum_t w_t s(y_t)``.

    Parameters
    ----------
    idx, w : arrays of shape (n, T)
        From :func:`top_t_weights`.
    S0 : array of shape (n_seen, q)
        Seen-label vectors, in the column order of ``P``.

    Returns
    -------
    F : array of shape (n, q)

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._kernel import embed
    >>> S0 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> embed(np.array([[0, 1]]), np.array([[0.75, 0.25]]), S0)
    array([[0.75, 0.25]])
    """
    T = idx.shape[1]
    if T > _GATHER_MAX_T:
        return _dense_weights(idx, w, S0.shape[0]) @ S0
    F = w[:, :1] * S0[idx[:, 0]]
    for t in range(1, T):
        F += w[:, t : t + 1] * S0[idx[:, t]]
    return F


def _weights_csr(idx: Any, w: Any, n_seen: int) -> Any:
    xp = namespace_of(w)
    n, T = idx.shape
    # cupyx.scipy.sparse (cuSPARSE) takes 32-bit indices only.
    itype = xp.int32 if n * T < 2**31 else xp.int64
    indptr = xp.arange(0, n * T + 1, T, dtype=itype)
    sparse = _sparse_module(xp)
    return sparse.csr_matrix(
        (w.ravel(), idx.ravel().astype(itype), indptr), shape=(n, n_seen)
    )


def _gathered_products(
    blocks: list[tuple[int, Any]], idx: Any, w: Any, out: Any
) -> None:
    """``out[i] = sum_t w[i, t] G[idx[i, t]]`` through column blocks of ``G``.

    NumPy only. Rows of a block of ``G`` are gathered for a few rows of
    ``out`` at a time and combined by a batched (1 x T) @ (T x width) BLAS
    product; SciPy's CSR @ dense runs a scalar loop, about 2x slower here.
    Large blocks of rows are split between Python threads (NumPy releases the
    GIL in ``take`` and these small products): ~1.7x on 2 cores at T = 10.
    """
    m, T = idx.shape
    if T > _GATHER_MAX_T:
        W = _dense_weights(idx, w, blocks[0][1].shape[0])
        for j, block in blocks:
            np.matmul(W, block, out=out[:, j : j + block.shape[1]])
        return
    n_threads = _python_threads(
        m, out.shape[1] * T, _GATHER_THREAD_MIN_WORK, _GATHER_THREAD_ROWS
    )
    if n_threads <= 1:
        for block in blocks:
            _gather_rows(block, idx, w, out, 0, m)
        return
    # Dynamic scheduling over (column block, row chunk) units, block-major so
    # that the threads share the block of G in the last-level cache; a thread
    # slowed by a busy core simply takes fewer units.
    units = [
        (block, i, min(i + _GATHER_THREAD_ROWS, m))
        for block in blocks
        for i in range(0, m, _GATHER_THREAD_ROWS)
    ]

    def unit(u: int) -> None:
        block, r0, r1 = units[u]
        _gather_rows(block, idx, w, out, r0, r1)

    _run_units(len(units), unit, n_threads)


def _run_units(n_units: int, unit: Any, n_threads: int) -> None:
    """Call ``unit(0) ... unit(n_units - 1)`` from ``n_threads`` threads.

    Units are handed out one at a time (the calling thread works too), so a
    thread slowed by a busy core takes fewer of them. The first exception is
    re-raised once every thread has stopped.
    """
    counter = itertools.count()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for u in iter(counter.__next__, None):
                if u >= n_units or errors:
                    return
                unit(u)
        except BaseException as exc:
            errors.append(exc)

    helpers = [threading.Thread(target=work) for _ in range(1, n_threads)]
    for thread in helpers:
        thread.start()
    work()
    for thread in helpers:
        thread.join()
    if errors:
        raise errors[0]


def _python_threads(m: int, work_per_row: int, min_work: int, rows: int) -> int:
    """Python threads for a block of ``m`` rows: one for small blocks."""
    if m * work_per_row < min_work:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    # A BLAS limit (the user's threadpool_limits, a joblib worker's share of
    # the cores, or the kernel's own one-thread policy for small batches)
    # caps these threads too.
    return max(1, min(cores, _MAX_THREADS, blas_threads(), -(-m // rows)))


def _gather_rows(
    block: tuple[int, Any], idx: Any, w: Any, out: Any, r0: int, r1: int
) -> None:
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


def _pad_columns(n: int) -> int:
    return -(-n // _GROUP) * _GROUP


class CandidateSearch:
    """The candidate side of ConSE's cosine search, prepared once.

    Holds the candidate vectors unit-normalised and padded to a multiple of the
    top-k group width, an optional per-candidate score offset, and, for the
    factorised route, the product ``G = S0 S1ᵀ`` of seen and candidate vectors.

    Parameters
    ----------
    candidates : array of shape (n_candidates, q)
        Nonzero, finite candidate vectors (any norm: only directions matter).
    seen : array of shape (n_seen, q) or None
        Seen-label vectors; needed for the factorised route.
    offset : array of shape (n_candidates,) or None
        Subtracted from each candidate's cosine score (calibrated stacking).
    factorised : bool
        Precompute ``G`` and score through it.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._kernel import CandidateSearch
    >>> search = CandidateSearch(np.eye(3), seen=None)
    >>> idx, scores = search.top_k(np.array([[0.0, 2.0, 1.0]]), 2)
    >>> idx
    array([[1, 2]])
    """

    def __init__(
        self,
        candidates: Any,
        seen: Any = None,
        *,
        offset: Any = None,
        factorised: bool = False,
    ) -> None:
        xp = namespace_of(candidates)
        self.xp = xp
        n_cand, q = candidates.shape
        self.n_candidates = n_cand
        self.n_padded = _pad_columns(n_cand)
        dtype = candidates.dtype
        unit = xp.zeros((self.n_padded, q), dtype=dtype)
        norms = xp.sqrt((candidates * candidates).sum(axis=1, keepdims=True))
        unit[:n_cand] = candidates / norms
        self.unit = unit
        self.offset = None if offset is None else xp.asarray(offset, dtype=dtype)
        self.seen_norms = None if seen is None else xp.sqrt((seen * seen).sum(axis=1))
        self.gram = None
        self._gram_blocks: list[tuple[int, Any]] = []
        if factorised:
            if seen is None:
                raise ValueError("The factorised route needs the seen vectors.")
            if xp is np:
                # Column blocks of G, each contiguous and small enough to stay
                # in the last-level cache while a block of rows gathers from it.
                self._gram_blocks = [
                    (j, seen @ unit[j : j + _GRAM_BLOCK].T)
                    for j in range(0, self.n_padded, _GRAM_BLOCK)
                ]
            else:
                self.gram = xp.ascontiguousarray(seen @ unit.T)
        self._factorised = factorised
        self._eps = float(np.finfo(dtype).eps)

    @property
    def factorised(self) -> bool:
        """Whether scores go through ``G = S0 S1ᵀ``."""
        return self._factorised

    def _inverse_norms(self, F: Any, weights: tuple[Any, Any] | None) -> Any:
        xp = self.xp
        norms = xp.sqrt((F * F).sum(axis=1))
        # f(x) = 0 (top-T vectors cancelling out) has no direction: every
        # candidate scores 0 and ties go to the smaller index. "Zero" is
        # judged against the norms that were summed, so that rounding noise
        # left by a cancellation is not mistaken for a direction.
        if weights is not None and self.seen_norms is not None:
            idx, w = weights
            reference = (w * self.seen_norms[idx]).sum(axis=1)
            degenerate = norms <= 64 * self._eps * reference
        else:
            degenerate = norms == 0
        inv = xp.where(degenerate, 0, 1 / xp.where(degenerate, 1, norms))
        return inv.astype(F.dtype, copy=False)

    def scores(
        self,
        F: Any,
        *,
        weights: tuple[Any, Any] | None = None,
        out: Any = None,
    ) -> Any:
        """Cosine scores (minus the offset) of a block of embeddings.

        Parameters
        ----------
        F : array of shape (m, q)
            Embeddings f(x).
        weights : (idx, w) or None
            The top-T weights behind ``F``; used by the factorised route.
        out : array of shape (>= m, n_padded) or None
            A buffer to write into (reused across blocks).

        Returns
        -------
        scores : array of shape (m, n_padded)
            Padding columns hold ``-inf``.
        """
        xp = self.xp
        m = F.shape[0]
        if out is None:
            out = xp.empty((m, self.n_padded), dtype=self.unit.dtype)
        out = out[:m]
        inv = self._inverse_norms(F, weights)
        if self.factorised and weights is not None:
            idx, w = weights
            if self.gram is None:
                _gathered_products(self._gram_blocks, idx, w * inv[:, None], out)
            else:
                csr = _weights_csr(idx, w, self.gram.shape[0])
                out[...] = csr @ self.gram
                out *= inv[:, None]
        else:
            xp.matmul(F * inv[:, None], self.unit.T, out=out)
        if self.offset is not None:
            out[:, : self.n_candidates] -= self.offset
        out[:, self.n_candidates :] = -xp.inf
        return out

    def top_k(
        self,
        F: Any,
        k: int,
        *,
        weights: tuple[Any, Any] | None = None,
        out: Any = None,
    ) -> tuple[Any, Any]:
        """The ``k`` best candidates of each row, best first.

        Returns
        -------
        idx : int array of shape (m, k)
            Candidate indices; ties go to the smaller index.
        scores : array of shape (m, k)
        """
        S = self.scores(F, weights=weights, out=out)
        return rank_top_k(S, k, self.n_candidates)


def rank_top_k(S: Any, k: int, n_valid: int) -> tuple[Any, Any]:
    """Exact top-k of each row of ``S[:, :n_valid]``, best first.

    ``S`` may carry ``-inf`` padding beyond ``n_valid`` up to a multiple of the
    group width. Ties go to the smaller column index.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._kernel import rank_top_k
    >>> rank_top_k(np.array([[0.1, 0.9, 0.9, 0.3]]), 3, 4)
    (array([[1, 2, 3]]), array([[0.9, 0.9, 0.3]]))
    """
    xp = namespace_of(S)
    width = S.shape[1]
    k = min(k, n_valid)
    if xp is np and width % _NP_GROUP == 0 and n_valid >= 8 * k * _NP_GROUP:
        idx, vals = _grouped_top_k_np(S, k, n_valid)
        # Best first, ties to the smaller column.
        order = np.lexsort((idx, -vals), axis=1)
        return _take_rows(idx, order), _take_rows(vals, order)
    if width % _GROUP == 0 and n_valid >= 8 * k * _GROUP:
        idx, vals = _grouped_top_k(S, k, n_valid)
    else:
        idx = select_top_k(S[:, :n_valid], k)
        vals = _take_rows(S, idx)
    # CuPy's argsort is always stable and takes no other kind.
    order = xp.argsort(-vals, axis=1, kind="stable" if xp is np else None)
    return _take_rows(idx, order), _take_rows(vals, order)


def _grouped_top_k(S: Any, k: int, n_valid: int) -> tuple[Any, Any]:
    """Exact top-k (ascending columns) through the maxima of column groups.

    Group ``g`` holds the strided columns ``g, g + n_groups, g + 2 n_groups,
    ...``: the group maxima are then an elementwise maximum of ``_GROUP``
    contiguous slices (fast SIMD), where contiguous groups need a reduction
    over short rows (~20x slower in NumPy). When no group outside the ``k``
    chosen ties the ``k``-th best group maximum, the top-k lie within the
    chosen groups; rows where one does are recomputed on the whole row.
    """
    xp = namespace_of(S)
    m, width = S.shape
    n_groups = width // _GROUP
    blocks = S.reshape(m, _GROUP, n_groups)
    if xp is np:
        # An explicit elementwise maximum is ~2x faster than max(axis=1).
        group_max = blocks[:, 0].copy()
        for p in range(1, _GROUP):
            np.maximum(group_max, blocks[:, p], out=group_max)
    else:
        group_max = blocks.max(axis=1)
    groups = select_top_k(group_max, k)  # ascending group ids
    kth = _take_rows(group_max, groups).min(axis=1, keepdims=True)
    # Position-major layout: column p * n_groups + g increases along each row,
    # so ties inside the chosen groups still go to the smaller column.
    positions = xp.arange(_GROUP, dtype=groups.dtype)[None, :, None] * n_groups
    cols = (positions + groups[:, None, :]).reshape(m, _GROUP * k)
    sub = _take_rows(S, cols)
    pos = select_top_k(sub, k)
    idx = _take_rows(cols, pos)
    vals = _take_rows(sub, pos)
    unsafe = (group_max >= kth).sum(axis=1) > k
    if bool(unsafe.any()):
        rows = xp.nonzero(unsafe)[0]
        fix = select_top_k(S[rows, :n_valid], k)
        idx[rows] = fix
        vals[rows] = _take_rows(S[rows], fix)
    return idx, vals


def _unordered_top_k_np(A: Any, k: int) -> tuple[Any, Any]:
    """NumPy: column indices of ``k`` largest entries of each row, unordered.

    Also returns a boolean flag per row, set where the ``k``-th largest value
    is tied with an entry left out (or a chosen group's maximum ties one left
    out): only unflagged rows are guaranteed exact with ties going to the
    smaller column; the caller recomputes the flagged ones.
    """
    m, n = A.shape
    if n % _NP_GROUP == 0 and n >= 8 * k * _NP_GROUP:
        n_groups = n // _NP_GROUP
        strided = A.reshape(m, _NP_GROUP, n_groups)
        group_max = strided[:, 0].copy()
        for p in range(1, _NP_GROUP):
            np.maximum(group_max, strided[:, p], out=group_max)
        groups, bad = _unordered_top_k_np(group_max, k)
        # Flat indices of every member of the chosen groups: (m, group, k).
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
    kth = _take_rows(A, idx).min(axis=1, keepdims=True)
    bad = np.count_nonzero(A >= kth, axis=1) > k
    return idx, bad


def _grouped_top_k_np(S: Any, k: int, n_valid: int) -> tuple[Any, Any]:
    """NumPy: exact top-k (unordered) of ``S[:, :n_valid]`` and the values.

    Large blocks are split by rows between Python threads (the group maxima,
    the bulk of the cost, are a memory-bound pass: 1.9x on 2 cores).
    """
    if not S.flags.c_contiguous:
        S = np.ascontiguousarray(S)
    m = S.shape[0]
    n_threads = _python_threads(m, S.shape[1], _TOPK_THREAD_MIN_WORK, _TOPK_THREAD_ROWS)
    if n_threads <= 1:
        return _grouped_top_k_rows(S, k, n_valid)
    idx = np.empty((m, k), dtype=np.intp)
    vals = np.empty((m, k), dtype=S.dtype)
    step = _TOPK_THREAD_ROWS

    def unit(u: int) -> None:
        rows = slice(u * step, min(u * step + step, m))
        idx[rows], vals[rows] = _grouped_top_k_rows(S[rows], k, n_valid)

    _run_units(-(-m // step), unit, n_threads)
    return idx, vals


def _grouped_top_k_rows(S: Any, k: int, n_valid: int) -> tuple[Any, Any]:
    idx, bad = _unordered_top_k_np(S, k)
    vals = _take_rows(S, idx)
    if bool(bad.any()):
        rows = np.nonzero(bad)[0]
        fix = select_top_k(S[rows, :n_valid], k)
        idx[rows] = fix
        vals[rows] = _take_rows(S[rows], fix)
    return idx, vals
