"""Helpers shared by the test modules (the fixtures are in conftest.py).

Importable as ``_shared`` (pytest puts this folder on ``sys.path``), so that
what is pickled or hashed in a test, such as CountingLogisticRegression, has a
stable module name.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression


def make_zero_shot_problem(
    labels=None,
    *,
    n_seen,
    n_unseen=0,
    n_per_class,
    n_dims,
    n_features,
    noise,
    seed=0,
):
    """``X, y, embeddings``: inputs a noisy linear image of their label vectors.

    ``labels[:n_seen]`` get ``n_per_class`` samples each; the other labels
    are embedded and never seen. Every label gets a random ``n_dims`` vector.
    ``labels=None`` names them ``c0, c1, ...`` (seen) and ``u0, u1, ...``
    (``n_unseen`` unseen).
    """
    if labels is None:
        labels = [f"c{i}" for i in range(n_seen)]
        labels += [f"u{i}" for i in range(n_unseen)]
    rng = np.random.RandomState(seed)
    vectors = rng.randn(len(labels), n_dims)
    mixing = rng.randn(n_dims, n_features)
    y = np.repeat(labels[:n_seen], n_per_class)
    X = vectors[np.repeat(np.arange(n_seen), n_per_class)] @ mixing
    X += noise * rng.randn(*X.shape)
    return X, y, dict(zip(labels, vectors))


class CountingLogisticRegression(ClassifierMixin, BaseEstimator):
    """LogisticRegression writing a line to the file ``log`` on every fit
    ("fit") and predict_proba ("predict_proba") call."""

    def __init__(self, C=1.0, log=None):
        self.C = C
        self.log = log

    def _note(self, what):
        with open(self.log, "a") as f:
            f.write(what + "\n")

    def fit(self, X, y, sample_weight=None):
        self._note("fit")
        self.lr_ = LogisticRegression(C=self.C).fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.lr_.classes_
        return self

    def predict_proba(self, X):
        self._note("predict_proba")
        return self.lr_.predict_proba(X)


def count_calls(log, what):
    """How many ``what`` lines CountingLogisticRegression wrote to ``log``."""
    return log.read_text().splitlines().count(what) if log.exists() else 0


def paper_embedding(P, S0, T):
    """ConSE's f(x), one sample at a time, as written in the paper.

    ``f(x) = sum_t p(y_t|x) s(y_t) / sum_t p(y_t|x)`` over the ``T`` most
    probable seen labels (``T=None``: all of them), ties to the earlier
    column. Each row is divided by its maximum first, which changes nothing
    mathematically and keeps probabilities on any finite scale finite.
    """
    P = np.asarray(P, dtype=np.float64)
    S0 = np.asarray(S0, dtype=np.float64)
    T = P.shape[1] if T is None else T
    F = np.zeros((P.shape[0], S0.shape[1]))
    for i, p in enumerate(P):
        p = p / p.max()
        top = np.argsort(-p, kind="stable")[:T]
        F[i] = (p[top, None] * S0[top]).sum(axis=0) / p[top].sum()
    return F


def paper_scores(P, S0, S1, T, offset=0.0):
    """cos(f(x), s(y')) of each sample and candidate, minus ``offset``.

    The package's rule for a zero f(x) (top-T vectors that cancel): it has no
    direction, so it scores 0 against every candidate.
    """
    S1 = np.asarray(S1, dtype=np.float64)
    F = paper_embedding(P, S0, T)
    out = np.zeros((F.shape[0], S1.shape[0]))
    for i, f in enumerate(F):
        nf = np.linalg.norm(f)
        if nf > 1e-12 * np.abs(S0).sum():
            out[i] = S1 @ f / (np.linalg.norm(S1, axis=1) * nf)
    return out - offset


class _CheckEmbeddings(dict):
    """A plain dict with a short repr, so that test ids stay readable."""

    def __repr__(self):
        return f"<{len(self)} label vectors>"


def check_embeddings():
    """For scikit-learn's estimator checks: one-hot vectors for every label
    the checks use, plus three labels no check uses."""
    labels = [*range(-1, 11), 100, 101, 102]
    eye = np.eye(len(labels))
    return _CheckEmbeddings({label: eye[i] for i, label in enumerate(labels)})


def cuda_seen_by(monkeypatch, *libraries):
    """Make ``sk_conse._backend.cuda_available`` say that only ``libraries``
    (``"cupy"``, ``"torch"``) see a CUDA device: no GPU needed."""
    from sk_conse import _backend

    monkeypatch.setattr(
        _backend, "cuda_available", lambda library="cupy": library in libraries
    )


def hide_module(monkeypatch, name):
    """Make ``import name`` (and its submodules) fail, as where it is absent,
    and drop the module from ``sys.modules`` for the test."""
    import builtins
    import sys

    real_import = builtins.__import__

    def fake_import(module, *args, **kwargs):
        if module == name or module.startswith(f"{name}."):
            raise ImportError(f"No module named {name!r}")
        return real_import(module, *args, **kwargs)

    monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)
