"""Tests of the search layer (sk_conse._search): ConSE's weights, f(x), scores
and top-k, and the cosine search DeViSE uses.

Every test runs on each backend of the ``backend`` fixture and compares with a
reference written plainly from the paper (Norouzi et al., ICLR 2014), one
sample at a time: the top T seen labels by a stable sort of -p, weights
p / Z, f(x) = sum_t w_t s(y_t), the cosine to each candidate minus its offset,
and the top-k by a stable sort of -scores (ties to the smaller candidate).
"""

import types

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sk_conse._backend import GATHER_MAX_T, Backend, NumpyBackend
from sk_conse._parallel import Parallel
from sk_conse._search import ConSESearch, CosineSearch, choose_algorithm

GROUP = 64

SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

ROUTES = ["direct", "factorised"]

# ----------------------------------------------------------------- references


def ref_top_t(p, T):
    """The T most likely seen labels of one sample, ties to the smaller one."""
    return np.argsort(-p, kind="stable")[:T]


def ref_embedding(p, S0, T):
    """f(x) of one sample: sum_t (p_t / Z) s(y_t) over the top T labels."""
    p = p.astype(np.float64)
    top = ref_top_t(p, T)
    w = p[top] / p[top].sum()
    return (w[:, None] * S0[top].astype(np.float64)).sum(axis=0)


def ref_cosine_scores(f, S1, offset=None):
    """Cosine of f to each candidate (0 where f is the zero vector), minus the
    offset."""
    S1 = S1.astype(np.float64)
    nf = np.linalg.norm(f)
    if nf == 0:  # no direction: every candidate scores 0
        return np.zeros(len(S1)) if offset is None else -offset
    cos = (S1 @ f) / (np.linalg.norm(S1, axis=1) * nf)
    return cos if offset is None else cos - offset


def ref_scores(P, S0, S1, T, offset=None):
    return np.stack([ref_cosine_scores(ref_embedding(p, S0, T), S1, offset) for p in P])


def ref_top_k(S, k):
    return np.argsort(-S, axis=1, kind="stable")[:, :k]


def probabilities(rng, n, n_seen, dtype=np.float64):
    """Rows of p(y|x), quantised so that many rows hold exact ties."""
    P = np.round(rng.dirichlet(np.ones(n_seen), size=n) * 8) + 1
    return (P / P.sum(axis=1, keepdims=True)).astype(dtype)


def assert_ranking(idx, vals, ref, k, tol):
    """``idx``/``vals`` are the reference's top-k: values within ``tol``, the
    ranking exact in each row whose top k + 1 reference values hold no near
    tie (exact ties, from duplicate candidates, must go to the smaller one)."""
    expected = ref_top_k(ref, k)
    np.testing.assert_allclose(vals, np.take_along_axis(ref, idx, 1), atol=tol)
    np.testing.assert_allclose(
        np.take_along_axis(ref, idx, 1),
        np.take_along_axis(ref, expected, 1),
        atol=tol,
    )
    top = -np.sort(-ref, axis=1)[:, : k + 1]
    gaps = -np.diff(top, axis=1)
    clean = np.all((gaps == 0) | (gaps > 4 * tol), axis=1)
    assert clean.mean() > 0.5  # the check below must bite
    np.testing.assert_array_equal(idx[clean], expected[clean])


def weights_of(search, P):
    """The top-T seen labels and weights that ``embed`` combines."""
    batch = search.embed(P)
    return batch.idx, batch.weights


def search_scores(search, P):
    nx = search.backend
    return nx.to_numpy(search.raw_scores(search.embed(nx.asarray(P))))


# -------------------------------------------------------------------- weights


@pytest.mark.parametrize("T", [1, 2, 5, 6, 9])
def test_weights_match_reference(backend, T):
    rng = np.random.RandomState(0)
    P = probabilities(rng, 30, 6)
    search = ConSESearch(backend, rng.randn(3, 4), rng.randn(6, 4), T)
    idx, w = weights_of(search, backend.asarray(P))
    idx, w = backend.to_numpy(idx), backend.to_numpy(w)
    idx = np.broadcast_to(idx, w.shape)  # T = all: one shared row
    T_eff = min(T, 6)
    assert search.T == T_eff
    for i, p in enumerate(P):
        top = np.sort(ref_top_t(p, T_eff))
        np.testing.assert_array_equal(idx[i], top)
        np.testing.assert_allclose(w[i], p[top] / p[top].sum(), rtol=1e-12)


def test_weights_exact_ties_go_to_the_smaller_index(backend):
    search = ConSESearch(backend, np.eye(2), np.ones((4, 2)), 2)
    P = np.array([[0.25, 0.25, 0.25, 0.25], [0.2, 0.2, 0.4, 0.2]])
    idx, w = weights_of(search, backend.asarray(P))
    np.testing.assert_array_equal(backend.to_numpy(idx), [[0, 1], [0, 2]])
    np.testing.assert_allclose(backend.to_numpy(w), [[0.5, 0.5], [1 / 3, 2 / 3]])


def test_weights_depend_only_on_ratios_within_a_row(backend):
    rng = np.random.RandomState(1)
    P = probabilities(rng, 5, 6)
    search = ConSESearch(backend, np.eye(3), rng.randn(6, 3), 3)
    idx, w = weights_of(search, backend.asarray(P))
    idx_s, w_s = weights_of(search, backend.asarray(P * 1e3))
    np.testing.assert_array_equal(backend.to_numpy(idx_s), backend.to_numpy(idx))
    np.testing.assert_allclose(backend.to_numpy(w_s), backend.to_numpy(w), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weights_and_embedding_keep_the_dtype(backend, dtype):
    rng = np.random.RandomState(1)
    P = probabilities(rng, 5, 40, dtype)
    for T in (2, GATHER_MAX_T + 1):
        search = ConSESearch(
            backend, rng.randn(3, 4).astype(dtype), rng.randn(40, 4), T
        )
        batch = search.embed(backend.asarray(P))
        assert backend.to_numpy(batch.weights).dtype == dtype
        assert backend.to_numpy(batch.embedding).dtype == dtype
        assert backend.to_numpy(search.raw_scores(batch)).dtype == dtype


# ---------------------------------------------------------------------- embed


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T", [1, 3, GATHER_MAX_T, GATHER_MAX_T + 1, 42, 50])
def test_embed_matches_reference(backend, T, dtype):
    # T beyond GATHER_MAX_T goes through dense weights; T = 42 = n_seen is
    # "T = all", and T = 50 is clipped to it.
    rng = np.random.RandomState(2)
    n_seen = 42
    P = probabilities(rng, 20, n_seen, dtype)
    S0 = rng.randn(n_seen, 7).astype(dtype)
    search = ConSESearch(backend, rng.randn(3, 7).astype(dtype), S0, T)
    F = backend.to_numpy(search.embed(backend.asarray(P)).embedding)
    expected = np.stack([ref_embedding(p, S0, T) for p in P])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(F, expected, rtol=tol, atol=tol)


@SETTINGS
@given(
    P=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 5), st.integers(1, 8)),
        elements=st.integers(0, 4).map(float),
    ),
    seed=st.integers(0, 2**16),
    T=st.integers(1, 10),
)
def test_embedding_is_a_convex_combination_of_the_top_t_vectors(backend, P, seed, T):
    P[:, 0] += 1.0  # at least one positive probability a row
    P /= P.sum(axis=1, keepdims=True)
    S0 = np.random.RandomState(seed).randn(P.shape[1], 4)
    search = ConSESearch(backend, np.eye(4), S0, T)
    batch = search.embed(backend.asarray(P))
    F = backend.to_numpy(batch.embedding)
    idx, w = backend.to_numpy(batch.idx), backend.to_numpy(batch.weights)
    assert np.all(w >= 0)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(
        F, np.stack([ref_embedding(p, S0, T) for p in P]), atol=1e-12
    )
    # f lies in the convex hull: coordinatewise within the top-T vectors.
    top = S0[idx]
    assert np.all(top.min(axis=1) - 1e-12 <= F)
    assert np.all(top.max(axis=1) + 1e-12 >= F)


@SETTINGS
@given(
    P=hnp.arrays(np.float64, (4, 6), elements=st.floats(0.01, 1.0)),
    seed=st.integers(0, 2**16),
)
def test_t_equal_one_gives_the_argmax_vector_exactly(backend, P, seed):
    S0 = np.random.RandomState(seed).randn(6, 3)
    search = ConSESearch(backend, np.eye(3), S0, 1)
    F = backend.to_numpy(search.embed(backend.asarray(P)).embedding)
    np.testing.assert_array_equal(F, S0[np.argmax(P, axis=1)])


# ------------------------------------------------------- scores and top-k

K = 5
# Candidate counts: narrow, just below the grouped top-k (8 k GROUP columns),
# and grouped (also above NumPy's column block of G).
WIDTHS = {"narrow": 70, "below-grouped": 8 * K * GROUP - 1, "grouped": 8 * K * GROUP}
N_SEEN = 40


def _search_problem(dtype, n_candidates, seed=4):
    rng = np.random.RandomState(seed)
    P = probabilities(rng, 24, N_SEEN, dtype)
    S0 = rng.randn(N_SEEN, 16).astype(dtype)
    S1 = (rng.randn(n_candidates, 16) * rng.uniform(0.5, 3, (n_candidates, 1))).astype(
        dtype
    )
    # Duplicate directions: exact score ties that must go to the smaller index,
    # one of them f(x_0)'s own direction, so the tie is for the first place.
    S1[n_candidates - 1] = S1[3] * 2
    S1[n_candidates // 2] = S1[3]
    S1[[11, n_candidates - 2]] = ref_embedding(P[0], S0, 3)
    return P, S0, S1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("T", [1, 3, GATHER_MAX_T + 1, N_SEEN])
@pytest.mark.parametrize("route", ROUTES)
def test_scores_and_top_k_match_reference(backend, route, T, width, dtype):
    n_candidates = WIDTHS[width]
    P, S0, S1 = _search_problem(dtype, n_candidates)
    search = ConSESearch(backend, S1, S0, T, algorithm=route)
    assert search.n_candidates == n_candidates
    batch = search.embed(backend.asarray(P))
    S = search.raw_scores(batch)
    S_np = backend.to_numpy(S)
    assert S_np.shape == (len(P), search.n_candidates)
    ref = ref_scores(P, S0, S1, T)
    tol = 2e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(S_np[:, :n_candidates], ref, rtol=tol, atol=tol)
    idx, vals = search.ranked(search.embed(backend.asarray(P)), K)
    idx, vals = backend.to_numpy(idx), backend.to_numpy(vals)
    assert_ranking(idx, vals, ref, K, tol)
    if T == 3:  # f(x_0) is the direction of candidates 11 and n - 2
        np.testing.assert_array_equal(idx[0, :2], [11, n_candidates - 2])


@pytest.mark.parametrize("route", ROUTES)
def test_routes_agree(backend, route):
    P, S0, S1 = _search_problem(np.float64, WIDTHS["grouped"], seed=5)
    direct = ConSESearch(backend, S1, S0, 4, algorithm="direct")
    other = ConSESearch(backend, S1, S0, 4, algorithm=route)
    np.testing.assert_allclose(
        search_scores(other, P), search_scores(direct, P), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("route", ROUTES)
def test_numpy_threaded_search_equals_the_serial_one(route):
    # Enough work for NumPy's threads: the top-k of 1024 x 8192 scores on both
    # routes, and the factorised route's gathers (1024 x 8192 x T = 16).
    rng = np.random.RandomState(6)
    n_candidates, T = 8192 - 30, 16
    P = probabilities(rng, 1024, 50, np.float32)
    S0 = rng.randn(50, 64).astype(np.float32)
    S1 = rng.randn(n_candidates, 64).astype(np.float32)
    S1[n_candidates - 1] = S1[5]  # an exact tie
    serial = ConSESearch(NumpyBackend(), S1, S0, T, algorithm=route)
    threaded = serial.on(NumpyBackend(Parallel(4)))
    assert serial.backend.parallel.n_threads == 1  # `on` leaves it alone
    expected = serial.scores(serial.embed(P))
    got = threaded.scores(threaded.embed(P))
    np.testing.assert_array_equal(got, expected)
    rows = [0, 511, 1023]
    ref = ref_scores(P[rows], S0, S1, T)
    np.testing.assert_allclose(got[rows, :n_candidates], ref, atol=2e-5)
    idx, vals = threaded.backend.top_k(got, 7)
    serial_idx, serial_vals = serial.backend.top_k(expected, 7)
    np.testing.assert_array_equal(idx, serial_idx)
    np.testing.assert_array_equal(vals, serial_vals)
    assert_ranking(idx[rows], vals[rows], ref, 7, 2e-5)


@pytest.mark.parametrize("route", ROUTES)
def test_offset_is_subtracted_and_moves_the_ranking(backend, route):
    rng = np.random.RandomState(7)
    P = probabilities(rng, 6, 4)
    S0, S1 = rng.randn(4, 3), rng.randn(5, 3)
    plain = ConSESearch(backend, S1, S0, 2, algorithm=route)
    a = search_scores(plain, P)[:, :5]
    # A large offset on each row's best candidate sends it last.
    offset = np.array([0.0, 0.5, 0.0, 2.0, 0.25])
    shifted = ConSESearch(backend, S1, S0, 2, offset=offset, algorithm=route)
    b = search_scores(shifted, P)
    np.testing.assert_allclose(b[:, :5], a - offset, rtol=0, atol=1e-15)
    np.testing.assert_allclose(b[:, :5], ref_scores(P, S0, S1, 2, offset), atol=1e-12)
    idx, _ = shifted.backend.top_k(backend.asarray(b), 5)
    np.testing.assert_array_equal(backend.to_numpy(idx), ref_top_k(a - offset, 5))


@pytest.mark.parametrize("route", ROUTES)
def test_top_k_never_returns_padding(backend, route):
    rng = np.random.RandomState(8)
    P = probabilities(rng, 4, 5)
    S0, S1 = rng.randn(5, 3), rng.randn(6, 3)
    search = ConSESearch(backend, S1, S0, 2, algorithm=route, offset=np.full(6, 5.0))
    S = search.raw_scores(search.embed(backend.asarray(P)))
    idx, vals = search.backend.top_k(S, 100)
    idx, vals = backend.to_numpy(idx), backend.to_numpy(vals)
    assert idx.shape == (4, 6)
    assert np.all(idx < 6)
    assert np.all(np.isfinite(vals))


def test_scores_reuse_a_buffer_for_a_shorter_block(backend):
    rng = np.random.RandomState(9)
    P = probabilities(rng, 8, 6)
    search = ConSESearch(backend, rng.randn(10, 3), rng.randn(6, 3), 3)
    first = search.raw_scores(search.embed(backend.asarray(P)))
    expected = search_scores(search, P[:3])
    got = search.raw_scores(search.embed(backend.asarray(P[:3])), out=first[:3])
    assert tuple(got.shape) == (3, search.n_candidates)
    np.testing.assert_array_equal(backend.to_numpy(got), expected)
    np.testing.assert_array_equal(backend.to_numpy(first)[:3], expected)


@SETTINGS
@given(
    seed=st.integers(0, 2**16),
    scale=hnp.arrays(np.float64, 9, elements=st.floats(1e-3, 1e3)),
    route=st.sampled_from(ROUTES),
)
def test_scaling_candidates_changes_nothing(backend, seed, scale, route):
    rng = np.random.RandomState(seed)
    P = probabilities(rng, 5, 6)
    S0, S1 = rng.randn(6, 4), rng.randn(9, 4)
    a = ConSESearch(backend, S1, S0, 3, algorithm=route)
    b = ConSESearch(backend, S1 * scale[:, None], S0, 3, algorithm=route)
    np.testing.assert_allclose(
        search_scores(b, P), search_scores(a, P), rtol=1e-12, atol=1e-13
    )


# ------------------------------------------------------------- cancellation


@pytest.mark.parametrize("route", ROUTES)
def test_cancelling_top_t_vectors_give_zero_scores(backend, route):
    S0 = np.array([[1.0, 2.0, 3.0], [-1.0, -2.0, -3.0], [0.0, 1.0, 0.0]])
    S1 = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    search = ConSESearch(backend, S1, S0, 2, algorithm=route)
    S = search.raw_scores(search.embed(backend.asarray(np.array([[0.4, 0.4, 0.2]]))))
    S_np = backend.to_numpy(S)
    np.testing.assert_array_equal(S_np[:, :2], 0.0)
    idx, _ = search.backend.top_k(S, 1)
    np.testing.assert_array_equal(backend.to_numpy(idx), [[0]])


@pytest.mark.parametrize("route", ROUTES)
def test_rounding_noise_of_a_cancellation_is_not_a_direction(backend, route):
    # a + b + c = 0, but (a + b + c) / 3 in floats leaves ~1e-16 noise: that
    # noise must score 0 against every candidate, not +-1 along a random axis.
    a, b = np.random.RandomState(0).randn(2, 4)
    S0 = np.stack([a, b, -(a + b)])
    search = ConSESearch(backend, np.eye(4), S0, 3, algorithm=route)
    batch = search.embed(backend.asarray(np.full((1, 3), 1 / 3)))
    assert np.any(backend.to_numpy(batch.embedding) != 0)  # the premise
    np.testing.assert_array_equal(backend.to_numpy(search.raw_scores(batch))[:, :4], 0)


# Candidates for the near-cancellation tests: [0, 1], [1, 0] and [0, -1] give
# exact products with f = [0, 5e-15]; the others mix both coordinates.
_NEAR_CANDIDATES = np.array(
    [[1.0, 0.0], [0.0, 1.0], [0.0, -1.0], [1.0, 1.0], [-1.0, 2.0], [3.0, -1.0]]
)


@pytest.mark.parametrize("route", ROUTES)
def test_a_tiny_but_real_direction_is_kept(backend, route):
    # f(x) = ([1, 0] + [-1, 1e-14]) / 2 = [0, 5e-15]: far below the seen norms
    # but far above the rounding error of the sum, so it is the direction
    # [0, 1], and every score is the cosine to [0, 1].
    S0 = np.array([[1.0, 0.0], [-1.0, 1e-14]])
    search = ConSESearch(backend, _NEAR_CANDIDATES, S0, 2, algorithm=route)
    batch = search.embed(backend.asarray(np.array([[0.5, 0.5]])))
    np.testing.assert_array_equal(backend.to_numpy(batch.embedding), [[0.0, 5e-15]])
    S = search.raw_scores(batch)
    S_np = backend.to_numpy(S)[0, :6]
    expected = ref_cosine_scores(np.array([0.0, 1.0]), _NEAR_CANDIDATES)
    np.testing.assert_array_equal(S_np[:3], [0.0, 1.0, -1.0])
    # The factorised route would add rows of G = S0 S1ᵀ that cancel to
    # ~1e-14 (their rounding scaled by 1 / ||f|| ~ 2e14): such rows are
    # scored by the direct route instead, so both routes are exact.
    np.testing.assert_allclose(S_np, expected, atol=1e-12)
    idx, _ = search.backend.top_k(S, 2)
    np.testing.assert_array_equal(backend.to_numpy(idx), [[1, 4]])


@pytest.mark.parametrize("route", ROUTES)
def test_an_exact_cancellation_has_no_direction(backend, route):
    S0 = np.array([[1.0, 0.0], [-1.0, 0.0]])
    search = ConSESearch(backend, _NEAR_CANDIDATES, S0, 2, algorithm=route)
    batch = search.embed(backend.asarray(np.array([[0.5, 0.5]])))
    np.testing.assert_array_equal(backend.to_numpy(batch.embedding), [[0.0, 0.0]])
    S = backend.to_numpy(search.raw_scores(batch))
    np.testing.assert_array_equal(S[:, :6], 0.0)


_EPS = np.finfo(np.float64).eps


def _half_and_half(T, y):
    """T / 2 copies of [1, 0] and T / 2 of [-1, 2 y], equally likely: f(x) is
    [0, y] up to rounding, and sum_t w_t |s(y_t)| is about [1, y]."""
    half = T // 2
    S0 = np.array([[1.0, 0.0]] * half + [[-1.0, 2 * y]] * half)
    return S0, np.ones((1, 2 * half))


@pytest.mark.parametrize(
    "T",
    [
        40,
        100,
    ],
)
@pytest.mark.parametrize("route", ROUTES)
def test_the_direction_rule_holds_for_large_t(backend, route, T):
    # ||f|| = 80 eps: below the bound (T + 1) eps ||A|| exactly when T >= 80.
    S0, P = _half_and_half(T, 80 * _EPS)
    search = ConSESearch(
        backend, np.array([[0.0, 1.0], [1.0, 0.0]]), S0, T, algorithm=route
    )
    batch = search.embed(backend.asarray(P))
    F = backend.to_numpy(batch.embedding)[0]
    np.testing.assert_allclose(F, [0, 80 * _EPS], atol=1e-15)
    bound = (T + 1) * _EPS * np.linalg.norm(np.abs(S0).mean(axis=0))
    S = backend.to_numpy(search.raw_scores(batch))[0, :2]
    if np.linalg.norm(F) <= bound:  # no direction: every score is 0
        np.testing.assert_array_equal(S, 0.0)
    else:  # the direction [0, 1]
        np.testing.assert_allclose(S, [1.0, 0.0], atol=1e-2)


# --------------------------------------------------------------- CosineSearch


def test_cosine_search_scores_and_zero_points(backend):
    search = CosineSearch(backend, np.eye(3) * [1.0, 4.0, 0.5])
    F = np.array([[0.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-3.0, 0.0, 0.0]])
    S = search.raw_scores(search.embed(backend.asarray(F)))
    S_np = backend.to_numpy(S)
    assert S_np.shape == (3, 3)
    np.testing.assert_allclose(
        S_np[:, :3],
        [[0, 2 / np.sqrt(5), 1 / np.sqrt(5)], [0, 0, 0], [-1, 0, 0]],
        atol=1e-15,
    )
    idx, vals = search.backend.top_k(S, 2)
    np.testing.assert_array_equal(backend.to_numpy(idx), [[1, 2], [0, 1], [1, 2]])
    np.testing.assert_allclose(
        backend.to_numpy(vals),
        [[2 / np.sqrt(5), 1 / np.sqrt(5)], [0, 0], [0, 0]],
        atol=1e-15,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("width", list(WIDTHS))
def test_cosine_search_matches_reference(backend, width, dtype):
    n_candidates = WIDTHS[width]
    rng = np.random.RandomState(10)
    S1 = rng.randn(n_candidates, 12).astype(dtype)
    F = rng.randn(15, 12).astype(dtype)
    S1[[20, n_candidates - 3]] = F[0] * 3  # a tie for the first place
    offset = rng.uniform(0, 0.1, n_candidates).astype(dtype)
    offset[[20, n_candidates - 3]] = 0
    search = CosineSearch(backend, S1, offset=offset)
    S = search.raw_scores(search.embed(backend.asarray(F)))
    ref = np.stack([ref_cosine_scores(f.astype(np.float64), S1, offset) for f in F])
    tol = 2e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(
        backend.to_numpy(S)[:, :n_candidates], ref, rtol=tol, atol=tol
    )
    idx, vals = search.backend.top_k(S, K)
    idx, vals = backend.to_numpy(idx), backend.to_numpy(vals)
    assert_ranking(idx, vals, ref, K, tol)
    np.testing.assert_array_equal(idx[0, :2], [20, n_candidates - 3])


def test_on_returns_a_copy_with_the_new_backend():
    search = CosineSearch(NumpyBackend(), np.eye(3))
    threaded = NumpyBackend(Parallel(2))
    other = search.on(threaded)
    assert other.backend is threaded
    assert search.backend.parallel.n_threads == 1


# ---------------------------------------------------------------- route rule


def _route(backend, **kwargs):
    params = {"T": 10, "n_seen": 1000, "q": 500, "n_candidates": 21841, "itemsize": 4}
    params.update(kwargs)
    return choose_algorithm(backend, **params)


def test_choose_algorithm_factorised_when_t_is_small_against_q():
    assert _route(NumpyBackend()) == "factorised"


@pytest.mark.parametrize(
    "change",
    [
        {"T": 1000},  # T = all
        {"n_candidates": 1000},  # few candidates
        {"T": 33, "q": 5000},  # beyond the gather
        {"n_seen": 100_000, "itemsize": 8},  # G too large
    ],
)
def test_choose_algorithm_direct_otherwise(change):
    assert _route(NumpyBackend(), **change) == "direct"


def test_choose_algorithm_follows_the_kernel_rule(monkeypatch):
    # With the kernels: factorised up to T = 16 + q / 3.
    import sk_conse._kernels as kernels

    if kernels.available():
        assert _route(NumpyBackend(), q=30, T=26) == "factorised"
        assert _route(NumpyBackend(), q=30, T=27) == "direct"
        assert _route(NumpyBackend(), q=50, T=32) == "factorised"
    # Without them the rule T <= q / 8 applies instead.
    monkeypatch.setattr(kernels, "available", lambda: False)
    assert not NumpyBackend().compiled
    assert _route(NumpyBackend(), q=50, T=7) == "direct"
    assert _route(NumpyBackend(), q=80, T=10) == "factorised"


@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_choose_algorithm_direct_on_a_gpu(device):
    gpu = types.SimpleNamespace(device=device)
    assert (
        _route(
            types.SimpleNamespace(
                factorised_max_t=lambda q: Backend.factorised_max_t(gpu, q)
            )
        )
        == "direct"
    )


def test_a_cancelling_row_with_a_single_candidate_is_scored():
    # A row whose f(x) cancels is re-scored by the direct product; with one
    # candidate its best-two holds one entry (before: a shape mismatch).
    seen = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]], np.float32)
    search = ConSESearch(
        NumpyBackend(),
        np.array([[1.0, 1.0]], np.float32),
        seen,
        T=2,
        algorithm="factorised",
    )
    batch = search.embed(np.array([[0.5, 0.5, 0.0], [0.1, 0.0, 0.9]], np.float32))
    out = np.empty((2, 1), np.float32)
    search.scores(batch, out=out)
    # Row 1: f = (0.1, 0.9), cos with (1, 1) / sqrt(2).
    expected = [0.0, (0.1 + 0.9) / (np.sqrt(2) * np.hypot(0.1, 0.9))]
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-6)


# ----------------------------------------------------------- rounding bound


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    cancel=st.sampled_from([1.0, 1e-2, 1e-4, 1e-7, 1e-10, 0.0]),
    T=st.sampled_from([1, 2, 3, 8, 17, 32, 33, 40]),
    dtype=st.sampled_from([np.float32, np.float64]),
    route=st.sampled_from(ROUTES),
    compiled=st.booleans(),
    with_offset=st.booleans(),
)
def test_raw_scores_lie_within_half_the_rounding_bound(
    seed, cancel, T, dtype, route, compiled, with_offset
):
    # |raw - reference| <= rounding_bound / 2 for every entry: every route,
    # dtype, compiled or generic code, and degree of cancellation (pairs of
    # seen vectors that undo each other up to `cancel`).
    import sk_conse._kernels as kernels

    if compiled and not kernels.available():
        return
    rng = np.random.default_rng(seed)
    n_seen, q, n_cand = 40, int(rng.integers(2, 70)), 50
    S0 = rng.standard_normal((n_seen, q))
    S0[1::2] = -S0[0::2] + cancel * rng.standard_normal((n_seen // 2, q))
    S0 *= rng.uniform(0.1, 10, (n_seen, 1))
    S1 = rng.standard_normal((n_cand, q)) * rng.uniform(0.1, 10, (n_cand, 1))
    P = rng.dirichlet(np.ones(n_seen) * 0.3, size=30)
    P[::3, 0::2] = P[::3, 1::2]  # rows weighting each pair equally
    offset = rng.uniform(-2, 2, n_cand).astype(dtype) if with_offset else None
    backend = NumpyBackend()
    backend.compiled = compiled
    search = ConSESearch(
        backend, S1.astype(dtype), S0.astype(dtype), T, algorithm=route, offset=offset
    )
    batch = search.embed(P.astype(dtype))
    raw = search.raw_scores(batch)
    live = np.nonzero(batch.inverse_norms != 0)[0]
    rows = np.repeat(live, n_cand)
    cols = np.tile(np.arange(n_cand), live.shape[0])
    reference = search.reference(batch, rows, cols).astype(np.float64)
    gap = np.abs(raw[rows, cols].astype(np.float64) - reference)
    half = search.bound(batch)[rows] / 2
    assert np.all(gap <= half), (gap / half).max()


@pytest.mark.parametrize("route", ROUTES)
def test_cancelling_rows_and_overflowing_ties_in_one_batch(backend, route):
    # Found in review: the factorised route scores rows whose vectors cancel
    # by the direct product, and kept their row numbers on the batch; the
    # part of the batch taken to grow K for other rows inherited them, so a
    # batch holding both kinds of rows failed with an IndexError (or gave a
    # row another row's answer). Each row must get its answer alone.
    rng = np.random.default_rng(0)
    q = 16
    S0 = rng.standard_normal((6, q))
    S0[1] = -S0[0] + 1e-6 * rng.standard_normal(q)  # s1 nearly cancels s0
    S1 = rng.standard_normal((60, q))
    S1[10:40] = S0[2]  # 30 copies of s2's direction: ties overflow K
    P = np.full((4, 6), 1e-3)
    P[0, :2] = 1.0  # f(x) = (s0 + s1) / 2: the vectors cancel
    P[3, 2] = 1.0  # f(x) close to s2: 30 tied candidates at the top
    search = ConSESearch(backend, S1, S0, 2, algorithm=route)
    # The ranking is the promise (isolated entries keep raw values, whose
    # last bits may depend on the batch).
    idx = backend.to_numpy(search.ranked(search.embed(backend.asarray(P)), 5)[0])
    for i in range(4):
        alone = search.ranked(search.embed(backend.asarray(P[i : i + 1])), 5)[0]
        np.testing.assert_array_equal(idx[i], backend.to_numpy(alone)[0])
    np.testing.assert_array_equal(idx[3], np.arange(10, 15))
