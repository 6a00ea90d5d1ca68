"""Cross-validation for zero-shot classifiers: class-disjoint and pseudo-unseen folds.

A zero-shot classifier is judged on labels it never saw in training. Splitting
the *classes*, not the samples, into folds reproduces that setting inside
:func:`~sklearn.model_selection.cross_val_score` and
:class:`~sklearn.model_selection.GridSearchCV` (:class:`ClassDisjointKFold`).
For generalized zero-shot tuning, :class:`PseudoUnseenSplit` makes folds that
hold seen and pseudo-unseen labels, from seen labels only.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.model_selection import BaseCrossValidator, GroupKFold
from sklearn.utils import check_random_state
from sklearn.utils.validation import column_or_1d

from ._docstrings import fill_doc
from ._formatting import name_some

__all__ = ["ClassDisjointKFold", "PseudoUnseenSplit"]


@fill_doc
class ClassDisjointKFold(BaseCrossValidator):
    """K-fold cross-validation whose test classes are unseen in training.

    The distinct values of ``y`` are split into ``n_splits`` folds; the test
    set of fold ``i`` holds every sample of the classes of fold ``i``, and the
    training set every other sample. So no class of a test fold appears in
    its training fold: each split is a zero-shot problem, as in the ConSE
    evaluation (Norouzi et al., 2014), and a zero-shot estimator such as
    :class:`sk_conse.ConSEClassifier` with ``candidate_labels="unseen"``
    ranks exactly the test classes (plus any other embedded label unseen in
    fit).

    This is :class:`~sklearn.model_selection.GroupKFold` with
    ``groups=y``: classes are assigned to folds so that the folds hold about
    the same number of samples, and ``shuffle=True`` randomises that
    assignment.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2 and at most the number of classes. Each
        training fold must hold two classes or more, so that a classifier
        can be fitted on it, so ``y`` needs 3 classes or more, and with
        ``n_splits=2`` two classes or more in each fold (at least 4
        classes).
    shuffle : bool, default=False
        Whether to shuffle the classes before assigning them to folds.
    random_state : int, RandomState instance or None, default=None
        Controls the shuffling when ``shuffle=True``; must be None otherwise.

    See Also
    --------
    sklearn.model_selection.GroupKFold : The same split, given ``groups=y``.
    sklearn.model_selection.GroupShuffleSplit : Random class-disjoint splits
        with ``groups=y``.
    sk_conse.metrics.make_hit_at_k_scorer : A scorer for these folds.

    %(references_norouzi2014)s

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse.model_selection import ClassDisjointKFold
    >>> X = np.zeros((6, 1))
    >>> y = np.array(["cat", "cat", "dog", "car", "car", "bus"])
    >>> cv = ClassDisjointKFold(n_splits=2)
    >>> cv
    ClassDisjointKFold(n_splits=2, random_state=None, shuffle=False)
    >>> for train, test in cv.split(X, y):
    ...     print(np.unique(y[train]), np.unique(y[test]))
    ['bus' 'car'] ['cat' 'dog']
    ['cat' 'dog'] ['bus' 'car']
    """

    def __init__(
        self, n_splits: int = 5, *, shuffle: bool = False, random_state: Any = None
    ) -> None:
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def _group_k_fold(self) -> GroupKFold:
        n_splits = self.n_splits
        if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral):
            raise TypeError(f"n_splits must be an integer, got {n_splits!r}.")
        if n_splits < 2:
            raise ValueError(
                f"n_splits must be at least 2 (one test fold and a training "
                f"fold), got {n_splits}."
            )
        if not isinstance(self.shuffle, (bool, np.bool_)):
            raise TypeError(f"shuffle must be True or False, got {self.shuffle!r}.")
        if not self.shuffle and self.random_state is not None:
            raise ValueError(
                "Setting a random_state has no effect since shuffle is False. "
                "Leave random_state=None or set shuffle=True."
            )
        return GroupKFold(
            n_splits=int(n_splits),
            shuffle=bool(self.shuffle),
            random_state=self.random_state,
        )

    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Generate indices that split the data into class-disjoint folds.

        No class of a test fold occurs in its training fold.

        %(parameters_yields_split)s

        Raises
        ------
        ValueError
            If ``y`` is missing, is not 1-D, does not match ``X`` in length,
            or holds fewer classes than ``n_splits``; or if a training fold
            would hold a single class: ``y`` has fewer than 3 classes, or
            ``n_splits=2`` puts all the classes but one in a test fold (3
            classes, or one class with as many samples as all the others).
            Checked before any split is yielded.
        """
        group_k_fold = self._group_k_fold()
        if y is None:
            raise ValueError(
                "ClassDisjointKFold.split needs y: the classes define the folds."
            )
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(
                f"y must be a 1-D array of class labels, got shape {y.shape}."
            )
        _check_same_length(X, y)
        n_classes = np.unique(y).shape[0]
        if n_classes < 3:
            raise ValueError(
                f"ClassDisjointKFold needs at least 3 classes, y holds "
                f"{n_classes} ({name_some(np.unique(y).tolist())}): a test fold "
                f"takes at least one class, and its training fold needs two for "
                f"a classifier to fit. Give y more classes."
            )
        if n_classes < self.n_splits:
            raise ValueError(
                f"Cannot split {n_classes} classes into n_splits={self.n_splits} "
                f"class-disjoint folds: each test fold needs at least one class. "
                f"Use n_splits <= {n_classes}."
            )
        splits = list(group_k_fold.split(X, y, groups=y))
        for i, (train, _) in enumerate(splits):
            trained_on = np.unique(y[train])
            if trained_on.shape[0] < 2:
                raise ValueError(
                    f"ClassDisjointKFold(n_splits={self.n_splits}) would train "
                    f"fold {i} on one class only ({name_some(trained_on.tolist())}"
                    f"): its test fold takes the other {n_classes - 1} of the "
                    f"{n_classes} classes, and a classifier needs two classes to "
                    f"fit. Use n_splits=3 or more (at most {n_classes}): every "
                    f"training fold then holds two classes or more."
                )
        yield from splits

    def _iter_test_indices(
        self, X: Any = None, y: Any = None, groups: Any = None
    ) -> Iterator[np.ndarray]:
        for _, test in self.split(X, y, groups):
            yield test

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Return the number of splitting iterations.

        Parameters
        ----------
        X : object
            Always ignored, exists for API compatibility.
        y : object
            Always ignored, exists for API compatibility.
        groups : object
            Always ignored, exists for API compatibility.

        Returns
        -------
        n_splits : int
            The ``n_splits`` parameter.

        Examples
        --------
        >>> from sk_conse.model_selection import ClassDisjointKFold
        >>> ClassDisjointKFold(3).get_n_splits()
        3
        """
        return self.n_splits


def _check_same_length(X: Any, y: np.ndarray) -> None:
    """Raise unless ``X`` has one sample per entry of ``y``."""
    n_samples = len(X) if not hasattr(X, "shape") else X.shape[0]
    if n_samples != y.shape[0]:
        raise ValueError(
            f"X and y have different numbers of samples: {n_samples} != {y.shape[0]}."
        )


@fill_doc
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
    sk_conse.gzsl.make_harmonic_mean_scorer : Scores a fold by H.
    ClassDisjointKFold : Folds for plain zero-shot
        tuning, whose test folds hold unseen labels only.

    %(references_chao2016)s

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse.model_selection import PseudoUnseenSplit
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
        """Generate indices that split seen labels into seen and pseudo-unseen.

        Each test fold holds the samples of its pseudo-unseen labels and
        held-out samples of the labels that stay seen; its training fold, the
        other samples of the labels that stay seen.

        %(parameters_yields_split)s
        """
        if y is None:
            raise ValueError("PseudoUnseenSplit needs y, the labels, to split.")
        if not isinstance(self.n_splits, numbers.Integral) or self.n_splits < 1:
            raise ValueError(f"n_splits must be a positive int, got {self.n_splits}.")
        if not 0 < self.test_size < 1:
            raise ValueError(f"test_size must be in (0, 1), got {self.test_size!r}.")
        y = column_or_1d(np.asarray(y), warn=False)
        _check_same_length(X, y)
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
