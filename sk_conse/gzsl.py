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
- :class:`~sk_conse.model_selection.PseudoUnseenSplit` (re-exported here), a
  cross-validator that turns some *seen*
  labels into pseudo-unseen labels in each fold, so that validation folds
  hold both seen and unseen labels without touching the real unseen labels.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.utils.validation import column_or_1d

from ._docstrings import fill_doc
from .model_selection import PseudoUnseenSplit

__all__ = [  # noqa: F822 (the scorer: see __getattr__)
    "PseudoUnseenSplit",
    "harmonic_mean_score",
    "make_harmonic_mean_scorer",
    "seen_unseen_accuracy",
]


_DEPRECATED = "deprecated"


def _renamed_seen_labels(
    seen_classes: Any, seen_labels: Any, stacklevel: int = 3
) -> Any:
    """``seen_classes``, or the deprecated ``seen_labels`` with a FutureWarning.

    The parameter is named after the fitted attribute it is usually given,
    ``seen_classes_``; ``seen_labels`` is its name before 0.2.
    """
    if isinstance(seen_labels, str) and seen_labels == _DEPRECATED:
        if seen_classes is None:
            raise TypeError(
                "seen_classes is required: the labels seen in training (for a "
                "fitted zero-shot estimator, its seen_classes_)."
            )
        return seen_classes
    if seen_classes is not None:
        raise TypeError(
            "Pass seen_classes only: seen_labels is its deprecated former name."
        )
    warnings.warn(
        "seen_labels was renamed seen_classes in 0.2, after the fitted "
        "attribute seen_classes_, and will be removed in 0.4: pass "
        "seen_classes= instead.",
        FutureWarning,
        stacklevel=stacklevel,
    )
    return seen_labels


def _per_class_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    classes = np.unique(y_true)
    return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in classes]))


@fill_doc
def seen_unseen_accuracy(
    y_true: Any,
    y_pred: Any,
    *,
    seen_classes: Any = None,
    seen_labels: Any = _DEPRECATED,
) -> tuple[float, float]:
    """Per-class-averaged accuracy on seen-label and on unseen-label samples.

    The accuracy of each true class is computed over its own samples, then
    averaged over the classes of each group (Xian et al., 2017), so that
    frequent classes do not dominate. A prediction counts as correct only if
    it is the true label among all candidates (seen and unseen).

    %(parameters_gzsl)s

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

    %(references_xian2017)s

    Examples
    --------
    >>> from sk_conse.gzsl import seen_unseen_accuracy
    %(example_gzsl)s
    >>> seen_unseen_accuracy(y_true, y_pred, seen_classes=["cat", "dog"])
    (0.75, 0.5)
    """
    seen_classes = _renamed_seen_labels(seen_classes, seen_labels)
    y_true = column_or_1d(np.asarray(y_true, dtype=object), warn=False)
    y_pred = column_or_1d(np.asarray(y_pred, dtype=object), warn=False)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred have different lengths: {y_true.shape[0]} and "
            f"{y_pred.shape[0]}."
        )
    seen = np.isin(y_true, np.asarray(seen_classes, dtype=object).ravel())
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


@fill_doc
def harmonic_mean_score(
    y_true: Any,
    y_pred: Any,
    *,
    seen_classes: Any = None,
    seen_labels: Any = _DEPRECATED,
) -> float:
    """Harmonic mean H of the seen and unseen per-class accuracies.

    ``H = 2 acc_s acc_u / (acc_s + acc_u)`` (0 when both are 0), the
    generalized zero-shot measure of Xian et al. (2017): it is high only when
    both seen and unseen labels are recognised, so a classifier that always
    predicts seen labels scores 0.

    %(parameters_gzsl)s

    Returns
    -------
    score : float
        H, in ``[0, 1]``.

    See Also
    --------
    seen_unseen_accuracy : The two accuracies.
    make_harmonic_mean_scorer : The scorer for ``GridSearchCV``.

    %(references_xian2017)s

    Examples
    --------
    >>> from sk_conse.gzsl import harmonic_mean_score
    %(example_gzsl)s
    >>> round(harmonic_mean_score(y_true, y_pred, seen_classes=["cat", "dog"]), 3)
    0.6
    """
    seen_classes = _renamed_seen_labels(seen_classes, seen_labels, stacklevel=3)
    acc_s, acc_u = seen_unseen_accuracy(y_true, y_pred, seen_classes=seen_classes)
    if acc_s + acc_u == 0:
        return 0.0
    return 2 * acc_s * acc_u / (acc_s + acc_u)


_SCORERS = ("make_harmonic_mean_scorer",)


def __getattr__(name: str) -> Any:
    # The scorers live in sk_conse._scorers, which builds on the function
    # above: re-exported lazily so that either module can be imported first.
    if name in _SCORERS:
        from . import _scorers

        return getattr(_scorers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
