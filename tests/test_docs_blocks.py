"""Every Python code block of README.rst and docs/*.rst runs as printed, alone.

Each ``.. code-block:: python`` block is written to a file and run as a
script (``python block.py``, so ``if __name__ == "__main__":`` guards work)
in a fresh interpreter, in an empty folder: a block that uses a name it does
not define, or that needs the block before it, fails here as it would for a
reader who copies it.

A block that cannot run on a CI machine says so in the page, in an rST
comment right above it, which this test turns into a skip with that reason:

- ``.. docs-test: skip <reason>``: never run here (the reason is shown);
- ``.. docs-test: needs-cuda``: run only where torch sees a CUDA device.

Literal blocks (a paragraph ending in ``::``) are not run, so they must not
hold Python: a literal block that parses as Python fails, asking for an
explicit ``.. code-block:: python``.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.rst", *sorted((ROOT / "docs").glob("*.rst"))]
# The longest a block may take: a slow block is a bad example as well.
TIMEOUT_S = 240

_DIRECTIVE = re.compile(r"^\s*\.\. code-block::\s*(\S*)\s*$")
_MARK = re.compile(r"^\s*\.\. docs-test:\s*(.*?)\s*$")


def _body(lines: list[str], start: int) -> tuple[str, int]:
    """The indented block that starts after line ``start`` (options skipped)."""
    indent = len(lines[start]) - len(lines[start].lstrip())
    i = start + 1
    body = []
    while i < len(lines) and (
        not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
    ):
        body.append(lines[i])
        i += 1
    text = textwrap.dedent("\n".join(body)).strip("\n")
    # Directive options (":caption: ...") come first.
    text_lines = text.splitlines()
    while text_lines and re.match(r"^:[\w-]+:", text_lines[0]):
        text_lines.pop(0)
    return textwrap.dedent("\n".join(text_lines)).strip("\n") + "\n", i


def _blocks(page: Path) -> tuple[list, list]:
    """(python blocks, literal blocks) of a page, with line numbers and marks."""
    lines = page.read_text().splitlines()
    python, literal = [], []
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _DIRECTIVE.match(line)
        if match:
            language = match.group(1)
            code, end = _body(lines, i)
            if language in ("python", "python3", "py"):
                mark = None
                j = i - 1
                while j >= 0 and not lines[j].strip():
                    j -= 1
                if j >= 0 and _MARK.match(lines[j]):
                    mark = _MARK.match(lines[j]).group(1)
                python.append((i + 1, code, mark))
            i = end
            continue
        stripped = line.rstrip()
        if (
            stripped.endswith("::")
            and not stripped.lstrip().startswith("..")
            and i + 1 < len(lines)
        ):
            code, end = _body(lines, i)
            literal.append((i + 1, code))
            i = end
            continue
        i += 1
    return python, literal


def _cases():
    for page in PAGES:
        python, _ = _blocks(page)
        for line, code, mark in python:
            name = f"{page.relative_to(ROOT)}:{line}"
            yield pytest.param(page, line, code, mark, id=name)


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def test_pages_have_python_blocks():
    n = sum(len(_blocks(page)[0]) for page in PAGES)
    assert n >= 20, n


@pytest.mark.parametrize(("page", "line", "code", "mark"), list(_cases()))
def test_block_runs_alone(page, line, code, mark, tmp_path):
    if mark is not None:
        if mark.startswith("skip"):
            reason = mark[len("skip") :].strip()
            assert reason, f"{page.name}:{line}: give a reason after 'skip'"
            pytest.skip(reason)
        elif mark == "needs-cuda":
            if not _cuda_available():
                pytest.skip("needs a CUDA GPU (torch.cuda.is_available() is False)")
        else:
            pytest.fail(f"{page.name}:{line}: unknown docs-test mark {mark!r}")
    script = tmp_path / "block.py"
    script.write_text(code)
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    env.pop("SCIPY_ARRAY_API", None)  # a block that needs it sets it itself
    env["SK_CONSE_CACHE_DIR"] = str(tmp_path / "cache")  # as on a fresh machine
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), env.get("PYTHONPATH")) if p
    )
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    if result.returncode != 0:
        pytest.fail(
            f"The block at {page.relative_to(ROOT)}:{line} fails when run alone "
            f"(exit {result.returncode}):\n{code}\n--- stderr ---\n"
            f"{result.stderr[-4000:]}"
        )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_literal_blocks_hold_no_python(page):
    """Python goes in ``.. code-block:: python``, where the test above runs it."""
    _, literal = _blocks(page)
    for line, code in literal:
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue  # shell commands, output, prose
        if any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in tree.body):
            pytest.fail(
                f"{page.relative_to(ROOT)}:{line} is a literal block ('::') "
                "holding Python, which no test runs: make it a "
                "'.. code-block:: python' block (runnable alone), or "
                "'.. code-block:: console' for shell commands."
            )


def test_marks_and_parser_on_a_small_page(tmp_path):
    page = tmp_path / "page.rst"
    page.write_text(
        "Title\n=====\n\n.. docs-test: skip needs the network\n\n"
        ".. code-block:: python\n\n    import os\n    print(os.sep)\n\n"
        "Run this::\n\n    python -m sk_conse\n\nText.\n"
    )
    python, literal = _blocks(page)
    assert python == [(6, "import os\nprint(os.sep)\n", "skip needs the network")]
    assert literal == [(11, "python -m sk_conse\n")]
