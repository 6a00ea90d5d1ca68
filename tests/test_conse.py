"""Tests of ConSEClassifier against a plain per-sample reference of the paper.

ConSE (Norouzi et al., ICLR 2014): f(x) = (1/Z) sum_{t<=T} p(y_t|x) s(y_t),
Z = sum_{t<=T} p(y_t|x), the top-T seen labels chosen by a stable rule (ties to
the smaller label index), candidates ranked by cos(f(x), s(y')).
"""

import weakref

import numpy as np
import pandas as pd
import pytest
import sklearn
from _shared import paper_embedding, paper_scores
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError, UnsetMetadataPassedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.utils._param_validation import InvalidParameterError

from sk_conse import ConSEClassifier
from sk_conse._backend import cuda_available
from sk_conse.exceptions import NoCandidateLabelsWarning

_GROUP = 64  # candidate counts around a width of 8 k x 64 columns

SETTINGS = settings(max_examples=25, deadline=None)

# ------------------------------------------------------------------ helpers


class FixedProba(ClassifierMixin, BaseEstimator):
    """A base estimator whose p(y|x) is row ``int(x[0])`` of a fixed table.

    It records the ``sample_weight`` it was fitted with and counts its fits.
    """

    def __init__(self, proba=None):
        self.proba = proba

    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.unique(y)
        self.sample_weight_ = sample_weight
        self.n_fits_ = getattr(self, "n_fits_", 0) + 1
        return self

    def predict_proba(self, X):
        rows = np.asarray(X)[:, 0].astype(int)
        return np.asarray(self.proba, dtype=float)[rows]


def ref_top_k(scores, k):
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def softmax(scores):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


N_SEEN = 6
SEEN = [f"s{i}" for i in range(N_SEEN)]
UNSEEN = [f"u{i}" for i in range(10)]


def make_table(n_random=14, seed=0):
    """Probability rows with exact ties first, then random quantised ones."""
    ties = [
        [0.25, 0.25, 0.25, 0.25, 0.0, 0.0],
        [0.4, 0.2, 0.2, 0.2, 0.0, 0.0],
        [0.0, 0.2, 0.2, 0.2, 0.0, 0.4],
        [1 / 6] * 6,
        [0.1, 0.3, 0.1, 0.3, 0.1, 0.1],
        [0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
    ]
    rng = np.random.RandomState(seed)
    rand = np.round(rng.dirichlet(np.ones(N_SEEN), size=n_random) * 10) + 1
    rand /= rand.sum(axis=1, keepdims=True)
    return np.vstack([ties, rand])


def make_problem(dtype=np.float64, q=24, seed=0):
    """(X_fit, y_fit, X, P, embeddings): X row i has p(y|x) = P[i]."""
    rng = np.random.RandomState(seed)
    P = make_table(seed=seed)
    vectors = rng.randn(N_SEEN + len(UNSEEN), q).astype(dtype)
    embeddings = dict(zip(SEEN + UNSEEN, vectors))
    X_fit = np.zeros((2 * N_SEEN, 1))
    y_fit = np.array(SEEN * 2)
    X = np.arange(len(P), dtype=float)[:, None]
    return X_fit, y_fit, X, P, embeddings


def stack(embeddings, labels):
    return np.array([embeddings[label] for label in labels], dtype=float)


# ---------------------------------------------- exactness against the paper


@pytest.mark.parametrize("T", [1, 3, N_SEEN, N_SEEN + 3, None])
@pytest.mark.parametrize("algorithm", ["direct", "factorised"])
@pytest.mark.parametrize("candidate_labels", ["unseen", "all"])
@pytest.mark.parametrize("batch_size", [7, 1024])
def test_matches_per_sample_reference(T, algorithm, candidate_labels, batch_size):
    # 20 samples in batches of 7: two full batches and a partial one.
    X_fit, y_fit, X, P, emb = make_problem()
    clf = ConSEClassifier(
        FixedProba(P),
        emb,
        T=T,
        candidate_labels=candidate_labels,
        algorithm=algorithm,
        batch_size=batch_size,
    ).fit(X_fit, y_fit)
    assert clf.algorithm_ == algorithm
    assert clf.T_ == (N_SEEN if T is None else min(T, N_SEEN))
    S0, S1 = stack(emb, SEEN), stack(emb, clf.classes_)
    expected = paper_scores(P, S0, S1, T)

    np.testing.assert_allclose(clf.transform(X), paper_embedding(P, S0, T), atol=1e-12)
    np.testing.assert_allclose(clf.decision_function(X), expected, atol=1e-12)
    np.testing.assert_allclose(clf.predict_proba(X), softmax(expected), atol=1e-12)
    np.testing.assert_array_equal(
        clf.predict(X), clf.classes_[np.argmax(expected, axis=1)]
    )
    k = 4
    labels, scores = clf.predict_top_k(X, k)
    order = ref_top_k(expected, k)
    np.testing.assert_array_equal(labels, clf.classes_[order])
    np.testing.assert_allclose(
        scores, np.take_along_axis(expected, order, 1), atol=1e-12
    )


def test_tied_probabilities_pick_the_smaller_seen_label():
    # Row 1 is [0.4, 0.2, 0.2, 0.2, 0, 0]: with T=2 the second label is s1.
    X_fit, y_fit, X, P, emb = make_problem()
    clf = ConSEClassifier(FixedProba(P), emb, T=2).fit(X_fit, y_fit)
    F = clf.transform(X[:2])
    np.testing.assert_allclose(F[0], (emb["s0"] + emb["s1"]) / 2, atol=1e-14)
    np.testing.assert_allclose(F[1], (2 * emb["s0"] + emb["s1"]) / 3, atol=1e-14)


@pytest.mark.parametrize("algorithm", ["direct", "factorised"])
def test_duplicate_candidate_vectors_earlier_label_wins(algorithm):
    X_fit, y_fit, X, P, emb = make_problem()
    emb["u2"] = emb["u6"] = emb["u8"] = emb["s5"].copy()
    clf = ConSEClassifier(FixedProba(P), emb, T=1, algorithm=algorithm)
    clf.fit(X_fit, y_fit)
    # Row 5 puts all mass on s5: f(x) = s(s5), three candidates tie at cos 1.
    labels, scores = clf.predict_top_k(X[5:6], 4)
    np.testing.assert_array_equal(labels[0, :3], ["u2", "u6", "u8"])
    assert scores[0, 0] == scores[0, 1] == scores[0, 2]
    assert clf.predict(X[5:6])[0] == "u2"


@pytest.mark.parametrize("method", ["predict_top_k", "decision_function"])
@pytest.mark.parametrize("T", [3, None])
def test_batches_hold_one_batch_of_inputs_at_a_time(monkeypatch, method, T):
    # The batch generator kept each batch's p(y|x) while the next one was
    # made: two batches of inputs at once (at the paper's scale, 4 MiB of
    # the 15 MiB peak of predict_top_k).
    from sk_conse._search import ConSESearch

    embed, refs, alive = ConSESearch.embed, [], []

    def tracked(self, P):
        refs.append(weakref.ref(P))
        return embed(self, P)

    class Base(FixedProba):
        def predict_proba(self, X):
            # Counted when the next batch is asked for.
            alive.append(sum(ref() is not None for ref in refs))
            return super().predict_proba(X)

    monkeypatch.setattr(ConSESearch, "embed", tracked)
    X_fit, y_fit, X, P, emb = make_problem()
    clf = ConSEClassifier(Base(P), emb, T=T, batch_size=4).fit(X_fit, y_fit)
    getattr(clf, method)(*((X, 3) if method == "predict_top_k" else (X,)))
    assert len(refs) == -(-len(X) // 4)
    assert alive == [0] * len(refs), alive


@pytest.mark.parametrize("algorithm", ["direct", "factorised"])
@pytest.mark.parametrize(
    ("n_unseen", "k"),
    [(8 * 5 * _GROUP + 50, 5), (8 * 5 * _GROUP - 1, 5), (300, 3)],
    ids=["grouped", "just-below-grouped", "narrow"],
)
def test_many_candidates_top_k_matches_reference(algorithm, n_unseen, k):
    # Integer labels; wide candidate sets go through the grouped top-k.
    rng = np.random.RandomState(1)
    P = make_table()
    q = 16
    vectors = rng.randn(N_SEEN + n_unseen, q)
    emb = dict(zip(range(N_SEEN + n_unseen), vectors))
    X_fit, y_fit = np.zeros((N_SEEN, 1)), np.arange(N_SEEN)
    X = np.arange(len(P), dtype=float)[:, None]
    clf = ConSEClassifier(
        FixedProba(P), emb, T=3, algorithm=algorithm, batch_size=6
    ).fit(X_fit, y_fit)
    np.testing.assert_array_equal(clf.classes_, np.arange(N_SEEN, N_SEEN + n_unseen))
    expected = paper_scores(P, vectors[:N_SEEN], vectors[N_SEEN:], 3)
    labels, scores = clf.predict_top_k(X, k)
    order = ref_top_k(expected, k)
    np.testing.assert_array_equal(labels, clf.classes_[order])
    np.testing.assert_allclose(
        scores, np.take_along_axis(expected, order, 1), atol=1e-12
    )
    np.testing.assert_array_equal(clf.predict(X), labels[:, 0])


def test_direct_and_factorised_agree_on_a_real_base_estimator():
    rng = np.random.RandomState(2)
    X_fit = rng.randn(120, 5)
    y_fit = np.repeat(np.arange(6), 20)
    X_fit += y_fit[:, None]
    emb = dict(enumerate(rng.randn(40, 64)))
    X = rng.randn(50, 5) * 3
    base = GaussianNB()
    a = ConSEClassifier(base, emb, T=2, algorithm="direct", batch_size=16)
    b = ConSEClassifier(base, emb, T=2, algorithm="factorised", batch_size=16)
    a.fit(X_fit, y_fit)
    b.fit(X_fit, y_fit)
    np.testing.assert_allclose(
        a.decision_function(X), b.decision_function(X), atol=1e-12
    )
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    P = a.base_estimator_.predict_proba(X)
    expected = paper_scores(
        P, emb_rows(emb, a.seen_classes_), emb_rows(emb, a.classes_), 2
    )
    np.testing.assert_allclose(a.decision_function(X), expected, atol=1e-12)


def emb_rows(emb, labels):
    return np.array([emb[label] for label in labels])


# ----------------------------------------------------------- properties


@SETTINGS
@given(seed=st.integers(0, 999), perm_seed=st.integers(0, 999), T=st.integers(1, 7))
def test_label_order_in_embeddings_does_not_matter(seed, perm_seed, T):
    X_fit, y_fit, X, P, emb = make_problem(seed=seed)
    keys = list(emb)
    np.random.RandomState(perm_seed).shuffle(keys)
    shuffled = {key: emb[key] for key in keys}
    a = ConSEClassifier(FixedProba(P), emb, T=T, candidate_labels="all")
    b = ConSEClassifier(FixedProba(P), shuffled, T=T, candidate_labels="all")
    a.fit(X_fit, y_fit)
    b.fit(X_fit, y_fit)
    np.testing.assert_array_equal(a.classes_, b.classes_)
    np.testing.assert_allclose(
        a.decision_function(X), b.decision_function(X), atol=1e-13
    )
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


# --------------------------------------------------------------- backend


def test_device_cpu_and_auto_agree():
    X_fit, y_fit, X, P, emb = make_problem()
    a = ConSEClassifier(FixedProba(P), emb, T=3, device="cpu").fit(X_fit, y_fit)
    b = ConSEClassifier(FixedProba(P), emb, T=3, device="auto").fit(X_fit, y_fit)
    assert a.device_ == "cpu"
    assert b.device_ == ("cuda" if cuda_available() else "cpu")
    np.testing.assert_allclose(
        a.decision_function(X), b.decision_function(X), atol=1e-6
    )
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


@pytest.mark.gpu
@pytest.mark.skipif(
    not cuda_available(), reason="CuPy with a CUDA device is not available"
)
@pytest.mark.parametrize("algorithm", ["direct", "factorised"])
def test_cuda_matches_cpu(algorithm):
    X_fit, y_fit, X, P, emb = make_problem()
    kw = {"T": 3, "algorithm": algorithm, "batch_size": 7, "candidate_labels": "all"}
    cpu = ConSEClassifier(FixedProba(P), emb, device="cpu", **kw).fit(X_fit, y_fit)
    gpu = ConSEClassifier(FixedProba(P), emb, device="cuda", **kw).fit(X_fit, y_fit)
    assert gpu.device_ == "cuda"
    for method in ("transform", "decision_function", "predict_proba"):
        got = getattr(gpu, method)(X)
        assert type(got) is np.ndarray
        assert np.allclose(got, getattr(cpu, method)(X), atol=1e-10)
    np.testing.assert_array_equal(gpu.predict(X), cpu.predict(X))
    labels, _ = gpu.predict_top_k(X, 3)
    np.testing.assert_array_equal(labels, cpu.predict_top_k(X, 3)[0])


# ------------------------------------------------------------- containers


def _containers():
    _, _, _, _, emb = make_problem(dtype=np.float32)
    labels = list(emb)
    matrix = np.array(list(emb.values()))
    yield "dict", emb
    yield "series", pd.Series(list(matrix), index=labels)
    yield "dataframe", pd.DataFrame(matrix, index=labels)
    gensim_models = pytest.importorskip("gensim.models")
    kv = gensim_models.KeyedVectors(vector_size=matrix.shape[1])
    kv.add_vectors(labels, matrix)
    yield "keyedvectors", kv


def test_every_container_gives_the_same_model():
    X_fit, y_fit, X, P, _ = make_problem()
    results = {}
    for name, emb in _containers():
        clf = ConSEClassifier(FixedProba(P), emb, T=3).fit(X_fit, y_fit)
        results[name] = (clf.classes_, clf.decision_function(X))
    classes, scores = results.pop("dict")
    for name, (c, s) in results.items():
        np.testing.assert_array_equal(c, classes, err_msg=name)
        np.testing.assert_allclose(s, scores, rtol=1e-6, err_msg=name)


def test_int_labels():
    rng = np.random.RandomState(3)
    emb = {label: rng.randn(8) for label in [10, 2, 30, 4, 50]}
    clf = ConSEClassifier(FixedProba(make_table()[:, :3]), emb, T=2)
    clf.fit(np.zeros((3, 1)), [4, 2, 10])
    np.testing.assert_array_equal(clf.seen_classes_, [2, 4, 10])
    np.testing.assert_array_equal(clf.classes_, [30, 50])
    assert clf.predict(np.zeros((2, 1))).dtype.kind == "i"


# ------------------------------------------------------------------ dtypes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("algorithm", ["direct", "factorised"])
def test_computation_dtype_follows_the_label_vectors(dtype, algorithm):
    X_fit, y_fit, X, P, emb = make_problem(dtype=dtype)
    clf = ConSEClassifier(FixedProba(P), emb, T=3, algorithm=algorithm, batch_size=7)
    clf.fit(X_fit, y_fit)
    assert clf.seen_embeddings_.dtype == dtype
    assert clf.candidate_embeddings_.dtype == dtype
    assert clf.transform(X).dtype == dtype
    assert clf.decision_function(X).dtype == dtype
    assert clf.predict_proba(X).dtype == dtype
    assert clf.predict_top_k(X, 3)[1].dtype == dtype
    expected = paper_scores(P, stack(emb, SEEN), stack(emb, clf.classes_), 3)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(clf.decision_function(X), expected, atol=tol)


@pytest.mark.parametrize("algorithm", ["direct", "factorised"])
def test_float32_is_not_upcast_inside(monkeypatch, algorithm):
    # Outputs are allocated in the working dtype, so check the kernel's own
    # inputs and outputs too: a float64 intermediate would hide behind them.
    import sk_conse._search as search_module

    seen_dtypes = []

    def spy(name, fn):
        def wrapped(self, *args, **kwargs):
            out = fn(self, *args, **kwargs)
            outs = out if isinstance(out, tuple) else (out,)
            arrays = [a for a in (*args, *outs) if hasattr(a, "dtype")]
            arrays += [getattr(o, "embedding", None) for o in outs]
            seen_dtypes.extend(
                (name, a.dtype) for a in arrays if a is not None and a.dtype.kind == "f"
            )
            return out

        return wrapped

    cls = search_module.ConSESearch
    monkeypatch.setattr(cls, "_weights", spy("top_t", cls._weights))
    monkeypatch.setattr(cls, "embed", spy("embed", cls.embed))
    monkeypatch.setattr(cls, "_write_raw", spy("scores", cls._write_raw))
    X_fit, y_fit, X, P, emb = make_problem(dtype=np.float32)
    clf = ConSEClassifier(FixedProba(P), emb, T=3, algorithm=algorithm)
    clf.fit(X_fit, y_fit)
    clf.decision_function(X)
    assert {name for name, _ in seen_dtypes} == {"top_t", "embed", "scores"}
    assert all(dtype == np.float32 for _, dtype in seen_dtypes), seen_dtypes


# --------------------------------------------------------- zero-shot semantics


def test_candidate_label_sets():
    X_fit, y_fit, _, P, emb = make_problem()
    unseen = ConSEClassifier(FixedProba(P), emb).fit(X_fit, y_fit)
    np.testing.assert_array_equal(unseen.classes_, sorted(UNSEEN))
    everything = ConSEClassifier(FixedProba(P), emb, candidate_labels="all")
    everything.fit(X_fit, y_fit)
    np.testing.assert_array_equal(everything.classes_, sorted(SEEN + UNSEEN))
    explicit = ConSEClassifier(FixedProba(P), emb, candidate_labels=["u7", "s1", "u0"])
    explicit.fit(X_fit, y_fit)
    np.testing.assert_array_equal(explicit.classes_, ["s1", "u0", "u7"])
    for clf in (unseen, everything, explicit):
        np.testing.assert_array_equal(clf.seen_classes_, clf.base_estimator_.classes_)
        np.testing.assert_array_equal(clf.seen_classes_, SEEN)
        assert clf.candidate_embeddings_.shape == (len(clf.classes_), 24)


def test_seen_penalty_shifts_seen_scores_and_can_flip_predict():
    X_fit, y_fit, X, P, emb = make_problem()
    emb["u0"] = emb["s5"] + 0.3 * emb["u0"]  # an unseen label near s5
    params = {"T": 1, "candidate_labels": "all"}
    plain = ConSEClassifier(FixedProba(P), emb, **params).fit(X_fit, y_fit)
    penalty = 0.75
    shifted = ConSEClassifier(FixedProba(P), emb, seen_penalty=penalty, **params)
    shifted.fit(X_fit, y_fit)
    is_seen = np.isin(plain.classes_, SEEN)
    np.testing.assert_allclose(
        shifted.decision_function(X),
        plain.decision_function(X) - penalty * is_seen,
        rtol=0,
        atol=1e-15,
    )
    # Row 5 puts all its mass on s5: s5 wins without penalty, u0 with it.
    assert plain.predict(X[5:6])[0] == "s5"
    assert shifted.predict(X[5:6])[0] == "u0"


def test_sample_weight_reaches_the_base_estimator():
    X_fit, y_fit, _, P, emb = make_problem()
    w = np.arange(len(y_fit), dtype=float) + 1
    clf = ConSEClassifier(FixedProba(P), emb).fit(X_fit, y_fit, sample_weight=w)
    np.testing.assert_array_equal(clf.base_estimator_.sample_weight_, w)


def test_sample_weight_is_routed_with_metadata_routing():
    X_fit, y_fit, _, P, emb = make_problem()
    w = np.arange(len(y_fit), dtype=float) + 1
    with sklearn.config_context(enable_metadata_routing=True):
        base = FixedProba(P).set_fit_request(sample_weight=True)
        clf = ConSEClassifier(base, emb).fit(X_fit, y_fit, sample_weight=w)
        np.testing.assert_array_equal(clf.base_estimator_.sample_weight_, w)
        unrequested = ConSEClassifier(FixedProba(P), emb)
        with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
            unrequested.fit(X_fit, y_fit, sample_weight=w)


def test_frozen_prefitted_base_estimator_is_not_refitted():
    rng = np.random.RandomState(4)
    X_fit = rng.randn(90, 3) + np.repeat(np.arange(3), 30)[:, None] * 2
    y_fit = np.repeat(["a", "b", "c"], 30)
    emb = {label: rng.randn(6) for label in ["a", "b", "c", "d", "e"]}
    base = LogisticRegression().fit(X_fit, y_fit)
    coef = base.coef_.copy()
    clf = ConSEClassifier(FrozenEstimator(base), emb, T=2)
    # Fitting on other data and labels must leave the frozen model as it is.
    clf.fit(X_fit[:10], np.repeat(["a", "b"], 5))
    assert clf.base_estimator_.estimator is base
    np.testing.assert_array_equal(base.coef_, coef)
    np.testing.assert_array_equal(clf.seen_classes_, ["a", "b", "c"])
    np.testing.assert_array_equal(clf.classes_, ["d", "e"])
    P = base.predict_proba(X_fit)
    expected = paper_scores(P, emb_rows(emb, "abc"), emb_rows(emb, "de"), 2)
    # Two candidates: a binary decision_function, score(e) - score(d).
    np.testing.assert_allclose(
        clf.decision_function(X_fit), expected[:, 1] - expected[:, 0], atol=1e-12
    )


@pytest.mark.parametrize("algorithm", ["direct", "factorised"])
def test_cancelling_top_t_vectors_score_zero_and_predict_the_first_class(algorithm):
    v = np.array([1.0, -2.0, 0.5])
    emb = {"a": v, "b": -v, "c": np.array([0.0, 1.0, 0.0]), "d": v, "e": -v}
    clf = ConSEClassifier(
        FixedProba([[0.5, 0.5], [0.7, 0.3]]), emb, T=2, algorithm=algorithm
    ).fit(np.zeros((2, 1)), ["a", "b"])
    X = np.array([[0.0], [1.0]])
    scores = clf.decision_function(X)
    assert not np.isnan(scores).any()
    np.testing.assert_array_equal(scores[0], 0.0)
    np.testing.assert_array_equal(clf.predict_proba(X)[0], 1 / 3)
    # Row 0 has no direction: the first class wins. Row 1 leans towards "a".
    np.testing.assert_array_equal(clf.predict(X), ["c", "d"])
    labels, _ = clf.predict_top_k(X[:1], 3)
    np.testing.assert_array_equal(labels, [["c", "d", "e"]])


def test_rounding_noise_of_a_cancellation_predicts_the_first_class():
    a, b = np.random.RandomState(0).randn(2, 4)
    emb = {"a": a, "b": b, "c": -(a + b), "x": np.eye(4)[3], "y": -np.eye(4)[3]}
    clf = ConSEClassifier(FixedProba([[1 / 3] * 3]), emb, T=3)
    clf.fit(np.zeros((3, 1)), ["a", "b", "c"])
    X = np.zeros((1, 1))
    assert np.any(clf.transform(X) != 0)  # the premise: rounding noise is there
    np.testing.assert_array_equal(clf.predict_proba(X), [[0.5, 0.5]])
    np.testing.assert_array_equal(clf.decision_function(X), [0.0])
    assert clf.predict(X)[0] == "x"


# ------------------------------------------------------------------ explain


@pytest.mark.parametrize("algorithm", ["direct", "factorised"])
@pytest.mark.parametrize("T", [1, 3, N_SEEN])
def test_explanation_rebuilds_decision_function(algorithm, T):
    X_fit, y_fit, X, P, emb = make_problem()
    clf = ConSEClassifier(
        FixedProba(P),
        emb,
        T=T,
        algorithm=algorithm,
        candidate_labels="all",
        seen_penalty=0.07,
        batch_size=5,
    ).fit(X_fit, y_fit)
    why = clf.explain(X, k=4)
    n = len(X)
    assert why.seen_labels.shape == why.seen_weights.shape == (n, T)
    assert why.contributions.shape == (n, 4, T)
    np.testing.assert_allclose(why.seen_weights.sum(axis=1), 1.0)
    assert np.all(np.diff(why.seen_weights, axis=1) <= 0)  # by decreasing weight
    rebuilt = why.contributions.sum(axis=2) - why.penalty
    np.testing.assert_allclose(rebuilt, why.scores, atol=1e-12)
    full = clf.decision_function(X)
    columns = np.searchsorted(clf.classes_, why.candidates)
    np.testing.assert_allclose(
        np.take_along_axis(full, columns, axis=1), rebuilt, atol=1e-12
    )
    labels, _ = clf.predict_top_k(X, 4)
    np.testing.assert_array_equal(why.candidates, labels)
    # The penalty applies exactly to seen candidates.
    seen = np.isin(why.candidates, SEEN)
    np.testing.assert_array_equal(why.penalty, np.where(seen, 0.07, 0.0))
    # The weights are the reference's p / Z over the stable top-T.
    ref_idx = np.argsort(-P, axis=1, kind="stable")[:, :T]
    ref_w = np.take_along_axis(P, ref_idx, 1)
    ref_w /= ref_w.sum(1, keepdims=True)
    np.testing.assert_allclose(np.sort(why.seen_weights, 1), np.sort(ref_w, 1))


# --------------------------------------------------------- with_candidates


def test_with_candidates_ranks_new_labels_without_refitting():
    X_fit, y_fit, X, P, emb = make_problem()
    clf = ConSEClassifier(FixedProba(P), emb, T=3).fit(X_fit, y_fit)
    n_fits = clf.base_estimator_.n_fits_
    some = ["u3", "u7", "s2"]
    narrow = clf.with_candidates(some)
    assert narrow is not clf
    assert narrow.base_estimator_ is clf.base_estimator_
    assert clf.base_estimator_.n_fits_ == n_fits
    np.testing.assert_array_equal(narrow.classes_, sorted(some))
    np.testing.assert_array_equal(clf.classes_, sorted(UNSEEN))  # untouched
    expected = paper_scores(P, stack(emb, SEEN), stack(emb, sorted(some)), 3)
    np.testing.assert_allclose(narrow.decision_function(X), expected, atol=1e-12)
    # The same as fitting with those candidates from the start.
    direct = ConSEClassifier(FixedProba(P), emb, T=3, candidate_labels=some)
    np.testing.assert_array_equal(
        narrow.predict(X), direct.fit(X_fit, y_fit).predict(X)
    )
    # A scikit-learn citizen: its parameters say what it ranks, and clone
    # keeps them (pickling: tests/test_persistence.py).
    assert narrow.get_params()["candidate_labels"] == some
    assert clone(narrow).get_params()["candidate_labels"] == some


def test_with_candidates_takes_new_vectors_and_checks_them():
    X_fit, y_fit, X, P, emb = make_problem()
    seen_only = {label: emb[label] for label in SEEN}
    with pytest.warns(NoCandidateLabelsWarning):
        clf = ConSEClassifier(FixedProba(P), seen_only, T=2).fit(X_fit, y_fit)
    deployed = clf.with_candidates("unseen", label_embeddings=emb)
    np.testing.assert_array_equal(deployed.classes_, sorted(UNSEEN))
    expected = paper_scores(P, stack(emb, SEEN), stack(emb, sorted(UNSEEN)), 2)
    np.testing.assert_allclose(deployed.decision_function(X), expected, atol=1e-12)
    with pytest.raises(ValueError, match="6 seen label\\(s\\) have no vector"):
        clf.with_candidates("unseen", label_embeddings={"u1": emb["u1"]})
    with pytest.raises(ValueError, match="have no vector"):
        clf.with_candidates(["nope"], label_embeddings=emb)
    with pytest.raises(InvalidParameterError, match="candidate_labels"):
        clf.with_candidates("everything")
    with pytest.raises(NotFittedError):
        ConSEClassifier(FixedProba(P), emb).with_candidates("all")


def test_with_candidates_on_a_loaded_model_suggests_label_embeddings():
    """A loaded model keeps only the vectors it uses: asked for a new label
    without label_embeddings=, it said "no vector for 'jacket'" alone."""
    import pickle

    X_fit, y_fit, _, P, emb = make_problem()
    wide = {**emb, "jacket": emb["u1"] + 1}
    clf = ConSEClassifier(FixedProba(P), wide, T=2, candidate_labels=["u1", "u2"])
    loaded = pickle.loads(pickle.dumps(clf.fit(X_fit, y_fit)))
    assert "jacket" not in loaded.label_embeddings
    with pytest.raises(ValueError, match="'jacket'") as error:
        loaded.with_candidates(["u1", "jacket"])
    message = str(error.value)
    assert "with_candidates was given no label_embeddings" in message
    assert "label_embeddings=vectors)" in message
    # With the vectors given, the same call works; a table that lacks the
    # label is the user's own, and gets no hint about the model's.
    assert (
        "jacket" in loaded.with_candidates(["jacket"], label_embeddings=wide).classes_
    )
    with pytest.raises(ValueError, match="'jacket'") as error:
        loaded.with_candidates(["jacket"], label_embeddings=emb)
    assert "given no label_embeddings" not in str(error.value)


def test_a_dataframe_with_labels_as_columns_says_transpose_it():
    """Labels as columns (the orientation of pd.DataFrame(dict)) got "keyed
    by integers ... map integer class codes to names"."""
    X_fit, y_fit, _, P, emb = make_problem()
    wrong = pd.DataFrame(emb)  # one column per label, rows 0..q-1
    with pytest.raises(ValueError, match=r"label_embeddings=df\.T") as error:
        ConSEClassifier(FixedProba(P), wrong, T=2).fit(X_fit, y_fit)
    assert "seen labels as its columns ('s0', 's1'" in str(error.value)
    assert "integer class codes" not in str(error.value)
    right = ConSEClassifier(FixedProba(P), wrong.T, T=2).fit(X_fit, y_fit)
    np.testing.assert_array_equal(right.classes_, sorted(UNSEEN))


# ------------------------------------------ messages, repr, norms (issue 19)


def _three_seen():
    rng = np.random.RandomState(0)
    X = rng.randn(30, 3) + np.repeat(np.eye(3) * 3, 10, axis=0)
    return X, np.repeat([0, 1, 2], 10)


def test_integer_y_against_named_vectors_says_the_label_types_differ():
    X, y = _three_seen()
    vectors = {"cat": [1.0, 0.0], "dog": [0.0, 1.0], "car": [1.0, 1.0]}
    with pytest.raises(ValueError, match="different types") as info:
        ConSEClassifier(LogisticRegression(), vectors).fit(X, y)
    assert "integers" in str(info.value)
    assert "strings" in str(info.value)
    assert "target_names[y]" in str(info.value)


def test_repr_summarises_the_label_vectors():
    rng = np.random.RandomState(0)
    vectors = {f"w{i}": rng.randn(50) for i in range(2000)}
    text = repr(ConSEClassifier(LogisticRegression(), vectors, T=3))
    assert "label_embeddings=<dict of 2000>" in text
    assert len(text) < 200, text
    assert repr(ConSEClassifier()) == "ConSEClassifier()"


@pytest.mark.parametrize("name", ["DeViSEClassifier", "ConSEClassifierCV"])
def test_repr_summarises_the_label_vectors_of_the_other_estimators(name):
    import sk_conse

    rng = np.random.RandomState(0)
    vectors = {f"w{i}": rng.randn(50) for i in range(2000)}
    text = repr(getattr(sk_conse, name)(label_embeddings=vectors))
    assert "label_embeddings=<dict of 2000>" in text
    assert len(text) < 200, text


def test_normalize_embeddings_uses_unit_vectors_on_the_seen_side():
    X, y = _three_seen()
    y = np.array(["a", "b", "c"])[y]
    # b's vector is long: unnormalised, it pulls f(x) towards "far".
    vectors = {
        "a": [1.0, 0.0],
        "b": [0.0, 10.0],
        "c": [1.0, 1.0],
        "near": [1.0, 0.2],
        "far": [0.0, 1.0],
    }
    raw = ConSEClassifier(GaussianNB(), vectors, T=None).fit(X, y)
    unit = ConSEClassifier(
        GaussianNB(), vectors, T=None, normalize_embeddings=True
    ).fit(X, y)
    np.testing.assert_allclose(np.linalg.norm(unit.seen_embeddings_, axis=1), 1.0)
    np.testing.assert_allclose(
        np.linalg.norm(raw.seen_embeddings_, axis=1), [1.0, 10.0, 2**0.5]
    )
    # The unit model is the raw model on pre-normalised vectors.
    normalised = {k: np.array(v) / np.linalg.norm(v) for k, v in vectors.items()}
    twin = ConSEClassifier(GaussianNB(), normalised, T=None).fit(X, y)
    np.testing.assert_allclose(unit.decision_function(X), twin.decision_function(X))
    assert not np.allclose(raw.decision_function(X), twin.decision_function(X))
    # with_candidates keeps the seen side normalised.
    again = unit.with_candidates("all")
    np.testing.assert_allclose(np.linalg.norm(again.seen_embeddings_, axis=1), 1.0)
