"""Inspecting label vectors, before and after training.

ConSE can only be as good as the similarities between label vectors: an
unseen label is predicted for an input when its vector is close to those of
the input's most likely *seen* labels. :func:`label_similarities` shows those
similarities as a table (seen x candidate, say), so that a label set whose
vectors cannot tell two candidates apart is found before any model is
trained. To see how a fitted model used them for given inputs, see
:meth:`sk_conse.ConSEClassifier.explain`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from ._docstrings import fill_doc
from ._label_embeddings import check_label_embeddings
from ._validation import check_label_list

__all__ = ["label_similarities"]


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit norm, in float64 (validated vectors are nonzero)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    # Scale by the largest entry first: the squared norm cannot overflow.
    vectors = vectors / np.abs(vectors).max(axis=1, keepdims=True)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@fill_doc
def label_similarities(
    label_embeddings: Any,
    rows: Iterable[Hashable],
    columns: Iterable[Hashable] | None = None,
    *,
    as_frame: bool | str = "auto",
) -> Any:
    """Cosine similarity between label vectors, as a labelled table.

    Entry ``(i, j)`` is the cosine similarity between the vectors of
    ``rows[i]`` and ``columns[j]``. With the seen labels as rows and the
    candidate labels as columns, column ``j`` shows which seen labels pull an
    input towards candidate ``j``: ConSE predicts a candidate when its vector
    is close to those of the input's most likely seen labels, so two
    candidates with similar columns are hard to tell apart whatever the
    classifier does. Look at this table before training.

    Parameters
    ----------
    label_embeddings : mapping, pandas Series or DataFrame, or KeyedVectors
        Label -> 1-D vector, in any form that
        :class:`~sk_conse.ConSEClassifier` accepts.
    rows : array-like of labels
        The labels of the rows, in order; each needs a vector.
    columns : array-like of labels, default=None
        The labels of the columns, in order; each needs a vector. ``None``
        uses ``rows`` (a square, symmetric table).
    as_frame : bool or "auto", default="auto"
        Return a pandas DataFrame (``True``), a
        :class:`~sklearn.utils.Bunch` (``False``), or a DataFrame when pandas
        is installed and a Bunch otherwise (``"auto"``).

    Returns
    -------
    similarities : pandas.DataFrame or Bunch
        A DataFrame of shape (n_rows, n_columns) indexed by ``rows`` with
        ``columns`` as columns; or a Bunch with ``similarities``, an ndarray
        of shape (n_rows, n_columns), and ``rows`` and ``columns``, object
        arrays of the labels. Values are float64 in [-1, 1].

    Raises
    ------
    ValueError
        If a label has no vector (all such labels are named), ``rows`` or
        ``columns`` is empty, or ``label_embeddings`` is invalid.
    TypeError
        If ``rows`` or ``columns`` is a single label rather than a list.
    ImportError
        If ``as_frame=True`` and pandas is not installed.

    See Also
    --------
    sk_conse.ConSEClassifier.explain : How a fitted model combined these
        similarities for given inputs.

    Notes
    -----
    For a fitted :class:`~sk_conse.ConSEClassifier` ``clf``,
    ``label_similarities(clf.label_embeddings, clf.seen_classes_,
    clf.classes_)`` is the seen x candidate table that its scores are built
    from: the score of candidate ``c`` for an input is the weighted sum of
    column ``c`` over the input's top-``T`` seen labels, divided by the norm
    of the weighted average of their vectors.

    %(references_norouzi2014)s

    Examples
    --------
    >>> from sk_conse.inspection import label_similarities
    >>> vectors = {"cat": [1.0, 0.1], "dog": [0.9, 0.4], "car": [0.0, 1.0],
    ...            "lion": [1.0, 0.0], "truck": [0.1, 1.0]}
    >>> label_similarities(vectors, ["cat", "dog", "car"], ["lion", "truck"],
    ...                    as_frame=True).round(2)
         lion  truck
    cat  1.00    0.2
    dog  0.91    0.5
    car  0.00    1.0
    >>> table = label_similarities(vectors, ["cat", "dog"], as_frame=False)
    >>> table.similarities.round(2)
    array([[1.  , 0.95],
           [0.95, 1.  ]])
    >>> table.rows
    array(['cat', 'dog'], dtype=object)
    """
    if as_frame not in (True, False, "auto"):
        raise ValueError(f"as_frame must be True, False or 'auto', got {as_frame!r}.")
    pd = None
    if as_frame is not False:
        try:
            import pandas as pd
        except ImportError:
            if as_frame is True:
                raise ImportError(
                    "label_similarities(..., as_frame=True) needs pandas: "
                    "pip install pandas, or pass as_frame=False for a Bunch "
                    "holding a NumPy array."
                ) from None
    table = check_label_embeddings(label_embeddings)
    row_labels = check_label_list(rows, "rows")
    col_labels = row_labels if columns is None else check_label_list(columns, "columns")
    row_vectors = _unit_rows(table.vectors[table.rows_of(row_labels, role="row")])
    col_vectors = (
        row_vectors
        if columns is None
        else _unit_rows(table.vectors[table.rows_of(col_labels, role="column")])
    )
    similarities = np.clip(row_vectors @ col_vectors.T, -1.0, 1.0)
    if pd is not None:
        return pd.DataFrame(
            similarities,
            index=pd.Index(row_labels, tupleize_cols=False),
            columns=pd.Index(col_labels, tupleize_cols=False),
        )
    row_array = np.empty(len(row_labels), dtype=object)
    row_array[:] = row_labels
    col_array = np.empty(len(col_labels), dtype=object)
    col_array[:] = col_labels
    return Bunch(similarities=similarities, rows=row_array, columns=col_array)
