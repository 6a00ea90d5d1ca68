"""The numba kernels behind :mod:`sk_conse._kernels` (imported only when numba is).

Module-level functions, so that numba caches their compiled code (in the
folder :func:`sk_conse._folders.kernel_cache` names). Their constants live
here; the wrappers in :mod:`sk_conse._kernels` import this module, never the
reverse. No kernel checks its indices: the wrappers do, before the call.

A row's top-K is kept best first (ties: the smaller column first). Columns
reach it in increasing order, so a newcomer equal to a held value goes
after it, and one equal to the K-th best never enters. No kernel is compiled
with fast-math: every sum is added in the order written, with no fused
multiply-add, so a result has the same bits on every machine.
"""

import numba as nb
import numpy as np
from numba import uint64

from ._compensated import dot2_step
from ._kernel_cache import cached

# Rows that share each column block of G while it is in cache.
CHUNK_ROWS = 512
# Columns of G per block (benchmarks/README.md, "Kernel block sizes").
BLOCK_COLUMNS = 2048
# Scores screened together against a row's K-th best: a run of them, then
# the screens of a run, before any is compared alone.
RUN_COLUMNS = 256
SCREEN_COLUMNS = 32
# Rows summed together by weighted_rows: each seen vector is read once for
# all of them.
SUM_ROWS = 4


@nb.njit(inline="always")
def _above(acc, start, stop, low):
    """Whether any of ``acc[start:stop]`` exceeds ``low`` (one vectorised
    pass: an OR of comparisons)."""
    hit = False
    for b in range(start, stop):
        hit |= acc[b] > low
    return hit


@nb.njit(inline="always")
def _insert(vals, cols, K, value, col):
    """Insert an entry that beats the K-th best; return the new K-th best."""
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
    """Offer scores ``acc[:width]`` (columns ``j0:j0 + width``) to a row's
    top-K; return its new K-th best. Runs, then screens, that do not beat
    the K-th best are skipped after one vectorised pass."""
    for s0 in range(0, width, RUN_COLUMNS):
        s1 = min(s0 + RUN_COLUMNS, width)
        if not _above(acc, s0, s1, low):
            continue
        for g0 in range(s0, s1, SCREEN_COLUMNS):
            g1 = min(g0 + SCREEN_COLUMNS, s1)
            if not _above(acc, g0, g1, low):
                continue
            for b in range(g0, g1):
                if acc[b] > low:
                    low = _insert(vals, cols, K, acc[b], j0 + b)
    return low


@nb.njit(inline="always")
def _gather(idx, w, flat, n, j0, width, out, at):
    """``out[at:at + width] = sum_t w[t] G[idx[t], j0:j0 + width]`` minus
    nothing: the terms added in order to zero, eight, then two, then one per
    pass over ``out`` (eight streams of G in flight). Unsigned offsets let
    LLVM vectorise the loops over columns."""
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
    """One row's scores over columns ``j0:j0 + width`` into ``out[at:]``."""
    _gather(idx, w, flat, n, j0, width, out, at)
    if offset.shape[0]:
        for b in range(width):
            out[at + b] -= offset[j0 + b]


@nb.njit(nogil=True)
def factorised(idx, w, G, offset, out_cols, out_vals, low, start, stop):
    """Rows ``start:stop``: the K best of ``W G - offset`` into their top-K."""
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
    """Rows ``start:stop`` of ``W G - offset`` written into ``out``; each
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


@nb.njit(nogil=True)
def blocks(S, j0, n_valid, out_cols, out_vals, low, start, stop):
    """Rows ``start:stop``: offer a block of scores to their top-K."""
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
def weighted_rows(idx, w, M, out, start, stop):
    """Rows ``start:stop``: ``out[r] = sum_t w[r, t] M[idx[r, t]]`` summed in
    float64, term after term from zero, rounded once to ``out``'s dtype.

    ``idx`` with one row serves every row (T = all: every seen label in
    order). :data:`SUM_ROWS` rows at a time, so that each vector of ``M``
    is read once for all of them; each row's sum keeps its order.
    """
    q = M.shape[1]
    T = w.shape[1]
    shared = idx.shape[0] == 1
    acc = np.empty((SUM_ROWS, q), dtype=np.float64)
    for r0 in range(start, stop, SUM_ROWS):
        r1 = min(r0 + SUM_ROWS, stop)
        acc[:] = 0.0
        for t in range(T):
            for r in range(r0, r1):
                v = M[idx[0 if shared else r, t]]
                wt = w[r, t]
                a = acc[r - r0]
                for j in range(q):
                    a[j] = a[j] + wt * v[j]
        for r in range(r0, r1):
            for j in range(q):
                out[r, j] = acc[r - r0, j]


_dot2_step = nb.njit(inline="always")(dot2_step)


@nb.njit(nogil=True)
def dot2(A, ia, B, ib, out, start, stop):
    """Pairs ``start:stop``: ``out[i] = A[ia[i]] · B[ib[i]]`` by Ogita, Rump
    and Oishi's Dot2, in float64: as accurate as a product summed in twice
    the precision, then rounded once."""
    q = A.shape[1]
    for i in range(start, stop):
        a = A[ia[i]]
        b = B[ib[i]]
        p = 0.0
        s = 0.0
        for j in range(q):
            p, s = _dot2_step(p, s, np.float64(a[j]), np.float64(b[j]))
        out[i] = p + s


# Every kernel's compiled code is cached on disk (tests/test_kernels.py
# checks that none is left out).
factorised = cached(factorised)
scores = cached(scores)
blocks = cached(blocks)
largest_t = cached(largest_t)
weighted_rows = cached(weighted_rows)
dot2 = cached(dot2)
