"""Generalized zero-shot learning: evaluation and tuning of calibrated stacking.

In *generalized* zero-shot learning (GZSL) test inputs come from seen and
unseen labels alike, and both kinds of label are candidates
(``candidate_labels="all"``). Scores then favour the seen labels, and the
accuracy on unseen labels collapses. Calibrated stacking (Chao et al., ECCV
2016) subtracts a constant ``seen_penalty`` from the score of every seen
label; this module provides what is needed to choose it soundly:

- :func:`seen_unseen_accuracy` and :func:`harmonic_mean_score`, the
  per-class-averaged accuracies on seen and unseen labels and their harmonic
  mean H (Xian et al., CVPR 2017), and :func:`make_harmonic_mean_scorer`;
- :class:`PseudoUnseenSplit`, a cross-validator that turns some *seen*
  labels into pseudo-unseen labels in each fold, so that validation folds
  hold both seen and unseen labels without touching the real unseen labels.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state
from sklearn.utils.validation import column_or_1d

from ._utils import name_some

__all__ = [
    "PseudoUnseenSplit",
    "harmonic_mean_score",
    "make_harmonic_mean_scorer",
    "seen_unseen_accuracy",
]


def _per_class_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    classes = np.unique(y_true)
    return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in classes]))


def seen_unseen_accuracy(
    y_true: Any, y_pred: Any, *, seen_labels: Any
) -> tuple[float, float]:
    """Per-class-averaged accuracy on seen-label and on unseen-label samples.

    The accuracy of each true class is computed over its own samples, then
    averaged over the classes of each group (Xian et al., 2017), so that
    frequent classes do not dominate. A prediction counts as correct only if
    it is the true label among all candidates (seen and unseen).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, from seen and unseen classes.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    seen_labels : array-like
        The labels seen in training (for a fitted zero-shot estimator, its
        ``seen_classes_``). Every other label of ``y_true`` is unseen.

    Returns
    -------
    acc_seen : float
        Mean per-class accuracy over the seen classes present in ``y_true``.
    acc_unseen : float
        Mean per-class accuracy over the unseen classes present in ``y_true``.

    Raises
    ------
    ValueError
        If ``y_true`` has no seen-label sample or no unseen-label sample, or
        the lengths differ.

    See Also
    --------
    harmonic_mean_score : Their harmonic mean.

    References
    ----------
    .. [1] Y. Xian, B. Schiele and Z. Akata, "Zero-Shot Learning - The Good,
       the Bad and the Ugly", CVPR 2017.

    Examples
    --------
    >>> from sk_conse.gzsl import seen_unseen_accuracy
    >>> y_true = ["cat", "cat", "dog", "lion", "lion"]
    >>> y_pred = ["cat", "dog", "dog", "cat", "lion"]
    >>> seen_unseen_accuracy(y_true, y_pred, seen_labels=["cat", "dog"])
    (0.75, 0.5)
    """
    y_true = column_or_1d(np.asarray(y_true, dtype=object), warn=False)
    y_pred = column_or_1d(np.asarray(y_pred, dtype=object), warn=False)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred have different lengths: {y_true.shape[0]} and "
            f"{y_pred.shape[0]}."
        )
    seen = np.isin(y_true, np.asarray(seen_labels, dtype=object).ravel())
    if not seen.any() or seen.all():
        which = "seen" if not seen.any() else "unseen"
        raise ValueError(
            f"y_true has no sample of a {which} label: the seen / unseen "
            "accuracies of generalized zero-shot learning need both."
        )
    return (
        _per_class_accuracy(y_true[seen], y_pred[seen]),
        _per_class_accuracy(y_true[~seen], y_pred[~seen]),
    )


def harmonic_mean_score(y_true: Any, y_pred: Any, *, seen_labels: Any) -> float:
    """Harmonic mean H of the seen and unseen per-class accuracies.

    ``H = 2 acc_s acc_u / (acc_s + acc_u)`` (0 when both are 0), the
    generalized zero-shot measure of Xian et al. (2017): it is high only when
    both seen and unseen labels are recognised, so a classifier that always
    predicts seen labels scores 0.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, from seen and unseen classes.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    seen_labels : array-like
        The labels seen in training.

    Returns
    -------
    score : float
        H, in ``[0, 1]``.

    See Also
    --------
    seen_unseen_accuracy : The two accuracies.
    make_harmonic_mean_scorer : The scorer for ``GridSearchCV``.

    References
    ----------
    .. [1] Y. Xian, B. Schiele and Z. Akata, "Zero-Shot Learning - The Good,
       the Bad and the Ugly", CVPR 2017.

    Examples
    --------
    >>> from sk_conse.gzsl import harmonic_mean_score
    >>> y_true = ["cat", "cat", "dog", "lion", "lion"]
    >>> y_pred = ["cat", "dog", "dog", "cat", "lion"]
    >>> round(harmonic_mean_score(y_true, y_pred, seen_labels=["cat", "dog"]), 3)
    0.6
    """
    acc_s, acc_u = seen_unseen_accuracy(y_true, y_pred, seen_labels=seen_labels)
    if acc_s + acc_u == 0:
        return 0.0
    return 2 * acc_s * acc_u / (acc_s + acc_u)


class _HarmonicMeanScorer:
    def __call__(self, estimator: Any, X: Any, y: Any) -> float:
        seen = getattr(estimator, "seen_classes_", None)
        if seen is None:
            raise AttributeError(
                f"{self!r} needs a fitted zero-shot estimator with a "
                f"seen_classes_ attribute; {type(estimator).__name__} has none."
            )
        y_true = column_or_1d(np.asarray(y, dtype=object), warn=False)
        labels = list(dict.fromkeys(y_true.tolist()))
        seen_set = set(np.asarray(seen, dtype=object).ravel().tolist())
        seen_in_y = [label for label in labels if label in seen_set]
        if not seen_in_y or len(seen_in_y) == len(labels):
            which = "unseen" if seen_in_y else "seen"
            raise ValueError(
                f"{self!r} needs samples of seen and of unseen labels, but no "
                f"label of y is {which} ({len(labels)} labels: "
                f"{name_some(labels, limit=5)}). Score on the test folds of "
                f"sk_conse.gzsl.PseudoUnseenSplit, which hold both; training "
                f"folds hold seen labels only, so H has no training score: "
                f"leave return_train_score=False."
            )
        classes = getattr(estimator, "classes_", None)
        if classes is not None:
            candidates = set(np.asarray(classes, dtype=object).ravel().tolist())
            never = [label for label in seen_in_y if label not in candidates]
            if never:
                raise ValueError(
                    f"{len(never)} seen label(s) of y are not candidate labels of "
                    f"this {type(estimator).__name__}, so it can never predict "
                    f"them and their accuracy is 0 by construction: "
                    f"{name_some(never, limit=5)}. H scores a generalized "
                    f"zero-shot model: use candidate_labels='all' (or "
                    f"with_candidates('all') on a fitted model)."
                )
        return harmonic_mean_score(y_true, estimator.predict(X), seen_labels=seen)

    def __repr__(self) -> str:
        return "make_harmonic_mean_scorer()"


def make_harmonic_mean_scorer() -> _HarmonicMeanScorer:
    """Make a scorer of the harmonic mean H for generalized zero-shot tuning.

    The scorer, ``scorer(estimator, X, y)``, predicts ``X`` and reads the
    seen labels from the fitted estimator's ``seen_classes_``: the labels of
    ``y`` outside them count as unseen. Use it with
    :class:`PseudoUnseenSplit`, whose test folds hold both kinds, and an
    estimator with ``candidate_labels="all"``.

    Returns
    -------
    scorer : callable
        A scorer for ``scoring=`` of
        :class:`~sklearn.model_selection.GridSearchCV`.

    See Also
    --------
    harmonic_mean_score : The metric.
    PseudoUnseenSplit : Folds with seen and pseudo-unseen labels.

    Examples
    --------
    >>> from sk_conse.gzsl import make_harmonic_mean_scorer
    >>> make_harmonic_mean_scorer()
    make_harmonic_mean_scorer()
    """
    return _HarmonicMeanScorer()


class PseudoUnseenSplit(BaseCrossValidator):
    """Generalized zero-shot folds made from seen labels only.

    Tuning a generalized zero-shot estimator (for example ``seen_penalty``)
    needs validation data of seen *and* unseen labels, but the real unseen
    labels must stay out of model selection. Each split therefore draws a
    random subset of the training labels as *pseudo-unseen*: all their
    samples go to the test fold, and the training fold holds the other
    labels minus a stratified ``test_size`` share of their samples, which
    also go to the test fold. A zero-shot estimator fitted on the training
    fold with ``candidate_labels="all"`` then faces a generalized zero-shot
    problem: rank the pseudo-unseen labels, the remaining seen labels and
    every other embedded label, on inputs of both kinds. Score it with
    :func:`make_harmonic_mean_scorer`.

    Parameters
    ----------
    n_splits : int, default=5
        Number of re-drawn splits.
    n_unseen : int or float, default=0.2
        Pseudo-unseen labels per split: a number, or a share of the distinct
        labels (rounded, at least 1). At least two labels stay seen, so that
        a classifier can be fitted on the training fold: ``y`` needs three
        labels or more.
    test_size : float, default=0.2
        Share of each remaining seen label's samples put in the test fold
        (at least one sample of each label with two or more).
    random_state : int, RandomState instance or None, default=None
        Seeds the draws. Pass an int for the same splits on every call.

    See Also
    --------
    make_harmonic_mean_scorer : Scores a fold by H.
    sk_conse.model_selection.ClassDisjointKFold : Folds for plain zero-shot
        tuning, whose test folds hold unseen labels only.

    References
    ----------
    .. [1] W.-L. Chao, S. Changpinyo, B. Gong and F. Sha, "An Empirical Study
       and Analysis of Generalized Zero-Shot Learning for Object Recognition
       in the Wild", ECCV 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse.gzsl import PseudoUnseenSplit
    >>> y = np.repeat(["a", "b", "c", "d"], 5)
    >>> cv = PseudoUnseenSplit(n_splits=2, n_unseen=1, random_state=0)
    >>> for train, test in cv.split(np.zeros((20, 1)), y):
    ...     print(np.unique(y[train]), np.unique(y[test]))
    ['a' 'b' 'd'] ['a' 'b' 'c' 'd']
    ['a' 'c' 'd'] ['a' 'b' 'c' 'd']
    """

    def __init__(
        self,
        n_splits: int = 5,
        *,
        n_unseen: float = 0.2,
        test_size: float = 0.2,
        random_state: Any = None,
    ) -> None:
        self.n_splits = n_splits
        self.n_unseen = n_unseen
        self.test_size = test_size
        self.random_state = random_state

    def _n_unseen(self, n_classes: int) -> int:
        value = self.n_unseen
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            n = int(value)
        elif isinstance(value, numbers.Real) and 0 < value < 1:
            n = max(1, round(value * n_classes))
        else:
            raise ValueError(
                f"n_unseen must be a positive int or a float in (0, 1), got {value!r}."
            )
        if not 1 <= n < n_classes:
            raise ValueError(
                f"n_unseen={value!r} gives {n} pseudo-unseen labels out of "
                f"{n_classes}: it must leave at least one seen label and take "
                "at least one."
            )
        if n_classes - n < 2:
            fix = (
                f"Use n_unseen={n_classes - 2} or less"
                if n_classes >= 3
                else "Give y at least 3 labels"
            )
            raise ValueError(
                f"n_unseen={value!r} takes {n} of the {n_classes} labels as "
                f"pseudo-unseen and leaves one seen label to train on: a "
                f"classifier needs two classes to fit. {fix}, so that each "
                f"training fold holds two labels or more."
            )
        return n

    def _iter_test_indices(self, X=None, y=None, groups=None):
        raise NotImplementedError  # pragma: no cover - split is overridden

    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Generate (train, test) indices.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (only its length is used).
        y : array-like of shape (n_samples,)
            The seen labels of the training data.
        groups : None
            Ignored.

        Yields
        ------
        train : ndarray
            Indices of the training fold.
        test : ndarray
            Indices of the test fold: pseudo-unseen and held-out seen samples.
        """
        if y is None:
            raise ValueError("PseudoUnseenSplit needs y, the labels, to split.")
        if not isinstance(self.n_splits, numbers.Integral) or self.n_splits < 1:
            raise ValueError(f"n_splits must be a positive int, got {self.n_splits}.")
        if not 0 < self.test_size < 1:
            raise ValueError(f"test_size must be in (0, 1), got {self.test_size!r}.")
        y = column_or_1d(np.asarray(y), warn=False)
        classes, y_idx = np.unique(y, return_inverse=True)
        n_unseen = self._n_unseen(len(classes))
        rng = check_random_state(self.random_state)
        for _ in range(self.n_splits):
            unseen = rng.choice(len(classes), n_unseen, replace=False)
            is_unseen = np.isin(y_idx, unseen)
            test = [np.flatnonzero(is_unseen)]
            train = []
            for c in np.setdiff1d(np.arange(len(classes)), unseen):
                rows = rng.permutation(np.flatnonzero(y_idx == c))
                n_test = round(self.test_size * len(rows))
                n_test = min(max(n_test, 1), len(rows) - 1) if len(rows) > 1 else 0
                test.append(rows[:n_test])
                train.append(rows[n_test:])
            yield np.sort(np.concatenate(train)), np.sort(np.concatenate(test))

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of splits.

        Parameters
        ----------
        X, y, groups : object
            Ignored.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits
