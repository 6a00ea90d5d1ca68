"""Checks of a fitted state read from disk, before anything uses it.

A pickle, a joblib file or a ``skops`` file trusting sk_conse's types gives
``__setstate__`` whatever state the file holds. Trusting a type is not
trusting its state: a state that says 3,000 seen labels for 4 seen vectors
would send out-of-range indices to the compiled kernels. :func:`check_fitted_state`
checks what ``fit`` guarantees — the parameters within their constraints,
every fitted attribute present, shapes that agree, labels unique, vectors
finite and nonzero, indices in range — and raises a :class:`ValueError`
naming the first inconsistency.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable
from typing import Any

import numpy as np

from ._backend import to_numpy
from ._compat import InvalidParameterError, validate_parameter_constraints
from ._formatting import as_python_label, name_some
from ._validation import repeated

__all__ = ["check_fitted_state"]

# The fitted attributes every zero-shot classifier sets in fit, and those of
# each estimator (by class name, subclasses included: no import of the
# estimators here).
_COMMON = (
    "classes_",
    "candidate_embeddings_",
    "seen_classes_",
    "seen_embeddings_",
    "device_",
)
_OWN = {
    "ConSEClassifier": ("base_estimator_", "T_", "algorithm_", "_seen_order"),
    "DeViSEClassifier": ("coef_", "intercept_", "n_features_in_"),
}
_CV = ("best_estimator_", "classes_", "seen_classes_")


class _Refused(ValueError):
    """One inconsistency; :func:`check_fitted_state` adds whose state it is."""


def _is_fitted(estimator: Any) -> bool:
    """scikit-learn's rule (``check_is_fitted``): some attribute ends in ``_``."""
    return any(
        name.endswith("_") and not name.startswith("__") for name in vars(estimator)
    )


def check_fitted_state(estimator: Any) -> None:
    """Refuse a fitted state that ``fit`` could not have produced.

    Called by ``__setstate__`` (pickle, joblib, skops and copies all load
    through it). An unfitted estimator is only checked at ``fit``, as
    scikit-learn does.

    Parameters
    ----------
    estimator : BaseZeroShotClassifier
        With its state loaded.

    Raises
    ------
    ValueError
        Naming the inconsistency, and saying to refit or load a file from a
        trusted source.
    """
    if not _is_fitted(estimator):
        return
    name = type(estimator).__name__
    try:
        _check(estimator, name)
    except (_Refused, InvalidParameterError) as problem:
        raise ValueError(
            f"Refusing the fitted state of this {name}: {problem} fit never "
            "writes such a state, so the file was damaged or crafted. Refit "
            "the model, or load a file written by sk_conse from a source you "
            "trust."
        ) from None


def _kind(estimator: Any) -> str:
    """The sk_conse estimator class that ``estimator`` is (or subclasses)."""
    for cls in type(estimator).__mro__:
        if cls.__module__.startswith("sk_conse.") and cls.__name__ in (
            *_OWN,
            "ConSEClassifierCV",
        ):
            return cls.__name__
    return ""


def _check(estimator: Any, name: str) -> None:
    state = vars(estimator)
    kind = _kind(estimator)
    fitted = _CV if kind == "ConSEClassifierCV" else (*_COMMON, *_OWN.get(kind, ()))
    missing = [
        attr
        for attr in (*estimator._parameter_constraints, *fitted)
        if attr not in state
    ]
    if missing:
        raise _Refused(f"it has no {', '.join(missing)}.")
    params = {p: state[p] for p in estimator._parameter_constraints}
    validate_parameter_constraints(
        estimator._parameter_constraints, params, caller_name=name
    )
    if kind == "ConSEClassifierCV":
        _check_cv(state)
        return
    if state["device_"] not in ("cpu", "cuda"):
        raise _Refused(f"device_={state['device_']!r} is not 'cpu' or 'cuda'.")

    classes = _labels(state, "classes_")
    seen = _labels(state, "seen_classes_")
    candidates = _vectors(state, "candidate_embeddings_", len(classes), "classes_")
    seen_vectors = _vectors(state, "seen_embeddings_", len(seen), "seen_classes_")
    if candidates.shape[1] != seen_vectors.shape[1]:
        raise _Refused(
            f"candidate_embeddings_ has vectors of length {candidates.shape[1]} "
            f"but seen_embeddings_ of length {seen_vectors.shape[1]}."
        )
    if kind == "ConSEClassifier":
        _check_conse(state, len(seen))
    elif kind == "DeViSEClassifier":
        _check_devise(state, seen_vectors.shape[1])


def _labels(state: dict, attr: str) -> np.ndarray:
    labels = state[attr]
    if not isinstance(labels, np.ndarray) or labels.ndim != 1:
        raise _Refused(
            f"{attr} is not a 1-D array (got {type(labels).__name__} of shape "
            f"{getattr(labels, 'shape', None)})."
        )
    values = labels.tolist()  # Python values (objects stay as they are)
    try:
        unique = len(set(values)) == len(values)
    except TypeError:
        unhashable = next(v for v in values if not isinstance(v, Hashable))
        raise _Refused(
            f"{attr} holds unhashable labels such as {unhashable!r}."
        ) from None
    if not unique:
        dups = repeated(as_python_label(v) for v in values)
        raise _Refused(f"{attr} repeats the labels {name_some(dups)}.")
    return labels


def _vectors(state: dict, attr: str, n_rows: int, labels: str) -> np.ndarray:
    vectors = state[attr]
    if not isinstance(vectors, np.ndarray) or vectors.ndim != 2:
        raise _Refused(
            f"{attr} is not a 2-D array (got {type(vectors).__name__} of shape "
            f"{getattr(vectors, 'shape', None)})."
        )
    if vectors.dtype not in (np.float32, np.float64):
        raise _Refused(f"{attr} has dtype {vectors.dtype}, not float32 or float64.")
    n_vectors, length = vectors.shape
    if n_vectors != n_rows or length == 0:
        raise _Refused(
            f"{attr} has {n_vectors} vectors for the {n_rows} labels of {labels}"
            + ("." if length else ", each of length 0.")
        )
    bad = ~np.isfinite(vectors).all(axis=1) | ~np.any(vectors != 0, axis=1)
    if bad.any():
        raise _Refused(
            f"{attr} has NaN, infinite or zero vectors (rows "
            f"{name_some(np.flatnonzero(bad).tolist())})."
        )
    return vectors


def _integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_conse(state: dict, n_seen: int) -> None:
    T = state["T_"]
    if not _integer(T) or not 1 <= T <= n_seen:
        raise _Refused(
            f"T_={T!r} is not an integer from 1 to the {n_seen} seen labels."
        )
    if state["algorithm_"] not in ("direct", "factorised"):
        raise _Refused(
            f"algorithm_={state['algorithm_']!r} is not 'direct' or 'factorised'."
        )
    order = state["_seen_order"]
    if order is not None and not (
        isinstance(order, np.ndarray)
        and order.dtype.kind in "iu"
        and order.shape == (n_seen,)
        and np.array_equal(np.sort(order), np.arange(n_seen))
    ):
        raise _Refused(f"_seen_order is not a permutation of the {n_seen} seen labels.")
    base = state["base_estimator_"]
    if not hasattr(base, "predict_proba"):
        raise _Refused(f"base_estimator_ ({type(base).__name__}) has no predict_proba.")
    try:
        base_classes = np.asarray(to_numpy(base.classes_))  # as fit reads it
    except Exception as error:  # a property of the base may raise anything
        raise _Refused(f"base_estimator_ has no readable classes_ ({error}).") from None
    if base_classes.shape != state["seen_classes_"].shape or not np.array_equal(
        base_classes, state["seen_classes_"]
    ):
        raise _Refused(
            f"base_estimator_ has the {base_classes.size} labels "
            f"{name_some(base_classes.ravel())} in classes_, but seen_classes_ "
            f"has {n_seen}: {name_some(state['seen_classes_'])}."
        )


def _check_devise(state: dict, q: int) -> None:
    coef, intercept = state["coef_"], state["intercept_"]
    n_features = state["n_features_in_"]
    if not _integer(n_features) or n_features < 1:
        raise _Refused(f"n_features_in_={n_features!r} is not a positive integer.")
    for attr, value, shape in (
        ("coef_", coef, (q, n_features)),
        ("intercept_", intercept, (q,)),
    ):
        if (
            not isinstance(value, np.ndarray)
            or value.dtype not in (np.float32, np.float64)
            or value.shape != shape
        ):
            raise _Refused(
                f"{attr} is not a float array of shape {shape} (n_dims x "
                f"n_features_in_); got {type(value).__name__} of shape "
                f"{getattr(value, 'shape', None)}."
            )
        if not np.isfinite(value).all():
            raise _Refused(f"{attr} has NaN or infinite values.")


def _check_cv(state: dict) -> None:
    """A ConSEClassifierCV predicts with its ``best_estimator_`` (checked when
    it was loaded): its own labels must be the best estimator's."""
    best = state["best_estimator_"]
    if _kind(best) != "ConSEClassifier":
        raise _Refused(
            f"best_estimator_ is a {type(best).__name__}, not a ConSEClassifier."
        )
    for attr in ("classes_", "seen_classes_"):
        own, its = state[attr], getattr(best, attr, None)
        if not (
            isinstance(own, np.ndarray)
            and isinstance(its, np.ndarray)
            and own.shape == its.shape
            and np.array_equal(own, its)
        ):
            raise _Refused(
                f"{attr} ({name_some(np.ravel(own))}) is not best_estimator_'s "
                f"({name_some(np.ravel(its))})."
            )
