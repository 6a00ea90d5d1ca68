"""Caching the fitted base estimator (the ``memory`` parameter).

A fitted base estimator depends only on its own parameters and its training
data, not on the parameters that shape the search (``T``, ``seen_penalty``,
``temperature``, ``candidate_labels``). With ``memory`` set, ConSE fits its
base estimator through :func:`fit_base`, a :class:`joblib.Memory`-cached
function keyed by both, as :class:`sklearn.pipeline.Pipeline` caches its
transformers: a grid search over search-only parameters fits the base once
per fold.
"""

from __future__ import annotations

from typing import Any

from sklearn.base import clone
from sklearn.utils.validation import check_memory

__all__ = ["fit_base"]


def _fit_clone(estimator: Any, X: Any, y: Any, fit_params: dict) -> Any:
    return clone(estimator).fit(X, y, **fit_params)


def fit_base(memory: Any, estimator: Any, X: Any, y: Any, fit_params: dict) -> Any:
    """A fitted clone of ``estimator``, from ``memory``'s cache when it holds one.

    Parameters
    ----------
    memory : None, str or joblib.Memory
        Where fitted estimators are cached (``None``: no caching).
    estimator : estimator object
        The unfitted base estimator; its parameters are part of the key.
    X, y : array-like
        Training data; part of the key (hashed by joblib).
    fit_params : dict
        Passed to ``fit``; part of the key.

    Returns
    -------
    fitted : estimator object

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sk_conse._memory import fit_base
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> fit_base(None, LogisticRegression(), X, y, {}).classes_
    array([0, 1])
    """
    memory = check_memory(memory)
    return memory.cache(_fit_clone)(estimator, X, y, fit_params)
