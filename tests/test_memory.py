"""ConSEClassifier(memory=...): the fitted base estimator cached by joblib.Memory.

Base fits are counted in a file (one line per fit), since joblib, Dask and the
searches copy the estimator: a counter on the instance would count nothing.
"""

import os
from pathlib import Path

import joblib
import numpy as np
import pytest
from _shared import CountingLogisticRegression, count_calls
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    cross_validate,
)
from sklearn.utils._param_validation import InvalidParameterError

from sk_conse import ClassDisjointKFold, ConSEClassifier, make_hit_at_k_scorer
from sk_conse._memory import fit_base

N_SPLITS = 4


def _conse(log, embeddings, memory=None, **params):
    return ConSEClassifier(
        CountingLogisticRegression(log=str(log)), embeddings, memory=memory, **params
    )


def _search_grid():
    """Parameters that only change the search, not the base fit."""
    grid = {"T": [1, 3, None], "seen_penalty": [0.0, 0.1]}
    if "temperature" in ConSEClassifier().get_params():
        grid["temperature"] = [0.5, 1.0]
    return grid


def _grid_search(estimator, grid=None, **kwargs):
    return GridSearchCV(
        estimator,
        _search_grid() if grid is None else grid,
        cv=ClassDisjointKFold(n_splits=N_SPLITS),
        scoring=make_hit_at_k_scorer(k=2),
        **kwargs,
    )


def _assert_same_test_scores(results, expected):
    assert list(results["params"]) == list(expected["params"])
    for key in expected:
        if "test_score" in key:
            np.testing.assert_array_equal(results[key], expected[key], err_msg=key)


def _n_candidates(grid):
    return int(np.prod([len(v) for v in grid.values()]))


@pytest.fixture(scope="module")
def plain(problem, tmp_path_factory):
    """The search over ``_search_grid()`` without memory, and its base fits."""
    X, y, embeddings = problem
    log = tmp_path_factory.mktemp("plain") / "fits.log"
    search = _grid_search(_conse(log, embeddings)).fit(X, y)
    return search, count_calls(log, "fit")


def test_without_memory_every_candidate_fits_the_base(plain):
    search, n_fits = plain
    assert n_fits == _n_candidates(_search_grid()) * N_SPLITS + 1
    assert search.best_estimator_.memory is None


# ------------------------------------------------------------ GridSearchCV


@pytest.mark.parametrize("memory_kind", ["str", "joblib.Memory"])
def test_grid_search_fits_base_once_per_fold(
    problem, plain, log, tmp_path, memory_kind
):
    X, y, embeddings = problem
    plain = plain[0]
    cache = tmp_path / "cache"
    memory = str(cache) if memory_kind == "str" else joblib.Memory(cache, verbose=0)

    cached = _grid_search(_conse(log, embeddings, memory=memory)).fit(X, y)
    assert count_calls(log, "fit") == N_SPLITS + 1  # one per fold, one for the refit
    _assert_same_test_scores(cached.cv_results_, plain.cv_results_)
    assert cached.best_params_ == plain.best_params_
    assert cached.best_index_ == plain.best_index_
    np.testing.assert_array_equal(
        cached.best_estimator_.decision_function(X),
        plain.best_estimator_.decision_function(X),
    )
    assert any(cache.iterdir())


def test_candidate_labels_in_the_grid_reuse_the_base(problem, log, tmp_path):
    X, y, embeddings = problem
    grid = {
        "T": [1, 3],
        "candidate_labels": ["unseen", "all", sorted(embeddings)],
    }
    plain = _grid_search(_conse(log, embeddings), grid).fit(X, y)
    log.unlink()
    cached = _grid_search(_conse(log, embeddings, memory=str(tmp_path)), grid)
    cached.fit(X, y)
    assert count_calls(log, "fit") == N_SPLITS + 1
    _assert_same_test_scores(cached.cv_results_, plain.cv_results_)


def test_rerun_with_a_warm_cache_fits_nothing(problem, plain, log, tmp_path):
    X, y, embeddings = problem
    _grid_search(_conse(log, embeddings, memory=str(tmp_path))).fit(X, y)
    log.unlink()
    again = _grid_search(_conse(log, embeddings, memory=str(tmp_path))).fit(X, y)
    assert count_calls(log, "fit") == 0
    _assert_same_test_scores(again.cv_results_, plain[0].cv_results_)


def test_a_base_parameter_misses_the_cache(problem, log, tmp_path):
    X, y, embeddings = problem
    grid = {"base_estimator__C": [0.01, 1.0], "T": [1, 3]}
    cached = _grid_search(_conse(log, embeddings, memory=str(tmp_path)), grid)
    cached.fit(X, y)
    # One fit per (C, fold), one refit: C is part of the key, T is not.
    assert count_calls(log, "fit") == 2 * N_SPLITS + 1
    # Different C values really gave different base estimators.
    scores = cached.cv_results_["split0_test_score"]
    assert not np.array_equal(scores[:2], scores[2:])


def test_other_data_or_fit_params_miss_the_cache(problem, log, tmp_path):
    X, y, embeddings = problem
    clf = _conse(log, embeddings, memory=str(tmp_path), T=2)
    clf.fit(X, y)
    clf.fit(X, y)
    assert count_calls(log, "fit") == 1
    proba = clf.base_estimator_.predict_proba(X)

    clf.fit(X + 1e-3, y)
    assert count_calls(log, "fit") == 2
    assert not np.array_equal(clf.base_estimator_.predict_proba(X), proba)

    clf.fit(X, y[::-1])
    assert count_calls(log, "fit") == 3

    weights = np.linspace(0.5, 1.5, len(y))
    clf.fit(X, y, sample_weight=weights)
    assert count_calls(log, "fit") == 4
    clf.fit(X, y, sample_weight=weights)
    assert count_calls(log, "fit") == 4


def test_search_only_parameters_hit_the_cache(problem, log, tmp_path):
    X, y, embeddings = problem
    clf = _conse(log, embeddings, memory=str(tmp_path), T=2).fit(X, y)
    for params in [{"T": 5}, {"seen_penalty": 0.2}, {"candidate_labels": "all"}]:
        clf.set_params(**params).fit(X, y)
    assert count_calls(log, "fit") == 1


def test_cached_fit_equals_uncached(problem, log, tmp_path):
    X, y, embeddings = problem
    plain = _conse(log, embeddings, T=3).fit(X, y)
    cached = _conse(log, embeddings, memory=str(tmp_path), T=3).fit(X, y)
    reloaded = _conse(log, embeddings, memory=str(tmp_path), T=3).fit(X, y)
    assert count_calls(log, "fit") == 2
    for clf in (cached, reloaded):
        np.testing.assert_array_equal(
            clf.decision_function(X), plain.decision_function(X)
        )


@pytest.mark.parametrize("memory", [5, 1.5, object(), ["dir"]])
def test_bad_memory_raises(problem, log, memory):
    X, y, embeddings = problem
    with pytest.raises(InvalidParameterError, match="'memory' parameter"):
        _conse(log, embeddings, memory=memory).fit(X, y)
    assert count_calls(log, "fit") == 0


def test_fit_base_without_memory_fits_a_clone(problem, log):
    X, y, _ = problem
    base = CountingLogisticRegression(log=str(log))
    fitted = fit_base(None, base, X, y, {})
    assert fitted is not base
    assert not hasattr(base, "classes_")
    np.testing.assert_array_equal(fitted.classes_, np.unique(y))
    assert count_calls(log, "fit") == 1


# ---------------------------------------------------- other search tools


def test_cross_validate_reuses_the_cache(problem, log, tmp_path):
    X, y, embeddings = problem
    cv = ClassDisjointKFold(n_splits=N_SPLITS)
    scoring = make_hit_at_k_scorer(k=2)
    plain = cross_validate(_conse(log, embeddings, T=2), X, y, cv=cv, scoring=scoring)
    log.unlink()

    scores = {}
    for T in (2, 5):  # another T: the same base fits
        clf = _conse(log, embeddings, memory=str(tmp_path), T=T)
        scores[T] = cross_validate(clf, X, y, cv=cv, scoring=scoring)["test_score"]
    assert count_calls(log, "fit") == N_SPLITS
    np.testing.assert_array_equal(scores[2], plain["test_score"])
    assert not np.array_equal(scores[2], scores[5])


def test_halving_grid_search(problem, log, tmp_path):
    X, y, embeddings = problem

    def search(memory):
        return HalvingGridSearchCV(
            _conse(log, embeddings, memory=memory),
            {"T": [1, 2, 3, None]},
            cv=ClassDisjointKFold(n_splits=N_SPLITS),
            scoring=make_hit_at_k_scorer(k=2),
            factor=2,
            min_resources=72,
            random_state=0,
        )

    plain = search(None).fit(X, y)
    n_plain = count_calls(log, "fit")
    assert plain.n_iterations_ >= 2
    assert n_plain == sum(plain.n_candidates_) * N_SPLITS + 1
    log.unlink()

    cached = search(str(tmp_path)).fit(X, y)
    # Each iteration draws its own subsample: one base fit per fold of each.
    assert count_calls(log, "fit") == cached.n_iterations_ * N_SPLITS + 1
    assert cached.n_candidates_ == plain.n_candidates_
    _assert_same_test_scores(cached.cv_results_, plain.cv_results_)
    assert cached.best_params_ == plain.best_params_


def test_dask_backend_shares_the_cache_directory(problem, plain, log, tmp_path):
    pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    X, y, embeddings = problem
    plain = plain[0]
    memory = str(tmp_path / "shared")

    # Two single-threaded workers in this process (in-process transport), no
    # dashboard; the scheduler's few HTTP routes on a free loopback port.
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        ) as cluster,
        distributed.Client(cluster) as client,
        distributed.get_task_stream(client) as tasks,
        joblib.parallel_config(backend="dask"),
    ):
        remote = _grid_search(_conse(log, embeddings, memory=memory), n_jobs=-1)
        remote.fit(X, y)
    assert tasks.data  # the fits ran on the cluster (joblib batches them)
    # Two workers may fit the same fold at once before either has stored it
    # (joblib.Memory does not lock), so at most two fits per fold.
    assert N_SPLITS + 1 <= count_calls(log, "fit") <= 2 * N_SPLITS + 1
    _assert_same_test_scores(remote.cv_results_, plain.cv_results_)
    assert remote.best_params_ == plain.best_params_

    log.unlink()
    again = _grid_search(_conse(log, embeddings, memory=memory)).fit(X, y)
    assert count_calls(log, "fit") == 0  # every fold and the refit are in the directory
    _assert_same_test_scores(again.cv_results_, plain.cv_results_)


class CountingFileReader(ClassifierMixin, BaseEstimator):
    """Reads one number per file named in X; counts its fits in ``log``."""

    def __init__(self, log=None):
        self.log = log

    @staticmethod
    def _read(X):
        return np.array([[float(Path(path).read_text())] for path in X])

    def fit(self, X, y):
        with open(self.log, "a") as f:
            f.write("fit\n")
        self.lr_ = LogisticRegression().fit(self._read(X), y)
        self.classes_ = self.lr_.classes_
        self.seen_values_ = self._read(X).ravel()
        return self

    def predict_proba(self, X):
        return self.lr_.predict_proba(self._read(X))


@pytest.mark.parametrize("as_path", [False, True])
def test_changed_file_content_refits_the_base(problem, log, tmp_path, as_path):
    """X as file paths: the key covers the files' content, not only the paths."""
    embeddings = problem[2]
    data = tmp_path / "data"
    data.mkdir()
    paths = []
    for i, value in enumerate([0.0, 0.1, 0.2, 1.0, 1.1, 1.2]):
        path = data / f"x{i}.txt"
        path.write_text(f"{value:.1f}")
        paths.append(path if as_path else str(path))
    y = np.repeat(["c00", "c01"], 3)

    def fit():
        return ConSEClassifier(
            CountingFileReader(log=str(log)),
            embeddings,
            memory=str(tmp_path / "cache"),
        ).fit(paths, y)

    first = fit()
    assert count_calls(log, "fit") == 1
    assert fit().base_estimator_.seen_values_.tolist() == [0, 0.1, 0.2, 1, 1.1, 1.2]
    assert count_calls(log, "fit") == 1  # same files: from the cache

    # Same size and same modification time, other content: a key on the
    # paths (or on size and mtime) would hand back the stale base.
    stat = (data / "x0.txt").stat()
    (data / "x0.txt").write_text("0.5")
    os.utime(data / "x0.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = fit()
    assert count_calls(log, "fit") == 2
    assert second.base_estimator_.seen_values_[0] == 0.5
    assert first.base_estimator_.seen_values_[0] == 0.0


def test_fit_base_warns_about_directories_in_X(tmp_path):
    (tmp_path / "images").mkdir()
    X = np.array([str(tmp_path / "images"), "not a path"], dtype=object)
    with pytest.warns(UserWarning, match=r"X names a directory: .*images"):
        fit_base(str(tmp_path / "cache"), DummyClassifier(), X, np.array([0, 1]), {})
