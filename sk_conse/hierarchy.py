"""Label hierarchies for hierarchical precision@k.

:class:`Hierarchy` is the one representation of a label hierarchy: an
undirected graph over hashable labels, built from a mapping child -> parents,
a networkx graph, or a :class:`WordNet`. The WordNet noun hierarchy is read by
:class:`sk_conse.wordnet.WordNet`, imported here too (with
:data:`WORDNET_ROOT`), so ``from sk_conse.hierarchy import WordNet`` works.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from ._hierarchy import Hierarchy
from .wordnet import WORDNET_ROOT, WordNet

__all__ = ["WORDNET_ROOT", "Hierarchy", "WordNet"]


def _from_class_names(
    cls: type,
    names: Iterable[Any],
    overrides: Mapping[Any, str] | None = None,
    *,
    wordnet: Any = None,
) -> Hierarchy:
    """The WordNet is-a hierarchy over class names, names as nodes.

    .. deprecated:: 0.2
        ``Hierarchy.from_class_names`` will be removed in 0.4: a generic
        hierarchy knows nothing of WordNet. Use
        ``WordNet().hierarchy_for_names(names, overrides)``, which returns
        the same :class:`Hierarchy`.

    Parameters
    ----------
    names : iterable of str
        Class names, such as ``load_fashion_mnist().target_names``.
    overrides : mapping name -> str, default=None
        The synset of some names: a wnid (``"n03595614"``) or a word.
    wordnet : WordNet, default=None
        The WordNet to read; by default Debian's WordNet 3.0
        (``apt-get install wordnet-base``).

    Returns
    -------
    hierarchy : Hierarchy
        :meth:`WordNet.hierarchy_for_names` of ``names``.
    """
    warnings.warn(
        "Hierarchy.from_class_names is deprecated in 0.2 and will be removed in "
        "0.4: use WordNet().hierarchy_for_names(names, overrides) (from "
        "sk_conse.wordnet import WordNet), which returns the same hierarchy.",
        FutureWarning,
        stacklevel=2,
    )
    if wordnet is None:
        wordnet = WordNet()
    return wordnet.hierarchy_for_names(names, overrides)


# The deprecated constructor from WordNet names is attached here, where both
# Hierarchy and WordNet are known, so that the generic class in _hierarchy
# imports nothing of its producers. Removed with the deprecation in 0.4.
Hierarchy.from_class_names = classmethod(_from_class_names)
