"""The metric implementations: ranking metrics (flat hit@k, hierarchical
precision@k), calibration (expected calibration error) and generalized
zero-shot accuracies (seen / unseen, harmonic mean).

The public paths are :mod:`sk_conse.metrics` and :mod:`sk_conse.gzsl`; the
scorers in :mod:`sk_conse._scorers` build on the checks and top-k selection
here. Nothing here imports a scorer.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from sklearn.utils.validation import column_or_1d

from . import _backend
from ._docstrings import fill_doc
from ._formatting import name_some
from ._hierarchy import Hierarchy
from ._validation import check_k, is_nan, repeated
from .exceptions import TrivialScoreWarning

__all__ = [
    "expected_calibration_error",
    "harmonic_mean_score",
    "hierarchical_precision_at_k_score",
    "hit_at_k_score",
    "seen_unseen_accuracy",
]

# Rows of a score matrix passed at once to the top-k selection: 4M float64
# scores (32 MB), so its temporaries stay bounded for any number of rows.
_CHUNK_ELEMENTS = 1 << 22


# ---------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------


def _check_no_nan(values: np.ndarray, name: str) -> None:
    """Refuse NaN labels: NaN is not equal to itself, so it never matches."""
    if values.dtype.kind in "fc":
        nan = np.isnan(values)
    elif values.dtype == object:
        nan = np.fromiter((is_nan(v) for v in values.ravel().tolist()), bool)
    else:
        return
    if nan.any():
        raise ValueError(
            f"{name} contains NaN ({int(nan.sum())} of {nan.size} entries, first "
            f"at index {int(np.flatnonzero(nan)[0])}). NaN cannot be a label: it "
            f"is not equal to itself, so it never matches a label. Drop those "
            f"samples or give them a real label."
        )


def _check_y_true(y_true: Any) -> np.ndarray:
    y_true = np.asarray(y_true)
    if y_true.ndim != 1:
        raise ValueError(
            f"y_true must be a 1-D array of labels, got an array of shape "
            f"{y_true.shape}. Use np.ravel(y_true) for a column vector."
        )
    if y_true.shape[0] == 0:
        raise ValueError("y_true is empty: at least one sample is needed.")
    _check_no_nan(y_true, "y_true")
    return y_true


def _refuse_complex(raw: np.ndarray, name: str) -> None:
    """Refuse complex values, which NumPy would cast to real silently."""
    if np.iscomplexobj(raw):
        found = f"dtype {raw.dtype}"
    elif raw.dtype == object and any(isinstance(v, complex) for v in raw.flat):
        found = "complex entries in an object array"
    else:
        return
    raise ValueError(
        f"{name} must hold real numbers, got {found}. Casting to float would "
        f"drop the imaginary parts silently, and complex numbers have no order "
        f"to rank by: pass the real scores (for example np.abs({name}) or "
        f"{name}.real, whichever your model means)."
    )


def _binary_as_two_columns(y_score: np.ndarray) -> np.ndarray:
    """A 1-D binary decision function as two columns that rank alike.

    scikit-learn's binary classifiers (and ConSE with two candidates) return
    the score ``s`` of the second label minus that of the first. The columns
    ``(0, sign(s))`` rank exactly as ``(-s, s)`` would (the second label first
    when ``s > 0``, a tie won by the first when ``s == 0``), in any dtype:
    ``-s`` would wrap around for unsigned integers. (NaN becomes 0: the
    caller looks for NaN first.)
    """
    sign = (y_score > 0).astype(np.int8) - (y_score < 0).astype(np.int8)
    return np.column_stack([np.zeros_like(sign), sign])


def _exact_as_float64(raw: np.ndarray, as_float: np.ndarray) -> bool:
    """Whether ``raw`` converts to float64 without two scores becoming equal.

    Integers beyond 2**53 and long doubles may round to the same float64:
    such scores are ranked in their own dtype instead (ties would otherwise
    be invented and go to the first column).
    """
    if raw.dtype.kind in "bf" and raw.dtype.itemsize <= 8:
        return True
    if raw.dtype.kind in "iu":
        if raw.dtype.itemsize < 8 or raw.size == 0:
            return True
        # |v| <= 2**53 is exact in float64 (compared in raw's own dtype).
        limit = np.array(2**53, dtype=raw.dtype)
        low = raw.dtype.kind == "u" or bool((raw >= -limit).all())
        return low and bool((raw <= limit).all())
    with np.errstate(invalid="ignore"):  # compared in raw's own precision
        same = as_float.astype(raw.dtype) == raw if raw.dtype != object else None
    if same is None:  # Python objects: compare each value with its float
        same = np.fromiter(
            (f == v for f, v in zip(as_float.ravel().tolist(), raw.ravel().tolist())),
            bool,
            raw.size,
        )
    return bool(same.all())


def _check_y_score(y_score: Any, n_samples: int, labels: Any = None) -> np.ndarray:
    """``y_score`` as (n_samples, n_labels) scores that rank exactly.

    Scores are float64 when that conversion keeps every order and every
    difference between them (all float32 and float64 scores, integers up to
    2**53); other integers, long doubles and Python numbers are kept in their
    own dtype, so that scores which float64 would round to the same value
    are not made ties.

    A 1-D ``y_score`` with two ``labels`` is a binary decision function, as
    scikit-learn's binary classifiers (and sk_conse's estimators with two
    candidates) return it: the score of ``labels[1]`` minus that of
    ``labels[0]``.
    """
    try:
        raw = np.asarray(y_score)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"y_score must be a numeric array of shape (n_samples, n_labels): {exc}"
        ) from exc
    _refuse_complex(raw, "y_score")
    try:
        as_float = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"y_score must be a numeric array of shape (n_samples, n_labels); "
            f"it could not be converted to float: {exc}"
        ) from exc
    nan = np.isnan(as_float)  # before a binary score turns into columns
    if labels is not None and raw.ndim == 1 and len(labels) == 2:
        raw = _binary_as_two_columns(raw)
        as_float = raw.astype(np.float64)
    if raw.ndim != 2:
        raise ValueError(
            f"y_score must be a 2-D array of shape (n_samples, n_labels), got "
            f"shape {raw.shape}. A 1-D binary decision function needs "
            f"labels= with its two labels, the positive one second."
        )
    _check_rows_and_columns(raw, n_samples, "y_score")
    nan_rows = nan.reshape(n_samples, -1).any(axis=1)
    if nan_rows.any():
        raise ValueError(
            f"y_score contains NaN in {int(nan_rows.sum())} of {n_samples} rows "
            f"(first at row {int(np.flatnonzero(nan_rows)[0])}); rankings are "
            f"undefined. Replace NaN by -np.inf to rank such labels last."
        )
    if _exact_as_float64(raw, as_float):
        return as_float
    if raw.dtype == object:
        try:
            np.argsort(raw[:1], axis=1, kind="stable")
        except TypeError as exc:
            raise ValueError(
                f"y_score holds Python objects that cannot be ordered ({exc}); "
                f"pass numbers of one type."
            ) from exc
    return raw


def _check_sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), got {sample_weight.shape}."
        )
    if not np.isfinite(sample_weight).all() or (sample_weight < 0).any():
        raise ValueError("sample_weight must be finite and non-negative.")
    if sample_weight.sum() <= 0:
        raise ValueError("sample_weight sums to zero: the average is undefined.")
    return sample_weight


def _label_index(labels: Any, name: str = "labels") -> tuple[np.ndarray, dict]:
    """Return ``labels`` as a 1-D array and a mapping label -> column index."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {labels.shape}.")
    if labels.shape[0] == 0:
        raise ValueError(f"{name} is empty: at least one label is needed.")
    _check_no_nan(labels, name)
    index = {label: i for i, label in enumerate(labels.tolist())}
    if len(index) != labels.shape[0]:
        raise ValueError(
            f"{name} must be unique; repeated: "
            f"{name_some(dict.fromkeys(repeated(labels.tolist())), limit=5)}."
        )
    return labels, index


def _sorted_distinct(y_true: np.ndarray) -> np.ndarray:
    """The sorted distinct labels of ``y_true``, or an error that names the
    label types when they cannot be sorted together (``["a", 1]``)."""
    try:
        return np.unique(y_true)
    except TypeError:
        types = dict.fromkeys(type(v).__name__ for v in y_true.tolist())
        raise TypeError(
            f"y_true mixes labels of types {', '.join(types)}, which cannot be "
            f"sorted together, so the columns of y_score cannot be matched to "
            f"sorted labels. Pass labels=<the label of each column of y_score> "
            f"(for a classifier, its classes_), or give every label one type "
            f"(for example all str)."
        ) from None


def _encode(values: np.ndarray, index: dict, what: str, where: str) -> np.ndarray:
    """Map each entry of ``values`` to its position in ``index``.

    Works on distinct values only, so it stays fast for many samples.
    """
    try:
        uniques, inverse = np.unique(values, return_inverse=True)
    except TypeError:  # mixed types that cannot be sorted
        uniques = np.array(list(dict.fromkeys(values.ravel().tolist())), dtype=object)
        position = {value: i for i, value in enumerate(uniques.tolist())}
        inverse = np.array([position[v] for v in values.ravel().tolist()])
    codes = np.array([index.get(u, -1) for u in uniques.tolist()], dtype=np.intp)
    missing = uniques[codes < 0]
    if missing.size:
        shown = ", ".join(repr(m) for m in missing[:5].tolist())
        more = f" and {missing.size - 5} more" if missing.size > 5 else ""
        raise ValueError(
            f"{what} contains {missing.size} label(s) not in {where}: {shown}{more}."
        )
    return codes[inverse.reshape(values.shape)]


def _resolve_labels(
    y_true: np.ndarray, labels: Any, n_columns: int
) -> tuple[np.ndarray, dict, np.ndarray]:
    """Return the column labels, their index and ``y_true`` as column indices."""
    if labels is None:
        labels = _sorted_distinct(y_true)
        if labels.shape[0] != n_columns:
            raise ValueError(
                f"y_true holds {labels.shape[0]} distinct labels but y_score has "
                f"{n_columns} columns. Pass labels=<the label of each column of "
                f"y_score> (for a classifier, its classes_)."
            )
    labels, index = _label_index(labels)
    if labels.shape[0] != n_columns:
        raise ValueError(
            f"labels has {labels.shape[0]} entries but y_score has {n_columns} "
            f"columns; labels[j] must name column j of y_score."
        )
    return labels, index, _encode(y_true, index, "y_true", "labels")


class _Ranking(NamedTuple):
    """The checked inputs of a ranking metric."""

    k: int
    y_score: np.ndarray
    sample_weight: np.ndarray | None
    labels: np.ndarray  # of the columns of y_score
    index: dict  # label -> column
    y_idx: np.ndarray  # the column of each true label


def _check_ranking(
    y_true: Any, y_score: Any, k: Any, labels: Any, sample_weight: Any
) -> _Ranking:
    """Check the arguments of :func:`hit_at_k_score` and
    :func:`hierarchical_precision_at_k_score`, and resolve the labels."""
    k = check_k(k)
    y_true = _check_y_true(y_true)
    n_samples = y_true.shape[0]
    y_score = _check_y_score(y_score, n_samples, labels)
    sample_weight = _check_sample_weight(sample_weight, n_samples)
    labels, index, y_idx = _resolve_labels(y_true, labels, y_score.shape[1])
    return _Ranking(k, y_score, sample_weight, labels, index, y_idx)


def _top_k_columns(y_score: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the ``k`` largest scores of each row, best first.

    Ties go to the smaller column index (as a stable sort of ``-y_score``,
    and ``np.argmax`` for ``k=1``). float64 scores go through the engine's
    :func:`sk_conse._backend.top_k`; scores kept in another dtype by
    :func:`_check_y_score` (because float64 would round some of them to the
    same value) are sorted in that dtype. Either runs on chunks of about
    ``_CHUNK_ELEMENTS`` scores, so that memory stays bounded.
    """
    n_samples, n_labels = y_score.shape
    k = min(k, n_labels)
    if y_score.dtype == np.float64:
        select = lambda rows: _backend.top_k(rows, k)[0]  # noqa: E731
    else:
        select = lambda rows: _stable_top_k(rows, k)  # noqa: E731
    step = max(1, _CHUNK_ELEMENTS // n_labels)
    if step >= n_samples:
        return np.asarray(select(y_score), dtype=np.intp)
    out = np.empty((n_samples, k), dtype=np.intp)
    for start in range(0, n_samples, step):
        out[start : start + step] = select(y_score[start : start + step])
    return out


def _stable_top_k(y_score: np.ndarray, k: int) -> np.ndarray:
    """Top-k columns by a stable sort in ``y_score``'s own dtype.

    A stable ascending sort of the columns in reverse order, reversed, is a
    descending order whose ties keep the smaller column first; it needs no
    negation, which unsigned integers would wrap around.
    """
    last = y_score.shape[1] - 1
    ascending = np.argsort(y_score[:, ::-1], axis=1, kind="stable")
    return last - ascending[:, : -k - 1 : -1]


def _warn_if_trivial(k: int, n_labels: int, where: str, stacklevel: int) -> None:
    """Warn that hit@k is 1 for any scores when ``n_labels <= k``."""
    if n_labels > k:
        return
    where = where.format(n=n_labels)
    warnings.warn(
        f"hit@{k} is 1 whatever the scores: {where}, no more than k={k}, so "
        f"every label is among the {k} best and every sample is a hit. Use "
        f"k < {n_labels}, or rank more candidate labels (on class-disjoint "
        f"folds: fewer folds, so that each test fold holds more than {k} "
        f"labels).",
        TrivialScoreWarning,
        stacklevel=stacklevel,
    )


def _weighted_mean(values: np.ndarray, sample_weight: np.ndarray | None) -> float:
    return float(np.average(values, weights=sample_weight))


# ---------------------------------------------------------------------------
# Hierarchy helpers
# ---------------------------------------------------------------------------


def _check_labels_in_hierarchy(labels: np.ndarray, hierarchy: Hierarchy) -> None:
    missing = [label for label in labels.tolist() if label not in hierarchy]
    if missing:
        raise ValueError(
            f"{len(missing)} label(s) are not nodes of the hierarchy: "
            f"{name_some(missing, limit=5)}. Every candidate label must appear in "
            f"the hierarchy. For WordNet ids (ImageNet labels), pass "
            f"hierarchy=sk_conse.wordnet.WordNet(): the whole WordNet noun "
            f"is-a graph, on which hierarchical precision@k is defined."
        )


def _hit_at_k_from_top_k(
    y_idx: np.ndarray, top_k: np.ndarray, sample_weight: np.ndarray | None
) -> float:
    hits = (top_k == y_idx[:, None]).any(axis=1)
    return _weighted_mean(hits, sample_weight)


def _hierarchical_precision_from_top_k(
    y_idx: np.ndarray,
    top_k: np.ndarray,
    labels: np.ndarray,
    index: dict,
    hierarchy: Hierarchy,
    sample_weight: np.ndarray | None,
) -> float:
    """Hierarchical precision@k from precomputed top-k column indices.

    ``k`` is ``top_k.shape[1]``. Correct sets are computed once per distinct
    true label.
    """
    k = top_k.shape[1]
    _check_labels_in_hierarchy(labels, hierarchy)
    precision = np.empty(y_idx.shape[0], dtype=np.float64)
    label_list = labels.tolist()
    distinct, inverse = np.unique(y_idx, return_inverse=True)
    for j, label_idx in enumerate(distinct.tolist()):
        rows = inverse == j
        found = hierarchy.correct_set(label_list[label_idx], k, index)
        correct = np.fromiter((index[label] for label in found), np.intp, len(found))
        precision[rows] = np.isin(top_k[rows], correct).sum(axis=1) / k
    return _weighted_mean(precision, sample_weight)


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


@fill_doc
def hit_at_k_score(
    y_true: Any,
    y_score: Any,
    *,
    k: int = 1,
    labels: Any = None,
    sample_weight: Any = None,
) -> float:
    """Flat hit@k: fraction of samples whose true label is among the k best.

    The ``k`` labels with the largest scores are taken for each sample; the
    sample is a hit when its true label is one of them. This is the "flat
    hit@k" of Frome et al. (2013) and Norouzi et al. (2014), and the same
    quantity as :func:`sklearn.metrics.top_k_accuracy_score`, except for ties
    (see Notes) and that ``y_true`` may hold any subset of ``labels``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_score : array-like of shape (n_samples, n_labels)
        Scores (probabilities, decision values, similarities); larger is
        better. Column ``j`` scores ``labels[j]``. ``-inf`` is allowed, NaN is
        not. Scores are ranked exactly in any real dtype: integers beyond
        2**53 and long doubles, which float64 would round together, are
        compared in their own dtype.
    k : int, default=1
        Number of best-scored labels counted as predictions. A ``k`` larger
        than ``n_labels`` is clipped to ``n_labels``. With ``n_labels <= k``
        every sample is a hit whatever the scores: the score is 1 and a
        :class:`~sk_conse.exceptions.TrivialScoreWarning` says so.
    labels : array-like of shape (n_labels,), default=None
        The label of each column of ``y_score``, in column order (it need not
        be sorted). ``y_true`` may hold only some of them. If None, the sorted
        distinct values of ``y_true`` are used, and there must be exactly
        ``n_labels`` of them.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights.

    Returns
    -------
    score : float
        The (weighted) fraction of hits, in ``[0, 1]``.

    Raises
    ------
    ValueError
        If the shapes disagree, ``y_true`` holds a label that is not in
        ``labels``, ``labels`` repeats a label, ``y_true`` or ``labels``
        contains NaN, or ``y_score`` contains NaN.
    TypeError
        If ``labels`` is None and ``y_true`` mixes label types that cannot be
        sorted together (``["a", 1]``).
    InvalidParameterError
        If ``k`` is not an integer >= 1 (a subclass of both
        :class:`ValueError` and :class:`TypeError`).

    See Also
    --------
    hierarchical_precision_at_k_score : Gives partial credit to labels close
        to the true label in a hierarchy.
    make_hit_at_k_scorer : Scorer for cross-validation and grid search.
    sklearn.metrics.top_k_accuracy_score : The scikit-learn counterpart.

    Notes
    -----
    Ties are broken in favour of the smaller column index, as a stable sort
    of ``-y_score`` does and as ``np.argmax`` does for ``k=1``; so hit@1 is
    the accuracy of ``labels[np.argmax(y_score, axis=1)]``, the prediction of
    a scikit-learn classifier. :func:`sklearn.metrics.top_k_accuracy_score`
    reverses a stable ascending sort and so favours the *larger* index on
    ties; both agree whenever the scores of a row are distinct.

    %(references_frome2013_norouzi2014)s

    Examples
    --------
    >>> from sk_conse.metrics import hit_at_k_score
    >>> y_true = ["cat", "dog", "cat"]
    >>> y_score = [[0.5, 0.3, 0.2],
    ...            [0.6, 0.1, 0.3],
    ...            [0.1, 0.3, 0.6]]
    >>> labels = ["cat", "cow", "dog"]
    >>> hit_at_k_score(y_true, y_score, k=1, labels=labels)
    0.3333333333333333
    >>> hit_at_k_score(y_true, y_score, k=2, labels=labels)
    0.6666666666666666
    """
    r = _check_ranking(y_true, y_score, k, labels, sample_weight)
    _warn_if_trivial(r.k, r.y_score.shape[1], "y_score has {n} column(s)", 3)
    top_k = _top_k_columns(r.y_score, r.k)
    return _hit_at_k_from_top_k(r.y_idx, top_k, r.sample_weight)


@fill_doc
def hierarchical_precision_at_k_score(
    y_true: Any,
    y_score: Any,
    *,
    k: int,
    hierarchy: Any,
    labels: Any = None,
    sample_weight: Any = None,
) -> float:
    """Hierarchical precision@k of Frome et al. (2013), as used by ConSE.

    For each sample, a set of *correct* labels starts as the true label and
    grows one hop at a time through the hierarchy, edges followed in both
    directions and through any node of the hierarchy (internal nodes that
    are not candidates included), keeping only the candidate labels
    (``labels``), until it holds at least ``k`` labels or no node is left to
    reach. A whole hop is added at once, so the set may exceed ``k``. The
    sample's score is the fraction of its ``k`` best-scored labels that are
    in that set; the result is the average over samples.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels; each must be one of ``labels``.
    y_score : array-like of shape (n_samples, n_labels)
        Scores, larger is better; column ``j`` scores ``labels[j]``. Ties go
        to the smaller column index, as in :func:`hit_at_k_score`.
    k : int
        Number of best-scored labels counted as predictions. A ``k`` larger
        than ``n_labels`` is clipped to ``n_labels``.
    hierarchy : networkx graph, mapping, Hierarchy or WordNet
        The label hierarchy: a :class:`networkx.DiGraph` with edges parent ->
        child (any networkx graph works, edge direction is ignored), a
        mapping child -> iterable of parents (a single parent may be given
        as is; None or an empty collection for no parent), a
        :class:`sk_conse.hierarchy.Hierarchy`, or a
        :class:`sk_conse.wordnet.WordNet` (the whole noun hierarchy). Every
        label of ``labels`` must be a node; nodes must be hashable and not
        NaN. For ImageNet / WordNet ids pass the :class:`~sk_conse.wordnet.WordNet`
        itself: the measure of Frome et al. and Norouzi et al. counts hops in
        the whole is-a graph. A graph over the labels' ancestors only, such
        as :meth:`~sk_conse.wordnet.WordNet.hierarchy_for` returns, lacks the
        paths through descendants and other synsets, so its hop distances
        can be longer and its scores differ.
    labels : array-like of shape (n_labels,), default=None
        The candidate labels: the label of each column of ``y_score``. If
        None, the sorted distinct values of ``y_true``.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights.

    Returns
    -------
    score : float
        The (weighted) mean hierarchical precision, in ``[0, 1]``. With
        ``k=1`` it equals :func:`hit_at_k_score`.

    Raises
    ------
    ValueError
        For the errors of :func:`hit_at_k_score`, and when a label is not a
        node of ``hierarchy`` or a node is NaN (the message names it).
    TypeError
        If ``hierarchy`` is of none of the accepted types, or holds an
        unhashable node (the message names it).

    See Also
    --------
    hit_at_k_score : The flat measure.
    make_hierarchical_precision_scorer : Scorer for cross-validation.
    sk_conse.wordnet.WordNet : Builds the WordNet is-a hierarchy.

    References
    ----------
    .. [1] %(frome2013)s
       (Definition of hierarchical precision@k.)
    .. [2] %(norouzi2014)s (Table 2.)

    Examples
    --------
    ``dog`` and ``wolf`` share the parent ``canine``, which is not a
    candidate, so they are two hops apart; ``cat`` and ``lion`` likewise
    under ``feline``.

    >>> from sk_conse.metrics import hierarchical_precision_at_k_score
    >>> hierarchy = {"dog": "canine", "wolf": "canine", "canine": "carnivore",
    ...              "cat": "feline", "lion": "feline", "feline": "carnivore"}
    >>> labels = ["cat", "dog", "lion", "wolf"]
    >>> y_score = [[0.1, 0.3, 0.2, 0.4]]  # ranks wolf, dog, lion, cat
    >>> hierarchical_precision_at_k_score(
    ...     ["dog"], y_score, k=2, hierarchy=hierarchy, labels=labels)
    1.0
    >>> hierarchical_precision_at_k_score(
    ...     ["cat"], y_score, k=2, hierarchy=hierarchy, labels=labels)
    0.0
    """
    r = _check_ranking(y_true, y_score, k, labels, sample_weight)
    hierarchy = Hierarchy(hierarchy)
    top = _top_k_columns(r.y_score, r.k)
    return _hierarchical_precision_from_top_k(
        r.y_idx, top, r.labels, r.index, hierarchy, r.sample_weight
    )


def _check_y_prob(y_prob: Any, n_samples: int) -> np.ndarray:
    """Probabilities of shape (n_samples, n_labels): finite, in [0, 1], rows
    summing to 1."""
    raw = np.asarray(y_prob)
    _refuse_complex(raw, "y_prob")
    if raw.dtype.kind not in "biuf":
        raise ValueError(
            "y_prob must be a numeric array of shape (n_samples, n_labels), got "
            f"dtype {raw.dtype}."
        )
    if raw.ndim != 2:
        raise ValueError(
            "y_prob must be a 2-D array of shape (n_samples, n_labels), the "
            f"output of predict_proba; got shape {raw.shape}. For the "
            "probabilities p of the positive class of a binary problem, pass "
            "np.column_stack([1 - p, p])."
        )
    _check_rows_and_columns(raw, n_samples, "y_prob")
    # Rows must sum to 1 up to the rounding of the input's own dtype.
    dtype = raw.dtype if raw.dtype.kind == "f" else np.float64
    y_prob = raw.astype(np.float64)
    bad = ~np.isfinite(y_prob).all(axis=1) | (y_prob < 0).any(axis=1)
    bad |= (y_prob > 1).any(axis=1)
    if bad.any():
        raise ValueError(
            f"y_prob must hold probabilities in [0, 1]; {int(bad.sum())} of "
            f"{n_samples} rows do not (first at row {int(np.flatnonzero(bad)[0])}). "
            "Pass predict_proba, not decision_function."
        )
    sums = y_prob.sum(axis=1)
    off = ~np.isclose(sums, 1.0, rtol=0.0, atol=np.sqrt(np.finfo(dtype).eps))
    if off.any():
        first = int(np.flatnonzero(off)[0])
        raise ValueError(
            f"The rows of y_prob must sum to 1; {int(off.sum())} of {n_samples} "
            f"do not (row {first} sums to {float(sums[first]):.6g}). Pass "
            "predict_proba, one column per label."
        )
    return y_prob


def expected_calibration_error(
    y_true: Any,
    y_prob: Any,
    *,
    labels: Any = None,
    n_bins: int = 15,
) -> float:
    """Top-label expected calibration error (ECE) of predicted probabilities.

    Each sample's *confidence* is its largest probability, and its prediction
    the label of that column. The confidences are put in ``n_bins``
    equal-width bins over [0, 1]; in each bin, the gap between the accuracy
    of the predictions and the mean confidence is weighted by the fraction of
    samples in the bin:

    .. math::

        \\mathrm{ECE} = \\sum_{m=1}^{M} \\frac{|B_m|}{n}
        \\left| \\mathrm{acc}(B_m) - \\mathrm{conf}(B_m) \\right|.

    0 is perfectly calibrated: among the samples predicted with confidence
    0.8, 80 % are right. It measures calibration only, not accuracy: a
    model predicting the uniform distribution for every sample of a balanced
    problem has an ECE of 0.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_labels)
        Predicted probabilities, as returned by ``predict_proba``: in [0, 1],
        each row summing to 1. Column ``j`` is ``labels[j]``.
    labels : array-like of shape (n_labels,), default=None
        The label of each column of ``y_prob`` (for a classifier, its
        ``classes_``). ``y_true`` may hold only some of them. If None, the
        sorted distinct values of ``y_true`` are used, and there must be
        exactly ``n_labels`` of them.
    n_bins : int, default=15
        Number of equal-width confidence bins; bin ``m`` is the interval
        ``((m - 1) / n_bins, m / n_bins]`` (the first one includes 0). Empty
        bins count for nothing. 15 is the value of Guo et al. (2017).

    Returns
    -------
    ece : float
        In [0, 1]; smaller is better.

    Raises
    ------
    ValueError
        If ``y_prob`` is not a 2-D array of probabilities with rows summing
        to 1 (up to the rounding of its dtype), the shapes disagree,
        ``y_true`` holds a label not in ``labels``, or labels contain NaN.
    InvalidParameterError
        If ``n_bins`` is not an integer >= 1.

    See Also
    --------
    sklearn.calibration.calibration_curve : The per-bin accuracies and
        confidences of a reliability diagram: given whether each prediction
        is right and its confidence, its ``strategy="uniform"`` bins are
        these equal-width bins.
    sklearn.metrics.log_loss : A proper scoring rule, sensitive to both
        calibration and accuracy; the score to tune ``temperature`` with.

    Notes
    -----
    Ties between the largest probabilities of a row go to the first column,
    as ``np.argmax`` and a scikit-learn classifier's ``predict`` do. ECE
    depends on ``n_bins``: compare values computed with the same bins.

    References
    ----------
    .. [1] M. P. Naeini, G. F. Cooper and M. Hauskrecht. "Obtaining Well
       Calibrated Probabilities Using Bayesian Binning". AAAI 2015.
    .. [2] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger. "On Calibration of
       Modern Neural Networks". ICML 2017.

    Examples
    --------
    >>> from sk_conse.metrics import expected_calibration_error
    >>> y_true = ["cat", "dog", "dog", "cat"]
    >>> y_prob = [[0.9, 0.1],
    ...           [0.2, 0.8],
    ...           [0.6, 0.4],
    ...           [0.7, 0.3]]
    >>> ece = expected_calibration_error(y_true, y_prob, labels=["cat", "dog"],
    ...                                  n_bins=5)
    >>> round(ece, 6)
    0.3

    The predictions are cat (0.9, right), dog (0.8, right), cat (0.6,
    wrong) and cat (0.7, right). Bin (0.8, 1] holds the first: accuracy 1,
    confidence 0.9; bin (0.6, 0.8] the second and fourth: accuracy 1, mean
    confidence 0.75; bin (0.4, 0.6] the third: accuracy 0, confidence 0.6.
    ECE = 1/4 x 0.1 + 2/4 x 0.25 + 1/4 x 0.6 = 0.3.
    """
    n_bins = check_k(n_bins, name="n_bins")
    y_true = _check_y_true(y_true)
    y_prob = _check_y_prob(y_prob, y_true.shape[0])
    _, _, y_idx = _resolve_labels(y_true, labels, y_prob.shape[1])
    predicted = np.argmax(y_prob, axis=1)
    confidence = y_prob[np.arange(y_prob.shape[0]), predicted]
    correct = (predicted == y_idx).astype(np.float64)
    # Right-closed bins ((m - 1) / M, m / M]; the inner edges m / M are
    # computed as divisions so that a confidence of exactly m / M (0.6 for
    # M = 5) falls in the bin it closes.
    inner_edges = np.arange(1, n_bins) / n_bins
    bins = np.searchsorted(inner_edges, confidence, side="left")
    # sum over bins of |sum of (correct - confidence)| / n is
    # sum of |B_m| / n x |acc(B_m) - conf(B_m)|.
    gap = np.bincount(bins, weights=correct - confidence, minlength=n_bins)
    return float(np.abs(gap).sum() / y_true.shape[0])


def _check_rows_and_columns(scores: np.ndarray, n_samples: int, name: str) -> None:
    """A 2-D ``scores`` has one row per sample of ``y_true`` and a column."""
    if scores.shape[0] != n_samples:
        raise ValueError(
            f"y_true and {name} have different numbers of samples: "
            f"{n_samples} != {scores.shape[0]}."
        )
    if scores.shape[1] == 0:
        raise ValueError(f"{name} has no columns: at least one label is needed.")


# ---------------------------------------------------------------------------
# Generalized zero-shot learning
# ---------------------------------------------------------------------------


_DEPRECATED = object()


def _renamed_seen_labels(metric: Callable) -> Callable:
    """Let ``metric`` take ``seen_labels``, the former name of its keyword
    ``seen_classes`` (named after the fitted attribute ``seen_classes_``),
    with a FutureWarning."""

    @functools.wraps(metric)
    def accepting(*args: Any, seen_labels: Any = _DEPRECATED, **kwargs: Any) -> Any:
        if seen_labels is not _DEPRECATED:
            if "seen_classes" in kwargs:
                raise TypeError(
                    "Pass seen_classes only: seen_labels is its deprecated former name."
                )
            warnings.warn(
                "seen_labels was renamed seen_classes in 0.2, after the fitted "
                "attribute seen_classes_, and will be removed in 0.4: pass "
                "seen_classes= instead.",
                FutureWarning,
                stacklevel=2,
            )
            kwargs["seen_classes"] = seen_labels
        return metric(*args, **kwargs)

    return accepting


def _per_class_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    classes = np.unique(y_true)
    return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in classes]))


@_renamed_seen_labels
@fill_doc
def seen_unseen_accuracy(
    y_true: Any, y_pred: Any, *, seen_classes: Any
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
    y_true = column_or_1d(np.asarray(y_true, dtype=object), warn=False)
    y_pred = column_or_1d(np.asarray(y_pred, dtype=object), warn=False)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred have different lengths: {y_true.shape[0]} and "
            f"{y_pred.shape[0]}."
        )
    seen = np.isin(y_true, np.asarray(seen_classes, dtype=object).ravel())
    if not seen.any() or seen.all():
        which = "a seen" if not seen.any() else "an unseen"
        raise ValueError(
            f"y_true has no sample of {which} label: the seen / unseen "
            "accuracies of generalized zero-shot learning need both."
        )
    return (
        _per_class_accuracy(y_true[seen], y_pred[seen]),
        _per_class_accuracy(y_true[~seen], y_pred[~seen]),
    )


@_renamed_seen_labels
@fill_doc
def harmonic_mean_score(y_true: Any, y_pred: Any, *, seen_classes: Any) -> float:
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
    acc_s, acc_u = seen_unseen_accuracy(y_true, y_pred, seen_classes=seen_classes)
    if acc_s + acc_u == 0:
        return 0.0
    return 2 * acc_s * acc_u / (acc_s + acc_u)
