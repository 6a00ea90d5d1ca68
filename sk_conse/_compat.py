"""The only module of sk_conse that imports private scikit-learn names.

Private names change without deprecation, so they all come through here, and
``pyproject.toml`` caps scikit-learn at the minor release after the newest one
tested (``constraints.txt``): a new scikit-learn release means one file to
read. Every other module imports public scikit-learn names only
(``tests/test_compat.py`` checks this).

The ``sklearn-compat`` package (checked at 0.1.6) backports ``validate_data``,
``_fit_context`` and the tags API to scikit-learn < 1.6; sk_conse needs
scikit-learn >= 1.6, where those are native, and what it imports besides
(the parameter constraints, ``_num_samples``, ``_check_method_params``,
``_safe_indexing``, ``get_namespace``, ``_routing_enabled`` and the vendored
``array_api_compat``) is not covered by it, so it is not a dependency.
"""

from __future__ import annotations

from types import ModuleType

from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing
from sklearn.utils._array_api import get_namespace
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.metadata_routing import _routing_enabled
from sklearn.utils.validation import _check_method_params, _num_samples

__all__ = [
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "_check_method_params",
    "_fit_context",
    "_num_samples",
    "_routing_enabled",
    "_safe_indexing",
    "array_api_compat_namespace",
    "get_namespace",
    "validate_parameter_constraints",
]

_ARRAY_API_LIBRARIES = ("numpy", "torch", "cupy")


def array_api_compat_namespace(library: str) -> ModuleType:
    """The array API namespace of ``library``, as scikit-learn vendors it.

    scikit-learn's copy of ``array_api_compat`` (``sklearn.externals``) is the
    one its own array API dispatch uses, so sk_conse's backends see the same
    namespaces as ``config_context(array_api_dispatch=True)``. Imported on
    demand: asking for ``"cupy"`` imports CuPy, ``"torch"`` imports torch.

    Parameters
    ----------
    library : {"numpy", "torch", "cupy"}
        The array library.

    Returns
    -------
    xp : module
        ``array_api_compat.numpy``, ``.torch`` or ``.cupy``.

    Examples
    --------
    >>> from sk_conse._compat import array_api_compat_namespace
    >>> xp = array_api_compat_namespace("numpy")
    >>> int(xp.argmax(xp.asarray([1, 3, 2])))
    1
    """
    if library == "numpy":
        from sklearn.externals.array_api_compat import numpy as xp
    elif library == "torch":
        from sklearn.externals.array_api_compat import torch as xp
    elif library == "cupy":
        from sklearn.externals.array_api_compat import cupy as xp
    else:
        raise ValueError(
            f"library must be one of {_ARRAY_API_LIBRARIES}, got {library!r}."
        )
    return xp
