"""What every zero-shot classifier of sk_conse shares: ranking candidates.

A zero-shot classifier maps each input to a point f(x) of the label-vector
space (ConSE by a convex combination of seen label vectors, DeViSE by a learned
linear map) and ranks the *candidate* labels by cosine similarity.
:class:`BaseZeroShotClassifier` holds everything after f(x): the candidate
set, the prepared cosine search, batching, top-k, the score matrix, pickling
without device state, Dask dispatch and the thread policy of the kernel.
Subclasses implement ``fit`` (calling :meth:`_set_candidates` and
:meth:`_prepare_search`), ``_validate_X``, ``_dtype`` and ``_batches``.
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Hashable, Iterator
from typing import Any, ClassVar

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _dask
from ._backend import get_namespace, resolve_device, single_blas_thread, to_numpy
from ._kernel import CandidateSearch, rank_top_k
from ._label_embeddings import LabelEmbeddings, _name_some, sorted_labels

__all__ = ["BaseZeroShotClassifier"]

# Below this many floating-point operations a batch, the kernel runs on one
# BLAS thread (see BaseZeroShotClassifier._kernel_threads).
_SMALL_BATCH_FLOPS = 1 << 27


def _progress(iterable, desc: str):
    """A progress bar over ``iterable``: tqdm if installed, else stderr lines."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with the extras
        import sys

        def lines():
            total = len(iterable)
            for i, item in enumerate(iterable, 1):
                yield item
                print(f"{desc}: {i}/{total}", file=sys.stderr)

        return lines()
    return tqdm(iterable, desc=desc)


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
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    }

    # ----------------------------------------------------- subclass hooks

    @property
    def _dtype(self) -> np.dtype:
        """The dtype of embeddings and scores."""
        raise NotImplementedError

    def _validate_X(self, X, *, reset: bool):
        """Validate ``X`` as the estimator's ``fit`` does."""
        raise NotImplementedError

    def _batches(self, X) -> Iterator[tuple[slice, Any, Any]]:
        """Yield ``(rows, weights, F)``: f(x) of each batch of rows.

        ``weights`` is ConSE's top-T ``(idx, w)`` (for the factorised route
        and the degenerate-direction test) or ``None``.
        """
        raise NotImplementedError

    def _search_seen_vectors(self) -> Any:
        """Seen vectors on the device, for the factorised route, or None."""
        return None

    def _search_factorised(self) -> bool:
        return False

    # ------------------------------------------------- candidates, search

    def _explicit_candidates(self) -> list:
        array = np.asarray(self.candidate_labels, dtype=object)
        if array.ndim != 1:
            raise ValueError(
                "candidate_labels must be a list or 1-D array of labels, got "
                f"{type(self.candidate_labels).__name__} of shape {array.shape}."
            )
        labels = list(array)
        if len(labels) == 0:
            raise ValueError(
                "candidate_labels is an empty list. Give at least one label, or "
                "use 'unseen' or 'all'."
            )
        keys = [lab.item() if isinstance(lab, np.generic) else lab for lab in labels]
        unhashable = [k for k in keys if not isinstance(k, Hashable)]
        if unhashable:
            raise TypeError(
                "candidate_labels must hold labels (str, int, ...); got "
                f"{unhashable[0]!r} of type {type(unhashable[0]).__name__}."
            )
        seen: set = set()
        dups = [k for k in keys if k in seen or seen.add(k)]
        if dups:
            raise ValueError(
                f"candidate_labels has duplicated labels: {_name_some(dups)}."
            )
        return keys

    def _set_candidates(self, table: LabelEmbeddings, seen_rows: np.ndarray) -> None:
        """Set ``classes_`` and ``candidate_embeddings_`` from the parameters."""
        if isinstance(self.candidate_labels, str):
            if self.candidate_labels == "all":
                candidates = list(table.labels)
            else:
                seen = {table.labels[i] for i in seen_rows}
                candidates = [lab for lab in table.labels if lab not in seen]
        else:
            candidates = self._explicit_candidates()
        self.classes_ = sorted_labels(candidates)
        candidate_rows = table.rows_of(self.classes_, role="candidate")
        self.candidate_embeddings_ = table.vectors[candidate_rows]

    def _prepare_search(self) -> None:
        """Build the backend-side state: device arrays and the search index."""
        xp = get_namespace(self.device_)
        self._xp = xp
        seen_vectors = self._search_seen_vectors()
        if len(self.classes_) == 0:
            self._search = None
            return
        offset = None
        if self.seen_penalty:
            if not abs(float(self.seen_penalty)) <= float(np.finfo(self._dtype).max):
                raise ValueError(
                    f"seen_penalty={self.seen_penalty!r} overflows {self._dtype}, "
                    "the dtype of the label vectors."
                )
            seen = set(self.seen_classes_.tolist())
            mask = np.fromiter(
                (lab in seen for lab in self.classes_.tolist()),
                dtype=bool,
                count=len(self.classes_),
            )
            offset = xp.asarray(mask * self.seen_penalty, dtype=self._dtype)
        self._search = CandidateSearch(
            xp.asarray(self.candidate_embeddings_),
            seen_vectors,
            offset=offset,
            factorised=self._search_factorised(),
        )

    def __getstate__(self):
        # Device arrays and the search index (with ConSE's precomputed seen x
        # candidate product) are caches: pickles hold NumPy only and load on
        # machines without a GPU.
        state = self.__dict__.copy()
        for key in ("_xp", "_seen_xp", "_search"):
            state.pop(key, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if hasattr(self, "device_"):
            if self.device_ == "cuda":
                self.device_ = resolve_device("auto")
            self._prepare_search()

    # ------------------------------------------------------------ predict

    def _check_X(self, X):
        check_is_fitted(self)
        return self._validate_X(X, reset=False)

    def _require_candidates(self) -> None:
        if self._search is None:
            raise ValueError(
                "There are no candidate labels to rank: with "
                f"candidate_labels={self.candidate_labels!r}, every embedded "
                "label was seen in fit. Add unseen labels to label_embeddings, "
                "or use candidate_labels='all'."
            )

    def _check_k(self, k) -> int:
        """``k`` of :meth:`predict_top_k`, checked against the candidates."""
        n_cand = len(self.classes_)
        if (
            not isinstance(k, numbers.Integral)
            or isinstance(k, bool)
            or not 1 <= k <= n_cand
        ):
            raise ValueError(
                f"k must be an integer between 1 and the number of candidate "
                f"labels ({n_cand}), got {k!r}."
            )
        return int(k)

    def _batch_starts(self, n: int):
        starts = range(0, n, self.batch_size)
        if self.verbose and len(starts) > 1:
            return _progress(starts, f"{type(self).__name__}: batches")
        return starts

    def _kernel_threads(self):
        """One BLAS thread for small batches, the BLAS default otherwise.

        Below a few tens of MFLOP a batch, waking a second BLAS thread costs
        more than it saves (2x here, and far more on a loaded machine). Only
        the kernel runs under the limit, never a base estimator.
        """
        if self.device_ != "cpu":
            return contextlib.nullcontext()
        n_cand = 0 if self._search is None else self._search.n_padded
        n_dims = self.candidate_embeddings_.shape[1]
        width = max(n_cand, len(self.seen_classes_))
        if 2 * self.batch_size * n_dims * width >= _SMALL_BATCH_FLOPS:
            return contextlib.nullcontext()
        return single_blas_thread()

    def _score_batches(self, X) -> Iterator[tuple[slice, Any]]:
        """Yield ``(rows, scores)`` per batch; the score buffer is reused."""
        buffer = None
        for rows, weights, F in self._batches(X):
            with self._kernel_threads():
                S = self._search.scores(F, weights=weights, out=buffer)
            buffer = S if buffer is None else buffer
            yield rows, S

    def transform(self, X):
        """Each sample's point f(x) in the label-vector space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        F : ndarray of shape (n_samples, n_dims)
        """
        if _dask.is_dask_collection(X):
            return _dask.predict_dask(self, X, "transform")
        X = self._check_X(X)
        out = np.empty((X.shape[0], self.candidate_embeddings_.shape[1]), self._dtype)
        for rows, _, F in self._batches(X):
            out[rows] = to_numpy(F)
        return out

    def decision_function(self, X):
        """Cosine similarity between f(x) and each candidate label vector.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_candidates)
            Columns follow ``classes_``; ``seen_penalty`` is subtracted from
            seen candidates.
        """
        if _dask.is_dask_collection(X):
            return _dask.predict_dask(self, X, "decision_function")
        X = self._check_X(X)
        self._require_candidates()
        n_cand = len(self.classes_)
        out = np.empty((X.shape[0], n_cand), self._dtype)
        for rows, S in self._score_batches(X):
            out[rows] = to_numpy(S[:, :n_cand])
        return out

    def predict_proba(self, X):
        """Softmax of the cosine scores: a ranking score, not a probability.

        Rows sum to 1 and order the candidates as :meth:`decision_function`
        does, but the values are not calibrated probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_candidates)
        """
        if _dask.is_dask_collection(X):
            return _dask.predict_dask(self, X, "predict_proba")
        scores = self.decision_function(X)
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

    def predict_top_k(self, X, k=5):
        """The ``k`` best candidate labels of each sample and their scores.

        Works batch by batch without building the (n_samples, n_candidates)
        score matrix.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples.
        k : int, default=5
            How many labels per sample; at most the number of candidates.

        Returns
        -------
        labels : ndarray of shape (n_samples, k)
            Best first; ties go to the label earlier in ``classes_``.
        scores : ndarray of shape (n_samples, k)
            Their cosine scores (minus ``seen_penalty`` for seen labels).
        """
        if _dask.is_dask_collection(X):
            return _dask.predict_dask(self, X, "predict_top_k", k=k)
        X = self._check_X(X)
        self._require_candidates()
        k = self._check_k(k)
        n_cand = len(self.classes_)
        idx_out = np.empty((X.shape[0], k), dtype=np.intp)
        val_out = np.empty((X.shape[0], k), dtype=self._dtype)
        for rows, S in self._score_batches(X):
            with self._kernel_threads():
                idx, vals = rank_top_k(S, k, n_cand)
            idx_out[rows] = to_numpy(idx)
            val_out[rows] = to_numpy(vals)
        return self.classes_[idx_out], val_out

    def predict(self, X):
        """The best candidate label of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        if _dask.is_dask_collection(X):
            return _dask.predict_dask(self, X, "predict")
        labels, _ = self.predict_top_k(X, 1)
        return labels[:, 0]
