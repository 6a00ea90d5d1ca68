"""docs/main_job.rst shows the main job's own output, and it is current.

The table is the file ``python -m sk_conse --out docs/main_job`` writes
(``make main-job-docs``); this test reruns one split at one T (seconds, not
the minutes of the whole job) and compares its row with the committed one.
"""

import re
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("gensim")
_main = pytest.importorskip("sk_conse._main")

ROOT = Path(__file__).parents[1]
TABLE = ROOT / "docs" / "main_job" / "conse_fashion_mnist_glove.rst"


def _rows(text):
    """{(unseen classes, T): [the six figures]} of the job's reST table."""
    rows = {}
    for line in text.splitlines():
        match = re.match(r"^(\S.*?)\s{2,}(\d+)\s+((?:\d\.\d+\s*){6})$", line)
        if match:
            rows[match[1], int(match[2])] = [float(v) for v in match[3].split()]
    return rows


def test_the_page_includes_the_jobs_files():
    page = (ROOT / "docs" / "main_job.rst").read_text()
    assert ".. include:: main_job/conse_fashion_mnist_glove.rst" in page
    assert ".. figure:: main_job/conse_fashion_mnist_glove.png" in page
    first = TABLE.read_text().splitlines()[0]
    assert re.match(
        r"Written \d{4}-\d\d-\d\d by ``python -m sk_conse --out docs/main_job`` "
        r"in \d+ s on .+ \(\d+ CPUs, BLAS .+\)\.$",
        first,
    ), first
    assert len(_rows(TABLE.read_text())) == 12  # 3 splits x T = 1, 2, 5, 10


@pytest.mark.slow
def test_a_fresh_run_gives_the_committed_row(tmp_path, capsys):
    from sk_conse.datasets import load_fashion_mnist

    try:
        load_fashion_mnist("test", return_X_y=True)
    except (OSError, ImportError) as exc:
        pytest.skip(f"Fashion-MNIST is not installed: {exc}")
    split, T = "Trouser, Bag, Ankle boot", 2
    argv = ["--unseen", split.replace(", ", ","), "--T", str(T), "--out", str(tmp_path)]
    assert _main.main(argv) == 0
    capsys.readouterr()
    fresh = _rows((tmp_path / TABLE.name).read_text())
    assert list(fresh) == [(split, T)]
    committed = _rows(TABLE.read_text())[split, T]
    # Another BLAS kernel moves a figure by up to 0.004 (issue 29 saw
    # 0.399 -> 0.403); a change of the job or of the engine moves it more.
    assert fresh[split, T] == pytest.approx(committed, abs=0.005), (
        "docs/main_job is stale: run `make main-job-docs` and commit the diff"
    )
