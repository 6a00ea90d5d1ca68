"""Tests of the generalized zero-shot helpers (sk_conse.gzsl)."""

import numpy as np
import pytest

from sk_conse.gzsl import (
    PseudoUnseenSplit,
    harmonic_mean_score,
    make_harmonic_mean_scorer,
    seen_unseen_accuracy,
)


def test_seen_unseen_accuracy_is_per_class():
    y_true = ["a"] * 9 + ["b"] + ["u", "u"]
    y_pred = ["a"] * 9 + ["a"] + ["u", "a"]
    acc_s, acc_u = seen_unseen_accuracy(y_true, y_pred, seen_classes=["a", "b"])
    assert acc_s == pytest.approx(0.5)  # (1 + 0) / 2, not 9 / 10
    assert acc_u == pytest.approx(0.5)
    assert harmonic_mean_score(y_true, y_pred, seen_classes=["a", "b"]) == 0.5


def test_harmonic_mean_is_zero_when_unseen_never_predicted():
    y_true = ["a", "b", "u"]
    assert harmonic_mean_score(y_true, ["a", "b", "a"], seen_classes=["a", "b"]) == 0


def test_harmonic_mean_needs_both_groups():
    with pytest.raises(ValueError, match="no sample of an unseen label"):
        harmonic_mean_score(["a"], ["a"], seen_classes=["a"])
    with pytest.raises(ValueError, match="no sample of a seen label"):
        harmonic_mean_score(["u"], ["u"], seen_classes=["a"])


def test_pseudo_unseen_split_folds():
    y = np.repeat(np.arange(6), 10)
    cv = PseudoUnseenSplit(n_splits=4, n_unseen=2, test_size=0.3, random_state=0)
    assert cv.get_n_splits() == 4
    for train, test in cv.split(np.zeros((60, 1)), y):
        assert not set(train) & set(test)
        assert len(train) + len(test) == 60
        pseudo_unseen = set(y[test]) - set(y[train])
        assert len(pseudo_unseen) == 2
        assert len(set(y[train])) == 4
        assert np.sum(np.isin(y[test], list(set(y[train])))) == 4 * 3


def test_pseudo_unseen_split_errors():
    y = np.repeat(np.arange(3), 4)
    with pytest.raises(ValueError, match="leave at least one seen label"):
        next(PseudoUnseenSplit(n_unseen=3).split(np.zeros((12, 1)), y))
    with pytest.raises(ValueError, match="needs y"):
        next(PseudoUnseenSplit().split(np.zeros((12, 1))))
    # X and y of different lengths: before, the folds indexed y alone.
    with pytest.raises(ValueError, match="different numbers of samples: 10 != 12"):
        next(PseudoUnseenSplit(n_unseen=1).split(np.zeros((10, 1)), y))


@pytest.mark.parametrize(
    ("n_labels", "n_unseen", "match"),
    [
        (3, 2, r"n_unseen=2 takes 2 of the 3 labels.*Use n_unseen=1 or less"),
        (2, 0.2, r"n_unseen=0.2 takes 1 of the 2 labels.*Give y at least 3 labels"),
        (4, 0.75, r"takes 3 of the 4 labels.*Use n_unseen=2 or less"),
    ],
)
def test_pseudo_unseen_split_refuses_a_one_label_training_fold(
    n_labels, n_unseen, match
):
    # Before: the split trained on one label, and the fit failed (or NaN).
    y = np.repeat(np.arange(n_labels), 4)
    with pytest.raises(ValueError, match=match):
        next(PseudoUnseenSplit(n_unseen=n_unseen).split(np.zeros((y.size, 1)), y))
    if n_labels > 2:  # the fix the message names works
        fixed = PseudoUnseenSplit(n_unseen=n_labels - 2, random_state=0)
        for train, _ in fixed.split(np.zeros((y.size, 1)), y):
            assert np.unique(y[train]).size == 2


def test_scorer_reads_seen_classes_from_estimator():
    class Fitted:
        seen_classes_ = np.array(["a", "b"])

        def predict(self, X):
            return np.array(["a", "b", "u", "a"])

    scorer = make_harmonic_mean_scorer()
    assert scorer(Fitted(), None, ["a", "b", "u", "u"]) == pytest.approx(2 / 3)
    with pytest.raises(AttributeError, match="seen_classes_"):
        scorer(object(), None, ["a"])


class _Fitted:
    seen_classes_ = np.array(["a", "b"])

    def __init__(self, classes):
        self.classes_ = np.array(classes)

    def predict(self, X):
        return np.array(["a", "b", "u", "u"])


def test_harmonic_scorer_refuses_seen_labels_that_are_not_candidates():
    # Before: H = 0 by construction, silently (seen labels never predicted).
    scorer = make_harmonic_mean_scorer()
    with pytest.raises(ValueError, match=r"2 seen label\(s\) of y are not candidate"):
        scorer(_Fitted(["u"]), None, ["a", "b", "u", "u"])
    with pytest.raises(ValueError, match="candidate_labels='all'"):
        scorer(_Fitted(["u", "b"]), None, ["a", "b", "u", "u"])
    assert scorer(_Fitted(["a", "b", "u"]), None, ["a", "b", "u", "u"]) == 1.0


@pytest.mark.parametrize(
    ("y", "which"), [(["a", "b", "a", "b"], "unseen"), (["u", "v", "u", "v"], "seen")]
)
def test_harmonic_scorer_names_the_folds_to_use(y, which):
    with pytest.raises(ValueError, match=f"no label of y is {which}") as info:
        make_harmonic_mean_scorer()(_Fitted(["a", "b", "u", "v"]), None, y)
    assert "PseudoUnseenSplit" in str(info.value)
    assert "return_train_score=False" in str(info.value)


@pytest.mark.parametrize("metric", [seen_unseen_accuracy, harmonic_mean_score])
def test_seen_labels_is_the_deprecated_name_of_seen_classes(metric):
    y_true, y_pred = ["a", "b", "u"], ["a", "a", "u"]
    expected = metric(y_true, y_pred, seen_classes=["a", "b"])
    with pytest.warns(FutureWarning, match="seen_labels was renamed seen_classes"):
        assert metric(y_true, y_pred, seen_labels=["a", "b"]) == expected
    with pytest.raises(TypeError, match="seen_classes only"):
        metric(y_true, y_pred, seen_classes=["a"], seen_labels=["a"])
    with pytest.raises(TypeError, match="seen_classes"):
        metric(y_true, y_pred)
