"""Tests of ConSE's backend-generic numeric kernel (sk_conse._kernel).

Every test runs through the ``xp`` fixture (NumPy, and CuPy when a CUDA device
is there) and compares with plain NumPy references written here.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sk_conse._kernel import (
    _GATHER_MAX_T,
    _GROUP,
    CandidateSearch,
    embed,
    rank_top_k,
    select_top_k,
    top_t_weights,
)

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# ----------------------------------------------------------------- references


def ref_top_k(A, k):
    """Stable top-k: the k largest per row, ties to the smaller column, best first."""
    return np.argsort(-A, axis=1, kind="stable")[:, :k]


def ref_select_top_k(A, k):
    return np.sort(ref_top_k(A, k), axis=1)


def ref_embedding(P, S0, T):
    """f(x) of each row of P, one sample at a time, as in the paper."""
    F = np.zeros((P.shape[0], S0.shape[1]))
    for i, p in enumerate(P):
        top = np.argsort(-p, kind="stable")[:T]
        F[i] = (p[top, None] * S0[top]).sum(axis=0) / p[top].sum()
    return F


def ref_cosine(F, S1):
    out = np.zeros((F.shape[0], S1.shape[0]))
    for i, f in enumerate(F):
        for j, s in enumerate(S1):
            nf = np.linalg.norm(f)
            out[i, j] = 0.0 if nf == 0 else f @ s / (nf * np.linalg.norm(s))
    return out


def tied_int_matrix(min_side=1, max_side=12, low=0, high=3):
    """Random integer matrices in a small range: ties everywhere."""
    shapes = hnp.array_shapes(
        min_dims=2, max_dims=2, min_side=min_side, max_side=max_side
    )
    return hnp.arrays(np.float64, shapes, elements=st.integers(low, high).map(float))


def probabilities(rng, n, n_seen, dtype=np.float64):
    P = rng.dirichlet(np.ones(n_seen), size=n)
    # Quantise so that many rows hold exact ties.
    P = np.round(P * 8) + 1
    return (P / P.sum(axis=1, keepdims=True)).astype(dtype)


# -------------------------------------------------------------- select_top_k


@SETTINGS
@given(A=tied_int_matrix(), data=st.data())
def test_select_top_k_matches_stable_argsort(xp, to_np, A, data):
    k = data.draw(st.integers(1, A.shape[1]), label="k")
    got = to_np(select_top_k(xp.asarray(A), k))
    assert got.shape == (A.shape[0], k)
    np.testing.assert_array_equal(got, ref_select_top_k(A, k))


@pytest.mark.parametrize("k", [1, 2, 4])
def test_select_top_k_all_equal_rows_take_the_first_columns(xp, to_np, k):
    got = to_np(select_top_k(xp.ones((3, 4)), k))
    np.testing.assert_array_equal(got, np.broadcast_to(np.arange(k), (3, k)))


def test_select_top_k_k_at_least_n_keeps_every_column(xp, to_np):
    A = xp.asarray([[0.3, 0.1], [0.0, 0.9]])
    np.testing.assert_array_equal(to_np(select_top_k(A, 5)), [[0, 1], [0, 1]])


def test_select_top_k_never_picks_minus_inf_over_finite(xp, to_np):
    A = xp.asarray([[-np.inf, -1.0, -np.inf, -2.0]])
    np.testing.assert_array_equal(to_np(select_top_k(A, 2)), [[1, 3]])


# -------------------------------------------------------------- top_t_weights


@pytest.mark.parametrize("T", [1, 2, 5, 6, 9])
def test_top_t_weights_matches_reference(xp, to_np, T):
    rng = np.random.RandomState(0)
    P = probabilities(rng, 30, 6)
    idx, w = top_t_weights(xp.asarray(P), T)
    idx, w = to_np(idx), to_np(w)
    T_eff = min(T, 6)
    assert idx.shape == w.shape == (30, T_eff)
    np.testing.assert_array_equal(idx, ref_select_top_k(P, T_eff))
    top = ref_select_top_k(P, T_eff)
    expected = np.take_along_axis(P, top, axis=1)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(w, expected, rtol=1e-12)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)


def test_top_t_weights_exact_ties_go_to_smaller_index(xp, to_np):
    P = xp.asarray([[0.25, 0.25, 0.25, 0.25], [0.2, 0.2, 0.4, 0.2]])
    idx, w = top_t_weights(P, 2)
    np.testing.assert_array_equal(to_np(idx), [[0, 1], [0, 2]])
    np.testing.assert_allclose(to_np(w), [[0.5, 0.5], [1 / 3, 2 / 3]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_top_t_weights_keeps_dtype(xp, dtype):
    P = xp.asarray(probabilities(np.random.RandomState(1), 5, 4, dtype))
    _, w = top_t_weights(P, 2)
    assert w.dtype == dtype


# ----------------------------------------------------------------------- embed


@pytest.mark.parametrize("T", [1, 3, _GATHER_MAX_T + 8])
def test_embed_matches_reference(xp, to_np, T):
    # T beyond _GATHER_MAX_T goes through the dense-weights product.
    rng = np.random.RandomState(2)
    n_seen = _GATHER_MAX_T + 10
    P = probabilities(rng, 20, n_seen)
    S0 = rng.randn(n_seen, 7)
    idx, w = top_t_weights(xp.asarray(P), T)
    F = to_np(embed(idx, w, xp.asarray(S0)))
    np.testing.assert_allclose(F, ref_embedding(P, S0, T), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("T", [1, 3, _GATHER_MAX_T + 8])
def test_embed_float32_stays_float32(xp, T):
    rng = np.random.RandomState(3)
    n_seen = _GATHER_MAX_T + 10
    P = xp.asarray(probabilities(rng, 4, n_seen, np.float32))
    S0 = xp.asarray(rng.randn(n_seen, 5).astype(np.float32))
    idx, w = top_t_weights(P, T)
    assert embed(idx, w, S0).dtype == np.float32


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
def test_embedding_is_a_convex_combination_of_the_top_t_vectors(xp, to_np, P, seed, T):
    P[:, 0] += 1.0  # at least one positive probability per row
    P /= P.sum(axis=1, keepdims=True)
    S0 = np.random.RandomState(seed).randn(P.shape[1], 4)
    idx, w = top_t_weights(xp.asarray(P), T)
    F = to_np(embed(idx, w, xp.asarray(S0)))
    idx, w = to_np(idx), to_np(w)
    assert np.all(w >= 0)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)
    # The weights are the ConSE weights p / Z of the stable top-T labels ...
    np.testing.assert_array_equal(idx, ref_select_top_k(P, min(T, P.shape[1])))
    np.testing.assert_allclose(
        w * P[np.arange(len(P))[:, None], idx].sum(axis=1, keepdims=True),
        np.take_along_axis(P, idx, axis=1),
        rtol=1e-12,
    )
    # ... f is the combination they give ...
    np.testing.assert_allclose(F, np.einsum("nt,ntq->nq", w, S0[idx]), atol=1e-12)
    np.testing.assert_allclose(F, ref_embedding(P, S0, T), atol=1e-12)
    # ... and lies in the convex hull: coordinatewise within the top-T vectors.
    top = S0[idx]
    assert np.all(F >= top.min(axis=1) - 1e-12)
    assert np.all(F <= top.max(axis=1) + 1e-12)


@SETTINGS
@given(
    P=hnp.arrays(np.float64, (4, 6), elements=st.floats(0.01, 1.0)),
    seed=st.integers(0, 2**16),
)
def test_t_equal_one_gives_the_argmax_vector_exactly(xp, to_np, P, seed):
    S0 = np.random.RandomState(seed).randn(6, 3)
    idx, w = top_t_weights(xp.asarray(P), 1)
    F = to_np(embed(idx, w, xp.asarray(S0)))
    np.testing.assert_array_equal(F, S0[np.argmax(P, axis=1)])


# ------------------------------------------------------------ CandidateSearch


@pytest.mark.parametrize("factorised", [False, True])
@pytest.mark.parametrize("T", [1, 3, 8])
def test_candidate_search_scores_match_cosine(xp, to_np, factorised, T):
    rng = np.random.RandomState(4)
    P = probabilities(rng, 25, 8)
    S0, S1 = rng.randn(8, 6), rng.randn(70, 6) * 3  # 70 pads to 128 columns
    seen = xp.asarray(S0)
    search = CandidateSearch(xp.asarray(S1), seen, factorised=factorised)
    assert search.factorised is factorised
    assert search.n_padded == 2 * _GROUP
    weights = top_t_weights(xp.asarray(P), T)
    S = to_np(search.scores(embed(*weights, seen), weights=weights))
    assert S.shape == (25, search.n_padded)
    assert np.all(np.isneginf(S[:, 70:]))
    expected = ref_cosine(ref_embedding(P, S0, T), S1)
    np.testing.assert_allclose(S[:, :70], expected, rtol=1e-10, atol=1e-12)


def test_candidate_search_without_seen_vectors(xp, to_np):
    search = CandidateSearch(xp.asarray(np.eye(3)), seen=None)
    F = np.array([[0.0, 2.0, 1.0], [0.0, 0.0, 0.0]])
    idx, scores = search.top_k(xp.asarray(F), 2)
    np.testing.assert_array_equal(to_np(idx), [[1, 2], [0, 1]])
    np.testing.assert_allclose(
        to_np(scores), [[2 / np.sqrt(5), 1 / np.sqrt(5)], [0, 0]]
    )


def test_factorised_route_needs_seen_vectors(xp):
    with pytest.raises(ValueError, match="factorised route needs the seen vectors"):
        CandidateSearch(xp.asarray(np.eye(3)), seen=None, factorised=True)


@pytest.mark.parametrize("factorised", [False, True])
def test_offset_is_subtracted(xp, to_np, factorised):
    rng = np.random.RandomState(5)
    P = probabilities(rng, 6, 4)
    S0, S1 = xp.asarray(rng.randn(4, 3)), xp.asarray(rng.randn(5, 3))
    offset = np.array([0.0, 0.5, 0.0, 2.0, 0.25])
    weights = top_t_weights(xp.asarray(P), 2)
    F = embed(*weights, S0)
    plain = CandidateSearch(S1, S0, factorised=factorised)
    shifted = CandidateSearch(S1, S0, offset=xp.asarray(offset), factorised=factorised)
    a = to_np(plain.scores(F, weights=weights))[:, :5]
    b = to_np(shifted.scores(F, weights=weights))[:, :5]
    np.testing.assert_allclose(b, a - offset, rtol=0, atol=1e-15)


@pytest.mark.parametrize("factorised", [False, True])
def test_cancelling_top_t_vectors_give_zero_scores(xp, to_np, factorised):
    S0 = xp.asarray([[1.0, 2.0, 3.0], [-1.0, -2.0, -3.0], [0.0, 1.0, 0.0]])
    S1 = xp.asarray([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    weights = top_t_weights(xp.asarray([[0.4, 0.4, 0.2]]), 2)
    F = embed(*weights, S0)
    search = CandidateSearch(S1, S0, factorised=factorised)
    S = to_np(search.scores(F, weights=weights))
    assert not np.isnan(S).any()
    np.testing.assert_array_equal(S[:, :2], 0.0)
    idx, _ = search.top_k(F, 1, weights=weights)
    np.testing.assert_array_equal(to_np(idx), [[0]])


@SETTINGS
@given(
    seed=st.integers(0, 2**16),
    scale=hnp.arrays(np.float64, 9, elements=st.floats(1e-3, 1e3)),
    factorised=st.booleans(),
)
def test_scaling_candidates_changes_nothing(xp, to_np, seed, scale, factorised):
    rng = np.random.RandomState(seed)
    P = probabilities(rng, 5, 6)
    S0, S1 = rng.randn(6, 4), rng.randn(9, 4)
    weights = top_t_weights(xp.asarray(P), 3)
    F = embed(*weights, xp.asarray(S0))
    a = CandidateSearch(xp.asarray(S1), xp.asarray(S0), factorised=factorised)
    b = CandidateSearch(
        xp.asarray(S1 * scale[:, None]), xp.asarray(S0), factorised=factorised
    )
    sa = to_np(a.scores(F, weights=weights))
    sb = to_np(b.scores(F, weights=weights))
    np.testing.assert_allclose(sb, sa, rtol=1e-12, atol=1e-13)


def test_scores_reuse_a_buffer_for_a_shorter_block(xp, to_np):
    rng = np.random.RandomState(6)
    S1 = xp.asarray(rng.randn(10, 3))
    search = CandidateSearch(S1)
    F = xp.asarray(rng.randn(8, 3))
    first = search.scores(F)
    expected = to_np(search.scores(F[:3]))
    got = search.scores(F[:3], out=first)
    np.testing.assert_array_equal(to_np(got), expected)
    assert got.shape == (3, search.n_padded)


# ------------------------------------------------------------------ rank_top_k


def _padded(S):
    m, n = S.shape
    width = -(-n // _GROUP) * _GROUP
    out = np.full((m, width), -np.inf)
    out[:, :n] = S
    return out


@pytest.mark.parametrize(
    ("n_valid", "k"),
    [
        (10, 1),
        (10, 4),
        (10, 10),
        (8 * 3 * _GROUP - 1, 3),  # just below the grouped path
        (8 * 3 * _GROUP, 3),  # grouped path, exact multiple of the group width
        (8 * 2 * _GROUP + 37, 2),  # grouped path with a padded last group
        (8 * 5 * _GROUP + 5, 5),
    ],
)
def test_rank_top_k_matches_stable_argsort_with_ties(xp, to_np, n_valid, k):
    rng = np.random.RandomState(n_valid + k)
    S = rng.randint(0, 4, size=(7, n_valid)).astype(float)
    S[0] = 1.0  # a row of all ties
    S[1, -1] = 10.0  # the winner in the last (padded) group
    idx, vals = rank_top_k(xp.asarray(_padded(S)), k, n_valid)
    expected = ref_top_k(S, k)
    np.testing.assert_array_equal(to_np(idx), expected)
    np.testing.assert_array_equal(to_np(vals), np.take_along_axis(S, expected, 1))


@SETTINGS
@given(A=tied_int_matrix(min_side=1, max_side=6, high=2), data=st.data())
def test_rank_top_k_property(xp, to_np, A, data):
    k = data.draw(st.integers(1, A.shape[1] + 2), label="k")
    n = A.shape[1]
    idx, vals = rank_top_k(xp.asarray(_padded(A)), k, n)
    expected = ref_top_k(A, min(k, n))
    np.testing.assert_array_equal(to_np(idx), expected)
    np.testing.assert_array_equal(to_np(vals), np.take_along_axis(A, expected, 1))


def test_wide_grouped_search_matches_cosine_reference(xp, to_np):
    # End to end through CandidateSearch with enough candidates to group.
    rng = np.random.RandomState(7)
    n_cand, k = 8 * 4 * _GROUP + 11, 4
    S0, S1 = rng.randn(5, 3), rng.randn(n_cand, 3)
    P = probabilities(rng, 9, 5)
    # Three copies of f(x_0)'s direction: exact ties for the first place.
    S1[1500] = S1[100] = S1[7] = ref_embedding(P, S0, 2)[0]
    for factorised in (False, True):
        search = CandidateSearch(xp.asarray(S1), xp.asarray(S0), factorised=factorised)
        weights = top_t_weights(xp.asarray(P), 2)
        idx, vals = search.top_k(embed(*weights, xp.asarray(S0)), k, weights=weights)
        cos = ref_cosine(ref_embedding(P, S0, 2), S1)
        got = to_np(idx)
        np.testing.assert_allclose(to_np(vals), np.take_along_axis(cos, got, 1))
        # Same ranking as the reference, allowing only float-level near-ties.
        expected = ref_top_k(cos, k)
        exp_vals = np.take_along_axis(cos, expected, 1)
        np.testing.assert_allclose(
            np.take_along_axis(cos, got, 1), exp_vals, atol=1e-12
        )
        np.testing.assert_array_equal(got[0, :3], [7, 100, 1500])


@pytest.mark.parametrize("factorised", [False, True])
def test_rounding_noise_of_a_cancellation_is_not_a_direction(xp, to_np, factorised):
    # a + b + c = 0, but (a + b + c) / 3 in floats leaves ~1e-16 noise: that
    # noise must score 0 against every candidate, not +-1 along a random axis.
    a, b = np.random.RandomState(0).randn(2, 4)
    S0 = xp.asarray(np.stack([a, b, -(a + b)]))
    weights = top_t_weights(xp.asarray(np.full((1, 3), 1 / 3)), 3)
    F = embed(*weights, S0)
    assert np.any(to_np(F) != 0)  # the premise: rounding noise is there
    search = CandidateSearch(xp.asarray(np.eye(4)), S0, factorised=factorised)
    np.testing.assert_array_equal(to_np(search.scores(F, weights=weights))[:, :4], 0)


def test_rank_top_k_ties_inside_the_chosen_groups(xp, to_np):
    # Ties at the k-th place between columns that share a group, with no tie
    # between group maxima, so the grouped path answers without a fallback.
    # With 41 groups, columns c and c + 41 (c < 23) share a group whether
    # groups are contiguous (c // 64) or strided (c % 41).
    n_groups, k = 41, 3
    n_valid = n_groups * _GROUP
    assert n_valid >= 8 * k * _GROUP
    rng = np.random.RandomState(8)
    m = 40
    S = rng.uniform(0, 1, size=(m, n_valid))
    for i in range(m):
        c, x = rng.choice(23, size=2, replace=False)
        y = rng.randint(200, n_valid)
        S[i, y] = 2.0
        S[i, x] = 3.0
        if i % 2:  # the tie within a third group
            S[i, [c, c + n_groups]] = 1.5
        else:  # the tie between x's group and a third group
            S[i, [c, x + n_groups]] = 1.5
    idx, vals = rank_top_k(xp.asarray(S), k, n_valid)
    expected = ref_top_k(S, k)
    np.testing.assert_array_equal(to_np(idx), expected)
    np.testing.assert_array_equal(to_np(vals), np.take_along_axis(S, expected, 1))
