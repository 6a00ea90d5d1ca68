"""Fitted estimators shared by many threads.

Prediction keeps its buffers local to each call and never writes to the
estimator, so concurrent calls give the answers of one thread; and nothing
process-wide changes: after any number of concurrent calls, threadpoolctl
reports the BLAS thread counts it reported before.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from _shared import make_zero_shot_problem
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info, threadpool_limits

from sk_conse import ConSEClassifier, DeViSEClassifier

N_THREADS = 8
CALLS_PER_THREAD = 6


#: 10 seen labels, 300 unseen: a search wide enough for threads to overlap.
_SIZES = {"n_seen": 10, "n_unseen": 300, "n_per_class": 30, "n_dims": 32}


def _make_problem(seed=0):
    return make_zero_shot_problem(**_SIZES, n_features=12, noise=0.5, seed=seed)


@pytest.fixture(scope="module", params=["direct", "factorised"])
def fitted(request):
    X, y, embeddings = _make_problem()
    estimator = ConSEClassifier(
        LogisticRegression(solver="newton-cholesky"),
        embeddings,
        T=2,
        algorithm=request.param,
        seen_penalty=0.05,
        candidate_labels="all",
        batch_size=32,  # several batches per call
    )
    return estimator.fit(X, y), X


def _call(estimator, method, X):
    if method == "predict_top_k":
        return estimator.predict_top_k(X, k=7)
    return getattr(estimator, method)(X)


def _assert_same(got, expected):
    if isinstance(expected, tuple):
        for g, e in zip(got, expected):
            _assert_same(g, e)
    elif expected.dtype.kind in "fc":
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    else:
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "method",
    ["predict_top_k", "predict", "decision_function", "predict_proba", "transform"],
)
def test_threads_agree_with_one_thread(fitted, method):
    estimator, X = fitted
    # Each call gets its own slice of rows, with ragged lengths, so that
    # threads interleave batches of different sizes.
    slices = [
        slice(start, start + length)
        for start, length in zip(range(0, 250, 5), [37, 64, 1, 150, 99] * 10)
    ][: N_THREADS * CALLS_PER_THREAD]
    expected = [_call(estimator, method, X[s]) for s in slices]
    state_before = set(vars(estimator))

    barrier = threading.Barrier(N_THREADS)

    def work(thread):
        barrier.wait()  # start together to maximise interleaving
        mine = range(thread, len(slices), N_THREADS)
        return [(i, _call(estimator, method, X[slices[i]])) for i in mine]

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        results = [r for rs in pool.map(work, range(N_THREADS)) for r in rs]

    assert sorted(i for i, _ in results) == list(range(len(slices)))
    for i, got in results:
        _assert_same(got, expected[i])
    assert set(vars(estimator)) == state_before


def test_threads_mixing_methods(fitted):
    """Different methods at once on the same estimator and the same rows."""
    estimator, X = fitted
    methods = ["predict_top_k", "predict", "decision_function", "transform"]
    expected = {m: _call(estimator, m, X) for m in methods}
    jobs = [methods[i % len(methods)] for i in range(N_THREADS * CALLS_PER_THREAD)]
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        results = list(pool.map(lambda m: (m, _call(estimator, m, X)), jobs))
    for method, got in results:
        _assert_same(got, expected[method])


# ------------------------------------------------ the process after the calls


def _blas_threads():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def _wide_problem():
    """Large batches: the factorised gather and the top-k both go threaded
    (1,024 rows x 8,192 candidates x T = 8, over their thresholds)."""
    rng = np.random.RandomState(3)
    n_seen, n_cand, q = 10, 8192, 64
    vectors = rng.randn(n_seen + n_cand, q)
    labels = list(range(n_seen + n_cand))
    y = np.repeat(np.arange(n_seen), 20)
    X = vectors[y] @ rng.randn(q, 12) + 0.5 * rng.randn(len(y), 12)
    X = np.vstack([X] * 11)[:2048]
    return X, y, dict(zip(labels, vectors))


def _concurrent_calls(estimators, X, n_threads, calls, method, **kwargs):
    barrier = threading.Barrier(n_threads)

    def work(thread):
        barrier.wait()
        est = estimators[thread % len(estimators)]
        return [getattr(est, method)(X, **kwargs) for _ in range(calls)]

    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        return list(pool.map(work, range(n_threads)))


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "separate"])
def test_tiny_batches_leave_blas_threads_as_they_were(shared):
    # Before the engine rework, 2 threads x 50 predicts left OpenBLAS on one
    # thread for the rest of the process (a per-batch threadpool_limits).
    X, y, embeddings = _make_problem()
    make = lambda: ConSEClassifier(  # noqa: E731
        LogisticRegression(solver="newton-cholesky"), embeddings, T=3, batch_size=4
    ).fit(X, y)
    estimators = [make()] if shared else [make(), make()]
    expected = estimators[0].predict(X[:64])
    before = _blas_threads()
    results = _concurrent_calls(estimators, X[:64], 2, 50, "predict")
    assert _blas_threads() == before
    for thread_results in results:
        for got in thread_results:
            np.testing.assert_array_equal(got, expected)


def test_large_batches_leave_blas_threads_as_they_were():
    X, y, embeddings = _wide_problem()
    estimator = ConSEClassifier(
        LogisticRegression(solver="newton-cholesky"),
        embeddings,
        T=8,
        # The route under test (auto's choice is measured per machine).
        algorithm="factorised",
    ).fit(X[: len(y)], y)
    assert estimator.algorithm_ == "factorised"
    labels, scores = estimator.predict_top_k(X, k=5)
    before = _blas_threads()
    results = _concurrent_calls([estimator], X, 3, 2, "predict_top_k", k=5)
    assert _blas_threads() == before
    for thread_results in results:
        for got_labels, got_scores in thread_results:
            np.testing.assert_array_equal(got_labels, labels)
            np.testing.assert_array_equal(got_scores, scores)


def test_callers_blas_limit_is_respected_and_left_alone(monkeypatch):
    X, y, embeddings = _wide_problem()
    estimator = ConSEClassifier(
        LogisticRegression(solver="newton-cholesky"),
        embeddings,
        T=8,
        # The route under test (auto's choice is measured per machine).
        algorithm="factorised",
    ).fit(X[: len(y)], y)
    expected = estimator.predict(X)
    import sk_conse._parallel as parallel

    budgets = []
    original = parallel.plan
    monkeypatch.setattr(
        parallel, "plan", lambda: budgets.append(original()) or budgets[-1]
    )
    with threadpool_limits(1, user_api="blas"):
        inside = _blas_threads()
        got = estimator.predict(X)
        assert _blas_threads() == inside
    np.testing.assert_array_equal(got, expected)
    assert [b.n_threads for b in budgets] == [1]


def test_devise_threads_leave_blas_threads_as_they_were():
    pytest.importorskip("torch")
    X, y, embeddings = _make_problem()
    estimator = DeViSEClassifier(embeddings, max_iter=3, batch_size=4)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        estimator.fit(X, y)
    expected = estimator.predict(X[:40])
    before = _blas_threads()
    results = _concurrent_calls([estimator], X[:40], 2, 20, "predict")
    assert _blas_threads() == before
    for thread_results in results:
        for got in thread_results:
            np.testing.assert_array_equal(got, expected)
