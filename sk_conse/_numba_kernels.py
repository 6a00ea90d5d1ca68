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
from llvmlite import binding, ir
from numba import types, uint64
from numba.core import cgutils
from numba.extending import intrinsic

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
# weighted_rows keeps a tile of sums in vector registers across all the
# terms: TILE_ROWS rows x TILE_VECTORS vectors of LANES float64 columns; 24
# accumulators where AVX-512 has 32 registers, 6 where AVX2 has 16
# (benchmarks/README.md, "f(x) in a fixed order").
LANES = 8


def _has_avx512() -> bool:
    try:
        return bool(binding.get_host_cpu_features().get("avx512f", False))
    except Exception:  # a platform whose features LLVM cannot read
        return False


TILE_ROWS, TILE_VECTORS = (8, 3) if _has_avx512() else (3, 2)
# Rows whose weights stay in cache while the column tiles pass over them.
SUM_ROWS = 128


@nb.njit(inline="always")
def _above(acc, start, stop, low):
    """Whether any of ``acc[start:stop]`` exceeds ``low`` (one vectorised
    pass: an OR of comparisons; unsigned indices, or LLVM gathers each
    element for fear of a negative one)."""
    hit = False
    for b in range(uint64(start), uint64(stop)):
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
        J, A = uint64(j0), uint64(at)
        for b in range(uint64(width)):
            out[A + b] -= offset[J + b]


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


_VECTOR = ir.VectorType(ir.DoubleType(), LANES)


def _vector_at(builder, ptr, i):
    """The address of the ``i``-th vector of LANES float64 from ``ptr``."""
    return builder.gep(builder.bitcast(ptr, _VECTOR.as_pointer()), [i])


def _element_at(context, builder, array_type, array, j):
    """The address of ``array[j]`` (1-D, contiguous)."""
    data = context.make_array(array_type)(context, builder, array).data
    return builder.gep(data, [j])


@intrinsic
def _tile(typingctx):
    """Room for a tile of TILE_ROWS x TILE_VECTORS vectors, on the stack: LLVM
    keeps it in registers when every index into it is a constant."""

    def codegen(context, builder, signature, args):
        size = TILE_ROWS * TILE_VECTORS
        room = cgutils.alloca_once(builder, ir.ArrayType(_VECTOR, size))
        return builder.bitcast(room, ir.DoubleType().as_pointer())

    return types.CPointer(types.float64)(), codegen


@intrinsic
def _zero(typingctx, tile, i):
    """``tile[i] = 0``."""

    def codegen(context, builder, signature, args):
        builder.store(ir.Constant(_VECTOR, None), _vector_at(builder, *args))
        return context.get_dummy_value()

    return types.void(tile, i), codegen


@intrinsic
def _axpy(typingctx, tile, i, wt, v, j):
    """``tile[i] = tile[i] + wt * v[j:j + LANES]``: a rounded multiply, then a
    rounded add, in each lane (no fused multiply-add)."""
    if v.dtype != types.float64:
        return None

    def codegen(context, builder, signature, args):
        acc = _vector_at(builder, args[0], args[1])
        x = _element_at(context, builder, signature.args[3], args[3], args[4])
        x = builder.load(builder.bitcast(x, _VECTOR.as_pointer()), align=8)
        lanes = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)
        wt = builder.insert_element(
            ir.Constant(_VECTOR, ir.Undefined), args[2], ir.Constant(ir.IntType(32), 0)
        )
        wt = builder.shuffle_vector(wt, ir.Constant(_VECTOR, ir.Undefined), lanes)
        builder.store(builder.fadd(builder.load(acc), builder.fmul(wt, x)), acc)
        return context.get_dummy_value()

    return types.void(tile, i, wt, v, j), codegen


@intrinsic
def _put(typingctx, tile, i, o, j):
    """``o[j:j + LANES] = tile[i]``, each rounded once to ``o``'s dtype."""

    def codegen(context, builder, signature, args):
        x = builder.load(_vector_at(builder, args[0], args[1]))
        element = context.get_value_type(signature.args[2].dtype)
        if element != ir.DoubleType():
            x = builder.fptrunc(x, ir.VectorType(element, LANES))
        to = _element_at(context, builder, signature.args[2], args[2], args[3])
        builder.store(x, builder.bitcast(to, x.type.as_pointer()), align=4)
        return context.get_dummy_value()

    return types.void(tile, i, o, j), codegen


@nb.njit(inline="always")
def _tile_sum(idx, w, M, out, r0, rows, j0, vectors, tile):
    """Rows ``r0:r0 + rows``, columns ``j0:j0 + vectors * LANES`` of
    weighted_rows, summed in ``tile`` across all the terms, in order."""
    for i in range(rows * vectors):
        _zero(tile, i)
    for t in range(w.shape[1]):
        for r in range(rows):
            v = M[idx[0, t]]
            wt = np.float64(w[r0 + r, t])
            for i in range(vectors):
                _axpy(tile, r * vectors + i, wt, v, j0 + i * LANES)
    for r in range(rows):
        for i in range(vectors):
            _put(tile, r * vectors + i, out[r0 + r], j0 + i * LANES)


@nb.njit(inline="always")
def _tile_columns(idx, w, M, out, start, stop, j0, vectors, tile):
    """Columns ``j0:j0 + vectors * LANES`` of rows ``start:stop``, a tile of
    TILE_ROWS rows at a time, then one row at a time."""
    r0 = start
    while r0 + TILE_ROWS <= stop:
        _tile_sum(idx, w, M, out, r0, TILE_ROWS, j0, vectors, tile)
        r0 += TILE_ROWS
    for r in range(r0, stop):
        _tile_sum(idx, w, M, out, r, 1, j0, vectors, tile)


@nb.njit(nogil=True)
def weighted_rows(idx, w, M, out, start, stop):
    """Rows ``start:stop``: ``out[r] = sum_t w[r, t] M[idx[r, t]]`` summed in
    float64, term after term from zero, rounded once to ``out``'s dtype.

    ``idx`` with one row serves every row (T = all: every seen label in
    order): then each tile of sums (:data:`TILE_ROWS` rows x
    :data:`TILE_VECTORS` vectors of columns) stays in registers across all
    the terms, and each vector of ``M`` is read once for all of its rows;
    ``q`` is then a multiple of :data:`LANES` (the wrapper pads ``M`` and
    ``out`` with zero columns). Either way each element's sum keeps its
    order: the bits are those of the generic code.
    """
    q = M.shape[1]
    T = w.shape[1]
    if idx.shape[0] > 1:  # no vector of M serves two rows
        acc = np.empty(q, dtype=np.float64)
        for r in range(start, stop):
            acc[:] = 0.0
            for t in range(T):
                v = M[idx[r, t]]
                wt = np.float64(w[r, t])
                for j in range(q):
                    acc[j] = acc[j] + wt * v[j]
            out[r] = acc
        return
    tile = _tile()
    width = TILE_VECTORS * LANES
    for s0 in range(start, stop, SUM_ROWS):
        s1 = min(s0 + SUM_ROWS, stop)
        j0 = 0
        while j0 + width <= q:
            _tile_columns(idx, w, M, out, s0, s1, j0, TILE_VECTORS, tile)
            j0 += width
        while j0 < q:
            _tile_columns(idx, w, M, out, s0, s1, j0, 1, tile)
            j0 += LANES


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
