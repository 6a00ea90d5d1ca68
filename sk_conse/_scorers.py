"""Scorers for zero-shot models, built on the metrics of :mod:`sk_conse._metrics`.

A scorer, ``scorer(estimator, X, y)``, takes the label set from the fitted
estimator's ``classes_``, asks it for its ``k`` best labels only
(``predict_top_k``) when it can, and warns when a zero-shot model is scored on
labels it saw in fit. The public names are re-exported by
:mod:`sk_conse.metrics` (``make_hit_at_k_scorer``,
``make_hierarchical_precision_scorer``, ``make_proba_scorer``) and
:mod:`sk_conse.gzsl` (``make_harmonic_mean_scorer``), which import them.
"""

from __future__ import annotations

import contextlib
import warnings
import weakref
from typing import Any

import numpy as np
from sklearn.utils.metadata_routing import MetadataRequest
from sklearn.utils.validation import column_or_1d

from ._docstrings import fill_doc
from ._formatting import name_some
from ._hierarchy import Hierarchy, _is_graph
from ._metrics import (
    _check_sample_weight,
    _check_y_prob,
    _check_y_score,
    _check_y_true,
    _encode,
    _hierarchical_precision_from_top_k,
    _hit_at_k_from_top_k,
    _label_index,
    _top_k_columns,
    _warn_if_trivial,
    harmonic_mean_score,
)
from ._validation import check_k
from .exceptions import SeenLabelsScoredWarning

__all__ = [
    "make_harmonic_mean_scorer",
    "make_hierarchical_precision_scorer",
    "make_hit_at_k_scorer",
    "make_proba_scorer",
]


def _final_step_with_top_k(estimator: Any) -> tuple[Any, Any] | None:
    """Return ``(head, final)`` if ``estimator`` is a Pipeline whose last step
    has ``predict_top_k``; ``head`` transforms X for it (None: no transform).
    """
    steps = getattr(estimator, "steps", None)
    if not isinstance(steps, list) or not steps:
        return None
    final = steps[-1][1]
    if not hasattr(final, "predict_top_k"):
        return None
    head = estimator[:-1] if len(steps) > 1 else None
    return head, final


def _seen_labels_in(estimator: Any, y: Any) -> tuple[list, list, Any] | None:
    """For a fitted zero-shot model (one with ``seen_classes_`` and
    ``with_candidates``, also as a Pipeline's last step): the distinct labels
    of ``y``, those of them seen in fit, and a copy of the model that ranks
    its seen labels with its candidates when ``y`` needs it (else None).

    None for any other estimator, and for a ``y`` that is not 1-D (the usual
    checks then name the problem).
    """
    pipeline = _final_step_with_top_k(estimator)
    final = pipeline[1] if pipeline is not None else estimator
    if not (hasattr(final, "with_candidates") and hasattr(final, "seen_classes_")):
        return None
    y = np.asarray(y, dtype=object)
    if y.ndim != 1:
        return None
    labels = list(dict.fromkeys(y.tolist()))
    classes = list(dict.fromkeys(np.asarray(final.classes_, dtype=object).tolist()))
    seen = np.asarray(final.seen_classes_, dtype=object).tolist()
    seen_set, candidates = set(seen), set(classes)
    seen_in_y = [label for label in labels if label in seen_set]
    missing = [label for label in labels if label not in candidates]
    if not missing or not set(missing) <= seen_set:
        return labels, seen_in_y, None  # nothing to add, or the usual error
    # Seen labels that are not candidates: rank them with the candidates
    # (the generalized setting, seen_penalty applied as in predict).
    wider = final.with_candidates(list(dict.fromkeys(classes + seen)))
    if pipeline is not None:
        from sklearn.pipeline import Pipeline

        wider = Pipeline([*estimator.steps[:-1], (estimator.steps[-1][0], wider)])
    return labels, seen_in_y, wider


def _warn_seen_labels(
    scorer: Any,
    estimator: Any,
    labels: list,
    seen_in_y: list,
    wider: Any,
    stacklevel: int,
) -> None:
    if wider is not None:
        how = (
            "They are not candidate labels, so the model ranked its seen labels "
            "together with its candidates (the generalized setting)"
        )
    else:
        how = "They are candidate labels of the model, ranked with the others"
    warnings.warn(
        f"{scorer!r} scored this {type(estimator).__name__} on labels it was "
        f"trained on: {len(seen_in_y)} of the {len(labels)} labels of y were "
        f"seen in fit ({name_some(seen_in_y, limit=5)}). {how}: this is not a "
        f"zero-shot score. For zero-shot scores, test on labels unseen in "
        f"fit: split the classes with "
        f"cv=sk_conse.model_selection.ClassDisjointKFold(n_splits=...), not "
        f"with KFold or StratifiedKFold.",
        SeenLabelsScoredWarning,
        stacklevel=stacklevel,
    )


class _ZeroShotScorer:
    """Base of the scorers: sample weights, and the labels seen in fit."""

    def __init__(self) -> None:
        self._metadata_request = MetadataRequest(owner=self)
        self._tested = {}

    # The fitted models this scorer has scored on labels unseen in fit (a
    # test fold), by id, with a weak reference that drops the entry when the
    # model goes. scikit-learn scores a split's test fold before its
    # training fold (return_train_score=True), on the same fitted model.

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_tested"] = {}
        return state

    def _note_tested(self, estimator: Any) -> None:
        key = id(estimator)
        tested = self._tested
        # An object that cannot be weakly referenced is never seen as tested.
        with contextlib.suppress(TypeError):
            tested[key] = weakref.ref(estimator, lambda _, k=key: tested.pop(k, None))

    def _was_tested(self, estimator: Any) -> bool:
        ref = self._tested.get(id(estimator))
        return ref is not None and ref() is estimator

    def _for_labels_of(self, estimator: Any, y: Any, stacklevel: int = 5) -> Any:
        """The model to rank ``y``'s samples with; warns when ``y`` holds
        labels the model was trained on and this is not the training score
        that follows a test score. ``stacklevel`` points at the scorer's
        caller."""
        found = _seen_labels_in(estimator, y)
        if found is None:
            return estimator
        labels, seen_in_y, wider = found
        training_score = self._was_tested(estimator)
        if len(seen_in_y) < len(labels):
            self._note_tested(estimator)
        only_seen = len(seen_in_y) == len(labels)
        if seen_in_y and (only_seen or wider is not None) and not training_score:
            # Once per situation (model class, seen labels, setting) and
            # scorer: not again for every fold and grid point of a search.
            situation = (type(estimator).__name__, frozenset(seen_in_y), wider is None)
            warned = self.__dict__.setdefault("_warned", set())
            if situation not in warned:
                warned.add(situation)
                _warn_seen_labels(self, estimator, labels, seen_in_y, wider, stacklevel)
        return estimator if wider is None else wider

    @staticmethod
    def _true_columns(classes: Any, y: Any, use: str) -> tuple:
        """``y`` checked, the estimator's ``classes_`` and their index, and
        each true label's column in them; a label that is no candidate raises (it
        cannot be ``use``, e.g. "ranked")."""
        y_true = _check_y_true(y)
        classes, index = _label_index(classes, name="estimator.classes_")
        y_idx = _encode(
            y_true,
            index,
            "y",
            "the estimator's classes_ (its candidate labels): a test label "
            f"must be a candidate to be {use}",
        )
        return y_true, classes, index, y_idx

    def _accept_sample_weight(self) -> bool:
        # Read by scikit-learn's multi-metric scoring when metadata routing
        # is off: sample_weight is always accepted.
        return True

    def set_score_request(self, *, sample_weight: bool | str | None = None) -> Any:
        """Request ``sample_weight`` when metadata routing is enabled.

        Parameters
        ----------
        sample_weight : bool, str or None, default=None
            ``True`` to receive ``sample_weight`` from a meta-estimator (such
            as :class:`~sklearn.model_selection.GridSearchCV`) when
            ``sklearn.set_config(enable_metadata_routing=True)``.

        Returns
        -------
        self : object
            The scorer.
        """
        self._metadata_request = MetadataRequest(owner=self)
        self._metadata_request.score.add_request(
            param="sample_weight", alias=sample_weight
        )
        return self

    def get_metadata_routing(self) -> MetadataRequest:
        """Metadata requested by this scorer (see ``set_score_request``).

        Returns
        -------
        request : MetadataRequest
            The requested metadata.
        """
        return self._metadata_request

    def _routing_repr(self) -> str:
        return repr(self)


class _TopKScorer(_ZeroShotScorer):
    """Base of the ranking scorers: gets each sample's k best labels."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self._k = check_k(k)

    def _top_k(self, estimator: Any, X: Any, y: Any) -> tuple:
        estimator = self._for_labels_of(estimator, y)
        classes = getattr(estimator, "classes_", None)
        if classes is None:
            raise AttributeError(
                f"{self!r} needs a fitted classifier with a classes_ attribute "
                f"(the candidate labels); {type(estimator).__name__} has none. "
                f"Fit it first."
            )
        y_true, classes, index, y_idx = self._true_columns(classes, y, "ranked")
        k = min(self._k, classes.shape[0])
        n_samples = y_true.shape[0]
        pipeline = _final_step_with_top_k(estimator)
        if hasattr(estimator, "predict_top_k") or pipeline is not None:
            if hasattr(estimator, "predict_top_k"):
                top_labels, _ = estimator.predict_top_k(X, k)
            else:
                head, final = pipeline
                Xt = X if head is None else head.transform(X)
                top_labels, _ = final.predict_top_k(Xt, k)
            top_labels = np.asarray(top_labels)
            if top_labels.shape != (n_samples, k):
                raise ValueError(
                    f"predict_top_k(X, {k}) must return labels of shape "
                    f"({n_samples}, {k}), got {top_labels.shape}."
                )
            top_k = _encode(
                top_labels, index, "predict_top_k's output", "estimator.classes_"
            )
        else:
            # decision_function first: the exact scores the model ranks by,
            # where probabilities (a softmax at a small temperature, say) may
            # round to exactly 0 and make false ties.
            if hasattr(estimator, "decision_function"):
                y_score = estimator.decision_function(X)
            elif hasattr(estimator, "predict_proba"):
                y_score = estimator.predict_proba(X)
            else:
                raise AttributeError(
                    f"{type(estimator).__name__} has none of predict_top_k, "
                    f"decision_function and predict_proba; {self!r} needs one."
                )
            y_score = _check_y_score(y_score, n_samples, classes)
            if y_score.shape[1] != classes.shape[0]:
                raise ValueError(
                    f"The estimator's scores have {y_score.shape[1]} columns but "
                    f"it has {classes.shape[0]} classes_."
                )
            top_k = _top_k_columns(y_score, k)
        return y_idx, top_k, classes, index


class _HitAtKScorer(_TopKScorer):
    def __call__(
        self, estimator: Any, X: Any, y: Any, sample_weight: Any = None
    ) -> float:
        y_idx, top_k, classes, _ = self._top_k(estimator, X, y)
        where = "the estimator ranks {n} candidate label(s) (its classes_)"
        _warn_if_trivial(self._k, classes.shape[0], where, 3)
        sample_weight = _check_sample_weight(sample_weight, y_idx.shape[0])
        return _hit_at_k_from_top_k(y_idx, top_k, sample_weight)

    def __repr__(self) -> str:
        return f"make_hit_at_k_scorer(k={self._k})"


class _HierarchicalPrecisionScorer(_TopKScorer):
    def __init__(self, k: int, hierarchy: Any) -> None:
        super().__init__(k)
        self._hierarchy = hierarchy
        self._converted = Hierarchy(hierarchy)

    def __call__(
        self, estimator: Any, X: Any, y: Any, sample_weight: Any = None
    ) -> float:
        y_idx, top_k, classes, index = self._top_k(estimator, X, y)
        sample_weight = _check_sample_weight(sample_weight, y_idx.shape[0])
        return _hierarchical_precision_from_top_k(
            y_idx, top_k, classes, index, self._converted, sample_weight
        )

    def __repr__(self) -> str:
        if _is_graph(self._hierarchy):
            shown = f"<{self._hierarchy}>"
        else:
            shown = f"<{type(self._hierarchy).__name__} of {len(self._hierarchy)}>"
        return f"make_hierarchical_precision_scorer(k={self._k}, hierarchy={shown})"


@fill_doc
def make_hit_at_k_scorer(k: int = 1) -> _HitAtKScorer:
    """Make a flat hit@k scorer for cross-validation and grid search.

    The scorer is called as ``scorer(estimator, X, y, sample_weight=None)``.
    The candidate labels are the fitted estimator's ``classes_``, so every
    test label must be one of them; on class-disjoint folds this holds for a
    zero-shot estimator such as :class:`sk_conse.ConSEClassifier` (its
    ``classes_`` are the labels unseen in fit). The estimator's ``k`` best
    labels come from ``estimator.predict_top_k(X, k)`` when it has that
    method (also as the last step of a :class:`~sklearn.pipeline.Pipeline`),
    so no full score matrix is built; otherwise from ``decision_function``
    (then ``predict_proba``), which scores a plain classifier such as
    :class:`~sklearn.linear_model.LogisticRegression` the same way, and a
    wrapper without ``predict_top_k`` (a
    :class:`~sklearn.model_selection.GridSearchCV` around
    :class:`sk_conse.ConSEClassifier`) by the exact scores it ranks with:
    probabilities at a small ``temperature`` round to 0 and would tie.

    **Labels seen in fit.** A zero-shot score is one on labels the model
    did not see in fit. When ``y`` holds labels that a zero-shot model (one
    with ``seen_classes_``, such as :class:`sk_conse.ConSEClassifier`) was
    trained on, as every fold of :class:`~sklearn.model_selection.KFold` or
    :class:`~sklearn.model_selection.StratifiedKFold` does, the scorer
    warns with :class:`~sk_conse.exceptions.SeenLabelsScoredWarning`, which
    names :class:`~sk_conse.model_selection.ClassDisjointKFold`: the number
    is not a zero-shot score. Seen labels that are not candidates are then
    ranked together with the candidates (the *generalized* setting, through
    ``with_candidates``, nothing refitted, ``seen_penalty`` applied). No
    warning is given when seen labels are candidates (``candidate_labels=
    "all"``) and ``y`` also holds unseen labels: the generalized setting was
    asked for.

    **Training scores.** With ``return_train_score=True``, a class-disjoint
    search also scores each training fold, whose labels are all seen. It is
    scored in the generalized setting, without warning, when this scorer
    has just scored the same fitted model on its test fold (scikit-learn
    scores a split's test fold first): ``train_score`` then says how well
    the fitted model recognises what it was trained on among everything it
    could answer, and is never a zero-shot score. A seen-label fold scored
    without that test fold first warns.

    **Trivial folds.** When the estimator ranks no more candidates than
    ``k`` (a test fold of two labels, for hit@2), every sample is a hit:
    the scorer returns 1 and warns with
    :class:`~sk_conse.exceptions.TrivialScoreWarning`. Use fewer folds or a
    smaller ``k``.

    Parameters
    ----------
    k : int, default=1
        Number of best labels counted as predictions. When the estimator has
        fewer than ``k`` classes, ``k`` is clipped to their number.

    Returns
    -------
    scorer : callable
        A scorer usable as ``scoring=`` in
        :func:`~sklearn.model_selection.cross_val_score`,
        :class:`~sklearn.model_selection.GridSearchCV`, and in a dict of
        scorers. It supports ``sample_weight``, also through metadata routing
        (``scorer.set_score_request(sample_weight=True)``).

    See Also
    --------
    hit_at_k_score : The metric.
    make_hierarchical_precision_scorer : The hierarchical counterpart.
    sk_conse.model_selection.ClassDisjointKFold : Zero-shot cross-validation.

    %(references_norouzi2014)s

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sk_conse.metrics import make_hit_at_k_scorer
    >>> X, y = load_iris(return_X_y=True)
    >>> scorer = make_hit_at_k_scorer(k=2)
    >>> scorer
    make_hit_at_k_scorer(k=2)
    >>> model = make_pipeline(StandardScaler(), LogisticRegression())
    >>> scores = cross_val_score(model, X, y, cv=3, scoring=scorer)
    >>> bool(scores.min() > 0.9)
    True
    """
    return _HitAtKScorer(k)


@fill_doc
def make_hierarchical_precision_scorer(
    k: int, hierarchy: Any
) -> _HierarchicalPrecisionScorer:
    """Make a hierarchical precision@k scorer for cross-validation.

    Like :func:`make_hit_at_k_scorer`, the candidate labels are the fitted
    estimator's ``classes_`` and the ``k`` best labels come from
    ``predict_top_k`` when available, else ``decision_function``, else
    ``predict_proba``. The hierarchy
    is converted once, when the scorer is made. Folds holding labels seen in
    fit are scored as by :func:`make_hit_at_k_scorer`: with a
    :class:`~sk_conse.exceptions.SeenLabelsScoredWarning`, except the
    training score (``return_train_score=True``) after its test fold,
    which is the generalized score.

    Parameters
    ----------
    k : int
        Number of best labels counted as predictions; clipped to the number
        of the estimator's classes.
    hierarchy : networkx graph, mapping, Hierarchy or WordNet
        The label hierarchy, as for :func:`hierarchical_precision_at_k_score`:
        a :class:`networkx.DiGraph` parent -> child, a mapping child ->
        parents, a :class:`sk_conse.hierarchy.Hierarchy` or a
        :class:`sk_conse.wordnet.WordNet`. Every class of a scored
        estimator must be a node.

    Returns
    -------
    scorer : callable
        A scorer ``scorer(estimator, X, y, sample_weight=None)``.

    See Also
    --------
    hierarchical_precision_at_k_score : The metric.
    make_hit_at_k_scorer : The flat counterpart.

    %(references_frome2013_norouzi2014)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sk_conse.metrics import make_hierarchical_precision_scorer
    >>> hierarchy = {0: "even", 2: "even", 1: "odd", 3: "odd"}
    >>> X = np.arange(8.0).reshape(-1, 1)
    >>> y = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    >>> clf = LogisticRegression().fit(X, y)
    >>> scorer = make_hierarchical_precision_scorer(2, hierarchy)
    >>> scorer
    make_hierarchical_precision_scorer(k=2, hierarchy=<dict of 4>)
    >>> scorer(clf, X, y)  # the 2nd best label always has the other parity
    0.5
    """
    return _HierarchicalPrecisionScorer(k, hierarchy)


# ---------------------------------------------------------------------------
# Probability scorers
# ---------------------------------------------------------------------------


def _ovr_roc_auc(y_idx, proba, classes, sample_weight, average):
    """One-vs-rest ROC AUC over the labels present in ``y``, each scored by
    its own column of ``proba``: scikit-learn's ``multi_class="ovr"`` with
    the absent labels' columns left out, as it has no ROC curve for them."""
    from sklearn.metrics import roc_auc_score

    present = np.unique(y_idx)
    if present.shape[0] < 2:
        raise ValueError(
            f"ROC AUC needs samples of at least two labels; y holds only "
            f"{name_some(classes[present].tolist())}. On class-disjoint folds, "
            f"use fewer folds, so that each test fold holds two labels or more."
        )
    weight = np.ones(y_idx.shape[0]) if sample_weight is None else sample_weight
    aucs, weights = [], []
    for j in present.tolist():
        positive = y_idx == j
        aucs.append(roc_auc_score(positive, proba[:, j], sample_weight=sample_weight))
        weights.append(float(weight[positive].sum()))
    return float(np.average(aucs, weights=weights if average == "weighted" else None))


def _neg_log_loss(y_idx, proba, classes, sample_weight):
    from sklearn.metrics import log_loss

    labels = np.arange(classes.shape[0])
    return -float(log_loss(y_idx, proba, labels=labels, sample_weight=sample_weight))


_PROBA_METRICS = {
    "neg_log_loss": _neg_log_loss,
    "roc_auc_ovr": lambda y, p, c, w: _ovr_roc_auc(y, p, c, w, "macro"),
    "roc_auc_ovr_weighted": lambda y, p, c, w: _ovr_roc_auc(y, p, c, w, "weighted"),
}


class _ProbaScorer(_ZeroShotScorer):
    def __init__(self, scoring: str) -> None:
        super().__init__()
        if scoring not in _PROBA_METRICS:
            raise ValueError(
                f"make_proba_scorer does not know scoring={scoring!r}; use one of "
                f"{name_some(sorted(_PROBA_METRICS))}."
            )
        self._scoring = scoring

    def __call__(
        self, estimator: Any, X: Any, y: Any, sample_weight: Any = None
    ) -> float:
        estimator = self._for_labels_of(estimator, y, stacklevel=4)
        classes = getattr(estimator, "classes_", None)
        if classes is None or not hasattr(estimator, "predict_proba"):
            raise AttributeError(
                f"{self!r} needs a fitted classifier with classes_ and "
                f"predict_proba; {type(estimator).__name__} has "
                f"{'no predict_proba' if classes is not None else 'no classes_'}."
            )
        y_true, classes, _, y_idx = self._true_columns(classes, y, "scored")
        proba = _check_y_prob(estimator.predict_proba(X), y_true.shape[0])
        if proba.shape[1] != classes.shape[0]:
            raise ValueError(
                f"predict_proba has {proba.shape[1]} columns but the estimator "
                f"has {classes.shape[0]} classes_."
            )
        sample_weight = _check_sample_weight(sample_weight, y_true.shape[0])
        return _PROBA_METRICS[self._scoring](y_idx, proba, classes, sample_weight)

    def __repr__(self) -> str:
        return f"make_proba_scorer({self._scoring!r})"


def make_proba_scorer(scoring: str = "neg_log_loss") -> _ProbaScorer:
    """Make a probability scorer that scores every candidate label.

    scikit-learn's scorers ``scoring="neg_log_loss"`` and
    ``scoring="roc_auc_ovr"`` call the metric without ``labels``, so they
    take the columns of ``predict_proba`` to be the distinct labels of the
    test fold. On class-disjoint folds a zero-shot model ranks every label
    unseen in fit, which is more than the test fold holds whenever
    ``label_embeddings`` has labels beyond ``y``, and those scorers then
    fail inside scikit-learn ("y_true and y_prob contain different number
    of classes", "Number of classes in y_true not equal to the number of
    columns in 'y_score'"). These scorers give the metric the estimator's
    ``classes_`` as the labels of the columns, so any number of candidates
    works.

    The scorer is called as ``scorer(estimator, X, y, sample_weight=None)``.
    Like :func:`make_hit_at_k_scorer`, it warns
    (:class:`~sk_conse.exceptions.SeenLabelsScoredWarning`) when ``y`` holds
    labels a zero-shot model was trained on, and scores a training fold
    after its test fold (``return_train_score=True``) in the generalized
    setting, without warning.

    Parameters
    ----------
    scoring : {"neg_log_loss", "roc_auc_ovr", "roc_auc_ovr_weighted"}, \
default="neg_log_loss"
        The name of the scikit-learn scorer to replace:

        - ``"neg_log_loss"``: minus :func:`sklearn.metrics.log_loss` with
          ``labels=estimator.classes_``; the probability given to the true
          label among all the candidates. The score to tune ``temperature``
          with.
        - ``"roc_auc_ovr"``: the one-vs-rest ROC AUC of each label of ``y``
          against the others, from its column of ``predict_proba``, averaged
          over the labels of ``y`` (those absent from ``y`` have no ROC
          curve). Equal to scikit-learn's ``roc_auc_ovr`` when ``y`` holds
          every class.
        - ``"roc_auc_ovr_weighted"``: the same, weighted by the number of
          samples of each label.

    Returns
    -------
    scorer : callable
        A scorer for ``scoring=`` of
        :func:`~sklearn.model_selection.cross_val_score` and
        :class:`~sklearn.model_selection.GridSearchCV`; greater is better.
        It supports ``sample_weight``, also through metadata routing
        (``scorer.set_score_request(sample_weight=True)``).

    Raises
    ------
    ValueError
        If ``scoring`` is not one of the names above. When called: if a
        label of ``y`` is not in the estimator's ``classes_``, or (ROC AUC)
        ``y`` holds a single label.

    See Also
    --------
    make_hit_at_k_scorer : The ranking scorer.
    expected_calibration_error : Calibration of the probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sk_conse.metrics import make_proba_scorer
    >>> X = np.arange(9.0).reshape(-1, 1)
    >>> y = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    >>> clf = LogisticRegression().fit(X, y)
    >>> scorer = make_proba_scorer("roc_auc_ovr")
    >>> scorer
    make_proba_scorer('roc_auc_ovr')
    >>> scorer(clf, X[:6], y[:6])  # two of the three classes: still defined
    1.0
    """
    return _ProbaScorer(scoring)


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
                f"sk_conse.model_selection.PseudoUnseenSplit, which hold both; "
                f"training folds hold seen labels only, so H has no training score: "
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
        return harmonic_mean_score(y_true, estimator.predict(X), seen_classes=seen)

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
