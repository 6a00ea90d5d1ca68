"""sk_conse's modules import in one direction: no import cycle.

Every ``import`` and ``from ... import`` of every module counts, deferred
(function-level) and type-checking imports included, and so does any call
handed a module's full name, such as ``importlib.import_module("sk_conse.x")``
or a lazy re-export helper; all read with :mod:`ast` from the source files,
not from what a run happens to load.
"""

import ast
from pathlib import Path

import sk_conse

PACKAGE = Path(sk_conse.__file__).parent


def _module_name(path, package):
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(name, modules):
    """``name`` if it is a module of the package, else its package."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path, module, modules):
    """The package modules that ``module`` (at ``path``) imports anywhere."""
    root = module.split(".")[0]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0]
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module
            # "from . import x" imports the module x; "from .m import f", m.
            targets = [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call):
            # importlib.import_module("pkg.m"), or any helper handed a
            # module's full name (a lazy re-export): the name is an edge.
            # The bare package name is a mere word ("sk_conse" threads).
            targets = [
                arg.value
                for arg in [*node.args, *(k.value for k in node.keywords)]
                if isinstance(arg, ast.Constant)
                and arg.value in modules
                and "." in arg.value
            ]
        for target in targets:
            if target.split(".")[0] == root:
                resolved = _resolve(target, modules)
                if resolved is not None and resolved != module:
                    found.add(resolved)
    return found


def import_graph(package=PACKAGE):
    """{module: the package modules it imports}, over every source file."""
    paths = {_module_name(p, package): p for p in package.rglob("*.py")}
    return {m: _imports(p, m, set(paths)) for m, p in paths.items()}


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_deferred_imports_and_lazy_reexports(tmp_path):
    # The reader itself: a deferred import, a relative "from . import", a
    # lazy importlib re-export and a type-checking import all make edges.
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from . import b\n")
    (package / "b.py").write_text(
        "import importlib\n"
        "def __getattr__(name):\n"
        "    return importlib.import_module('pkg.c')\n"
        "lazy = reexport(__name__, ('f',), 'pkg.d')\n"
    )
    (package / "d.py").write_text("")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import f\n"
    )
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg.b"}
    assert graph["pkg.b"] == {"pkg.c", "pkg.d"}
    assert graph["pkg.c"] == {"pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_no_import_cycle():
    assert cycles(import_graph()) == [], (
        "sk_conse has an import cycle (deferred imports count); make one of "
        "the modules a leaf, or move the shared code down a layer."
    )


def test_facades_and_leaves():
    # The public modules that gather names import their implementations at
    # the top; nothing below imports them back.
    graph = import_graph()
    facades = {
        "sk_conse.metrics": {"sk_conse._metrics", "sk_conse._scorers"},
        "sk_conse.gzsl": {"sk_conse._metrics", "sk_conse._scorers"},
        "sk_conse.embeddings": {"sk_conse._text_embeddings", "sk_conse.synsets"},
        "sk_conse.hierarchy": {"sk_conse._hierarchy", "sk_conse.wordnet"},
    }
    for facade, implementations in facades.items():
        assert implementations <= graph[facade]
        importers = {m for m, targets in graph.items() if facade in targets}
        assert importers <= {"sk_conse", "sk_conse._main"}, (facade, importers)
    # The generic hierarchy knows nothing of WordNet, the metrics nothing of
    # their scorers.
    assert graph["sk_conse._hierarchy"] <= {
        "sk_conse._docstrings",
        "sk_conse._formatting",
        "sk_conse._validation",
    }
    assert "sk_conse._scorers" not in graph["sk_conse._metrics"]
