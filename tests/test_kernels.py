"""The compiled kernels (numba) against plain NumPy, ties included.

The routes are tested end to end in test_search.py and test_same_answer.py;
here each kernel meets a brute-force answer on the cases that stress its
own code: ties across blocks, rows that skip blocks, widths that are not a
multiple of a block or a run, offsets, more threads than work.
"""

import numpy as np
import pytest

from sk_conse import _kernels as kernels
from sk_conse._backend import Backend, NumpyBackend
from sk_conse._folders import kernel_cache
from sk_conse._parallel import Parallel

pytestmark = pytest.mark.skipif(
    not kernels.available(), reason="numba is not installed (or disabled)"
)
if kernels.available():
    from sk_conse import _numba_kernels


def _brute_top_k(S, K):
    """Best first, equal values in increasing column order."""
    cols = np.broadcast_to(np.arange(S.shape[1]), S.shape)
    order = np.lexsort((cols, -S), axis=1)[:, :K]
    return order, np.take_along_axis(S, order, axis=1)


def _problem(rng, m, n_seen, n, T, dtype, ties):
    G = rng.standard_normal((n_seen, n)).astype(dtype)
    if ties:
        # Equal columns far apart (another block, another run): their scores
        # tie exactly and must keep the smaller column.
        G[:, n - 5 :] = G[:, :5]
        G[:, 2100:2110] = G[:, 3:13]
    idx = np.stack([rng.choice(n_seen, T, replace=False) for _ in range(m)])
    w = rng.random((m, T)).astype(dtype)
    return idx, w, G


def _scores(idx, w, G, offset):
    """``W G - offset`` with the terms added in order, as the kernels do."""
    S = np.zeros((idx.shape[0], G.shape[1]), dtype=G.dtype)
    for t in range(idx.shape[1]):
        S = S + w[:, t : t + 1] * G[idx[:, t]]
    return S - offset if offset.shape[0] else S


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T", [1, 2, 3, 8, 11])
@pytest.mark.parametrize("with_offset", [False, True])
def test_factorised_top_k_and_scores_match_numpy(dtype, T, with_offset):
    rng = np.random.default_rng(T)
    n = 2 * _numba_kernels.BLOCK_COLUMNS + 301  # a ragged last block
    idx, w, G = _problem(rng, 70, 30, n, T, dtype, ties=True)
    offset = (
        (0.1 * rng.standard_normal(n)).astype(dtype)
        if with_offset
        else np.zeros(0, dtype)
    )
    S = _scores(idx, w, G, offset)
    for K in (1, 5, 28):
        cols, vals = kernels.factorised_top_k(idx, w, G, offset, K)
        expected_cols, expected_vals = _brute_top_k(S, K)
        np.testing.assert_array_equal(cols, expected_cols)
        np.testing.assert_array_equal(vals, expected_vals)
    out = np.full((70, n), np.nan, dtype=dtype)
    cols, vals = kernels.factorised_scores(idx, w, G, offset, out, 3)
    np.testing.assert_array_equal(out, S)
    expected_cols, expected_vals = _brute_top_k(S, 3)
    np.testing.assert_array_equal(cols, expected_cols)
    np.testing.assert_array_equal(vals, expected_vals)


def test_factorised_top_k_keeps_every_column_when_k_is_n():
    rng = np.random.default_rng(0)
    idx, w, G = _problem(rng, 9, 6, 40, 3, np.float32, ties=False)
    G[:, 20:] = G[:, :20]  # every score tied with another
    cols, _ = kernels.factorised_top_k(idx, w, G, np.zeros(0, np.float32), 40)
    expected_cols, _ = _brute_top_k(_scores(idx, w, G, np.zeros(0)), 40)
    np.testing.assert_array_equal(cols, expected_cols)


def test_threads_give_the_serial_answer():
    rng = np.random.default_rng(1)
    m = 3 * kernels.UNIT_ROWS + 17  # units of unequal size
    idx, w, G = _problem(rng, m, 20, 700, 4, np.float32, ties=False)
    none = np.zeros(0, np.float32)
    serial = kernels.factorised_top_k(idx, w, G, none, 12)
    threaded = kernels.factorised_top_k(idx, w, G, none, 12, Parallel(4))
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_block_top_k_matches_numpy_over_ragged_blocks(dtype):
    rng = np.random.default_rng(2)
    m, n, K = 50, 9000, 20
    S = rng.standard_normal((m, n)).astype(dtype)
    S[:, 8000:8030] = S[:, 100:130]  # ties across blocks
    S[7] = 0.5  # a whole row tied
    widths = [300, 4096, 4000, 604]  # narrow and wide (run-bound) blocks
    starts = np.cumsum([0, *widths[:-1]])
    blocks = [(j0, S[:, j0 : j0 + w].copy()) for j0, w in zip(starts, widths)]
    cols, vals = kernels.block_top_k(blocks, m, n, K, dtype)
    expected_cols, expected_vals = _brute_top_k(S, K)
    np.testing.assert_array_equal(cols, expected_cols)
    np.testing.assert_array_equal(vals, expected_vals)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T", [1, 2, 10, 64])
def test_largest_t_selects_as_the_backend_does(dtype, T):
    rng = np.random.default_rng(T)
    P = rng.random((600, 200)).astype(dtype)
    P[::3, 5:60] = 0.999  # ties at the T-th value
    P[1::7] = 0.5  # whole rows tied
    expected = NumpyBackend().select_top_k(P, T)
    np.testing.assert_array_equal(kernels.largest_t(P, T, Parallel(2)), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dot2_matches_the_generic_code_bit_for_bit_and_is_compensated(dtype):
    rng = np.random.default_rng(4)
    q, n_pairs = 37, 3000
    A = rng.standard_normal((20, q))
    B = rng.standard_normal((50, q)).astype(dtype)
    # Heavy cancellation: half of the terms undo the other half.
    A[:10, q // 2 :] = -A[:10, : q - q // 2][:, ::-1] * 1e8
    ia, ib = rng.integers(0, 20, n_pairs), rng.integers(0, 50, n_pairs)
    got = kernels.dot2(A, ia, B, ib, Parallel(2))
    generic = Backend.dot2(NumpyBackend(), A, ia, B, ib)
    np.testing.assert_array_equal(got, generic)
    from fractions import Fraction

    for i in range(0, n_pairs, 97):
        exact = sum(
            Fraction(float(a)) * Fraction(float(b))
            for a, b in zip(A[ia[i]], B[ib[i]].astype(np.float64))
        )
        assert abs(Fraction(float(got[i])) - exact) <= abs(exact) * Fraction(
            2**-52
        ) + Fraction(2**-1000)


def test_kernels_refuse_indices_out_of_range():
    # Found from outside: a compiled kernel reads where its indices say.
    G = np.ones((4, 10), np.float32)
    w = np.ones((2, 2), np.float32)
    for bad in ([[0, 4], [1, 2]], [[-1, 0], [1, 2]]):
        idx = np.array(bad)
        with pytest.raises(IndexError, match="outside"):
            kernels.factorised_top_k(idx, w, G, None, 3)
        with pytest.raises(IndexError, match="outside"):
            kernels.factorised_scores(idx, w, G, None, np.empty((2, 10), np.float32), 3)
        with pytest.raises(IndexError, match="outside"):
            kernels.weighted_rows(idx, w, G.astype(np.float64), np.float32)
    with pytest.raises(IndexError, match="outside"):
        kernels.dot2(G, np.array([4]), G, np.array([0]))


def test_every_kernel_caches_its_compiled_code_in_the_user_cache():
    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher

    from sk_conse import _numba_kernels

    kernels_found = {
        name: obj
        for name, obj in vars(_numba_kernels).items()
        if isinstance(obj, CPUDispatcher) and not name.startswith("_")
    }
    expected = {"factorised", "scores", "blocks", "largest_t", "dot2"}
    assert expected | {"weighted_rows"} <= set(kernels_found)
    for name, dispatcher in kernels_found.items():
        assert not isinstance(dispatcher._cache, NullCache), name
        assert dispatcher._cache._cache_path == str(kernel_cache())


@pytest.mark.parametrize("T", [1, 3, 10])
def test_weighted_rows_sum_in_float64_then_round(T):
    rng = np.random.default_rng(T)
    M = rng.standard_normal((50, 33))
    idx = np.stack([rng.choice(50, T, replace=False) for _ in range(700)])
    w = rng.random((700, T)).astype(np.float32)
    F = kernels.weighted_rows(idx, w, M, np.float32, Parallel(2))
    expected = np.zeros((700, 33))
    for t in range(T):  # in order, in float64
        expected = expected + w[:, t : t + 1].astype(np.float64) * M[idx[:, t]]
    np.testing.assert_array_equal(F, expected.astype(np.float32))
    # The generic code (torch, CuPy, NumPy without numba) gives the same bits.
    generic = Backend.weighted_sum(NumpyBackend(), idx, w, M, np.float32)
    np.testing.assert_array_equal(F, generic)
    # One shared row of indices (T = all) serves every row.
    shared = np.arange(50)[None, :]
    W = rng.random((700, 50))
    F = kernels.weighted_rows(shared, W, M, np.float64, Parallel(2))
    generic = Backend.weighted_sum(NumpyBackend(), shared, W, M, np.float64)
    np.testing.assert_array_equal(F, generic)
    # q = 33 is padded to whole vectors inside; the result is not.
    assert F.shape == (700, 33)
    assert F.flags.c_contiguous
    # float32 weights are widened in the kernel, not copied: the same bits.
    W32 = W.astype(np.float32)
    F = kernels.weighted_rows(shared, W32, M, np.float32, Parallel(2))
    generic = Backend.weighted_sum(NumpyBackend(), shared, W32, M, np.float32)
    np.testing.assert_array_equal(F, generic)


@pytest.mark.parametrize("name", ["blocks", "factorised", "scores"])
def test_the_top_k_screens_read_contiguous_scores(name):
    # With signed indices numba wraps negative ones, and LLVM compiled the
    # run screen and the offset subtraction to one gather per element
    # (selecting the top-28 of 1,024 x 21,841 scores took 41.5 ms instead of
    # 14.1 on one AVX-512 core). An uncached copy is compiled to read its
    # assembly (a cached kernel's cannot be inspected).
    import numba

    kernel = numba.njit(nogil=True)(getattr(_numba_kernels, name).py_func)
    m, n, K = 3, 3000, 5
    top = kernels._empty_top_k(m, K, n, np.float32)
    G = np.ones((4, n), dtype=np.float32)
    idx = np.zeros((m, 2), dtype=np.int64)
    w = np.ones((m, 2), dtype=np.float32)
    offset = np.zeros(n, dtype=np.float32)
    if name == "blocks":
        kernel(G, 0, n, *top, 0, m)
    elif name == "factorised":
        kernel(idx, w, G, offset, *top, 0, m)
    else:
        kernel(idx, w, G, offset, np.empty((m, n), np.float32), *top, 0, m)
    asm = kernel.inspect_asm(kernel.signatures[0])
    assert "vgather" not in asm
