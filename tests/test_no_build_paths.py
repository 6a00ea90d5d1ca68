"""No tracked file names a path that exists only on a build machine.

A user's clone has no project-private data folder, no scratch folder of a
previous run and no developer's home: a default, a command in the README or
a test that reads such a path works for its author only. Data comes from
the fetchers (``sk_conse.datasets.fetch_cifar10``), from packages (Debian's
``/usr/share/wordnet``, ``/usr/share/datasets``) or from a path the user
gives.
"""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Fragments that only make sense on a build machine.
FORBIDDEN = [
    r"/work/",  # the build machines' checkout and shared data
    r"shared/data",  # the project-private data folder
    r"""["']shared["']\s*/\s*["']data["']""",  # the same, built with pathlib
    r"cifar10-sample",  # the private CIFAR-10 sample (use fetch_cifar10)
    r"/root/",
    r"/home/\w",
    r"\.pyenv/",
    r"/tmp/[\w.-]+",  # scratch output of someone's run
]

#: Illustrative /tmp paths that are not a build machine's: a doctest's cache
#: folder and a throwaway git worktree in a usage note.
ALLOWED_TMP = {"/tmp/my_cache", "/tmp/old"}

#: Files whose job is to name the patterns.
SKIP = {"tests/test_no_build_paths.py"}


def _tracked_files():
    try:
        done = subprocess.run(
            ["git", "ls-files", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"not a git checkout: {exc}")
    return [name for name in done.stdout.decode().split("\0") if name]


def _offences(text):
    found = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for pattern in FORBIDDEN:
            for match in re.finditer(pattern, line):
                if match.group(0) in ALLOWED_TMP:
                    continue
                found.append((lineno, match.group(0), line.strip()))
    return found


def test_patterns_catch_build_paths_and_spare_package_paths():
    assert _offences('DEFAULT = REPO.parent / "shared" / "data" / "x"')
    assert _offences("--images /work/shared/data/cifar10-sample")
    assert _offences("--out /tmp/conse_work/results2")
    assert _offences("x = '/home/alice/data'")
    assert not _offences("/usr/share/wordnet/data.noun")
    assert not _offences("/usr/share/datasets/fashion-mnist")
    assert not _offences('embedding_cache_dir("/tmp/my_cache")')


def test_no_tracked_file_names_a_build_machine_path():
    offences = []
    for name in _tracked_files():
        path = ROOT / name
        if name in SKIP or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary files
        offences += [
            f"{name}:{n}: {hit!r} in {line}" for n, hit, line in _offences(text)
        ]
    assert not offences, "build-machine paths in tracked files:\n" + "\n".join(offences)
