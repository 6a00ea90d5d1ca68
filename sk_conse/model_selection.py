"""Class-disjoint cross-validation for zero-shot classifiers.

A zero-shot classifier is judged on labels it never saw in training. Splitting
the *classes*, not the samples, into folds reproduces that setting inside
:func:`~sklearn.model_selection.cross_val_score` and
:class:`~sklearn.model_selection.GridSearchCV`.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.model_selection import BaseCrossValidator, GroupKFold

from ._utils import name_some

__all__ = ["ClassDisjointKFold"]


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

    References
    ----------
    .. [1] M. Norouzi, T. Mikolov, S. Bengio, Y. Singer, J. Shlens, A. Frome,
       G. S. Corrado and J. Dean. "Zero-Shot Learning by Convex Combination of
       Semantic Embeddings". ICLR 2014.

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

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; only its length is used.
        y : array-like of shape (n_samples,)
            Class labels; required, they define the folds.
        groups : None
            Ignored, exists for API compatibility (``y`` plays its role).

        Yields
        ------
        train : ndarray
            The training set indices for that split.
        test : ndarray
            The testing set indices for that split; none of their classes
            occurs in ``train``.

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
        n_samples = len(X) if not hasattr(X, "shape") else X.shape[0]
        if n_samples != y.shape[0]:
            raise ValueError(
                f"X and y have different numbers of samples: {n_samples} != "
                f"{y.shape[0]}."
            )
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
