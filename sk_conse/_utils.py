"""Small helpers shared across sk_conse: one home for each.

- :func:`import_torch`: the optional PyTorch import, with the install hint.
- :func:`progress`: the one progress bar (tqdm), off unless stderr is a
  terminal or the bar was asked for explicitly.
- :func:`name_some`: the first few labels of a list, for error messages.
- :func:`check_k`: the one check of a top-k ``k``.
"""

from __future__ import annotations

import importlib
import math
import numbers
import sys
import warnings
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any, Literal

import numpy as np

from ._compat import InvalidParameterError

__all__ = [
    "as_python_label",
    "check_k",
    "check_label_list",
    "import_torch",
    "is_nan",
    "label_repr",
    "lazy_reexport",
    "name_some",
    "on_missing_labels",
    "progress",
    "repeated",
    "summarize_vectors",
    "summarized_repr",
]

#: How many labels an error message names before "and N more".
MAX_NAMED = 10

_TORCH_HINT = (
    "pip install torch==2.13.0 (pick the CPU build on machines without a GPU), "
    "or pip install 'sk_conse[torch]'"
)


def import_torch(needed_by: str = "This feature") -> Any:
    """Import and return :mod:`torch`, or say how to install it.

    Parameters
    ----------
    needed_by : str, default="This feature"
        What needs PyTorch, named at the start of the error message.

    Returns
    -------
    torch : module
        The imported :mod:`torch` package.

    Raises
    ------
    ImportError
        If PyTorch is not installed; the message gives the ``pip install``
        line.

    Examples
    --------
    >>> from sk_conse._utils import import_torch
    >>> try:
    ...     torch = import_torch("DeViSEClassifier")
    ... except ImportError as exc:
    ...     assert "pip install torch==2.13.0" in str(exc)
    """
    try:
        import torch
    except ImportError as exc:
        raise ImportError(f"{needed_by} needs PyTorch: {_TORCH_HINT}.") from exc
    return torch


def _stderr_is_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty is not None and isatty())
    except ValueError:  # a closed stream
        return False


class _Lines:
    """Stand-in for a tqdm bar when tqdm is missing: plain lines on stderr.

    Supports the parts of tqdm's interface that sk_conse uses: iteration,
    ``update``, ``close`` and use as a context manager.
    """

    def __init__(
        self,
        iterable: Iterable | None,
        desc: str,
        total: int | None,
        shown: bool,
    ) -> None:
        self.iterable = iterable
        self.desc = desc
        if total is None and iterable is not None:
            try:
                total = len(iterable)  # type: ignore[arg-type]
            except TypeError:
                total = None
        self.total = total
        self.shown = shown
        self.n = 0

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.shown:
            of = "" if self.total is None else f"/{self.total}"
            print(f"{self.desc}: {self.n}{of}", file=sys.stderr, flush=True)

    def __iter__(self) -> Iterator:
        if self.iterable is None:
            raise TypeError("this progress bar has no iterable; call update().")
        for item in self.iterable:
            yield item
            self.update()

    def close(self) -> None:
        pass

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(
    iterable: Iterable | None,
    desc: str,
    *,
    total: int | None = None,
    enabled: bool | int | Literal["always"] = True,
    **tqdm_kwargs: Any,
) -> Any:
    """Wrap ``iterable`` in a progress bar on stderr, when one is wanted.

    The bar is shown when ``enabled`` is true *and* stderr is a terminal, so
    logs, CI output and notebooks redirected to files stay free of bar
    redraws; ``enabled="always"`` shows it whatever stderr is (the caller
    asked for it explicitly). The bar is :class:`tqdm.auto.tqdm` when tqdm is
    installed, else one plain line per step on stderr.

    Parameters
    ----------
    iterable : iterable or None
        What to iterate over. None gives a bar that is advanced by hand with
        ``bar.update(n)`` (then pass ``total``).
    desc : str
        The bar's label.
    total : int, default=None
        Number of steps; default ``len(iterable)`` when it has one.
    enabled : bool, int or "always", default=True
        False (or 0) never shows the bar; True (or a positive int, such as a
        ``verbose`` level) shows it when stderr is a terminal; ``"always"``
        shows it even when stderr is not a terminal.
    **tqdm_kwargs
        Passed on to tqdm (``unit``, ``leave``, ...); ignored without tqdm.

    Returns
    -------
    bar : iterable
        A tqdm bar (disabled when not shown, so it costs next to nothing) or
        its plain-lines stand-in; either can also be used as a context
        manager and advanced with ``update(n)``.

    Raises
    ------
    ValueError
        If ``enabled`` is a string other than ``"always"``.

    Examples
    --------
    Under doctest stderr is not a terminal, so no bar is drawn unless asked
    for with ``enabled="always"``:

    >>> from sk_conse._utils import progress
    >>> [i * i for i in progress(range(4), "squares")]
    [0, 1, 4, 9]
    >>> with progress(None, "images", total=10, enabled=False) as bar:
    ...     bar.update(10)
    """
    if isinstance(enabled, str):
        if enabled != "always":
            raise ValueError(f"enabled must be a bool or 'always', got {enabled!r}.")
        shown = True
    else:
        shown = bool(enabled) and _stderr_is_terminal()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Lines(iterable, desc, total, shown)
    tqdm_kwargs.setdefault("file", sys.stderr)
    return tqdm(iterable, desc=desc, total=total, disable=not shown, **tqdm_kwargs)


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
    >>> from sk_conse._utils import is_nan
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
    >>> from sk_conse._utils import repeated
    >>> repeated(["a", "b", "a", "c", "b"])
    ['a', 'b']
    """
    seen: set = set()
    return [label for label in labels if label in seen or seen.add(label)]


def name_some(labels: Iterable[Any], limit: int = MAX_NAMED) -> str:
    """The first ``limit`` labels as a comma-separated list, for messages.

    NumPy scalars are shown as plain Python values; when there are more than
    ``limit`` labels, "and N more" follows.

    Parameters
    ----------
    labels : iterable
        The labels to name.
    limit : int, default=10
        How many labels to show.

    Returns
    -------
    text : str
        The ``repr`` of the first labels, joined by ", ".

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._utils import name_some
    >>> name_some(["cat", np.int64(3)])
    "'cat', 3"
    >>> name_some(range(5), limit=2)
    '0, 1 and 3 more'
    """
    labels = list(labels)
    shown = ", ".join(label_repr(label) for label in labels[:limit])
    more = len(labels) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def label_repr(label: Any) -> str:
    """The ``repr`` of a label for a message, as the user wrote it.

    NumPy scalars are shown as the Python values they hold, also inside a
    tuple label: ``'T-shirt/top'``, not ``np.str_('T-shirt/top')``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._utils import label_repr
    >>> label_repr(np.str_("T-shirt/top")), label_repr((np.int64(1), "a"))
    ("'T-shirt/top'", "(1, 'a')")
    """
    if isinstance(label, tuple):
        return repr(tuple(as_python_label(part) for part in label))
    return repr(as_python_label(label))


def as_python_label(label: Any) -> Any:
    """A NumPy scalar label as the Python value it holds; others unchanged.

    ``np.str_("cat")`` becomes ``"cat"`` and ``np.int64(3)`` becomes ``3``,
    so that labels read from arrays are the same dict keys as the user's
    own, and messages show ``'cat'``, not ``np.str_('cat')``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._utils import as_python_label
    >>> as_python_label(np.int64(3)), as_python_label("cat")
    (3, 'cat')
    """
    return label.item() if isinstance(label, np.generic) else label


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
    >>> from sk_conse._utils import check_label_list
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


class _Summary:
    """Stands for a large parameter in an estimator's repr."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def summarize_vectors(table: Any) -> Any:
    """A short stand-in for a label-vector table in a repr: ``<dict of 2000>``.

    ``None`` stays ``None``; a table of any supported kind (mapping, pandas
    Series or DataFrame, gensim KeyedVectors) becomes an object whose repr
    names its type and number of labels, so that an estimator's repr does
    not print thousands of vectors.

    Examples
    --------
    >>> from sk_conse._utils import summarize_vectors
    >>> summarize_vectors({"cat": [1.0, 0.0], "dog": [0.0, 1.0]})
    <dict of 2>
    """
    if table is None:
        return None
    try:
        n = len(table)
    except TypeError:
        return table
    return _Summary(f"<{type(table).__name__} of {n}>")


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
    >>> from sk_conse._utils import check_k
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


def lazy_reexport(module: str, names: Iterable[str], source: str) -> Callable:
    """A module ``__getattr__`` that takes ``names`` from ``source`` on first use.

    For names a module re-exports from a module that builds on it, so that
    either of the two can be imported first.
    """
    names = frozenset(names)

    def __getattr__(name: str) -> Any:
        if name in names:
            return getattr(importlib.import_module(source), name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


def on_missing_labels(
    on_missing: str, problem: str, advice: str, *, stacklevel: int = 2
) -> None:
    """Raise (``on_missing="error"``) or warn (``"warn"``) of labels left out.

    The message is ``problem`` then ``advice``; the warning says that the
    labels are left out. ``stacklevel`` is counted from the caller.
    """
    if on_missing == "error":
        raise ValueError(f"{problem} {advice}")
    if on_missing == "warn":
        warnings.warn(
            f"{problem} They are left out. {advice}",
            UserWarning,
            stacklevel=stacklevel + 1,
        )


def summarized_repr(estimator: Any, N_CHAR_MAX: int = 700) -> str:
    """scikit-learn's repr of ``estimator`` with its ``label_embeddings``
    shown as :func:`summarize_vectors` (``<dict of 2000>``), not as vectors."""
    from sklearn.base import BaseEstimator

    shown = object.__new__(type(estimator))
    shown.__dict__.update(estimator.__dict__)
    shown.label_embeddings = summarize_vectors(estimator.label_embeddings)
    return BaseEstimator.__repr__(shown, N_CHAR_MAX=N_CHAR_MAX)
