"""README.rst's usage block runs as written, on the real data it names."""

import re
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.rst"


def _python_blocks(text):
    blocks = []
    for match in re.finditer(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text):
        lines = match.group(1).splitlines()
        blocks.append("\n".join(line[4:] for line in lines))
    return blocks


def test_usage_block_runs_and_predicts_the_unseen_classes(capsys):
    pytest.importorskip("gensim")
    from sk_conse.datasets import load_fashion_mnist
    from sk_conse.embeddings import load_glove_6b_50d

    try:
        load_fashion_mnist(subset="test")
        load_glove_6b_50d()
    except (OSError, ImportError) as exc:
        pytest.skip(f"the README's real data is not installed: {exc}")
    (usage,) = [b for b in _python_blocks(README.read_text()) if "clf.fit" in b]
    namespace = {"__name__": "readme"}
    exec(compile(usage, str(README), "exec"), namespace)
    clf = namespace["clf"]
    assert list(clf.classes_) == ["Shirt", "Sneaker"]
    X, y, unseen = namespace["X"], namespace["y"], namespace["unseen"]
    # Zero-shot on two unseen classes: far above chance (0.5).
    assert clf.score(X[unseen], y[unseen]) > 0.7
    assert namespace["labels"].shape == (unseen.sum(), 2)
    assert "Sneaker" in capsys.readouterr().out
