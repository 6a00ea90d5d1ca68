"""The search layer: cosine scores of f(x) against the candidates, and the top-k.

An estimator builds one search object per backend (:mod:`sk_conse._backend`)
from its fitted state, and hands it batches of its own input:

- :class:`CosineSearch` (DeViSE, and the base of ConSE's): ``embed(F)`` wraps
  points f(x) already computed; ``scores`` divides by ||f(x)|| and multiplies
  by the unit-normalised candidate vectors;
- :class:`ConSESearch`: ``embed(P)`` takes p(y|x) and forms ConSE's top-T
  weights and f(x) = W S0 (Norouzi et al., ICLR 2014); ``scores`` takes one of
  two routes, chosen by :func:`choose_route`.

Notation: ``S0`` (n_seen, q) seen-label vectors, ``S1`` (n_candidates, q)
candidate vectors, ``W`` (n, n_seen) the top-T weights, ``T`` nonzeros a row.

- *direct* route: normalise f(x) and multiply by ``S1``ᵀ (unit rows), a dense
  (n x q) @ (q x n_candidates) product;
- *factorised* route: ``f(x)·s1 = W (S0 S1ᵀ)``; with ``G = S0 S1ᵀ`` computed
  once per candidate set, each row costs ``T`` scaled row additions of ``G``
  instead of a GEMM row.

Ties and rounding belong to the package, not to the CPU:

- candidates whose unit vectors are identical are scored once and the score
  is copied, so they tie bit for bit on every route, backend and BLAS kernel;
- the BLAS products leave each score off by at most a known bound; every
  entry within twice that bound of a row's k-th best (its *contenders*) is
  re-scored in float64 from f(x) alone, row by row (:meth:`CosineSearch.refine`),
  and rounded to the working dtype. The top of each ranking is thus decided
  on values that do not depend on the batch, the route or the kernel, and
  ties in them go to the smaller candidate index (the rule of
  :func:`numpy.argmax`, so that ``predict`` is the top-1 and the argmax of
  ``decision_function``).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np

from . import _kernels as kernels
from ._backend import _GATHER_MAX_T, GROUP, Backend

__all__ = ["ConSEBatch", "ConSESearch", "CosineSearch", "SearchBatch", "choose_route"]

# The factorised route wins when T is small against the embedding size q: each
# row then costs T row-additions of G = S0 S1ᵀ instead of q multiply-adds per
# candidate. With the compiled kernels see _KERNEL_T_BASE below. Without
# them (the torch CPU backend, or numba disabled), these crossovers were measured
# on 2 CPU cores (1,000 seen, 21,841 candidates, float32; bench_predict.py
# and a sweep over q): q = 50 between T = 5 (1.10x faster) and T = 10
# (0.85x); q = 150 at T = 20 (0.97x, T = 10: 1.27x); q = 300, T = 20: 1.47x;
# q = 500: 4.5x at T = 1, 2.7x at T = 10. So: T <= q / 8, and T no larger
# than a gather takes (beyond 32 the weights go dense and the route is
# several times slower: 0.16-0.38x at T = 40).
_FACTORISED_MAX_T_FRACTION = 1 / 8
# With the compiled kernels, per (row, candidate), the factorised route costs
# about 1.4 + 0.075 T ns and the direct one 2.4 + 0.016 q ns (native Haswell
# kernel) or 2.2 + 0.022 q ns (Sandybridge), on 2 Zen 3 cores at the paper's
# scale (benchmarks/bench_routes.py, 2026-12-02): they cross near
# T = 14 + q / 5 and T = 12 + q / 3. Near the line the two routes lie within
# 15 % of each other (at q = 50, T = 32 four sweeps split 2 to 2, the
# factorised route 5 % faster on average), so the rule takes the upper line.
# (A crossover measured on the user's machine was tried first and dropped:
# one-second calibrations misplaced it by up to 2.5x under load, and kept the
# error on disk.)
_KERNEL_T_BASE = 16
_KERNEL_T_PER_Q = 1 / 3
# With few candidates both routes cost little more than their overheads, and
# the direct one has less (attribute scale, 40 seen, 85-d, 10 candidates,
# T = 5: 8.7 ms direct against 10.0 ms factorised for 10,000 rows).
_FACTORISED_MIN_CANDIDATES = 1024
# ... and only when G (n_seen x n_candidates) stays of a reasonable size.
_FACTORISED_MAX_GRAM_BYTES = 1 << 30
# A row's f(x) is checked for cancellation (the exact bound computed) when its
# norm is below this many eps times sum_t w_t ||s(y_t)||, or T + 1 if larger:
# a cheap screen, loose enough never to miss a row the bound would flag.
_SUSPECT_ULPS = 64
# Entries re-scored exactly at a time (bounds the float64 temporaries: 4 MiB
# each at q = 500).
_REFINE_CHUNK = 1024
# Raw entries a row kept beyond k by the fused top-k: room for the entries
# within rounding of the k-th (a row that fills them is scored in full).
_SPARE = 8
# The direct route's streamed top-k: each GEMM writes a block of scores of at
# most this size (4,096 candidates for 1,024 float32 rows), read once while
# it is in the last-level cache (measured, one Zen 3 core, GEMM + top-k over
# 21,841 candidates against the bare GEMM, two runs: 2,048 columns 1.04x /
# 1.06x, 4,096 1.01x / 1.08x, 8,192 1.25x / 1.10x, 16,384 1.19x / 1.16x).
_DIRECT_BLOCK_BYTES = 16 << 20


def choose_route(
    backend: Backend, *, T: int, n_seen: int, q: int, n_candidates: int, itemsize: int
) -> str:
    """``"factorised"`` or ``"direct"``: the faster route for this backend.

    With the compiled kernels (NumPy), per (row, candidate) the factorised
    route does ``T`` kernel multiply-adds and the direct one ``q`` GEMM
    multiply-adds: the factorised route is taken up to
    ``T = _KERNEL_T_BASE + q * _KERNEL_T_PER_Q`` (see those constants for
    what they were derived from). Without the kernels (the torch CPU backend,
    or no numba) the factorised route is taken up to ``T = q / 8``. On a GPU
    the direct route is a single dense GEMM at several hundred TFLOP/s and
    the sparse route is bound by memory: it is not chosen automatically
    until measured there (``benchmarks/bench_gpu.py`` times both).

    Either way the factorised route needs ``T`` below the number of seen
    labels and within the gather (``_GATHER_MAX_T``), enough candidates for
    its set-up to pay (``_FACTORISED_MIN_CANDIDATES``) and a Gram matrix
    ``G`` of at most ``_FACTORISED_MAX_GRAM_BYTES``.

    Examples
    --------
    >>> from sk_conse._backend import get_backend
    >>> from sk_conse._search import choose_route
    >>> choose_route(get_backend("numpy"), T=1, n_seen=1000, q=500,
    ...              n_candidates=21841, itemsize=4)
    'factorised'
    >>> choose_route(get_backend("numpy"), T=1000, n_seen=1000, q=500,
    ...              n_candidates=21841, itemsize=4)
    'direct'
    """
    if str(backend.device) not in ("cpu",):
        return "direct"
    if not (
        T < n_seen
        and n_candidates >= _FACTORISED_MIN_CANDIDATES
        and T <= _GATHER_MAX_T
        and n_seen * n_candidates * itemsize <= _FACTORISED_MAX_GRAM_BYTES
    ):
        return "direct"
    if backend.name == "numpy" and kernels.available():
        fast = T <= _KERNEL_T_BASE + q * _KERNEL_T_PER_Q
    else:
        fast = T <= q * _FACTORISED_MAX_T_FRACTION
    return "factorised" if fast else "direct"


@dataclasses.dataclass
class SearchBatch:
    """A batch of points f(x), ready to be scored."""

    embedding: Any
    # 1 / ||f(x)|| (0 where f(x) has no direction), set while scoring.
    inverse_norms: Any = dataclasses.field(default=None, kw_only=True)
    # How much larger the rounding of each row's scores may be than that of
    # unit vectors (>= 1), set while scoring.
    spread: Any = dataclasses.field(default=None, kw_only=True)

    def take(self, rows: Any) -> SearchBatch:
        """The unscored batch of some of these rows."""
        return SearchBatch(self.embedding[rows])


@dataclasses.dataclass
class ConSEBatch(SearchBatch):
    """ConSE's batch: f(x) and the top-T weights it was built from."""

    idx: Any = None
    weights: Any = None
    # Rows whose f(x) nearly cancels (set while scoring).
    suspect: Any = None
    # Whether ``weights`` is the dense W (T covers every seen label).
    dense: bool = False

    def take(self, rows: Any) -> ConSEBatch:
        return ConSEBatch(
            self.embedding[rows],
            self.idx[rows],
            self.weights[rows],
            dense=self.dense,
        )


class CosineSearch:
    """Cosine scores against fixed candidates, prepared once per backend.

    Parameters
    ----------
    backend : Backend
        Where the arrays live and the products run.
    candidates : ndarray of shape (n_candidates, q)
        Nonzero, finite candidate vectors (only their directions matter).
    offset : ndarray of shape (n_candidates,) or None
        Subtracted from each candidate's cosine score (calibrated stacking).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._backend import get_backend
    >>> from sk_conse._search import CosineSearch
    >>> search = CosineSearch(get_backend("numpy"), np.eye(3))
    >>> S = search.scores(search.embed(np.array([[0.0, 2.0, 1.0]])))
    >>> search.top_k(S, 2)[0]
    array([[1, 2]])
    """

    def __init__(self, backend: Backend, candidates: Any, offset: Any = None) -> None:
        self.backend = backend
        n_cand, q = candidates.shape
        self.n_candidates = n_cand
        self.q = q
        # How many vectors each f(x) sums (its rounding adds to the scores').
        self.n_terms = 1
        # Terms of the dot product behind each raw score (a BLAS product of
        # length q; 0 where the products were made in float64 and rounded).
        self.product_terms = q
        # Padded to a multiple of the top-k group width with -inf scores.
        self.n_padded = -(-n_cand // GROUP) * GROUP
        self.dtype = candidates.dtype
        self._eps = float(np.finfo(self.dtype).eps)
        # Unit vectors, normalised in float64 then rounded: the same direction
        # gives the same unit vector whatever the vector's length.
        exact = np.asarray(candidates, dtype=np.float64)
        units = (exact / np.linalg.norm(exact, axis=1, keepdims=True)).astype(
            self.dtype
        )
        # Identical unit vectors are scored once; ``expand`` maps each
        # candidate to its distinct vector.
        distinct, first, expand = np.unique(
            units, axis=0, return_index=True, return_inverse=True
        )
        self.expand = None
        if len(distinct) < n_cand:
            # Distinct vectors in order of first appearance.
            order = np.argsort(first, kind="stable")
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            units = distinct[order]
            expand = rank[expand.reshape(-1)].astype(np.int64)
            self.expand = backend.asarray(expand)
        self.n_distinct = len(units)
        width = -(-self.n_distinct // GROUP) * GROUP
        padded = np.zeros((width, q), dtype=self.dtype)
        padded[: self.n_distinct] = units
        # The distinct unit vectors (zero rows pad them to ``width``).
        self.unit = backend.asarray(padded)
        self.offset = None if offset is None else backend.asarray(offset, self.dtype)
        # The direct route's streamed top-k reads candidates in their order.
        self._expanded_units = None
        if self.expand is not None and backend.name == "numpy":
            self._expanded_units = np.ascontiguousarray(units[expand])
        self._max_offset = 0.0 if offset is None else float(np.max(np.abs(offset)))

    def on(self, backend: Backend) -> CosineSearch:
        """This search with ``backend`` (same library and device, this call's
        thread budget)."""
        search = copy.copy(self)
        search.backend = backend
        return search

    def embed(self, F: Any) -> SearchBatch:
        """Wrap points f(x) (on the backend) as a batch to score."""
        return SearchBatch(F)

    def _inverse_norms(self, batch: SearchBatch) -> Any:
        """1 / ||f(x)||, and 0 where f(x) has no direction (a zero vector)."""
        xp = self.backend.xp
        F = batch.embedding
        norms = xp.sqrt(xp.sum(F * F, axis=1))
        batch.spread = xp.ones_like(norms)
        return self._invert(norms, norms == 0)

    def _invert(self, norms: Any, degenerate: Any) -> Any:
        xp = self.backend.xp
        safe = xp.where(degenerate, xp.ones_like(norms), norms)
        return xp.where(degenerate, xp.zeros_like(norms), 1 / safe)

    def _products(self, batch: SearchBatch, inv: Any, out: Any) -> None:
        """``out[:, :width] = (f(x) / ||f(x)||) @ unitᵀ`` over the distinct
        vectors."""
        F = batch.embedding
        self.backend.matmul(F * inv[:, None], self.unit.T, out=out)

    def scores(self, batch: SearchBatch, out: Any = None) -> Any:
        """Cosine scores (minus the offset) of a batch, as the BLAS gives them.

        :meth:`refine` then makes the top of each row exact.

        Parameters
        ----------
        batch : SearchBatch
            From :meth:`embed`.
        out : array of shape (>= m, n_padded) or None
            A buffer to write into (reused across batches).

        Returns
        -------
        scores : array of shape (m, n_padded)
            Columns beyond ``n_candidates`` hold ``-inf``. Where f(x) has no
            direction, every candidate scores 0 (minus its offset).
            Candidates with the same unit vector score the same, bit for bit.
        """
        nx = self.backend
        m = batch.embedding.shape[0]
        if out is None:
            out = nx.empty((m, self.n_padded), self.dtype)
        out = out[:m]
        batch.inverse_norms = self._inverse_norms(batch)
        if self.expand is None:
            self._products(batch, batch.inverse_norms, out)
        else:
            distinct = nx.empty((m, self.unit.shape[0]), self.dtype)
            self._products(batch, batch.inverse_norms, distinct)
            out[:, : self.n_candidates] = nx.xp.take(distinct, self.expand, axis=1)
        if self.offset is not None:
            out[:, : self.n_candidates] -= self.offset
        out[:, self.n_candidates :] = -float("inf")
        return out

    def top_k(self, S: Any, k: int) -> tuple[Any, Any]:
        """The ``k`` best candidates of each row of scores, best first."""
        return self.backend.top_k(S, k, self.n_candidates)

    # -------------------------------------------------------- exactness

    def _margin(self, batch: SearchBatch) -> Any:
        """Twice the bound on each row's score rounding.

        A dot product of ``q`` terms is off by at most ``q eps`` times the
        product of the norms (1 for unit vectors, ``spread`` for a point built
        from vectors that partly cancel); normalising, the gather of ``T``
        terms and the offset add a few ``eps`` more. Products made in float64
        and rounded once (:attr:`product_terms` 0) are off by half an ulp.
        """
        xp = self.backend.xp
        terms = self.product_terms + self.n_terms + 16
        spread = xp.maximum(batch.spread, xp.ones_like(batch.spread))
        return 2 * self._eps * (terms * spread + 4 * (1 + self._max_offset))

    def _exact_embedding(self, batch: SearchBatch, rows: Any) -> Any:
        """f(x) of some rows in float64."""
        xp = self.backend.xp
        return xp.astype(batch.embedding[rows], xp.float64)

    def _candidate_units(self, cols: Any) -> Any:
        """The unit vectors of candidates ``cols``, in float64."""
        xp = self.backend.xp
        if self.expand is not None:
            cols = xp.take(self.expand, cols)
        return xp.astype(xp.take(self.unit, cols, axis=0), xp.float64)

    def refine(
        self, batch: SearchBatch, S: Any, threshold: Any, among: Any = None
    ) -> tuple:
        """Re-score exactly the entries that could reach the top of each row.

        Every entry of ``S`` (from :meth:`scores`) at or above ``threshold``
        minus the rounding margin of its row is recomputed in float64 from
        f(x) and the candidate's unit vector alone, rounded to the working
        dtype and written back into ``S``. Rows without a direction (scores 0
        exactly) are left as they are.

        Parameters
        ----------
        batch : SearchBatch
            The scored batch.
        S : array of shape (m, n_padded)
            Its scores, refined in place.
        threshold : array of shape (m,)
            Each row's k-th best score in ``S``.
        among : int array or None
            Only these rows (of ``S`` exactly ``n_candidates`` wide); None:
            every row.

        Returns
        -------
        rows, cols, values : arrays
            The refined entries (on the backend).
        """
        xp = self.backend.xp
        floor = threshold - self._margin(batch)
        live = batch.inverse_norms != 0
        if among is not None:
            floor, live = floor[among], live[among]
        valid = S[:, : self.n_candidates] if among is None else S[among]
        mask = (valid >= floor[:, None]) & live[:, None]
        # A row whose threshold entry stands alone is in its true order.
        alone = xp.sum(xp.astype(mask, xp.int64), axis=1) < 2
        mask = mask & ~alone[:, None]
        rows, cols = xp.nonzero(mask)
        if among is not None:
            rows = among[rows]
        values = self._exact_pairs(batch, rows, cols)
        S[rows, cols] = values
        return rows, cols, values

    def _exact_pairs(self, batch: SearchBatch, rows: Any, cols: Any) -> Any:
        """The scores of entries ``(rows, cols)`` of a scored batch, computed
        in float64 from f(x) and the unit vectors alone, then rounded to the
        working dtype: the same bits whatever the batch, route or kernel."""
        xp = self.backend.xp
        device = self.backend.device
        values = xp.empty(rows.shape, dtype=self.unit.dtype, device=device)
        if rows.shape[0] == 0:
            return values
        m = batch.embedding.shape[0]
        # f(x) / ||f(x)|| in float64, for the rows that have entries.
        needed = xp.zeros(m, dtype=xp.bool, device=device)
        needed[rows] = True
        used = xp.nonzero(needed)[0]
        where = xp.zeros(m, dtype=rows.dtype, device=device)
        where[used] = xp.arange(used.shape[0], dtype=rows.dtype, device=device)
        F = self._exact_embedding(batch, used)
        F = F / xp.sqrt(xp.sum(F * F, axis=1))[:, None]
        if self.backend.name == "numpy" and kernels.available():
            # Pair by pair, no (pairs x q) temporaries.
            return kernels.exact_dots(
                F,
                where[rows],
                self.backend.to_numpy(self.unit),
                np.zeros(0, np.int64) if self.expand is None else self.expand,
                cols,
                np.zeros(0, self.dtype) if self.offset is None else self.offset,
                values,
                self.backend.parallel,
            )
        for start in range(0, rows.shape[0], _REFINE_CHUNK):
            part = slice(start, start + _REFINE_CHUNK)
            r, c = rows[part], cols[part]
            units = self._candidate_units(c)
            if self.backend.name == "numpy":
                dots = np.einsum("ij,ij->i", F[where[r]], units)
            else:
                dots = xp.sum(F[where[r]] * units, axis=1)
            if self.offset is not None:
                dots = dots - xp.astype(xp.take(self.offset, c), xp.float64)
            values[part] = xp.astype(dots, self.unit.dtype)
        return values

    def ranked(self, batch: SearchBatch, k: int, workspace: dict) -> tuple[Any, Any]:
        """The ``k`` best candidates of a batch and their exact scores.

        ``workspace`` (a dict kept across the batches of one call) holds
        reusable buffers. On NumPy with the compiled kernels, the scores are
        made one column block at a time (a GEMM per block) and streamed into
        a top-K: no (rows x candidates) array is written.
        """
        if self.backend.name != "numpy" or not kernels.available():
            S = self.scores(batch, out=workspace.get("scores"))
            workspace.setdefault("scores", S)
            return self.exact_top_k(batch, S, k)
        batch.inverse_norms = self._inverse_norms(batch)
        F = batch.embedding * batch.inverse_norms[:, None]
        m, n = F.shape[0], self.n_candidates
        units = self._unit_columns()
        offset = None if self.offset is None else self.backend.to_numpy(self.offset)

        # As wide a block as the budget allows (_DIRECT_BLOCK_BYTES).
        width = max(GROUP, _DIRECT_BLOCK_BYTES // (F.dtype.itemsize * m))
        width = width // GROUP * GROUP

        def blocks():
            for j0 in range(0, n, width):
                j1 = min(j0 + width, n)
                key = ("block", m, j1 - j0)
                if key not in workspace:
                    workspace[key] = np.empty((m, j1 - j0), self.dtype)
                S = np.matmul(F, units[j0:j1].T, out=workspace[key])
                if offset is not None:
                    S -= offset[j0:j1]
                yield j0, S

        K = min(k + _SPARE, n)
        cols, vals = kernels.block_top_k(
            blocks(), m, n, K, self.dtype, self.backend.parallel
        )
        return self._finish(batch, cols, vals, k)

    def _unit_columns(self) -> Any:
        """Each candidate's unit vector, in candidate order (NumPy, C)."""
        if self.expand is None:
            return self.backend.to_numpy(self.unit)
        return self._expanded_units

    def _finish(self, batch: SearchBatch, cols: Any, vals: Any, k: int) -> tuple:
        """Exact top-k from each row's K best raw entries (NumPy).

        ``cols`` and ``vals`` come best first, equal values in increasing
        column order (as the kernels and :meth:`top_k` give them).

        Raw scores are off by at most half the row's margin
        (:meth:`_margin`), so two entries further apart than the margin are
        in their true order. Entries closer than that to a neighbour form a
        cluster; every cluster that reaches the top k is re-scored exactly
        (:meth:`_exact_pairs`) and ordered on those values, ties to the
        smaller candidate. A cluster that runs to the K-th entry may go on
        beyond it: that row is scored in full (:meth:`exact_top_k`).
        """
        m, K = cols.shape
        live = batch.inverse_norms != 0
        close = (vals[:, :-1] - vals[:, 1:]) < self._margin(batch)[:, None]
        linked = np.zeros((m, K), dtype=bool)
        linked[:, :-1] |= close
        linked[:, 1:] |= close
        # Cluster ids along each row; the clusters up to the k-th entry's.
        cluster = np.zeros((m, K), dtype=np.int64)
        cluster[:, 1:] = np.cumsum(~close, axis=1)
        need = linked & (cluster <= cluster[:, k - 1 : k]) & live[:, None]
        full = need[:, K - 1] & (K < self.n_candidates)
        need &= ~full[:, None]
        rows, pos = np.nonzero(need)
        if rows.shape[0]:
            vals[rows, pos] = self._exact_pairs(batch, rows, cols[rows, pos])
            touched = np.unique(rows)
            sub_cols, sub_vals = cols[touched], vals[touched]
            order = np.lexsort((sub_cols, -sub_vals), axis=1)
            cols[touched] = np.take_along_axis(sub_cols, order, axis=1)
            vals[touched] = np.take_along_axis(sub_vals, order, axis=1)
        idx, top = cols[:, :k].copy(), vals[:, :k].copy()
        rows = np.nonzero(full)[0]
        if rows.shape[0]:
            sub = batch.take(rows)
            idx[rows], top[rows] = self.exact_top_k(sub, self.scores(sub), k)
        return idx, top

    def exact_top_k(self, batch: SearchBatch, S: Any, k: int) -> tuple[Any, Any]:
        """The ``k`` best candidates of each row, decided on exact scores.

        Best first; ties (equal refined scores) go to the smaller candidate.
        ``S`` is refined in place.
        """
        nx = self.backend
        idx, vals = self.top_k(S, k)
        k = idx.shape[1]
        rows, cols, values = self.refine(batch, S, vals[:, k - 1])
        if rows.shape[0] == 0:
            return idx, vals
        rows, cols, values = (nx.to_numpy(a) for a in (rows, cols, values))
        order = np.lexsort((cols, -values, rows))
        rows, cols, values = rows[order], cols[order], values[order]
        # Each refined row holds at least its k raw best: the first k of its
        # sorted entries are its top k.
        touched, start = np.unique(rows, return_index=True)
        pick = start[:, None] + np.arange(k)
        idx, vals = nx.to_numpy(idx).copy(), nx.to_numpy(vals).copy()
        idx[touched] = cols[pick]
        vals[touched] = values[pick]
        return nx.asarray(idx), nx.asarray(vals)

    def write_scores(self, batch: SearchBatch, out: Any, workspace: dict) -> None:
        """:meth:`exact_scores` written into ``out`` (m, n_candidates), once.

        On NumPy with the compiled kernels the products go straight into
        ``out`` and only rows whose best two scores lie within the rounding
        margin are re-scored; elsewhere through a reused buffer.
        """
        if self.backend.name != "numpy" or not kernels.available():
            S = self.exact_scores(batch, out=workspace.get("scores"))
            workspace.setdefault("scores", S)
            out[...] = S[:, : self.n_candidates]
            return
        self._settle_best(batch, out, self._write_raw(batch, out))

    def _write_raw(self, batch: SearchBatch, out: Any) -> Any:
        """The raw scores of a batch into ``out`` (m, n_candidates), NumPy.

        Returns each row's best two raw scores where the kernel that wrote
        them kept them (else None)."""
        batch.inverse_norms = self._inverse_norms(batch)
        F = batch.embedding * batch.inverse_norms[:, None]
        unit = self.backend.to_numpy(self.unit)[: self.n_distinct]
        if self.expand is None:
            np.matmul(F, unit.T, out=out)
        else:
            # A vector shared by several candidates is scored once (a GEMM
            # rounds equal columns differently by their place in its tiles).
            np.take(F @ unit.T, self.backend.to_numpy(self.expand), axis=1, out=out)
        if self.offset is not None:
            out -= self.offset
        return None

    def _best_two(self, out: Any) -> Any:
        """Each row's best two raw scores, streamed from ``out`` (NumPy)."""
        m, n = out.shape
        return kernels.block_top_k(
            [(0, out)], m, n, min(2, n), self.dtype, self.backend.parallel
        )[1]

    def _settle_best(self, batch: SearchBatch, out: Any, vals: Any = None) -> None:
        """Re-score exactly the entries within the rounding margin of a row's
        best, in rows where there are two or more (NumPy).

        ``vals``: each row's best two raw scores, if known; else streamed
        from ``out``. Only rows where they lie within the margin are handed
        to refine.
        """
        if out.shape[1] < 2:
            return
        if vals is None:
            vals = self._best_two(out)
        best = vals.max(axis=1)
        near = np.nonzero(vals.min(axis=1) >= best - self._margin(batch))[0]
        if near.shape[0]:
            self.refine(batch, out, best, among=near)

    def exact_scores(self, batch: SearchBatch, out: Any = None) -> Any:
        """:meth:`scores` with each row's best entries refined (so that the
        argmax of a row is the top-1 of :meth:`exact_top_k`)."""
        S = self.scores(batch, out=out)
        xp = self.backend.xp
        self.refine(batch, S, xp.max(S[:, : self.n_candidates], axis=1))
        return S


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
    route : {"direct", "factorised"}

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
        route: str = "direct",
    ) -> None:
        super().__init__(backend, candidates, offset)
        nx = backend
        seen = np.asarray(seen, dtype=self.dtype)
        self.n_seen = seen.shape[0]
        self.T = min(T, self.n_seen)
        # The factorised route sums T rows of G in the working dtype; the
        # direct one rounds f(x), summed in float64, once.
        self.n_terms = self.T if route == "factorised" else 1
        self.route = route
        self.seen = nx.asarray(seen)
        self._seen_wide = nx.asarray(seen.astype(np.float64))
        self.abs_seen = nx.asarray(np.abs(seen))
        self.seen_norms = nx.asarray(np.linalg.norm(seen, axis=1))
        self.gram = None
        # The compiled kernels run the factorised route on NumPy: G over the
        # candidates (copies of a shared vector included) in one C array.
        self.fused = (
            route == "factorised" and nx.name == "numpy" and kernels.available()
        )
        if self.fused:
            self.gram = self._rounded_gram(seen)
            if np.dtype(self.dtype).itemsize < 8:
                # G's entries are rounded once from float64 (_rounded_gram).
                self.product_terms = 0
            self._offsets = (
                np.zeros(0, self.dtype) if offset is None else nx.to_numpy(self.offset)
            )
        elif route == "factorised":
            self.gram = nx.prepare_product(nx.matmul(self.seen, self.unit.T))

    def _rounded_gram(self, seen: Any) -> Any:
        """``G = S0 Ŝ1ᵀ`` over the candidates, in their order, for the kernels.

        Below float64, G is computed in float64 and rounded once: each entry
        is then within half an ulp of the exact product of the vectors, and a
        score summed from G rows carries no ``q``-term rounding
        (:attr:`product_terms` 0, a margin ~20 times narrower at q = 500, so
        far fewer near-ties to re-score). Built in column blocks: the float64
        temporaries stay below ~32 MiB.
        """
        units = self._unit_columns()[: self.n_candidates]
        wide = np.dtype(self.dtype).itemsize < 8
        G = np.empty((self.n_seen, self.n_candidates), dtype=self.dtype)
        left = seen.astype(np.float64) if wide else seen
        step = max(1, (4 << 20) // max(1, self.n_seen))
        for j0 in range(0, self.n_candidates, step):
            block = units[j0 : j0 + step]
            if wide:
                block = block.astype(np.float64)
            G[:, j0 : j0 + step] = left @ block.T
        return G

    def _weights(self, P: Any) -> tuple[Any, Any]:
        """:meth:`weights`, with ``idx = None`` when ``T`` covers every seen
        label (all of them, in order): no selection, no gather."""
        nx = self.backend
        if self.T >= self.n_seen:
            return None, P / nx.xp.sum(P, axis=1, keepdims=True)
        if nx.name == "numpy" and kernels.available():
            idx = kernels.largest_t(P, self.T, nx.parallel)
        else:
            idx = nx.select_top_k(P, self.T)
        w = nx.take_rows(P, idx)
        w = w / nx.xp.sum(w, axis=1, keepdims=True)
        return idx, w

    def embed(self, P: Any) -> ConSEBatch:
        """f(x) = sum_t w_t s(y_t) of a batch of p(y|x)."""
        idx, w = self._weights(P)
        nx = self.backend
        if idx is None:
            # T = all: W is w itself, f(x) one dense product (row by row
            # stable, so that no row depends on its batch).
            F = nx.rowwise_matmul(w, self._seen_wide)
            return ConSEBatch(F, self._every_index(w.shape[0]), w, dense=True)
        if idx.shape[1] > _GATHER_MAX_T:
            W = nx.dense_weights(idx, w, self.n_seen)
            F = nx.rowwise_matmul(W, self._seen_wide)
        else:
            # Each row gathered on its own, summed in float64 and rounded: the
            # same bits on every backend (w.h.p.: up to float64 rounding).
            xp = nx.xp
            if nx.name == "numpy" and kernels.available():
                F = kernels.weighted_rows(
                    idx, w, self._seen_wide, self.dtype, nx.parallel
                )
            else:
                F = nx.weighted_rows(idx, xp.astype(w, xp.float64), self._seen_wide)
                F = xp.astype(F, nx.dtype(self.dtype))
        return ConSEBatch(F, idx, w)

    def contributions(self, batch: ConSEBatch, cand: Any) -> tuple:
        """Each seen label's part of each candidate's cosine, on the host.

        ``cos(f(x), s(c)) = sum_t w_t s(y_t)·ŝ(c) / ||f(x)||``: term ``t`` is
        the contribution of seen label ``t`` to candidate ``c``.

        Parameters
        ----------
        batch : ConSEBatch
            A scored batch.
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
        idx = nx.to_numpy(batch.idx)
        w = nx.to_numpy(batch.weights)
        inv = nx.to_numpy(batch.inverse_norms).astype(np.float64)
        cand = nx.to_numpy(cand)
        order = np.argsort(-w, axis=1, kind="stable")
        idx = np.take_along_axis(idx, order, axis=1)
        w = np.take_along_axis(w, order, axis=1)
        seen = nx.to_numpy(self.seen).astype(np.float64)
        units = nx.to_numpy(self._candidate_units(nx.asarray(cand.reshape(-1))))
        units = units.reshape(*cand.shape, -1)
        dots = np.einsum("itq,ikq->ikt", seen[idx], units)
        parts = dots * (w.astype(np.float64) * inv[:, None])[:, None, :]
        return idx, w, parts

    def _every_index(self, m: int) -> Any:
        """Every seen label's index on each of ``m`` rows (a broadcast view)."""
        xp = self.backend.xp
        cols = xp.arange(self.n_seen, device=self.backend.device)
        return xp.broadcast_to(cols[None, :], (m, self.n_seen))

    def _weighted(self, batch: ConSEBatch, M: Any, rows: Any = None) -> Any:
        """``W @ M`` for the batch's top-T weights (some ``rows`` only)."""
        w = batch.weights if rows is None else batch.weights[rows]
        if batch.dense:
            return self.backend.matmul(w, M)
        idx = batch.idx if rows is None else batch.idx[rows]
        return self.backend.weighted_rows(idx, w, M)

    def _inverse_norms(self, batch: ConSEBatch) -> Any:
        """1 / ||f(x)||, and 0 where f(x) has no direction above rounding.

        f(x) is a sum of T weighted vectors; rounding leaves an error of at
        most about ``(T + 1) eps`` times ``A = sum_t w_t |s(y_t)|`` in each
        component. A point is kept as a direction when its norm exceeds that
        bound; below it (vectors that cancel out) it has none. The bound is
        only computed for rows whose norm is small against
        ``sum_t w_t ||s(y_t)||``.
        """
        xp = self.backend.xp
        F = batch.embedding
        if self.product_terms == 0:
            # Scores without q-term rounding: the norm may not bring one.
            wide = xp.astype(F, xp.float64)
            norms = xp.astype(xp.sqrt(xp.sum(wide * wide, axis=1)), F.dtype)
        else:
            norms = xp.sqrt(xp.sum(F * F, axis=1))
        if self.backend.name == "numpy" and not batch.dense:
            reference = np.einsum("ij,ij->i", batch.weights, self.seen_norms[batch.idx])
        else:
            reference = self._weighted(batch, self.seen_norms[:, None])[:, 0]
        suspect = norms <= max(_SUSPECT_ULPS, self.T + 1) * self._eps * reference
        degenerate = norms == 0
        batch.suspect = None
        if bool(xp.any(suspect)):
            rows = xp.nonzero(suspect)[0]
            batch.suspect = rows
            A = self._weighted(batch, self.abs_seen, rows)
            bound = (self.T + 1) * self._eps * xp.sqrt(xp.sum(A * A, axis=1))
            degenerate[rows] = norms[rows] <= bound
        inv = self._invert(norms, degenerate)
        if self.route == "factorised":
            # Scores summed from G's rows: their rounding grows with how much
            # the T vectors cancel in f(x). The direct route rounds f(x)
            # itself once (it is summed in float64): unit-vector rounding.
            batch.spread = reference * inv
        else:
            batch.spread = xp.ones_like(inv)
        return inv

    def _margin(self, batch: ConSEBatch) -> Any:
        margin = super()._margin(batch)
        if self.product_terms == 0 and batch.suspect is not None:
            # Rows scored by the direct product (a float32 BLAS dot product
            # of q terms) instead of G's rows.
            rows = batch.suspect
            spread = self.backend.xp.maximum(batch.spread[rows], 1)
            margin[rows] += 2 * self._eps * self.q * spread
        return margin

    def _scaled_weights(self, batch: ConSEBatch) -> Any:
        """The top-T weights divided by ||f(x)||, as the kernels take them."""
        w = batch.weights * batch.inverse_norms[:, None]
        return np.ascontiguousarray(w, dtype=self.dtype)

    def _direct_rows(self, batch: ConSEBatch, rows: Any) -> Any:
        """Scores of some rows (every candidate, minus the offset) by the
        direct product of their f(x)."""
        xp = self.backend.xp
        F = batch.embedding[rows] * batch.inverse_norms[rows][:, None]
        S = self.backend.matmul(F, self.unit.T)
        if self.expand is None:
            S = S[:, : self.n_candidates]
        else:
            S = xp.take(S, self.expand, axis=1)
        if self.offset is not None:
            S = S - self.offset
        return S

    def scores(self, batch: ConSEBatch, out: Any = None) -> Any:
        if not self.fused:
            return super().scores(batch, out=out)
        m = batch.embedding.shape[0]
        if out is None:
            out = np.empty((m, self.n_padded), self.dtype)
        out = out[:m]
        self._write_raw(batch, out)
        return out

    def _write_raw(self, batch: ConSEBatch, out: Any) -> Any:
        """Raw scores into ``out`` (m, >= n_candidates; ``-inf`` beyond); on
        the fused route, each row's best two come back with them."""
        if not self.fused:
            return super()._write_raw(batch, out)
        batch.inverse_norms = self._inverse_norms(batch)
        _, vals = kernels.factorised_scores(
            batch.idx,
            self._scaled_weights(batch),
            self.gram,
            self._offsets,
            out,
            min(2, self.n_candidates),
            self.backend.parallel,
        )
        if batch.suspect is not None:
            rows = batch.suspect
            out[rows, : self.n_candidates] = self._direct_rows(batch, rows)
            vals[rows] = self._best_two(
                np.ascontiguousarray(out[rows, : self.n_candidates])
            )
        return vals

    def ranked(self, batch: ConSEBatch, k: int, workspace: dict) -> tuple[Any, Any]:
        if not self.fused:
            return super().ranked(batch, k, workspace)
        batch.inverse_norms = self._inverse_norms(batch)
        if self.T == 1 and not batch.dense and batch.suspect is None:
            # At T = 1, f(x) is s(y_1) itself (its weight is p/p = 1): rows
            # with the same top label have the same answer, found once.
            _, first, inverse = np.unique(
                batch.idx[:, 0], return_index=True, return_inverse=True
            )
            if first.shape[0] < batch.idx.shape[0]:
                sub = batch.take(first)
                sub.inverse_norms = batch.inverse_norms[first]
                sub.spread = batch.spread[first]
                cols, vals = self._fused_top_k(sub, k)
                return cols[inverse], vals[inverse]
        return self._fused_top_k(batch, k)

    def _fused_top_k(self, batch: ConSEBatch, k: int) -> tuple[Any, Any]:
        """:meth:`ranked` by the compiled kernel, on a batch whose inverse
        norms are set."""
        # No score matrix: the kernel keeps the K best raw scores of each
        # row, with room for the contenders of the k-th.
        K = min(k + _SPARE, self.n_candidates)
        cols, vals = kernels.factorised_top_k(
            batch.idx,
            self._scaled_weights(batch),
            self.gram,
            self._offsets,
            K,
            self.backend.parallel,
        )
        if batch.suspect is not None:
            rows = batch.suspect
            c, v = self.backend.top_k(self._direct_rows(batch, rows), K)
            cols[rows], vals[rows] = c, v
        return self._finish(batch, cols, vals, k)

    def _products(self, batch: ConSEBatch, inv: Any, out: Any) -> None:
        if self.gram is None:
            super()._products(batch, inv, out)
            return
        w = batch.weights * inv[:, None]
        self.backend.weighted_rows(batch.idx, w, self.gram, out=out)
        if batch.suspect is not None:
            # Rows of f(x) that nearly cancel: G's own rounding, divided by a
            # tiny ||f(x)||, would swamp them. The direct route keeps them
            # exact to the rounding of f(x) itself.
            rows = batch.suspect
            F = batch.embedding[rows] * inv[rows][:, None]
            out[rows] = self.backend.matmul(F, self.unit.T)
