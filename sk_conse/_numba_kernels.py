"""The numba kernels of :mod:`sk_conse._kernels` (imported only when numba is).

Module-level functions, so that numba caches their compiled code (in the
folder :func:`sk_conse._folders.kernel_cache` names).

A row's top-K is kept best first (ties: the smaller column first). Columns
reach it in increasing order, so a newcomer equal to a held value goes
after it, and one equal to the K-th best never enters.
"""

import numba as nb
import numpy as np
from numba import uint64

from ._kernel_cache import cached
from ._kernels import BLOCK_COLUMNS, CHUNK_ROWS

# Scores screened together against a row's K-th best: a run, then its groups.
RUN = 256
GROUP = 32


@nb.njit(inline="always")
def _above(acc, start, stop, low):
    """Whether any of ``acc[start:stop]`` exceeds ``low`` (one vectorised
    pass: an OR of comparisons, exact without fast-math)."""
    hit = False
    for b in range(start, stop):
        hit |= acc[b] > low
    return hit


@nb.njit(inline="always")
def _insert(vals, cols, K, value, col):
    """Insert an entry that beats the K-th best; return the new K-th best.

    ``col`` is larger than every real column held, so the entry goes after
    the values equal to it. A newcomer usually lands near the bottom: the
    shift from the bottom is short.
    """
    i = K - 1
    while i > 0 and vals[i - 1] < value:
        vals[i] = vals[i - 1]
        cols[i] = cols[i - 1]
        i -= 1
    vals[i] = value
    cols[i] = col
    return vals[K - 1]


@nb.njit(inline="always")
def _offer(acc, width, j0, vals, cols, K, low):
    """Offer scores ``acc[:width]`` (columns ``j0:j0 + width``, in increasing
    order) to a row's top-K; return its new K-th best.

    Only values above the K-th best enter. Each run of scores, then each
    group of a run, is screened first: as the K-th best rises, most runs are
    skipped after one vectorised pass.
    """
    for s0 in range(0, width, RUN):
        s1 = min(s0 + RUN, width)
        if not _above(acc, s0, s1, low):
            continue
        for g0 in range(s0, s1, GROUP):
            g1 = min(g0 + GROUP, s1)
            if not _above(acc, g0, g1, low):
                continue
            for b in range(g0, g1):
                if acc[b] > low:
                    low = _insert(vals, cols, K, acc[b], j0 + b)
    return low


@nb.njit(inline="always")
def _gather(idx, w, flat, n, j0, width, out, at):
    """``out[at:at + width] = sum_t w[t] G[idx[t], j0:j0 + width]``, the terms
    added strictly in order to zero (``((0 + w0 g0) + w1 g1) + ...``), eight,
    then two, then one per pass over ``out``; no fused multiply-add.

    ``flat`` is G raveled (``n`` columns). Unsigned offsets into it let LLVM
    vectorise the loops over columns with no index checks, and eight terms
    a pass keep eight streams of G in flight (measured on 2 Zen 3 cores: 2x
    the speed of one 1-D slice of G per term).
    """
    T = idx.shape[0]
    W = uint64(width)
    N = uint64(n)
    J = uint64(j0)
    A = uint64(at)
    for b in range(W):
        out[A + b] = 0
    t = 0
    while t + 8 <= T:
        o0, o1 = uint64(idx[t]) * N + J, uint64(idx[t + 1]) * N + J
        o2, o3 = uint64(idx[t + 2]) * N + J, uint64(idx[t + 3]) * N + J
        o4, o5 = uint64(idx[t + 4]) * N + J, uint64(idx[t + 5]) * N + J
        o6, o7 = uint64(idx[t + 6]) * N + J, uint64(idx[t + 7]) * N + J
        w0, w1, w2, w3 = w[t], w[t + 1], w[t + 2], w[t + 3]
        w4, w5, w6, w7 = w[t + 4], w[t + 5], w[t + 6], w[t + 7]
        for b in range(W):
            v = out[A + b] + w0 * flat[o0 + b]
            v = v + w1 * flat[o1 + b]
            v = v + w2 * flat[o2 + b]
            v = v + w3 * flat[o3 + b]
            v = v + w4 * flat[o4 + b]
            v = v + w5 * flat[o5 + b]
            v = v + w6 * flat[o6 + b]
            out[A + b] = v + w7 * flat[o7 + b]
        t += 8
    while t + 2 <= T:
        o0, o1 = uint64(idx[t]) * N + J, uint64(idx[t + 1]) * N + J
        w0, w1 = w[t], w[t + 1]
        for b in range(W):
            out[A + b] = (out[A + b] + w0 * flat[o0 + b]) + w1 * flat[o1 + b]
        t += 2
    if t < T:
        o0, w0 = uint64(idx[t]) * N + J, w[t]
        for b in range(W):
            out[A + b] = out[A + b] + w0 * flat[o0 + b]


@nb.njit(inline="always")
def _row_block(idx, w, flat, n, offset, j0, width, out, at):
    """One row's scores over columns ``j0:j0 + width`` into ``out[at:]``: the
    gather, minus the offset (when there is one)."""
    _gather(idx, w, flat, n, j0, width, out, at)
    if offset.shape[0]:
        for b in range(width):
            out[at + b] -= offset[j0 + b]


@nb.njit(nogil=True)
def factorised(idx, w, G, offset, out_cols, out_vals, low, start, stop):
    """Rows ``start:stop``: the K best of ``W G - offset`` into the rows'
    top-K (see :func:`sk_conse._kernels.factorised_top_k`)."""
    n = G.shape[1]
    K = out_cols.shape[1]
    flat = G.reshape(-1)
    acc = np.empty(BLOCK_COLUMNS, dtype=G.dtype)
    for r0 in range(start, stop, CHUNK_ROWS):
        r1 = min(r0 + CHUNK_ROWS, stop)
        for j0 in range(0, n, BLOCK_COLUMNS):
            width = min(BLOCK_COLUMNS, n - j0)
            for r in range(r0, r1):
                _row_block(idx[r], w[r], flat, n, offset, j0, width, acc, 0)
                low[r] = _offer(acc, width, j0, out_vals[r], out_cols[r], K, low[r])


@nb.njit(nogil=True)
def scores(idx, w, G, offset, out, out_cols, out_vals, low, start, stop):
    """Rows ``start:stop`` of ``W G - offset``, ``-inf`` beyond ``n``; each
    block, while in cache, also offered to the rows' top-K."""
    n = G.shape[1]
    K = out_cols.shape[1]
    flat = G.reshape(-1)
    for r0 in range(start, stop, CHUNK_ROWS):
        r1 = min(r0 + CHUNK_ROWS, stop)
        for j0 in range(0, n, BLOCK_COLUMNS):
            width = min(BLOCK_COLUMNS, n - j0)
            for r in range(r0, r1):
                row = out[r]
                _row_block(idx[r], w[r], flat, n, offset, j0, width, row, j0)
                low[r] = _offer(
                    row[j0 : j0 + width], width, j0, out_vals[r], out_cols[r], K, low[r]
                )
        for r in range(r0, r1):
            for j in range(n, out.shape[1]):
                out[r, j] = -np.inf


@nb.njit(nogil=True)
def blocks(S, j0, n_valid, out_cols, out_vals, low, start, stop):
    """Rows ``start:stop``: offer a block of scores to their top-K.

    (Bounding the K-th best first by the K-th largest run maximum was
    measured slower: 28 ms against 20 ms per 1,024 x 21,841 scores, one
    Zen 3 core, once the insertion keeps the top-K sorted.)
    """
    K = out_cols.shape[1]
    width = min(S.shape[1], n_valid - j0)
    for r in range(start, stop):
        low[r] = _offer(S[r], width, j0, out_vals[r], out_cols[r], K, low[r])


@nb.njit(nogil=True)
def largest_t(P, out, start, stop):
    """Rows ``start:stop``: the columns of each row's ``T`` largest entries,
    ascending (``T = out.shape[1]``; of equal entries the smaller column)."""
    T = out.shape[1]
    vals = np.empty(T, dtype=P.dtype)
    cols = np.empty(T, dtype=np.int64)
    for r in range(start, stop):
        row = P[r]
        for s in range(T):
            vals[s] = -np.inf
            cols[s] = P.shape[1] + s
        low = vals[T - 1]
        for j in range(P.shape[1]):
            if row[j] > low:
                low = _insert(vals, cols, T, row[j], j)
        # Ascending columns (T is small: insertion sort).
        for s in range(1, T):
            c = cols[s]
            i = s
            while i > 0 and cols[i - 1] > c:
                cols[i] = cols[i - 1]
                i -= 1
            cols[i] = c
        for s in range(T):
            out[r, s] = cols[s]


@nb.njit(nogil=True)
def exact_dots(F, at, units, expand, cols, offset, out, start, stop):
    """Pairs ``start:stop`` of :func:`sk_conse._kernels.exact_dots`."""
    q = F.shape[1]
    q4 = q - q % 4
    for i in range(start, stop):
        f = F[at[i]]
        c = cols[i]
        u = units[expand[c]] if expand.shape[0] else units[c]
        s0 = s1 = s2 = s3 = 0.0
        for j in range(0, q4, 4):
            s0 += f[j] * np.float64(u[j])
            s1 += f[j + 1] * np.float64(u[j + 1])
            s2 += f[j + 2] * np.float64(u[j + 2])
            s3 += f[j + 3] * np.float64(u[j + 3])
        for j in range(q4, q):
            s0 += f[j] * np.float64(u[j])
        dot = (s0 + s1) + (s2 + s3)
        if offset.shape[0]:
            dot -= np.float64(offset[c])
        out[i] = dot


@nb.njit(nogil=True)
def weighted_rows(idx, w, M, out, start, stop):
    """Rows ``start:stop`` of :func:`sk_conse._kernels.weighted_rows`."""
    q = M.shape[1]
    acc = np.empty(q, dtype=np.float64)
    for r in range(start, stop):
        for j in range(q):
            acc[j] = 0.0
        for t in range(idx.shape[1]):
            v = M[idx[r, t]]
            wt = w[r, t]
            for j in range(q):
                acc[j] = acc[j] + wt * v[j]
        for j in range(q):
            out[r, j] = acc[j]


# Every kernel's compiled code is cached on disk (tests/test_kernels.py
# checks that none is left out).
factorised = cached(factorised)
scores = cached(scores)
blocks = cached(blocks)
largest_t = cached(largest_t)
exact_dots = cached(exact_dots)
weighted_rows = cached(weighted_rows)
