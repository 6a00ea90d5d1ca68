"""Out-of-core prediction on Dask arrays, chunk of rows by chunk of rows.

:class:`~sk_conse.ConSEClassifier`'s prediction methods hand a Dask
collection to :func:`predict_dask`, which builds a lazy graph of one task per
chunk of rows. The fitted estimator enters the graph once, as a single key
(``dask.delayed(estimator)``) that every chunk task depends on: a distributed
scheduler sends it to each worker once, not once per chunk.

Dask is imported here only, and only when a Dask collection is given, so that
``import sk_conse`` never needs it.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._validation import check_k

__all__ = ["dispatch", "is_dask_collection", "predict_dask"]

# The methods that accept Dask arrays, and the outputs each returns.
_OUTPUTS = {
    "predict": ("labels",),
    "predict_top_k": ("labels", "scores"),
    "transform": ("embedding",),
    "decision_function": ("scores",),
    "predict_proba": ("scores",),
}


def is_dask_collection(X: Any) -> bool:
    """Whether ``X`` is a Dask collection (array, dataframe, delayed...).

    Cheap and import-free: Dask is not imported unless the caller already
    did so (a Dask collection cannot exist otherwise).

    Parameters
    ----------
    X : object
        Anything passed to a prediction method.

    Returns
    -------
    is_dask : bool

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._dask import is_dask_collection
    >>> is_dask_collection(np.zeros((2, 2)))
    False
    """
    if "dask" not in sys.modules:
        return False
    from dask import is_dask_collection as _is_dask

    return bool(_is_dask(X))


def dispatch(method: Callable) -> Callable:
    """Decorator of a prediction method ``method(self, X, ...)``: a Dask ``X``
    goes to :func:`predict_dask`, with the method's other arguments.

    Anything else goes to the method itself. The method's name is the one
    :func:`predict_dask` runs on each chunk, so it must be in ``_OUTPUTS``.
    """
    if method.__name__ not in _OUTPUTS:  # pragma: no cover - internal misuse
        raise ValueError(f"No Dask support for {method.__name__!r}.")
    signature = inspect.signature(method)

    @functools.wraps(method)
    def dispatched(self, X, *args, **kwargs):
        if not is_dask_collection(X):
            return method(self, X, *args, **kwargs)
        bound = signature.bind(self, X, *args, **kwargs)
        bound.apply_defaults()
        options = dict(bound.arguments)
        del options["self"], options["X"]
        return predict_dask(self, X, method.__name__, **options)

    return dispatched


def _check_dask_X(estimator: Any, X: Any) -> Any:
    """A Dask array with every non-row axis in one chunk; errors stay eager."""
    import dask.array as da

    if not isinstance(X, da.Array):
        hint = ""
        if hasattr(X, "to_dask_array"):
            hint = " For a Dask DataFrame use X.to_dask_array(lengths=True)."
        raise TypeError(
            "ConSEClassifier predicts on Dask arrays chunked along rows; got "
            f"{type(X).__name__}.{hint}"
        )
    if X.ndim < 2:
        raise ValueError(
            f"Expected a 2D Dask array, got a {X.ndim}D array of shape {X.shape} "
            "instead. Reshape your data with X.reshape(-1, 1) if it has a "
            "single feature or X.reshape(1, -1) if it is a single sample."
        )
    n_features = getattr(estimator, "n_features_in_", None)
    n_columns = X.shape[1]
    if n_features is not None and not np.isnan(n_columns) and n_columns != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is "
            f"expecting {n_features} features as input."
        )
    if any(len(c) > 1 for c in X.chunks[1:]):
        # The base estimator needs whole rows: chunks go along rows only.
        X = X.rechunk(dict.fromkeys(range(1, X.ndim), -1))
    return X


def _empty_outputs(estimator: Any, method: str, kwargs: dict) -> dict:
    """The outputs of ``method`` on zero rows, without calling it.

    A Dask array may hold empty chunks (after filtering, for example), where
    the in-memory methods would refuse zero samples.
    """
    dtype = estimator._dtype
    if method == "predict":
        return {"labels": estimator.classes_[:0]}
    if method == "predict_top_k":
        k = kwargs["k"]
        return {
            "labels": estimator.classes_[np.zeros((0, k), dtype=np.intp)],
            "scores": np.empty((0, k), dtype=dtype),
        }
    if method == "transform":
        return {
            "embedding": np.empty((0, estimator.candidate_embeddings_.shape[1]), dtype)
        }
    if method == "decision_function" and _binary_decision(estimator):
        return {"scores": np.empty((0,), dtype=dtype)}
    return {"scores": np.empty((0, len(estimator.classes_)), dtype=dtype)}


def _binary_decision(estimator: Any) -> bool:
    """Whether ``decision_function`` returns one column, 1-D (two candidates).

    With two candidates, as scikit-learn's binary classifiers do, the
    in-memory ``decision_function`` returns the score of ``classes_[1]`` minus
    that of ``classes_[0]``, of shape (n_samples,); the lazy array must
    declare the same shape as its blocks.
    """
    return len(estimator.classes_) == 2


def _call_block(X_block: Any, estimator: Any, method: str, kwargs: dict) -> dict:
    """Run ``method`` on one chunk of rows; named outputs in a dict."""
    if X_block.shape[0] == 0:
        return _empty_outputs(estimator, method, kwargs)
    result = getattr(estimator, method)(X_block, **kwargs)
    if not isinstance(result, tuple):
        result = (result,)
    return dict(zip(_OUTPUTS[method], result))


def _get_output(block: dict, name: str) -> Any:
    return block[name]


def predict_dask(estimator: Any, X: Any, method: str, **kwargs: Any) -> Any:
    """Lazy ``estimator.<method>(X)`` over a Dask array, chunk by chunk of rows.

    Parameters
    ----------
    estimator : ConSEClassifier
        A fitted estimator. It enters the graph as one key
        (``dask.delayed(estimator, pure=True)``), shared by every chunk task,
        and is captured by reference: do not refit it before computing.
    X : dask.array.Array of shape (n_samples, n_features)
        Chunked along rows; chunks along other axes are merged first.
    method : {"predict", "predict_top_k", "transform", "decision_function", \
"predict_proba"}
        The prediction method to run on each chunk.
    **kwargs : dict
        Passed to the method (``k`` for ``predict_top_k``).

    Returns
    -------
    result : dask.array.Array or tuple of dask.array.Array
        Chunked as ``X`` along rows, in one chunk along other axes;
        ``predict_top_k`` gives ``(labels, scores)``; ``decision_function``
        with two candidates is 1-D, as in memory.
    """
    import dask
    import dask.array as da
    from dask.base import tokenize

    if method not in _OUTPUTS:  # pragma: no cover - internal misuse
        raise ValueError(f"No Dask support for {method!r}.")
    check_is_fitted(estimator)
    if method != "transform":
        estimator._require_candidates()
    if method == "predict_top_k":
        kwargs["k"] = check_k(kwargs.get("k", 5), n=len(estimator.classes_))
    X = _check_dask_X(estimator, X)

    shipped = dask.delayed(estimator, pure=True)
    token = tokenize(X, shipped.key, method, kwargs)
    row_chunks = X.chunks[0]
    blocks = da.map_blocks(
        _call_block,
        X,
        shipped,
        method,
        kwargs,
        drop_axis=list(range(1, X.ndim)),
        dtype=object,
        meta=np.empty((0,), dtype=object),
        name=f"conse-{method}-{token}",
    )

    dtype = estimator._dtype
    n_cand = len(estimator.classes_)
    q = estimator.candidate_embeddings_.shape[1]
    labels_dtype = estimator.classes_.dtype
    k = kwargs.get("k")
    specs = {
        "predict": [("labels", labels_dtype, None)],
        "predict_top_k": [("labels", labels_dtype, k), ("scores", dtype, k)],
        "transform": [("embedding", dtype, q)],
        "decision_function": [
            ("scores", dtype, None if _binary_decision(estimator) else n_cand)
        ],
        "predict_proba": [("scores", dtype, n_cand)],
    }[method]
    outputs = []
    for output, out_dtype, width in specs:
        name = f"conse-{method}-{output}-{token}"
        if width is None:
            outputs.append(
                blocks.map_blocks(
                    _get_output,
                    output,
                    dtype=out_dtype,
                    meta=np.empty((0,), dtype=out_dtype),
                    name=name,
                )
            )
        else:
            outputs.append(
                blocks.map_blocks(
                    _get_output,
                    output,
                    dtype=out_dtype,
                    meta=np.empty((0, 0), dtype=out_dtype),
                    new_axis=1,
                    chunks=(row_chunks, (width,)),
                    name=name,
                )
            )
    return tuple(outputs) if len(outputs) > 1 else outputs[0]
