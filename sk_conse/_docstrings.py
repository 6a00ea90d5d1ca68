"""Docstring text that several docstrings share, written once.

A docstring names a shared piece of text with ``%(name)s`` (the placeholder
of matplotlib's and MNE's docstring helpers), and :func:`fill_doc` replaces
it with ``DOCS[name]`` when the module defining the docstring is imported:
``help()``, Sphinx (autodoc and numpydoc) and the doctests all see the whole
text. A piece of several lines takes the indentation of the line its
placeholder stands on, so pieces are written here at column 0, their later
lines indented relative to their first one (a parameter's description by 4
spaces, a reference's continuation lines by 3).

What is here: the references cited in more than one docstring, and the
descriptions of parameters, attributes and examples that several functions
or estimators document alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["DOCS", "fill_doc"]

_T = TypeVar("_T")

DOCS: dict[str, str] = {}

# ------------------------------------------------------------------ references

DOCS["norouzi2014"] = """\
M. Norouzi, T. Mikolov, S. Bengio, Y. Singer, J. Shlens, A. Frome,
   G. S. Corrado and J. Dean, "Zero-Shot Learning by Convex Combination of
   Semantic Embeddings", ICLR 2014."""

DOCS["frome2013"] = """\
A. Frome, G. S. Corrado, J. Shlens, S. Bengio, J. Dean, M. Ranzato and
   T. Mikolov, "DeViSE: A Deep Visual-Semantic Embedding Model", NIPS 2013."""

DOCS["chao2016"] = """\
W.-L. Chao, S. Changpinyo, B. Gong and F. Sha, "An Empirical Study
   and Analysis of Generalized Zero-Shot Learning for Object Recognition
   in the Wild", ECCV 2016."""

DOCS["xian2017"] = """\
Y. Xian, B. Schiele and Z. Akata, "Zero-Shot Learning - The Good,
   the Bad and the Ugly", CVPR 2017."""

# The References sections that several docstrings have alike:
# %(references_<name>_<name>...)s cites those papers, in that order.
for _names in (
    ("norouzi2014",),  # ConSE: hit@k, class-disjoint folds, ...
    ("chao2016",),  # calibrated stacking
    ("xian2017",),  # the generalized zero-shot metrics
    ("norouzi2014", "chao2016"),  # ConSEClassifier and ConSEClassifierCV
    ("frome2013", "norouzi2014"),  # hit@k and the hierarchical measures
):
    DOCS["references_" + "_".join(_names)] = "\n".join(
        ["References", "----------"]
        + [f".. [{i}] {DOCS[name]}" for i, name in enumerate(_names, start=1)]
    )


# ------------------------------------------------- the zero-shot classifiers

DOCS["X_predict"] = """\
X : array-like of shape (n_samples, n_features)
    Input samples, in the form ``fit`` took."""

# The Parameters section of the prediction methods that take ``X`` only.
DOCS["parameters_X_predict"] = f"""\
Parameters
----------
{DOCS["X_predict"]}"""


DOCS["features_in_"] = """\
n_features_in_ : int
    Number of features seen during :term:`fit`.

feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during :term:`fit`, when ``X`` has them."""

# The toy problem of ConSEClassifier's examples: three seen labels, two
# unseen ones near them in the label-vector space.
DOCS["example_conse"] = """\
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from sk_conse import ConSEClassifier
>>> vectors = {"cat": [1.0, 0.1], "dog": [0.9, 0.4], "car": [0.0, 1.0],
...            "lion": [1.0, 0.0], "truck": [0.1, 1.0]}
>>> rng = np.random.RandomState(0)
>>> centres = {"cat": [0, 0], "dog": [0, 3], "car": [3, 3]}
>>> y = np.repeat(["cat", "dog", "car"], 20)
>>> X = np.array([centres[label] for label in y]) + rng.randn(60, 2) / 2
>>> clf = ConSEClassifier(LogisticRegression(), vectors, T=2).fit(X, y)"""


# ------------------------------------------------------------------ metrics

# The generalized zero-shot metrics of sk_conse.gzsl.
DOCS["parameters_gzsl"] = """\
Parameters
----------
y_true : array-like of shape (n_samples,)
    True labels, from seen and unseen classes.
y_pred : array-like of shape (n_samples,)
    Predicted labels.
seen_classes : array-like
    The labels seen in training (for a fitted zero-shot estimator, its
    ``seen_classes_``). Every other label of ``y_true`` is unseen.

    .. versionchanged:: 0.2
        Renamed from ``seen_labels``, which still works with a
        :class:`FutureWarning` and will be removed in 0.4."""


# Their examples' labels: cat and dog seen, lion unseen.
DOCS["example_gzsl"] = """\
>>> y_true = ["cat", "cat", "dog", "lion", "lion"]
>>> y_pred = ["cat", "dog", "dog", "cat", "lion"]"""


# ---------------------------------------------------------------- splitters

# The split methods of ClassDisjointKFold and PseudoUnseenSplit.
DOCS["parameters_yields_split"] = """\
Parameters
----------
X : array-like of shape (n_samples, n_features)
    Training data; only its length is used.
y : array-like of shape (n_samples,)
    Class labels; required, they define the folds.
groups : None
    Ignored, exists for API compatibility (``y`` plays its role).

Yields
------
train : ndarray
    The training set indices for that split.
test : ndarray
    The testing set indices for that split."""


# ------------------------------------------------------------ torch models

# The prediction methods of EfficientNetLite0Classifier.
DOCS["parameters_images"] = """\
Parameters
----------
X : ndarray or list
    Images, see the class documentation."""


# ----------------------------------------------------------------- datasets

DOCS["subset"] = """\
subset : {"train", "test", "all"}, default="train"
    Which split to load. ``"all"`` is the training images followed by the
    test images (see the table above)."""

DOCS["return_X_y_images"] = """\
return_X_y : bool, default=False
    If True, return ``(images, target)`` instead of a Bunch."""


# ------------------------------------------------------------- hierarchies

# Hierarchy.within_hops and WordNet.wnids_within_hops.
DOCS["hops_include_seeds"] = """\
hops : int
    The largest number of edges, at least 0.
include_seeds : bool, default=True
    Whether the seeds themselves are returned."""


# The methods of WordNet that take one synset, and their examples' set-up.
DOCS["parameters_wnid"] = """\
Parameters
----------
wnid : str
    A noun synset id, such as ``"n02084071"`` (dog)."""

DOCS["example_wordnet"] = """\
>>> from sk_conse.wordnet import WordNet
>>> wn = WordNet()  # apt-get install wordnet-base"""


# ----------------------------------------------------------------- filling

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _piece(name: str, indent: str) -> str:
    try:
        text = DOCS[name]
    except KeyError:
        raise KeyError(
            f"No shared docstring text is named {name!r}; the names are "
            f"{sorted(DOCS)} (sk_conse._docstrings.DOCS)."
        ) from None
    first, *rest = text.split("\n")
    return "\n".join([first, *(indent + line if line else line for line in rest)])


def fill_text(doc: str) -> str:
    """``doc`` with each ``%(name)s`` replaced by ``DOCS[name]``, indented.

    Parameters
    ----------
    doc : str
        A docstring.

    Returns
    -------
    filled : str
        The docstring with its placeholders filled in.

    Raises
    ------
    KeyError
        If a placeholder names no piece of ``DOCS``.
    """
    return "\n".join(_fill_line(line) for line in doc.split("\n"))


def _fill_line(line: str) -> str:
    indent = line[: len(line) - len(line.lstrip())]
    return _PLACEHOLDER.sub(lambda match: _piece(match.group(1), indent), line)


def _fill_object(obj: Any) -> None:
    if isinstance(obj, (classmethod, staticmethod)):
        obj = obj.__func__
    if getattr(obj, "__doc__", None):
        obj.__doc__ = fill_text(obj.__doc__)


def fill_doc(obj: _T) -> _T:
    """Decorator: fill in the shared text of a function's or class's docstring.

    For a class, the docstrings of the methods and properties defined in its
    body are filled in too. Under ``python -OO`` (no docstrings) it does
    nothing.

    Parameters
    ----------
    obj : function or class
        What to fill in, in place.

    Returns
    -------
    obj : function or class
        The same object.

    Examples
    --------
    >>> import inspect
    >>> from sk_conse._docstrings import fill_doc
    >>> @fill_doc
    ... def f():
    ...     '''The harmonic mean of two accuracies.
    ...
    ...     References
    ...     ----------
    ...     .. [1] %(xian2017)s
    ...     '''
    >>> print(inspect.getdoc(f))
    The harmonic mean of two accuracies.
    <BLANKLINE>
    References
    ----------
    .. [1] Y. Xian, B. Schiele and Z. Akata, "Zero-Shot Learning - The Good,
       the Bad and the Ugly", CVPR 2017.
    """
    _fill_object(obj)
    if isinstance(obj, type):
        for member in vars(obj).values():
            if isinstance(member, (Callable, classmethod, staticmethod, property)):
                _fill_object(member)
    return obj
