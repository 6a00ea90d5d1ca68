"""Tests of label-embedding validation (sk_conse._label_embeddings)."""

import numpy as np
import pandas as pd
import pytest

from sk_conse._label_embeddings import check_label_embeddings, sorted_labels

# ----------------------------------------------------------------- containers


def test_dict_of_lists():
    table = check_label_embeddings({"cat": [1.0, 0.0], "dog": [0.8, 0.6]})
    assert table.labels == ["cat", "dog"]
    assert table.index == {"cat": 0, "dog": 1}
    assert table.vectors.dtype == np.float64
    np.testing.assert_array_equal(table.vectors, [[1.0, 0.0], [0.8, 0.6]])


def test_dict_with_int_labels_and_numpy_keys():
    table = check_label_embeddings({np.int64(3): [1.0, 0.0], 7: [0.0, 1.0]})
    assert table.labels == [3, 7]
    assert all(type(label) is int for label in table.labels)
    np.testing.assert_array_equal(table.rows_of(np.array([7, 3]), role="seen"), [1, 0])


def test_pandas_series_of_vectors():
    series = pd.Series(
        [np.array([1.0, 0.0]), np.array([0.0, 2.0])], index=["cat", "dog"]
    )
    table = check_label_embeddings(series)
    assert table.labels == ["cat", "dog"]
    np.testing.assert_array_equal(table.vectors, [[1.0, 0.0], [0.0, 2.0]])


def test_pandas_dataframe_rows():
    df = pd.DataFrame([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]], index=[10, 20])
    table = check_label_embeddings(df)
    assert table.labels == [10, 20]
    np.testing.assert_array_equal(table.vectors, df.to_numpy())


def test_gensim_keyed_vectors():
    gensim_models = pytest.importorskip("gensim.models")
    kv = gensim_models.KeyedVectors(vector_size=3)
    vectors = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 1]], dtype=np.float32)
    kv.add_vectors(["cat", "dog", "car"], vectors)
    table = check_label_embeddings(kv)
    assert table.labels == ["cat", "dog", "car"]
    assert table.vectors.dtype == np.float32
    np.testing.assert_array_equal(table.vectors, vectors)


def test_caller_arrays_stay_writeable():
    # The table is read-only, but it must not freeze the caller's own arrays
    # (a KeyedVectors' or DataFrame's block may be used without a copy).
    gensim_models = pytest.importorskip("gensim.models")
    kv = gensim_models.KeyedVectors(vector_size=2)
    kv.add_vectors(["a", "b"], np.eye(2, dtype=np.float32))
    table = check_label_embeddings(kv)
    assert not table.vectors.flags.writeable
    assert kv.vectors.flags.writeable
    kv.vectors[0, 0] = 2.0  # must not raise


def test_float32_vectors_stay_float32_and_ints_become_float64():
    f32 = {"a": np.array([1, 0], np.float32), "b": np.array([0, 1], np.float32)}
    assert check_label_embeddings(f32).vectors.dtype == np.float32
    mixed = {"a": np.array([1, 0], np.float32), "b": np.array([0.0, 1.0])}
    assert check_label_embeddings(mixed).vectors.dtype == np.float64
    ints = {"a": [1, 0], "b": [0, 1]}
    assert check_label_embeddings(ints).vectors.dtype == np.float64


# ---------------------------------------------------------------- bad input


def test_none_is_rejected():
    with pytest.raises(ValueError, match="label_embeddings is required"):
        check_label_embeddings(None)


@pytest.mark.parametrize("bad", [[[1.0, 0.0]], np.eye(2), "cat", 3])
def test_wrong_container_type(bad):
    with pytest.raises(TypeError, match="label_embeddings must be a mapping"):
        check_label_embeddings(bad)


@pytest.mark.parametrize("empty", [{}, pd.Series([], dtype=object)])
def test_empty(empty):
    with pytest.raises(ValueError, match="label_embeddings is empty"):
        check_label_embeddings(empty)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_vectors_are_named(bad):
    with pytest.raises(ValueError, match=r"NaN or infinite values for 'dog'"):
        check_label_embeddings({"cat": [1.0, 0.0], "dog": [bad, 1.0]})


def test_zero_vectors_are_named():
    with pytest.raises(ValueError, match=r"zero vectors for 'dog', 'car'"):
        check_label_embeddings({"cat": [1.0, 0.0], "dog": [0.0, 0.0], "car": [0, 0]})


def test_ragged_vectors_are_named():
    with pytest.raises(
        ValueError, match=r"different lengths: most have 2, but 'car' \(3\)"
    ):
        check_label_embeddings(
            {"cat": [1.0, 0.0], "dog": [0.0, 1.0], "car": [1.0, 1.0, 1.0]}
        )


def test_non_1d_vectors():
    with pytest.raises(ValueError, match=r"must be 1-D; not so for 'dog'"):
        check_label_embeddings({"cat": [1.0, 0.0], "dog": [[0.0, 1.0]]})


def test_non_numeric_vectors():
    with pytest.raises(ValueError, match=r"must be numeric; not so for 'dog'"):
        check_label_embeddings({"cat": [1.0, 0.0], "dog": ["a", "b"]})


def test_empty_vectors():
    with pytest.raises(ValueError, match=r"vectors are empty \(length 0\)"):
        check_label_embeddings({"cat": [], "dog": []})


@pytest.mark.parametrize("kind", ["series", "dataframe"])
def test_duplicated_pandas_index(kind):
    index = ["cat", "dog", "cat"]
    if kind == "series":
        emb = pd.Series([np.ones(2), np.ones(2), np.ones(2)], index=index)
    else:
        emb = pd.DataFrame(np.ones((3, 2)), index=index)
    with pytest.raises(ValueError, match=r"duplicated labels: 'cat'\. Each label"):
        check_label_embeddings(emb)


def test_rows_of_lists_missing_labels():
    table = check_label_embeddings({"cat": [1.0, 0.0], "dog": [0.0, 1.0]})
    with pytest.raises(
        ValueError, match=r"2 seen label\(s\) have no vector .*'cow', 'hen'"
    ):
        table.rows_of(["cat", "cow", "hen"], role="seen")


def test_many_missing_labels_are_abbreviated():
    table = check_label_embeddings({"cat": [1.0, 0.0]})
    with pytest.raises(ValueError, match=r"and 5 more"):
        table.rows_of(list(range(15)), role="candidate")


@pytest.mark.parametrize("nan", [float("nan"), np.float64("nan"), np.float32("nan")])
def test_nan_label_keys_are_refused(nan):
    # used to pass, then say "candidate label(s) have no vector: nan"
    with pytest.raises(
        ValueError,
        match=r"^label_embeddings has NaN as a label \(1 of 2 labels, entries 1\)\. "
        r"NaN cannot be a label",
    ):
        check_label_embeddings({"cat": [1.0, 0.0], nan: [0.0, 1.0]})


def test_nan_label_keys_in_a_series_are_refused():
    vectors = pd.Series([np.ones(2), np.ones(2)], index=[np.nan, "dog"])
    with pytest.raises(
        ValueError, match=r"NaN as a label \(1 of 2 labels, entries 0\)"
    ):
        check_label_embeddings(vectors)


def test_rows_of_a_nan_label_says_nan_is_not_a_label():
    table = check_label_embeddings({"cat": [1.0, 0.0]})
    with pytest.raises(
        ValueError, match=r"^candidate labels contain NaN, which cannot be a label"
    ):
        table.rows_of(["cat", float("nan")], role="candidate")


def test_float64_overflow_does_not_advise_float64():
    with pytest.raises(
        ValueError, match=r"one common factor \(that changes no prediction\)\.$"
    ):
        check_label_embeddings({"huge": [1e200, 1e200], "cat": [1.0, 0.0]})


def test_float32_overflow_advises_float64():
    vectors = {
        "huge": np.array([1e30, 1e30], dtype=np.float32),
        "cat": np.array([1.0, 0.0], dtype=np.float32),
    }
    with pytest.raises(
        ValueError,
        match=r"squared norm of 'huge' overflows .* or use float64 vectors\.$",
    ):
        check_label_embeddings(vectors)


# ------------------------------------------------------------- sorted_labels


def test_sorted_labels_ints():
    out = sorted_labels([3, np.int64(1), 2])
    assert out.dtype.kind == "i"
    np.testing.assert_array_equal(out, [1, 2, 3])


def test_sorted_labels_strings():
    out = sorted_labels(["dog", np.str_("cat"), "ant"])
    assert out.dtype.kind == "U"
    np.testing.assert_array_equal(out, ["ant", "cat", "dog"])


def test_sorted_labels_mixed_numbers_first():
    out = sorted_labels(["b", 2, "a", 1.5])
    assert out.dtype == object
    assert out.tolist() == [1.5, 2, "a", "b"]


def test_sorted_labels_empty():
    out = sorted_labels([])
    assert out.shape == (0,)


def test_a_dataframe_given_transposed_is_named_so_only_when_it_is():
    """Labels found among a DataFrame's columns mean it was given as df.T;
    a table keyed by integer codes with named columns is not that."""
    wrong = pd.DataFrame({"cat": [1.0, 0.0, 0.5], "dog": [0.0, 1.0, 0.5]})
    table = check_label_embeddings(wrong)
    with pytest.raises(ValueError, match=r"seen labels as its columns \('cat'"):
        table.rows_of(["cat", "dog"], role="seen")
    coded = pd.DataFrame([[1.0, 0.0], [0.0, 1.0]], columns=["dim0", "dim1"])
    table = check_label_embeddings(coded)
    np.testing.assert_array_equal(table.rows_of([1, 0], role="seen"), [1, 0])
    with pytest.raises(ValueError, match="different types") as error:
        table.rows_of(["cat"], role="seen")
    assert "df.T" not in str(error.value)
