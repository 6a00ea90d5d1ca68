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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils._param_validation import InvalidParameterError

from sk_conse import ConSEClassifier
from sk_conse._backend import cuda_available

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
    assert set(estimator.predict(X)) <= set(estimator.classes_)


# ---------------------------------------------------------------- X


@FEW
@given(
    X=arrays(np.float64, (5, N_FEATURES), elements=st.floats(-10, 10)),
    value=st.sampled_from([np.nan, np.inf, -np.inf]),
    where=st.tuples(st.integers(0, 4), st.integers(0, N_FEATURES - 1)),
    method=st.sampled_from(METHODS),
)
def test_nonfinite_X_at_predict_is_the_base_estimators_error(X, value, where, method):
    X[where] = value
    with pytest.raises(ValueError, match=r"Input X contains (NaN|infinity)"):
        _call(_fitted(), method, X)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nonfinite_X_at_fit_is_the_base_estimators_error(value):
    X, y = _data()
    X[7, 2] = value
    with pytest.raises(ValueError, match=r"Input X contains (NaN|infinity)"):
        _estimator().fit(X, y)


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


# ------------------------------------------------------ label_embeddings


@FEW
@given(
    label=st.sampled_from(SEEN + UNSEEN),
    corruption=st.sampled_from(
        ["nan", "inf", "-inf", "zero", "ragged", "2d", "string", "huge", "tiny"]
    ),
    dtype=st.sampled_from([np.float32, np.float64]),
)
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
        ({"a": [1.0, 0.0], "b": [0.0, 1.0]}, ValueError, "seen label.* 'c'"),
    ],
    ids=["none", "empty", "ndarray", "list", "dup-frame", "dup-series", "missing"],
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
def test_explicit_candidates_raise_or_rank_exactly_them(candidates):
    X, y = _data()
    estimator = _estimator(candidate_labels=candidates)
    if not candidates:
        with pytest.raises(ValueError, match="candidate_labels is an empty list"):
            estimator.fit(X, y)
    elif len(set(candidates)) < len(candidates):
        with pytest.raises(ValueError, match="candidate_labels has duplicated"):
            estimator.fit(X, y)
    elif {"zebra", "yak"} & set(candidates):
        unknown = sorted({"zebra", "yak"} & set(candidates))
        with pytest.raises(
            ValueError, match=f"no vector in label_embeddings: '{unknown[0]}'"
        ):
            estimator.fit(X, y)
    else:
        estimator.fit(X, y)
        assert list(estimator.classes_) == sorted(candidates)
        assert set(estimator.predict(X)) <= set(candidates)


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


def test_no_unseen_label_left_raises_at_predict():
    X, y = _data()
    embeddings = {k: v for k, v in _embeddings().items() if k in SEEN}
    estimator = _estimator(embeddings).fit(X, y)
    assert estimator.transform(X).shape == (60, N_DIMS)  # f(x) needs no candidate
    with pytest.raises(ValueError, match="There are no candidate labels to rank"):
        estimator.predict(X)


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
        ("device", "gpu"),
        ("device", "CPU"),
        ("device", ""),
        ("device", None),
        ("device", 0),
        ("algorithm", "fast"),
        ("algorithm", "Direct"),
        ("algorithm", None),
        ("batch_size", 0),
        ("batch_size", -1),
        ("batch_size", 1.5),
        ("batch_size", "8"),
        ("batch_size", None),
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
    with pytest.raises(RuntimeError, match="device='cuda' was requested"):
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


def test_base_estimator_without_predict_proba_raises():
    from sklearn.svm import SVC

    X, y = _data()
    with pytest.raises(ValueError, match="For SVC, set probability=True"):
        ConSEClassifier(SVC(), _embeddings()).fit(X, y)
