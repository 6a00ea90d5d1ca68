"""The checks of user input shared by several modules: a top-k ``k``, a list
of labels, NaN labels and repeated labels."""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Iterable
from typing import Any, Literal

import numpy as np

from ._compat import InvalidParameterError
from ._formatting import as_python_label, name_some

__all__ = ["check_k", "check_label_list", "is_nan", "repeated"]


def check_k(k: Any, *, n: int | None = None, name: str = "k") -> int:
    """Check a top-k ``k``: an integer >= 1, and <= ``n`` when ``n`` is given.

    Parameters
    ----------
    k : object
        The value to check. A bool is refused even though it is an int.
    n : int, default=None
        The number of candidate labels, the largest allowed ``k``; None
        leaves ``k`` unbounded (callers then clip it).
    name : str, default="k"
        The parameter's name, for the message.

    Returns
    -------
    k : int
        ``k`` as a plain Python int.

    Raises
    ------
    InvalidParameterError
        If ``k`` is not an integer in range. It subclasses both
        :class:`ValueError` and :class:`TypeError`.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._validation import check_k
    >>> check_k(np.int64(3), n=7)
    3
    >>> check_k(9, n=7)
    Traceback (most recent call last):
    ...
    sklearn.utils._param_validation.InvalidParameterError: k must be an integer \
between 1 and the number of candidate labels (7), got 9.
    """
    ok = isinstance(k, numbers.Integral) and not isinstance(k, (bool, np.bool_))
    if ok:
        ok = k >= 1 and (n is None or k <= n)
    if not ok:
        if n is None:
            allowed = "an integer >= 1"
        else:
            allowed = f"an integer between 1 and the number of candidate labels ({n})"
        raise InvalidParameterError(f"{name} must be {allowed}, got {k!r}.")
    return int(k)


def check_label_list(
    labels: Any,
    name: str,
    *,
    duplicates: Literal["raise", "drop"] = "raise",
    empty_hint: str = "",
) -> list:
    """``labels`` as a non-empty list of hashable Python labels.

    The one validation of a list of labels given by a user: a lone string, a
    set (no order) or a non-iterable, an array that is not 1-D, an empty
    list, unhashable labels and duplicated labels (unless
    ``duplicates="drop"``, which keeps the first of each) are refused, the
    message naming ``name`` and the culprits.

    Examples
    --------
    >>> from sk_conse._validation import check_label_list
    >>> check_label_list(["cat", "dog"], "labels")
    ['cat', 'dog']
    >>> check_label_list(["cat", "dog", "cat"], "labels", duplicates="drop")
    ['cat', 'dog']
    """
    if isinstance(labels, (str, bytes)):
        raise TypeError(
            f"{name} must be a list or 1-D array of labels, not a single "
            f"string; did you mean [{labels!r}]?"
        )
    if isinstance(labels, (set, frozenset)):
        raise ValueError(
            f"{name} must be a list or 1-D array of labels, got "
            f"{type(labels).__name__} {labels!r}: a set has no order, so sort "
            f"it or make it a list."
        )
    if not isinstance(labels, Iterable):
        hint = (
            f" For a single label, pass [{labels!r}]."
            if isinstance(labels, Hashable) and labels is not None
            else ""
        )
        raise TypeError(
            f"{name} must be a list or 1-D array of labels, got "
            f"{type(labels).__name__} {labels!r}.{hint}"
        )
    if not isinstance(labels, (list, tuple, np.ndarray)):
        labels = list(labels)
    array = np.asarray(labels, dtype=object)
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be a list or 1-D array of labels, got "
            f"{type(labels).__name__} of shape {array.shape}."
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty: give at least one label{empty_hint}.")
    keys = [as_python_label(label) for label in array.tolist()]
    unhashable = [label for label in keys if not isinstance(label, Hashable)]
    if unhashable:
        raise TypeError(
            f"{name} must hold labels (str, int, ...); got {unhashable[0]!r} of "
            f"type {type(unhashable[0]).__name__}."
        )
    if duplicates == "drop":
        return list(dict.fromkeys(keys))
    dups = repeated(keys)
    if dups:
        raise ValueError(f"{name} has duplicated labels: {name_some(dups)}.")
    return keys


def is_nan(value: Any) -> bool:
    """Whether ``value`` is a floating-point NaN (``float``, NumPy or other).

    NaN is not equal to itself, so it can never serve as a label or a
    hierarchy node: callers refuse it with this check.

    Parameters
    ----------
    value : object
        Any value; only real, non-integer numbers can be NaN.

    Returns
    -------
    nan : bool
        True for a NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._validation import is_nan
    >>> is_nan(float("nan")), is_nan(np.float32("nan")), is_nan("nan"), is_nan(1)
    (True, True, False, False)
    """
    if not isinstance(value, numbers.Real) or isinstance(value, numbers.Integral):
        return False
    try:
        return math.isnan(value)
    except (TypeError, ValueError):  # pragma: no cover - exotic Real types
        return False


def repeated(labels: Iterable[Any]) -> list:
    """The labels that occur more than once, each repeat listed, in order.

    Examples
    --------
    >>> from sk_conse._validation import repeated
    >>> repeated(["a", "b", "a", "c", "b"])
    ['a', 'b']
    """
    seen: set = set()
    return [label for label in labels if label in seen or seen.add(label)]
