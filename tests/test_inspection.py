"""Tests for sk_conse.inspection: label_similarities."""

import numpy as np
import pytest
from _shared import hide_module
from sklearn.linear_model import LogisticRegression
from sklearn.utils import Bunch

from sk_conse import ConSEClassifier
from sk_conse.inspection import label_similarities

pd = pytest.importorskip("pandas")

VECTORS = {
    "cat": [1.0, 0.1, 0.0],
    "dog": [0.9, 0.4, 0.1],
    "car": [0.0, 1.0, 0.2],
    "lion": [2.0, 0.0, 0.0],  # not unit: cosine ignores the length
    "truck": [0.1, 1.0, -0.3],
}


def _cosine(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a @ b / np.linalg.norm(a) / np.linalg.norm(b)


def _expected(rows, columns):
    return np.array([[_cosine(VECTORS[r], VECTORS[c]) for c in columns] for r in rows])


def test_dataframe_of_cosines_indexed_by_rows_and_columns():
    rows, columns = ["cat", "dog", "car"], ["truck", "lion"]
    table = label_similarities(VECTORS, rows, columns)
    assert isinstance(table, pd.DataFrame)
    assert table.index.tolist() == rows
    assert table.columns.tolist() == columns
    assert table.dtypes.unique().tolist() == [np.float64]
    np.testing.assert_allclose(table.to_numpy(), _expected(rows, columns), rtol=1e-12)


def test_columns_default_to_rows_symmetric_with_unit_diagonal():
    rows = ["lion", "cat", "truck"]
    table = label_similarities(VECTORS, rows)
    assert table.index.tolist() == table.columns.tolist() == rows
    S = table.to_numpy()
    np.testing.assert_allclose(S, S.T)
    np.testing.assert_allclose(np.diag(S), 1.0)


@pytest.mark.parametrize(
    "form",
    ["dict", "dict_float32", "series", "dataframe", "keyedvectors"],
)
def test_every_label_embeddings_form_gives_the_same_table(form):
    labels = list(VECTORS)
    matrix = np.array([VECTORS[label] for label in labels])
    if form == "dict":
        embeddings = VECTORS
    elif form == "dict_float32":
        embeddings = {k: np.asarray(v, np.float32) for k, v in VECTORS.items()}
    elif form == "series":
        embeddings = pd.Series(list(matrix), index=labels)
    elif form == "dataframe":
        embeddings = pd.DataFrame(matrix, index=labels)
    else:
        gensim = pytest.importorskip("gensim")
        embeddings = gensim.models.KeyedVectors(vector_size=3)
        embeddings.add_vectors(labels, matrix.astype(np.float32))
    table = label_similarities(embeddings, ["cat", "car"], ["lion", "truck", "dog"])
    rtol = 1e-6 if form in ("dict_float32", "keyedvectors") else 1e-12
    np.testing.assert_allclose(
        table.to_numpy(),
        _expected(["cat", "car"], ["lion", "truck", "dog"]),
        rtol=rtol,
        atol=rtol,
    )


def test_bunch_without_pandas_frame():
    table = label_similarities(VECTORS, ["cat", "dog"], ["car"], as_frame=False)
    assert isinstance(table, Bunch)
    assert table.rows.dtype == object
    assert table.rows.tolist() == ["cat", "dog"]
    assert table.columns.tolist() == ["car"]
    assert table.similarities.shape == (2, 1)
    np.testing.assert_allclose(table.similarities, _expected(["cat", "dog"], ["car"]))


@pytest.fixture
def no_pandas(monkeypatch):
    """Make ``import pandas`` fail, as on a machine without it."""
    hide_module(monkeypatch, "pandas")


@pytest.mark.usefixtures("no_pandas")
def test_auto_gives_a_bunch_without_pandas():
    table = label_similarities(VECTORS, ["cat"], ["dog"])
    assert isinstance(table, Bunch)
    assert table.similarities.shape == (1, 1)


@pytest.mark.usefixtures("no_pandas")
def test_as_frame_true_without_pandas_raises():
    with pytest.raises(ImportError, match=r"needs pandas.*as_frame=False"):
        label_similarities(VECTORS, ["cat"], ["dog"], as_frame=True)


def test_labels_keep_their_type_and_order():
    vectors = {3: [1.0, 0.0], 1: [0.0, 1.0], 2: [1.0, 1.0]}
    table = label_similarities(vectors, np.array([2, 3]), [np.int64(1)])
    assert table.index.tolist() == [2, 3]
    assert table.columns.tolist() == [1]
    assert type(table.index[0]) is not np.ndarray
    np.testing.assert_allclose(table.to_numpy(), [[np.sqrt(0.5)], [0.0]], atol=1e-12)


def test_missing_labels_are_all_named():
    with pytest.raises(
        ValueError,
        match=r"2 column label\(s\) have no vector in label_embeddings: "
        r"'bus', 'van'",
    ):
        label_similarities(VECTORS, ["cat"], ["bus", "car", "van"])
    with pytest.raises(ValueError, match=r"1 row label\(s\).*'emu'"):
        label_similarities(VECTORS, ["emu", "cat"])


@pytest.mark.parametrize(
    ("rows", "columns", "error", "message"),
    [
        ("cat", None, TypeError, r"rows must be a list.*did you mean \['cat'\]"),
        (["cat"], "dog", TypeError, r"columns must be a list.*did you mean \['dog'\]"),
        (None, None, TypeError, r"rows must be a list or 1-D array of labels, got "),
        ([], None, ValueError, r"rows is empty"),
        (["cat"], [], ValueError, r"columns is empty"),
        ([["cat", "dog"]], None, ValueError, r"rows must be .* shape \(1, 2\)"),
        ([["cat"], "dog"], None, TypeError, r"rows must hold labels.*\['cat'\]"),
    ],
)
def test_bad_rows_or_columns(rows, columns, error, message):
    with pytest.raises(error, match=message):
        label_similarities(VECTORS, rows, columns)


def test_bad_as_frame():
    with pytest.raises(ValueError, match=r"as_frame must be True, False or 'auto'"):
        label_similarities(VECTORS, ["cat"], as_frame="yes")


def test_invalid_embeddings_are_refused_as_by_the_estimator():
    with pytest.raises(ValueError, match=r"zero vectors for 'car'"):
        label_similarities({"cat": [1.0, 0.0], "car": [0.0, 0.0]}, ["cat"])


def test_extreme_but_valid_vectors_stay_finite():
    # float64 vectors whose squared norms are near the float64 limits.
    vectors = {"big": [1e150, 1e150], "small": [1e-150, 0.0]}
    S = label_similarities(vectors, ["big", "small"], as_frame=False).similarities
    assert np.isfinite(S).all()
    np.testing.assert_allclose(S, [[1.0, np.sqrt(0.5)], [np.sqrt(0.5), 1.0]])


def test_seen_by_candidate_table_rebuilds_a_t1_decision_function():
    # With T=1, f(x) is the vector of the top seen label, so each input's
    # scores are one row of the seen x candidate table (three candidates: a
    # 2-D decision_function).
    vectors = {**VECTORS, "fox": [0.7, 0.6, 0.4]}
    rng = np.random.RandomState(0)
    y = np.repeat(["cat", "dog", "car"], 20)
    centres = {"cat": [0, 0], "dog": [0, 3], "car": [3, 3]}
    X = np.array([centres[label] for label in y]) + rng.randn(60, 2) / 2
    clf = ConSEClassifier(LogisticRegression(), vectors, T=1).fit(X, y)
    table = label_similarities(clf.label_embeddings, clf.seen_classes_, clf.classes_)
    top = clf.base_estimator_.predict(X)
    expected = table.loc[top, clf.classes_].to_numpy()
    np.testing.assert_allclose(clf.decision_function(X), expected, rtol=1e-6)
