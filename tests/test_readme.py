"""README.rst is a front door: its example runs as written, on the real data
it names, and prints what the README says it prints; its commands exist."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
README = ROOT / "README.rst"


def _python_blocks(text):
    blocks = []
    for match in re.finditer(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text):
        lines = match.group(1).splitlines()
        blocks.append("\n".join(line[4:] for line in lines))
    return blocks


def test_the_example_is_in_the_first_screen_and_short():
    lines = README.read_text().splitlines()
    start = lines.index(".. code-block:: python")
    assert start < 25, "the example must be in the README's first screen"
    (block,) = _python_blocks(README.read_text())
    code = [line for line in block.splitlines() if line.strip()]
    assert len(code) < 20, f"{len(code)} lines of code"


@pytest.mark.slow
def test_the_example_runs_and_prints_the_accuracy_it_quotes(capsys):
    pytest.importorskip("gensim")
    from sk_conse.datasets import load_fashion_mnist
    from sk_conse.embeddings import load_glove_6b_50d

    try:
        load_fashion_mnist(subset="test")
        load_glove_6b_50d()
    except (OSError, ImportError) as exc:
        pytest.skip(f"the README's real data is not installed: {exc}")
    (usage,) = _python_blocks(README.read_text())
    namespace = {"__name__": "readme"}
    exec(compile(usage, str(README), "exec"), namespace)
    clf = namespace["clf"]
    assert list(clf.classes_) == ["Shirt", "Sneaker"]
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "['Shirt' 'Sneaker']"
    quoted = float(re.search(r"zero-shot accuracy: (\d\.\d\d)", usage)[1])
    # The README quotes the printed accuracy; another BLAS may move it by a
    # hundredth or so.
    assert abs(float(out[1]) - quoted) <= 0.02, (out[1], quoted)
    assert quoted > 0.7  # far above chance (0.5)


def test_the_make_commands_it_names_exist():
    text = README.read_text()
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, re.MULTILINE))
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", text))
    assert {"install", "demo", "test", "docs"} <= named <= targets
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    for setting in re.findall(r"``make \w+ (\w+)=", text):
        assert re.search(rf"^{setting} \?=", makefile, re.MULTILINE), setting


def test_the_pages_it_links_exist():
    paths = re.findall(r"``((?:docs|examples)/[\w./]*)``", README.read_text())
    assert len(paths) >= 6
    for path in paths:
        if not path.startswith("docs/_build"):  # written by `make docs`
            assert (ROOT / path).exists(), path


def test_no_measured_figure_without_its_page():
    # Measurements live in the docs pages, dated with command and machine;
    # the README quotes only what its own example prints.
    text = README.read_text()
    figure = re.search(r"\b\d+(\.\d+)? ?(s|min|MiB|MB|GB)\b", text)
    assert figure is None, figure
    assert "=====  ==" not in text  # no table
