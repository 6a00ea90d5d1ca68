"""DeViSEClassifier: a deep visual-semantic embedding baseline (Frome et al.,
NIPS 2013), the method ConSE is compared with."""

from __future__ import annotations

import numbers
import warnings
from functools import partial
from typing import Any, ClassVar

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from ._backend import Backend, resolve_device
from ._base import BaseZeroShotClassifier
from ._compat import Interval, StrOptions, _fit_context
from ._docstrings import fill_doc
from ._formatting import name_some
from ._label_embeddings import check_label_embeddings, check_label_types
from ._search import CosineSearch
from ._torch_import import import_torch

__all__ = ["DeViSEClassifier"]


#: torch imported through the package's one helper, which names this class.
_import_torch = partial(import_torch, "DeViSEClassifier")


def _hinge_rank_loss(torch, scores, y_idx, margin):
    """Per-sample DeViSE loss: sum_{j != y} max(0, margin - s_y + s_j)."""
    true = scores.gather(1, y_idx[:, None])
    hinge = torch.clamp(margin - true + scores, min=0.0)
    hinge = hinge.scatter(1, y_idx[:, None], 0.0)
    return hinge.sum(dim=1)


@fill_doc
class DeViSEClassifier(BaseZeroShotClassifier):
    """Zero-shot classifier by a linear visual-semantic embedding (DeViSE).

    DeViSE learns a linear map ``M`` from input features into the space of
    the label vectors, trained on *seen* labels with the hinge rank loss

    .. math:: \\ell(x, y) = \\sum_{j \\ne y} \\max\\bigl(0,\\,
              \\text{margin} - t_y^\\top M x + t_j^\\top M x\\bigr),

    where ``t`` are the unit-normalised vectors of the seen labels and ``j``
    runs over the other seen labels. At prediction time *candidate* labels,
    seen in training or not, are ranked by the cosine similarity between
    ``M x`` and their vectors. It is the baseline of the ConSE paper; unlike
    :class:`~sk_conse.ConSEClassifier` it needs training inputs of the seen
    labels (it cannot reuse a pretrained classifier as it is).

    Parameters
    ----------
    label_embeddings : mapping, pandas Series or DataFrame, or KeyedVectors
        The semantic vector of every label: a mapping label -> 1-D vector, a
        pandas Series of vectors or DataFrame of rows indexed by label, or a
        gensim ``KeyedVectors``. Every seen label needs a vector; the other
        labels are the zero-shot candidates.

    candidate_labels : {"unseen", "all"} or array-like, default="unseen"
        The labels ranked at prediction time: ``"unseen"``, every embedded
        label not seen in fit (zero-shot); ``"all"``, seen and unseen
        (generalized zero-shot); or an explicit list of embedded labels.

    seen_penalty : float, default=0.0
        Subtracted from the cosine score of every candidate that is a seen
        label (calibrated stacking, Chao et al., ECCV 2016). A positive value
        counters the bias of generalized zero-shot scores towards the seen
        labels the map was trained on. Tune it with ``GridSearchCV`` on
        folds that hold out some seen labels, see
        :class:`sk_conse.model_selection.PseudoUnseenSplit`.

    temperature : float, default=1.0
        :meth:`predict_proba` is ``softmax(decision_function / temperature)``;
        rankings do not depend on it. Tune it with ``scoring="neg_log_loss"``.

    margin : float, default=0.1
        The margin of the hinge rank loss (0.1 in the paper).

    alpha : float, default=0.0
        L2 penalty: ``alpha / 2 * ||M||²`` (Frobenius norm, intercept not
        penalised) is added to the mean loss of each minibatch.

    fit_intercept : bool, default=True
        Whether the map is affine, ``M x + b``, rather than linear.

    solver : {"adam", "sgd"}, default="adam"
        The optimiser of ``torch.optim`` (SGD with momentum 0.9).

    learning_rate : float, default=1e-3
        Step size of the optimiser.

    max_iter : int, default=100
        Maximum number of epochs (passes over the training data).

    tol : float, default=1e-4
        Training stops when the monitored loss (the training loss, or the
        validation loss with ``early_stopping``) has not improved by at least
        ``tol`` for ``n_iter_no_change`` consecutive epochs.

    n_iter_no_change : int, default=5
        See ``tol``.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified),
        monitor the hinge loss on it and keep the map of the best epoch.

    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping``.

    batch_size : int, default=1024
        Minibatch size for training (the whole set when it is smaller), and
        rows processed at once at prediction time.

    random_state : int, RandomState instance or None, default=None
        Seeds the initial map, the minibatch order and the validation split.
        An int makes :meth:`fit` deterministic (on a given machine and torch
        build). A private ``torch.Generator`` is used: torch's global random
        state is left alone.

    device : {"auto", "cpu", "cuda"}, default="auto"
        Where training and the cosine search run. Training runs in torch, so
        ``"auto"`` uses a CUDA device when torch sees one; the search then
        runs on it in CuPy when CuPy sees it too, in torch otherwise.

    verbose : bool, default=False
        Print the loss of each epoch.

    Attributes
    ----------
    seen_classes_ : ndarray of shape (n_seen,)
        The labels of the training data, sorted.

    classes_ : ndarray of shape (n_candidates,)
        The candidate labels, sorted: the columns of :meth:`decision_function`
        and :meth:`predict_proba`.

    coef_ : ndarray of shape (n_dims, n_features)
        The learned map ``M``, float32.

    intercept_ : ndarray of shape (n_dims,)
        Its intercept ``b`` (zeros when ``fit_intercept=False``).

    seen_embeddings_ : ndarray of shape (n_seen, n_dims)
        The seen labels' vectors, unit-normalised, in the order of
        ``seen_classes_``.

    candidate_embeddings_ : ndarray of shape (n_candidates, n_dims)
        The candidate labels' vectors, in the order of ``classes_``.

    loss_curve_ : list of float
        Mean training hinge loss (plus penalty) of each epoch.

    validation_loss_curve_ : list of float
        Mean validation hinge loss of each epoch (``early_stopping`` only).

    n_iter_ : int
        Number of epochs run.

    device_ : {"cpu", "cuda"}
        The device resolved from ``device`` at fit time.

    %(features_in_)s

    See Also
    --------
    sk_conse.ConSEClassifier : Needs no training of its own beyond a
        probabilistic classifier of the seen labels.
    sk_conse.gzsl.harmonic_mean_score : Generalized zero-shot evaluation.

    Notes
    -----
    The loss uses the dot product ``t_j·Mx`` with unit-normalised label
    vectors, as in the paper; ranking uses the cosine, so the norm of ``M x``
    does not matter at prediction time; :meth:`transform` returns the point
    ``M x + b`` itself (``X @ coef_.T + intercept_``, in the dtype of the
    label vectors). :meth:`predict_proba` is a softmax
    of the cosine scores: a ranking score whose rows sum to 1, not a
    calibrated probability. ``sample_weight`` is not supported.

    The paper initialises ``M`` from the top of a pretrained CNN and then
    fine-tunes the CNN too; here the features are fixed and only the map is
    learned (its "DeViSE" row without fine-tuning).

    References
    ----------
    .. [1] %(frome2013)s

    .. [2] %(norouzi2014)s

    .. [3] %(chao2016)s

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse import DeViSEClassifier
    >>> vectors = {"cat": [1.0, 0.1], "dog": [0.9, 0.4], "car": [0.0, 1.0],
    ...            "lion": [1.0, 0.0], "truck": [0.1, 1.0]}
    >>> rng = np.random.RandomState(0)
    >>> y = np.repeat(["cat", "dog", "car"], 20)
    >>> X = np.array([vectors[label] for label in y]) + rng.randn(60, 2) / 20
    >>> clf = DeViSEClassifier(vectors, learning_rate=0.05, max_iter=500,
    ...                        random_state=0).fit(X, y)
    >>> clf.classes_
    array(['lion', 'truck'], dtype='<U5')
    >>> clf.predict([[1.0, 0.0], [0.0, 1.0]])
    array(['lion', 'truck'], dtype='<U5')
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseZeroShotClassifier._parameter_constraints,
        "margin": [Interval(numbers.Real, 0, None, closed="neither")],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"adam", "sgd"})],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    # Training runs in torch: its CUDA device is the one that counts.
    _device_library: ClassVar[str] = "torch"

    def __init__(
        self,
        label_embeddings=None,
        *,
        candidate_labels="unseen",
        seen_penalty=0.0,
        temperature=1.0,
        margin=0.1,
        alpha=0.0,
        fit_intercept=True,
        solver="adam",
        learning_rate=1e-3,
        max_iter=100,
        tol=1e-4,
        n_iter_no_change=5,
        early_stopping=False,
        validation_fraction=0.1,
        batch_size=1024,
        random_state=None,
        device="auto",
        verbose=False,
    ):
        self.label_embeddings = label_embeddings
        self.candidate_labels = candidate_labels
        self.seen_penalty = seen_penalty
        self.temperature = temperature
        self.margin = margin
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.batch_size = batch_size
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Learn the map from features to label vectors on the seen labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features (for images, e.g. a CNN's penultimate layer).

        y : array-like of shape (n_samples,)
            Seen labels, at least two distinct ones. Each needs a vector in
            ``label_embeddings``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        with self._fitting():
            self._fit(X, y)
        return self

    def _fit(self, X, y) -> None:
        torch = _import_torch()
        table = check_label_embeddings(self.label_embeddings)
        check_label_types(y, "y")
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64])
        check_classification_targets(y)
        self.seen_classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.seen_classes_) < 2:
            raise ValueError(
                "DeViSEClassifier needs at least 2 seen classes to learn a "
                f"ranking; got 1 class: {name_some(self.seen_classes_)}."
            )
        seen_rows = table.rows_of(self.seen_classes_, role="seen")

        self.classes_, self.candidate_embeddings_ = self._candidates(table, seen_rows)

        seen_vectors = table.vectors[seen_rows].astype(np.float32)
        seen_vectors /= np.linalg.norm(seen_vectors, axis=1, keepdims=True)
        self.seen_embeddings_ = seen_vectors
        self.device_ = resolve_device(self.device, library=self._device_library)

        self._train(torch, X.astype(np.float32), y_idx)

    def _split_validation(self, rng, y_idx):
        """Stratified train / validation row indices for early stopping."""
        train, valid = [], []
        for c in np.unique(y_idx):
            rows = rng.permutation(np.flatnonzero(y_idx == c))
            n_valid = round(self.validation_fraction * len(rows))
            n_valid = min(n_valid, len(rows) - 1)
            valid.append(rows[:n_valid])
            train.append(rows[n_valid:])
        train, valid = np.concatenate(train), np.concatenate(valid)
        if len(valid) == 0:
            raise ValueError(
                "early_stopping=True left no validation samples: raise "
                "validation_fraction or give more samples per class."
            )
        return np.sort(train), np.sort(valid)

    def _train(self, torch, X, y_idx) -> None:
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        tdevice = self.device_  # resolved by torch's own CUDA availability
        gen = torch.Generator(device="cpu").manual_seed(seed)

        if self.early_stopping:
            train_rows, valid_rows = self._split_validation(rng, y_idx)
        else:
            train_rows, valid_rows = np.arange(len(y_idx)), None

        def tensor(a):
            return torch.from_numpy(np.ascontiguousarray(a)).to(tdevice)

        Xt, yt = tensor(X[train_rows]), tensor(y_idx[train_rows].astype(np.int64))
        targets = tensor(self.seen_embeddings_)
        n, d = Xt.shape
        q = targets.shape[1]
        scale = 0.01 / np.sqrt(d)
        W = (torch.randn(q, d, generator=gen) * scale).to(tdevice).requires_grad_()
        b = torch.zeros(q, device=tdevice, requires_grad=self.fit_intercept)
        params = [W, b] if self.fit_intercept else [W]
        if self.solver == "adam":
            opt = torch.optim.Adam(params, lr=self.learning_rate)
        else:
            opt = torch.optim.SGD(params, lr=self.learning_rate, momentum=0.9)
        margin = float(self.margin)
        alpha = float(self.alpha)
        batch = min(self.batch_size, n)

        def mean_loss(Xb, yb):
            scores = (Xb @ W.T + b) @ targets.T
            return _hinge_rank_loss(torch, scores, yb, margin).mean()

        def evaluate(Xe, ye):
            with torch.no_grad():
                total = 0.0
                for start in range(0, len(ye), self.batch_size):
                    sl = slice(start, start + self.batch_size)
                    total += float(mean_loss(Xe[sl], ye[sl])) * len(ye[sl])
                return total / len(ye)

        if valid_rows is not None:
            Xv = tensor(X[valid_rows])
            yv = tensor(y_idx[valid_rows].astype(np.int64))
        self.loss_curve_ = []
        self.validation_loss_curve_ = [] if valid_rows is not None else None
        best, best_state, no_change = np.inf, None, 0
        converged = False
        for epoch in range(self.max_iter):
            order = torch.randperm(n, generator=gen).to(tdevice)
            total = 0.0
            for start in range(0, n, batch):
                rows = order[start : start + batch]
                loss = mean_loss(Xt[rows], yt[rows])
                if alpha:
                    loss = loss + 0.5 * alpha * (W * W).sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(rows)
            self.loss_curve_.append(total / n)
            monitored = self.loss_curve_[-1]
            if valid_rows is not None:
                monitored = evaluate(Xv, yv)
                self.validation_loss_curve_.append(monitored)
            if self.verbose:
                extra = "" if valid_rows is None else f", validation {monitored:.6f}"
                print(f"Epoch {epoch + 1}: loss {self.loss_curve_[-1]:.6f}{extra}")
            if monitored < best - self.tol:
                no_change = 0
            else:
                no_change += 1
            if monitored < best:
                best = monitored
                if valid_rows is not None:
                    best_state = (W.detach().clone(), b.detach().clone())
            if no_change >= self.n_iter_no_change:
                converged = True
                break
        self.n_iter_ = epoch + 1
        if best_state is not None:
            W_final, b_final = best_state
        else:
            W_final, b_final = W.detach(), b.detach()
        self.coef_ = W_final.cpu().numpy().astype(np.float32)
        self.intercept_ = b_final.cpu().numpy().astype(np.float32)
        if not converged:
            warnings.warn(
                f"DeViSEClassifier stopped after max_iter={self.max_iter} epochs "
                "before the loss stopped improving; raise max_iter or "
                "learning_rate.",
                ConvergenceWarning,
                stacklevel=3,
            )

    # ------------------------------------------------------------ predict

    def _validate_X(self, X, *, reset: bool):
        return validate_data(self, X, dtype=[np.float32, np.float64], reset=reset)

    def _build_search(self, backend: Backend, params: dict) -> CosineSearch:
        return CosineSearch(backend, self.candidate_embeddings_)

    def _project(self, X_batch, backend: Backend, dtype: Any = None) -> Any:
        """M x + b of a batch, as a NumPy array.

        Projected in the dtype of ``X`` (float64 input stays float64); a row
        that overflows it, or ``dtype`` when given, raises, naming the rows.
        """
        X_batch = backend.to_numpy(X_batch)
        work = np.result_type(X_batch.dtype, np.float32)
        # Overflow is reported below, naming the rows (errstate is local to
        # this thread and call).
        with np.errstate(over="ignore", invalid="ignore"):
            F = X_batch @ self.coef_.T.astype(work) + self.intercept_.astype(work)
        finite = np.isfinite(F)
        if dtype is not None:
            finite &= np.abs(F) <= np.finfo(dtype).max
        if not finite.all():
            rows = np.flatnonzero(~finite.all(axis=1))
            limit = np.dtype(work if dtype is None else dtype)
            raise ValueError(
                f"DeViSEClassifier's projection M x + b overflows for rows "
                f"{name_some(rows.tolist())} of the batch: their features are too "
                f"large for {limit}. Scale X as it was scaled in fit."
            )
        return F

    def _search_input(self, X_batch, backend: Backend, n_rows: int) -> Any:
        """M x + b of a batch, on ``backend``, in the working dtype, each row
        scaled by its largest magnitude before the cast: cosine scores do not
        depend on the scale of f(x), and finite inputs of any size stay
        finite."""
        F = self._project(X_batch, backend)
        scale = np.abs(F).max(axis=1, keepdims=True)
        F /= np.where(scale > 0, scale, 1)
        return backend.asarray(F, self._dtype)

    def _transform_input(self, X_batch, backend: Backend, n_rows: int) -> Any:
        """M x + b of a batch, unscaled, in the working dtype."""
        return backend.asarray(
            self._project(X_batch, backend, self._dtype), self._dtype
        )
