"""The compiled kernels (numba) against plain NumPy, ties included.

The routes are tested end to end in test_search.py and test_same_answer.py;
here each kernel meets a brute-force answer on the cases that stress its
own code: ties across blocks, rows that skip blocks, widths that are not a
multiple of a block or a run, offsets, more threads than work.
"""

import numpy as np
import pytest

from sk_conse import _kernels as kernels
from sk_conse._backend import NumpyBackend
from sk_conse._folders import kernel_cache
from sk_conse._parallel import Parallel

pytestmark = pytest.mark.skipif(
    not kernels.available(), reason="numba is not installed (or disabled)"
)


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
    n = 2 * kernels.BLOCK_COLUMNS + 301  # a ragged last block
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
    out = np.full((70, n + 7), np.nan, dtype=dtype)
    cols, vals = kernels.factorised_scores(idx, w, G, offset, out, 3)
    np.testing.assert_array_equal(out[:, :n], S)
    assert np.all(out[:, n:] == -np.inf)
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
@pytest.mark.parametrize("copies", [False, True])
def test_exact_dots_match_numpy(dtype, copies):
    rng = np.random.default_rng(4)
    q, n_units, n_pairs = 37, 50, 3000  # q not a multiple of the 4 partial sums
    F = rng.standard_normal((20, q))
    units = rng.standard_normal((n_units, q)).astype(dtype)
    expand = rng.integers(0, n_units, 80) if copies else np.zeros(0, np.int64)
    n_cols = 80 if copies else n_units
    offset = rng.standard_normal(n_cols).astype(dtype)
    at = rng.integers(0, 20, n_pairs)
    cols = rng.integers(0, n_cols, n_pairs)
    out = np.empty(n_pairs, dtype)
    kernels.exact_dots(F, at, units, expand, cols, offset, out, Parallel(2))
    rows_of_units = expand[cols] if copies else cols
    expected = np.einsum("ij,ij->i", F[at], units[rows_of_units].astype(np.float64))
    expected -= offset[cols].astype(np.float64)
    # float64: the sums differ in order only (values are about 6 in size).
    np.testing.assert_allclose(out, expected.astype(dtype), rtol=0, atol=1e-13)


def test_every_kernel_caches_its_compiled_code_in_the_user_cache():
    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher

    from sk_conse import _numba_kernels

    kernels_found = {
        name: obj
        for name, obj in vars(_numba_kernels).items()
        if isinstance(obj, CPUDispatcher) and not name.startswith("_")
    }
    expected = {"factorised", "scores", "blocks", "largest_t", "exact_dots"}
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
