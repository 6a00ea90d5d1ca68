"""ConSEClassifier: zero-shot classification by convex combination of semantic
embeddings (Norouzi et al., ICLR 2014)."""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from ._backend import resolve_device
from ._base import BaseZeroShotClassifier
from ._kernel import _GATHER_MAX_T, embed, top_t_weights
from ._label_embeddings import check_label_embeddings

__all__ = ["ConSEClassifier"]

# The factorised route wins when T is small against the embedding size q: each
# row then costs T row-additions of G = S0 S1ᵀ instead of q multiply-adds per
# candidate. Measured crossovers (1,000 seen, 21,841 candidates, float32, 2
# cores; benchmarks/bench_predict.py and a sweep over q): q = 50 between T = 5
# (1.10x faster) and T = 10 (0.85x); q = 150 at T = 20 (0.97x, T = 10: 1.27x);
# q = 300, T = 20: 1.47x; q = 500: 4.5x at T = 1, 2.7x at T = 10. So: T <= q / 8,
# and T no larger than the kernel's gather path takes (beyond it the weights
# go dense and the route is several times slower: 0.16-0.38x at T = 40).
_FACTORISED_MAX_T_FRACTION = 1 / 8
# With few candidates both routes cost little more than their overheads, and
# the direct one has less (attribute scale, 40 seen, 85-d, 10 candidates,
# T = 5: 8.7 ms direct against 10.0 ms factorised for 10,000 rows).
_FACTORISED_MIN_CANDIDATES = 1024
# ... and only when G (n_seen x n_candidates) stays of a reasonable size.
_FACTORISED_MAX_GRAM_BYTES = 1 << 30


# X goes to the base estimator, which has the last word on what it accepts:
# only what ConSE itself needs is checked (rows, a consistent width).
_X_CHECKS = {
    "accept_sparse": ["csr", "csc"],
    "ensure_all_finite": False,
    "dtype": None,
    "allow_nd": True,
}


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
        The route resolved from ``algorithm`` at fit time.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when ``X`` has them.

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
    confidences.

    When the top-T vectors of an input cancel out exactly, f(x) has no
    direction: every candidate scores 0 and the smallest-index candidate is
    predicted.

    Computation happens in the dtype of the label vectors: float32 vectors
    give float32 embeddings and scores.

    References
    ----------
    .. [1] M. Norouzi, T. Mikolov, S. Bengio, Y. Singer, J. Shlens, A. Frome,
       G. S. Corrado and J. Dean, "Zero-Shot Learning by Convex Combination of
       Semantic Embeddings", ICLR 2014.

    .. [2] W.-L. Chao, S. Changpinyo, B. Gong and F. Sha, "An Empirical Study
       and Analysis of Generalized Zero-Shot Learning for Object Recognition
       in the Wild", ECCV 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sk_conse import ConSEClassifier
    >>> vectors = {"cat": [1.0, 0.1], "dog": [0.9, 0.4], "car": [0.0, 1.0],
    ...            "lion": [1.0, 0.0], "truck": [0.1, 1.0]}
    >>> rng = np.random.RandomState(0)
    >>> centres = {"cat": [0, 0], "dog": [0, 3], "car": [3, 3]}
    >>> y = np.repeat(["cat", "dog", "car"], 20)
    >>> X = np.array([centres[label] for label in y]) + rng.randn(60, 2) / 2
    >>> clf = ConSEClassifier(LogisticRegression(), vectors, T=2).fit(X, y)
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
    }

    def __init__(
        self,
        base_estimator=None,
        label_embeddings=None,
        T=10,
        *,
        candidate_labels="unseen",
        seen_penalty=0.0,
        device="auto",
        algorithm="auto",
        batch_size=1024,
        verbose=0,
    ):
        self.base_estimator = base_estimator
        self.label_embeddings = label_embeddings
        self.T = T
        self.candidate_labels = candidate_labels
        self.seen_penalty = seen_penalty
        self.device = device
        self.algorithm = algorithm
        self.batch_size = batch_size
        self.verbose = verbose

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Fit the base estimator on the seen labels and prepare the search.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, in whatever form the base estimator accepts.

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
        if self.base_estimator is None:
            raise ValueError(
                "ConSEClassifier needs a base_estimator: a classifier with "
                "predict_proba, e.g. LogisticRegression()."
            )
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
        X, y = validate_data(self, X, y, **_X_CHECKS, ensure_2d=not _one_dimensional(X))
        check_classification_targets(y)
        if not isinstance(self.base_estimator, FrozenEstimator):
            # Fail before a possibly long fit; the fitted classes_ are checked
            # again below (a frozen model's labels do not come from y).
            table.rows_of(np.unique(y), role="seen")

        if _routing_enabled():
            routed = process_routing(self, "fit", **fit_params)
            base_fit_params = routed.base_estimator.fit
        else:
            base_fit_params = fit_params
        self.base_estimator_ = clone(self.base_estimator).fit(X, y, **base_fit_params)
        self.seen_classes_ = np.asarray(self.base_estimator_.classes_)
        seen_rows = table.rows_of(self.seen_classes_, role="seen")

        self._set_candidates(table, seen_rows)
        self.seen_embeddings_ = table.vectors[seen_rows]
        n_seen = len(self.seen_classes_)
        self.T_ = n_seen if self.T is None else min(int(self.T), n_seen)
        self.device_ = resolve_device(self.device)
        self.algorithm_ = self._resolve_algorithm()
        self._prepare_search()
        return self

    def _resolve_algorithm(self) -> str:
        if self.algorithm != "auto":
            return self.algorithm
        n_seen, q = self.seen_embeddings_.shape
        gram_bytes = n_seen * len(self.classes_) * self.seen_embeddings_.dtype.itemsize
        if (
            self.T_ < n_seen
            and len(self.classes_) >= _FACTORISED_MIN_CANDIDATES
            and self.T_ <= _GATHER_MAX_T
            and self.T_ <= q * _FACTORISED_MAX_T_FRACTION
            and gram_bytes <= _FACTORISED_MAX_GRAM_BYTES
        ):
            return "factorised"
        return "direct"

    @property
    def _n_features_out(self) -> int:
        """Length of f(x), for ``get_feature_names_out``."""
        return self.seen_embeddings_.shape[1]

    @property
    def _dtype(self) -> np.dtype:
        return self.seen_embeddings_.dtype

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
        if self.base_estimator is not None:
            base_tags = get_tags(self.base_estimator)
            tags.input_tags.sparse = base_tags.input_tags.sparse
            tags.input_tags.allow_nan = base_tags.input_tags.allow_nan
        return tags

    # ------------------------------------------------------------ predict

    def _probabilities(self, X_batch) -> Any:
        """p(y|x) of a batch, checked, in the working dtype and namespace."""
        P = np.asarray(self.base_estimator_.predict_proba(X_batch))
        n_seen = len(self.seen_classes_)
        if P.ndim != 2 or P.shape[1] != n_seen:
            raise ValueError(
                f"The base estimator's predict_proba returned shape {P.shape}, "
                f"expected (n_samples, {n_seen}) to match its classes_."
            )
        if not np.isfinite(P).all() or (P < 0).any():
            raise ValueError(
                "The base estimator's predict_proba returned negative, NaN or "
                "infinite values; ConSE needs probabilities."
            )
        # Judged after the cast: a row of float64 values that all underflow
        # in float32 would otherwise give 0/0 weights.
        P = P.astype(self._dtype, copy=False)
        if (P.max(axis=1) <= 0).any():
            raise ValueError(
                "The base estimator's predict_proba returned an all-zero row "
                f"(in {self._dtype}); ConSE needs a positive probability for at "
                "least one label."
            )
        return self._xp.asarray(P)

    def _validate_X(self, X, *, reset: bool):
        return validate_data(
            self, X, reset=reset, **_X_CHECKS, ensure_2d=not _one_dimensional(X)
        )

    def _search_seen_vectors(self) -> Any:
        self._seen_xp = self._xp.asarray(self.seen_embeddings_)
        return self._seen_xp

    def _search_factorised(self) -> bool:
        return self.algorithm_ == "factorised"

    def _batches(self, X) -> Iterator[tuple[slice, Any, Any]]:
        """Yield (rows, top-T (idx, w), f(x)) for each batch of ``X``."""
        n = X.shape[0] if hasattr(X, "shape") else len(X)
        for start in self._batch_starts(n):
            rows = slice(start, min(start + self.batch_size, n))
            P = self._probabilities(X[rows])
            with self._kernel_threads():
                idx, w = top_t_weights(P, self.T_)
                F = embed(idx, w, self._seen_xp)
            yield rows, (idx, w), F
