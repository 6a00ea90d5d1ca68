"""Smoke test of the main job, ``python -m sk_conse``, on a small subset."""

import csv
import re
import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("gensim")
datasets = pytest.importorskip("sk_conse.datasets")
_main = pytest.importorskip("sk_conse._main")

try:
    datasets.load_fashion_mnist("test", return_X_y=True)
except (FileNotFoundError, ImportError) as exc:  # pragma: no cover
    pytest.skip(f"Fashion-MNIST not installed: {exc}", allow_module_level=True)

_NUMBER = re.compile(r"\b\d\.\d{3}\b")


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
    assert "ZSL hit@2" in out  # only for the three-class split
    assert "+seen hit@5" in out
    assert "chance" in out
    assert re.search(r"^\s*10 \(=8\)\s", out, flags=re.MULTILINE)
    assert re.search(r"^\s*10 \(=7\)\s", out, flags=re.MULTILINE)
    numbers = [float(x) for x in _NUMBER.findall(out)]
    assert numbers
    assert all(0.0 <= x <= 1.0 for x in numbers)
    assert "Summary (reStructuredText" in out

    # The figure and the CSV file.
    png = tmp_path / "conse_fashion_mnist_glove.png"
    assert png.is_file()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(tmp_path / "conse_fashion_mnist_glove.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4  # 2 splits x 2 values of T
    for row in rows:
        assert row["n_test"] == "500"
        for key in ("zsl_hit@1", "gzsl_hit@1", "gzsl_hit@5"):
            assert 0.0 <= float(row[key]) <= 1.0
    # Zero-shot on {Sneaker, Shirt} is well above chance (0.5) with GloVe.
    first = next(r for r in rows if r["unseen"] == "Sneaker|Shirt")
    assert float(first["zsl_hit@1"]) > 0.7


def test_main_rejects_unknown_class(tmp_path):
    with pytest.raises(SystemExit, match="unknown class 'jacket'"):
        _main.main(["--unseen", "Sneaker,jacket", "--out", str(tmp_path)])


def test_main_rejects_bad_T(capsys):
    with pytest.raises(SystemExit):
        _main.main(["--T", "0,2"])
    assert "--T values must be integers >= 1" in capsys.readouterr().err


def test_python_m_sk_conse_help():
    result = subprocess.run(
        [sys.executable, "-m", "sk_conse", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--embeddings" in result.stdout
    assert "--unseen" in result.stdout
