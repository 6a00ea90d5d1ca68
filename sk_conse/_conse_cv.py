"""ConSEClassifierCV: ConSE with ``T`` and ``seen_penalty`` chosen by
cross-validation, from one base fit per fold."""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable
from typing import Any, ClassVar

import joblib
import numpy as np
from scipy.stats import rankdata
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    clone,
)
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import check_scoring
from sklearn.model_selection import ParameterGrid, check_cv
from sklearn.utils import get_tags, indexable
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import NO_CANDIDATES_EXPECTED
from ._compat import (
    HasMethods,
    _check_method_params,
    _fit_context,
    _routing_enabled,
    _safe_indexing,
)
from ._conse import ConSEClassifier, check_base_estimator
from ._docstrings import fill_doc
from ._fitted_state import check_fitted_state
from ._label_embeddings import check_label_types
from ._repr import summarized_repr
from ._scorers import make_hit_at_k_scorer
from .model_selection import ClassDisjointKFold

__all__ = ["ConSEClassifierCV"]


def _takes_sample_weight(scorer: Callable) -> bool:
    if hasattr(scorer, "_accept_sample_weight"):
        return bool(scorer._accept_sample_weight())
    return "sample_weight" in inspect.signature(scorer).parameters


def _best_estimator_has(attr: str) -> Callable:
    """For ``available_if``: the fitted best estimator has ``attr`` (before
    fit, a ConSEClassifier has it), as ``GridSearchCV`` delegates."""

    def check(self) -> bool:
        best = getattr(self, "best_estimator_", None)
        return hasattr(ConSEClassifier if best is None else best, attr)

    return check


def _delegate_to_best(name: str) -> Any:
    """``ConSEClassifierCV.<name>``: the fitted ``best_estimator_``'s method,
    offered only when it has one (``available_if``), with its signature and
    docstring."""

    @functools.wraps(getattr(ConSEClassifier, name))
    def method(self, *args, **kwargs):
        check_is_fitted(self)
        return getattr(self.best_estimator_, name)(*args, **kwargs)

    return available_if(_best_estimator_has(name))(method)


class _MemoizedProba(ClassifierMixin, BaseEstimator):
    """A fitted classifier whose ``predict_proba`` answers repeated inputs
    from memory.

    ConSE calls ``predict_proba`` batch by batch; every grid point scored on a
    fold sends the same batches. The first call on a batch runs the fitted
    estimator, exactly as a ConSEClassifier fitted in
    :class:`~sklearn.model_selection.GridSearchCV` would, and the later calls
    on equal batches (same :func:`joblib.hash`) get the same array back.
    """

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X=None, y=None):  # pragma: no cover - always frozen
        raise NotImplementedError("_MemoizedProba wraps a fitted estimator.")

    def __sklearn_is_fitted__(self) -> bool:
        return True

    @property
    def classes_(self):
        return self.estimator.classes_

    def predict_proba(self, X):
        cache = self.__dict__.setdefault("_cache", {})
        key = joblib.hash(X)
        if key not in cache:
            P = self.estimator.predict_proba(X)
            if isinstance(P, np.ndarray):
                P.setflags(write=False)
            cache[key] = P
        return cache[key]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.estimator is not None:
            from sklearn.utils import get_tags

            base = get_tags(self.estimator)
            tags.input_tags = base.input_tags
        return tags


def _fit_and_score_fold(
    cv_estimator: ConSEClassifierCV,
    X: Any,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    fit_params: dict,
    score_params: dict,
    grid: list[dict],
    scorer: Callable,
) -> list[float]:
    """One base fit on ``train``, then every grid point scored on ``test``."""
    X_train, y_train = _safe_indexing(X, train), y[train]
    X_test, y_test = _safe_indexing(X, test), y[test]
    fold_params = _check_method_params(X, params=fit_params, indices=train)
    test_params = _check_method_params(X, params=score_params, indices=test)
    base = clone(cv_estimator.base_estimator).fit(X_train, y_train, **fold_params)
    frozen = FrozenEstimator(_MemoizedProba(base))
    scores = []
    for params in grid:
        conse = cv_estimator._conse(frozen, **params).fit(X_train, y_train)
        scores.append(scorer(conse, X_test, y_test, **test_params))
    return scores


@fill_doc
class ConSEClassifierCV(
    MetaEstimatorMixin, ClassifierMixin, TransformerMixin, BaseEstimator
):
    """ConSE with ``T`` and ``seen_penalty`` tuned by cross-validation.

    Like :class:`~sklearn.linear_model.LogisticRegressionCV` for ``C``: each
    fold fits the base estimator **once**, and every grid point (``T`` x
    ``seen_penalty``, x ``temperature`` when given) is scored on the fold's
    test data from that fit. The base estimator's ``predict_proba`` runs once
    per batch of test rows and fold, and is reused by every grid point. The
    best grid point, by mean test score, is then refitted on all the data.

    The choice is that of :class:`~sklearn.model_selection.GridSearchCV`
    over ``{"T": Ts, "seen_penalty": seen_penalties}`` on the same folds and
    scorer: the same fold scores, the same ``mean_test_score`` and the same
    first-best grid point, for ``(n_Ts x n_penalties) / 1`` fewer base fits.

    Parameters
    ----------
    base_estimator : estimator object
        A classifier with ``predict_proba``, as for
        :class:`~sk_conse.ConSEClassifier`.

    label_embeddings : mapping, pandas Series or DataFrame, or KeyedVectors
        The semantic vector of every label, as for
        :class:`~sk_conse.ConSEClassifier`. Give the vectors of the seen
        labels only to keep the labels to predict out of model selection:
        with ``candidate_labels="unseen"`` each fold then ranks its held-out
        labels, and ``best_estimator_``, refitted on every seen label, ranks
        nothing until given candidates with
        ``best_estimator_.with_candidates(labels, label_embeddings=...)``
        (no warning: that is the expected outcome).

    Ts : array-like of int or None, default=(1, 2, 5, 10)
        The values of ``T`` tried.

    seen_penalties : array-like of float, default=(0.0,)
        The values of ``seen_penalty`` tried. Only candidates that are seen
        labels are penalised, so with ``candidate_labels="unseen"`` the
        penalty changes nothing: tune it with ``candidate_labels="all"`` and
        :class:`sk_conse.model_selection.PseudoUnseenSplit` folds.

    temperatures : array-like of float or None, default=None
        The values of ``temperature`` tried. It changes only
        :meth:`predict_proba`, not the ranking: tune it only with a scorer
        that reads probabilities (log loss, say). ``None`` leaves it at its
        default.

    cv : int, cross-validation generator or iterable, default=None
        The folds. ``None`` is ``ClassDisjointKFold(n_splits=5)``, an int
        ``ClassDisjointKFold(n_splits=cv)``: each test fold holds classes
        unseen in its training fold. For generalized zero-shot tuning pass
        :class:`sk_conse.model_selection.PseudoUnseenSplit`.

    scoring : str or callable, default=None
        How a fold is scored, as ``scoring=`` of ``GridSearchCV`` (one
        metric). ``None`` is hit@1 (:func:`sk_conse.make_hit_at_k_scorer`).

    candidate_labels : {"unseen", "all"} or array-like, default="unseen"
        As for :class:`~sk_conse.ConSEClassifier`, in the folds and the
        refit.

    device : {"auto", "cpu", "cuda"}, default="auto"
        As for :class:`~sk_conse.ConSEClassifier`.

    algorithm : {"auto", "direct", "factorised"}, default="auto"
        As for :class:`~sk_conse.ConSEClassifier`.

    batch_size : int, default=1024
        As for :class:`~sk_conse.ConSEClassifier`.

    normalize_embeddings : bool, default=False
        As for :class:`~sk_conse.ConSEClassifier`, in the folds and the refit:
        set ``True`` for raw word vectors.

    n_jobs : int, default=None
        Folds fitted in parallel (joblib). ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context.

    verbose : int, default=0
        As for :class:`~sk_conse.ConSEClassifier` (the refitted estimator).

    Attributes
    ----------
    best_estimator_ : ConSEClassifier
        The ConSE classifier with the best parameters, fitted on all the
        data. Prediction methods delegate to it. With the vectors of the seen
        labels only it has no candidate (``classes_`` is empty): deploy it
        with ``with_candidates``.

    best_params_ : dict
        The best grid point: ``{"T": ..., "seen_penalty": ...}`` (and
        ``"temperature"`` when tuned).

    best_score_ : float
        Its mean test score over the folds.

    best_index_ : int
        Its row in ``cv_results_``.

    cv_results_ : dict of ndarrays
        As :class:`~sklearn.model_selection.GridSearchCV` has it, for the
        test scores: ``params``, ``param_T``, ``param_seen_penalty`` (and
        ``param_temperature``), ``split{i}_test_score``, ``mean_test_score``,
        ``std_test_score``, ``rank_test_score``.

    n_splits_ : int
        The number of folds.

    scorer_ : callable
        The scorer used.

    classes_ : ndarray of shape (n_candidates,)
        The candidate labels of ``best_estimator_``.

    seen_classes_ : ndarray of shape (n_seen,)
        The seen labels of ``best_estimator_``.

    n_features_in_ : int
        Number of features seen during :term:`fit`, when the base estimator
        takes a feature matrix.

    See Also
    --------
    sk_conse.ConSEClassifier : The estimator tuned.
    sklearn.model_selection.GridSearchCV : The general search; with
        ``ConSEClassifier(memory=...)`` it too fits the base once per fold.

    Notes
    -----
    A fold whose fit or scoring fails raises (``GridSearchCV`` would record
    ``error_score``). Repeated ``predict_proba`` inputs are recognised by
    :func:`joblib.hash` of each batch, so the base estimator must be
    deterministic at prediction time, as ``GridSearchCV`` comparisons
    require anyway.

    %(references_norouzi2014_chao2016)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sk_conse import ConSEClassifierCV
    >>> rng = np.random.RandomState(0)
    >>> labels = [f"c{i}" for i in range(10)]
    >>> vectors = dict(zip(labels, rng.randn(10, 4)))
    >>> y = np.repeat(labels[:8], 15)  # c8 and c9 stay unseen
    >>> X = np.array([vectors[label] for label in y]) + rng.randn(120, 4) / 4
    >>> seen = {label: vectors[label] for label in labels[:8]}
    >>> clf = ConSEClassifierCV(LogisticRegression(), seen, Ts=[1, 3], cv=4)
    >>> clf = clf.fit(X, y)  # each fold ranks its held-out labels only
    >>> clf.best_params_
    {'T': 3, 'seen_penalty': 0.0}
    >>> clf.cv_results_["mean_test_score"].round(2)
    array([0.57, 0.64])

    The tuned model, given the labels to predict:

    >>> model = clf.best_estimator_.with_candidates("unseen", label_embeddings=vectors)
    >>> model.classes_
    array(['c8', 'c9'], dtype='<U2')
    """

    _parameter_constraints: ClassVar[dict] = {
        "base_estimator": [HasMethods(["fit", "predict_proba"])],
        "label_embeddings": "no_validation",
        "Ts": ["array-like"],
        "seen_penalties": ["array-like"],
        "temperatures": ["array-like", None],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "n_jobs": [numbers.Integral, None],
        # As ConSEClassifier declares them, for the ConSE it tunes.
        **{
            name: ConSEClassifier._parameter_constraints[name]
            for name in (
                "candidate_labels",
                "device",
                "algorithm",
                "batch_size",
                "normalize_embeddings",
                "verbose",
            )
        },
    }

    def __init__(
        self,
        base_estimator=None,
        label_embeddings=None,
        *,
        Ts=(1, 2, 5, 10),
        seen_penalties=(0.0,),
        temperatures=None,
        cv=None,
        scoring=None,
        candidate_labels="unseen",
        device="auto",
        algorithm="auto",
        batch_size=1024,
        normalize_embeddings=False,
        n_jobs=None,
        verbose=0,
    ):
        self.base_estimator = base_estimator
        self.label_embeddings = label_embeddings
        self.Ts = Ts
        self.seen_penalties = seen_penalties
        self.temperatures = temperatures
        self.cv = cv
        self.scoring = scoring
        self.candidate_labels = candidate_labels
        self.device = device
        self.algorithm = algorithm
        self.batch_size = batch_size
        self.normalize_embeddings = normalize_embeddings
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _conse(self, base, **params) -> ConSEClassifier:
        return ConSEClassifier(
            base,
            self.label_embeddings,
            candidate_labels=self.candidate_labels,
            device=self.device,
            algorithm=self.algorithm,
            batch_size=self.batch_size,
            normalize_embeddings=self.normalize_embeddings,
            verbose=self.verbose,
            **params,
        )

    def _grid(self) -> dict[str, list]:
        grid = {"T": list(self.Ts), "seen_penalty": list(self.seen_penalties)}
        if self.temperatures is not None:
            grid["temperature"] = list(self.temperatures)
        for name, values in grid.items():
            if not values:
                raise ValueError(f"The grid of {name} is empty: give it a value.")
        # The parameters are checked by ConSEClassifier itself, before any fit.
        for params in ParameterGrid(grid):
            self._conse(None, **params)._validate_params()
        return grid

    def _scorer(self) -> Callable:
        if self.scoring is None:
            return make_hit_at_k_scorer(k=1)
        return check_scoring(self._conse(self.base_estimator), scoring=self.scoring)

    def _splitter(self) -> Any:
        """``cv`` with ``None`` and ints as class-disjoint folds."""
        if self.cv is None:
            return ClassDisjointKFold(5)
        if isinstance(self.cv, numbers.Integral):
            return ClassDisjointKFold(int(self.cv))
        return self.cv

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            As :class:`~sklearn.model_selection.GridSearchCV`'s: ``fit``
            metadata (such as ``sample_weight``) goes to the base estimator's
            ``fit`` on every fold and in the refit, to the scorer's ``score``
            and to the splitter's ``split``, wherever each requests it.
        """
        return (
            MetadataRouter(owner=self)
            .add(
                base_estimator=self.base_estimator,
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
            .add(
                scorer=self._scorer(),
                method_mapping=MethodMapping()
                .add(caller="score", callee="score")
                .add(caller="fit", callee="score"),
            )
            .add(
                splitter=self._splitter(),
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        )

    def __sklearn_tags__(self):
        # The tags of the ConSEClassifier tuned (input tags from the base).
        tags = super().__sklearn_tags__()
        conse_tags = get_tags(self._conse(self.base_estimator))
        tags.input_tags.sparse = conse_tags.input_tags.sparse
        tags.input_tags.allow_nan = conse_tags.input_tags.allow_nan
        return tags

    def __setstate__(self, state):
        # A state read from disk is checked before anything uses it.
        super().__setstate__(state)
        check_fitted_state(self)

    def __repr__(self, N_CHAR_MAX=700):
        # The label vectors show as "<dict of 2000>", not thousands of numbers.
        return summarized_repr(self, N_CHAR_MAX)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, groups=None, **fit_params):
        """Tune on the folds of ``X, y``, then refit the best on all of it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, in whatever form the base estimator accepts.

        y : array-like of shape (n_samples,)
            Seen labels; each needs a vector in ``label_embeddings``.

        groups : array-like of shape (n_samples,), default=None
            Passed to the splitter's ``split`` (with metadata routing
            enabled, only when the splitter requests it).

        **fit_params : dict
            Passed to the base estimator's ``fit``, restricted to the training
            rows of each fold (for example ``sample_weight``), and in full to
            the refit. As in ``GridSearchCV``, ``sample_weight`` also weighs
            the test scores when the scorer accepts it. With metadata routing
            enabled (``sklearn.set_config(enable_metadata_routing=True)``),
            each goes where it is requested instead: the base estimator's
            ``fit`` (``set_fit_request``), the scorer (``set_score_request``)
            or the splitter.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target "
                "y is None."
            )
        check_base_estimator(self.base_estimator)
        check_label_types(y, "y")
        y = validate_data(self, X="no_validation", y=y)
        X, y, groups = indexable(X, y, groups)
        check_classification_targets(y)
        grid = list(ParameterGrid(self._grid()))
        scorer = self._scorer()
        if _routing_enabled():
            # As GridSearchCV does: each fit parameter goes where it is
            # requested (base fit, scorer, splitter), under its alias.
            given = fit_params if groups is None else {**fit_params, "groups": groups}
            routed = process_routing(self, "fit", **given)
            base_params = dict(routed.base_estimator["fit"])
            score_params = dict(routed.scorer["score"])
            split_params = dict(routed.splitter["split"])
            # The refit is a ConSEClassifier, which routes to the same base
            # estimator: it gets the caller's names that the base consumes.
            consumed = self._conse(self.base_estimator).get_metadata_routing()
            consumed = consumed.consumes("fit", fit_params)
            refit_params = {k: v for k, v in fit_params.items() if k in consumed}
        else:
            base_params = refit_params = fit_params
            split_params = {"groups": groups}
            # As GridSearchCV does: sample_weight also weighs the test scores
            # when the scorer takes it.
            score_params = {}
            if fit_params.get("sample_weight") is not None and _takes_sample_weight(
                scorer
            ):
                score_params["sample_weight"] = fit_params["sample_weight"]
        cv = check_cv(self._splitter(), y, classifier=True)
        splits = list(cv.split(X, y, **split_params))
        if not splits:
            raise ValueError(
                f"cv={self.cv!r} gave no train/test split: there is nothing to "
                "score the grid on. Pass an int (the number of class-disjoint "
                "folds), a splitter, or a non-empty iterable of (train, test) "
                "index arrays."
            )

        fold_scores = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_and_score_fold)(
                self, X, y, train, test, base_params, score_params, grid, scorer
            )
            for train, test in splits
        )
        # GridSearchCV's arithmetic, so that ties break alike.
        scores = np.asarray(fold_scores, dtype=np.float64).T  # (n_grid, n_splits)
        if not np.all(np.isfinite(scores)):
            raise ValueError(
                f"The scorer {scorer!r} returned non-finite scores: "
                f"{scores[~np.isfinite(scores)][:3]}."
            )
        means = np.average(scores, axis=1)
        stds = np.sqrt(np.average((scores - means[:, np.newaxis]) ** 2, axis=1))
        ranks = rankdata(-means, method="min").astype(np.int32, copy=False)
        best_index = int(ranks.argmin())
        best_params = grid[best_index]

        results: dict[str, Any] = {"params": grid}
        for name in grid[0]:
            results[f"param_{name}"] = np.ma.MaskedArray(
                [params[name] for params in grid], mask=False, dtype=object
            )
        for i in range(len(splits)):
            results[f"split{i}_test_score"] = scores[:, i]
        results["mean_test_score"] = means
        results["std_test_score"] = stds
        results["rank_test_score"] = ranks

        best = self._conse(clone(self.base_estimator), **best_params)
        # With the seen labels' vectors only, as documented, the refit on every
        # seen label has no candidate: expected, not worth a warning (the
        # model is deployed with with_candidates).
        expected = NO_CANDIDATES_EXPECTED.set(True)
        try:
            best.fit(X, y, **refit_params)
        finally:
            NO_CANDIDATES_EXPECTED.reset(expected)

        self.best_estimator_ = best
        self.best_params_ = best_params
        self.best_index_ = best_index
        self.best_score_ = float(means[best_index])
        self.cv_results_ = results
        self.n_splits_ = len(splits)
        self.scorer_ = scorer
        self.classes_ = best.classes_
        self.seen_classes_ = best.seen_classes_
        if hasattr(best, "n_features_in_"):
            self.n_features_in_ = best.n_features_in_
        if hasattr(best, "feature_names_in_"):
            self.feature_names_in_ = best.feature_names_in_
        return self

    # Each prediction method is the best estimator's (GridSearchCV's
    # delegation): its signature and docstring are ConSEClassifier's.
    decision_function = _delegate_to_best("decision_function")
    predict_proba = _delegate_to_best("predict_proba")
    predict_top_k = _delegate_to_best("predict_top_k")
    predict = _delegate_to_best("predict")
    transform = _delegate_to_best("transform")
    explain = _delegate_to_best("explain")
    with_candidates = _delegate_to_best("with_candidates")
