"""Tests for sk_conse.metrics: hit@k, hierarchical precision@k, scorers."""

import itertools
import pickle
import warnings

import networkx as nx
import numpy as np
import pytest
import sklearn
from _shared import make_zero_shot_problem
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import top_k_accuracy_score
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sk_conse import ConSEClassifier, _metrics, metrics
from sk_conse.exceptions import SeenLabelsScoredWarning, TrivialScoreWarning
from sk_conse.hierarchy import Hierarchy
from sk_conse.metrics import (
    hierarchical_precision_at_k_score,
    hit_at_k_score,
    make_hierarchical_precision_scorer,
    make_hit_at_k_scorer,
    make_proba_scorer,
)
from sk_conse.model_selection import ClassDisjointKFold

# ---------------------------------------------------------------------------
# A small hierarchy, edges parent -> child. Internal nodes (entity, animal,
# canine, feline, vehicle) are not candidates; "ufo" is cut off from the rest.
#
#   entity -> animal -> canine -> dog, wolf, fox
#                    -> feline -> cat, lion
#                    -> sparrow
#          -> vehicle -> car, truck
# ---------------------------------------------------------------------------
EDGES = [
    ("entity", "animal"),
    ("entity", "vehicle"),
    ("animal", "canine"),
    ("animal", "feline"),
    ("animal", "sparrow"),
    ("canine", "dog"),
    ("canine", "wolf"),
    ("canine", "fox"),
    ("feline", "cat"),
    ("feline", "lion"),
    ("vehicle", "car"),
    ("vehicle", "truck"),
]
LABELS = ["car", "cat", "dog", "fox", "lion", "sparrow", "truck", "ufo", "wolf"]


@pytest.fixture
def graph():
    g = nx.DiGraph(EDGES)
    g.add_node("ufo")
    return g


def hit_allowing_trivial(*args, **kwargs):
    """hit_at_k_score, silencing the warning for k >= n_labels."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrivialScoreWarning)
        return hit_at_k_score(*args, **kwargs)


def scores_ranking(order, labels=LABELS):
    """A score row that ranks ``order`` first (in that order), others after."""
    row = np.zeros(len(labels))
    for rank, label in enumerate(order):
        row[labels.index(label)] = len(order) - rank
    return row


# ---------------------------------------------------------------------------
# hit@k
# ---------------------------------------------------------------------------


def test_hit_at_k_hand_computed():
    y_score = [[0.5, 0.3, 0.2], [0.6, 0.1, 0.3], [0.1, 0.3, 0.6]]
    labels = ["cat", "cow", "dog"]
    y_true = ["cat", "dog", "cat"]
    assert hit_at_k_score(y_true, y_score, k=1, labels=labels) == pytest.approx(1 / 3)
    assert hit_at_k_score(y_true, y_score, k=2, labels=labels) == pytest.approx(2 / 3)
    with pytest.warns(TrivialScoreWarning, match="hit@3 is 1 whatever the scores"):
        assert hit_at_k_score(y_true, y_score, k=3, labels=labels) == 1.0


def test_hit_at_k_y_true_holds_some_labels_and_labels_unsorted():
    # columns: dog, ant, cat; only "cat" occurs in y_true
    y_score = [[0.1, 0.2, 0.7], [0.5, 0.4, 0.1]]
    assert hit_at_k_score(["cat", "cat"], y_score, labels=["dog", "ant", "cat"]) == 0.5


def test_hit_at_k_labels_none_uses_unique_y_true():
    y_score = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]
    assert hit_at_k_score([0, 1, 1], y_score) == pytest.approx(2 / 3)


def test_hit_at_k_ties_go_to_the_smaller_index():
    y_score = [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]]
    assert hit_at_k_score([0, 1], y_score, k=1, labels=[0, 1, 2]) == 0.5


def test_hit_at_k_matches_sklearn_top_k_accuracy_without_ties():
    rng = np.random.default_rng(0)
    y_score = rng.random((50, 6))
    y_true = rng.integers(0, 6, size=50)
    labels = np.arange(6)
    for k in (1, 2, 4):
        expected = top_k_accuracy_score(y_true, y_score, k=k, labels=labels)
        assert hit_at_k_score(y_true, y_score, k=k, labels=labels) == expected


def test_hit_at_k_sample_weight():
    y_score = [[0.9, 0.1], [0.9, 0.1]]
    score = hit_at_k_score([0, 1], y_score, labels=[0, 1], sample_weight=[3, 1])
    assert score == 0.75


def test_hit_at_k_clips_k_to_the_number_of_labels():
    y_score = [[0.9, 0.1], [0.9, 0.1]]
    with pytest.warns(TrivialScoreWarning):
        assert hit_at_k_score([0, 1], y_score, k=5) == 1.0


@pytest.mark.parametrize(("n_labels", "k"), [(1, 1), (2, 2), (2, 5), (4, 4)])
def test_hit_at_k_warns_when_it_is_trivially_one(n_labels, k):
    # Before: a 2-label fold scored hit@2 = 1.0 silently.
    y_score = np.random.default_rng(0).random((3, n_labels))
    labels = [f"l{i}" for i in range(n_labels)]
    with pytest.warns(TrivialScoreWarning) as record:
        assert hit_at_k_score(["l0"] * 3, y_score, k=k, labels=labels) == 1.0
    message = str(record[0].message)
    assert f"hit@{k} is 1 whatever the scores" in message
    assert f"y_score has {n_labels} column(s), no more than k={k}" in message
    assert f"Use k < {n_labels}" in message
    assert record[0].filename == __file__  # points at the caller


def test_hit_at_k_does_not_warn_with_more_labels_than_k():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hit_at_k_score(
            [0, 1], [[0.9, 0.1, 0.0], [0.9, 0.1, 0.0]], k=2, labels=[0, 1, 2]
        )


@pytest.mark.parametrize(
    "metric",
    [
        lambda y, s: hit_at_k_score(y, s, labels=[0, 1]),
        lambda y, s: hierarchical_precision_at_k_score(
            y, s, k=1, hierarchy={0: None, 1: None}, labels=[0, 1]
        ),
        lambda y, s: metrics.expected_calibration_error(y, s, labels=[0, 1]),
    ],
    ids=["hit", "hierarchical", "ece"],
)
@pytest.mark.parametrize(
    "y_score",
    [
        np.array([[0.75 + 1j, 0.25], [0.5, 0.5]]),
        np.array([[0.75 + 0j, 0.25], [0.5, 0.5]]),  # a zero imaginary part too
        np.array([[0.75 + 1j, 0.25], [0.5, 0.5]], dtype=object),
        [[0.75 + 1j, 0.25], [0.5, 0.5]],
    ],
    ids=["complex128", "real-valued-complex", "object", "list"],
)
def test_complex_scores_are_refused(metric, y_score):
    # Before: cast to float, the imaginary part dropped with a ComplexWarning.
    with pytest.raises(ValueError, match=r"must hold real numbers, got"):
        metric([0, 1], y_score)


def test_hit_at_k_allows_infinite_scores():
    y_score = [[-np.inf, 0.0, np.inf]]
    assert hit_at_k_score([2], y_score, labels=[0, 1, 2]) == 1.0
    assert hit_at_k_score([0], y_score, k=2, labels=[0, 1, 2]) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"k": 0}, InvalidParameterError, r"^k must be an integer >= 1, got 0\.$"),
        (
            {"y_score": [[0.1, 0.9]]},
            ValueError,
            "different numbers of samples: 2 != 1",
        ),
        ({"y_score": [0.1, 0.9]}, ValueError, "must be a 2-D array"),
        ({"y_score": [["a", "b"], ["c", "d"]]}, ValueError, "could not be converted"),
        (
            {"y_score": [[0.1, np.nan], [0.2, 0.8]]},
            ValueError,
            "NaN in 1 of 2 rows",
        ),
        ({"y_true": [[0], [1]]}, ValueError, "y_true must be a 1-D array"),
        (
            {"labels": ["a", "b", "c"]},
            ValueError,
            "labels has 3 entries but y_score has 2 columns",
        ),
        (
            {"labels": [0, 2]},
            ValueError,
            r"y_true contains 1 label\(s\) not in labels: 1\.",
        ),
        ({"labels": [0, 0]}, ValueError, r"labels must be unique; repeated: 0\."),
        (
            {"y_true": [0, 1], "y_score": [[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]]},
            ValueError,
            "y_true holds 2 distinct labels but y_score has 3 columns",
        ),
        ({"sample_weight": [1.0]}, ValueError, r"sample_weight must have shape"),
        ({"sample_weight": [-1.0, 2.0]}, ValueError, "non-negative"),
        ({"sample_weight": [0.0, 0.0]}, ValueError, "sums to zero"),
    ],
)
def test_hit_at_k_errors(kwargs, error, match):
    params = {"y_true": [0, 1], "y_score": [[0.1, 0.9], [0.8, 0.2]], **kwargs}
    y_true = params.pop("y_true")
    y_score = params.pop("y_score")
    with pytest.raises(error, match=match):
        hit_at_k_score(y_true, y_score, **params)


def test_hit_at_k_error_names_missing_labels():
    with pytest.raises(ValueError, match=r"2 label\(s\) not in labels: 'emu', 'yak'"):
        hit_at_k_score(["emu", "cat", "yak"], np.eye(3)[:, :2], labels=["cat", "dog"])


def test_hit_at_k_empty_y_true():
    with pytest.raises(ValueError, match="y_true is empty"):
        hit_at_k_score([], np.zeros((0, 2)), labels=[0, 1])


# ---------------------------------------------------------------------------
# top-k selection
# ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    y_score=arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 7)),
        elements=st.sampled_from([-np.inf, -1.0, 0.0, 0.5, 1.0, np.inf]),
    ),
    k=st.integers(1, 8),
)
def test_top_k_indices_is_a_stable_sort_of_minus_scores(y_score, k):
    expected = np.argsort(-y_score, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(_metrics._top_k_columns(y_score, k), expected)


def test_top_k_indices_in_chunks(monkeypatch):
    monkeypatch.setattr(_metrics, "_CHUNK_ELEMENTS", 10)
    rng = np.random.default_rng(1)
    y_score = rng.integers(0, 3, size=(23, 5)).astype(float)
    expected = np.argsort(-y_score, axis=1, kind="stable")[:, :2]
    np.testing.assert_array_equal(_metrics._top_k_columns(y_score, 2), expected)


# ---------------------------------------------------------------------------
# hierarchical precision@k
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "k", "expected"),
    [
        ("dog", 1, {"dog"}),
        # hop 1 is canine (not a candidate); hop 2 adds wolf and fox together
        ("dog", 2, {"dog", "wolf", "fox"}),
        ("dog", 3, {"dog", "wolf", "fox"}),
        ("dog", 4, {"dog", "wolf", "fox", "sparrow"}),
        ("dog", 5, {"dog", "wolf", "fox", "sparrow", "cat", "lion"}),
        ("dog", 7, set(LABELS) - {"ufo"}),
        # more than every reachable label: the set stops growing
        ("dog", 9, set(LABELS) - {"ufo"}),
        ("sparrow", 2, {"sparrow", "dog", "wolf", "fox", "cat", "lion"}),
        ("car", 2, {"car", "truck"}),
        ("ufo", 3, {"ufo"}),
    ],
)
def test_correct_sets(graph, label, k, expected):
    assert Hierarchy(graph).correct_set(label, k, set(LABELS)) == expected


def test_hierarchical_precision_hand_computed(graph):
    y_true = ["dog", "dog", "car", "ufo"]
    y_score = [
        scores_ranking(["wolf", "cat", "dog"]),  # 2 of {dog, wolf, fox}
        scores_ranking(["fox", "wolf", "dog"]),  # 3 of 3
        scores_ranking(["truck", "lion", "cat"]),  # 1 of {car, truck}
        scores_ranking(["ufo", "car", "dog"]),  # 1 of {ufo}
    ]
    score = hierarchical_precision_at_k_score(
        y_true, y_score, k=3, hierarchy=graph, labels=LABELS
    )
    assert score == pytest.approx((2 / 3 + 1 + 1 / 3 + 1 / 3) / 4)


def test_hierarchical_precision_k_larger_than_reachable_set(graph):
    # "ufo" is alone: its correct set stays {ufo}, so at best 1/k
    y_score = [scores_ranking(["ufo", "car"])]
    score = hierarchical_precision_at_k_score(
        ["ufo"], y_score, k=2, hierarchy=graph, labels=LABELS
    )
    assert score == 0.5


def test_hierarchical_precision_only_counts_candidates(graph):
    # with fewer candidates, dog's 2 nearest candidates are 4 hops away
    labels = ["car", "cat", "dog", "lion"]
    y_score = [[0.0, 0.9, 0.8, 0.7]]  # cat, dog, lion
    score = hierarchical_precision_at_k_score(
        ["dog"], y_score, k=2, hierarchy=graph, labels=labels
    )
    assert score == 1.0  # correct set {dog, cat, lion}


def test_hierarchical_precision_mapping_and_graph_forms_agree(graph):
    rng = np.random.default_rng(0)
    y_true = rng.choice(LABELS, size=30)
    y_score = rng.random((30, len(LABELS)))
    mapping = {}
    for parent, child in EDGES:
        mapping.setdefault(child, []).append(parent)
    mapping["ufo"] = []
    for k in (1, 2, 3, 5):
        expected = hierarchical_precision_at_k_score(
            y_true, y_score, k=k, hierarchy=graph, labels=LABELS
        )
        for hierarchy in (mapping, graph.to_undirected()):
            assert expected == hierarchical_precision_at_k_score(
                y_true, y_score, k=k, hierarchy=hierarchy, labels=LABELS
            )


def test_hierarchy_mapping_accepts_a_single_parent():
    hierarchy = {"dog": "canine", "wolf": "canine", "cat": ["feline"]}
    score = hierarchical_precision_at_k_score(
        ["dog"],
        [[0.1, 0.5, 0.9]],
        k=2,
        hierarchy=hierarchy,
        labels=["cat", "dog", "wolf"],
    )
    assert score == 1.0


def test_hierarchical_precision_at_1_is_hit_at_1(graph):
    rng = np.random.default_rng(3)
    y_true = rng.choice(LABELS, size=40)
    y_score = rng.integers(0, 3, size=(40, len(LABELS))).astype(float)  # ties
    hp = hierarchical_precision_at_k_score(
        y_true, y_score, k=1, hierarchy=graph, labels=LABELS
    )
    assert hp == hit_at_k_score(y_true, y_score, k=1, labels=LABELS)


def test_hierarchical_precision_sample_weight(graph):
    y_score = [scores_ranking(["dog"]), scores_ranking(["cat"])]
    score = hierarchical_precision_at_k_score(
        ["dog", "dog"],
        y_score,
        k=1,
        hierarchy=graph,
        labels=LABELS,
        sample_weight=[1, 3],
    )
    assert score == 0.25


def test_hierarchical_precision_searches_once_per_distinct_label(graph, monkeypatch):
    calls = []
    original = Hierarchy.correct_set

    def counting(self, label, *args):
        calls.append(label)
        return original(self, label, *args)

    monkeypatch.setattr(Hierarchy, "correct_set", counting)
    rng = np.random.default_rng(0)
    y_true = rng.choice(["dog", "car", "ufo"], size=3000)
    hierarchical_precision_at_k_score(
        y_true, rng.random((3000, len(LABELS))), k=3, hierarchy=graph, labels=LABELS
    )
    assert sorted(calls) == ["car", "dog", "ufo"]


def test_hierarchical_precision_label_missing_from_hierarchy(graph):
    labels = [*LABELS, "zebra"]
    with pytest.raises(ValueError, match=r"not nodes of the hierarchy: 'zebra'"):
        hierarchical_precision_at_k_score(
            ["dog"], np.ones((1, len(labels))), k=2, hierarchy=graph, labels=labels
        )


def test_hierarchical_precision_bad_hierarchy_type():
    with pytest.raises(TypeError, match="hierarchy must be a networkx graph"):
        hierarchical_precision_at_k_score(
            [0], [[1.0, 0.0]], k=1, hierarchy=[(0, 1)], labels=[0, 1]
        )


def test_hierarchical_precision_needs_k(graph):
    with pytest.raises(InvalidParameterError, match=r"^k must be an integer >= 1"):
        hierarchical_precision_at_k_score(
            ["dog"], np.ones((1, len(LABELS))), k=0, hierarchy=graph, labels=LABELS
        )


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@st.composite
def ranking_problems(draw):
    n_labels = draw(st.integers(1, 6))
    n_samples = draw(st.integers(1, 8))
    y_score = draw(
        arrays(
            np.float64,
            (n_samples, n_labels),
            elements=st.sampled_from([0.0, 0.25, 0.5, 1.0]),
        )
    )
    y_true = np.array(
        draw(
            st.lists(
                st.integers(0, n_labels - 1), min_size=n_samples, max_size=n_samples
            )
        )
    )
    # each label hangs under one of 3 internal nodes, themselves under a root
    parents = draw(st.lists(st.integers(0, 2), min_size=n_labels, max_size=n_labels))
    hierarchy = {label: [f"group{p}"] for label, p in enumerate(parents)}
    hierarchy.update({f"group{p}": ["root"] for p in range(3)})
    return y_true, y_score, np.arange(n_labels), hierarchy


@settings(max_examples=60, deadline=None)
@given(problem=ranking_problems())
def test_hit_at_k_is_non_decreasing_in_k_and_reaches_one(problem):
    y_true, y_score, labels, _ = problem
    scores = [
        hit_allowing_trivial(y_true, y_score, k=k, labels=labels)
        for k in range(1, len(labels) + 1)
    ]
    assert all(a <= b for a, b in itertools.pairwise(scores))
    assert scores[-1] == 1.0


@settings(max_examples=60, deadline=None)
@given(problem=ranking_problems(), k=st.integers(1, 7))
def test_hierarchical_precision_is_never_below_hit_over_k(problem, k):
    y_true, y_score, labels, hierarchy = problem
    score = hierarchical_precision_at_k_score(
        y_true, y_score, k=k, hierarchy=hierarchy, labels=labels
    )
    # the true label is always correct
    assert score >= hit_allowing_trivial(y_true, y_score, k=k, labels=labels) / min(
        k, len(labels)
    )


@settings(max_examples=60, deadline=None)
@given(problem=ranking_problems())
def test_hierarchical_precision_at_1_equals_hit_at_1(problem):
    y_true, y_score, labels, hierarchy = problem
    assert hierarchical_precision_at_k_score(
        y_true, y_score, k=1, hierarchy=hierarchy, labels=labels
    ) == hit_allowing_trivial(y_true, y_score, k=1, labels=labels)


# ---------------------------------------------------------------------------
# Scorers
# ---------------------------------------------------------------------------


class TopKOnly:
    """A fitted stand-in for ConSEClassifier: classes_ and predict_top_k only.

    Scores label j of sample x by -|x[0] - j|; ties to the smaller index.
    """

    def __init__(self, classes):
        self.classes_ = np.asarray(classes)
        self.calls = []

    def fit(self, X, y):
        return self

    def scores(self, X):
        X = np.asarray(X, dtype=float)
        return -np.abs(X[:, :1] - np.arange(len(self.classes_)))

    def predict_top_k(self, X, k):
        self.calls.append(k)
        order = np.argsort(-self.scores(X), axis=1, kind="stable")[:, :k]
        return self.classes_[order], np.take_along_axis(self.scores(X), order, axis=1)


@pytest.fixture
def blobs():
    four_blobs = {"n_informative": 4, "n_classes": 4, "n_clusters_per_class": 1}
    X, y = make_classification(120, 6, **four_blobs, random_state=0)
    return X, np.array(["car", "cat", "dog", "wolf"])[y]


def test_scorer_repr(graph):
    assert repr(make_hit_at_k_scorer(5)) == "make_hit_at_k_scorer(k=5)"
    assert repr(make_hierarchical_precision_scorer(2, graph)) == (
        "make_hierarchical_precision_scorer(k=2, "
        "hierarchy=<DiGraph with 14 nodes and 12 edges>)"
    )


def test_scorer_uses_predict_top_k_and_classes():
    est = TopKOnly(["a", "b", "c", "d"])
    X = np.array([[0.0], [1.2], [2.9], [2.6]])
    y = np.array(["a", "c", "d", "a"])
    for k in (1, 2, 3):
        expected = hit_at_k_score(y, est.scores(X), k=k, labels=est.classes_)
        assert make_hit_at_k_scorer(k)(est, X, y) == expected
    assert est.calls == [1, 2, 3]


def test_scorer_clips_k_to_the_number_of_classes():
    est = TopKOnly(["a", "b", "c"])
    with pytest.warns(TrivialScoreWarning, match="ranks 3 candidate label"):
        assert make_hit_at_k_scorer(10)(est, [[0.0]], ["c"]) == 1.0
    assert est.calls == [3]


def test_scorer_through_a_pipeline_uses_the_final_predict_top_k():
    est = TopKOnly(["a", "b", "c"])
    pipe = make_pipeline(StandardScaler(with_std=False), est)
    X = np.array([[0.0], [1.0], [2.0]])
    pipe.fit(X, ["a", "b", "c"])
    # centred X is -1, 0, 1: the ranking of each row shifts by one label
    assert make_hit_at_k_scorer(1)(pipe, X, ["a", "a", "b"]) == 1.0
    assert est.calls == [1]


def test_hierarchical_scorer_with_predict_top_k(graph):
    est = TopKOnly(LABELS)
    X = np.array([[2.0], [3.1], [7.2]])  # best: dog; fox; ufo
    y = np.array(["dog", "dog", "car"])
    scorer = make_hierarchical_precision_scorer(2, graph)
    expected = hierarchical_precision_at_k_score(
        y, est.scores(X), k=2, hierarchy=graph, labels=LABELS
    )
    assert scorer(est, X, y) == expected


def _assert_scorers_match_metrics(clf, X, y, scores, hierarchy, ks):
    """Each scorer on ``clf`` equals its metric on ``clf``'s ``scores``."""
    for k in ks:
        assert make_hit_at_k_scorer(k)(clf, X, y) == hit_at_k_score(
            y, scores, k=k, labels=clf.classes_
        )
        assert make_hierarchical_precision_scorer(k, hierarchy)(
            clf, X, y
        ) == hierarchical_precision_at_k_score(
            y, scores, k=k, hierarchy=hierarchy, labels=clf.classes_
        )


def test_scorers_match_metrics_on_predict_proba(blobs):
    X, y = blobs
    clf = LogisticRegression().fit(X, y)
    proba = clf.predict_proba(X)
    hierarchy = {"car": "vehicle", "cat": "animal", "dog": "animal", "wolf": "animal"}
    _assert_scorers_match_metrics(clf, X, y, proba, hierarchy, ks=(1, 2))


def test_scorer_decision_function_fallback():
    class DecisionOnly:
        classes_ = np.array([0, 1])

        def decision_function(self, X):
            return np.asarray(X, dtype=float)[:, 0]

    assert make_hit_at_k_scorer(1)(DecisionOnly(), [[-1.0], [2.0]], [0, 1]) == 1.0


def test_scorer_with_sample_weight():
    est = TopKOnly(["a", "b"])
    score = make_hit_at_k_scorer(1)(
        est, [[0.0], [0.0]], ["a", "b"], sample_weight=[3, 1]
    )
    assert score == 0.75


def test_scorer_errors_on_labels_that_are_not_candidates():
    est = TopKOnly(["a", "b"])
    with pytest.raises(ValueError, match=r"y contains 1 label\(s\) not in the estim"):
        make_hit_at_k_scorer(1)(est, [[0.0], [0.0]], ["a", "z"])


def test_scorer_errors_on_an_unfitted_estimator():
    with pytest.raises(
        AttributeError, match="needs a fitted classifier with a classes_"
    ):
        make_hit_at_k_scorer(1)(LogisticRegression(), [[0.0]], [0])


def test_scorer_errors_without_a_ranking_method():
    class NoScores:
        classes_ = np.array([0, 1])

    with pytest.raises(AttributeError, match="has none of predict_top_k"):
        make_hit_at_k_scorer(1)(NoScores(), [[0.0]], [0])


def test_scorer_errors_on_a_bad_predict_top_k():
    class Bad(TopKOnly):
        def predict_top_k(self, X, k):
            return np.array([["a"]]), None

    with pytest.raises(ValueError, match=r"must return labels of shape \(2, 2\)"):
        make_hit_at_k_scorer(2)(Bad(["a", "b"]), [[0.0], [1.0]], ["a", "b"])


def test_scorer_rejects_bad_k():
    with pytest.raises(InvalidParameterError, match=r"^k must be an integer >= 1"):
        make_hit_at_k_scorer(0)


def test_scorers_in_cross_val_score_and_grid_search(blobs):
    X, y = blobs
    scores = cross_val_score(
        LogisticRegression(), X, y, cv=3, scoring=make_hit_at_k_scorer(2)
    )
    assert scores.min() > 0.5
    search = GridSearchCV(
        LogisticRegression(), {"C": [0.01, 1.0]}, cv=3, scoring=make_hit_at_k_scorer(1)
    ).fit(X, y)
    assert search.best_score_ > 0.5


def test_scorers_in_multi_metric_dict_with_sample_weight(blobs):
    X, y = blobs
    hierarchy = {"car": "vehicle", "cat": "animal", "dog": "animal", "wolf": "animal"}
    scoring = {
        "hit@1": make_hit_at_k_scorer(1),
        "hit@2": make_hit_at_k_scorer(2),
        "hp@2": make_hierarchical_precision_scorer(2, hierarchy),
    }
    search = GridSearchCV(
        LogisticRegression(), {"C": [0.1, 1.0]}, cv=3, scoring=scoring, refit="hp@2"
    ).fit(X, y, sample_weight=np.linspace(0.5, 1.5, len(y)))
    results = search.cv_results_
    assert np.all(results["mean_test_hit@1"] <= results["mean_test_hit@2"])
    assert np.all(results["mean_test_hit@1"] <= results["mean_test_hp@2"] + 1e-12)


def test_scorer_metadata_routing(blobs):
    X, y = blobs
    weights = np.where(y == "car", 1.0, 0.0)  # only "car" samples count
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_hit_at_k_scorer(1).set_score_request(sample_weight=True)
        model = LogisticRegression().set_fit_request(sample_weight=False)
        weighted = cross_validate(
            model, X, y, cv=3, scoring=scorer, params={"sample_weight": weights}
        )["test_score"]
        clf = LogisticRegression()
        unweighted = [
            make_hit_at_k_scorer(1)(
                clf.fit(X[train], y[train]),
                X[test][y[test] == "car"],
                y[test][y[test] == "car"],
            )
            for train, test in sklearn.model_selection.StratifiedKFold(3).split(X, y)
        ]
    np.testing.assert_allclose(weighted, unweighted)


def test_scorers_on_conse_match_the_metrics_on_its_scores():
    rng = np.random.default_rng(0)
    labels = [f"c{i}" for i in range(10)]
    vectors = dict(zip(labels, rng.normal(size=(10, 4))))
    y = np.repeat(labels[:5], 8)
    X = rng.normal(size=(y.size, 3)) + np.repeat(np.arange(5), 8)[:, None]
    clf = ConSEClassifier(LogisticRegression(), vectors, T=2).fit(X, y)
    X_test = rng.normal(size=(30, 3)) * 3
    y_test = rng.choice(clf.classes_, size=30)
    scores = clf.decision_function(X_test)
    hierarchy = {label: f"group{i % 2}" for i, label in enumerate(labels)}
    _assert_scorers_match_metrics(clf, X_test, y_test, scores, hierarchy, ks=(1, 3))


# ---------------------------------------------------------------------------
# Hierarchy and label input rules
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("no_parent", [None, [], (), set()])
def test_hierarchy_none_or_empty_parents_mean_no_parent(no_parent):
    # None used to become a node joining every root: dog and cat 2 hops apart
    hierarchy = {"dog": no_parent, "cat": no_parent}
    score = hierarchical_precision_at_k_score(
        ["dog"], [[0.5, 0.9]], k=2, hierarchy=hierarchy, labels=["cat", "dog"]
    )
    assert score == 0.5


def test_hierarchy_unhashable_parent_is_named():
    with pytest.raises(
        TypeError,
        match=r"^hierarchy\['dog'\] lists a parent that is not hashable: "
        r"\['canine'\] \(list\)\.",
    ):
        hierarchical_precision_at_k_score(
            ["dog"], [[1.0]], k=1, hierarchy={"dog": [["canine"]]}, labels=["dog"]
        )


def test_hierarchical_precision_accepts_a_hierarchy(graph):
    y_score = [scores_ranking(["wolf", "cat"])]
    assert (
        hierarchical_precision_at_k_score(
            ["dog"], y_score, k=2, hierarchy=Hierarchy(graph), labels=LABELS
        )
        == 0.5
    )


def test_hierarchical_scorer_accepts_a_hierarchy(graph):
    scorer = make_hierarchical_precision_scorer(2, Hierarchy(graph))
    assert repr(scorer) == (
        "make_hierarchical_precision_scorer(k=2, hierarchy=<Hierarchy of 14>)"
    )
    assert scorer(TopKOnly(LABELS), [[2.9]], ["dog"]) == 1.0  # fox, dog


@pytest.mark.parametrize(
    ("y_true", "labels", "name", "where"),
    [
        ([np.nan, 1.0], [1.0, 2.0], "y_true", r"1 of 2 entries, first at index 0"),
        (
            np.array(["a", np.nan], dtype=object),
            ["a", "b"],
            "y_true",
            r"1 of 2 entries, first at index 1",
        ),
        ([1.0, 2.0], [1.0, np.nan, 2.0], "labels", r"1 of 3 entries"),
    ],
)
def test_nan_labels_are_refused(y_true, labels, name, where):
    y_score = np.ones((2, len(labels)))
    with pytest.raises(
        ValueError, match=rf"^{name} contains NaN \({where}.*NaN cannot be a label"
    ):
        hit_at_k_score(y_true, y_score, k=1, labels=labels)


def test_nan_in_classes_is_refused_by_scorers():
    with pytest.raises(ValueError, match=r"^estimator\.classes_ contains NaN"):
        make_hit_at_k_scorer(1)(TopKOnly([0.0, np.nan]), [[0.0]], [0.0])


# ---------------------------------------------------------------------------
# expected_calibration_error
# ---------------------------------------------------------------------------


def _ece_by_hand(y_true, y_prob, labels, n_bins):
    """Top-label ECE written out bin by bin, (lo, hi] intervals."""
    y_prob = np.asarray(y_prob, dtype=float)
    n = len(y_true)
    total = 0.0
    for m in range(n_bins):
        lo, hi = m / n_bins, (m + 1) / n_bins
        members = []
        for i in range(n):
            confidence = y_prob[i].max()
            if (lo < confidence <= hi) or (m == 0 and confidence == 0):
                right = labels[int(np.argmax(y_prob[i]))] == y_true[i]
                members.append((confidence, right))
        if members:
            accuracy = np.mean([right for _, right in members])
            confidence = np.mean([c for c, _ in members])
            total += len(members) / n * abs(accuracy - confidence)
    return total


def test_ece_matches_a_hand_computation():
    # 3 labels, 6 samples, 4 bins: (0, .25], (.25, .5], (.5, .75], (.75, 1].
    labels = ["a", "b", "c"]
    y_prob = [
        [0.9, 0.05, 0.05],  # a, 0.9 -> bin 4, right
        [0.1, 0.8, 0.1],  # b, 0.8 -> bin 4, wrong (true c)
        [0.3, 0.3, 0.4],  # c, 0.4 -> bin 2, right
        [0.45, 0.35, 0.2],  # a, 0.45 -> bin 2, wrong (true b)
        [0.2, 0.6, 0.2],  # b, 0.6 -> bin 3, right
        [0.5, 0.25, 0.25],  # a, 0.5 -> bin 2 (right-closed), right
    ]
    y_true = ["a", "c", "c", "b", "b", "a"]
    # bin 4: acc 1/2, conf 0.85 -> 2/6 * 0.35
    # bin 2: acc 2/3, conf 0.45 -> 3/6 * (2/3 - 0.45)
    # bin 3: acc 1, conf 0.6 -> 1/6 * 0.4
    expected = 2 / 6 * 0.35 + 3 / 6 * (2 / 3 - 0.45) + 1 / 6 * 0.4
    ece = metrics.expected_calibration_error(y_true, y_prob, labels=labels, n_bins=4)
    assert ece == pytest.approx(expected, abs=1e-12)
    assert ece == pytest.approx(_ece_by_hand(y_true, y_prob, labels, 4), abs=1e-12)


@pytest.mark.parametrize("n_bins", [1, 2, 5, 10, 15, 100])
def test_ece_matches_the_loop_on_random_probabilities(n_bins):
    rng = np.random.RandomState(n_bins)
    labels = np.array([3, 1, 2, 7])  # column order need not be sorted
    y_prob = rng.dirichlet(np.ones(4) * 0.5, size=200)
    y_true = labels[rng.randint(4, size=200)]
    ece = metrics.expected_calibration_error(
        y_true, y_prob, labels=labels, n_bins=n_bins
    )
    assert ece == pytest.approx(
        _ece_by_hand(y_true, y_prob, labels.tolist(), n_bins), abs=1e-12
    )


def test_ece_confidence_on_a_bin_edge_falls_in_the_bin_it_closes():
    # 0.6 closes the bin (0.4, 0.6] with 5 bins, although 3 * 0.2 > 0.6.
    y_prob = [[0.6, 0.4], [0.5, 0.5]]
    ece = metrics.expected_calibration_error(
        ["x", "y"], y_prob, labels=["x", "y"], n_bins=5
    )
    # one bin, accuracy 1/2, mean confidence 0.55
    assert ece == pytest.approx(0.05, abs=1e-12)


def test_ece_of_perfect_and_of_uniform_predictions():
    y_true = np.array([0, 1, 2, 0, 1, 2])
    one_hot = np.eye(3)[y_true]
    assert metrics.expected_calibration_error(y_true, one_hot) == 0.0
    # uniform on a balanced problem: confidence 1/3, accuracy 1/3
    uniform = np.full((6, 3), 1 / 3)
    assert metrics.expected_calibration_error(y_true, uniform) == pytest.approx(0.0)
    # confidently wrong everywhere: the worst
    wrong = np.eye(3)[(y_true + 1) % 3]
    assert metrics.expected_calibration_error(y_true, wrong) == 1.0


def test_ece_ties_go_to_the_first_column():
    # argmax ties: the prediction is labels[0], right for "a", wrong for "b".
    y_prob = [[0.5, 0.5], [0.5, 0.5]]
    assert metrics.expected_calibration_error(
        ["a", "a"], y_prob, labels=["a", "b"]
    ) == (pytest.approx(0.5))
    assert metrics.expected_calibration_error(
        ["b", "b"], y_prob, labels=["a", "b"]
    ) == (pytest.approx(0.5))


def test_ece_labels_default_to_the_sorted_classes_of_y_true():
    y_prob = [[0.8, 0.2], [0.3, 0.7]]
    default = metrics.expected_calibration_error(["cat", "dog"], y_prob)
    explicit = metrics.expected_calibration_error(
        ["cat", "dog"], y_prob, labels=["cat", "dog"]
    )
    assert default == explicit == pytest.approx(0.25)
    with pytest.raises(ValueError, match=r"2 distinct labels but y_score has 3"):
        metrics.expected_calibration_error(["a", "b"], [[0.5, 0.3, 0.2]] * 2)


def test_ece_of_float32_predict_proba_of_conse():
    # Rows of a float32 predict_proba sum to 1 up to float32 rounding only.
    rng = np.random.RandomState(0)
    vectors = {
        "cat": np.array([1.0, 0.1], np.float32),
        "dog": np.array([0.9, 0.4], np.float32),
        "car": np.array([0.0, 1.0], np.float32),
        "lion": np.array([1.0, 0.0], np.float32),
        "truck": np.array([0.1, 1.0], np.float32),
        "fox": np.array([0.7, 0.7], np.float32),
    }
    y = np.repeat(["cat", "dog", "car"], 20)
    centres = {"cat": [0, 0], "dog": [0, 3], "car": [3, 3]}
    X = np.array([centres[label] for label in y]) + rng.randn(60, 2) / 2
    clf = ConSEClassifier(LogisticRegression(), vectors, T=2, temperature=0.1)
    proba = clf.fit(X, y).predict_proba(X)
    assert proba.dtype == np.float32
    y_true = np.where(y == "car", "truck", "lion")
    ece = metrics.expected_calibration_error(y_true, proba, labels=clf.classes_)
    assert 0.0 <= ece <= 1.0


@pytest.mark.parametrize(
    ("y_prob", "message"),
    [
        ([0.2, 0.8], r"2-D array .* got shape \(2,\)"),
        ([[0.2, 0.8]], r"different numbers of samples: 2 != 1"),
        (np.empty((2, 0)), r"y_prob has no columns"),
        ([["a", "b"], ["c", "d"]], r"numeric array"),
        (
            [[0.2, 0.8], [1.2, -0.2]],
            r"in \[0, 1\]; 1 of 2 rows do not \(first at row 1",
        ),
        ([[0.2, 0.8], [np.nan, 0.5]], r"in \[0, 1\]; 1 of 2 rows"),
        ([[0.2, 0.8], [0.3, 0.3]], r"sum to 1; 1 of 2 do not \(row 1 sums to 0.6"),
    ],
)
def test_ece_refuses_what_is_not_predict_proba(y_prob, message):
    with pytest.raises(ValueError, match=message):
        metrics.expected_calibration_error(["a", "b"], y_prob, labels=["a", "b"])


def test_ece_row_sums_tolerance_follows_the_dtype():
    off = 1e-5  # within float32 rounding tolerance, not float64's
    y_prob = np.array([[0.5 + off, 0.5], [0.5, 0.5]])
    metrics.expected_calibration_error(
        ["a", "b"], y_prob.astype(np.float32), labels=["a", "b"]
    )
    with pytest.raises(ValueError, match=r"sum to 1"):
        metrics.expected_calibration_error(["a", "b"], y_prob, labels=["a", "b"])


def test_ece_refuses_unknown_and_nan_labels():
    y_prob = [[0.2, 0.8], [0.5, 0.5]]
    with pytest.raises(ValueError, match=r"y_true contains 1 label\(s\) not in labels"):
        metrics.expected_calibration_error(["a", "z"], y_prob, labels=["a", "b"])
    with pytest.raises(ValueError, match=r"y_true contains NaN"):
        metrics.expected_calibration_error([1.0, np.nan], y_prob, labels=[1.0, 2.0])


@pytest.mark.parametrize("n_bins", [0, -1, 2.5, True, "10"])
def test_ece_bad_n_bins(n_bins):
    with pytest.raises(InvalidParameterError, match=r"n_bins"):
        metrics.expected_calibration_error(
            ["a", "b"], [[0.2, 0.8], [0.5, 0.5]], n_bins=n_bins
        )


def test_binary_decision_function_scores_with_two_labels():
    # A 1-D score is labels[1]'s score minus labels[0]'s, as sklearn's binary
    # classifiers and sk_conse's two-candidate estimators return it.
    y_true = ["a", "b", "b", "a"]
    decision = np.array([-0.3, 0.2, -0.1, 0.4])
    both = np.column_stack([-decision, decision])
    for k in (1, 2):
        assert hit_allowing_trivial(
            y_true, decision, k=k, labels=["a", "b"]
        ) == hit_allowing_trivial(y_true, both, k=k, labels=["a", "b"])
    assert metrics.hit_at_k_score(y_true, decision, k=1, labels=["a", "b"]) == 0.5
    with pytest.raises(ValueError, match="needs labels= with its two labels"):
        metrics.hit_at_k_score(y_true, decision, k=1)


# ---------------------------------------------------------------------------
# Scores on labels seen in fit, probability scorers
# ---------------------------------------------------------------------------

ZS_LABELS = [f"z{i}" for i in range(8)]
ZS_HIERARCHY = {label: f"group{i % 2}" for i, label in enumerate(ZS_LABELS)}


@pytest.fixture(scope="module")
def zero_shot():
    """6 labels in y, 10 blobs each around twice their vectors; the mapping
    also holds 2 labels beyond y, so each fold ranks more than its labels."""
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(8, 5))
    codes = np.repeat(np.arange(6), 10)
    X = 2 * vectors[codes] + rng.normal(size=(codes.size, 5))
    y = np.array(ZS_LABELS)[codes]
    return X, y, dict(zip(ZS_LABELS, vectors))


def zs_scorers():
    return {
        "hit": make_hit_at_k_scorer(1),
        "hp": make_hierarchical_precision_scorer(2, ZS_HIERARCHY),
        "ll": make_proba_scorer("neg_log_loss"),
    }


@pytest.mark.parametrize("name", ["hit", "hp", "ll"])
@pytest.mark.parametrize("candidate_labels", ["unseen", "all"])
def test_scorers_warn_on_folds_of_seen_labels(zero_shot, name, candidate_labels):
    # Before: StratifiedKFold folds were scored in the generalized setting
    # without a word, [0.96, 0.96, 1.0] read as zero-shot accuracy.
    X, y, vectors = zero_shot
    model = ConSEClassifier(
        LogisticRegression(), vectors, T=2, candidate_labels=candidate_labels
    )
    with pytest.warns(SeenLabelsScoredWarning) as record:
        scores = cross_val_score(
            model, X, y, cv=StratifiedKFold(3), scoring=zs_scorers()[name]
        )
    assert np.all(np.isfinite(scores))
    assert len(record) == 1  # once for the 3 folds: the same situation
    message = str(record[0].message)
    assert "6 of the 6 labels of y were seen in fit ('z0', 'z1'" in message
    assert "this is not a zero-shot score" in message
    assert "ClassDisjointKFold" in message
    how = "not candidate labels" if candidate_labels == "unseen" else "are candidate"
    assert how in message


def test_class_disjoint_search_with_train_scores_does_not_warn(zero_shot):
    X, y, vectors = zero_shot
    search = GridSearchCV(
        ConSEClassifier(LogisticRegression(), vectors),
        {"T": [1, 3]},
        cv=ClassDisjointKFold(3),
        scoring=zs_scorers(),
        refit=False,
        return_train_score=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        search.fit(X, y)
    results = search.cv_results_
    for name in ("hit", "hp", "ll"):
        assert np.all(np.isfinite(results[f"mean_test_{name}"]))
        assert np.all(np.isfinite(results[f"mean_train_{name}"]))
    # A training score is the generalized one: the seen labels ranked with
    # the candidates, what fits them is much better than zero-shot.
    assert np.all(results["mean_train_hit"] > results["mean_test_hit"])


def test_a_training_score_is_quiet_only_after_its_test_score(zero_shot):
    X, y, vectors = zero_shot
    train, test = next(ClassDisjointKFold(3).split(X, y))
    model = ConSEClassifier(LogisticRegression(), vectors, T=2).fit(X[train], y[train])
    scorer = make_hit_at_k_scorer(1)
    everything = list(model.classes_) + list(model.seen_classes_)
    generalized = model.with_candidates(everything)
    expected = hit_at_k_score(
        y[train], generalized.predict_proba(X[train]), labels=generalized.classes_
    )
    with pytest.warns(SeenLabelsScoredWarning, match="4 of the 4 labels of y"):
        assert scorer(model, X[train], y[train]) == expected
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scorer(model, X[test], y[test])  # the test fold: zero-shot
        assert scorer(model, X[train], y[train]) == expected  # its train score
    # Another fitted model, or another scorer, has no test score yet (a
    # scorer that has warned about these labels does not repeat itself).
    other = ConSEClassifier(LogisticRegression(), vectors, T=2).fit(X[train], y[train])
    fresh = make_hit_at_k_scorer(1)
    fresh(model, X[test], y[test])
    with pytest.warns(SeenLabelsScoredWarning):
        fresh(other, X[train], y[train])
    with pytest.warns(SeenLabelsScoredWarning):
        make_hit_at_k_scorer(1)(model, X[train], y[train])
    # The memory of tested models is not pickled.
    restored = pickle.loads(pickle.dumps(scorer))
    assert restored._tested == {}


def test_mixed_folds_warn_only_when_seen_labels_are_not_candidates(zero_shot):
    X, y, vectors = zero_shot
    seen = np.isin(y, ZS_LABELS[:4])
    mixed = np.flatnonzero(~seen)[:5].tolist() + np.flatnonzero(seen)[:5].tolist()
    scorer = make_hit_at_k_scorer(1)
    unseen_only = ConSEClassifier(LogisticRegression(), vectors, T=2)
    unseen_only.fit(X[seen], y[seen])
    with pytest.warns(SeenLabelsScoredWarning, match="1 of the 2 labels of y"):
        scorer(unseen_only, X[mixed], y[mixed])
    # With candidate_labels="all" the user asked for the generalized setting.
    everything = ConSEClassifier(
        LogisticRegression(), vectors, T=2, candidate_labels="all"
    ).fit(X[seen], y[seen])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scorer(everything, X[mixed], y[mixed])


def test_hit_scorer_warns_on_a_fold_with_no_more_candidates_than_k(zero_shot):
    # Before: each 2-label test fold scored hit@2 = 1.0 silently.
    X, y, vectors = zero_shot
    seen_only = {label: vectors[label] for label in ZS_LABELS[:6]}
    with pytest.warns(TrivialScoreWarning, match=r"ranks 2 candidate label\(s\)"):
        scores = cross_val_score(
            ConSEClassifier(LogisticRegression(), seen_only, T=2),
            X,
            y,
            cv=ClassDisjointKFold(3),
            scoring=make_hit_at_k_scorer(2),
        )
    np.testing.assert_array_equal(scores, 1.0)


@pytest.mark.parametrize(
    "name", ["neg_log_loss", "roc_auc_ovr", "roc_auc_ovr_weighted"]
)
def test_proba_scorers_work_with_labels_beyond_the_test_fold(zero_shot, name):
    X, y, vectors = zero_shot
    model = ConSEClassifier(LogisticRegression(), vectors, T=2, temperature=0.1)
    # scikit-learn's scorer of that name fails inside the metric: it takes
    # the columns of predict_proba to be the labels of the test fold.
    with pytest.raises(ValueError, match=r"[nN]umber of classes"):
        cross_val_score(
            model, X, y, cv=ClassDisjointKFold(3), scoring=name, error_score="raise"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = cross_val_score(
            model, X, y, cv=ClassDisjointKFold(3), scoring=make_proba_scorer(name)
        )
    assert np.all(np.isfinite(scores))
    # It is scikit-learn's score where that one works: the candidates are
    # exactly the test fold's labels.
    seen_only = {label: vectors[label] for label in ZS_LABELS[:6]}
    model = ConSEClassifier(LogisticRegression(), seen_only, T=2, temperature=0.1)
    ours = cross_val_score(
        model, X, y, cv=ClassDisjointKFold(2), scoring=make_proba_scorer(name)
    )
    theirs = cross_val_score(model, X, y, cv=ClassDisjointKFold(2), scoring=name)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_proba_scorer_by_hand_and_with_sample_weight():
    from sklearn.metrics import log_loss, roc_auc_score

    X = np.arange(12.0).reshape(-1, 1)
    y = np.repeat(["a", "b", "c", "d"], 3)
    clf = LogisticRegression().fit(X, y)
    weights = np.linspace(0.5, 2.0, 6)
    part = slice(0, 6)  # labels a and b only; c and d are columns too
    proba = clf.predict_proba(X[part])
    expected = -log_loss(y[part], proba, labels=clf.classes_, sample_weight=weights)
    scorer = make_proba_scorer("neg_log_loss")
    assert scorer(clf, X[part], y[part], sample_weight=weights) == pytest.approx(
        expected
    )
    auc_a = roc_auc_score(y[part] == "a", proba[:, 0], sample_weight=weights)
    auc_b = roc_auc_score(y[part] == "b", proba[:, 1], sample_weight=weights)
    assert make_proba_scorer("roc_auc_ovr")(
        clf, X[part], y[part], sample_weight=weights
    ) == pytest.approx((auc_a + auc_b) / 2)
    w_a, w_b = weights[:3].sum(), weights[3:].sum()
    assert make_proba_scorer("roc_auc_ovr_weighted")(
        clf, X[part], y[part], sample_weight=weights
    ) == pytest.approx((w_a * auc_a + w_b * auc_b) / (w_a + w_b))


def test_proba_scorer_errors():
    X = np.arange(12.0).reshape(-1, 1)
    y = np.repeat(["a", "b", "c", "d"], 3)
    clf = LogisticRegression().fit(X, y)
    assert repr(make_proba_scorer()) == "make_proba_scorer('neg_log_loss')"
    with pytest.raises(ValueError, match=r"scoring='accuracy'; use one of 'neg_log"):
        make_proba_scorer("accuracy")
    with pytest.raises(ValueError, match=r"needs samples of at least two labels.*'a'"):
        make_proba_scorer("roc_auc_ovr")(clf, X[:3], y[:3])
    with pytest.raises(ValueError, match=r"y contains 1 label\(s\) not in the estim"):
        make_proba_scorer()(clf, X[:2], ["a", "z"])
    with pytest.raises(AttributeError, match="no predict_proba"):
        make_proba_scorer()(TopKOnly(["a", "b"]), X[:2], ["a", "b"])


# ---------------------------------------------------------------------------
# Exact ranking of scores float64 cannot hold, scorers on wrappers, mixed
# label types (issue 28)
# ---------------------------------------------------------------------------

_HUGE = [
    pytest.param(np.array([[2**53, 2**53 + 1]], dtype=np.int64), id="int64"),
    pytest.param(np.array([[2**64 - 2, 2**64 - 1]], dtype=np.uint64), id="uint64"),
    pytest.param(np.array([[-(2**63), -(2**63) + 1]], dtype=np.int64), id="int64-min"),
    pytest.param(np.array([[2**70, 2**70 + 1]], dtype=object), id="python-int"),
]
if np.finfo(np.longdouble).eps < np.finfo(np.float64).eps:  # not on every platform
    _ONE = np.longdouble(1)
    _HUGE.append(
        pytest.param(
            np.array([[_ONE, _ONE + np.finfo(np.longdouble).eps]]), id="longdouble"
        )
    )


@pytest.mark.parametrize("y_score", _HUGE)
def test_scores_that_float64_would_round_together_are_ranked_exactly(y_score):
    # float64 rounds both scores to one value: a false tie won by "a".
    assert y_score.astype(np.float64)[0, 0] == y_score.astype(np.float64)[0, 1]
    labels = ["a", "b"]
    assert hit_at_k_score(["b"], y_score, k=1, labels=labels) == 1.0
    assert hit_at_k_score(["a"], y_score, k=1, labels=labels) == 0.0
    hierarchy = {"a": "root", "b": "root"}
    assert (
        hierarchical_precision_at_k_score(
            ["b"], y_score, k=1, hierarchy=hierarchy, labels=labels
        )
        == 1.0
    )


def test_exact_ranking_keeps_ties_to_the_smaller_column():
    big = 2**60
    y_score = np.array([[big, big + 1, big + 1, big - 1]], dtype=np.int64)
    labels = ["a", "b", "c", "d"]
    for k, hits in [(1, "b"), (2, "c"), (3, "a")]:  # the order: b, c, a, d
        assert hit_at_k_score([hits], y_score, k=k, labels=labels) == 1.0
        missed = labels[[1, 2, 0, 3][k]]
        assert hit_at_k_score([missed], y_score, k=k, labels=labels) == 0.0


def test_binary_unsigned_decision_function_is_not_negated():
    # -s wraps around for unsigned integers; the ranking must not.
    y_score = np.array([0, 5, 2**64 - 1], dtype=np.uint64)
    assert hit_at_k_score(["a", "b", "b"], y_score, k=1, labels=["a", "b"]) == 1.0


def test_mixed_label_types_get_a_clear_error():
    y_true = np.array(["a", 1], dtype=object)
    with pytest.raises(TypeError, match=r"mixes labels of types str, int.*labels="):
        hit_at_k_score(y_true, [[0.1, 0.9], [0.8, 0.2]], k=1)
    labels = np.array(["a", 1, "a"], dtype=object)
    with pytest.raises(ValueError, match=r"labels must be unique; repeated: 'a'\."):
        hit_at_k_score(["a"], [[0.1, 0.9, 0.3]], k=1, labels=labels)


def test_missing_hierarchy_label_points_at_the_whole_wordnet(graph):
    with pytest.raises(
        ValueError, match=r"hierarchy=sk_conse\.wordnet\.WordNet\(\)"
    ) as e:
        hierarchical_precision_at_k_score(
            ["dog"], [[0.1, 0.9]], k=1, hierarchy=graph, labels=["dog", "n00000001"]
        )
    assert "hierarchy_for" not in str(e.value)


def _small_temperature_search():
    """A GridSearchCV around ConSE whose probabilities round to exactly 0."""
    X, y, vectors = make_zero_shot_problem(
        n_seen=40, n_per_class=6, n_dims=6, n_features=8, noise=2.0, seed=3
    )
    fit_labels = np.unique(y)[:8]
    fitted = np.isin(y, fit_labels)
    model = ConSEClassifier(LogisticRegression(), vectors, T=3, temperature=1e-4)
    search = GridSearchCV(
        model,
        {"T": [2, 3]},
        cv=ClassDisjointKFold(n_splits=2),
        scoring=make_hit_at_k_scorer(2),
    ).fit(X[fitted], y[fitted])
    return search, X[~fitted], y[~fitted]


def test_scorers_on_a_wrapper_rank_by_its_exact_scores():
    search, X_test, y_test = _small_temperature_search()
    assert not hasattr(search, "predict_top_k")
    proba = search.predict_proba(X_test)
    assert (np.sort(proba, axis=1)[:, -5] == 0).mean() > 0.5  # false ties
    parents = {label: f"group{int(label[1:]) % 5}" for label in search.classes_}
    model = search.best_estimator_
    for scorer in (
        make_hit_at_k_scorer(5),
        make_hierarchical_precision_scorer(5, parents),
    ):
        expected = scorer(model, X_test, y_test)  # through predict_top_k
        assert expected < 1.0
        assert scorer(search, X_test, y_test) == expected


def test_nan_in_a_binary_decision_function_is_refused():
    # Found in review: a 1-D binary decision function became the columns
    # (0, sign(s)) before the NaN check, and sign(NaN) is 0, so NaN was
    # scored as a tie instead of being refused (0.667 here); the same in a
    # scorer ranking by the estimator's decision_function.
    class Binary(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.classes_ = np.array([0, 1])
            return self

        def decision_function(self, X):
            return np.asarray(X, dtype=float)[:, 0]

    y_score = np.array([np.nan, 1.0, -1.0])
    with pytest.raises(ValueError, match=r"y_score contains NaN in 1 of 3 rows"):
        metrics.hit_at_k_score([0, 1, 1], y_score, k=1, labels=[0, 1])
    estimator = Binary().fit([[0.0]], [0])
    with pytest.raises(ValueError, match=r"y_score contains NaN in 1 of 3 rows"):
        metrics.make_hit_at_k_scorer(1)(estimator, y_score[:, None], [0, 1, 1])
