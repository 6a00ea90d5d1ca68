"""Caching the fitted base estimator (the ``memory`` parameter).

A fitted base estimator depends only on its own parameters and its training
data, not on the parameters that shape the search (``T``, ``seen_penalty``,
``temperature``, ``candidate_labels``). With ``memory`` set, ConSE fits its
base estimator through :func:`fit_base`, a :class:`joblib.Memory`-cached
function keyed by both, as :class:`sklearn.pipeline.Pipeline` caches its
transformers: a grid search over search-only parameters fits the base once
per fold.

When ``X`` names files (string or :class:`os.PathLike` entries that are paths
of existing files, as for a base estimator that loads images), the key also
covers the *content* of those files, so that a changed file refits the base
instead of returning the model fitted on its old content. Directories named
in ``X`` are not read: a warning says so.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_memory

from ._folders import check_folder
from ._formatting import name_some

__all__ = ["fit_base"]

_CHUNK = 1 << 20


def _fit_clone(
    estimator: Any, X: Any, y: Any, fit_params: dict, files: tuple = ()
) -> Any:
    # ``files`` is only part of the cache key: the fingerprint of the files
    # that X names (see _named_files_key).
    return clone(estimator).fit(X, y, **fit_params)


def _entries(X: Any) -> Iterator[Any]:
    """The entries of X that could name a file (strings and path-likes)."""
    if isinstance(X, (str, os.PathLike)):
        yield X
        return
    if type(X).__module__.split(".")[0] == "pandas" and hasattr(X, "to_numpy"):
        X = X.to_numpy()
    if isinstance(X, np.ndarray):
        if X.dtype.kind in "OU":  # numbers, bytes, sparse matrices: no paths
            yield from X.ravel()
        return
    if isinstance(X, (list, tuple)):
        for entry in X:
            if isinstance(entry, (list, tuple, np.ndarray)):
                yield from _entries(entry)
            else:
                yield entry


def _file_digest(path: str) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _named_files_key(X: Any) -> tuple:
    """A fingerprint of the content of every existing file that ``X`` names.

    Returns ``((path, size, content hash), ...)`` in sorted order of path;
    empty when ``X`` names no file (numeric ``X``, texts).
    """
    files, directories = set(), set()
    for entry in _entries(X):
        if not isinstance(entry, (str, os.PathLike)):
            continue
        path = os.fspath(entry)
        if not isinstance(path, str):
            continue
        if os.path.isfile(path):
            files.add(path)
        elif os.path.isdir(path):
            directories.add(path)
    if directories:
        what = "a directory" if len(directories) == 1 else "directories"
        warnings.warn(
            f"X names {what}: {name_some(sorted(directories))}. memory= keys "
            "the cached base estimator on the content of the files X names, "
            "but not on what is inside directories: after "
            "changing their files, clear the cache (memory.clear()) or fit "
            "with memory=None, or the base fitted on the old files comes back.",
            UserWarning,
            stacklevel=4,
        )
    return tuple(
        (path, os.path.getsize(path), _file_digest(path)) for path in sorted(files)
    )


def fit_base(memory: Any, estimator: Any, X: Any, y: Any, fit_params: dict) -> Any:
    """A fitted clone of ``estimator``, from ``memory``'s cache when it holds one.

    Parameters
    ----------
    memory : None, str or joblib.Memory
        Where fitted estimators are cached (``None``: no caching).
    estimator : estimator object
        The unfitted base estimator; its parameters are part of the key.
    X, y : array-like
        Training data; part of the key (hashed by joblib). When entries of
        ``X`` are paths of existing files (strings or path-like objects), the
        content of those files is part of the key too: a changed file refits.
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
    if memory is None:
        return _fit_clone(estimator, X, y, fit_params)
    if isinstance(memory, (str, os.PathLike)):
        check_folder(Path(memory).expanduser(), "memory")
    try:
        memory = check_memory(memory)
    except OSError as exc:
        raise OSError(
            f"memory={memory!r} cannot be used as a cache folder "
            f"({exc}). Give a folder you can write to, or memory=None."
        ) from exc
    files = _named_files_key(X)
    fitted = memory.cache(_fit_clone)(estimator, X, y, fit_params, files)
    if type(fitted) is not type(estimator):
        # joblib recomputes an entry it cannot read; one that reads as
        # something else was written by other code.
        raise ValueError(
            f"The memory cache in {memory.location} returned a "
            f"{type(fitted).__name__} for the base estimator "
            f"{type(estimator).__name__}: the cache holds a foreign entry. "
            "Clear it (memory.clear(), or delete the folder) and fit again."
        )
    return fitted
