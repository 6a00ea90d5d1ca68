"""Every public import path works: ``__all__``, docs/api.rst, the README, the
docs and the examples; the names moved by the module split keep their old
paths; ``python -m sk_conse`` uses the public API only."""

import ast
import importlib
import re
from pathlib import Path

import pytest

import sk_conse

PACKAGE = Path(sk_conse.__file__).parent
ROOT = PACKAGE.parent
PUBLIC_MODULES = [
    "sk_conse",
    "sk_conse.datasets",
    "sk_conse.embeddings",
    "sk_conse.exceptions",
    "sk_conse.gzsl",
    "sk_conse.hierarchy",
    "sk_conse.imagenet",
    "sk_conse.inspection",
    "sk_conse.metrics",
    "sk_conse.model_selection",
    "sk_conse.synsets",
    "sk_conse.torch_models",
    "sk_conse.wordnet",
]
# Old path -> new home, for the names moved when modules were split by job.
MOVED = {
    "sk_conse.hierarchy.WordNet": "sk_conse.wordnet.WordNet",
    "sk_conse.hierarchy.WORDNET_ROOT": "sk_conse.wordnet.WORDNET_ROOT",
    "sk_conse.gzsl.PseudoUnseenSplit": "sk_conse.model_selection.PseudoUnseenSplit",
    "sk_conse.gzsl.make_harmonic_mean_scorer": (
        "sk_conse._scorers.make_harmonic_mean_scorer"
    ),
    "sk_conse.metrics.make_hit_at_k_scorer": "sk_conse._scorers.make_hit_at_k_scorer",
    "sk_conse.metrics.make_hierarchical_precision_scorer": (
        "sk_conse._scorers.make_hierarchical_precision_scorer"
    ),
    "sk_conse.metrics.make_proba_scorer": "sk_conse._scorers.make_proba_scorer",
    "sk_conse.embeddings.SYNSET_SPACES": "sk_conse.synsets.SYNSET_SPACES",
    "sk_conse.embeddings.synset_texts": "sk_conse.synsets.synset_texts",
    "sk_conse.embeddings.synset_embeddings": "sk_conse.synsets.synset_embeddings",
    "sk_conse.embeddings.imagenet_embeddings": "sk_conse.synsets.imagenet_embeddings",
    "sk_conse.embeddings.embedding_cache_dir": "sk_conse.synsets.embedding_cache_dir",
}


def _resolve(dotted):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_name_in_all_imports(module):
    mod = importlib.import_module(module)
    for name in mod.__all__:
        assert getattr(mod, name) is not None, f"{module}.{name}"
    namespace = {}
    exec(f"from {module} import *", namespace)
    assert set(mod.__all__) <= set(namespace)


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_moved_names_keep_their_old_path(old, new):
    assert _resolve(old) is _resolve(new)


def test_unknown_names_still_raise_attribute_error():
    for module in ("sk_conse.hierarchy", "sk_conse.metrics", "sk_conse.gzsl"):
        with pytest.raises(AttributeError, match="has no attribute 'nope'"):
            _resolve(f"{module}.nope")


def _api_rst_names():
    names, module = [], None
    for line in (ROOT / "docs" / "api.rst").read_text().splitlines():
        if line.startswith(".. currentmodule::"):
            module = line.split("::")[1].strip()
        elif re.fullmatch(r"   [A-Za-z_][\w.]*", line) and module:
            names.append(f"{module}.{line.strip()}")
    return names


def test_every_name_in_api_rst_imports():
    names = _api_rst_names()
    assert len(names) > 30
    for dotted in names:
        _resolve(dotted)


_IMPORT = re.compile(r"from (sk_conse[\w.]*) import \(?([\w\s,]+?)\)?\s*$", re.M)


def _documented_imports():
    files = [ROOT / "README.rst", *sorted((ROOT / "docs").glob("*.rst"))]
    files += sorted((ROOT / "examples").glob("*.py"))
    found = set()
    for path in files:
        text = re.sub(r"\(\s*\n", "(", path.read_text())  # join wrapped imports
        text = re.sub(r",\s*\n\s*", ", ", text)
        for module, names in _IMPORT.findall(text):
            for name in names.replace("\n", " ").split(","):
                name = name.strip().split(" as ")[0]
                if name and not name.startswith("#"):
                    found.add((path.name, f"{module}.{name}"))
    return sorted(found)


def test_every_documented_import_works():
    found = _documented_imports()
    assert len(found) > 20
    for where, dotted in found:
        try:
            _resolve(dotted)
        except (ImportError, AttributeError) as exc:
            pytest.fail(f"{where}: {dotted}: {exc}")


def test_the_main_job_imports_the_public_api_only():
    allowed = {m.removeprefix("sk_conse") for m in PUBLIC_MODULES} | {"._report"}
    allowed = {"." + m.lstrip(".") if m else "." for m in allowed}
    tree = ast.parse((PACKAGE / "_main.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            module = "." + (node.module or "")
            assert module in allowed, module
            assert not any(a.name.startswith("_") for a in node.names) or (
                module == "._report"
            ), ast.dump(node)
