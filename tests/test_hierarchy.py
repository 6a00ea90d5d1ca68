"""Tests for sk_conse.hierarchy: the WordNet noun hierarchy."""

import os
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from sk_conse.datasets import FASHION_MNIST_CLASSES
from sk_conse.hierarchy import WORDNET_ROOT, Hierarchy, WordNet
from sk_conse.metrics import hierarchical_precision_at_k_score

DEBIAN_DATA_NOUN = Path("/usr/share/wordnet/data.noun")

# A synthetic data.noun in WordNet's format (wndb(5WN)), with a license-style
# header, a non-noun pointer (+ ... v), a meronym (#m), an instance hypernym
# (@i) and a synset with two parents (dog: canine and pet).
#
#   entity(1) -> animal(2) -> canine(3) -> dog(5), wolf(6)
#                          -> pet(4)    -> dog(5)
#                          -> feline(7) -> cat(8)
#             -> person(9)  ~i>  Rex(10)  (an instance)
SYNTHETIC = """\
  1 This software and database is being provided to you, the LICENSEE, by
  2 a synthetic test file.
00000001 03 n 01 entity 0 002 ~ 00000002 n 0000 ~ 00000009 n 0000 | the root
00000002 05 n 02 animal 0 beast 0 004 @ 00000001 n 0000 ~ 00000003 n 0000 \
~ 00000004 n 0000 ~ 00000007 n 0000 | a living organism
00000003 05 n 01 canine 0 003 @ 00000002 n 0000 ~ 00000005 n 0000 \
~ 00000006 n 0000 | a dog-like animal
00000004 05 n 01 pet 0 002 @ 00000002 n 0000 ~ 00000005 n 0000 | a kept animal
00000005 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 004 @ 00000003 n 0000 \
@ 00000004 n 0000 #m 00000003 n 0000 + 00000099 v 0101 | a member of the genus Canis; \
"the dog barked"
00000006 05 n 01 wolf 0 001 @ 00000003 n 0000 | a wild canine
00000007 05 n 01 feline 0 002 @ 00000002 n 0000 ~ 00000008 n 0000 | a cat-like animal
00000008 05 n 01 cat 0 001 @ 00000007 n 0000 | a small feline
00000009 18 n 01 person 0 002 @ 00000001 n 0000 ~i 00000010 n 0000 | a human
00000010 18 n 01 Rex 0 001 @i 00000009 n 0000 | a particular person
"""

ENTITY, ANIMAL, CANINE, PET, DOG, WOLF, FELINE, CAT, PERSON, REX = (
    f"n{i:08d}" for i in range(1, 11)
)


@pytest.fixture
def wordnet_dir(tmp_path):
    (tmp_path / "data.noun").write_text(SYNTHETIC)
    return tmp_path


@pytest.fixture
def wn(wordnet_dir):
    return WordNet(wordnet_dir)


requires_wordnet = pytest.mark.skipif(
    not DEBIAN_DATA_NOUN.is_file(),
    reason="WordNet 3.0 files missing: apt-get install wordnet-base",
)


# ---------------------------------------------------------------------------
# Synthetic data.noun
# ---------------------------------------------------------------------------


def test_parses_records_and_skips_the_header(wn):
    assert len(wn) == 10
    assert wn.wnids == [f"n{i:08d}" for i in range(1, 11)]
    assert DOG in wn
    assert "n00000099" not in wn


def test_lemma_names_and_gloss(wn):
    assert wn.lemma_names(DOG) == ["dog", "domestic_dog", "Canis_familiaris"]
    assert wn.lemma_names(ANIMAL) == ["animal", "beast"]
    assert wn.gloss(DOG) == 'a member of the genus Canis; "the dog barked"'


def test_hypernyms_and_hyponyms_follow_noun_is_a_pointers_only(wn):
    assert wn.hypernyms(DOG) == [CANINE, PET]  # not the meronym, not the verb
    assert wn.hypernyms(ENTITY) == []
    assert wn.hypernyms(REX) == [PERSON]  # instance hypernym
    assert wn.hyponyms(CANINE) == [DOG, WOLF]
    assert wn.hyponyms(PERSON) == [REX]
    assert wn.hyponyms(CAT) == []


def test_hypernym_paths(wn):
    assert wn.hypernym_paths(DOG) == [
        [ENTITY, ANIMAL, CANINE, DOG],
        [ENTITY, ANIMAL, PET, DOG],
    ]
    assert wn.hypernym_paths(ENTITY) == [[ENTITY]]


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        (DOG, DOG, 0),
        (DOG, CANINE, 1),
        (DOG, WOLF, 2),
        (DOG, ANIMAL, 2),
        (DOG, CAT, 4),
        (CAT, REX, 5),
        (WOLF, PET, 3),
    ],
)
def test_hop_distance(wn, a, b, distance):
    assert wn.hop_distance(a, b) == distance
    assert wn.hop_distance(b, a) == distance


def test_hop_distance_agrees_with_networkx(wn):
    graph = nx.Graph((p, c) for c in wn.wnids for p in wn.hypernyms(c))
    for a in wn.wnids:
        for b in wn.wnids:
            assert wn.hop_distance(a, b) == nx.shortest_path_length(graph, a, b)


def test_hierarchy_for_is_the_upward_closure(wn):
    graph = wn.hierarchy_for([DOG, CAT])
    assert isinstance(graph, nx.DiGraph)
    assert set(graph) == {ENTITY, ANIMAL, CANINE, PET, DOG, FELINE, CAT}
    assert set(graph.edges) == {
        (ENTITY, ANIMAL),
        (ANIMAL, CANINE),
        (ANIMAL, PET),
        (ANIMAL, FELINE),
        (CANINE, DOG),
        (PET, DOG),
        (FELINE, CAT),
    }
    assert graph.nodes[DOG]["name"] == "dog"
    assert nx.is_directed_acyclic_graph(graph)


def test_hierarchy_for_feeds_hierarchical_precision(wn):
    labels = [CAT, DOG, WOLF]
    hierarchy = wn.hierarchy_for(labels)
    # dog's nearest other candidate is wolf (2 hops, through canine)
    y_score = [[0.0, 0.5, 1.0]]  # wolf, dog, cat
    score = hierarchical_precision_at_k_score(
        [DOG], y_score, k=2, hierarchy=hierarchy, labels=labels
    )
    assert score == 1.0


@pytest.mark.parametrize(
    ("hops", "expected"),
    [
        (0, {DOG}),
        (1, {DOG, CANINE, PET}),
        (2, {DOG, CANINE, PET, WOLF, ANIMAL}),
        (3, {DOG, CANINE, PET, WOLF, ANIMAL, FELINE, ENTITY}),
    ],
)
def test_wnids_within_hops(wn, hops, expected):
    assert wn.wnids_within_hops([DOG], hops) == sorted(expected)
    assert wn.wnids_within_hops([DOG], hops, include_seeds=False) == sorted(
        expected - {DOG}
    )


def test_wnids_within_hops_of_several_seeds(wn):
    assert wn.wnids_within_hops([WOLF, REX], 1) == sorted({WOLF, CANINE, REX, PERSON})


def test_ancestors(wn):
    assert wn.ancestors([REX]) == {REX, PERSON, ENTITY}


# ---------------------------------------------------------------------------
# Errors, file location, caching
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["dog", "02084071", "n0208407", 2084071, "v02084071"])
def test_bad_wnid_format(wn, bad):
    with pytest.raises(ValueError, match="is not a WordNet noun id"):
        wn.lemma_names(bad)


def test_unknown_wnid(wn):
    with pytest.raises(ValueError, match="'n00000042' is not a noun synset of"):
        wn.gloss("n00000042")


def test_a_single_string_is_not_a_list_of_wnids(wn):
    with pytest.raises(TypeError, match=r"wrap it in a list: \['n00000005'\]"):
        wn.hierarchy_for(DOG)


@pytest.mark.parametrize("hops", [-1, 1.5, True])
def test_bad_hops(wn, hops):
    with pytest.raises(ValueError, match="hops must be a non-negative integer"):
        wn.wnids_within_hops([DOG], hops)


def test_disconnected_synsets(tmp_path):
    (tmp_path / "data.noun").write_text(
        "00000001 03 n 01 a 0 000 | one\n00000002 03 n 01 b 0 000 | two\n"
    )
    with pytest.raises(ValueError, match="are not connected"):
        WordNet(tmp_path).hop_distance("n00000001", "n00000002")


def test_missing_files_say_how_to_install(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install wordnet-base"):
        WordNet(tmp_path)


def test_malformed_file(tmp_path):
    (tmp_path / "data.noun").write_text("00000001 03 n zz entity\n")
    with pytest.raises(ValueError, match=r"line 1, is not a WordNet data.noun record"):
        WordNet(tmp_path)


def test_path_may_be_the_file_or_a_dict_folder(wordnet_dir, tmp_path_factory):
    assert len(WordNet(wordnet_dir / "data.noun")) == 10
    home = tmp_path_factory.mktemp("wnhome")
    (home / "dict").mkdir()
    (home / "dict" / "data.noun").write_text(SYNTHETIC)
    assert len(WordNet(home)) == 10


def test_wnhome_is_honoured(wordnet_dir, monkeypatch):
    monkeypatch.delenv("WNSEARCHDIR", raising=False)
    monkeypatch.setenv("WNHOME", os.fspath(wordnet_dir))
    wn = WordNet()
    assert wn.path == (wordnet_dir / "data.noun").resolve()
    assert repr(wn) == f"WordNet('{wn.path}')"


def test_parsed_once_per_file(wordnet_dir):
    first, second = WordNet(wordnet_dir), WordNet(wordnet_dir)
    assert first._data is second._data


def test_rewritten_file_is_parsed_again(wordnet_dir):
    first = WordNet(wordnet_dir)
    path = wordnet_dir / "data.noun"
    path.write_text(SYNTHETIC + "00000011 03 n 01 extra 0 000 | new\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert len(WordNet(wordnet_dir)) == len(first) + 1


# ---------------------------------------------------------------------------
# The real WordNet 3.0 files (Debian's wordnet-base)
# ---------------------------------------------------------------------------

DOG_ = "n02084071"
CANINE_ = "n02083346"
DOMESTIC_ANIMAL_ = "n01317541"
WOLF_ = "n02114100"
CAT_ = "n02121620"
ANIMAL_ = "n00015388"


@pytest.fixture(scope="module")
def wordnet():
    if not DEBIAN_DATA_NOUN.is_file():
        pytest.skip("WordNet 3.0 files missing: apt-get install wordnet-base")
    return WordNet(DEBIAN_DATA_NOUN)


@requires_wordnet
def test_real_wordnet_size_and_root(wordnet):
    assert len(wordnet) == 82115
    assert wordnet.lemma_names(WORDNET_ROOT) == ["entity"]
    assert wordnet.hypernyms(WORDNET_ROOT) == []


@requires_wordnet
def test_real_wordnet_dog(wordnet):
    assert wordnet.lemma_names(DOG_) == ["dog", "domestic_dog", "Canis_familiaris"]
    assert wordnet.hypernyms(DOG_) == [CANINE_, DOMESTIC_ANIMAL_]
    assert wordnet.gloss(DOG_).startswith("a member of the genus Canis")
    paths = wordnet.hypernym_paths(DOG_)
    assert all(path[0] == WORDNET_ROOT and path[-1] == DOG_ for path in paths)
    assert any(ANIMAL_ in path for path in paths)


@requires_wordnet
def test_real_wordnet_instance_hypernym(wordnet):
    # 10954498 Einstein: @i 10428004 (physicist)
    assert wordnet.hypernyms("n10954498") == ["n10428004"]
    assert "n10954498" in wordnet.hyponyms("n10428004")


@requires_wordnet
@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        # from data.noun: dog @ canine, dog @ domestic_animal, wolf @ canine,
        # domestic_animal @ animal, domestic_cat @ cat, domestic_cat @
        # domestic_animal
        (DOG_, CANINE_, 1),
        (DOG_, WOLF_, 2),  # dog - canine - wolf
        (DOG_, ANIMAL_, 2),  # dog - domestic_animal - animal
        (DOG_, CAT_, 3),  # dog - domestic_animal - domestic_cat - cat
    ],
)
def test_real_wordnet_hop_distance(wordnet, a, b, distance):
    assert wordnet.hop_distance(a, b) == distance


@requires_wordnet
def test_real_wordnet_pointers_mirror_each_other(wordnet):
    # hyponyms are derived from hypernyms: check them against the ~ pointers
    expected = {}
    with open(DEBIAN_DATA_NOUN) as file:
        for line in file:
            if line[0] == " ":
                continue
            fields = line.split(" | ")[0].split()
            expected["n" + fields[0]] = sorted(
                "n" + fields[i + 1]
                for i in range(len(fields) - 3)
                if fields[i] in ("~", "~i") and fields[i + 2] == "n"
            )
    assert all(sorted(wordnet.hyponyms(w)) == expected[w] for w in expected)


@requires_wordnet
def test_real_wordnet_hierarchy_and_hops(wordnet):
    graph = wordnet.hierarchy_for([DOG_, CAT_])
    assert nx.is_directed_acyclic_graph(graph)
    assert [n for n in graph if graph.in_degree(n) == 0] == [WORDNET_ROOT]
    assert graph.has_edge(CANINE_, DOG_)
    near = wordnet.wnids_within_hops([DOG_], 2, include_seeds=False)
    assert WOLF_ in near
    assert ANIMAL_ in near
    assert DOG_ not in near
    assert CAT_ not in near
    assert CAT_ in wordnet.wnids_within_hops([DOG_], 3)
    assert all(
        wordnet.hop_distance(DOG_, w) <= 2
        for w in np.random.default_rng(0).choice(near, 20)
    )


# ---------------------------------------------------------------------------
# Hierarchy: the one undirected hierarchy type
# ---------------------------------------------------------------------------

# canine -> dog, wolf; pet -> dog; feline -> cat; animal -> canine, feline, pet
MAPPING = {
    "dog": ["canine", "pet"],
    "wolf": "canine",
    "cat": ("feline",),
    "canine": "animal",
    "pet": "animal",
    "feline": "animal",
    "animal": None,
    "ufo": [],
}


def test_hierarchy_from_mapping_and_graph_agree():
    graph = nx.DiGraph(
        (parent, child)
        for child, parents in MAPPING.items()
        for parent in ([parents] if isinstance(parents, str) else parents or [])
    )
    graph.add_node("ufo")
    a, b = Hierarchy(MAPPING), Hierarchy(graph)
    assert set(a.nodes) == set(b.nodes) == set(MAPPING)
    for node in MAPPING:
        assert sorted(a.neighbours(node)) == sorted(b.neighbours(node))
    assert repr(a) == "Hierarchy(n_nodes=8, n_edges=7)"
    assert len(a) == 8


def test_hierarchy_none_and_empty_parents_add_no_node():
    h = Hierarchy({"a": None, "b": [], "c": set()})
    assert sorted(h.nodes) == ["a", "b", "c"]
    assert None not in h
    with pytest.raises(ValueError, match=r"^'a' and 'b' are not connected in the "):
        h.hop_distance("a", "b")


def test_hierarchy_none_inside_the_parents_is_refused():
    with pytest.raises(
        ValueError, match=r"^hierarchy\['dog'\] lists None among its parents"
    ):
        Hierarchy({"dog": ["canine", None]})


@pytest.mark.parametrize(
    ("hierarchy", "match"),
    [
        (
            {"dog": [{"canine"}]},
            r"^hierarchy\['dog'\] lists a parent that is not hashable: "
            r"\{'canine'\} \(set\)\. Hierarchy nodes must be hashable",
        ),
        (
            {"dog": [["canine"], "pet"]},
            r"^hierarchy\['dog'\] lists a parent that is not hashable: "
            r"\['canine'\] \(list\)",
        ),
    ],
)
def test_hierarchy_unhashable_nodes_are_named(hierarchy, match):
    with pytest.raises(TypeError, match=match):
        Hierarchy(hierarchy)


@pytest.mark.parametrize(
    ("hierarchy", "context"),
    [
        ({float("nan"): "animal"}, "The hierarchy has a node"),
        ({"dog": [np.float64("nan")]}, r"hierarchy\['dog'\] lists a parent"),
        ({"dog": float("nan")}, r"hierarchy\['dog'\] lists a parent"),
        (nx.DiGraph([("animal", float("nan"))]), "The hierarchy has a node"),
    ],
)
def test_hierarchy_nan_nodes_are_refused(hierarchy, context):
    with pytest.raises(
        ValueError, match=rf"^{context} that is NaN\. NaN cannot be a hierarchy node"
    ):
        Hierarchy(hierarchy)


def test_hierarchy_bad_type():
    with pytest.raises(
        TypeError,
        match=r"^hierarchy must be a networkx graph .*, a Hierarchy or a "
        r"WordNet \(anything with a hierarchy\(\) method .*\), got list\.$",
    ):
        Hierarchy([("animal", "dog")])


def test_hierarchy_of_a_hierarchy_shares_it():
    h = Hierarchy(MAPPING)
    assert Hierarchy(h)._neighbours is h._neighbours


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("dog", "dog", 0), ("dog", "wolf", 2), ("dog", "animal", 2), ("wolf", "cat", 4)],
)
def test_hierarchy_hop_distance(a, b, distance):
    h = Hierarchy(MAPPING)
    assert h.hop_distance(a, b) == distance
    assert h.hop_distance(b, a) == distance


def test_hierarchy_unknown_node():
    with pytest.raises(ValueError, match=r"^'zebra' is not a node of the hierarchy\.$"):
        Hierarchy(MAPPING).hop_distance("dog", "zebra")


def test_hierarchy_within_hops():
    h = Hierarchy(MAPPING)
    assert h.within_hops(["dog"], 1) == {"dog", "canine", "pet"}
    assert h.within_hops(["wolf", "ufo"], 2, include_seeds=False) == {
        "canine",
        "dog",
        "animal",
    }
    assert h.within_hops(["dog"], np.int64(0)) == {"dog"}


def test_hierarchy_within_hops_needs_a_list_of_nodes():
    with pytest.raises(TypeError, match=r"wrap it in a list: \['dog'\]"):
        Hierarchy(MAPPING).within_hops("dog", 1)


@pytest.mark.parametrize(
    ("label", "k", "expected"),
    [
        ("dog", 1, {"dog"}),
        ("dog", 2, {"dog", "wolf"}),  # canine and pet are not candidates
        ("dog", 3, {"dog", "wolf", "cat"}),  # 4 hops, through animal
        ("ufo", 5, {"ufo"}),  # nothing reachable
    ],
)
def test_hierarchy_correct_set(label, k, expected):
    candidates = {"dog": 0, "wolf": 1, "cat": 2, "ufo": 3}
    assert Hierarchy(MAPPING).correct_set(label, k, candidates) == expected


def test_wordnet_hierarchy_is_the_whole_noun_graph(wn):
    h = wn.hierarchy()
    assert isinstance(h, Hierarchy)
    assert len(h) == len(wn) == 10
    assert sorted(h.neighbours(DOG)) == sorted([CANINE, PET])
    assert sorted(h.neighbours(PERSON)) == sorted([ENTITY, REX])
    assert Hierarchy(wn)._neighbours is h._neighbours


def test_wordnet_feeds_hierarchical_precision_directly(wn):
    labels = [CAT, DOG, WOLF]
    y_score = [[0.0, 0.5, 1.0]]  # wolf, dog, cat
    assert (
        hierarchical_precision_at_k_score(
            [DOG], y_score, k=2, hierarchy=wn, labels=labels
        )
        == 1.0
    )


# ---------------------------------------------------------------------------
# WordNet.lookup
# ---------------------------------------------------------------------------


def test_lookup_without_index_noun_matches_lemmas_in_file_order(wn):
    assert wn.lookup("dog") == [(DOG, ["dog", "domestic_dog", "Canis_familiaris"])]
    assert wn.lookup("Domestic Dog") == wn.lookup("domestic_dog") == wn.lookup("dog")
    assert wn.lookup("  canis   FAMILIARIS ") == wn.lookup("dog")
    assert wn.lookup("rex") == [(REX, ["Rex"])]
    assert wn.lookup("unicorn") == []


def test_lookup_ranks_by_index_noun(wordnet_dir):
    # index.noun lists pet's synset before dog's: that order wins
    (wordnet_dir / "index.noun").write_text(
        "  1 license header\n"
        f"dog n 2 1 @ 2 0 {PET[1:]} {DOG[1:]}  \n"
        f"wolf n 1 1 @ 1 0 {WOLF[1:]}  \n"
    )
    wn = WordNet(wordnet_dir)
    assert [wnid for wnid, _ in wn.lookup("DOG")] == [PET, DOG]
    assert wn.lookup("cat") == []  # not in index.noun


def test_lookup_bad_index_noun(wordnet_dir):
    (wordnet_dir / "index.noun").write_text("dog n 2 0 2 0 00000005\n")
    with pytest.raises(ValueError, match=r"line 1, is not a WordNet index\.noun"):
        WordNet(wordnet_dir).lookup("dog")


def test_lookup_needs_a_string(wn):
    with pytest.raises(TypeError, match=r"^name must be a string, got int\.$"):
        wn.lookup(3)


@requires_wordnet
def test_real_wordnet_lookup(wordnet):
    found = wordnet.lookup("Dog")
    assert len(found) == 7
    assert found[0] == (DOG_, ["dog", "domestic_dog", "Canis_familiaris"])
    assert wordnet.lookup("golden retriever") == [("n02099601", ["golden_retriever"])]
    assert [w for w, _ in wordnet.lookup("Hot_Dog")] == [
        "n10187710",
        "n07697537",
        "n07676602",
    ]


# ---------------------------------------------------------------------------
# A hierarchy from class names (Fashion-MNIST)
# ---------------------------------------------------------------------------

FASHION_NAMES = list(FASHION_MNIST_CLASSES)


@requires_wordnet
def test_unresolved_names_read_from_an_array_are_shown_as_written():
    # target_names arrays hold np.str_, whose repr is np.str_('T-shirt/top').
    with pytest.raises(ValueError, match="2 class name") as info:
        WordNet().hierarchy_for_names(np.array(FASHION_NAMES))
    message = str(info.value)
    assert "overrides={'T-shirt/top': '...', 'Ankle boot': '...'}" in message
    assert "np.str_" not in message


@requires_wordnet
def test_hierarchy_for_names_lists_every_unresolved_name():
    with pytest.raises(ValueError, match="2 class name") as info:
        WordNet().hierarchy_for_names(FASHION_NAMES)
    message = str(info.value)
    assert "'T-shirt/top'" in message
    assert "'Ankle boot'" in message
    assert "overrides=" in message


@requires_wordnet
def test_hierarchy_for_names_with_overrides_scores_hierarchical_precision():
    h = WordNet().hierarchy_for_names(
        FASHION_NAMES, overrides={"T-shirt/top": "T-shirt", "Ankle boot": "boot"}
    )
    assert set(FASHION_NAMES) <= set(h.nodes)
    assert h.hop_distance("Sandal", "Sneaker") == 2
    assert h.hop_distance("Sandal", "Sneaker") < h.hop_distance("Sandal", "Dress")
    # A near miss (Sandal for Sneaker) scores; a far one (Bag) does not.
    scores = np.zeros((2, len(FASHION_NAMES)))
    scores[0, FASHION_NAMES.index("Sandal")] = 1.0
    scores[0, FASHION_NAMES.index("Sneaker")] = 0.5
    scores[1, FASHION_NAMES.index("Bag")] = 1.0
    scores[1, FASHION_NAMES.index("Trouser")] = 0.5
    score = hierarchical_precision_at_k_score(
        ["Sneaker", "Sneaker"], scores, k=2, hierarchy=h, labels=FASHION_NAMES
    )
    assert score == 0.5


@requires_wordnet
def test_hierarchy_for_names_overrides_take_a_wnid_and_refuse_clashes(wordnet):
    with pytest.raises(ValueError, match="same WordNet synset"):
        wordnet.hierarchy_for_names(["dog", "Dog2"], overrides={"Dog2": "n02084071"})
    h = wordnet.hierarchy_for_names(["dog", "wolf"])
    assert h.hop_distance("dog", "wolf") == 2
    with pytest.raises(ValueError, match="not among the class names"):
        wordnet.hierarchy_for_names(["dog"], overrides={"cat": "cat"})


def test_from_class_names_is_deprecated_for_hierarchy_for_names(wordnet):
    expected = wordnet.hierarchy_for_names(["dog", "wolf"], {"wolf": "n02114100"})
    with pytest.warns(FutureWarning, match=r"WordNet\(\)\.hierarchy_for_names"):
        h = Hierarchy.from_class_names(
            ["dog", "wolf"], {"wolf": "n02114100"}, wordnet=wordnet
        )
    assert isinstance(h, Hierarchy)
    assert h._neighbours == expected._neighbours


def test_hierarchy_takes_any_producer_of_a_hierarchy(wordnet):
    # The generic class knows nothing of WordNet: it asks for hierarchy().
    class Producer:
        def hierarchy(self):
            return Hierarchy({"a": "b"})

    assert Hierarchy(Producer()).hop_distance("a", "b") == 1
    assert len(Hierarchy(wordnet)) == len(wordnet)

    class Wrong:
        def hierarchy(self):
            return {"a": "b"}

    with pytest.raises(TypeError, match=r"hierarchy\(\) must return a Hierarchy"):
        Hierarchy(Wrong())


@requires_wordnet
def test_hierarchy_for_counts_hops_through_ancestors_only():
    # What the docs of hierarchy_for and hierarchical_precision_at_k_score
    # say: organism and causal agent are two hops apart in WordNet, through
    # their common hyponym person, but five in the graph of their ancestors.
    wn = WordNet()
    organism, causal_agent = "n00004475", "n00007347"
    assert wn.hop_distance(organism, causal_agent) == 2
    ancestors = Hierarchy(wn.hierarchy_for([organism, causal_agent]))
    assert ancestors.hop_distance(organism, causal_agent) == 5
    # So hierarchical precision differs: the WordNet itself (and its
    # hierarchy()) counts causal agent, two hops from organism, as correct;
    # the ancestors' graph counts object, three hops up, instead.
    labels = [organism, causal_agent, "n00002684"]  # ..., object
    y_score = [[0.4, 0.3, 0.1]]  # ranks organism, causal agent, object
    scores = [
        hierarchical_precision_at_k_score(
            [organism], y_score, k=2, hierarchy=h, labels=labels
        )
        for h in (wn, wn.hierarchy(), wn.hierarchy_for(labels))
    ]
    assert scores == [1.0, 1.0, 0.5]
