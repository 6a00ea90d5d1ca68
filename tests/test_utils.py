"""Tests of the small helpers shared by several modules: _validation,
_formatting, _progress and _torch_import."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest
from _shared import hide_module
from sklearn.utils._param_validation import InvalidParameterError

from sk_conse import _progress, _validation
from sk_conse._formatting import as_python_label, label_repr, name_some
from sk_conse._progress import progress
from sk_conse._torch_import import import_torch
from sk_conse._validation import check_k, check_label_list


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def no_tqdm(monkeypatch):
    """Make ``import tqdm`` fail, as on a machine without it."""
    hide_module(monkeypatch, "tqdm")


# ----------------------------------------------------------------- check_k


@pytest.mark.parametrize("k", [1, 7, np.int64(3), np.uint8(2)])
def test_check_k_accepts_integers_in_range(k):
    out = check_k(k, n=7)
    assert out == int(k)
    assert type(out) is int


@pytest.mark.parametrize("k", [0, -1, 8])
def test_check_k_out_of_range_names_value_and_range(k):
    with pytest.raises(
        InvalidParameterError,
        match=rf"^k must be an integer between 1 and the number of candidate "
        rf"labels \(7\), got {k}\.$",
    ):
        check_k(k, n=7)


@pytest.mark.parametrize("k", [True, np.True_, 2.0, "3", None])
def test_check_k_refuses_non_integers(k):
    with pytest.raises(
        InvalidParameterError,
        match=rf"^top_k must be an integer >= 1, got {k!r}\.$".replace("'", "'"),
    ):
        check_k(k, name="top_k")


def test_check_k_unbounded_without_n():
    assert check_k(10**9) == 10**9


def test_check_k_error_is_value_and_type_error():
    # Callers that caught either before still catch it.
    with pytest.raises(ValueError, match="got 0"):
        check_k(0)
    with pytest.raises(TypeError, match=r"got 1\.5"):
        check_k(1.5)


# --------------------------------------------------------------- name_some


def test_name_some_limits_and_counts_the_rest():
    assert name_some(range(12)) == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 2 more"
    assert name_some(["a", "b", "c"], limit=2) == "'a', 'b' and 1 more"
    assert name_some([np.str_("x"), np.float64(0.5)]) == "'x', 0.5"
    assert name_some([]) == ""


def test_label_repr_shows_numpy_labels_as_python_values():
    assert label_repr(np.str_("T-shirt/top")) == "'T-shirt/top'"
    assert label_repr((np.str_("a"), np.int64(2))) == "('a', 2)"
    assert name_some([(np.str_("a"), np.int64(2))]) == "('a', 2)"


def test_as_python_label():
    assert type(as_python_label(np.str_("x"))) is str
    assert type(as_python_label(np.int64(3))) is int
    label = ("a", 1)
    assert as_python_label(label) is label


@pytest.mark.parametrize(
    ("labels", "error", "match"),
    [
        ("cat", TypeError, r"not a single string; did you mean \['cat'\]"),
        (3, TypeError, r"got int 3\. For a single label, pass \[3\]"),
        ({"a", "b"}, ValueError, "a set has no order"),
        ([["a", "b"], ["c", "d"]], ValueError, r"got list of shape \(2, 2\)"),
        ([], ValueError, "labels is empty: give at least one label"),
        ([["a"], "b"], TypeError, r"must hold labels .* got \['a'\]"),
        (["a", "b", "a"], ValueError, "duplicated labels: 'a'"),
    ],
)
def test_check_label_list_refuses(labels, error, match):
    with pytest.raises(error, match=match):
        check_label_list(labels, "labels")


def test_check_label_list_gives_python_labels_in_order():
    out = check_label_list(np.array(["b", "a", "b"]), "labels", duplicates="drop")
    assert out == ["b", "a"]
    assert all(type(label) is str for label in out)
    assert check_label_list((label for label in [2, 1]), "labels") == [2, 1]


# ------------------------------------------------------------ import_torch


def test_import_torch_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(
        ImportError,
        match=r"^DeViSEClassifier needs PyTorch: pip install torch==2\.13\.0 .*"
        r"pip install 'sk_conse\[torch\]'\.$",
    ):
        import_torch("DeViSEClassifier")


# ---------------------------------------------------------------- progress


def test_progress_off_when_stderr_is_not_a_terminal(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert list(progress(range(3), "steps")) == [0, 1, 2]
    assert err.getvalue() == ""


def test_progress_always_draws_even_off_terminal(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert list(progress(range(3), "steps", enabled="always")) == [0, 1, 2]
    assert "steps" in err.getvalue()
    assert "3/3" in err.getvalue()


def test_progress_on_a_terminal(monkeypatch):
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    assert list(progress(range(2), "steps")) == [0, 1]
    assert "2/2" in err.getvalue()


def test_progress_disabled_on_a_terminal(monkeypatch):
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    assert list(progress(range(2), "steps", enabled=False)) == [0, 1]
    assert list(progress(range(2), "steps", enabled=0)) == [0, 1]
    assert err.getvalue() == ""


def test_progress_manual_updates(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with progress(None, "images", total=4, enabled="always", unit="img") as bar:
        bar.update(4)
    assert "4/4" in err.getvalue()


def test_progress_refuses_unknown_string():
    with pytest.raises(
        ValueError, match=r"^enabled must be a bool or 'always', got 'auto'\.$"
    ):
        progress(range(2), "steps", enabled="auto")


def test_progress_without_tqdm_prints_lines(monkeypatch, no_tqdm):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    bar = progress(range(2), "steps", enabled="always")
    assert isinstance(bar, _progress._Lines)
    assert list(bar) == [0, 1]
    assert err.getvalue() == "steps: 1/2\nsteps: 2/2\n"


def test_progress_without_tqdm_silent_off_terminal(monkeypatch, no_tqdm):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with progress(None, "images", total=3) as bar:
        bar.update(3)
    assert list(progress(iter([5]), "steps")) == [5]
    assert err.getvalue() == ""


# ------------------------------------------------------------------ is_nan


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (float("nan"), True),
        (np.float16("nan"), True),
        (np.float64(1.0), False),
        (np.int64(0), False),
        (True, False),
        ("nan", False),
        (None, False),
        (complex("nan"), False),  # not a real number: never a hierarchy NaN
    ],
)
def test_is_nan(value, expected):
    assert _validation.is_nan(value) is expected
