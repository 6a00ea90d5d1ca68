"""Smoke test of the main job, ``python -m sk_conse``, on a small subset."""

import argparse
import csv
import io
import os
import re
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("gensim")
datasets = pytest.importorskip("sk_conse.datasets")
_main = pytest.importorskip("sk_conse._main")

try:
    datasets.load_fashion_mnist("test", return_X_y=True)
except (FileNotFoundError, ImportError) as exc:  # pragma: no cover
    pytest.skip(f"Fashion-MNIST not installed: {exc}", allow_module_level=True)


@pytest.mark.slow
def test_main_job_prints_table_and_writes_plot(tmp_path, capsys):
    status = _main.main(
        [
            "--n-train",
            "2000",
            "--n-test",
            "500",
            "--unseen",
            "Sneaker,Shirt",
            "sandal,t-shirt,bag",
            "--T",
            "1,10",
            "--out",
            str(tmp_path),
        ]
    )
    assert status == 0
    out = capsys.readouterr().out

    # One hit@k table per split, with the T rows and the chance row.
    assert "unseen = {Sneaker, Shirt}" in out
    assert "unseen = {Sandal, T-shirt/top, Bag}" in out
    assert len(re.findall(r"^\s+T\s+ZSL hit@1", out, flags=re.MULTILINE)) == 2
    assert (
        len(
            re.findall(
                r"\|\s+H p=0\s+penalty\s+acc seen\s+acc unseen\s+H tuned$",
                out,
                flags=re.MULTILINE,
            )
        )
        == 2
    )
    assert "ZSL hit@2" in out  # only for the three-class split
    assert "+seen hit@5" in out
    assert "chance" in out
    assert re.search(r"^\s*10 \(=8\)\s", out, flags=re.MULTILINE)
    assert re.search(r"^\s*10 \(=7\)\s", out, flags=re.MULTILINE)
    assert "Summary (reStructuredText" in out

    # The figure and the CSV file.
    png = tmp_path / "conse_fashion_mnist_glove.png"
    assert png.is_file()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(tmp_path / "conse_fashion_mnist_glove.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4  # 2 splits x 2 values of T
    assert {row["n_test"] for row in rows} == {"500"}
    # The generalized test set: the 500 unseen images and every seen one.
    assert {row["n_gzsl_test"] for row in rows} == {"8500", "7500"}
    # Zero-shot on {Sneaker, Shirt} is well above chance (0.5) with GloVe.
    first = next(r for r in rows if r["unseen"] == "Sneaker|Shirt")
    assert float(first["zsl_hit@1"]) > 0.7
    # Untuned, seen labels win nearly every generalized prediction: H is low.
    # The penalty tuned on pseudo-unseen folds of the seen images lifts it.
    for row in rows:
        assert float(row["penalty"]) > 0
        assert float(row["h_after"]) > float(row["h_before"]) + 0.2
        assert float(row["acc_u_after"]) > float(row["acc_u_before"])


def test_main_rejects_unknown_class(tmp_path):
    with pytest.raises(SystemExit, match="unknown class 'jacket'"):
        _main.main(["--unseen", "Sneaker,jacket", "--out", str(tmp_path)])


def test_main_rejects_bad_T(capsys):
    with pytest.raises(SystemExit):
        _main.main(["--T", "0,2"])
    assert "--T values must be integers >= 1" in capsys.readouterr().err


@pytest.fixture(scope="module")
def help_text():
    """``python -m sk_conse --help``, wide enough that no option wraps."""
    result = subprocess.run(
        [sys.executable, "-m", "sk_conse", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "400"},
    )
    return result.stdout


def _option_help(help_text):
    """{option: its help text}, for the options other than --help."""
    options = help_text.split("options:", 1)[1]
    found = {}
    # Each block starts with "  -option ..." and may go on, indented, below.
    for block in re.split(r"\n(?=  -)", options.strip("\n")):
        option = re.match(r"\s*(-[\w-]+)", block).group(1)
        if option != "-h":
            found[option] = " ".join(block.split())
    return found


def test_help_states_each_default_once(help_text):
    options = _option_help(help_text)
    assert set(options) == {
        "--embeddings",
        "--unseen",
        "--T",
        "--n-train",
        "--n-test",
        "--out",
        "--seed",
    }
    for line in options.values():
        assert line.count("(default:") == 1, line


@pytest.mark.parametrize(
    ("option", "default"),
    [
        ("--n-test", "all, 1,000 per class"),
        ("--T", "1,2,5,10"),
        ("--unseen", "'Sneaker,Shirt' 'Sandal,T-shirt/top' 'Trouser,Bag,Ankle boot'"),
        ("--embeddings", "glove"),
        ("--n-train", "12000"),
    ],
)
def test_help_defaults_are_written_as_typed(help_text, option, default):
    assert f"(default: {default})" in _option_help(help_text)[option]


def test_help_default_T_is_the_parsed_default():
    args = _main._build_parser().parse_args([])
    assert args.T == [1, 2, 5, 10]
    assert args.n_test is None


# ------------------------------------------------------------ progress bar


def _tiny_split(capsys):
    """One split of the main job on random data: a few hundred rows."""
    rng = np.random.RandomState(0)
    names = np.array(datasets.FASHION_MNIST_CLASSES)
    data = {
        "names": names,
        "X_train": rng.randint(0, 256, (300, 784)).astype(np.uint8),
        "y_train": np.arange(300) % 10,
        "X_test": rng.randint(0, 256, (60, 784)).astype(np.uint8),
        "y_test": np.arange(60) % 10,
    }
    vectors = {name: rng.normal(size=8) for name in names}
    args = argparse.Namespace(seed=0, n_train=300, n_test=None)
    log = _main._Log(io.StringIO())
    result = _main._evaluate_split(
        ["Sneaker", "Shirt"], data, vectors, [1, 2], args, log
    )
    return capsys.readouterr().err, result


def test_split_reports_H_before_and_after_tuning(capsys):
    _, result = _tiny_split(capsys)
    assert [row["T"] for row in result["rows"]] == [1, 2]
    assert result["n_gzsl_test"] == 60
    for row in result["rows"]:
        assert row["penalty"] in _main.SEEN_PENALTIES
        for when in ("before", "after"):
            acc_s, acc_u = row[f"acc_s_{when}"], row[f"acc_u_{when}"]
            expected = (
                0.0 if acc_s + acc_u == 0 else 2 * acc_s * acc_u / (acc_s + acc_u)
            )
            assert row[f"h_{when}"] == pytest.approx(expected)
    table = _main._format_table(result)
    assert "H tuned" in table
    assert f"{result['rows'][0]['penalty']:.2f}" in table.splitlines()[1]


def test_best_penalty_per_T_takes_the_first_best():
    search = argparse.Namespace(
        cv_results_={
            "params": [
                {"T": 1, "seen_penalty": 0.0},
                {"T": 1, "seen_penalty": 0.1},
                {"T": 1, "seen_penalty": 0.2},
                {"T": 2, "seen_penalty": 0.0},
                {"T": 2, "seen_penalty": 0.1},
            ],
            "mean_test_score": np.array([0.1, 0.5, 0.5, 0.3, 0.2]),
        }
    )
    assert _main._best_penalty_per_T(search) == {1: (0.1, 0.5), 2: (0.0, 0.3)}


def test_no_progress_bar_when_stderr_is_not_a_terminal(capsys):
    # Piped output (a CI log, `> results.txt`) gets no bar redraws.
    assert _tiny_split(capsys)[0] == ""


def test_progress_bar_on_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr("sk_conse._progress._stderr_is_terminal", lambda: True)
    assert "T: " in _tiny_split(capsys)[0]
