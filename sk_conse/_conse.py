"""ConSEClassifier: zero-shot classification by convex combination of semantic
embeddings (Norouzi et al., ICLR 2014)."""

from __future__ import annotations

import numbers
import os
from collections.abc import Hashable
from typing import Any, ClassVar

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.utils import get_tags
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    column_or_1d,
    validate_data,
)

from ._backend import Backend, backend_for, backend_of, resolve_device, to_numpy
from ._base import BaseZeroShotClassifier
from ._compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    _num_samples,
    _routing_enabled,
)
from ._docstrings import fill_doc
from ._formatting import as_python_label, name_some
from ._label_embeddings import check_label_embeddings, check_label_types, sorted_labels
from ._memory import fit_base
from ._search import ConSESearch, choose_algorithm
from ._validation import check_k, repeated

__all__ = ["ConSEClassifier"]

# X goes to the base estimator, which has the last word on what it accepts:
# only what ConSE itself needs is checked (rows, a consistent width).
_X_CHECKS = {
    "accept_sparse": ["csr", "csc"],
    "ensure_all_finite": False,
    "dtype": None,
    "allow_nd": True,
}


def _is_dataframe(X) -> bool:
    """A pandas or polars DataFrame (columns selected by name downstream)."""
    return hasattr(X, "columns") and hasattr(X, "shape") and len(X.shape) == 2


def _as_given(X) -> bool:
    """Whether X goes to the base estimator exactly as the user gave it.

    A DataFrame keeps its column names and dtypes (a
    ``make_column_transformer((..., ["num"]))`` base selects columns by
    name), and a list of paths or texts stays a list (an image model opens
    the files itself). Only the bookkeeping of ``validate_data`` is done for
    them (``n_features_in_``, ``feature_names_in_``), as scikit-learn's
    meta-estimators do; the base estimator checks the values.
    """
    if _is_dataframe(X):
        return True
    return isinstance(X, (list, tuple)) and _one_dimensional(X)


def _validate_X_y(estimator, X, y="no_validation", *, reset: bool):
    """``validate_data`` for ConSE: X as given to the base when it is a
    DataFrame or a list of paths or texts, checked as an array otherwise.

    A model fitted on rows of features (``n_features_in_``) takes rows: a 1-D
    ``X`` at predict time gets scikit-learn's "Expected 2D array" error.
    """
    rows = not reset and hasattr(estimator, "n_features_in_")
    if not _as_given(X) or (rows and _one_dimensional(X)):
        ensure_2d = rows or not _one_dimensional(X)
        if isinstance(y, str) and y == "no_validation":
            return validate_data(
                estimator, X, reset=reset, **_X_CHECKS, ensure_2d=ensure_2d
            )
        return validate_data(
            estimator, X, y, reset=reset, **_X_CHECKS, ensure_2d=ensure_2d
        )
    X = validate_data(estimator, X, reset=reset, skip_check_array=True)
    if isinstance(y, str) and y == "no_validation":
        return X
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target "
            "y is None."
        )
    y = column_or_1d(y, warn=True)
    check_consistent_length(X, y)
    return X, y


def _one_dimensional(X) -> bool:
    """Whether X is one item per sample (texts, paths), not rows of features.

    Such input goes to the base estimator as it is (a text pipeline, say);
    feature matrices and image stacks are validated as usual.
    """
    if hasattr(X, "ndim"):
        return X.ndim == 1
    if isinstance(X, (list, tuple)) and len(X) > 0:
        return isinstance(X[0], (str, bytes, os.PathLike)) or np.ndim(X[0]) == 0
    return False


@fill_doc
class ConSEClassifier(BaseZeroShotClassifier):
    """Zero-shot classifier by convex combination of semantic embeddings.

    A probabilistic classifier trained on *seen* labels gives p(y|x). ConSE
    embeds an input as the probability-weighted average of the semantic
    vectors of its ``T`` most likely seen labels,

    .. math:: f(x) = \\frac{1}{Z} \\sum_{t=1}^{T} p(y_t \\mid x)\\, s(y_t),
              \\qquad Z = \\sum_{t=1}^{T} p(y_t \\mid x),

    and ranks *candidate* labels, seen in training or not, by the cosine
    similarity between f(x) and their vectors s(y').

    Parameters
    ----------
    base_estimator : estimator object
        A classifier with ``predict_proba``, fitted on the seen labels by
        :meth:`fit` (a clone is fitted). Wrap a pretrained model in
        :class:`sklearn.frozen.FrozenEstimator` to use it as it is.

    label_embeddings : mapping, pandas Series or DataFrame, or KeyedVectors
        The semantic vector s(y) of every label: a mapping label -> 1-D
        vector, a pandas Series of vectors or DataFrame of rows indexed by
        label, or a gensim ``KeyedVectors``. Every seen label needs a vector;
        the other labels are the zero-shot candidates.

    T : int or None, default=10
        How many of the most likely seen labels are combined. ``T`` larger
        than the number of seen labels, or ``None``, combines them all. The
        paper compares T = 1, 10 and 1000 and finds 10 best.

    candidate_labels : {"unseen", "all"} or array-like, default="unseen"
        The labels ranked at prediction time: ``"unseen"``, every embedded
        label not seen in fit (zero-shot); ``"all"``, seen and unseen
        (generalized zero-shot, the paper's "+1K"); or an explicit list of
        embedded labels.

    seen_penalty : float, default=0.0
        Subtracted from the score of every candidate that is a seen label
        (calibrated stacking, Chao et al., ECCV 2016). Generalized zero-shot
        scores favour seen labels, whose vectors f(x) is built from; a
        positive penalty counters that. Tune it with ``GridSearchCV``.

    temperature : float, default=1.0
        :meth:`predict_proba` is ``softmax(decision_function / temperature)``.
        Cosine scores lie in [-1, 1], so with the default the probabilities
        are nearly uniform over many candidates; a smaller temperature
        sharpens them. Tune it with ``GridSearchCV`` and
        ``scoring="neg_log_loss"`` on class-disjoint folds. Rankings do not
        depend on it.

    device : {"auto", "cpu", "cuda"}, default="auto"
        Where the top-T weighting and the cosine search run: ``"cuda"`` uses
        CuPy on a CUDA device, ``"cpu"`` NumPy, ``"auto"`` the GPU when CuPy
        sees one. The base estimator runs where it runs. Results are the same
        to float tolerance.

    algorithm : {"auto", "direct", "factorised"}, default="auto"
        How cosine scores are computed. ``"direct"`` multiplies the
        normalised f(x) by the candidate vectors; ``"factorised"`` multiplies
        the sparse top-T weights by the precomputed seen x candidate product
        ``S0 S1ᵀ``, which is several times faster when ``T`` is much smaller
        than the embedding size. ``"auto"`` picks by ``T``, the embedding
        size and the size of that product. Both give the same scores to float
        tolerance.

    batch_size : int, default=1024
        Rows of ``X`` processed at once at prediction time. Peak extra memory
        grows with ``batch_size x n_candidates``, not with ``n_samples``.

    verbose : int, default=0
        With ``verbose > 0``, prediction methods show a progress bar over
        batches (tqdm when installed, otherwise a line per batch on stderr)
        when there is more than one batch.

    memory : str, joblib.Memory or None, default=None
        Caches the fitted base estimator, keyed by its parameters and its
        training data, as :class:`~sklearn.pipeline.Pipeline` caches
        transformers: a grid search over ``T``, ``seen_penalty``,
        ``temperature`` or ``candidate_labels`` then fits the base estimator
        once per fold. A string is a cache directory. ``None`` caches
        nothing.

    normalize_embeddings : bool, default=False
        Whether each label vector is divided by its norm before use. ConSE
        weighs the vector of each seen label by p(y|x), so a seen label with
        a long vector pulls f(x) harder than its probability says; with unit
        vectors f(x) is the paper's convex combination of directions. Raw
        word vectors (``load_glove_6b_50d()``, any gensim model) have norms
        from about 2 to 8: set ``True`` for them (on Fashion-MNIST with
        {Sneaker, Shirt} unseen, GloVe 6B, a trial gave an accuracy of 0.656
        with unit vectors against 0.633 raw). Vectors from
        :mod:`sk_conse.embeddings` are unit vectors already, and attribute
        vectors whose length carries meaning should stay as they are
        (``False``). Only the seen side matters: candidates are ranked by
        cosine, which ignores their norm.

    Attributes
    ----------
    base_estimator_ : estimator object
        The fitted clone of ``base_estimator``.

    seen_classes_ : ndarray of shape (n_seen,)
        The base estimator's labels: the columns of its ``predict_proba``.

    classes_ : ndarray of shape (n_candidates,)
        The candidate labels, sorted: the columns of :meth:`decision_function`
        and :meth:`predict_proba`.

    seen_embeddings_ : ndarray of shape (n_seen, n_dims)
        s(y) of the seen labels, in the order of ``seen_classes_``.

    candidate_embeddings_ : ndarray of shape (n_candidates, n_dims)
        s(y') of the candidate labels, in the order of ``classes_``.

    T_ : int
        The number of seen labels actually combined: ``min(T, n_seen)``.

    device_ : {"cpu", "cuda"}
        The device resolved from ``device`` at fit time.

    algorithm_ : {"direct", "factorised"}
        The route resolved from ``algorithm`` at fit time, for the fitted
        ``device_``. With ``algorithm="auto"``, a call computed elsewhere (a
        torch tensor on a GPU under array API dispatch) routes for its own
        backend.

    %(features_in_)s

    See Also
    --------
    sklearn.semi_supervised.SelfTrainingClassifier : Another classifier that
        wraps a probabilistic base classifier.
    sk_conse.metrics.hit_at_k_score : Flat hit@k, the paper's main metric.

    Notes
    -----
    :meth:`predict_proba` is a softmax of the cosine scores: rows sum to 1 and
    the ranking is that of :meth:`decision_function`, but the values are not
    calibrated probabilities. Rank with them; do not read them as
    confidences unless ``temperature`` was tuned (and check the calibration
    on held-out classes: see the temperature example).

    **Ties.** Seen labels tied in p(y|x) at the T-th place go to the smaller
    label in sorted order, whatever the base estimator's column order;
    candidates tied in score go to the one earlier in ``classes_`` (sorted),
    so :meth:`predict` is the top-1 of :meth:`predict_top_k`.

    **No direction.** f(x) is a sum of T weighted vectors; rounding leaves an
    error of at most about ``(T + 1) eps ||sum_t w_t |s(y_t)| ||``. When the
    norm of f(x) is at or below that bound (the top-T vectors cancel out),
    f(x) has no direction: every candidate scores 0, minus ``seen_penalty``
    for seen ones, and the first best candidate of ``classes_`` is predicted:
    the first candidate with ``seen_penalty=0``, else the first unseen one.
    A small f(x) above the bound keeps its direction, however small.

    **Scale.** Only the ratios within a row of p(y|x) matter: rows are
    divided by their maximum before anything else, so multiplying the base
    estimator's output by a power of two changes no bit of the answer; any
    other factor changes the normalised rows by their rounding, which can
    only swap candidates whose scores lie within a few ulps of each other.
    The same input bits give the same ranking on every backend, route,
    batch and BLAS kernel. What it returns is checked first: one row per
    sample, one column per label of its ``classes_`` (1-D and unique),
    numeric, finite, nonnegative and positive somewhere in each row.

    Computation happens in the dtype of the label vectors: float32 vectors
    give float32 embeddings and scores.

    %(references_norouzi2014_chao2016)s

    Examples
    --------
    %(example_conse)s
    >>> clf.classes_
    array(['lion', 'truck'], dtype='<U5')
    >>> clf.predict([[0, 0], [3, 3]])
    array(['lion', 'truck'], dtype='<U5')
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseZeroShotClassifier._parameter_constraints,
        "base_estimator": [HasMethods(["fit"]), None],
        "T": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "algorithm": [StrOptions({"auto", "direct", "factorised"})],
        "memory": [None, str, HasMethods(["cache"])],
        "normalize_embeddings": ["boolean"],
    }

    def __init__(
        self,
        base_estimator=None,
        label_embeddings=None,
        T=10,
        *,
        candidate_labels="unseen",
        seen_penalty=0.0,
        temperature=1.0,
        device="auto",
        algorithm="auto",
        batch_size=1024,
        verbose=0,
        memory=None,
        normalize_embeddings=False,
    ):
        self.base_estimator = base_estimator
        self.label_embeddings = label_embeddings
        self.T = T
        self.candidate_labels = candidate_labels
        self.seen_penalty = seen_penalty
        self.temperature = temperature
        self.device = device
        self.algorithm = algorithm
        self.batch_size = batch_size
        self.verbose = verbose
        self.memory = memory
        self.normalize_embeddings = normalize_embeddings

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Fit the base estimator on the seen labels and prepare the search.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, in whatever form the base estimator accepts. A
            DataFrame (columns selected by name in the base) or a list of
            paths or texts reaches the base estimator as given; arrays are
            checked for rows and width only.

        y : array-like of shape (n_samples,)
            Seen labels. Each needs a vector in ``label_embeddings``.

        **fit_params : dict
            Passed to the base estimator's ``fit`` (for example
            ``sample_weight``); routed through metadata routing when it is
            enabled.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        with self._fitting():
            self._fit(X, y, **fit_params)
        return self

    def _fit(self, X, y, **fit_params) -> None:
        if self.base_estimator is None:
            raise ValueError(
                "ConSEClassifier needs a base_estimator: a classifier with "
                "predict_proba, e.g. LogisticRegression()."
            )
        check_base_estimator(self.base_estimator)
        table = check_label_embeddings(self.label_embeddings)
        if not hasattr(self.base_estimator, "predict_proba"):
            hint = ""
            if type(self.base_estimator).__name__ in {"SVC", "NuSVC"}:
                hint = " For SVC, set probability=True."
            raise ValueError(
                f"The base estimator {self.base_estimator!r} has no predict_proba: "
                "ConSE weights label vectors by p(y|x)." + hint + " Or wrap it in "
                "sklearn.calibration.CalibratedClassifierCV."
            )
        check_label_types(y, "y")
        X, y = _validate_X_y(self, X, y, reset=True)
        check_classification_targets(y)
        if not isinstance(self.base_estimator, FrozenEstimator):
            # Fail before a possibly long fit; the fitted classes_ are checked
            # again below (a frozen model's labels do not come from y).
            table.rows_of(np.unique(to_numpy(y)), role="seen")

        if _routing_enabled():
            routed = process_routing(self, "fit", **fit_params)
            base_fit_params = routed.base_estimator.fit
        else:
            base_fit_params = fit_params
        base = fit_base(self.memory, self.base_estimator, X, y, base_fit_params)
        seen_classes = _check_base_classes(base)
        seen_rows = table.rows_of(seen_classes, role="seen")
        n_seen = len(seen_classes)

        # Everything fitted is known: assign it at once.
        self.base_estimator_ = base
        self.seen_classes_ = seen_classes
        self.classes_, self.candidate_embeddings_ = self._candidates(table, seen_rows)
        self.T_ = n_seen if self.T is None else min(int(self.T), n_seen)
        self.device_ = resolve_device(self.device, library=self._device_library)
        # Ties in p(y|x) go to the smaller label in sorted order, whatever the
        # base's column order: columns are permuted to sorted order when they
        # are not already.
        self._seen_order = _sorted_order(seen_classes)
        self._update_candidates(table, seen_rows)

    def _update_candidates(self, table, seen_rows) -> None:
        self.seen_embeddings_ = table.vectors[seen_rows]
        if self.normalize_embeddings:
            self.seen_embeddings_ = _unit_rows(self.seen_embeddings_)
            self.candidate_embeddings_ = _unit_rows(self.candidate_embeddings_)
        self.algorithm_ = self._resolve_algorithm()
        if len(self.classes_):
            # Build the default search now, so that what fails, fails in fit.
            self._search_for(backend_for(None, self.device_, follow_input=False))

    def _resolve_algorithm(
        self, backend: Backend | None = None, algorithm: str | None = None
    ) -> str:
        """The route of ``algorithm`` (default: the parameter) on ``backend``
        (default: the fitted device's)."""
        algorithm = self.algorithm if algorithm is None else algorithm
        if algorithm != "auto":
            return algorithm
        if backend is None:
            backend = backend_for(None, self.device_, follow_input=False)
        n_seen, q = self.seen_embeddings_.shape
        return choose_algorithm(
            backend,
            T=self.T_,
            n_seen=n_seen,
            q=q,
            n_candidates=len(self.classes_),
            itemsize=self.seen_embeddings_.dtype.itemsize,
        )

    # -------------------------------------------------- repr and pickling

    def __getstate__(self):
        """A fitted model pickles the vectors it uses, not the whole table.

        ``label_embeddings`` of a model fitted on a large vocabulary (GloVe's
        400,000 words, say) is pickled as a dict of the vectors of its seen
        and candidate labels only (those of ``seen_embeddings_`` and
        ``candidate_embeddings_``): the loaded model predicts the same, and
        ``with_candidates(labels, label_embeddings=...)`` embeds new labels
        from the full table again. In memory the table is kept by reference,
        never copied.
        """
        state = super().__getstate__()
        table = state.get("label_embeddings")
        if table is None or "classes_" not in state or "seen_embeddings_" not in state:
            return state
        used = {
            as_python_label(label): vector
            for labels, vectors in (
                (self.seen_classes_, self.seen_embeddings_),
                (self.classes_, self.candidate_embeddings_),
            )
            for label, vector in zip(labels, vectors)
        }
        try:
            larger = len(table) > len(used)
        except TypeError:
            larger = False
        if larger:
            state["label_embeddings"] = {
                label: np.array(vector) for label, vector in used.items()
            }
        return state

    # ------------------------------------------------------------ routing

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            Routes ``fit`` metadata (such as ``sample_weight``) to the base
            estimator's ``fit``.
        """
        return MetadataRouter(owner=self).add(
            base_estimator=self.base_estimator,
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A base without tags is refused at fit, in one line
        # (check_base_estimator), not here in scikit-learn's nested error.
        if hasattr(self.base_estimator, "__sklearn_tags__"):
            base_tags = get_tags(self.base_estimator)
            tags.input_tags.sparse = base_tags.input_tags.sparse
            tags.input_tags.allow_nan = base_tags.input_tags.allow_nan
        return tags

    # ------------------------------------------------------------ predict

    _predict_params: ClassVar[tuple] = (
        *BaseZeroShotClassifier._predict_params,
        "algorithm",
    )

    def _search_key(self, backend: Backend, params: dict) -> tuple:
        route = self._resolve_algorithm(backend, params["algorithm"])
        return (*super()._search_key(backend, params), route)

    def _build_search(self, backend: Backend, params: dict) -> ConSESearch:
        seen = self.seen_embeddings_
        if self._seen_order is not None:
            seen = seen[self._seen_order]
        return ConSESearch(
            backend,
            self.candidate_embeddings_,
            seen,
            self.T_,
            # The route rule knows the backend: a torch CUDA call may route
            # differently from the CPU default recorded in algorithm_.
            algorithm=self._resolve_algorithm(backend, params["algorithm"]),
        )

    def _search_input(self, X_batch, backend: Backend, n_rows: int) -> Any:
        """p(y|x) of a batch: checked, scaled to a row maximum of 1, with
        columns in sorted label order, in the working dtype, on ``backend``."""
        base = self.base_estimator_
        name = f"The base estimator {type(base).__name__}"
        P = base.predict_proba(X_batch)
        if not hasattr(P, "shape") or not hasattr(P, "dtype"):
            P = np.asarray(P)
        if getattr(P, "is_meta", False):
            raise ValueError(
                f"{name}'s predict_proba returned a torch tensor on the 'meta' "
                "device, which holds no values. Move the base model to a real "
                "device (for example model.to('cpu')) before predicting."
            )
        if getattr(P, "requires_grad", False):
            # Probabilities are data here: no gradient flows through ConSE.
            P = P.detach()
        own = backend_of(P)
        xp = own.xp
        n_seen = len(self.seen_classes_)
        if len(P.shape) != 2 or tuple(P.shape) != (n_rows, n_seen):
            raise ValueError(
                f"{name}'s predict_proba returned shape {tuple(P.shape)} for a "
                f"batch of {n_rows} rows; expected ({n_rows}, {n_seen}): one row "
                "per sample and one column per label in its classes_."
            )
        if not xp.isdtype(P.dtype, ("real floating", "integral")) or xp.isdtype(
            P.dtype, "bool"
        ):
            raise ValueError(
                f"{name}'s predict_proba returned values of dtype {P.dtype}; "
                "ConSE needs numeric probabilities."
            )
        if not xp.isdtype(P.dtype, "real floating"):
            P = xp.astype(P, xp.float64)
        elif _bits(P.dtype) < 8 * self._dtype.itemsize:
            # Half precision (float16, bfloat16) is upcast before any
            # arithmetic: the same values predict the same labels.
            P = xp.astype(P, own.dtype(self._dtype))
        finite = xp.isfinite(P)
        if not bool(xp.all(finite)) or bool(xp.any(P < 0)):
            rows = to_numpy(xp.nonzero(~xp.all(finite & (P >= 0), axis=1))[0])
            raise ValueError(
                f"{name}'s predict_proba returned negative, NaN or infinite "
                f"values (in rows {name_some(rows.tolist())} of the batch); "
                "ConSE needs finite nonnegative probabilities."
            )
        top = xp.max(P, axis=1, keepdims=True)
        if not bool(xp.all(top > 0)):
            rows = to_numpy(xp.nonzero(top[:, 0] <= 0)[0])
            raise ValueError(
                f"{name}'s predict_proba returned an all-zero row (rows "
                f"{name_some(rows.tolist())} of the batch); ConSE needs a "
                "positive probability for at least one label."
            )
        # Only ratios within a row matter: scaling by the row maximum first
        # keeps any finite row finite in the working dtype.
        P = P / top
        if self._seen_order is not None:
            P = P[:, own.asarray(self._seen_order)]
        if own.name != backend.name:
            P = own.to_numpy(P)
        return backend.asarray(P, self._dtype)

    def explain(self, X, k=5):
        """Why each input got its ranking: seen labels, weights, contributions.

        For each input: the top-T seen labels with their ConSE weights
        ``w_t = p(y_t|x) / Z``, the ``k`` best candidates with their scores,
        and how much each of those seen labels adds to each score. Since
        ``cos(f(x), s(y')) = sum_t w_t s(y_t)·ŝ(y') / ||f(x)||``, the
        contribution of seen label ``t`` to candidate ``c`` is
        ``w_t s(y_t)·ŝ(c) / ||f(x)||``; the contributions of a candidate sum
        to its cosine, and ``scores = contributions.sum(axis=2) - penalty``
        equals :meth:`decision_function` (up to float rounding).

        Parameters
        ----------
        %(X_predict)s
        k : int, default=5
            How many candidates to explain per sample.

        Returns
        -------
        explanation : :class:`~sklearn.utils.Bunch`
            With NumPy arrays:

            - ``seen_labels`` (n_samples, ``T_``): the top-T seen labels, by
              decreasing weight (ties: the smaller sorted label first);
            - ``seen_weights`` (n_samples, ``T_``): their weights, rows summing
              to 1;
            - ``candidates`` (n_samples, k): the best candidates, best first;
            - ``scores`` (n_samples, k): their :meth:`decision_function`
              scores (cosine minus ``seen_penalty`` for seen candidates);
            - ``contributions`` (n_samples, k, ``T_``): each seen label's part of
              each candidate's cosine;
            - ``penalty`` (n_samples, k): ``seen_penalty`` where it applied.

        Examples
        --------
        The model of the class example:

        %(example_conse)s
        >>> why = clf.explain([[0, 0]], k=2)
        >>> why.seen_labels
        array([['cat', 'dog']], dtype='<U3')
        >>> why.candidates
        array([['lion', 'truck']], dtype='<U5')
        >>> bool(np.allclose(why.contributions.sum(axis=2) - why.penalty,
        ...                  why.scores))
        True
        """
        from sklearn.utils import Bunch

        call = self._start(X)
        search = call.search
        k = check_k(k, n=len(self.classes_))
        seen = self.seen_classes_
        if self._seen_order is not None:
            seen = seen[self._seen_order]
        n = _num_samples(call.X)
        T = search.T
        parts = {
            "seen_labels": np.empty((n, T), dtype=seen.dtype),
            "seen_weights": np.empty((n, T), dtype=self._dtype),
            "candidates": np.empty((n, k), dtype=self.classes_.dtype),
            "scores": np.empty((n, k), dtype=self._dtype),
            "contributions": np.empty((n, k, T), dtype=self._dtype),
            "penalty": np.zeros((n, k), dtype=self._dtype),
        }
        # The offset this call's search carries (its snapshot's penalty).
        offset = (
            None if search.offset is None else search.backend.to_numpy(search.offset)
        )
        for rows, batch in self._batches(call):
            cand, vals = search.ranked(batch, k)
            cand = search.backend.to_numpy(cand)
            idx, w, contributions = search.contributions(batch, cand)
            parts["seen_labels"][rows] = seen[idx]
            parts["seen_weights"][rows] = w
            parts["candidates"][rows] = self.classes_[cand]
            parts["scores"][rows] = search.backend.to_numpy(vals)
            parts["contributions"][rows] = contributions
            if offset is not None:
                parts["penalty"][rows] = offset[cand]
        return Bunch(**parts)

    def _validate_X(self, X, *, reset: bool):
        return _validate_X_y(self, X, reset=reset)


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows divided by their norms, in their dtype (norms in float64)."""
    norms = np.linalg.norm(vectors.astype(np.float64, copy=False), axis=1)
    return (vectors / norms[:, None]).astype(vectors.dtype, copy=False)


def _bits(dtype: Any) -> int:
    """The width of a NumPy, torch or CuPy dtype, in bits."""
    itemsize = getattr(dtype, "itemsize", None)
    if itemsize is None:
        itemsize = np.dtype(dtype).itemsize
    return 8 * int(itemsize)


def check_base_estimator(base) -> None:
    """Refuse a base that is not a scikit-learn estimator, in one line.

    It is cloned (``get_params``) and asked for its tags (``__sklearn_tags__``):
    without them scikit-learn raises an error nested three times.
    """
    lacking = [
        name for name in ("get_params", "__sklearn_tags__") if not hasattr(base, name)
    ]
    if lacking:
        name = type(base).__name__
        raise TypeError(
            f"The base estimator {name} is not a scikit-learn estimator (it has "
            f"no {' and no '.join(lacking)}): ConSE needs a classifier with fit, "
            "predict_proba, classes_ after fit, get_params and scikit-learn's "
            f"tags. Inherit them: class {name}(ClassifierMixin, BaseEstimator), "
            "from sklearn.base."
        )


def _check_base_classes(base) -> np.ndarray:
    """The fitted base estimator's ``classes_``: 1-D, hashable and unique."""
    name = f"The base estimator {type(base).__name__}"
    if not hasattr(base, "classes_"):
        raise ValueError(f"{name} has no classes_ after fit.")
    classes = np.asarray(to_numpy(base.classes_))
    if classes.ndim != 1:
        raise ValueError(
            f"{name} has classes_ of shape {classes.shape}; ConSE needs a 1-D "
            "array with one label per column of predict_proba."
        )
    labels = [as_python_label(label) for label in classes]
    unhashable = [lab for lab in labels if not isinstance(lab, Hashable)]
    if unhashable:
        raise ValueError(
            f"{name} has unhashable labels in classes_: {unhashable[0]!r}."
        )
    dups = repeated(labels)
    if dups:
        raise ValueError(
            f"{name} has duplicated labels in classes_: {name_some(dups)}; "
            "each column of predict_proba must be a different label."
        )
    return classes


def _sorted_order(classes: np.ndarray) -> np.ndarray | None:
    """Positions of the sorted labels in ``classes``; None when already sorted."""
    position = {as_python_label(label): i for i, label in enumerate(classes)}
    order = np.array(
        [position[as_python_label(label)] for label in sorted_labels(classes)],
        dtype=np.intp,
    )
    if np.array_equal(order, np.arange(len(classes))):
        return None
    return order
