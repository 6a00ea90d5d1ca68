"""What every zero-shot classifier of sk_conse shares: ranking candidates.

A zero-shot classifier maps each input to a point f(x) of the label-vector
space and ranks the *candidate* labels by cosine similarity.
:class:`BaseZeroShotClassifier` holds what follows from that and nothing
specific to one method: the candidate set, the public prediction methods,
batching, outputs in the input's array library, pickling without device
state, Dask dispatch and all-or-nothing fitting.

A subclass implements:

- ``fit``, inside ``with self._fitting():``, setting its fitted attributes
  (``classes_`` and ``candidate_embeddings_`` from :meth:`_candidates`);
- ``_validate_X(X, reset)``;
- ``_build_search(backend)``: its search object (:mod:`sk_conse._search`) on a
  backend;
- ``_search_input(X_batch, backend, n_rows)``: what its search's ``embed``
  takes for a batch (ConSE: p(y|x); DeViSE: the projected points, rescaled);
- optionally ``_transform_input``: the same for :meth:`transform`, when the
  scoring input is rescaled (DeViSE: M x + b as it is).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import dataclasses
import numbers
import threading
import warnings
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import sklearn
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted

from . import _dask, _parallel
from ._backend import Backend, backend_for, resolve_device
from ._compat import (
    Interval,
    StrOptions,
    _num_samples,
    get_namespace,
    validate_parameter_constraints,
)
from ._docstrings import fill_doc
from ._fitted_state import check_fitted_state
from ._formatting import name_some
from ._label_embeddings import LabelEmbeddings, check_label_embeddings, sorted_labels
from ._progress import progress
from ._repr import summarized_repr
from ._validation import check_k, check_label_list
from .exceptions import NoCandidateLabelsWarning, NonCandidateLabelsWarning

__all__ = ["BaseZeroShotClassifier"]

# Searches are built under this lock, so that threads predicting at once
# build each (a Gram matrix can take a GiB) once.
_SEARCH_LOCK = threading.Lock()

# True while a fit with no candidate is the expected outcome (the refit of
# ConSEClassifierCV on the seen labels' vectors): no NoCandidateLabelsWarning.
# Local to the context (thread, task) that sets it.
NO_CANDIDATES_EXPECTED = contextvars.ContextVar(
    "sk_conse_no_candidates_expected", default=False
)


@dataclasses.dataclass(frozen=True)
class _Call:
    """What one public call decided at its start, and uses throughout.

    ``params`` is the snapshot of the prediction-time parameters, read once:
    a ``set_params`` from another thread during the call changes nothing in
    it.
    """

    X: Any
    backend: Backend
    search: Any
    keep: bool
    params: dict


@fill_doc
class BaseZeroShotClassifier(
    ClassifierMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Base class: rank candidate labels by cosine similarity to f(x).

    Not meant to be used directly; see :class:`sk_conse.ConSEClassifier` and
    :class:`sk_conse.DeViSEClassifier`.
    """

    _parameter_constraints: ClassVar[dict] = {
        "label_embeddings": "no_validation",
        "candidate_labels": [StrOptions({"unseen", "all"}), "array-like"],
        "seen_penalty": [Interval(numbers.Real, None, None, closed="neither")],
        "device": [StrOptions({"auto", "cpu", "cuda"})],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    }

    # The array library whose CUDA device ``device="auto"`` resolves to (see
    # resolve_device): at fit time and again when a pickle is loaded.
    _device_library: ClassVar[str] = "cupy"

    # Parameters read at prediction time, validated there (they may have been
    # set with set_params after fit) and snapshotted once per call.
    _predict_params: ClassVar[tuple] = (
        "batch_size",
        "verbose",
        "seen_penalty",
        "temperature",
    )

    # ----------------------------------------------------- subclass hooks

    def _validate_X(self, X, *, reset: bool):
        """Validate ``X`` as the estimator's ``fit`` does."""
        raise NotImplementedError

    def _build_search(self, backend: Backend, params: dict) -> Any:
        """The estimator's search object on ``backend`` for the snapshot
        ``params``."""
        raise NotImplementedError

    def _search_key(self, backend: Backend, params: dict) -> tuple:
        """Everything a search's content depends on beyond the fitted state
        (never ``seen_penalty``: each call applies its own, see
        :meth:`_search_for`)."""
        return backend.key

    def _search_input(self, X_batch, backend: Backend, n_rows: int) -> Any:
        """What the search's ``embed`` takes for a batch of rows."""
        raise NotImplementedError

    def _transform_input(self, X_batch, backend: Backend, n_rows: int) -> Any:
        """What ``embed`` takes for :meth:`transform`: by default, as for
        scoring (a subclass whose scoring input is rescaled overrides it)."""
        return self._search_input(X_batch, backend, n_rows)

    # -------------------------------------------------------------- fitting

    @contextlib.contextmanager
    def _fitting(self):
        """All-or-nothing ``fit``: a fit that raises leaves the estimator as it was.

        The fitted state of the previous fit (or its absence) is restored,
        including what ``validate_data`` sets (``n_features_in_``).
        """
        before = dict(self.__dict__)
        # Searches belong to one fitted state: the new fit builds its own.
        self._searches = {}
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        if len(self.classes_) == 0 and not NO_CANDIDATES_EXPECTED.get():
            warnings.warn(
                f"{type(self).__name__} was fitted with no candidate label to "
                f"rank: with candidate_labels={self.candidate_labels!r}, every "
                "label of label_embeddings was seen in fit, so prediction will "
                "raise. Give label_embeddings vectors for the labels to "
                "predict, use candidate_labels='all', or call "
                "with_candidates(labels, label_embeddings=...) on the fitted "
                "model.",
                NoCandidateLabelsWarning,
                stacklevel=4,
            )

    def _explicit_candidates(self) -> list:
        return check_label_list(
            self.candidate_labels,
            "candidate_labels",
            empty_hint=", or use 'unseen' or 'all'",
        )

    def _candidates(
        self, table: LabelEmbeddings, seen_rows: np.ndarray, hint: str = ""
    ) -> tuple[np.ndarray, np.ndarray]:
        """``classes_`` (sorted) and their vectors, from the parameters
        (``hint`` follows the error naming candidates with no vector)."""
        if isinstance(self.candidate_labels, str):
            if self.candidate_labels == "all":
                candidates = list(table.labels)
            else:
                seen = {table.labels[i] for i in seen_rows}
                candidates = [lab for lab in table.labels if lab not in seen]
        else:
            candidates = self._explicit_candidates()
        classes = sorted_labels(candidates)
        rows = table.rows_of(classes, role="candidate", hint=hint)
        return classes, table.vectors[rows]

    def _candidate_offset(self, penalty: float) -> np.ndarray | None:
        """``penalty`` on each seen candidate (calibrated stacking)."""
        if not penalty:
            return None
        dtype = self.candidate_embeddings_.dtype
        if not abs(float(penalty)) <= float(np.finfo(dtype).max):
            raise ValueError(
                f"seen_penalty={penalty!r} overflows {dtype}, the dtype of the "
                "label vectors. Use a smaller penalty (cosine scores lie in "
                "[-1, 1])."
            )
        seen = set(self.seen_classes_.tolist())
        mask = np.fromiter(
            (lab in seen for lab in self.classes_.tolist()),
            dtype=bool,
            count=len(self.classes_),
        )
        return (mask * penalty).astype(dtype)

    def _search_for(self, backend: Backend, params: dict | None = None) -> Any:
        """The search on ``backend``, built once and kept (not pickled).

        Keyed by everything its content depends on (:meth:`_search_key`: the
        library, the device and the route), built once under a lock. The
        call's ``seen_penalty`` rides on the copy returned, with its thread
        budget: a penalty sweep keeps one search.
        """
        if params is None:
            params = self._snapshot()
        searches = self.__dict__.setdefault("_searches", {})
        key = self._search_key(backend, params)
        search = searches.get(key)
        if search is None:
            with _SEARCH_LOCK:
                search = searches.get(key)
                if search is None:
                    search = self._build_search(backend, params)
                    searches[key] = search
        offset = self._candidate_offset(params["seen_penalty"])
        return search.on(backend, offset=offset)

    def __repr__(self, N_CHAR_MAX=700):
        # The label vectors show as "<dict of 2000>", not thousands of numbers.
        return summarized_repr(self, N_CHAR_MAX)

    def __getstate__(self):
        # Search objects hold device arrays and precomputed products: caches.
        # Pickles hold NumPy only and load on machines without a GPU.
        state = self.__dict__.copy()
        state.pop("_searches", None)
        return state

    def __setstate__(self, state):
        # pickle, joblib and skops load through here: a state read from disk
        # is checked before anything uses it.
        self.__dict__.update(state)
        check_fitted_state(self)
        if getattr(self, "device_", None) == "cuda":
            self.device_ = resolve_device("auto", library=self._device_library)

    def __copy__(self):
        # A copy (with_candidates makes one per call, scorers per fold) is of
        # a state already in use: not checked again, and the whole label
        # table kept (ConSE's pickles keep only the labels they use).
        new = type(self).__new__(type(self))
        new.__dict__.update(BaseZeroShotClassifier.__getstate__(self))
        return new

    def __deepcopy__(self, memo):
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        state = copy.deepcopy(BaseZeroShotClassifier.__getstate__(self), memo)
        new.__dict__.update(state)
        return new

    # ------------------------------------------------------------ predict

    def _require_candidates(self) -> None:
        if len(self.classes_) == 0:
            raise ValueError(
                "There are no candidate labels to rank: with "
                f"candidate_labels={self.candidate_labels!r}, every embedded "
                "label was seen in fit. Add unseen labels to label_embeddings, "
                "use candidate_labels='all', or give the fitted model labels to "
                "rank: with_candidates(labels, label_embeddings=vectors)."
            )

    def _snapshot(self) -> dict:
        """The prediction-time parameters, read once and validated."""
        params = {p: getattr(self, p) for p in self._predict_params}
        validate_parameter_constraints(
            {p: self._parameter_constraints[p] for p in self._predict_params},
            params,
            caller_name=type(self).__name__,
        )
        return params

    def _start(self, X, *, candidates: bool = True) -> _Call:
        """Decided once per public call: ``X``, the backend, the search, whether
        outputs stay in the input's array library, and the parameters.

        With scikit-learn's ``array_api_dispatch`` on, a torch or CuPy ``X``
        is computed on where it lives and results come back in its library;
        otherwise results are NumPy.
        """
        check_is_fitted(self)
        params = self._snapshot()
        X = self._validate_X(X, reset=False)
        follow = bool(sklearn.get_config().get("array_api_dispatch", False))
        backend = backend_for(X, self.device_, follow_input=follow)
        backend = backend.with_parallel(_parallel.plan())
        keep = follow and backend.owns(X)
        if candidates:
            self._require_candidates()
        search = self._search_for(backend, params)
        return _Call(X, backend, search, keep, params)

    def _batches(self, call: _Call, *, transform: bool = False) -> Iterator[tuple]:
        """Yield ``(rows, batch)``: each batch of rows embedded by the search
        (from :meth:`_transform_input` with ``transform``)."""
        n = _num_samples(call.X)
        size, verbose = call.params["batch_size"], call.params["verbose"]
        starts = range(0, n, size)
        if verbose and len(starts) > 1:
            starts = progress(
                starts, f"{type(self).__name__}: batches", enabled=verbose
            )
        prepare = self._transform_input if transform else self._search_input
        for start in starts:
            rows = slice(start, min(start + size, n))
            n_rows = rows.stop - rows.start
            # One expression: the generator keeps no batch's inputs while
            # the caller works on it (two P batches were the peak memory).
            yield rows, call.search.embed(prepare(call.X[rows], call.backend, n_rows))

    @property
    def _dtype(self) -> np.dtype:
        """The dtype of embeddings and scores: that of the label vectors."""
        return self.candidate_embeddings_.dtype

    @property
    def _n_features_out(self) -> int:
        """Length of f(x), for ``get_feature_names_out``."""
        return self.candidate_embeddings_.shape[1]

    @staticmethod
    def _output(backend: Backend, keep: bool, shape: tuple, dtype: Any) -> Any:
        if keep:
            return backend.empty(shape, dtype)
        return np.empty(shape, dtype)

    @_dask.dispatch
    def transform(self, X):
        """Each sample's point f(x) in the label-vector space.

        The point that the candidates are ranked against: by
        :meth:`decision_function`, the cosine similarity between f(x) and
        each candidate label vector. Its length is that of the label vectors.

        %(parameters_X_predict)s

        Returns
        -------
        F : ndarray of shape (n_samples, n_dims)
            A torch tensor or CuPy array (on ``X``'s device) for such an ``X``
            under ``sklearn.config_context(array_api_dispatch=True)``.
        """
        call = self._start(X, candidates=False)
        shape = (_num_samples(call.X), self._n_features_out)
        out = self._output(call.backend, call.keep, shape, self._dtype)
        for rows, batch in self._batches(call, transform=True):
            F = batch.embedding
            out[rows] = F if call.keep else call.backend.to_numpy(F)
        return out

    def _scores(self, call: _Call, then: Any = None):
        """The (n_samples, n_candidates) cosine scores of a call, each batch
        written once into the output (and ``then`` applied to it in place)."""
        n_cand = len(self.classes_)
        shape = (_num_samples(call.X), n_cand)
        out = self._output(call.backend, call.keep, shape, self._dtype)
        for rows, batch in self._batches(call):
            if call.keep or call.backend.name == "numpy":
                call.search.scores(batch, out=out[rows])
            else:
                # Scores on a device, output on the host.
                out[rows] = call.backend.to_numpy(call.search.scores(batch))
            if then is not None:
                then(out[rows])
        return out

    @_dask.dispatch
    def decision_function(self, X):
        """Cosine similarity between f(x) and each candidate label vector.

        Columns follow ``classes_``; ``seen_penalty`` is subtracted from the
        scores of seen candidates. With two candidates, as scikit-learn's
        binary classifiers do, a 1-D array: the score of ``classes_[1]``
        minus that of ``classes_[0]`` (positive means ``classes_[1]``).

        %(parameters_X_predict)s

        Returns
        -------
        scores : ndarray of shape (n_samples, n_candidates) or (n_samples,)
            A torch tensor or CuPy array for such an ``X`` under array API
            dispatch.
        """
        scores = self._scores(self._start(X))
        if len(self.classes_) == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    @_dask.dispatch
    def predict_proba(self, X):
        """Softmax of the cosine scores divided by ``temperature``.

        Rows sum to 1 and order the candidates as :meth:`decision_function`
        does. With the default ``temperature=1`` the values are a ranking
        score, not calibrated probabilities; tune ``temperature`` (for
        example with ``GridSearchCV`` and ``scoring="neg_log_loss"`` on
        class-disjoint folds) to calibrate them.

        %(parameters_X_predict)s

        Returns
        -------
        proba : ndarray of shape (n_samples, n_candidates)
        """
        call = self._start(X)
        temperature = call.params["temperature"]
        if call.keep:
            return _softmax(self._scores(call), temperature)
        return self._scores(call, then=lambda S: _softmax_in_place(S, temperature))

    @_dask.dispatch
    def predict_top_k(self, X, k=5):
        """The ``k`` best candidate labels of each sample and their scores.

        Works batch by batch without building the (n_samples, n_candidates)
        score matrix.

        Parameters
        ----------
        %(X_predict)s
        k : int, default=5
            How many labels per sample; at most the number of candidates.

        Returns
        -------
        labels : ndarray of shape (n_samples, k)
            Best first; ties go to the label earlier in ``classes_``. Labels
            are NumPy, like ``classes_``.
        scores : ndarray of shape (n_samples, k)
            Their cosine scores (minus ``seen_penalty`` for seen labels); a
            torch tensor or CuPy array for such an ``X`` under array API
            dispatch.
        """
        call = self._start(X)
        backend, search = call.backend, call.search
        k = check_k(k, n=len(self.classes_))
        n = _num_samples(call.X)
        idx_out = np.empty((n, k), dtype=np.intp)
        val_out = self._output(backend, call.keep, (n, k), self._dtype)
        for rows, batch in self._batches(call):
            idx, vals = search.ranked(batch, k)
            idx_out[rows] = backend.to_numpy(idx)
            val_out[rows] = vals if call.keep else backend.to_numpy(vals)
        return self.classes_[idx_out], val_out

    @_dask.dispatch
    def predict(self, X):
        """The best candidate label of each sample.

        The first label of :meth:`predict_top_k` (ties go to the label
        earlier in ``classes_``), found without building the
        (n_samples, n_candidates) score matrix.

        %(parameters_X_predict)s

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        labels, _ = self.predict_top_k(X, 1)
        return labels[:, 0]

    def score(self, X, y, sample_weight=None):
        """Accuracy of :meth:`predict` on ``X`` against the true labels ``y``.

        Labels of ``y`` that are not candidates can never be predicted: when
        none of them is a candidate (for example the seen labels of a
        training fold) this raises, and when some are not it warns
        (:class:`~sk_conse.exceptions.NonCandidateLabelsWarning`), so that
        an accuracy of 0.0 is never returned silently. To score seen labels,
        use :meth:`with_candidates` or ``candidate_labels="all"``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        y_true = np.asarray(y, dtype=object)
        candidates = set(self.classes_.tolist())
        outside = [
            lab for lab in dict.fromkeys(y_true.tolist()) if lab not in candidates
        ]
        if len(outside) == len(set(y_true.tolist())):
            raise ValueError(
                f"None of the true labels is a candidate label of this "
                f"{type(self).__name__} ({name_some(outside)} are not in "
                "classes_), so every prediction would be wrong. Score on "
                "samples of candidate labels, or rank these labels too with "
                "with_candidates(...) or candidate_labels='all'."
            )
        if outside:
            warnings.warn(
                f"{len(outside)} true label(s) are not candidate labels and can "
                f"never be predicted: {name_some(outside)}. They count as "
                "errors.",
                NonCandidateLabelsWarning,
                stacklevel=2,
            )
        return super().score(X, y, sample_weight=sample_weight)

    def with_candidates(self, candidate_labels, *, label_embeddings=None):
        """A copy of this fitted model that ranks other candidate labels.

        Nothing is refitted: the copy shares the fitted model (for ConSE the
        fitted base estimator) and only rebuilds the candidate side. Use it
        to deploy a model tuned on class-disjoint folds on the labels to
        predict, or to add labels later.

        Parameters
        ----------
        candidate_labels : {"unseen", "all"} or array-like
            As the ``candidate_labels`` parameter.
        label_embeddings : mapping, Series, DataFrame or KeyedVectors, \
default=None
            New label vectors, holding every seen label and the candidates;
            ``None`` keeps the current ones. They must live in the same
            vector space as those the model was fitted with.

        Returns
        -------
        estimator : object
            A fitted estimator of the same class, with the new
            ``candidate_labels`` (and ``label_embeddings``) as parameters, so
            ``get_params``, ``clone`` and pickling work as usual.
        """
        check_is_fitted(self)
        new = copy.copy(self)
        new.candidate_labels = candidate_labels
        if label_embeddings is not None:
            new.label_embeddings = label_embeddings
        new._validate_params()
        with new._fitting():
            table = check_label_embeddings(new.label_embeddings)
            seen_rows = table.rows_of(new.seen_classes_, role="seen")
            hint = ""
            if label_embeddings is None:
                hint = (
                    " with_candidates was given no label_embeddings, so it looked "
                    f"in the model's own ({len(table.labels)} labels; a loaded "
                    "model keeps only the vectors of its seen and candidate "
                    "labels): pass vectors that hold the new labels, "
                    "with_candidates(candidate_labels, label_embeddings=vectors)."
                )
            new.classes_, new.candidate_embeddings_ = new._candidates(
                table, seen_rows, hint
            )
            new._update_candidates(table, seen_rows)
        return new

    def _update_candidates(self, table: LabelEmbeddings, seen_rows) -> None:
        """Subclass hook: refresh what depends on the candidates or vectors."""


# Rows of probabilities computed at a time (float64 temporaries of this many
# rows x candidates).
_SOFTMAX_ROWS = 128


def _softmax_in_place(S: np.ndarray, temperature: float) -> None:
    """:func:`_softmax` of NumPy scores, written over them, a few rows at a
    time."""
    for start in range(0, S.shape[0], _SOFTMAX_ROWS):
        rows = slice(start, start + _SOFTMAX_ROWS)
        S[rows] = _softmax(S[rows], temperature)


def _softmax(scores: Any, temperature: float) -> Any:
    """``softmax(scores / temperature)`` by rows: finite, rows summing to 1,
    and its argmax the argmax of ``scores`` (ties to the first column).

    The row maximum is subtracted before dividing, in float64, so that no
    temperature overflows. Rounding can make two probabilities equal where
    the scores differ (at a huge temperature, all of them): the best score's
    probability is then raised by one ulp, so that the first maximum of each
    row is still the predicted label.
    """
    xp, _ = get_namespace(scores)
    dtype = scores.dtype
    z = xp.astype(scores, xp.float64)
    z = (z - xp.max(z, axis=1, keepdims=True)) / float(temperature)
    z = xp.exp(z)
    proba = xp.astype(z / xp.sum(z, axis=1, keepdims=True), dtype)
    best = xp.argmax(scores, axis=1)
    first = xp.argmax(proba, axis=1)
    behind = xp.nonzero(first != best)[0]
    if behind.shape[0]:
        top = proba[behind, first[behind]]
        proba[behind, best[behind]] = xp.nextafter(top, xp.full_like(top, 2.0))
    return proba
