"""What the docs claim about the package's behaviour holds today.

Each test reads a claim where the docs state it (so an edit to the claim is
checked too) and compares it with what the code does. Measured figures are
dated in their pages; the ones a run reproduces in seconds are rerun here.
"""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

tomllib = pytest.importorskip("tomllib")
from packaging.requirements import Requirement  # noqa: E402
from packaging.utils import canonicalize_name  # noqa: E402

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _extras_table():
    """{extra: the text of its row} of the table in docs/install.rst."""
    text = (DOCS / "install.rst").read_text()
    table = text.split("extra           what it brings\n", 1)[1].split("\n\n", 1)[0]
    rows, name = {}, None
    for line in table.splitlines()[1:]:
        if line.startswith("="):
            continue
        match = re.match(r"``([\w-]+)``\s+(.*)", line)
        if match:
            name = match[1]
            rows[name] = match[2]
        else:
            rows[name] += " " + line.strip()
    return rows


def test_install_page_lists_every_extra_and_what_it_installs():
    extras = PYPROJECT["project"]["optional-dependencies"]
    rows = _extras_table()
    assert set(rows) == set(extras)
    for extra, specs in extras.items():
        words = {canonicalize_name(w) for w in re.findall(r"[\w.\[\]-]+", rows[extra])}
        for spec in specs:
            req = Requirement(spec)
            if canonicalize_name(req.name) == "sk-conse":
                for inner in req.extras:  # "all": the extras it gathers
                    assert inner in rows[extra] or extra == "all", (extra, inner)
                continue
            name = canonicalize_name(req.name)
            assert name in words or name in rows[extra].lower(), (
                f"docs/install.rst does not say that the {extra!r} extra "
                f"installs {req.name}"
            )


def test_install_page_names_the_core_dependencies():
    text = " ".join((DOCS / "install.rst").read_text().split())
    core = text.split("the core depends on", 1)[1].split(". ", 1)[0].lower()
    for spec in PYPROJECT["project"]["dependencies"]:
        name = Requirement(spec).name.lower()
        assert name in core, f"docs/install.rst omits the core dependency {name}"


def test_install_page_does_not_offer_a_registry_install():
    text = (DOCS / "install.rst").read_text()
    assert "pip install sk_conse" not in text
    assert "pip install sk-conse" not in text
    assert "TORCH_INDEX" in text


def test_no_direction_claim_of_the_estimator():
    # ConSEClassifier's docstring, "No direction": when f(x) cancels out,
    # every candidate scores 0 minus seen_penalty for seen ones; the first
    # candidate wins with seen_penalty=0, the first unseen one otherwise.
    from sklearn.dummy import DummyClassifier

    from sk_conse import ConSEClassifier

    doc = " ".join(ConSEClassifier.__doc__.split())
    assert "the first candidate with ``seen_penalty=0``, else the first unseen" in doc
    vectors = {"a": [1.0, 0.0], "b": [-1.0, 0.0], "c": [0.0, 1.0]}
    X, y = np.zeros((4, 1)), np.array(["a", "b", "a", "b"])
    predicted = {}
    for penalty in (0.0, 0.1):
        clf = ConSEClassifier(
            DummyClassifier(strategy="prior"),  # p = (0.5, 0.5): f(x) = 0
            vectors,
            T=2,
            candidate_labels="all",
            seen_penalty=penalty,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # seen labels scored: on purpose
            clf.fit(X, y)
        assert list(clf.classes_) == ["a", "b", "c"]
        np.testing.assert_array_equal(
            clf.decision_function(X[:1]), [[-penalty, -penalty, 0.0]]
        )
        predicted[penalty] = clf.predict(X[:1])[0]
    assert predicted == {0.0: "a", 0.1: "c"}


def test_route_rule_on_the_performance_page():
    from sk_conse import _kernels as kernels
    from sk_conse._backend import get_backend
    from sk_conse._search import choose_algorithm

    if not kernels.available():
        pytest.skip("the rule quoted is the one with the compiled kernels")
    text = " ".join((DOCS / "performance.rst").read_text().split())
    match = re.search(r"``T <= min\((\d+) \+ q / (\d+), (\d+)\)``", text)
    assert match, "docs/performance.rst no longer states the route rule"
    base, per, cap = map(int, match.groups())
    numpy = get_backend("numpy")
    for q in (20, 50, 150, 500):
        for T in range(1, 40):
            route = choose_algorithm(
                numpy, T=T, n_seen=1000, q=q, n_candidates=21841, itemsize=4
            )
            expected = "factorised" if T <= min(base + q / per, cap) else "direct"
            assert route == expected, (q, T, route)


@pytest.mark.slow
def test_glove_coverage_of_imagenet_21k_on_the_label_spaces_page(tmp_path):
    pytest.importorskip("gensim")
    from sk_conse.embeddings import synset_embeddings
    from sk_conse.imagenet import imagenet_21k_wnids

    try:
        wnids = imagenet_21k_wnids()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "n synset(s) have no GloVe vector"
            vectors = synset_embeddings(wnids, "glove", cache_dir=tmp_path)
    except (OSError, ImportError) as exc:
        pytest.skip(f"WordNet or GloVe is not installed: {exc}")
    text = " ".join((DOCS / "label_spaces.rst").read_text().split())
    claim = f"{len(vectors):,} of the {len(wnids):,} ImageNet-21k synsets have one"
    assert claim in text
