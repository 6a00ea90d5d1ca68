"""One fitted ConSEClassifier shared by many threads.

Prediction keeps its buffers local to each call and never writes to the
estimator, so concurrent calls give the answers of one thread.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from sk_conse import ConSEClassifier

N_THREADS = 8
CALLS_PER_THREAD = 6


def _make_problem(seed=0):
    rng = np.random.RandomState(seed)
    labels = [f"c{i}" for i in range(10)] + [f"u{i}" for i in range(300)]
    vectors = rng.randn(len(labels), 32)
    y = np.repeat(labels[:10], 30)
    X = vectors[np.repeat(np.arange(10), 30)] @ rng.randn(32, 12)
    X += 0.5 * rng.randn(*X.shape)
    return X, y, dict(zip(labels, vectors))


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
