"""A battery of bad inputs across ConSEClassifier's public API.

Each bad input ends in a clear error (ValueError, TypeError or
InvalidParameterError, with a message naming the culprit) or in a documented
behaviour tested here; never in a silent wrong answer, a NaN, or a crash deep
in NumPy.

Documented behaviours pinned down here:

- NaN / inf in ``X`` go to the base estimator: its own error when it refuses
  them (LogisticRegression), ordinary predictions when it accepts them
  (DecisionTreeClassifier).
- Zero samples, at fit and at predict time, raise scikit-learn's "Found array
  with 0 sample(s)" error. (On a Dask array, empty chunks give empty results:
  see ``tests/test_dask.py``.)
- ``T`` larger than the number of seen labels combines them all (``T_`` is
  clipped); ``T=True`` and ``batch_size=True`` count as 1, as ``bool`` is an
  ``int`` in all of scikit-learn's parameter validation.
- A negative ``seen_penalty`` is a bonus for seen candidates.
- Object arrays of numbers predict as their float counterparts.
"""

import functools
import math

import numpy as np
import pandas as pd
import pytest
from _shared import paper_scores
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils._param_validation import InvalidParameterError

from sk_conse import ConSEClassifier
from sk_conse._backend import cuda_available
from sk_conse.exceptions import NoCandidateLabelsWarning

SEEN = ["a", "b", "c"]
UNSEEN = ["d", "e", "f"]
N_FEATURES = 3
N_DIMS = 4
METHODS = ["predict", "predict_proba", "decision_function", "transform", "top_k"]
FEW = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _data():
    rng = np.random.RandomState(0)
    y = np.repeat(SEEN, 20)
    X = rng.randn(60, N_FEATURES)
    X[y == "b"] += 3
    X[y == "c", 1] -= 3
    return X, y


def _embeddings(dtype=np.float64):
    rng = np.random.RandomState(1)
    return {label: rng.randn(N_DIMS).astype(dtype) for label in SEEN + UNSEEN}


def _estimator(embeddings=None, **params):
    params.setdefault("T", 2)
    return ConSEClassifier(
        LogisticRegression(solver="newton-cholesky"),
        _embeddings() if embeddings is None else embeddings,
        **params,
    )


@functools.cache
def _fitted(**params):
    X, y = _data()
    return _estimator(**params).fit(X, y)


def _call(estimator, method, X):
    if method == "top_k":
        return estimator.predict_top_k(X, k=2)
    return getattr(estimator, method)(X)


def _assert_finite_outputs(estimator, X):
    proba = estimator.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert np.isfinite(estimator.decision_function(X)).all()
    assert np.isfinite(estimator.transform(X)).all()


# ---------------------------------------------------------------- X


def test_nan_X_goes_through_a_base_estimator_that_accepts_it():
    X, y = _data()
    X[::5, 0] = np.nan
    estimator = ConSEClassifier(
        DecisionTreeClassifier(max_depth=3, random_state=0), _embeddings(), T=2
    ).fit(X, y)
    _assert_finite_outputs(estimator, X)


@FEW
@given(scale=st.sampled_from([1e-300, 1e-150, 1e150, 1e300]))
def test_huge_or_tiny_finite_X_gives_finite_outputs(scale):
    X, _ = _data()
    _assert_finite_outputs(_fitted(), X * scale)


@FEW
@given(
    shape=array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
    method=st.sampled_from(METHODS),
)
def test_wrong_shapes_raise(shape, method):
    X = np.ones(shape)
    if len(shape) == 2 and shape[0] >= 1 and shape[1] == N_FEATURES:
        _call(_fitted(), method, X)  # the one good shape
        return
    with pytest.raises(
        ValueError,
        match=(
            r"Expected 2D array|0 sample\(s\)|0 feature\(s\)|X has \d+ features, "
            r"but ConSEClassifier is expecting 3|Found array with dim \d"
        ),
    ):
        _call(_fitted(), method, X)


@pytest.mark.parametrize("method", METHODS)
def test_wrong_number_of_features_names_both_counts(method):
    X, _ = _data()
    with pytest.raises(
        ValueError, match="X has 6 features, but ConSEClassifier is expecting 3"
    ):
        _call(_fitted(), method, np.hstack([X, X]))


@pytest.mark.parametrize("method", METHODS)
def test_unfitted_estimator_raises_not_fitted(method):
    X, _ = _data()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        _call(_estimator(), method, X)


def test_zero_samples_at_fit_raise():
    X, y = _data()
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        _estimator().fit(X[:0], y[:0])


@pytest.mark.parametrize("method", METHODS)
def test_zero_samples_at_predict_raise(method):
    X, _ = _data()
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        _call(_fitted(), method, X[:0])


@pytest.mark.parametrize("method", ["fit", *METHODS])
def test_3d_X_is_the_base_estimators_error(method):
    X, y = _data()
    X3 = X.reshape(60, N_FEATURES, 1)
    if method == "fit":
        with pytest.raises(ValueError, match="Found array with dim 3"):
            _estimator().fit(X3, y)
    else:
        with pytest.raises(ValueError, match="Found array with dim 3"):
            _call(_fitted(), method, X3)


def test_1d_X_at_fit_raises():
    X, y = _data()
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        _estimator().fit(X[:, 0], y)


@pytest.mark.parametrize("method", [*METHODS, "explain"])
@pytest.mark.parametrize("as_list", [True, False], ids=["list", "array"])
def test_1d_X_at_predict_asks_for_a_reshape(method, as_list):
    """One sample given flat gets scikit-learn's "Expected 2D array ...
    reshape" from ConSE itself (a list got "X does not contain any
    features"), whatever the base estimator accepts."""
    X, y = _data()
    clf = ConSEClassifier(_AnyShape(), _embeddings()).fit(X, y)
    flat = X[0].tolist() if as_list else X[0]
    call = functools.partial(_call, clf, method) if method != "explain" else clf.explain
    with pytest.raises(
        ValueError, match=r"(?s)Expected 2D array, got 1D.*Reshape your data"
    ):
        call(flat)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("which", ["devise", "cv"])
def test_1d_X_at_predict_asks_for_a_reshape_in_devise_and_the_cv(method, which):
    X, y = _data()
    if which == "devise":
        pytest.importorskip("torch")
        from sk_conse import DeViSEClassifier

        clf = DeViSEClassifier(_embeddings(), max_iter=2, tol=10.0)
        clf.set_params(n_iter_no_change=1)
    else:
        from sk_conse import ConSEClassifierCV

        clf = ConSEClassifierCV(_AnyShape(), _embeddings(), Ts=[1], cv=3)
    clf.fit(X, y)
    with pytest.raises(
        ValueError, match=r"(?s)Expected 2D array, got 1D.*Reshape your data"
    ):
        _call(clf, method, X[0].tolist())


class _AnyShape(ClassifierMixin, BaseEstimator):
    """A classifier that takes X of any shape (uniform probabilities)."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


def test_ragged_X_raises():
    with pytest.raises(ValueError, match="inhomogeneous"):
        _fitted().predict([[1.0, 2.0, 3.0], [1.0, 2.0]])


@FEW
@given(
    X=arrays(np.float64, (4, N_FEATURES), elements=st.floats(-5, 5)),
    method=st.sampled_from(METHODS),
)
def test_numeric_object_arrays_predict_as_floats(X, method):
    got = _call(_fitted(), method, X.astype(object))
    expected = _call(_fitted(), method, X)
    for g, e in zip(*(r if isinstance(r, tuple) else (r,) for r in (got, expected))):
        np.testing.assert_array_equal(g, e)


@FEW
@given(
    corruption=st.sampled_from(["string", "None", "list"]),
    where=st.tuples(st.integers(0, 3), st.integers(0, N_FEATURES - 1)),
    method=st.sampled_from(METHODS),
)
def test_object_arrays_with_non_numbers_raise(corruption, where, method):
    X = np.ones((4, N_FEATURES), dtype=object)
    X[where] = {"string": "cat", "None": None, "list": [1.0]}[corruption]
    match = {
        "string": "could not convert string to float: 'cat'",
        "None": "Input X contains NaN",
        "list": "setting an array element with a sequence",
    }[corruption]
    with pytest.raises((ValueError, TypeError), match=match):
        _call(_fitted(), method, X)


# ---------------------------------------------------------------- y


@pytest.mark.parametrize(
    ("make_y", "match"),
    [
        (lambda y: np.r_[np.ones(59), np.nan], "Input y contains NaN"),
        (lambda y: np.linspace(0, 1, 60), "Unknown label type: continuous"),
        (lambda y: np.c_[y, y], "y should be a 1d array"),
        (lambda y: y[:-1], "inconsistent numbers of samples"),
    ],
    ids=["nan", "continuous", "2d", "length"],
)
def test_bad_y_raises(make_y, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        _estimator().fit(X, make_y(y))


def _replace_a(y, label):
    """``y`` as an object array, with ``label`` for "a"."""
    y = y.astype(object)
    y[y == "a"] = label
    return y


@pytest.mark.parametrize(
    "make_y",
    [
        lambda y: _replace_a(y, 1),
        lambda y: _replace_a(y, 1).tolist(),
        lambda y: pd.Series(_replace_a(y, 1)),
        lambda y: _replace_a(y, None),
    ],
    ids=["object-array", "list", "series", "none"],
)
def test_mixed_label_types_in_y_raise_naming_the_types(make_y):
    """["a", 1] ended in a bare "'<' not supported between instances of
    'int' and 'str'" (a list was silently turned into "1")."""
    X, y = _data()
    estimator = _estimator()
    with pytest.raises(TypeError, match=r"^y mixes labels of different types, "):
        estimator.fit(X, make_y(y))
    with pytest.raises(TypeError, match=r"y = \[str\(label\) for label in y\]"):
        estimator.fit(X, make_y(y))
    assert not hasattr(estimator, "classes_")


def test_mixed_label_types_in_y_of_devise_and_the_cv_raise():
    pytest.importorskip("torch")
    from sk_conse import ConSEClassifierCV, DeViSEClassifier

    X, y = _data()
    mixed = _replace_a(y, 1)
    with pytest.raises(TypeError, match="numbers \\(1\\) and strings \\('b'\\)"):
        DeViSEClassifier(_embeddings()).fit(X, mixed)
    cv = ConSEClassifierCV(LogisticRegression(), _embeddings(), Ts=[1], cv=3)
    with pytest.raises(TypeError, match="numbers \\(1\\) and strings \\('b'\\)"):
        cv.fit(X, mixed)


@pytest.mark.parametrize(
    "candidates", ["all", "unseen", ["d", 7]], ids=["all", "unseen", "explicit"]
)
def test_mixed_candidate_label_types_raise_at_fit(candidates):
    """Mixed candidates made mixed classes_, on which score() ended in a
    bare TypeError."""
    X, y = _data()
    embeddings = {**_embeddings(), 7: np.ones(N_DIMS)}
    with pytest.raises(TypeError, match=r"candidate labels mixes.*numbers \(7\)"):
        _estimator(embeddings, candidate_labels=candidates).fit(X, y)
    fitted = _estimator(embeddings, candidate_labels=["d", "e"]).fit(X, y)
    with pytest.raises(TypeError, match=r"key label_embeddings by labels of one"):
        fitted.with_candidates(["d", 7])


# ------------------------------------------------------ label_embeddings


@pytest.mark.parametrize("label", [SEEN[1], UNSEEN[1]], ids=["seen", "candidate"])
@pytest.mark.parametrize(
    "corruption",
    ["nan", "inf", "-inf", "zero", "ragged", "2d", "string", "huge", "tiny"],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_corrupt_label_vector_names_the_label(label, corruption, dtype):
    embeddings = _embeddings(dtype)
    vector = embeddings[label].copy()
    big, small = (1e30, 1e-30) if dtype == np.float32 else (1e200, 1e-200)
    if corruption in ("nan", "inf", "-inf"):
        vector[1] = float(corruption)
    elif corruption == "zero":
        vector[:] = 0
    elif corruption == "ragged":
        vector = vector[:-1]
    elif corruption == "2d":
        vector = vector.reshape(2, 2)
    elif corruption == "string":
        vector = vector.astype(str)
    elif corruption == "huge":
        vector *= big
    else:
        vector = np.full(N_DIMS, small, dtype=dtype)
    embeddings[label] = vector
    match = {
        "nan": "NaN or infinite values for 'LABEL'",
        "inf": "NaN or infinite values for 'LABEL'",
        "-inf": "NaN or infinite values for 'LABEL'",
        "zero": "zero vectors for 'LABEL'",
        "ragged": r"different lengths: most have 4, but 'LABEL' \(3\)",
        "2d": "must be 1-D; not so for 'LABEL'",
        "string": "must be numeric; not so for 'LABEL'",
        "huge": "too large or too small .* the squared norm of 'LABEL'",
        "tiny": "too large or too small .* the squared norm of 'LABEL'",
    }[corruption].replace("LABEL", label)
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        _estimator(embeddings).fit(X, y)


@FEW
@given(exponent=st.integers(-150, 150))
def test_rescaling_every_vector_changes_no_prediction(exponent):
    X, y = _data()
    scaled = {k: v * 10.0**exponent for k, v in _embeddings().items()}
    estimator = _estimator(scaled, candidate_labels="all").fit(X, y)
    reference = _fitted(candidate_labels="all")
    labels, scores = estimator.predict_top_k(X, k=4)
    ref_labels, ref_scores = reference.predict_top_k(X, k=4)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("embeddings", "error", "match"),
    [
        (None, ValueError, "label_embeddings is required"),
        ({}, ValueError, "label_embeddings is empty"),
        (np.eye(4), TypeError, "must be a mapping label -> vector"),
        ([[1.0, 2.0]], TypeError, "must be a mapping label -> vector"),
        ("vectors", TypeError, "must be a mapping label -> vector"),
        (
            pd.DataFrame(np.ones((4, 2)), index=["a", "b", "c", "a"]),
            ValueError,
            "duplicated labels: 'a'",
        ),
        (
            pd.Series([np.ones(2)] * 4, index=["a", "b", "c", "b"]),
            ValueError,
            "duplicated labels: 'b'",
        ),
        (
            {"a": [1.0, 0.0], "d": [0.0, 1.0]},
            ValueError,
            r"2 seen label\(s\) have no vector in label_embeddings: 'b', 'c'",
        ),
    ],
    ids=[
        "none",
        "empty",
        "ndarray",
        "list",
        "string",
        "dup-frame",
        "dup-series",
        "missing",
    ],
)
def test_bad_label_embeddings_raise(embeddings, error, match):
    X, y = _data()
    with pytest.raises(error, match=match):
        ConSEClassifier(LogisticRegression(), embeddings).fit(X, y)


# ------------------------------------------------------ candidate_labels


@FEW
@given(
    candidates=st.lists(st.sampled_from([*SEEN, *UNSEEN, "zebra", "yak"]), max_size=6)
)
@example(candidates=[])
@example(candidates=["d", "e", "d"])
@example(candidates=["d", "zebra"])
@example(candidates=["yak", "a", "zebra"])
@example(candidates=["f", "a"])
def test_explicit_candidates_raise_or_rank_exactly_them(candidates):
    X, y = _data()
    estimator = _estimator(candidate_labels=candidates)
    if not candidates:
        with pytest.raises(ValueError, match="candidate_labels is empty"):
            estimator.fit(X, y)
    elif len(set(candidates)) < len(candidates):
        with pytest.raises(ValueError, match="candidate_labels has duplicated"):
            estimator.fit(X, y)
    elif {"zebra", "yak"} & set(candidates):
        unknown = sorted({"zebra", "yak"} & set(candidates))
        with pytest.raises(
            ValueError,
            match=rf"{len(unknown)} candidate label\(s\) have no vector in "
            f"label_embeddings: '{unknown[0]}'",
        ):
            estimator.fit(X, y)
    else:
        estimator.fit(X, y)
        assert list(estimator.classes_) == sorted(candidates)


@pytest.mark.parametrize(
    ("candidates", "error", "match"),
    [
        ({"d", "e"}, ValueError, "must be a list or 1-D array of labels, got set"),
        ([["d", "e"], ["f", "a"]], ValueError, r"1-D array of labels, got list of"),
        ([["d", "e"], ["f"]], TypeError, r"must hold labels .* got \['d', 'e'\]"),
        ([{"d": 1}], TypeError, "must hold labels .* of type dict"),
        ("d", InvalidParameterError, "'candidate_labels' parameter"),
        (None, InvalidParameterError, "'candidate_labels' parameter"),
    ],
    ids=["set", "2d", "ragged", "dict", "string", "none"],
)
def test_malformed_candidate_labels_raise(candidates, error, match):
    X, y = _data()
    with pytest.raises(error, match=match):
        _estimator(candidate_labels=candidates).fit(X, y)


@pytest.mark.parametrize("method", METHODS)
def test_no_candidate_left_fits_but_cannot_rank(method):
    X, y = _data()
    embeddings = {k: v for k, v in _embeddings().items() if k in SEEN}
    with pytest.warns(
        NoCandidateLabelsWarning, match=r"candidate_labels='all'.*with_candidates"
    ):
        estimator = _estimator(embeddings).fit(X, y)
    assert estimator.classes_.shape == (0,)
    if method == "transform":  # f(x) needs no candidate
        assert estimator.transform(X).shape == (60, N_DIMS)
        return
    with pytest.raises(ValueError, match="There are no candidate labels to rank"):
        _call(estimator, method, X)


# ------------------------------------------------------------ k


@FEW
@given(
    k=st.one_of(
        st.integers(-3, 8),
        st.floats(allow_nan=True, allow_infinity=True),
        st.just(True),
        st.just(None),
        st.text(max_size=2),
        st.integers(-3, 8).map(np.int64),
    )
)
@example(k=0)
@example(k=4)
@example(k=1.5)
@example(k=True)
@example(k="2")
@example(k=np.int64(3))
def test_k_is_an_integer_within_the_candidates(k):
    X, _ = _data()
    estimator = _fitted()
    n_cand = len(estimator.classes_)
    valid = (
        isinstance(k, (int, np.integer))
        and not isinstance(k, bool)
        and 1 <= k <= n_cand
    )
    if valid:
        labels, scores = estimator.predict_top_k(X, k)
        assert labels.shape == scores.shape == (60, k)
        assert np.all(np.diff(scores, axis=1) <= 0)
        return
    with pytest.raises(ValueError, match=r"k must be an integer between 1 and .*\(3\)"):
        estimator.predict_top_k(X, k)


# -------------------------------------------------------- parameters


@FEW
@given(
    T=st.one_of(
        st.integers(-2, 6),
        st.integers(1, 6).map(np.int64),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([None, True, False, "3", 3.0, 1.5]),
    )
)
@example(T=0)
@example(T=-1)
@example(T=1.5)
@example(T="3")
@example(T=np.int64(5))
def test_T_is_a_positive_integer_or_None(T):
    X, y = _data()
    estimator = _estimator(T=T)
    # bool is an int for scikit-learn's validation: True is T=1, False is 0.
    if T is None or (isinstance(T, (int, np.integer)) and T >= 1):
        estimator.fit(X, y)
        assert estimator.T_ == (len(SEEN) if T is None else min(int(T), len(SEEN)))
        return
    with pytest.raises(InvalidParameterError, match="The 'T' parameter"):
        estimator.fit(X, y)


def test_T_as_numpy_integer_matches_python_int():
    X, _ = _data()
    np.testing.assert_array_equal(
        _fitted(T=np.int64(2)).decision_function(X), _fitted(T=2).decision_function(X)
    )


@FEW
@given(
    penalty=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([None, "0.1", np.float32(0.5), np.nan]),
    )
)
def test_seen_penalty_is_finite_and_shifts_seen_scores(penalty):
    X, y = _data()
    estimator = _estimator(seen_penalty=penalty, candidate_labels="all")
    if not isinstance(penalty, (float, np.floating)) or not math.isfinite(penalty):
        with pytest.raises(InvalidParameterError, match="'seen_penalty' parameter"):
            estimator.fit(X, y)
        return
    estimator.fit(X, y)
    base = _fitted(candidate_labels="all").decision_function(X)
    seen = np.isin(estimator.classes_, SEEN)
    np.testing.assert_allclose(
        estimator.decision_function(X),
        base - float(penalty) * seen,
        rtol=1e-12,
        atol=1e-12,
    )
    assert np.isfinite(estimator.predict_proba(X)).all()


def test_negative_seen_penalty_favours_seen_labels():
    X, _ = _data()
    bonus = _fitted(candidate_labels="all", seen_penalty=-10.0)
    assert set(bonus.predict(X)) <= set(SEEN)


@pytest.mark.parametrize("penalty", [1e39, -1e39])
def test_seen_penalty_beyond_float32_vectors_raises(penalty):
    X, y = _data()
    estimator = _estimator(
        _embeddings(np.float32), seen_penalty=penalty, candidate_labels=SEEN
    )
    with pytest.raises(ValueError, match=r"seen_penalty=.* overflows float32"):
        estimator.fit(X, y)


@pytest.mark.parametrize(
    ("param", "value"),
    [
        # One value per parameter: each is declared in _parameter_constraints
        # (scikit-learn's validation of the values is its own to test).
        ("device", "gpu"),
        ("algorithm", "fast"),
        ("batch_size", 0),
        ("base_estimator", "lr"),
    ],
)
def test_bad_parameters_raise_naming_them(param, value):
    X, y = _data()
    with pytest.raises(InvalidParameterError, match=f"The '{param}' parameter"):
        _estimator().set_params(**{param: value}).fit(X, y)


@pytest.mark.skipif(cuda_available(), reason="a CUDA device is available")
def test_cuda_without_a_device_raises():
    X, y = _data()
    with pytest.raises(RuntimeError, match="device='cuda' was requested but CuPy"):
        _estimator(device="cuda").fit(X, y)


@FEW
@given(batch_size=st.one_of(st.integers(1, 70), st.just(True)))
def test_any_batch_size_gives_the_same_answers(batch_size):
    X, _ = _data()
    estimator = _fitted(batch_size=batch_size)
    reference = _fitted()
    np.testing.assert_allclose(
        estimator.decision_function(X), reference.decision_function(X), rtol=1e-12
    )
    np.testing.assert_array_equal(estimator.predict(X), reference.predict(X))


def test_base_estimator_none_raises():
    X, y = _data()
    with pytest.raises(ValueError, match="needs a base_estimator"):
        ConSEClassifier(None, _embeddings()).fit(X, y)


class _NoProba(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self


def test_base_estimator_without_predict_proba_raises():
    X, y = _data()
    with pytest.raises(ValueError, match=r"_NoProba.*has no predict_proba"):
        ConSEClassifier(_NoProba(), _embeddings()).fit(X, y)


def test_svc_without_probability_hints_at_probability_true():
    X, y = _data()
    with pytest.raises(ValueError, match="For SVC, set probability=True"):
        ConSEClassifier(SVC(), _embeddings()).fit(X, y)


# ------------------------------------------ a failed fit changes nothing


def test_refit_that_fails_late_leaves_the_previous_model():
    X, y = _data()
    estimator = _estimator(candidate_labels=["d", "e", "f"]).fit(X, y)
    before = estimator.decision_function(X)
    state = dict(vars(estimator))
    with pytest.raises(ValueError, match="seen_penalty=1e\\+39 overflows float32"):
        estimator.set_params(
            candidate_labels="all",
            seen_penalty=1e39,
            label_embeddings=_embeddings(np.float32),
        ).fit(X, y)
    assert set(vars(estimator)) == set(state)
    np.testing.assert_array_equal(estimator.classes_, ["d", "e", "f"])
    np.testing.assert_array_equal(estimator.decision_function(X), before)


def test_first_fit_that_fails_leaves_the_estimator_unfitted():
    X, y = _data()
    estimator = _estimator(seen_penalty=1e39, embeddings=_embeddings(np.float32))
    with pytest.raises(ValueError, match="overflows"):
        estimator.fit(X, y)
    assert not hasattr(estimator, "n_features_in_")
    with pytest.raises(NotFittedError):
        estimator.predict(X)


def test_devise_refit_that_fails_leaves_the_previous_model():
    pytest.importorskip("torch")
    from sk_conse import DeViSEClassifier

    X, y = _data()
    estimator = DeViSEClassifier(_embeddings(), max_iter=300, random_state=0)
    estimator.fit(X, y)
    before = estimator.decision_function(X)
    coef = estimator.coef_.copy()
    with pytest.raises(ValueError, match="have no vector"):
        estimator.fit(X, np.where(y == "a", "zebra", y))
    np.testing.assert_array_equal(estimator.coef_, coef)
    np.testing.assert_array_equal(estimator.decision_function(X), before)


# ------------------------------------- parameters read at prediction time


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("batch_size", -1),
        ("batch_size", 0),
        ("batch_size", 1.5),
        ("batch_size", None),
        ("verbose", "loud"),
        ("seen_penalty", np.nan),
    ],
)
@pytest.mark.parametrize("method", METHODS)
def test_predict_time_parameters_are_validated_where_used(param, value, method):
    X, y = _data()
    estimator = _estimator().fit(X, y)
    estimator.set_params(**{param: value})
    with pytest.raises(InvalidParameterError, match=f"The '{param}' parameter"):
        _call(estimator, method, X)


# ------------------------------------------- what the base estimator returns


class _Scripted(ClassifierMixin, BaseEstimator):
    """A base estimator returning ``answer(X)`` from predict_proba."""

    def __init__(self, answer=None, classes=None):
        self.answer = answer
        self.classes = classes

    def fit(self, X, y):
        self.classes_ = np.unique(y) if self.classes is None else self.classes
        return self

    def predict_proba(self, X):
        return self.answer(np.asarray(X))


def _scripted(answer, classes=None, embeddings=None, **params):
    X, y = _data()
    params.setdefault("T", 2)
    emb = _embeddings() if embeddings is None else embeddings
    return ConSEClassifier(_Scripted(answer, classes), emb, **params).fit(X, y), X


def _reference_scores(P, seen, embeddings, candidates, T):
    """The paper's per-sample ConSE, seen labels in sorted order (ties to the
    smaller sorted label)."""
    order = np.argsort(np.asarray(seen, dtype=object).astype(str), kind="stable")
    S0 = np.array([embeddings[seen[i]] for i in order], dtype=np.float64)
    S1 = np.array([embeddings[c] for c in candidates], dtype=np.float64)
    return paper_scores(np.asarray(P, dtype=np.float64)[:, order], S0, S1, T)


@pytest.mark.parametrize("n_rows", [1, 59, 61])
@pytest.mark.parametrize("method", METHODS)
def test_wrong_number_of_probability_rows_raises(n_rows, method):
    estimator, X = _scripted(lambda X: np.full((n_rows, 3), 1 / 3))
    with pytest.raises(
        ValueError,
        match=rf"_Scripted's predict_proba returned shape \({n_rows}, 3\) for a "
        r"batch of 60 rows",
    ):
        _call(estimator, method, X)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (np.full((60, 3), "x", dtype=object), "dtype object"),
        (np.full((60, 3), "0.3"), "dtype <U3"),
        (np.ones((60, 3), dtype=bool), "dtype bool"),
        (np.full((60, 3), np.nan), "negative, NaN or infinite"),
        (np.full((60, 3), -0.1), "negative, NaN or infinite"),
        (np.zeros((60, 3)), "all-zero row"),
    ],
)
def test_malformed_probability_values_raise_naming_the_base(values, match):
    estimator, X = _scripted(lambda X: values)
    with pytest.raises(ValueError, match=rf"_Scripted.*{match}"):
        estimator.predict(X)


@pytest.mark.parametrize(
    ("classes", "match"),
    [
        (np.array(["a", "a", "b"]), "duplicated labels in classes_: 'a'"),
        (np.array([["a", "b", "c"]]), r"classes_ of shape \(1, 3\)"),
    ],
)
def test_malformed_base_classes_raise_at_fit(classes, match):
    X, y = _data()
    base = _Scripted(lambda X: np.full((len(X), 3), 1 / 3), classes)
    with pytest.raises(ValueError, match=match):
        ConSEClassifier(base, _embeddings(), T=2).fit(X, y)


def test_base_classes_of_mixed_types_raise_at_fit():
    """Labels a frozen base was fitted on are not y: they are checked too."""
    from sklearn.frozen import FrozenEstimator

    X, y = _data()
    classes = np.array(["a", 7, "c"], dtype=object)
    base = _Scripted(lambda X: np.full((len(X), 3), 1 / 3), classes)
    base = FrozenEstimator(base.fit(X, y))
    embeddings = {**_embeddings(), 7: np.ones(N_DIMS)}
    with pytest.raises(TypeError, match=r"seen labels mixes .*numbers \(7\)"):
        ConSEClassifier(base, embeddings, T=2).fit(X, y)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scale", [1e308, 1e39, 1e-300])
def test_probabilities_on_any_finite_scale_give_the_reference(scale, dtype):
    rng = np.random.RandomState(0)
    P = rng.rand(60, 3) * scale
    emb = _embeddings(dtype)
    estimator, X = _scripted(lambda X: P, embeddings=emb)
    expected = _reference_scores(P, SEEN, emb, UNSEEN, 2)
    got = estimator.decision_function(X)
    assert np.isfinite(got).all()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, atol=tol)


def test_ties_follow_sorted_labels_whatever_the_base_column_order():
    # The base lists its classes as [c, a, b]; every row ties a and c at T=1:
    # the smaller sorted label, a, wins.
    emb = _embeddings()
    P = np.tile([0.4, 0.4, 0.2], (60, 1))  # columns c, a, b
    estimator, X = _scripted(
        lambda X: P, classes=np.array(["c", "a", "b"]), embeddings=emb, T=1
    )
    np.testing.assert_allclose(estimator.transform(X), np.tile(emb["a"], (60, 1)))
    sorted_base = _scripted(lambda X: P[:, [1, 2, 0]], embeddings=emb, T=1)[
        0
    ]  # the same probabilities, columns a, b, c
    np.testing.assert_array_equal(estimator.predict(X), sorted_base.predict(X))


def test_near_cancellation_above_rounding_keeps_its_direction():
    emb = {"a": [1.0, 0.0], "b": [-1.0, 1e-14], "c": [3.0, 3.0], "u": [0.0, 1.0]}
    emb["v"] = [1.0, 0.0]
    P = np.tile([0.5, 0.5, 0.0], (60, 1))
    estimator, X = _scripted(lambda X: P, embeddings=emb, candidate_labels=["u", "v"])
    # Two candidates: decision_function is score(v) - score(u) = 0 - 1.
    np.testing.assert_allclose(estimator.decision_function(X), [-1.0] * 60)
    np.testing.assert_array_equal(estimator.predict(X), ["u"] * 60)


def test_exact_cancellation_has_no_direction():
    emb = {"a": [1.0, 0.0], "b": [-1.0, 0.0], "c": [3.0, 3.0], "u": [0.0, 1.0]}
    emb["v"] = [1.0, 0.0]
    P = np.tile([0.5, 0.5, 0.0], (60, 1))
    estimator, X = _scripted(lambda X: P, embeddings=emb, candidate_labels=["u", "v"])
    np.testing.assert_array_equal(estimator.predict_proba(X), np.full((60, 2), 0.5))
    np.testing.assert_array_equal(estimator.decision_function(X), np.zeros(60))


malformed_outputs = st.one_of(
    st.tuples(st.just("rows"), st.sampled_from([0, 1, 59, 61, 120])),
    st.tuples(st.just("dtype"), st.sampled_from([object, "U4", bool, complex])),
    st.tuples(st.just("value"), st.sampled_from([np.nan, np.inf, -np.inf, -1.0])),
    st.tuples(st.just("scale"), st.sampled_from([1e-300, 1e-40, 1e39, 1e300])),
    st.tuples(st.just("zero_row"), st.integers(0, 59)),
    st.tuples(st.just("classes"), st.sampled_from(["dup", "2d", "unsorted"])),
)


@FEW
@given(case=malformed_outputs, seed=st.integers(0, 99), T=st.integers(1, 3))
def test_malformed_base_outputs_give_the_reference_or_a_clear_error(case, seed, T):
    kind, arg = case
    rng = np.random.RandomState(seed)
    P = rng.rand(60, 3) + 0.01
    classes = None
    expected_error = None
    if kind == "rows":
        P = P[:1].repeat(arg, axis=0) if arg else P[:0]
        expected_error = "returned shape"
    elif kind == "dtype":
        P = P.astype(arg)
        expected_error = "dtype"
    elif kind == "value":
        P[rng.randint(60), rng.randint(3)] = arg
        expected_error = "negative, NaN or infinite"
    elif kind == "scale":
        P = P * arg
    elif kind == "zero_row":
        P[arg] = 0
        expected_error = "all-zero row"
    elif arg == "dup":
        classes = np.array(["a", "b", "b"])
        expected_error = "duplicated labels"
    elif arg == "2d":
        classes = np.array([SEEN])
        expected_error = "classes_ of shape"
    else:
        classes = np.array(["b", "c", "a"])
    emb = _embeddings()
    if expected_error is not None:
        X, y = _data()
        estimator = ConSEClassifier(_Scripted(lambda X: P, classes), emb, T=T)
        with pytest.raises(ValueError, match=expected_error):
            estimator.fit(X, y).decision_function(X)
        return
    estimator, X = _scripted(lambda X: P, classes=classes, embeddings=emb, T=T)
    seen = SEEN if classes is None else list(classes)
    expected = _reference_scores(P, seen, emb, UNSEEN, T)
    np.testing.assert_allclose(estimator.decision_function(X), expected, atol=1e-12)


# ------------------------------------------------------------------ DeViSE


def test_devise_huge_finite_X_gives_finite_scores_equal_to_scaled_X():
    pytest.importorskip("torch")
    from sk_conse import DeViSEClassifier

    X, y = _data()
    estimator = DeViSEClassifier(
        _embeddings(), max_iter=300, fit_intercept=False, random_state=0
    ).fit(X, y)
    huge = estimator.decision_function(X * 1e39)
    assert np.isfinite(huge).all()
    np.testing.assert_allclose(huge, estimator.decision_function(X), atol=1e-5)
    np.testing.assert_array_equal(estimator.predict(X * 1e39), estimator.predict(X))


def test_devise_overflowing_projection_raises():
    pytest.importorskip("torch")
    from sk_conse import DeViSEClassifier

    X, y = _data()
    estimator = DeViSEClassifier(_embeddings(), max_iter=300, random_state=0)
    estimator.fit(X, y)
    estimator.coef_ = np.ones_like(estimator.coef_)  # M x = sum of features
    X = np.full((4, N_FEATURES), 1e308)  # whose sum overflows float64
    with pytest.raises(ValueError, match="projection M x \\+ b overflows for rows"):
        estimator.predict(X)


def test_seen_penalty_set_after_fit_applies_at_predict():
    X, y = _data()
    estimator = _estimator(candidate_labels="all").fit(X, y)
    before = estimator.decision_function(X)
    estimator.set_params(seen_penalty=0.5)
    after = estimator.decision_function(X)
    seen = np.isin(estimator.classes_, SEEN)
    np.testing.assert_allclose(after[:, seen], before[:, seen] - 0.5, atol=1e-12)
    # Unseen scores do not move (the entries re-scored exactly near each
    # row's best differ from the BLAS ones by rounding only).
    np.testing.assert_allclose(after[:, ~seen], before[:, ~seen], rtol=0, atol=1e-12)
    estimator.set_params(seen_penalty=0.0)
    np.testing.assert_array_equal(estimator.decision_function(X), before)
