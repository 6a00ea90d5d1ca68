"""ConSE beyond one machine: joblib's Dask backend and Dask-array prediction.

One local cluster of two single-threaded worker processes on loopback is
shared by the module. Every computation names its scheduler explicitly, so
the synchronous runs never touch the cluster.
"""

import os
import pickle
import textwrap
from pathlib import Path

import numpy as np
import pytest
from _shared import make_zero_shot_problem

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import joblib  # noqa: E402
from dask._task_spec import DataNode  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402

from sk_conse import ConSEClassifier  # noqa: E402
from sk_conse.metrics import (  # noqa: E402
    make_hierarchical_precision_scorer,
    make_hit_at_k_scorer,
)
from sk_conse.model_selection import ClassDisjointKFold  # noqa: E402

N_CLASSES = 12
N_FEATURES = 8
N_DIMS = 6
METHODS = ["predict", "transform", "decision_function", "predict_proba"]


def _make_problem(n_per_class=25, n_extra_labels=0, seed=0):
    """A zero-shot problem whose inputs are a linear image of label vectors.

    ``n_extra_labels`` adds embedded labels with no samples: more candidates
    and a heavier estimator.
    """
    labels = [f"c{i:02d}" for i in range(N_CLASSES)]
    labels += [f"x{i:04d}" for i in range(n_extra_labels)]
    return make_zero_shot_problem(
        labels,
        n_seen=N_CLASSES,
        n_per_class=n_per_class,
        n_dims=N_DIMS,
        n_features=N_FEATURES,
        noise=0.5,
        seed=seed,
    )


def _estimator(embeddings, **params):
    return ConSEClassifier(
        LogisticRegression(solver="newton-cholesky"), embeddings, **params
    )


def _hierarchy():
    """Two-level tree: classes c00..c11 under three parents, under a root."""
    tree = {f"c{i:02d}": f"group{i % 3}" for i in range(N_CLASSES)}
    tree.update({f"group{g}": "root" for g in range(3)})
    return tree


def _pid_scorer():
    # Nested, hence pickled by value: workers need not import this module.
    def pid(estimator, X, y):
        return os.getpid()

    return pid


# Even without a dashboard the scheduler serves a few HTTP routes, by default
# on port 8787 with a "Port 8787 is already in use" warning (an error here)
# when another cluster holds it: let the OS pick a free loopback port.
_FREE_HTTP_PORT = {"dashboard_address": "127.0.0.1:0"}


def _local_cluster(**kwargs):
    """A LocalCluster of worker processes on 127.0.0.1 with no dashboard."""
    kwargs.setdefault("host", "127.0.0.1")
    kwargs.setdefault("dashboard_address", None)
    kwargs.setdefault("processes", True)
    kwargs["scheduler_kwargs"] = {
        **_FREE_HTTP_PORT,
        **kwargs.get("scheduler_kwargs", {}),
    }
    return distributed.deploy.local.LocalCluster(**kwargs)


@pytest.fixture(scope="module")
def client():
    """Two worker processes, one thread each, on 127.0.0.1; no dashboard."""
    with (
        _local_cluster(n_workers=2, threads_per_worker=1) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def problem():
    return _make_problem()


@pytest.fixture(scope="module")
def fitted(problem):
    X, y, embeddings = problem
    # Seen: the first 8 classes; candidates: the 4 others. A small batch_size
    # makes every chunk go through several batches.
    seen = np.isin(y, [f"c{i:02d}" for i in range(8)])
    return _estimator(embeddings, T=3, batch_size=7).fit(X[seen], y[seen])


# ------------------------------------------------- joblib's Dask backend


# The refit on all classes leaves no candidate (and warns so, tested in
# test_sklearn_integration.py); here only the search's placement matters.
@pytest.mark.filterwarnings("ignore::sk_conse.exceptions.NoCandidateLabelsWarning")
def test_grid_search_on_cluster_matches_local(client, problem):
    X, y, embeddings = problem
    scoring = {"hit": make_hit_at_k_scorer(k=2), "pid": _pid_scorer()}

    def search(n_jobs):
        return GridSearchCV(
            _estimator(embeddings),
            {"T": [1, 2, 5, None]},
            cv=ClassDisjointKFold(n_splits=3),
            scoring=scoring,
            refit="hit",
            n_jobs=n_jobs,
        )

    local = search(n_jobs=None).fit(X, y)  # in this process, one by one
    with (
        distributed.get_task_stream(client) as tasks,
        joblib.parallel_config(backend="dask"),
    ):
        remote = search(n_jobs=-1).fit(X, y)

    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_hit"], local.cv_results_["mean_test_hit"]
    )
    np.testing.assert_allclose(
        remote.cv_results_["split0_test_hit"], local.cv_results_["split0_test_hit"]
    )
    # The fits and scores really ran in the worker processes.
    worker_pids = set(client.run(os.getpid).values())
    remote_pids = {
        int(remote.cv_results_[f"split{i}_test_pid"][j])
        for i in range(3)
        for j in range(4)
    }
    assert remote_pids <= worker_pids
    assert os.getpid() not in remote_pids
    assert len(tasks.data) >= 12  # 4 candidates x 3 folds


def test_cross_val_score_on_cluster_matches_local(client, problem):
    X, y, embeddings = problem
    scorer = make_hierarchical_precision_scorer(3, _hierarchy())
    cv = ClassDisjointKFold(n_splits=3)
    estimator = _estimator(embeddings, T=2)

    local = cross_val_score(estimator, X, y, cv=cv, scoring=scorer)
    with (
        distributed.get_task_stream(client) as tasks,
        joblib.parallel_config(backend="dask"),
    ):
        remote = cross_val_score(estimator, X, y, cv=cv, scoring=scorer, n_jobs=-1)

    np.testing.assert_allclose(remote, local)
    assert len(tasks.data) >= 3


# ------------------------------------------------- Dask-array prediction


def _in_memory_and_dask(estimator, X, method, Xd, scheduler):
    expected = getattr(estimator, method)(X)
    lazy = getattr(estimator, method)(Xd)
    assert isinstance(lazy, da.Array)
    assert lazy.chunks[0] == Xd.chunks[0]
    (got,) = dask.compute(lazy, scheduler=scheduler)
    return expected, got


@pytest.mark.parametrize("method", METHODS)
def test_dask_array_matches_in_memory_synchronous(fitted, problem, method):
    X = problem[0]
    Xd = da.from_array(X, chunks=(40, N_FEATURES))
    expected, got = _in_memory_and_dask(fitted, X, method, Xd, "synchronous")
    if method == "predict":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert got.dtype == expected.dtype


@pytest.mark.parametrize("method", METHODS)
def test_dask_array_matches_in_memory_on_cluster(client, fitted, problem, method):
    X = problem[0]
    Xd = da.from_array(X, chunks=(64, N_FEATURES))
    expected, got = _in_memory_and_dask(fitted, X, method, Xd, client)
    if method == "predict":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scheduler", ["synchronous", "cluster"])
def test_predict_top_k_dask_returns_two_lazy_arrays(client, fitted, problem, scheduler):
    X = problem[0]
    Xd = da.from_array(X, chunks=(50, N_FEATURES))
    result = fitted.predict_top_k(Xd, k=3)
    assert isinstance(result, tuple)
    assert len(result) == 2
    labels, scores = result
    assert isinstance(labels, da.Array)
    assert isinstance(scores, da.Array)
    assert labels.shape == scores.shape == (X.shape[0], 3)
    assert labels.dtype == fitted.classes_.dtype

    got_labels, got_scores = dask.compute(
        labels, scores, scheduler=client if scheduler == "cluster" else scheduler
    )
    expected_labels, expected_scores = fitted.predict_top_k(X, k=3)
    np.testing.assert_array_equal(got_labels, expected_labels)
    np.testing.assert_allclose(got_scores, expected_scores, rtol=1e-12)


def test_dask_prediction_is_lazy(fitted):
    def explode():
        raise RuntimeError("X was computed")

    X = da.from_delayed(
        dask.delayed(explode)(), shape=(10, N_FEATURES), dtype=np.float64
    )
    labels = fitted.predict(X)  # builds the graph, computes nothing
    with pytest.raises(RuntimeError, match="X was computed"):
        labels.compute(scheduler="synchronous")


def test_dask_column_chunks_are_merged(fitted, problem):
    X = problem[0]
    Xd = da.from_array(X, chunks=(30, 3))  # chunks along columns too
    scores = fitted.decision_function(Xd)
    assert scores.chunks == (Xd.chunks[0], (len(fitted.classes_),))
    np.testing.assert_allclose(
        scores.compute(scheduler="synchronous"), fitted.decision_function(X)
    )


def test_dask_empty_chunks_and_unknown_chunk_sizes(fitted, problem):
    X = problem[0]
    Xd = da.from_array(X, chunks=(40, N_FEATURES))
    mask = X[:, 0] > np.quantile(X[:, 0], 0.9)  # leaves some chunks empty
    labels, scores = fitted.predict_top_k(Xd[da.from_array(mask, chunks=40)], 2)
    assert np.isnan(labels.shape[0])
    got_labels, got_scores = dask.compute(labels, scores, scheduler="synchronous")
    expected_labels, expected_scores = fitted.predict_top_k(X[mask], 2)
    np.testing.assert_array_equal(got_labels, expected_labels)
    np.testing.assert_allclose(got_scores, expected_scores)

    nothing = Xd[da.from_array(X[:, 0] > np.inf, chunks=40)]
    assert fitted.predict(nothing).compute(scheduler="synchronous").shape == (0,)
    assert fitted.transform(nothing).compute(scheduler="synchronous").shape == (
        0,
        N_DIMS,
    )


@pytest.mark.parametrize("method", METHODS)
def test_dask_two_candidates_match_in_memory(problem, method):
    """Two candidates: decision_function is 1-D (binary), blocks and all."""
    X, y, embeddings = problem
    seen = ~np.isin(y, ["c10", "c11"])
    clf = _estimator(embeddings, T=3, batch_size=7).fit(X[seen], y[seen])
    assert len(clf.classes_) == 2
    Xd = da.from_array(X, chunks=(40, N_FEATURES))
    expected = getattr(clf, method)(X)
    lazy = getattr(clf, method)(Xd)
    assert lazy.shape == expected.shape
    got = lazy.compute(scheduler="synchronous")
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype
    if method == "predict":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    # Empty chunks (unknown sizes) give the same shape on zero rows.
    nothing = Xd[da.from_array(X[:, 0] > np.inf, chunks=40)]
    empty = getattr(clf, method)(nothing).compute(scheduler="synchronous")
    assert empty.shape == (0, *expected.shape[1:])


def _tasks_holding(graph, obj):
    return [
        key
        for key, task in graph.items()
        if task is obj or (isinstance(task, DataNode) and task.value is obj)
    ]


def test_estimator_is_one_graph_key(problem):
    """The estimator is one key, every chunk task depends on it, none inlines it."""
    X, y, _ = problem
    # 2000 extra candidates make the estimator far heavier than any chunk.
    _, _, embeddings = _make_problem(n_extra_labels=2000)
    estimator = _estimator(embeddings, T=2).fit(X, y)
    Xd = da.from_array(X, chunks=(25, N_FEATURES))
    labels, scores = estimator.predict_top_k(Xd, k=2)
    (labels, scores) = dask.optimize(labels, scores)
    graph = {**dict(labels.__dask_graph__()), **dict(scores.__dask_graph__())}

    holders = _tasks_holding(graph, estimator)
    assert len(holders) == 1
    (estimator_key,) = holders
    chunk_tasks = [
        task
        for key, task in graph.items()
        if key != estimator_key and task.dependencies
    ]
    using = [task for task in chunk_tasks if estimator_key in task.dependencies]
    assert len(using) >= Xd.numblocks[0]

    estimator_size = len(pickle.dumps(estimator))
    biggest_other = max(
        len(pickle.dumps(task)) for key, task in graph.items() if key != estimator_key
    )
    assert biggest_other < estimator_size / 10


def test_estimator_unpickled_at_most_once_per_worker(client, problem):
    X, y, _ = problem
    _, _, embeddings = _make_problem(n_extra_labels=200)
    estimator = _estimator(embeddings, T=2).fit(X, y)
    Xd = da.from_array(X, chunks=(15, N_FEATURES))  # 20 chunks
    assert Xd.numblocks[0] >= 10

    def install_counter():
        from sk_conse import _conse

        cls = _conse.ConSEClassifier
        if "_original_setstate" not in cls.__dict__:
            cls._original_setstate = cls.__setstate__

            def counting_setstate(self, state):
                type(self)._n_loads += 1
                type(self)._original_setstate(self, state)

            cls.__setstate__ = counting_setstate
        cls._n_loads = 0

    def remove_counter():
        from sk_conse import _conse

        cls = _conse.ConSEClassifier
        if "_original_setstate" in cls.__dict__:
            cls.__setstate__ = cls._original_setstate
            del cls._original_setstate, cls._n_loads

    def n_loads():
        from sk_conse import _conse

        return _conse.ConSEClassifier.__dict__.get("_n_loads", 0)

    client.run(install_counter)
    try:
        labels, scores = estimator.predict_top_k(Xd, k=3)
        embedding = estimator.transform(Xd)
        got = dask.compute(labels, scores, embedding, scheduler=client)
        loads = client.run(n_loads)
    finally:
        client.run(remove_counter)

    expected_labels, _ = estimator.predict_top_k(X, k=3)
    np.testing.assert_array_equal(got[0], expected_labels)
    assert 1 <= sum(loads.values())
    assert all(n <= 1 for n in loads.values()), loads


# ------------------------------------------------------------ errors


def test_dask_1d_array_is_rejected_eagerly(fitted):
    with pytest.raises(ValueError, match="Expected a 2D Dask array"):
        fitted.predict(da.zeros(10, chunks=5))


def test_dask_wrong_number_of_features_is_rejected_eagerly(fitted):
    with pytest.raises(ValueError, match="X has 3 features, but ConSEClassifier"):
        fitted.transform(da.zeros((10, 3), chunks=5))


@pytest.mark.parametrize("k", [0, 5, 2.0, True])
def test_dask_bad_k_is_rejected_eagerly(fitted, k):
    Xd = da.zeros((10, N_FEATURES), chunks=5)
    with pytest.raises(ValueError, match="k must be an integer between 1 and"):
        fitted.predict_top_k(Xd, k=k)


def test_dask_unfitted_estimator_is_rejected(problem):
    embeddings = problem[2]
    with pytest.raises(NotFittedError):
        _estimator(embeddings).predict(da.zeros((10, N_FEATURES), chunks=5))


def test_dask_dataframe_asks_for_an_array(fitted, problem):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    frame = dd.from_pandas(pd.DataFrame(problem[0]), npartitions=2)
    with pytest.raises(TypeError, match="to_dask_array"):
        fitted.predict(frame)


# ------------------------------------------------------------ user guide


def _python_blocks(path):
    """The ``.. code-block:: python`` blocks of a reStructuredText file."""
    lines = path.read_text().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        if lines[i].strip() == ".. code-block:: python":
            i += 1
            body = []
            while i < len(lines) and (not lines[i].strip() or lines[i][:1] == " "):
                body.append(lines[i])
                i += 1
            blocks.append(textwrap.dedent("\n".join(body)))
        else:
            i += 1
    return blocks


def test_user_guide_examples_run(tmp_path, monkeypatch):
    """docs/parallel.rst's code, run in order in one namespace."""
    page = Path(__file__).parents[1] / "docs" / "parallel.rst"
    blocks = _python_blocks(page)
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)  # the page saves a model file
    # The page's cluster runs beside this module's: no port 8787 for either.
    monkeypatch.setattr(distributed, "LocalCluster", _local_cluster)
    namespace = {"__name__": "parallel_rst"}
    for block in blocks:
        exec(compile(block, str(page), "exec"), namespace)
    assert namespace["top_labels"].shape == (300, 3)
    assert (tmp_path / "conse.joblib").exists()
