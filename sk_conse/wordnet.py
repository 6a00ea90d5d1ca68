"""The WordNet noun is-a hierarchy, read from the WordNet 3.0 database files.

ImageNet labels are WordNet noun synsets, named by *wnids* such as
``"n02084071"`` (dog): ``"n"`` followed by the 8-digit byte offset of the
synset in ``data.noun``. :class:`WordNet` parses ``data.noun`` directly (the
file of Debian's ``wordnet-base`` package, or any WordNet 3.0 ``dict``
directory), once per process, and provides what zero-shot evaluation on
ImageNet needs: lemma names and glosses, hypernym paths, the hierarchy over a
set of labels for :func:`sk_conse.metrics.hierarchical_precision_at_k_score`,
hop distances, and the "2-hop" / "3-hop" candidate sets of Frome et al.
(2013) and Norouzi et al. (2014). The generic graph it builds is
:class:`sk_conse.hierarchy.Hierarchy`.

Examples
--------
A small ``data.noun`` (WordNet's format, hypothetical offsets):

>>> import os, tempfile
>>> from sk_conse.wordnet import WordNet
>>> records = [
...     "00000001 03 n 01 entity 0 002 ~ 00000002 n 0000 ~ 00000003 n 0000"
...     " | the root",
...     "00000002 05 n 01 dog 0 001 @ 00000001 n 0000 | a dog",
...     "00000003 05 n 02 cat 0 true_cat 0 001 @ 00000001 n 0000 | a cat",
... ]
>>> folder = tempfile.mkdtemp()
>>> with open(os.path.join(folder, "data.noun"), "w") as file:
...     _ = file.write("\\n".join(records) + "\\n")
>>> wn = WordNet(folder)
>>> wn.lemma_names("n00000003")
['cat', 'true_cat']
>>> wn.gloss("n00000002")
'a dog'
>>> wn.hypernym_paths("n00000002")
[['n00000001', 'n00000002']]
>>> wn.hop_distance("n00000002", "n00000003")
2
>>> sorted(wn.hierarchy_for(["n00000002"]).edges())
[('n00000001', 'n00000002')]
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from ._docstrings import fill_doc
from ._formatting import label_repr, name_some
from ._hierarchy import Hierarchy

__all__ = ["WORDNET_ROOT", "WordNet"]

#: The wnid of ``entity``, the root of the WordNet 3.0 noun hierarchy.
WORDNET_ROOT = "n00001740"

_DEFAULT_DIR = Path("/usr/share/wordnet")
_WNID = re.compile(r"n\d{8}")
# A noun pointer "symbol offset n source/target" to a hypernym (@) or an
# instance hypernym (@i).
_HYPERNYM = re.compile(r" @i? (\d{8}) n ")
_INSTALL_HINT = (
    "On Debian or Ubuntu install it with `apt-get install wordnet-base`, or "
    "point path= (or the WNHOME environment variable) at a WordNet 3.0 "
    "directory holding data.noun (or dict/data.noun)."
)


class _NounData(NamedTuple):
    lemmas: dict[str, tuple[str, ...]]
    glosses: dict[str, str]
    hypernyms: dict[str, tuple[str, ...]]
    hyponyms: dict[str, tuple[str, ...]]
    #: Undirected is-a adjacency: hypernyms then hyponyms of each synset.
    neighbours: dict[str, tuple[str, ...]]


def _candidate_files(path: str | os.PathLike | None) -> list[Path]:
    if path is not None:
        path = Path(path)
        if path.is_file():
            return [path]
        return [path / "data.noun", path / "dict" / "data.noun"]
    candidates = []
    if os.environ.get("WNSEARCHDIR"):
        candidates.append(Path(os.environ["WNSEARCHDIR"]) / "data.noun")
    if os.environ.get("WNHOME"):
        home = Path(os.environ["WNHOME"])
        candidates += [home / "dict" / "data.noun", home / "data.noun"]
    candidates.append(_DEFAULT_DIR / "data.noun")
    return candidates


def _find_data_noun(path: str | os.PathLike | None) -> Path:
    candidates = _candidate_files(path)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    looked = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"The WordNet noun database data.noun was not found (looked for {looked}). "
        f"{_INSTALL_HINT}"
    )


def _bad_record(
    path: str, kind: str, line_number: int, line: str, exc: Exception
) -> ValueError:
    """The error for a line of a WordNet database file that does not parse."""
    return ValueError(
        f"{path}, line {line_number}, is not a WordNet {kind} record ({exc}): "
        f"{line[:80]!r}"
    )


@functools.lru_cache(maxsize=4)
def _parse_data_noun(path: str, mtime_ns: int, size: int) -> _NounData:
    """Parse a WordNet ``data.noun`` file (see wndb(5WN)).

    ``mtime_ns`` and ``size`` are part of the cache key only, so that a
    rewritten file is parsed again.
    """
    lemmas: dict[str, tuple[str, ...]] = {}
    glosses: dict[str, str] = {}
    hypernyms: dict[str, tuple[str, ...]] = {}
    with open(path, encoding="utf-8", errors="replace") as file:
        lines = file.read().splitlines()
    findall = _HYPERNYM.findall
    for line_number, line in enumerate(lines, start=1):
        if not line or line[0] == " ":  # license header lines start with spaces
            continue
        head, _, gloss = line.partition(" | ")
        try:
            offset, _, ss_type, n_words, rest = head.split(" ", 4)
            if ss_type != "n":
                raise ValueError(f"synset type {ss_type!r}, not a noun 'n'")
            n_words = 2 * int(n_words, 16)
            fields = rest.split(" ", n_words)
            pointers = fields[n_words]
            if len(offset) != 8 or not offset.isdigit() or not pointers[:3].isdigit():
                raise ValueError("bad offset or pointer count")
        except (IndexError, ValueError) as exc:
            raise _bad_record(path, "data.noun", line_number, line, exc) from exc
        wnid = "n" + offset
        lemmas[wnid] = tuple(fields[0:n_words:2])
        glosses[wnid] = gloss
        parents = findall(pointers)
        if parents:
            hypernyms[wnid] = tuple(["n" + parent for parent in parents])
    if not lemmas:
        raise ValueError(
            f"{path} holds no noun synset: it is empty or not WordNet's "
            f"data.noun. {_INSTALL_HINT}"
        )
    dangling = [
        (wnid, parent)
        for wnid, parents in hypernyms.items()
        for parent in parents
        if parent not in lemmas
    ]
    if dangling:
        wnid, parent = dangling[0]
        raise ValueError(
            f"{path} is truncated or damaged: {len(dangling)} hypernym pointer(s) "
            f"lead to synsets it does not hold (the first: {wnid} -> {parent}). "
            f"Reinstall it. {_INSTALL_HINT}"
        )
    # Hyponym pointers (~, ~i) mirror the hypernym pointers in WordNet 3.0,
    # so the children are derived from the parents rather than parsed.
    hyponyms: dict[str, list[str]] = {}
    for child, parents in hypernyms.items():
        for parent in parents:
            if parent in hyponyms:
                hyponyms[parent].append(child)
            else:
                hyponyms[parent] = [child]
    children = {parent: tuple(kids) for parent, kids in hyponyms.items()}
    return _NounData(
        lemmas=lemmas,
        glosses=glosses,
        hypernyms=hypernyms,
        hyponyms=children,
        neighbours={
            wnid: hypernyms.get(wnid, ()) + children.get(wnid, ()) for wnid in lemmas
        },
    )


def _normalise_name(name: str) -> str:
    """A lemma as index.noun spells it: lower case, ``_`` between words."""
    return "_".join(name.lower().replace("_", " ").split())


@functools.lru_cache(maxsize=4)
def _parse_index_noun(
    path: str, mtime_ns: int, size: int
) -> dict[str, tuple[str, ...]]:
    """Parse a WordNet ``index.noun`` file: lemma -> wnids, most frequent first.

    Each record is ``lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt
    tagsense_cnt synset_offset [synset_offset...]`` (wndb(5WN)); the offsets
    are ordered by sense frequency (the tagged sense counts of SemCor).
    """
    index: dict[str, tuple[str, ...]] = {}
    with open(path, encoding="utf-8", errors="replace") as file:
        for line_number, line in enumerate(file, start=1):
            if not line.strip() or line[0] == " ":  # license header
                continue
            fields = line.split()
            try:
                n_synsets, n_pointers = int(fields[2]), int(fields[3])
                offsets = fields[4 + n_pointers + 2 :]
                if len(offsets) != n_synsets or not all(
                    len(o) == 8 and o.isdigit() for o in offsets
                ):
                    raise ValueError("bad synset offsets")
            except (IndexError, ValueError) as exc:
                raise _bad_record(path, "index.noun", line_number, line, exc) from exc
            index[fields[0].lower()] = tuple("n" + o for o in offsets)
    return index


# The two directions of an is-a edge. Each example asks whether dog
# (n02084071) and canine (n02083346) are related that way.
_DIRECTIONS = {
    "hypernyms": ("parents", "the root", "n02084071", "n02083346"),
    "hyponyms": ("children", "a leaf", "n02083346", "n02084071"),
}


def _direct_relatives(relation: str) -> Callable:
    """The method ``WordNet.<relation>``: the synsets one is-a edge away from
    a synset, in one direction (``"hypernyms"`` or ``"hyponyms"``)."""
    whom, none_for, example_wnid, example_relative = _DIRECTIONS[relation]

    def relatives(self, wnid: str) -> list[str]:
        return list(getattr(self._data, relation).get(self._check(wnid), ()))

    relatives.__name__ = relation
    relatives.__qualname__ = f"WordNet.{relation}"
    relatives.__doc__ = f"""Direct {relation} (instance ones included) of a synset.

        %(parameters_wnid)s

        Returns
        -------
        wnids : list of str
            The {whom}, in file order; empty for {none_for}.

        Examples
        --------
        %(example_wordnet)s
        >>> "{example_relative}" in wn.{relation}("{example_wnid}")
        True
        """
    return relatives


@fill_doc
class WordNet:
    """The WordNet 3.0 noun hierarchy, keyed by ImageNet-style wnids.

    Parses ``data.noun`` once per process (later instances for the same file
    share the parsed data; about a second for the 82,115 noun synsets).
    Hypernym pointers (``@``) and instance hypernym pointers (``@i``) are
    both is-a edges; hyponyms (``~``, ``~i``), which mirror them in WordNet
    3.0, are derived from them.

    Parameters
    ----------
    path : str or path-like, default=None
        The ``data.noun`` file, or a directory holding ``data.noun`` or
        ``dict/data.noun``. If None: ``$WNSEARCHDIR/data.noun``, then
        ``$WNHOME/dict/data.noun`` and ``$WNHOME/data.noun``, then
        ``/usr/share/wordnet/data.noun`` (Debian's ``wordnet-base``).

    Attributes
    ----------
    path : pathlib.Path
        The ``data.noun`` file read.

    Raises
    ------
    FileNotFoundError
        If no ``data.noun`` is found; the message gives the install command
        ``apt-get install wordnet-base``.
    ValueError
        If the file is not a WordNet ``data.noun`` file.

    See Also
    --------
    sk_conse.metrics.hierarchical_precision_at_k_score : Uses the hierarchy
        from :meth:`hierarchy_for`.

    References
    ----------
    .. [1] G. A. Miller. "WordNet: A Lexical Database for English".
       Communications of the ACM 38(11), 1995. File format: wndb(5WN).
    .. [2] %(frome2013)s
    .. [3] %(norouzi2014)s

    Examples
    --------
    The real WordNet 3.0 (Debian's ``wordnet-base``; the module's docstring
    shows the format on a small file):

    >>> from sk_conse.wordnet import WordNet
    >>> wn = WordNet()  # apt-get install wordnet-base
    >>> wn.lemma_names("n02084071")
    ['dog', 'domestic_dog', 'Canis_familiaris']
    >>> wn.hop_distance("n02084071", "n02114100")  # dog, wolf
    2
    >>> wn.lookup("hot dog")[1]
    ('n07697537', ['hotdog', 'hot_dog', 'red_hot'])
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = _find_data_noun(path)
        stat = self.path.stat()
        self._data = _parse_data_noun(str(self.path), stat.st_mtime_ns, stat.st_size)

    def __repr__(self) -> str:
        return f"WordNet('{self.path}')"

    def __len__(self) -> int:
        return len(self._data.lemmas)

    def __contains__(self, wnid: object) -> bool:
        return wnid in self._data.lemmas

    @property
    def wnids(self) -> list[str]:
        """All noun synset ids, sorted."""
        return sorted(self._data.lemmas)

    def _check(self, wnid: Any) -> str:
        if wnid in self._data.lemmas:
            return str(wnid)
        if not isinstance(wnid, str) or not _WNID.fullmatch(wnid):
            raise ValueError(
                f"{label_repr(wnid)} is not a WordNet noun id: expected 'n' "
                f"followed by the 8-digit offset of the synset, such as "
                f"'n02084071' (dog)."
            )
        raise ValueError(f"{label_repr(wnid)} is not a noun synset of {self.path}.")

    def _check_many(self, wnids: Iterable[Any], name: str) -> list[str]:
        if isinstance(wnids, str):
            raise TypeError(
                f"{name} must be an iterable of wnids, not a single string; "
                f"wrap it in a list: [{wnids!r}]."
            )
        return [self._check(w) for w in wnids]

    def lemma_names(self, wnid: str) -> list[str]:
        """The words of a synset, as written in WordNet (``_`` for spaces).

        %(parameters_wnid)s

        Returns
        -------
        names : list of str
            The lemma names, most frequent sense first.

        Examples
        --------
        %(example_wordnet)s
        >>> wn.lemma_names("n02084071")
        ['dog', 'domestic_dog', 'Canis_familiaris']
        """
        return list(self._data.lemmas[self._check(wnid)])

    def gloss(self, wnid: str) -> str:
        """The definition (and examples) of a synset.

        %(parameters_wnid)s

        Returns
        -------
        gloss : str
            The gloss of the synset.

        Examples
        --------
        %(example_wordnet)s
        >>> wn.gloss("n00001740")[:25]
        'that which is perceived o'
        """
        return self._data.glosses[self._check(wnid)].strip()

    hypernyms = _direct_relatives("hypernyms")
    hyponyms = _direct_relatives("hyponyms")

    def hypernym_paths(self, wnid: str) -> list[list[str]]:
        """Every is-a path from a root down to a synset.

        %(parameters_wnid)s

        Returns
        -------
        paths : list of list of str
            Each path starts at a root (``entity``, ``"n00001740"``, in
            WordNet 3.0) and ends at ``wnid``; one path per way up.

        Examples
        --------
        %(example_wordnet)s
        >>> paths = wn.hypernym_paths("n02084071")
        >>> any("n00015388" in path for path in paths)  # animal
        True
        """
        memo: dict[str, list[list[str]]] = {}
        hypernyms = self._data.hypernyms

        def paths_to(node: str) -> list[list[str]]:
            if node not in memo:
                parents = hypernyms.get(node, ())
                if not parents:
                    memo[node] = [[node]]
                else:
                    memo[node] = [
                        [*path, node] for parent in parents for path in paths_to(parent)
                    ]
            return memo[node]

        return [list(path) for path in paths_to(self._check(wnid))]

    def ancestors(self, wnids: Iterable[str]) -> set[str]:
        """The given synsets and all their hypernyms, up to the root.

        Parameters
        ----------
        wnids : iterable of str
            Noun synset ids.

        Returns
        -------
        closure : set of str
            The upward closure, ``wnids`` included.

        Examples
        --------
        %(example_wordnet)s
        >>> "n00001740" in wn.ancestors(["n02084071"])
        True
        """
        closure: set[str] = set()
        stack = self._check_many(wnids, "wnids")
        hypernyms = self._data.hypernyms
        while stack:
            node = stack.pop()
            if node not in closure:
                closure.add(node)
                stack.extend(hypernyms.get(node, ()))
        return closure

    def hierarchy_for(self, wnids: Iterable[str]) -> Any:
        """The is-a hierarchy of some synsets, as a networkx DiGraph.

        Parameters
        ----------
        wnids : iterable of str
            Noun synset ids, such as the candidate labels of a zero-shot
            task.

        Returns
        -------
        hierarchy : networkx.DiGraph
            Edges parent -> child over ``wnids`` and all their ancestors, up
            to the root ``entity``. Each node has a ``name`` attribute, its
            first lemma. It holds no descendant of ``wnids`` and no other
            synset, so hop distances in it can be longer than in the whole
            WordNet: for hierarchical precision@k as defined by Frome et al.
            and Norouzi et al., pass the :class:`WordNet` itself to
            :func:`sk_conse.metrics.hierarchical_precision_at_k_score`, not
            this graph.

        Raises
        ------
        ImportError
            If networkx is not installed (``pip install sk_conse[hierarchy]``).

        Examples
        --------
        %(example_wordnet)s
        >>> graph = wn.hierarchy_for(["n02084071"])
        >>> graph.has_edge("n02083346", "n02084071")  # canine -> dog
        True
        """
        try:
            import networkx as nx
        except ImportError as exc:  # pragma: no cover - networkx is installed
            raise ImportError(
                "hierarchy_for needs networkx: pip install 'sk_conse[hierarchy]'."
            ) from exc
        closure = self.ancestors(wnids)
        graph = nx.DiGraph()
        for node in sorted(closure):
            graph.add_node(node, name=self._data.lemmas[node][0])
        for node in sorted(closure):
            for parent in self._data.hypernyms.get(node, ()):
                graph.add_edge(parent, node)
        return graph

    def hierarchy(self) -> Hierarchy:
        """The whole noun is-a hierarchy as a :class:`Hierarchy`.

        Built once, when the file is parsed; hypernym and hyponym edges
        (instance ones included) are followed in both directions.

        Returns
        -------
        hierarchy : Hierarchy
            Nodes are the wnids of every noun synset.

        See Also
        --------
        hierarchy_for : The hierarchy over some synsets and their ancestors
            only, as a networkx graph.

        Examples
        --------
        %(example_wordnet)s
        >>> h = wn.hierarchy()
        >>> len(h)
        82115
        >>> h.hop_distance("n02084071", "n02114100")  # dog, wolf
        2
        """
        return Hierarchy._wrap(self._data.neighbours, where=str(self.path))

    def hierarchy_for_names(
        self, names: Iterable[Any], overrides: Mapping[Any, str] | None = None
    ) -> Hierarchy:
        """The is-a hierarchy over class names, with the names as its nodes.

        Each name is looked up in WordNet (:meth:`lookup`: case, spaces and
        underscores ignored) and stands for its most frequent noun sense;
        ``overrides`` gives the synset of the names that do not resolve, or
        resolve to the wrong sense, as a wnid (``"n03595614"``) or a word to
        look up instead (``"T-shirt"``). The hierarchy holds the class names
        and all the ancestors of their synsets (as wnids), ready for
        :func:`sk_conse.metrics.hierarchical_precision_at_k_score` with the
        class names as labels. Hops are counted through those ancestors only
        (no descendant or other synset is a node), as for
        :meth:`hierarchy_for`.

        Parameters
        ----------
        names : iterable of str
            Class names, such as a dataset's ``target_names``.
        overrides : mapping name -> str, default=None
            The synset of some names: a wnid or a word or phrase to look up.

        Returns
        -------
        hierarchy : Hierarchy
            Nodes: the names, and the wnids of their ancestors.

        Raises
        ------
        ValueError
            Listing every name that has no noun synset (with an
            ``overrides`` line to fix it), or names that resolve to the same
            synset.

        Examples
        --------
        %(example_wordnet)s
        >>> h = wn.hierarchy_for_names(
        ...     ["Sandal", "Sneaker", "Ankle boot", "Shirt"],
        ...     overrides={"Ankle boot": "boot"},
        ... )
        >>> h.hop_distance("Sandal", "Sneaker"), h.hop_distance("Sandal", "Shirt")
        (2, 6)
        """
        if isinstance(names, str):
            raise TypeError(
                "names must be an iterable of class names, not a single string; "
                f"wrap it in a list: [{names!r}]."
            )
        names = list(names)
        overrides = dict(overrides or {})
        unknown = [key for key in overrides if key not in names]
        if unknown:
            raise ValueError(
                f"overrides has names that are not among the class names: "
                f"{name_some(unknown)}. Its keys must be class names."
            )
        wnid_of: dict[Any, str] = {}
        unresolved = []
        for name in names:
            target = overrides.get(name, name)
            if not isinstance(target, str):
                raise TypeError(
                    f"Class name {label_repr(name)} is not a string: give its "
                    "synset in overrides, as a wnid or a word to look up."
                )
            if target in self._data.lemmas:
                wnid_of[name] = target
                continue
            senses = self.lookup(target)
            if senses:
                wnid_of[name] = senses[0][0]
            else:
                unresolved.append(name)
        if unresolved:
            example = ", ".join(f"{label_repr(name)}: '...'" for name in unresolved[:3])
            raise ValueError(
                f"{len(unresolved)} class name(s) have no WordNet noun synset: "
                f"{name_some(unresolved)}. Give each one a synset with "
                f"overrides={{{example}}}, as a wnid such as 'n03595614' or a "
                "word that WordNet knows (see WordNet.lookup)."
            )
        shared: dict[str, list] = {}
        for name, wnid in wnid_of.items():
            shared.setdefault(wnid, []).append(name)
        clashes = [group for group in shared.values() if len(group) > 1]
        if clashes:
            raise ValueError(
                "Some class names resolve to the same WordNet synset: "
                + "; ".join(
                    f"{name_some(group)} -> {wnid_of[group[0]]}" for group in clashes
                )
                + ". Give all but one of each group another synset in overrides."
            )
        node_of = {wnid: name for name, wnid in wnid_of.items()}
        parents = {}
        for wnid in self.ancestors(wnid_of.values()):
            parents[node_of.get(wnid, wnid)] = [
                node_of.get(p, p) for p in self._data.hypernyms.get(wnid, ())
            ]
        return Hierarchy(parents)

    def lookup(self, name: str) -> list[tuple[str, list[str]]]:
        """The noun synsets that have ``name`` as a lemma, most frequent first.

        The match ignores case and treats spaces and underscores alike
        ("Hot dog", "hot_dog"). Synsets come in the order of WordNet's
        ``index.noun``, by sense frequency; without an ``index.noun`` next to
        ``data.noun``, in file order.

        Parameters
        ----------
        name : str
            A word or phrase, such as ``"dog"`` or ``"golden retriever"``.

        Returns
        -------
        synsets : list of (str, list of str)
            Each synset's wnid and lemma names; empty when no noun synset
            has that lemma.

        Examples
        --------
        %(example_wordnet)s
        >>> wn.lookup("Dog")[0]
        ('n02084071', ['dog', 'domestic_dog', 'Canis_familiaris'])
        >>> [wnid for wnid, _ in wn.lookup("hot dog")]
        ['n10187710', 'n07697537', 'n07676602']
        >>> wn.lookup("no such thing")
        []
        """
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {type(name).__name__}.")
        key = _normalise_name(name)
        index_file = self.path.with_name("index.noun")
        if index_file.is_file():
            stat = index_file.stat()
            index = _parse_index_noun(str(index_file), stat.st_mtime_ns, stat.st_size)
            wnids = [w for w in index.get(key, ()) if w in self._data.lemmas]
        else:
            wnids = [
                wnid
                for wnid, lemmas in self._data.lemmas.items()
                if any(_normalise_name(lemma) == key for lemma in lemmas)
            ]
        return [(wnid, list(self._data.lemmas[wnid])) for wnid in wnids]

    def wnids_within_hops(
        self, seed_wnids: Iterable[str], hops: int, *, include_seeds: bool = True
    ) -> list[str]:
        """Synsets within ``hops`` is-a edges of any of the seed synsets.

        Edges are followed in both directions (hypernyms and hyponyms), as
        for the "2-hop" and "3-hop" ImageNet test sets of Frome et al. (2013)
        and Norouzi et al. (2014): labels within 2 or 3 tree hops of the
        1,000 training labels. Those sets further drop the training labels
        (``include_seeds=False``) and keep only labels that have images.

        Parameters
        ----------
        seed_wnids : iterable of str
            Noun synset ids to start from.
        %(hops_include_seeds)s

        Returns
        -------
        wnids : list of str
            Sorted synset ids.

        Examples
        --------
        %(example_wordnet)s
        >>> "n02114100" in wn.wnids_within_hops(["n02084071"], 2)
        True
        """
        seeds = self._check_many(seed_wnids, "seed_wnids")
        return sorted(
            self.hierarchy().within_hops(seeds, hops, include_seeds=include_seeds)
        )

    def hop_distance(self, wnid_a: str, wnid_b: str) -> int:
        """Number of edges on a shortest path in the undirected is-a graph.

        Parameters
        ----------
        wnid_a, wnid_b : str
            Noun synset ids.

        Returns
        -------
        distance : int
            0 for the same synset; 2 for siblings.

        Raises
        ------
        ValueError
            If the synsets are not connected (never in WordNet 3.0, whose
            nouns all descend from ``entity``).

        Examples
        --------
        %(example_wordnet)s
        >>> wn.hop_distance("n02084071", "n02121620")  # dog, cat
        3
        """
        return self.hierarchy().hop_distance(self._check(wnid_a), self._check(wnid_b))
