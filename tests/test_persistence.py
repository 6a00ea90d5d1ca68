"""Saving and loading fitted models: pickle, joblib and deepcopy.

Pickles of ConSEClassifier hold NumPy arrays only: the device arrays and the
search index are caches that ``__getstate__`` drops and ``__setstate__``
rebuilds, on the CPU when the loading machine has no GPU. Every pickling test
of the package lives here (DeViSEClassifier, scorers, models from
``with_candidates`` and without candidates included).
"""

import copy
import pickle
import re
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
from _shared import make_zero_shot_problem
from sklearn.linear_model import LogisticRegression

from sk_conse import ConSEClassifier
from sk_conse._backend import cuda_available, resolve_device
from sk_conse.exceptions import NoCandidateLabelsWarning
from sk_conse.metrics import make_hierarchical_precision_scorer

_CACHES = ("_searches",)
_NO_CUDA = "CuPy with a CUDA device is not available"


def _make_problem(seed=0):
    return make_zero_shot_problem(
        n_seen=6,
        n_unseen=40,
        n_per_class=20,
        n_dims=16,
        n_features=5,
        noise=0.3,
        seed=seed,
    )


def _fitted(algorithm="auto", device="cpu", **params):
    X, y, embeddings = _make_problem()
    estimator = ConSEClassifier(
        LogisticRegression(solver="newton-cholesky"),
        embeddings,
        T=2,
        algorithm=algorithm,
        device=device,
        batch_size=16,
        **params,
    )
    return estimator.fit(X, y), X


def _assert_same_predictions(loaded, original, X, rtol=1e-6):
    labels, scores = loaded.predict_top_k(X, k=5)
    expected_labels, expected_scores = original.predict_top_k(X, k=5)
    np.testing.assert_array_equal(labels, expected_labels)
    np.testing.assert_allclose(scores, expected_scores, rtol=rtol)
    np.testing.assert_allclose(loaded.transform(X), original.transform(X), rtol=rtol)
    np.testing.assert_allclose(
        loaded.decision_function(X), original.decision_function(X), rtol=rtol
    )
    np.testing.assert_array_equal(loaded.predict(X), original.predict(X))


def _arrays_in(obj, seen=None):
    """Every array-like object reachable from a pickled state, recursively."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if hasattr(obj, "__array__") or hasattr(obj, "__cuda_array_interface__"):
        yield obj
        if not isinstance(obj, np.ndarray) or obj.dtype != object:
            return
        for item in obj.ravel():
            yield from _arrays_in(item, seen)
        return
    if isinstance(obj, dict):
        for value in obj.values():
            yield from _arrays_in(value, seen)
    elif isinstance(obj, (list, tuple, set)):
        for value in obj:
            yield from _arrays_in(value, seen)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        yield from _arrays_in(vars(obj), seen)


def _assert_numpy_only(state):
    for key in _CACHES:
        assert key not in state, f"device cache {key} is pickled"
    arrays = list(_arrays_in(state))
    assert arrays, "the state should hold the fitted NumPy arrays"
    for array in arrays:
        assert type(array).__module__.split(".")[0] == "numpy", type(array)


@pytest.mark.parametrize("algorithm", ["direct", "factorised"])
def test_joblib_file_loads_in_a_fresh_process(tmp_path, algorithm):
    estimator, X = _fitted(algorithm=algorithm)
    joblib.dump(estimator, tmp_path / "model.joblib")
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(
        """
        import joblib, numpy as np
        model = joblib.load("model.joblib")
        X = np.load("X.npy")
        labels, scores = model.predict_top_k(X, k=5)
        np.save("labels.npy", labels)
        np.save("scores.npy", scores)
        np.save("embedding.npy", model.transform(X))
        np.save("predict.npy", model.predict(X))
        print(model.device_, model.algorithm_)
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["cpu", algorithm]

    labels, scores = estimator.predict_top_k(X, k=5)
    np.testing.assert_array_equal(np.load(tmp_path / "labels.npy"), labels)
    np.testing.assert_array_equal(np.load(tmp_path / "scores.npy"), scores)
    np.testing.assert_array_equal(
        np.load(tmp_path / "embedding.npy"), estimator.transform(X)
    )
    np.testing.assert_array_equal(
        np.load(tmp_path / "predict.npy"), estimator.predict(X)
    )


@pytest.mark.parametrize("algorithm", ["direct", "factorised"])
def test_pickled_state_holds_numpy_only(algorithm):
    estimator, _ = _fitted(algorithm=algorithm, seen_penalty=0.1)
    assert all(hasattr(estimator, key) for key in _CACHES)
    _assert_numpy_only(estimator.__getstate__())
    assert b"cupy" not in pickle.dumps(estimator)
    # Dropping the caches from the state leaves the estimator itself intact.
    assert all(hasattr(estimator, key) for key in _CACHES)


@pytest.mark.parametrize("algorithm", ["direct", "factorised"])
def test_pickle_and_deepcopy_rebuild_the_caches(algorithm):
    estimator, X = _fitted(algorithm=algorithm, seen_penalty=0.05)
    for loaded in (pickle.loads(pickle.dumps(estimator)), copy.deepcopy(estimator)):
        assert "_searches" not in loaded.__dict__
        assert loaded.algorithm_ == algorithm
        _assert_same_predictions(loaded, estimator, X, rtol=0)  # bit for bit
        (search,) = loaded._searches.values()
        assert search is not next(iter(estimator._searches.values()))
        assert search.algorithm == algorithm


def test_cuda_state_loads_on_the_cpu_without_a_gpu():
    """A state saved from ``device_="cuda"`` loads where CuPy sees no GPU."""
    estimator, X = _fitted()
    state = estimator.__getstate__()
    state["device_"] = "cuda"  # as if fitted on a GPU machine
    loaded = ConSEClassifier.__new__(ConSEClassifier)
    loaded.__setstate__(state)

    assert loaded.device_ == resolve_device("auto")
    if not cuda_available():
        assert loaded.device_ == "cpu"
        assert "_searches" not in loaded.__dict__
    _assert_same_predictions(loaded, estimator, X)


def test_cuda_pickle_loads_on_the_cpu_without_a_gpu():
    estimator, X = _fitted()
    gpu_like = copy.deepcopy(estimator)
    gpu_like.device_ = "cuda"  # the fitted attribute a GPU fit leaves
    loaded = pickle.loads(pickle.dumps(gpu_like))
    assert loaded.device_ == resolve_device("auto")
    _assert_same_predictions(loaded, estimator, X)


def test_unfitted_estimator_round_trips():
    X, y, embeddings = _make_problem()
    estimator = ConSEClassifier(
        LogisticRegression(solver="newton-cholesky"), embeddings, T=3
    )
    loaded = pickle.loads(pickle.dumps(estimator))
    assert not hasattr(loaded, "device_")
    assert loaded.get_params()["T"] == 3
    assert loaded.fit(X, y).predict(X[:2]).shape == (2,)


@pytest.mark.gpu
@pytest.mark.skipif(not cuda_available(), reason=_NO_CUDA)
@pytest.mark.parametrize("algorithm", ["direct", "factorised"])
def test_cuda_fit_pickles_to_numpy(algorithm):
    estimator, X = _fitted(algorithm=algorithm, device="cuda")
    assert estimator.device_ == "cuda"
    payload = pickle.dumps(estimator)
    assert b"cupy" not in payload
    _assert_numpy_only(estimator.__getstate__())

    loaded = pickle.loads(payload)
    cpu, _ = _fitted(algorithm=algorithm, device="cpu")
    _assert_same_predictions(loaded, cpu, X)


def test_model_without_candidates_round_trips():
    X, y, embeddings = _make_problem()
    seen = {label: embeddings[label] for label in np.unique(y)}
    with pytest.warns(NoCandidateLabelsWarning):
        estimator = ConSEClassifier(
            LogisticRegression(solver="newton-cholesky"), seen, T=2
        ).fit(X, y)
    loaded = pickle.loads(pickle.dumps(estimator))
    assert loaded.classes_.shape == (0,)
    np.testing.assert_array_equal(loaded.transform(X), estimator.transform(X))
    with pytest.raises(ValueError, match="There are no candidate labels to rank"):
        loaded.predict(X)
    # The loaded model still takes candidates without refitting.
    deployed = loaded.with_candidates("unseen", label_embeddings=embeddings)
    assert len(deployed.classes_) == 40


def test_model_from_with_candidates_round_trips():
    estimator, X = _fitted()
    narrow = estimator.with_candidates(["u3", "u7", "c2"])
    loaded = pickle.loads(pickle.dumps(narrow))
    assert loaded.get_params()["candidate_labels"] == ["u3", "u7", "c2"]
    np.testing.assert_array_equal(loaded.classes_, ["c2", "u3", "u7"])
    np.testing.assert_array_equal(
        loaded.decision_function(X), narrow.decision_function(X)
    )


def _fitted_devise(max_iter=20):
    pytest.importorskip("torch")
    from sk_conse import DeViSEClassifier

    X, y, embeddings = _make_problem()
    estimator = DeViSEClassifier(
        embeddings, max_iter=max_iter, tol=1.0, n_iter_no_change=1, random_state=0
    )
    return estimator.fit(X, y), X


def test_devise_round_trips():
    estimator, X = _fitted_devise()
    loaded = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(loaded.coef_, estimator.coef_)
    np.testing.assert_array_equal(
        loaded.decision_function(X), estimator.decision_function(X)
    )
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))


class _TopK:
    """A fitted ranker: ``predict_top_k`` gives its fixed label order."""

    classes_ = np.array(["cat", "dog", "fox"])

    def predict_top_k(self, X, k):
        labels = np.tile(["fox", "dog", "cat"], (len(X), 1))[:, :k]
        return labels, np.tile([3.0, 2.0, 1.0], (len(X), 1))[:, :k]


def test_hierarchical_precision_scorer_round_trips():
    hierarchy = {"cat": "feline", "dog": "canine", "fox": "canine"}
    scorer = make_hierarchical_precision_scorer(2, hierarchy)
    loaded = pickle.loads(pickle.dumps(scorer))
    assert repr(loaded) == repr(scorer)
    # Top 2 is (fox, dog): hit for dog, and fox shares its parent.
    expected = scorer(_TopK(), [[0.0], [0.0]], ["dog", "cat"])
    assert loaded(_TopK(), [[0.0], [0.0]], ["dog", "cat"]) == expected == 0.5


# ------------------------------------------- what a fitted model keeps (issue 19)


def _open_vocabulary_model(n_words=20_000):
    """Fitted on a large vocabulary, ranking three of its words."""
    rng = np.random.RandomState(0)
    vocabulary = {f"w{i}": rng.randn(50).astype(np.float32) for i in range(n_words)}
    y = np.repeat(["w0", "w1", "w2"], 10)
    X = rng.randn(30, 4) + np.repeat(np.eye(3, 4) * 3, 10, axis=0)
    model = ConSEClassifier(
        LogisticRegression(), vocabulary, T=2, candidate_labels=["w5", "w6", "w7"]
    )
    return model.fit(X, y), X, vocabulary


def test_pickle_keeps_only_the_vectors_the_model_uses():
    model, X, vocabulary = _open_vocabulary_model()
    payload = pickle.dumps(model)
    # 20,000 x 50 float32 would be 4 MB; the 6 vectors in use are 1.2 kB.
    assert len(payload) < 20_000
    loaded = pickle.loads(payload)
    assert sorted(loaded.label_embeddings) == ["w0", "w1", "w2", "w5", "w6", "w7"]
    np.testing.assert_array_equal(
        loaded.decision_function(X), model.decision_function(X)
    )
    # In memory the table is kept by reference, and copies keep all of it.
    assert model.label_embeddings is vocabulary
    assert len(copy.copy(model).label_embeddings) == len(vocabulary)
    assert len(copy.deepcopy(model).label_embeddings) == len(vocabulary)
    assert len(model.with_candidates("unseen").classes_) == len(vocabulary) - 3
    # New names need the full table again.
    deployed = loaded.with_candidates(["w9"], label_embeddings=vocabulary)
    np.testing.assert_array_equal(deployed.classes_, ["w9"])


def test_skops_loads_trusting_only_this_package(tmp_path):
    sio = pytest.importorskip("skops.io")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, embeddings = _make_problem()
    model = ConSEClassifier(
        make_pipeline(StandardScaler(), LogisticRegression()), embeddings, T=2
    ).fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted
    assert all(name.startswith("sk_conse.") for name in untrusted), untrusted
    loaded = sio.load(path, trusted=untrusted)
    _assert_same_predictions(loaded, model, X, rtol=0)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


# --------------------------------------- a state read from disk is checked (issue 26)


def _subprocess_env():
    """The environment of a child process importing this checkout's sk_conse."""
    import os

    import sk_conse

    root = os.path.dirname(os.path.dirname(sk_conse.__file__))
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}


def _crafted_seen_labels(model, X):
    """3,000 seen labels (the base estimator's too) for 4 seen vectors."""
    rng = np.random.RandomState(0)
    labels = np.array([f"s{i:04d}" for i in range(3000)])
    base = model.base_estimator_
    base.classes_ = labels
    base.coef_ = 50 * rng.randn(3000, X.shape[1])
    base.intercept_ = np.zeros(3000)
    model.__dict__.update(
        seen_classes_=labels,
        seen_embeddings_=model.seen_embeddings_[:4],
        T_=2,
        _seen_order=None,
        algorithm="factorised",
        algorithm_="factorised",
    )


def test_crafted_skops_file_is_refused_before_any_kernel(tmp_path):
    """The issue's skops file: trusted types, a state that would make the
    compiled kernels read past the seen vectors (SIGSEGV before the fix).
    Loaded in a child process, so that a crash cannot take the tests down."""
    sio = pytest.importorskip("skops.io")
    model, X = _fitted(algorithm="factorised")
    _crafted_seen_labels(model, X)
    sio.dump(model, tmp_path / "crafted.skops")
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(
        """
        import numpy as np, skops.io as sio
        path = "crafted.skops"
        untrusted = sio.get_untrusted_types(file=path)
        assert all(name.startswith("sk_conse.") for name in untrusted), untrusted
        try:
            model = sio.load(path, trusted=untrusted)
        except ValueError as error:
            print("refused:", error)
        else:
            print("loaded:", model.predict_top_k(np.load("X.npy"), k=3)[0][:1])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=_subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.startswith("refused: "), done.stdout
    assert "seen_embeddings_ has 4 vectors for the 3000 labels of seen_classes_" in (
        done.stdout
    )


def _nan_candidate(model):
    vectors = model.candidate_embeddings_.copy()
    vectors[3, 0] = np.nan
    model.candidate_embeddings_ = vectors


def _other_base_labels(model):
    model.base_estimator_.classes_ = model.base_estimator_.classes_[::-1].copy()


_CRAFTED = {
    "negative T_": (lambda m: setattr(m, "T_", -5), "T_=-5 is not an integer"),
    "T_ above n_seen": (lambda m: setattr(m, "T_", 7), "from 1 to the 6 seen"),
    "shortened classes_": (
        lambda m: setattr(m, "classes_", m.classes_[:5]),
        "candidate_embeddings_ has 40 vectors for the 5 labels of classes_",
    ),
    "NaN candidate vector": (
        _nan_candidate,
        r"NaN, infinite or zero vectors \(rows 3\)",
    ),
    "repeated label": (
        lambda m: m.classes_.__setitem__(1, m.classes_[0]),
        "classes_ repeats the labels 'u0'",
    ),
    "seen order out of range": (
        lambda m: setattr(m, "_seen_order", np.array([0, 1, 2, 3, 4, 600])),
        "_seen_order is not a permutation of the 6 seen labels",
    ),
    "base labels differ": (_other_base_labels, "base_estimator_ has the 6 labels"),
    "invalid parameter": (
        lambda m: setattr(m, "batch_size", 0),
        "The 'batch_size' parameter of ConSEClassifier must be",
    ),
    "unknown device": (
        lambda m: setattr(m, "device_", "tpu"),
        "device_='tpu' is not 'cpu' or 'cuda'",
    ),
    "object vectors": (
        lambda m: setattr(m, "seen_embeddings_", m.seen_embeddings_.astype(object)),
        "seen_embeddings_ has dtype object",
    ),
    "missing attribute": (lambda m: delattr(m, "T_"), "it has no T_"),
}


@pytest.mark.parametrize("case", list(_CRAFTED))
def test_crafted_pickle_state_is_refused(case):
    tamper, message = _CRAFTED[case]
    model, _ = _fitted()
    tamper(model)
    payload = pickle.dumps(model)
    with pytest.raises(ValueError, match="Refusing the fitted state of this") as info:
        pickle.loads(payload)
    assert re.search(message, str(info.value)), str(info.value)


class _MyConSE(ConSEClassifier):
    """A user's subclass: its state is checked as ConSEClassifier's."""


def test_crafted_state_of_a_subclass_is_refused():
    X, y, embeddings = _make_problem()
    base = LogisticRegression(solver="newton-cholesky")
    model = _MyConSE(base, embeddings, T=2).fit(X, y)
    pickle.loads(pickle.dumps(model))  # the honest state loads
    model.T_ = 0
    with pytest.raises(ValueError, match="this _MyConSE: T_=0 is not an integer"):
        pickle.loads(pickle.dumps(model))


def test_crafted_skops_state_is_refused_in_process(tmp_path):
    sio = pytest.importorskip("skops.io")
    model, _ = _fitted()
    _nan_candidate(model)
    path = tmp_path / "nan.skops"
    sio.dump(model, path)
    with pytest.raises(ValueError, match=r"candidate_embeddings_ has NaN"):
        sio.load(path, trusted=sio.get_untrusted_types(file=path))


def test_crafted_devise_state_is_refused():
    model, X = _fitted_devise(max_iter=5)
    loaded = pickle.loads(pickle.dumps(model))  # the honest state loads
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    model.coef_ = model.coef_[:, :3]
    with pytest.raises(ValueError, match=r"coef_ is not a float array of shape"):
        pickle.loads(pickle.dumps(model))


def test_crafted_conse_cv_state_is_refused():
    from sk_conse import ConSEClassifierCV

    X, y, embeddings = _make_problem()
    model = ConSEClassifierCV(
        LogisticRegression(solver="newton-cholesky"), embeddings, Ts=(1, 2), cv=2
    ).fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))  # the honest state loads
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    model.classes_ = model.classes_[:3]
    with pytest.raises(ValueError, match=r"classes_ .* is not best_estimator_'s"):
        pickle.loads(pickle.dumps(model))
    model.classes_ = loaded.classes_
    model.best_estimator_.T_ = 0  # the nested model is checked too
    with pytest.raises(ValueError, match="T_=0 is not an integer"):
        pickle.loads(pickle.dumps(model))


@pytest.mark.parametrize("fitted", [_fitted, _fitted_devise])
def test_a_copy_is_not_checked_again_but_a_load_is(fitted, monkeypatch):
    # Found in review: every copy.copy / copy.deepcopy went through
    # __setstate__ and so re-checked the whole fitted state, including the
    # copy with_candidates makes on each call (a scorer's, per fold): a state
    # already in use needs no check; one read from disk does.
    from sk_conse import _base

    estimator, X = fitted()
    calls = []
    monkeypatch.setattr(_base, "check_fitted_state", calls.append)
    for duplicate in (copy.copy(estimator), copy.deepcopy(estimator)):
        _assert_same_predictions(duplicate, estimator, X)
    estimator.with_candidates(estimator.seen_classes_[:2])
    assert calls == []
    pickle.loads(pickle.dumps(estimator))
    assert len(calls) == 1
