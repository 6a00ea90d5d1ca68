"""sk_conse._compat is the only module that imports private scikit-learn names."""

import ast
from pathlib import Path

import pytest

import sk_conse
from sk_conse._compat import array_api_compat_namespace

PACKAGE = Path(sk_conse.__file__).parent
EXEMPT = {"_compat.py", "conftest.py"}


def _private_sklearn_imports(path):
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "sklearn"
        ):
            names = [alias.name for alias in node.names]
            parts = node.module.split(".")
            if (
                "externals" in parts
                or any(part.startswith("_") for part in parts)
                or any(name.startswith("_") for name in names)
            ):
                found.append(f"{path.name}:{node.lineno} {node.module} {names}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "sklearn" and any(p.startswith("_") for p in parts):
                    found.append(f"{path.name}:{node.lineno} {alias.name}")
    return found


def test_only_the_compat_module_imports_private_sklearn_names():
    found = []
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name not in EXEMPT:
            found += _private_sklearn_imports(path)
    assert found == []


def test_the_check_sees_a_private_import(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text("from sklearn.utils._param_validation import Interval\n")
    assert _private_sklearn_imports(path)


@pytest.mark.parametrize("library", ["numpy", "torch"])
def test_array_api_compat_namespace(library):
    if library == "torch":
        pytest.importorskip("torch")
    xp = array_api_compat_namespace(library)
    assert int(xp.argmax(xp.asarray([1, 3, 2]))) == 1


def test_array_api_compat_namespace_refuses_an_unknown_library():
    with pytest.raises(ValueError, match="library must be one of"):
        array_api_compat_namespace("jax")
