"""The search: cosine scores of f(x) against the candidates, and a certified top-k.

An estimator builds one search per backend and route (:mod:`sk_conse._backend`)
from its fitted state; each call hands it its ``seen_penalty`` (as a candidate
offset, :meth:`CosineSearch.on`) and batches of its own input. Every backend,
route and output goes through one pipeline::

    embed(input)   f(x): given (DeViSE), or sum_t w_t s(y_t) summed in float64
                   in a fixed order (ConSE): the same bits everywhere
    raw            the backend's scores or raw top-K: direct (f(x)/||f(x)|| @ Ŝ1ᵀ)
                   or factorised (W G, G = S0 Ŝ1ᵀ), rounding as its kernel likes
    certify        one step: entries within rounding_bound of the k-th best are
                   re-scored by compensated dot products (the reference scores),
                   the row's K grown where they overflow it; ranked on those
                   values, ties to the smaller candidate index

:meth:`CosineSearch.ranked` gives ``predict_top_k`` (and ``predict``, its
top-1); :meth:`CosineSearch.scores` gives ``decision_function`` with each row's
best entries replaced by their reference scores, so that its argmax (and that
of ``predict_proba``) is the top-1 of ``ranked``. No line here asks which
backend runs.

Notation: ``S0`` (n_seen, q) seen-label vectors, ``S1`` (n_candidates, q)
candidate vectors (``Ŝ1`` their unit vectors), ``W`` (n, n_seen) the top-T
weights. The factorised route costs ``T`` row additions of ``G`` a candidate
instead of ``q`` multiply-adds: :func:`choose_algorithm` picks it.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np

from ._backend import GATHER_MAX_T, Backend

__all__ = [
    "ConSEBatch",
    "ConSESearch",
    "CosineSearch",
    "SearchBatch",
    "choose_algorithm",
    "rounding_bound",
]

# Raw entries a row gets beyond k: room for the near-ties of the k-th
# (a row whose near-ties fill them asks for twice as many).
SPARE = 8
# The factorised route's set-up pays only with enough candidates (attribute
# scale, 10 candidates: the direct route was faster, benchmarks/README.md)
# and while G (n_seen x n_candidates) stays of a reasonable size.
_FACTORISED_MIN_CANDIDATES = 1024
_FACTORISED_MAX_GRAM_BYTES = 1 << 30
# Columns of G computed at a time in float64 (bounds the temporaries).
_GRAM_STEP_ENTRIES = 4 << 20
# A row's f(x) is checked for cancellation when its norm is below this many
# eps times sum_t w_t ||s(y_t)|| (or T + 1 if larger): a screen loose enough
# never to miss a row the bound would flag.
_SUSPECT_ULPS = 64
# Rows of the factorised route whose spread exceeds this are scored by the
# direct product (their vectors cancel).
_DIRECT_SPREAD = 64.0
_KEEP = object()


def choose_algorithm(
    backend: Backend, *, T: int, n_seen: int, q: int, n_candidates: int, itemsize: int
) -> str:
    """``"factorised"`` or ``"direct"``: the faster route on ``backend``.

    The factorised route needs ``T`` below the number of seen labels and
    within the gather (``GATHER_MAX_T``), enough candidates for its set-up to
    pay and a Gram matrix ``G`` of at most ``_FACTORISED_MAX_GRAM_BYTES``; it
    is taken up to the ``T`` the backend says it is cheaper
    (:meth:`sk_conse._backend.Backend.factorised_max_t`).

    Examples
    --------
    >>> from sk_conse._backend import get_backend
    >>> from sk_conse._search import choose_algorithm
    >>> choose_algorithm(get_backend("numpy"), T=1, n_seen=1000, q=500,
    ...              n_candidates=21841, itemsize=4)
    'factorised'
    >>> choose_algorithm(get_backend("numpy"), T=1000, n_seen=1000, q=500,
    ...              n_candidates=21841, itemsize=4)
    'direct'
    """
    if (
        T < n_seen
        and T <= GATHER_MAX_T
        and n_candidates >= _FACTORISED_MIN_CANDIDATES
        and n_seen * n_candidates * itemsize <= _FACTORISED_MAX_GRAM_BYTES
        and T <= backend.factorised_max_t(q)
    ):
        return "factorised"
    return "direct"


def rounding_bound(
    eps: float, *, dot_terms: int, sum_terms: int, spread: Any, max_offset: float
) -> Any:
    """Twice the largest gap between a raw score and its reference score.

    A raw score is a dot product of ``dot_terms`` rounded terms (a GEMM of
    ``q`` terms on the direct route; an entry of ``G`` on the factorised one:
    ``q`` terms, or one where ``G`` was rounded once from float64), summed
    over ``sum_terms`` rows (``T`` on the factorised route, 1 otherwise), and
    ``spread >= 1`` is ``sum_t w_t ||s(y_t)|| / ||f(x)||`` (how much the
    summed vectors cancel; 1 for the direct route). With ``eps`` the machine
    epsilon (twice the unit roundoff ``u``) and the dot-product bound
    ``|fl(x·y) - x·y| <= γ_n |x|·|y|``, ``γ_n = n u / (1 - n u)`` (Higham,
    *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §3.1)::

        |raw - reference| <= eps ((dot_terms + sum_terms + 16) spread
                                  + 4 (1 + max |offset|))

    which this returns doubled. ``docs/how_it_works.rst`` writes the
    derivation out; ``tests/test_search.py`` checks it with hypothesis.
    """
    return 2 * eps * ((dot_terms + sum_terms + 16) * spread + 4 * (1 + max_offset))


@dataclasses.dataclass
class SearchBatch:
    """A batch of points f(x), ready to be scored."""

    embedding: Any
    # 1 / ||f(x)|| (0 where f(x) is zero) and how much the rounding of the
    # scores exceeds that of unit vectors (>= 1): set by ``prepare``.
    inverse_norms: Any = dataclasses.field(default=None, kw_only=True)
    spread: Any = dataclasses.field(default=None, kw_only=True)

    def take(self, rows: Any) -> SearchBatch:
        """Some of these rows (and what ``prepare`` set for them)."""
        part = copy.copy(self)
        for name in self._per_row:
            value = getattr(self, name)
            if value is not None:
                setattr(part, name, value[rows])
        return part

    _per_row = ("embedding", "inverse_norms", "spread")


@dataclasses.dataclass
class ConSEBatch(SearchBatch):
    """ConSE's batch: f(x) and the top-T weights it was built from.

    ``idx`` has one row shared by every row where ``T`` covers every seen
    label (``shared``).
    """

    idx: Any = None
    weights: Any = None
    shared: bool = False

    def take(self, rows: Any) -> ConSEBatch:
        part = super().take(rows)
        if not self.shared:
            part.idx = self.idx[rows]
        return part

    _per_row = (*SearchBatch._per_row, "weights")


class CosineSearch:
    """Cosine scores against fixed candidates, prepared once per backend.

    Parameters
    ----------
    backend : Backend
        Where the arrays live and the products run.
    candidates : ndarray of shape (n_candidates, q)
        Nonzero, finite candidate vectors (only their directions matter).
    offset : ndarray of shape (n_candidates,) or None
        Subtracted from each candidate's cosine score (calibrated stacking);
        :meth:`on` sets it per call.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._backend import get_backend
    >>> from sk_conse._search import CosineSearch
    >>> search = CosineSearch(get_backend("numpy"), np.eye(3))
    >>> search.ranked(search.embed(np.array([[0.0, 2.0, 1.0]])), 2)[0]
    array([[1, 2]])
    """

    #: The route this search takes (the public parameter ``algorithm``).
    algorithm = "direct"

    def __init__(self, backend: Backend, candidates: Any, offset: Any = None) -> None:
        self.backend = backend
        n_cand, q = candidates.shape
        self.n_candidates = n_cand
        self.q = q
        self.dtype = candidates.dtype
        self._eps = float(np.finfo(self.dtype).eps)
        # Rounding of a raw score (rounding_bound): a GEMM of q terms.
        self.dot_terms = q
        self.sum_terms = 1
        # Unit vectors, normalised in float64 then rounded: the same direction
        # gives the same unit vector whatever the vector's length.
        wide = np.asarray(candidates, dtype=np.float64)
        units = (wide / np.linalg.norm(wide, axis=1, keepdims=True)).astype(self.dtype)
        self.units = backend.asarray(units)
        # Written scores come from the distinct unit vectors, so that copies
        # of one vector score the same bits (a GEMM rounds equal columns by
        # their place in its tiles).
        distinct, expand = np.unique(units, axis=0, return_inverse=True)
        self.distinct = self.units
        self.expand = None
        if len(distinct) < n_cand:
            self.distinct = backend.asarray(distinct)
            self.expand = backend.asarray(expand.reshape(-1).astype(np.int64))
        self._set_offset(offset)

    def _set_offset(self, offset: Any) -> None:
        self.offset = (
            None if offset is None else self.backend.asarray(offset, self.dtype)
        )
        self._max_offset = (
            0.0 if offset is None else float(np.max(np.abs(np.asarray(offset))))
        )

    def on(self, backend: Backend, offset: Any = _KEEP) -> CosineSearch:
        """This search for one call: ``backend`` (same library and device,
        the call's thread budget) and the call's candidate ``offset``."""
        search = copy.copy(self)
        search.backend = backend
        if offset is not _KEEP:
            search._set_offset(offset)
        return search

    def embed(self, F: Any) -> SearchBatch:
        """Wrap points f(x) (on the backend) as a batch to score."""
        return SearchBatch(F)

    # ------------------------------------------------------------ raw

    def prepare(self, batch: SearchBatch) -> None:
        """Set the batch's inverse norms (from float64 norms) and spread."""
        norms = self._norms(batch)
        self._set_norms(batch, norms, norms == 0, None)

    def _norms(self, batch: SearchBatch) -> Any:
        xp = self.backend.xp
        F = xp.astype(batch.embedding, xp.float64)
        return xp.sqrt(xp.sum(F * F, axis=1))

    def _set_norms(self, batch: SearchBatch, norms: Any, zero: Any, reach: Any) -> None:
        """1 / ||f(x)|| (0 where f(x) has no direction) and the spread
        ``reach / ||f(x)||`` (1 where ``reach`` is None)."""
        xp = self.backend.xp
        inv = xp.where(zero, xp.zeros_like(norms), 1 / xp.where(zero, 1.0, norms))
        batch.inverse_norms = xp.astype(inv, batch.embedding.dtype)
        batch.spread = xp.ones_like(inv) if reach is None else inv * reach

    def _unit_rows(self, batch: SearchBatch) -> Any:
        return batch.embedding * batch.inverse_norms[:, None]

    def _raw_top_k(self, batch: SearchBatch, K: int) -> tuple:
        """The backend's raw top-K of a prepared batch."""
        nx = self.backend
        return nx.product_top_k(self._unit_rows(batch), self.units, self.offset, K)

    def _write_raw(self, batch: SearchBatch, out: Any, K: int) -> tuple:
        """The raw scores of a prepared batch into ``out`` (m, n_candidates),
        and each row's raw top-K."""
        nx = self.backend
        if self.expand is None:
            nx.matmul(self._unit_rows(batch), self.units.T, out=out)
        else:
            S = nx.matmul(self._unit_rows(batch), self.distinct.T)
            out[...] = nx.xp.take(S, self.expand, axis=1)
        if self.offset is not None:
            out -= self.offset
        return nx.raw_top_k(out, K)

    def raw_scores(self, batch: SearchBatch, out: Any = None) -> Any:
        """The raw scores of a batch (not certified), shape (m, n_candidates)."""
        self.prepare(batch)
        if out is None:
            out = self.backend.empty(
                (batch.embedding.shape[0], self.n_candidates), self.dtype
            )
        self._write_raw(batch, out, 1)
        return out

    # ---------------------------------------------------- certificate

    def bound(self, batch: SearchBatch) -> np.ndarray:
        """Each row's :func:`rounding_bound` (NumPy, float64)."""
        spread = np.maximum(self.backend.to_numpy(batch.spread), 1.0)
        return rounding_bound(
            self._eps,
            dot_terms=self.dot_terms,
            sum_terms=self.sum_terms,
            spread=spread,
            max_offset=self._max_offset,
        )

    def reference(self, batch: SearchBatch, rows: Any, cols: Any) -> np.ndarray:
        """Reference scores of entries ``(rows, cols)`` (NumPy int arrays):
        ``f·ŝ / sqrt(f·f) - offset`` with both dot products compensated
        (:meth:`sk_conse._backend.Backend.dot2`), rounded to the working
        dtype. The same bits on every backend, route and batch."""
        nx = self.backend
        used, where = np.unique(rows, return_inverse=True)
        at = nx.asarray(used)
        F = batch.embedding
        norms = np.sqrt(nx.to_numpy(nx.dot2(F, at, F, at)))
        dots = nx.to_numpy(nx.dot2(F, nx.asarray(rows), self.units, nx.asarray(cols)))
        values = dots / norms[where.reshape(-1)]
        if self.offset is not None:
            values = values - nx.to_numpy(self.offset)[cols].astype(np.float64)
        return values.astype(self.dtype)

    def certify(
        self, batch: SearchBatch, cols: Any, vals: Any, k: int, bound: Any, more: Any
    ) -> tuple:
        """The exact top-k of each row from its raw top-K (any order).

        A raw score lies within ``bound / 2`` of its reference score
        (:func:`rounding_bound`), so an entry more than ``bound`` below the
        row's k-th raw best is below the top k, and two entries further
        apart than ``bound`` are in their true order. The entries at or
        above that floor with a neighbour within ``bound`` are re-scored
        (:meth:`reference`) and the row is ranked on those values, ties to
        the smaller candidate. A row whose floor reaches its last raw entry
        gets twice as many from ``more(rows, K)``, that row only. A row with
        f(x) = 0 scores ``0 - offset`` everywhere, exactly.

        Returns
        -------
        idx, values : ndarrays of shape (m, k)
            NumPy; the values are reference scores where entries were
            re-scored, raw ones elsewhere.
        rescored : tuple of ndarrays
            ``(rows, cols, values)`` of the entries re-scored.
        """
        nx = self.backend
        cols = nx.to_numpy(cols).astype(np.int64)
        vals = nx.to_numpy(vals).copy()
        order = np.lexsort((cols, -vals), axis=1)
        cols = np.take_along_axis(cols, order, axis=1)
        vals = np.take_along_axis(vals, order, axis=1)
        m, K = cols.shape
        idx = np.empty((m, k), dtype=np.int64)
        top = np.empty((m, k), dtype=self.dtype)
        found = [(np.zeros(0, np.int64),) * 2 + (np.zeros(0, self.dtype),)]

        zero = nx.to_numpy(batch.inverse_norms) == 0
        if zero.any():
            offset = np.zeros(self.n_candidates, self.dtype)
            if self.offset is not None:
                offset = nx.to_numpy(self.offset)
            best = np.argsort(offset, kind="stable")[:k]
            idx[zero], top[zero] = best, 0 - offset[best]
        floor = vals[:, k - 1] - bound
        grow = ~zero & (vals[:, -1] >= floor) & (K < self.n_candidates)
        if grow.any():
            sub = np.nonzero(grow)[0]
            c, v = more(sub, min(2 * K, self.n_candidates))
            i, t, (r, cc, vv) = self.certify(
                batch.take(nx.asarray(sub)),
                c,
                v,
                k,
                bound[sub],
                lambda rows, K: more(sub[rows], K),
            )
            idx[sub], top[sub] = i, t
            found.append((sub[r], cc, vv))
        keep = ~zero & ~grow
        close = vals[:, :-1] - vals[:, 1:] <= bound[:, None]
        linked = np.zeros((m, K), dtype=bool)
        linked[:, :-1] |= close
        linked[:, 1:] |= close
        r, p = np.nonzero(linked & (vals >= floor[:, None]) & keep[:, None])
        if r.shape[0]:
            vals[r, p] = self.reference(batch, r, cols[r, p])
            found.append((r, cols[r, p], vals[r, p]))
            rows = np.unique(r)
            order = np.lexsort((cols[rows], -vals[rows]), axis=1)
            cols[rows] = np.take_along_axis(cols[rows], order, axis=1)
            vals[rows] = np.take_along_axis(vals[rows], order, axis=1)
        idx[keep], top[keep] = cols[keep, :k], vals[keep, :k]
        rescored = tuple(np.concatenate(part) for part in zip(*found, strict=True))
        return idx, top, rescored

    # -------------------------------------------------------- outputs

    def ranked(self, batch: SearchBatch, k: int) -> tuple:
        """The ``k`` best candidates of a batch and their scores, certified.

        Best first; ties (equal reference scores) to the smaller candidate.
        """
        nx = self.backend
        self.prepare(batch)
        k = min(k, self.n_candidates)
        K = min(k + SPARE, self.n_candidates)
        cols, vals = self._raw_top_k(batch, K)

        def more(rows: Any, K: int) -> tuple:
            return self._raw_top_k(batch.take(nx.asarray(rows)), K)

        idx, top, _ = self.certify(batch, cols, vals, k, self.bound(batch), more)
        return nx.asarray(idx), nx.asarray(top)

    def scores(self, batch: SearchBatch, out: Any = None) -> Any:
        """Scores of a batch (m, n_candidates), minus the offset, with each
        row's best entries certified: the argmax of a row is the top-1 of
        :meth:`ranked`. Written into ``out`` when given."""
        nx = self.backend
        self.prepare(batch)
        if out is None:
            out = nx.empty((batch.embedding.shape[0], self.n_candidates), self.dtype)
        K = min(1 + SPARE, self.n_candidates)
        cols, vals = self._write_raw(batch, out, K)

        def more(rows: Any, K: int) -> tuple:
            return nx.raw_top_k(out[nx.asarray(rows)], K)

        _, _, (r, c, v) = self.certify(batch, cols, vals, 1, self.bound(batch), more)
        if r.shape[0]:
            out[nx.asarray(r), nx.asarray(c)] = nx.asarray(v)
        return out


class ConSESearch(CosineSearch):
    """ConSE's search: p(y|x) -> top-T weights -> f(x) -> cosine scores.

    Parameters
    ----------
    backend : Backend
    candidates : ndarray of shape (n_candidates, q)
    seen : ndarray of shape (n_seen, q)
        Seen-label vectors, in the column order of the ``P`` given to
        :meth:`embed`.
    T : int
        How many of the most likely seen labels are combined.
    offset : ndarray of shape (n_candidates,) or None
    algorithm : {"direct", "factorised"}
        The route the search takes (the estimator's resolved ``algorithm``).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._backend import get_backend
    >>> from sk_conse._search import ConSESearch
    >>> seen = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> search = ConSESearch(get_backend("numpy"), np.eye(2), seen, T=2)
    >>> batch = search.embed(np.array([[0.1, 0.6, 0.3]]))
    >>> batch.idx, batch.weights
    (array([[1, 2]]), array([[0.66666667, 0.33333333]]))
    >>> batch.embedding
    array([[0.33333333, 1.        ]])
    """

    def __init__(
        self,
        backend: Backend,
        candidates: Any,
        seen: Any,
        T: int,
        *,
        offset: Any = None,
        algorithm: str = "direct",
    ) -> None:
        super().__init__(backend, candidates, offset)
        seen = np.asarray(seen, dtype=np.float64)
        self.n_seen = seen.shape[0]
        self.T = min(T, self.n_seen)
        self.algorithm = algorithm
        self.seen = backend.asarray(seen)
        self.seen_norms = backend.asarray(np.linalg.norm(seen, axis=1))
        self.abs_seen = backend.asarray(np.abs(seen))
        self.gram = None
        if algorithm == "factorised":
            self.gram = backend.asarray(self._gram(seen))
            self.sum_terms = self.T
            # G summed in float64 and rounded once, below float64.
            self.dot_terms = 1 if np.dtype(self.dtype).itemsize < 8 else self.q

    def _gram(self, seen: np.ndarray) -> np.ndarray:
        """``G = S0 Ŝ1ᵀ`` over the candidates (in their order), computed in
        float64 in column blocks and rounded to the working dtype once."""
        units = self.backend.to_numpy(self.units)
        G = np.empty((self.n_seen, self.n_candidates), dtype=self.dtype)
        step = max(1, _GRAM_STEP_ENTRIES // max(1, self.n_seen))
        for j0 in range(0, self.n_candidates, step):
            G[:, j0 : j0 + step] = seen @ units[j0 : j0 + step].T.astype(np.float64)
        return G

    def _weights(self, P: Any) -> tuple[Any, Any]:
        """The top-T seen labels of each row (ascending) and their weights
        ``p / sum p``; one shared row of indices where ``T`` covers them all."""
        nx = self.backend
        xp = nx.xp
        if self.T >= self.n_seen:
            idx = xp.arange(self.n_seen, device=nx.device)[None, :]
            return idx, P / xp.sum(P, axis=1, keepdims=True)
        idx = nx.largest(P, self.T)
        w = nx.take_rows(P, idx)
        return idx, w / xp.sum(w, axis=1, keepdims=True)

    def embed(self, P: Any) -> ConSEBatch:
        """f(x) = sum_t w_t s(y_t) of a batch of p(y|x), in a fixed order."""
        idx, w = self._weights(P)
        F = self.backend.weighted_sum(idx, w, self.seen, self.dtype)
        return ConSEBatch(F, idx=idx, weights=w, shared=self.T >= self.n_seen)

    def prepare(self, batch: ConSEBatch) -> None:
        """As :meth:`CosineSearch.prepare`; a point whose norm lies within
        the rounding of the sum that made it (vectors that cancel out) has
        no direction. ``reach = sum_t w_t ||s(y_t)||`` screens the rows
        first; the bound ``(T + 1) eps ||sum_t w_t |s(y_t)| ||`` is computed
        for those only. On the factorised route the scores' rounding grows
        with ``reach / ||f(x)||`` (the spread)."""
        nx = self.backend
        xp = nx.xp
        norms = self._norms(batch)
        seen_norms = xp.take(self.seen_norms, xp.reshape(batch.idx, (-1,)))
        seen_norms = xp.reshape(seen_norms, batch.idx.shape)
        w = xp.astype(batch.weights, xp.float64)
        reach = xp.sum(w * seen_norms, axis=1)
        zero = norms == 0
        suspect = norms <= max(_SUSPECT_ULPS, self.T + 1) * self._eps * reach
        if bool(xp.any(suspect)):
            rows = xp.nonzero(suspect)[0]
            part = batch.take(rows)
            A = nx.weighted_sum(part.idx, part.weights, self.abs_seen, np.float64)
            noise = (self.T + 1) * self._eps * xp.sqrt(xp.sum(A * A, axis=1))
            zero[rows] = norms[rows] <= noise
        self._set_norms(batch, norms, zero, None if self.gram is None else reach)

    def _direct_rows(self, batch: ConSEBatch) -> Any:
        """The rows of a prepared batch that the factorised route scores by
        the direct product, or None: those whose vectors cancel (G's
        rounding, divided by a small ||f(x)||, would swamp their scores; the
        direct product keeps them to the rounding of f(x) itself). Derived
        from the spread, so a part of the batch (:meth:`SearchBatch.take`)
        has its own."""
        if self.gram is None:
            return None
        xp = self.backend.xp
        far = batch.spread > _DIRECT_SPREAD
        return xp.nonzero(far)[0] if bool(xp.any(far)) else None

    def _gather_args(self, batch: ConSEBatch) -> tuple:
        """The factorised route's indices (one row each) and weights / ||f(x)||."""
        w = batch.weights * batch.inverse_norms[:, None]
        return self.backend.xp.broadcast_to(batch.idx, w.shape), w

    def bound(self, batch: ConSEBatch) -> np.ndarray:
        bound = super().bound(batch)
        rows = self._direct_rows(batch)
        if rows is not None:
            rows = self.backend.to_numpy(rows)
            bound[rows] = rounding_bound(
                self._eps,
                dot_terms=self.q,
                sum_terms=1,
                spread=1.0,
                max_offset=self._max_offset,
            )
        return bound

    def _raw_top_k(self, batch: ConSEBatch, K: int) -> tuple:
        if self.gram is None:
            return super()._raw_top_k(batch, K)
        idx, w = self._gather_args(batch)
        cols, vals = self.backend.gather_top_k(idx, w, self.gram, self.offset, K)
        rows = self._direct_rows(batch)
        if rows is not None:
            cols[rows], vals[rows] = super()._raw_top_k(batch.take(rows), K)
        return cols, vals

    def _write_raw(self, batch: ConSEBatch, out: Any, K: int) -> tuple:
        if self.gram is None:
            return super()._write_raw(batch, out, K)
        idx, w = self._gather_args(batch)
        nx = self.backend
        cols, vals = nx.gather_scores(idx, w, self.gram, self.offset, out, K)
        rows = self._direct_rows(batch)
        if rows is not None:
            part = nx.empty((rows.shape[0], self.n_candidates), self.dtype)
            cols[rows], vals[rows] = super()._write_raw(batch.take(rows), part, K)
            out[rows] = part
        return cols, vals

    def ranked(self, batch: ConSEBatch, k: int) -> tuple:
        nx = self.backend
        if self.T == 1 and not batch.shared:
            # At T = 1, f(x) is s(y_1) itself (its weight is p/p = 1): rows
            # with the same top label have the same answer, found once.
            top = nx.to_numpy(batch.idx)[:, 0]
            _, first, inverse = np.unique(top, return_index=True, return_inverse=True)
            if first.shape[0] < top.shape[0]:
                sub = batch.take(nx.asarray(first))
                idx, vals = super().ranked(sub, k)
                inverse = nx.asarray(inverse.reshape(-1))
                return idx[inverse], vals[inverse]
        return super().ranked(batch, k)

    def contributions(self, batch: ConSEBatch, cand: Any) -> tuple:
        """Each seen label's part of each candidate's cosine, on the host.

        ``cos(f(x), s(c)) = sum_t w_t s(y_t)·ŝ(c) / ||f(x)||``: term ``t`` is
        the contribution of seen label ``t`` to candidate ``c``.

        Parameters
        ----------
        batch : ConSEBatch
            A batch from :meth:`embed`.
        cand : array of shape (m, k)
            Candidate indices per row.

        Returns
        -------
        idx, weights : ndarrays of shape (m, T)
            The top-T seen labels (by decreasing weight, ties in sorted
            order) and their weights.
        parts : ndarray of shape (m, k, T)
            The contributions, in float64.
        """
        nx = self.backend
        if batch.inverse_norms is None:
            self.prepare(batch)
        w = nx.to_numpy(batch.weights)
        idx = np.broadcast_to(nx.to_numpy(batch.idx), w.shape)
        inv = nx.to_numpy(batch.inverse_norms).astype(np.float64)
        cand = nx.to_numpy(cand)
        order = np.argsort(-w, axis=1, kind="stable")
        idx = np.take_along_axis(idx, order, axis=1)
        w = np.take_along_axis(w, order, axis=1)
        seen = nx.to_numpy(self.seen)
        units = nx.to_numpy(self.units)[cand].astype(np.float64)
        dots = np.einsum("itq,ikq->ikt", seen[idx], units)
        parts = dots * (w.astype(np.float64) * inv[:, None])[:, None, :]
        return idx, w, parts
