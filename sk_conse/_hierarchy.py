"""A label hierarchy: an undirected graph over hashable labels.

:class:`Hierarchy` is what :func:`sk_conse.metrics.hierarchical_precision_at_k_score`
walks to find the labels within a number of hops of a true label. It is built
from a mapping child -> parents, a networkx graph, or any object whose
``hierarchy()`` method returns one, such as :class:`sk_conse.wordnet.WordNet`:
the producers import this module, never the other way round. The public path
is :mod:`sk_conse.hierarchy`.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Collection, Container, Hashable, Iterable, Iterator, Mapping
from typing import Any

from ._docstrings import fill_doc
from ._formatting import label_repr
from ._validation import is_nan

__all__ = ["Hierarchy"]


def _is_graph(obj: Any) -> bool:
    """Duck-typed check for a networkx graph (no networkx import needed)."""
    return hasattr(obj, "adj") and hasattr(obj, "edges") and hasattr(obj, "nodes")


def _check_node(node: Any, context: str) -> None:
    """Refuse an unhashable or NaN hierarchy node, naming it."""
    try:
        hash(node)
    except TypeError:
        raise TypeError(
            f"{context} that is not hashable: {node!r} ({type(node).__name__}). "
            f"Hierarchy nodes must be hashable, such as str, int or tuple."
        ) from None
    if is_nan(node):
        raise ValueError(
            f"{context} that is NaN. NaN cannot be a hierarchy node: it is "
            f"not equal to itself, so no label would ever match it. For a node "
            f"without a parent, give None or an empty list as its parents."
        )


def _parents_of(child: Hashable, parents: Any) -> Collection:
    """The parents listed for ``child`` in a mapping child -> parents.

    None and an empty collection mean "no parent"; a string (or bytes), or
    any other non-iterable value, is one parent; any other iterable lists
    the parents.
    """
    if parents is None:
        return ()
    if isinstance(parents, (str, bytes)) or not isinstance(parents, Iterable):
        parents = (parents,)
    else:
        parents = tuple(parents)
    for parent in parents:
        if parent is None:
            raise ValueError(
                f"hierarchy[{label_repr(child)}] lists None among its parents; "
                f"for a node without a parent, give None or an empty list as its "
                f"parents, "
                f"not inside a list."
            )
        _check_node(parent, f"hierarchy[{label_repr(child)}] lists a parent")
    return parents


@fill_doc
class Hierarchy:
    """A label hierarchy as an undirected graph over hashable nodes.

    The one representation of a hierarchy in sk_conse: hierarchical
    precision@k, hop distances and the "n-hop" label sets all search it
    breadth-first, following edges in both directions. It is built once from
    any of the accepted forms and can then be reused.

    Parameters
    ----------
    hierarchy : networkx graph, mapping, Hierarchy or WordNet
        - a networkx graph, such as a :class:`networkx.DiGraph` with edges
          parent -> child (edge direction is ignored; isolated nodes are
          kept);
        - a mapping child -> parents, where the parents are an iterable of
          nodes, a single node (a string counts as one node), or None or an
          empty collection for a node without a parent;
        - another :class:`Hierarchy` (shared, not copied);
        - an object whose ``hierarchy()`` method returns a
          :class:`Hierarchy`, which is shared: a
          :class:`~sk_conse.wordnet.WordNet` gives the whole WordNet noun
          hierarchy.

    Raises
    ------
    TypeError
        If ``hierarchy`` is none of these, or a node or parent is not
        hashable (the message names it).
    ValueError
        If a node or parent is NaN, or None is listed among the parents.

    See Also
    --------
    sk_conse.wordnet.WordNet.hierarchy : The WordNet noun hierarchy as a
        :class:`Hierarchy`.
    sk_conse.metrics.hierarchical_precision_at_k_score : Uses
        :meth:`correct_set`.

    %(references_frome2013_norouzi2014)s

    Examples
    --------
    >>> from sk_conse.hierarchy import Hierarchy
    >>> h = Hierarchy({"dog": "canine", "wolf": "canine", "canine": "animal",
    ...                "cat": ["feline"], "feline": "animal", "animal": None})
    >>> h
    Hierarchy(n_nodes=6, n_edges=5)
    >>> h.hop_distance("dog", "cat")
    4
    >>> sorted(h.within_hops(["dog"], 2))
    ['animal', 'canine', 'dog', 'wolf']
    >>> sorted(h.correct_set("dog", 2, {"cat", "dog", "wolf"}))
    ['dog', 'wolf']
    """

    def __init__(self, hierarchy: Any) -> None:
        produce = getattr(hierarchy, "hierarchy", None)
        if callable(produce) and not isinstance(hierarchy, Mapping):
            hierarchy = produce()  # a producer such as WordNet
            if not isinstance(hierarchy, Hierarchy):
                raise TypeError(
                    f"hierarchy.hierarchy() must return a Hierarchy, got "
                    f"{type(hierarchy).__name__}."
                )
        if isinstance(hierarchy, Hierarchy):
            self._neighbours = hierarchy._neighbours
            self._where = hierarchy._where
            return
        adjacency: dict[Hashable, set] = {}
        if _is_graph(hierarchy):
            for node in hierarchy.nodes:
                _check_node(node, "The hierarchy has a node")
                adjacency[node] = set()
            edges: Iterable = hierarchy.edges()
        elif isinstance(hierarchy, Mapping):
            edges = []
            for child, parents in hierarchy.items():
                _check_node(child, "The hierarchy has a node")
                adjacency.setdefault(child, set())
                edges.extend((parent, child) for parent in _parents_of(child, parents))
        else:
            raise TypeError(
                f"hierarchy must be a networkx graph (edges parent -> child), a "
                f"mapping child -> iterable of parents, a Hierarchy or a WordNet "
                f"(anything with a hierarchy() method returning a Hierarchy), "
                f"got {type(hierarchy).__name__}."
            )
        for parent, child in edges:
            if parent == child:
                continue
            adjacency.setdefault(parent, set()).add(child)
            adjacency.setdefault(child, set()).add(parent)
        self._neighbours: Mapping[Hashable, Collection] = adjacency
        self._where = "the hierarchy"

    @classmethod
    def _wrap(cls, neighbours: Mapping[Hashable, Collection], where: str) -> Hierarchy:
        """A Hierarchy over a ready undirected adjacency (not copied)."""
        self = cls.__new__(cls)
        self._neighbours = neighbours
        self._where = where
        return self

    def __repr__(self) -> str:
        n_edges = sum(len(v) for v in self._neighbours.values()) // 2
        return f"Hierarchy(n_nodes={len(self)}, n_edges={n_edges})"

    def __len__(self) -> int:
        return len(self._neighbours)

    def __contains__(self, node: object) -> bool:
        try:
            return node in self._neighbours
        except TypeError:  # unhashable
            return False

    @property
    def nodes(self) -> list[Hashable]:
        """The nodes, in insertion order."""
        return list(self._neighbours)

    def _require(self, node: Any) -> Hashable:
        if node not in self:
            raise ValueError(f"{label_repr(node)} is not a node of {self._where}.")
        return node

    def neighbours(self, node: Hashable) -> list[Hashable]:
        """The nodes one edge away from ``node`` (parents and children).

        Parameters
        ----------
        node : hashable
            A node of the hierarchy.

        Returns
        -------
        nodes : list
            Its neighbours.

        Examples
        --------
        >>> from sk_conse.hierarchy import Hierarchy
        >>> sorted(Hierarchy({"dog": "canine", "wolf": "canine"}).neighbours(
        ...     "canine"))
        ['dog', 'wolf']
        """
        return list(self._neighbours[self._require(node)])

    def within_hops(
        self, nodes: Iterable[Hashable], hops: int, *, include_seeds: bool = True
    ) -> set[Hashable]:
        """Nodes within ``hops`` edges of any of the seed ``nodes``.

        Parameters
        ----------
        nodes : iterable of hashable
            The seed nodes (wrap a single node in a list).
        %(hops_include_seeds)s

        Returns
        -------
        nodes : set
            The nodes reached.

        Raises
        ------
        ValueError
            If ``hops`` is not a non-negative integer or a seed is not a node.
        TypeError
            If ``nodes`` is a single string.

        Examples
        --------
        >>> from sk_conse.hierarchy import Hierarchy
        >>> h = Hierarchy({"dog": "canine", "wolf": "canine", "canine": "animal"})
        >>> sorted(h.within_hops(["dog"], 2, include_seeds=False))
        ['animal', 'canine', 'wolf']
        """
        if isinstance(hops, bool) or not isinstance(hops, numbers.Integral) or hops < 0:
            raise ValueError(f"hops must be a non-negative integer, got {hops!r}.")
        if isinstance(nodes, str):
            raise TypeError(
                f"nodes must be an iterable of nodes, not a single string; wrap "
                f"it in a list: [{nodes!r}]."
            )
        seeds = {self._require(node) for node in nodes}
        reached = set(seeds)
        for layer in itertools.islice(self._layers(seeds), int(hops)):
            reached.update(layer)
        if not include_seeds:
            reached -= seeds
        return reached

    def _layers(self, seeds: Iterable[Hashable]) -> Iterator[list[Hashable]]:
        """Breadth-first from ``seeds``: yield the nodes first reached at 1,
        2, ... hops, one list per hop, until nothing new is reached."""
        neighbours = self._neighbours
        visited = set(seeds)
        frontier = list(visited)
        while True:
            layer = []
            for node in frontier:
                for neighbour in neighbours[node]:
                    if neighbour not in visited:
                        visited.add(neighbour)
                        layer.append(neighbour)
            if not layer:
                return
            yield layer
            frontier = layer

    def hop_distance(self, a: Hashable, b: Hashable) -> int:
        """Number of edges on a shortest path between two nodes.

        Parameters
        ----------
        a, b : hashable
            Nodes of the hierarchy.

        Returns
        -------
        distance : int
            0 for the same node; 2 for siblings.

        Raises
        ------
        ValueError
            If a node is missing or the two are not connected.

        Examples
        --------
        >>> from sk_conse.hierarchy import Hierarchy
        >>> Hierarchy({"dog": "canine", "wolf": "canine"}).hop_distance(
        ...     "dog", "wolf")
        2
        """
        source, target = self._require(a), self._require(b)
        if source == target:
            return 0
        neighbours = self._neighbours
        # Bidirectional breadth-first search: expand the smaller side.
        seen_a, seen_b = {source}, {target}
        frontier_a, frontier_b = [source], [target]
        distance = 0
        while frontier_a and frontier_b:
            if len(frontier_a) > len(frontier_b):
                frontier_a, frontier_b = frontier_b, frontier_a
                seen_a, seen_b = seen_b, seen_a
            distance += 1
            next_frontier = []
            for node in frontier_a:
                for neighbour in neighbours[node]:
                    if neighbour in seen_b:
                        return distance
                    if neighbour not in seen_a:
                        seen_a.add(neighbour)
                        next_frontier.append(neighbour)
            frontier_a = next_frontier
        raise ValueError(
            f"{label_repr(a)} and {label_repr(b)} are not connected in {self._where}."
        )

    def correct_set(
        self, label: Hashable, k: int, candidates: Container
    ) -> set[Hashable]:
        """The labels counted as correct for ``label`` by hierarchical precision@k.

        The DeViSE definition (Frome et al., 2013): the set starts as
        ``{label}`` and grows one hop at a time, through any node (internal
        nodes that are not candidates included), keeping only the
        ``candidates``, until it holds at least ``k`` labels or nothing more
        can be reached. A whole hop is added at once, so it may exceed ``k``.

        Parameters
        ----------
        label : hashable
            The true label, a node of the hierarchy.
        k : int
            The number of predictions scored.
        candidates : container
            The candidate labels (anything supporting ``in``: a set, or a
            dict label -> column).

        Returns
        -------
        correct : set
            ``label`` and the candidates found.

        Examples
        --------
        ``canine`` is one hop from ``dog`` but not a candidate; ``wolf`` and
        ``fox`` are both two hops away, so both join:

        >>> from sk_conse.hierarchy import Hierarchy
        >>> h = Hierarchy({"dog": "canine", "wolf": "canine", "fox": "canine"})
        >>> sorted(h.correct_set("dog", 2, {"dog", "wolf", "fox"}))
        ['dog', 'fox', 'wolf']
        """
        start = self._require(label)
        found = {start}
        layers = self._layers([start])
        while len(found) < k:
            layer = next(layers, None)
            if layer is None:
                break
            found.update(node for node in layer if node in candidates)
        return found
