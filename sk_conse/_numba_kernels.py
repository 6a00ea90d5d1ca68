"""The numba kernels of :mod:`sk_conse._kernels` (imported only when numba is).

Module-level functions, so that numba caches their compiled code (in the
folder :func:`sk_conse._kernels.kernel_cache_dir` names).
"""

import numba as nb
import numpy as np

from ._kernels import BLOCK_COLUMNS, CHUNK_ROWS, cached


@nb.njit(inline="always")
def _insert(vals, cols, v, c, K):
    """Replace the worst of ``vals`` (ties: its largest column) by ``v``;
    return the new worst value."""
    worst = 0
    for s in range(1, K):
        if vals[s] < vals[worst] or (vals[s] == vals[worst] and cols[s] > cols[worst]):
            worst = s
    vals[worst] = v
    cols[worst] = c
    low = vals[0]
    for s in range(1, K):
        if vals[s] < low:
            low = vals[s]
    return low


@nb.njit(inline="always")
def _stream(acc, width, j0, vals, cols, low, K):
    """Offer one block of a row's scores to its top-K; return the new
    K-th best. Equal scores keep the smaller column (columns come in
    increasing order, and an equal value never displaces)."""
    top = acc[0]
    for b in range(1, width):
        if acc[b] > top:
            top = acc[b]
    if top <= low:
        return low
    for b in range(width):
        if acc[b] > low:
            low = _insert(vals, cols, acc[b], j0 + b, K)
    return low


@nb.njit(inline="always")
def _gather(idx, w, G, j0, width, acc):
    """``acc[:width] = sum_t w[t] G[idx[t], j0:j0 + width]``, the terms
    added in order, eight (then four, then one) per pass over ``acc``."""
    T = idx.shape[0]
    for b in range(width):
        acc[b] = 0
    t = 0
    while t + 8 <= T:
        a0, a1, a2, a3 = idx[t], idx[t + 1], idx[t + 2], idx[t + 3]
        a4, a5, a6, a7 = idx[t + 4], idx[t + 5], idx[t + 6], idx[t + 7]
        w0, w1, w2, w3 = w[t], w[t + 1], w[t + 2], w[t + 3]
        w4, w5, w6, w7 = w[t + 4], w[t + 5], w[t + 6], w[t + 7]
        for b in range(width):
            j = j0 + b
            v = acc[b] + w0 * G[a0, j]
            v = v + w1 * G[a1, j]
            v = v + w2 * G[a2, j]
            v = v + w3 * G[a3, j]
            v = v + w4 * G[a4, j]
            v = v + w5 * G[a5, j]
            v = v + w6 * G[a6, j]
            acc[b] = v + w7 * G[a7, j]
        t += 8
    while t + 4 <= T:
        a0, a1, a2, a3 = idx[t], idx[t + 1], idx[t + 2], idx[t + 3]
        w0, w1, w2, w3 = w[t], w[t + 1], w[t + 2], w[t + 3]
        for b in range(width):
            j = j0 + b
            v = acc[b] + w0 * G[a0, j]
            v = v + w1 * G[a1, j]
            v = v + w2 * G[a2, j]
            acc[b] = v + w3 * G[a3, j]
        t += 4
    while t < T:
        a0, w0 = idx[t], w[t]
        for b in range(width):
            acc[b] = acc[b] + w0 * G[a0, j0 + b]
        t += 1


@nb.njit(parallel=True, nogil=True)
def factorised(idx, w, G, offset, K, out_cols, out_vals):
    m = idx.shape[0]
    n = G.shape[1]
    block = BLOCK_COLUMNS
    n_chunks = (m + CHUNK_ROWS - 1) // CHUNK_ROWS
    for chunk in nb.prange(n_chunks):
        r0 = chunk * CHUNK_ROWS
        r1 = min(r0 + CHUNK_ROWS, m)
        acc = np.empty(block, dtype=G.dtype)
        low = np.empty(r1 - r0, dtype=G.dtype)
        for r in range(r0, r1):
            for s in range(K):
                out_vals[r, s] = -np.inf
                out_cols[r, s] = n + s
            low[r - r0] = -np.inf
        for j0 in range(0, n, block):
            width = min(block, n - j0)
            for r in range(r0, r1):
                _gather(idx[r], w[r], G, j0, width, acc)
                if offset.shape[0]:
                    for b in range(width):
                        acc[b] -= offset[j0 + b]
                low[r - r0] = _stream(
                    acc, width, j0, out_vals[r], out_cols[r], low[r - r0], K
                )


@nb.njit(parallel=True, nogil=True)
def scores(idx, w, G, offset, out):
    m = idx.shape[0]
    n = G.shape[1]
    block = BLOCK_COLUMNS
    n_chunks = (m + CHUNK_ROWS - 1) // CHUNK_ROWS
    for chunk in nb.prange(n_chunks):
        r0 = chunk * CHUNK_ROWS
        r1 = min(r0 + CHUNK_ROWS, m)
        for j0 in range(0, n, block):
            width = min(block, n - j0)
            for r in range(r0, r1):
                acc = out[r, j0 : j0 + width]
                _gather(idx[r], w[r], G, j0, width, acc)
                if offset.shape[0]:
                    for b in range(width):
                        acc[b] -= offset[j0 + b]
        for r in range(r0, r1):
            for j in range(n, out.shape[1]):
                out[r, j] = -np.inf


@nb.njit(parallel=True, nogil=True)
def blocks(S, j0, n_valid, K, out_cols, out_vals, low):
    m = S.shape[0]
    width = min(S.shape[1], n_valid - j0)
    n_chunks = (m + CHUNK_ROWS - 1) // CHUNK_ROWS
    for chunk in nb.prange(n_chunks):
        r0 = chunk * CHUNK_ROWS
        for r in range(r0, min(r0 + CHUNK_ROWS, m)):
            low[r] = _stream(S[r], width, j0, out_vals[r], out_cols[r], low[r], K)


factorised = cached(factorised)
scores = cached(scores)
blocks = cached(blocks)
