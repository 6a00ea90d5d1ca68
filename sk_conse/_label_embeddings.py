"""Validation of ``label_embeddings``: the semantic vector of every label.

A label embedding table maps each label to a 1-D vector s(y). It may come as a
mapping (``dict``), a pandas ``Series`` of vectors or ``DataFrame`` of rows
indexed by label, or a gensim ``KeyedVectors``. :func:`check_label_embeddings`
turns any of these into a :class:`LabelEmbeddings` table, raising early and
naming the culprits when a vector is ragged, non-finite or zero.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._formatting import MAX_NAMED, as_python_label, name_some
from ._validation import is_nan, repeated

__all__ = [
    "LabelEmbeddings",
    "check_label_embeddings",
    "check_label_types",
    "sorted_labels",
]


def sorted_labels(labels: Iterable[Hashable]) -> np.ndarray:
    """Labels as a sorted 1-D array, as ``classes_`` holds them.

    Homogeneous numbers or strings give a NumPy array of that kind; a mix of
    numbers and strings gives an object array, numbers first.

    Examples
    --------
    >>> from sk_conse._label_embeddings import sorted_labels
    >>> sorted_labels(["dog", "cat"])
    array(['cat', 'dog'], dtype='<U3')
    >>> sorted_labels([2, "b", 1])
    array([1, 2, 'b'], dtype=object)
    """
    labels = [as_python_label(label) for label in labels]
    if not labels:
        return np.asarray([], dtype=object)
    if all(isinstance(v, numbers.Real) for v in labels) or all(
        isinstance(v, str) for v in labels
    ):
        return np.asarray(sorted(labels))

    def key(v: Any) -> tuple:
        if isinstance(v, numbers.Real):
            return (0, v, "")
        if isinstance(v, str):
            return (1, 0, v)
        return (2, 0, repr(v))

    ordered = sorted(labels, key=key)
    out = np.empty(len(ordered), dtype=object)
    out[:] = ordered
    return out


def _type_group(kind: type) -> str:
    """The sort group of a label's type: numbers sort among themselves, so do
    strings; any other type is a group of its own."""
    if issubclass(kind, (numbers.Number, np.bool_)):
        return "numbers"
    if issubclass(kind, str):
        return "strings"
    return f"{kind.__name__} objects"


#: How to fix mixed types in ``y``, for :func:`check_label_types`.
Y_TYPES_FIX = (
    "convert them all, e.g. to str: y = [str(label) for label in y], with "
    "label_embeddings keyed by the same strings"
)


#: The same, for the labels looked up in a table, by role.
_TYPES_FIX = {
    "seen": "fit the base estimator on labels of one type",
    "candidate": (
        "key label_embeddings by labels of one type (e.g. {str(label): vector "
        "for label, vector in vectors.items()}), or give candidate_labels of "
        "one type"
    ),
}


def check_label_types(labels: Any, name: str, fix: str = Y_TYPES_FIX) -> None:
    """Refuse labels that mix types which cannot be sorted together.

    Numbers and strings (``["a", 1]``), or ``None`` among strings, cannot be
    sorted or compared, as ``classes_`` and scikit-learn's metrics need: the
    message names the types, an example of each, and ``fix``. Arrays of a
    non-object dtype hold one type and are not read.

    Examples
    --------
    >>> from sk_conse._label_embeddings import check_label_types
    >>> try:
    ...     check_label_types(["a", 1], "y", "convert them to str")
    ... except TypeError as error:
    ...     print(str(error).split(", which")[0])
    y mixes labels of different types, numbers (1) and strings ('a')
    """
    if isinstance(labels, np.ndarray):
        if labels.dtype != object:
            return
        values = labels.ravel().tolist()
    elif isinstance(labels, (list, tuple)):
        values = labels
    else:
        kind = getattr(getattr(labels, "dtype", None), "kind", None)
        if kind != "O" or not hasattr(labels, "tolist"):
            return
        values = labels.tolist()
    if len({_type_group(kind) for kind in set(map(type, values))}) < 2:
        return  # the usual case, read at C speed
    examples: dict[str, Any] = {}
    for label in values:
        if not is_nan(label):  # NaN has its own error downstream
            examples.setdefault(_type_group(type(label)), label)
    if len(examples) > 1:
        kinds = sorted(examples)
        shown = [f"{kind} ({examples[kind]!r})" for kind in kinds]
        raise TypeError(
            f"{name} mixes labels of different types, {', '.join(shown[:-1])} "
            f"and {shown[-1]}, which cannot be sorted or compared (scikit-learn "
            f"needs labels of one type). Give labels of one type: {fix}."
        )


@dataclass(frozen=True)
class LabelEmbeddings:
    """A validated table of label vectors.

    Attributes
    ----------
    labels : list
        The labels, in the order of the table's rows (plain Python values).
    vectors : ndarray of shape (n_labels, q)
        Finite, nonzero float32 or float64 rows.
    index : dict
        Label -> row.
    columns : frozenset
        The column names of a DataFrame given as the table (empty otherwise):
        labels found there mean the table was given transposed.
    """

    labels: list
    vectors: np.ndarray
    index: dict = field(repr=False)
    columns: frozenset = field(default=frozenset(), repr=False)

    def rows_of(
        self, labels: Iterable[Hashable], *, role: str, hint: str = ""
    ) -> np.ndarray:
        """Row numbers of ``labels``; an error lists the labels with no vector
        (followed by ``hint``), or names the types of labels that mix types."""
        labels = list(labels)
        fix = _TYPES_FIX.get(role, "use labels of one type")
        check_label_types(labels, f"The list of {role} labels", fix)
        missing = [
            label for label in labels if as_python_label(label) not in self.index
        ]
        if any(is_nan(label) for label in missing):
            raise ValueError(
                f"{role} labels contain NaN, which cannot be a label: it is not "
                "equal to itself, so it has no vector in label_embeddings. Drop "
                "it or give it a real label."
            )
        in_columns = [
            label for label in missing if as_python_label(label) in self.columns
        ]
        if in_columns:
            raise ValueError(
                f"label_embeddings is a DataFrame with {role} labels as its "
                f"columns ({name_some(in_columns)}), not as its rows: it needs "
                "one row per label, indexed by the labels. Pass it transposed: "
                "label_embeddings=df.T."
            )
        if missing and not any(
            as_python_label(label) in self.index for label in labels
        ):
            kinds_y = _kinds(missing)
            kinds_table = _kinds(self.labels[:1000])
            if kinds_y.isdisjoint(kinds_table):
                raise ValueError(
                    f"The {role} labels and the labels of label_embeddings are "
                    f"of different types: the {role} labels are "
                    f"{' and '.join(sorted(kinds_y))} ({name_some(missing)}), "
                    "label_embeddings is keyed by "
                    f"{' and '.join(sorted(kinds_table))} "
                    f"({name_some(self.labels)}). Use the same labels on both "
                    "sides: map integer class codes to names first (for "
                    "example y = target_names[y]), or key the vectors by the "
                    "codes."
                )
        if missing:
            raise ValueError(
                f"{len(missing)} {role} label(s) have no vector in "
                f"label_embeddings: {name_some(missing)}. Every {role} label "
                "needs a semantic vector: add them to label_embeddings (or, for "
                "candidate labels, leave them out of candidate_labels)." + hint
            )
        return np.fromiter(
            (self.index[as_python_label(label)] for label in labels),
            dtype=np.intp,
            count=len(labels),
        )


def _kinds(labels: Iterable[Any]) -> set[str]:
    """The kinds of some labels, for an error message: "integers", "strings"..."""
    kinds = set()
    for label in labels:
        label = as_python_label(label)
        if isinstance(label, bool):
            kinds.add("booleans")
        elif isinstance(label, numbers.Integral):
            kinds.add("integers")
        elif isinstance(label, numbers.Real):
            kinds.add("floats")
        elif isinstance(label, str):
            kinds.add("strings")
        else:
            kinds.add(f"{type(label).__name__} objects")
    return kinds


def _is_pandas(label_embeddings: Any) -> bool:
    return type(label_embeddings).__module__.split(".")[0] == "pandas"


def _items(label_embeddings: Any) -> tuple[list, list]:
    """Split any supported container into (labels, vectors)."""
    # gensim KeyedVectors, without importing gensim
    if hasattr(label_embeddings, "index_to_key") and hasattr(
        label_embeddings, "vectors"
    ):
        return list(label_embeddings.index_to_key), label_embeddings.vectors
    if _is_pandas(label_embeddings):
        index = label_embeddings.index
        if index.has_duplicates:
            dups = index[index.duplicated()].unique()
            raise ValueError(
                f"label_embeddings has duplicated labels: {name_some(dups)}. "
                "Each label must appear once."
            )
        if label_embeddings.ndim == 2:  # DataFrame: one row per label
            return list(index), label_embeddings.to_numpy()
        return list(index), list(label_embeddings.to_numpy())
    if isinstance(label_embeddings, Mapping):
        return list(label_embeddings.keys()), list(label_embeddings.values())
    raise TypeError(
        "label_embeddings must be a mapping label -> vector (dict), a pandas "
        "Series of vectors or DataFrame of rows indexed by label, or a gensim "
        f"KeyedVectors; got {type(label_embeddings).__name__}."
    )


def check_label_embeddings(label_embeddings: Any) -> LabelEmbeddings:
    """Validate label embeddings and stack them into one table.

    Parameters
    ----------
    label_embeddings : mapping, pandas Series or DataFrame, or KeyedVectors
        Label -> 1-D vector. All vectors must have the same length, be finite
        and have a nonzero norm (cosine similarity needs a direction).

    Returns
    -------
    table : LabelEmbeddings
        float32 if every vector is float32, float64 otherwise.

    Raises
    ------
    ValueError
        Naming the offending labels: empty table, ragged or non-1-D vectors,
        non-numeric values, NaN or infinite values, zero vectors.

    Examples
    --------
    >>> from sk_conse._label_embeddings import check_label_embeddings
    >>> table = check_label_embeddings({"cat": [1.0, 0.0], "dog": [0.8, 0.6]})
    >>> table.vectors.shape, table.index["dog"]
    ((2, 2), 1)
    """
    if label_embeddings is None:
        raise ValueError(
            "label_embeddings is required: pass a mapping label -> semantic "
            "vector covering every seen label and every candidate label, e.g. "
            "from sk_conse.embeddings."
        )
    labels, vectors = _items(label_embeddings)
    if len(labels) == 0:
        raise ValueError("label_embeddings is empty: it needs at least one label.")
    nan_at = [i for i, label in enumerate(labels) if is_nan(label)]
    if nan_at:
        raise ValueError(
            f"label_embeddings has NaN as a label ({len(nan_at)} of {len(labels)} "
            f"labels, entries {name_some(nan_at)}). NaN cannot be a label: it is "
            "not equal to itself, so no label would ever find its vector. Give "
            "those vectors real labels or drop them."
        )
    if isinstance(vectors, np.ndarray) and vectors.ndim == 2:
        matrix = vectors
    else:
        arrays = [np.asarray(v) for v in vectors]
        bad_dim = [lab for lab, a in zip(labels, arrays) if a.ndim != 1]
        if bad_dim:
            raise ValueError(
                "label_embeddings vectors must be 1-D; not so for "
                f"{name_some(bad_dim)}."
            )
        lengths = np.array([a.shape[0] for a in arrays])
        if np.any(lengths != lengths[0]):
            values, counts = np.unique(lengths, return_counts=True)
            common = values[np.argmax(counts)]
            odd = [
                f"{as_python_label(lab)!r} ({n})"
                for lab, n in zip(labels, lengths)
                if n != common
            ]
            raise ValueError(
                "label_embeddings vectors have different lengths: most have "
                f"{common}, but {', '.join(odd[:MAX_NAMED])}"
                f"{' and more' if len(odd) > MAX_NAMED else ''}. All label "
                "vectors must live in the same space."
            )
        non_numeric = [
            lab for lab, a in zip(labels, arrays) if a.dtype.kind not in "biuf"
        ]
        if non_numeric:
            raise ValueError(
                "label_embeddings vectors must be numeric; not so for "
                f"{name_some(non_numeric)}."
            )
        matrix = np.stack(arrays) if arrays else np.empty((0, 0))
    if matrix.dtype.kind not in "biuf":
        raise ValueError(
            f"label_embeddings vectors must be numeric, got dtype {matrix.dtype}."
        )
    if matrix.shape[1] == 0:
        raise ValueError("label_embeddings vectors are empty (length 0).")
    dtype = np.float32 if matrix.dtype == np.float32 else np.float64
    matrix = np.ascontiguousarray(matrix, dtype=dtype)
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        bad = [labels[i] for i in np.flatnonzero(~finite)]
        raise ValueError(
            f"label_embeddings has NaN or infinite values for {name_some(bad)}. "
            "Fix or drop those vectors."
        )
    zero = ~np.any(matrix != 0, axis=1)
    if zero.any():
        bad = [labels[i] for i in np.flatnonzero(zero)]
        raise ValueError(
            f"label_embeddings has zero vectors for {name_some(bad)}: cosine "
            "similarity needs a nonzero vector. Drop those labels or give them "
            "a real vector (out-of-vocabulary words often come out as zeros)."
        )
    with np.errstate(over="ignore", under="ignore"):
        squared_norms = (matrix * matrix).sum(axis=1)
    extreme = ~(np.isfinite(squared_norms) & (squared_norms >= np.finfo(dtype).tiny))
    if extreme.any():
        bad = [labels[i] for i in np.flatnonzero(extreme)]
        # float64 vectors can only be rescaled; float32 ones can also widen.
        advice = ", or use float64 vectors" if dtype == np.float32 else ""
        raise ValueError(
            f"label_embeddings has vectors too large or too small for "
            f"{np.dtype(dtype).name}: the squared norm of {name_some(bad)} "
            "overflows or underflows, so cosine similarity cannot be computed. "
            "Rescale all vectors by one common factor (that changes no "
            f"prediction){advice}."
        )
    keys = [as_python_label(label) for label in labels]
    index = {label: i for i, label in enumerate(keys)}
    if len(index) != len(keys):
        dups = repeated(keys)
        raise ValueError(f"label_embeddings has duplicated labels: {name_some(dups)}.")
    # A read-only *view*: ``matrix`` may be the caller's own array (gensim
    # KeyedVectors.vectors, a DataFrame's block), which must stay writeable.
    matrix = matrix.view()
    matrix.flags.writeable = False
    columns = frozenset()
    if _is_pandas(label_embeddings) and label_embeddings.ndim == 2:
        # A DataFrame's columns, in case they are the labels (given as df.T).
        columns = frozenset(as_python_label(c) for c in label_embeddings.columns)
    return LabelEmbeddings(labels=keys, vectors=matrix, index=index, columns=columns)
