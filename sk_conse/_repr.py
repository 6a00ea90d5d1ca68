"""Estimator reprs that show a label-vector table as ``<dict of 2000>``."""

from __future__ import annotations

from typing import Any

__all__ = ["summarize_vectors", "summarized_repr"]


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
    >>> from sk_conse._repr import summarize_vectors
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


def summarized_repr(estimator: Any, N_CHAR_MAX: int = 700) -> str:
    """scikit-learn's repr of ``estimator`` with its ``label_embeddings``
    shown as :func:`summarize_vectors` (``<dict of 2000>``), not as vectors."""
    from sklearn.base import BaseEstimator

    shown = object.__new__(type(estimator))
    shown.__dict__.update(estimator.__dict__)
    shown.label_embeddings = summarize_vectors(estimator.label_embeddings)
    return BaseEstimator.__repr__(shown, N_CHAR_MAX=N_CHAR_MAX)
