"""Tests for sk_conse.model_selection: class-disjoint cross-validation."""

import numpy as np
import pytest
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    cross_val_score,
    cross_validate,
)
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_conse import ConSEClassifier
from sk_conse.exceptions import NoCandidateLabelsWarning
from sk_conse.metrics import make_hierarchical_precision_scorer, make_hit_at_k_scorer
from sk_conse.model_selection import ClassDisjointKFold

N_LABELS = 12
LABELS = [f"c{i:02d}" for i in range(N_LABELS)]


@pytest.fixture(scope="module")
def zero_shot_data():
    """Blobs whose centres are (twice) their label vectors, 10 samples each.

    A classifier trained on some labels then ranks the others by how close
    their vectors are to those of the labels it recognises: zero-shot
    transfer works better than chance.
    """
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(N_LABELS, 6))
    codes = np.repeat(np.arange(N_LABELS), 10)
    X = 2 * vectors[codes] + rng.normal(size=(codes.size, 6))
    y = np.array(LABELS)[codes]
    return X, y, dict(zip(LABELS, vectors))


def test_folds_are_class_disjoint_and_cover_every_sample():
    y = np.repeat(["a", "b", "c", "d", "e", "f", "g"], [5, 1, 3, 8, 2, 2, 4])
    X = np.zeros((y.size, 1))
    seen = np.zeros(y.size, dtype=int)
    for train, test in ClassDisjointKFold(3).split(X, y):
        assert set(y[train]).isdisjoint(y[test])
        assert np.union1d(train, test).size == y.size
        seen[test] += 1
    np.testing.assert_array_equal(seen, 1)


@pytest.mark.parametrize(
    ("shuffle", "random_state"), [(False, None), (True, 0), (True, 42)]
)
def test_same_folds_as_group_k_fold_with_groups_y(shuffle, random_state):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 9, size=60)
    X = rng.normal(size=(60, 2))
    ours = ClassDisjointKFold(4, shuffle=shuffle, random_state=random_state)
    theirs = GroupKFold(4, shuffle=shuffle, random_state=random_state)
    for (a_train, a_test), (b_train, b_test) in zip(
        ours.split(X, y), theirs.split(X, y, groups=y), strict=True
    ):
        np.testing.assert_array_equal(a_train, b_train)
        np.testing.assert_array_equal(a_test, b_test)


def test_groups_are_ignored():
    y = np.repeat([0, 1, 2], 2)
    X = np.zeros((6, 1))
    cv = ClassDisjointKFold(3)
    with_groups = list(cv.split(X, y, groups=np.arange(6)))
    for (a_train, a_test), (b_train, b_test) in zip(
        cv.split(X, y), with_groups, strict=True
    ):
        np.testing.assert_array_equal(a_train, b_train)
        np.testing.assert_array_equal(a_test, b_test)


def test_get_n_splits_and_repr():
    cv = ClassDisjointKFold(3, shuffle=True, random_state=0)
    assert cv.get_n_splits() == 3
    assert repr(cv) == "ClassDisjointKFold(n_splits=3, random_state=0, shuffle=True)"
    assert ClassDisjointKFold().get_n_splits() == 5


@pytest.mark.parametrize(
    ("params", "y", "error", "match"),
    [
        ({"n_splits": 3}, None, ValueError, "needs y: the classes define the folds"),
        ({"n_splits": 4}, [0, 0, 1, 1, 2, 2], ValueError, "Cannot split 3 classes"),
        (
            {"n_splits": 1},
            [0, 1, 2, 3, 4, 5],
            ValueError,
            "n_splits must be at least 2",
        ),
        ({"n_splits": 2.0}, [0, 1, 2, 3, 4, 5], TypeError, "n_splits must be an int"),
        (
            {"n_splits": 2, "random_state": 0},
            [0, 1, 2, 3, 4, 5],
            ValueError,
            "random_state has no effect since shuffle is False",
        ),
        ({"n_splits": 2, "shuffle": "yes"}, [0, 1, 2, 3, 4, 5], TypeError, "shuffle"),
        ({"n_splits": 2}, [[0], [1], [2], [3], [4], [5]], ValueError, "1-D array"),
        ({"n_splits": 2}, [0, 1, 2], ValueError, r"different numbers of samples: 6"),
        # A training fold of one class: before, the error came from the fit.
        (
            {"n_splits": 2},
            [0, 0, 0, 1, 1, 1],
            ValueError,
            r"needs at least 3 classes, y holds 2 \(0, 1\).*Give y more classes",
        ),
        (
            {"n_splits": 2},
            [0, 0, 1, 1, 2, 2],
            ValueError,
            r"n_splits=2\) would train fold 0 on one class only \(1\): its test "
            r"fold takes the other 2 of the 3 classes.*Use n_splits=3 or more "
            r"\(at most 3\)",
        ),
        (
            {"n_splits": 2},
            [0, 0, 0, 1, 2, 3],
            ValueError,
            r"would train fold 1 on one class only \(0\).*n_splits=3 or more",
        ),
    ],
)
def test_errors(params, y, error, match):
    X = np.zeros((6, 1))
    with pytest.raises(error, match=match):
        next(ClassDisjointKFold(**params).split(X, y))


def test_a_closed_set_classifier_cannot_be_scored_on_unseen_classes(zero_shot_data):
    X, y, _ = zero_shot_data
    with pytest.raises(ValueError, match="not in the estimator's classes_"):
        cross_val_score(
            GaussianNB(),
            X,
            y,
            cv=ClassDisjointKFold(3),
            scoring=make_hit_at_k_scorer(1),
            error_score="raise",
        )


def test_conse_zero_shot_beats_chance(zero_shot_data):
    X, y, vectors = zero_shot_data
    scores = cross_val_score(
        ConSEClassifier(GaussianNB(), vectors, T=2),
        X,
        y,
        cv=ClassDisjointKFold(3),
        scoring=make_hit_at_k_scorer(1),
    )
    # each test fold ranks its 4 unseen classes: chance is 1/4
    assert scores.mean() > 0.35


def test_grid_search_picks_t(zero_shot_data):
    X, y, vectors = zero_shot_data
    search = GridSearchCV(
        ConSEClassifier(GaussianNB(), vectors),
        {"T": [1, 2, 5]},
        cv=ClassDisjointKFold(3),
        scoring=make_hit_at_k_scorer(1),
    )
    # The refit on every class leaves no unseen label: it warns, naming the fix.
    with pytest.warns(NoCandidateLabelsWarning, match="with_candidates"):
        search.fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_score_ > 0.35


def test_grid_search_over_a_pipeline(zero_shot_data):
    X, y, vectors = zero_shot_data
    pipe = make_pipeline(StandardScaler(), ConSEClassifier(GaussianNB(), vectors))
    search = GridSearchCV(
        pipe,
        {"conseclassifier__T": [1, 2, 5]},
        cv=ClassDisjointKFold(3),
        scoring=make_hit_at_k_scorer(1),
    )
    with pytest.warns(NoCandidateLabelsWarning, match="with_candidates"):
        search.fit(X, y)
    assert search.best_score_ > 0.35


def test_multi_metric_scoring_with_the_hierarchy(zero_shot_data):
    X, y, vectors = zero_shot_data
    hierarchy = {label: f"group{i % 3}" for i, label in enumerate(LABELS)}
    results = cross_validate(
        ConSEClassifier(GaussianNB(), vectors, T=2),
        X,
        y,
        cv=ClassDisjointKFold(3, shuffle=True, random_state=0),
        scoring={
            "hit@1": make_hit_at_k_scorer(1),
            "hit@2": make_hit_at_k_scorer(2),
            "hp@1": make_hierarchical_precision_scorer(1, hierarchy),
            "hp@2": make_hierarchical_precision_scorer(2, hierarchy),
        },
    )
    np.testing.assert_array_equal(results["test_hit@1"], results["test_hp@1"])
    assert np.all(results["test_hit@1"] <= results["test_hit@2"])
    # a true label among the 2 best is at least half of the 2 correct
    assert np.all(results["test_hp@2"] >= results["test_hit@2"] / 2)


def test_a_one_class_training_fold_fails_before_any_fit():
    # The user guide's temperature recipe on 3 seen classes and 2 folds used
    # to die inside scikit-learn ("needs samples of at least 2 classes").
    class NeverFitted(GaussianNB):
        def fit(self, X, y):
            raise AssertionError("no fit expected")

    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b", "c"], 5)
    X = rng.normal(size=(15, 2))
    vectors = {label: rng.normal(size=3) for label in "abc"}
    search = GridSearchCV(
        ConSEClassifier(NeverFitted(), vectors),
        {"T": [1, 2]},
        cv=ClassDisjointKFold(n_splits=2),
        scoring=make_hit_at_k_scorer(1),
    )
    with pytest.raises(ValueError, match=r"one class only.*Use n_splits=3 or more"):
        search.fit(X, y)


@pytest.mark.parametrize("n_classes", [3, 4, 5, 7, 12])
@pytest.mark.parametrize("n_splits", [3, 4, 5])
def test_three_splits_or_more_train_on_two_classes_or_more(n_classes, n_splits):
    if n_splits > n_classes:
        pytest.skip("more folds than classes")
    rng = np.random.default_rng(n_classes)
    y = np.repeat(np.arange(n_classes), rng.integers(1, 20, size=n_classes))
    X = np.zeros((y.size, 1))
    for train, _ in ClassDisjointKFold(n_splits).split(X, y):
        assert np.unique(y[train]).size >= 2
