"""CI installs tested versions and runs the numerical tests under two kernels.

``constraints.txt`` pins every package the extras pull in (``make install``
and ``make test`` install with ``-c constraints.txt``); ``pyproject.toml``
keeps ranges for users, with a cap on scikit-learn, whose private modules
sk_conse imports. Offline and fast: these tests only read files of the
repository.
"""

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")
requirements = pytest.importorskip("packaging.requirements")
from packaging.utils import canonicalize_name  # noqa: E402
from packaging.version import Version  # noqa: E402

ROOT = Path(__file__).parents[1]
MAKEFILE = (ROOT / "Makefile").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
NUMERICAL_TESTS = {
    "tests/test_search.py",
    "tests/test_backend.py",
    "tests/test_conse.py",
    "tests/test_bad_input.py",
    "tests/test_array_api.py",
}


def _make_variable(name):
    # The value, with its continuation lines (ending in a backslash).
    line = r"(?:[^\n]*\\\n)*[^\n]*"
    match = re.search(rf"^{name} :?= ?({line})$", MAKEFILE, re.MULTILINE)
    assert match, f"the Makefile defines no {name}"
    return " ".join(match.group(1).replace("\\\n", " ").split())


def _constraints_path():
    return ROOT / _make_variable("CONSTRAINTS")


def _pins():
    pins = {}
    for line in _constraints_path().read_text().splitlines():
        line = line.split("#", 1)[0].strip()  # uv's "# via ..." annotations
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"not an exact pin: {line!r}"
        key = canonicalize_name(name)
        assert key not in pins, f"{name} is pinned twice"
        pins[key] = Version(version)
    return pins


def _project_requirements():
    """Every requirement of the package and its extras, but the self-references."""
    specs = list(PYPROJECT["project"]["dependencies"])
    for extra in PYPROJECT["project"]["optional-dependencies"].values():
        specs.extend(extra)
    reqs = [requirements.Requirement(spec) for spec in specs]
    own = canonicalize_name(PYPROJECT["project"]["name"])
    return [req for req in reqs if canonicalize_name(req.name) != own]


def _pinned_requirement(spec):
    req = requirements.Requirement(spec)
    (specifier,) = req.specifier
    assert specifier.operator == "==", spec
    return canonicalize_name(req.name), Version(specifier.version)


def test_every_requirement_is_pinned_within_its_range():
    pins = _pins()
    reqs = _project_requirements()
    assert {"numpy", "scikit-learn", "pytest", "torch"} <= {
        canonicalize_name(r.name) for r in reqs
    }
    for req in reqs:
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} has no pin in constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"the pin {req.name}=={pins[name]} is outside pyproject's {req}"
        )


def test_scikit_learn_is_capped_at_the_minor_after_the_tested_one():
    (req,) = [r for r in _project_requirements() if r.name == "scikit-learn"]
    caps = [s for s in req.specifier if s.operator in ("<", "<=")]
    assert caps, f"{req} has no upper bound (sk_conse imports private modules)"
    tested = _pins()["scikit-learn"]
    assert tested in req.specifier
    next_minor = Version(f"{tested.major}.{tested.minor + 1}")
    assert next_minor not in req.specifier, (
        f"{req} allows {next_minor} and later, untested: scikit-learn "
        f"{tested} is the newest tested"
    )


def test_the_install_pins_match_the_constraints():
    pins = _pins()
    name, version = _pinned_requirement(_make_variable("TORCH"))
    assert pins[name] == version, "Makefile TORCH != constraints.txt"
    recipe = MAKEFILE.split("\ninstall-python:\n", 1)[1].split("\n\n", 1)[0]
    installs = [line for line in recipe.splitlines() if "pip" in line.lower()]
    assert installs, recipe
    for line in installs:
        assert "-c $(CONSTRAINTS)" in line, f"installs without the pins: {line}"


def test_make_test_reruns_the_numerical_tests_under_the_other_kernel():
    assert NUMERICAL_TESTS <= set(_make_variable("NUMERICAL_TESTS").split())
    for path in NUMERICAL_TESTS:
        assert (ROOT / path).is_file(), path
    test_recipe = MAKEFILE.split("\ntest: install\n", 1)[1].split("\n\n", 1)[0]
    assert "-m pytest" in test_recipe
    assert "$(OTHER_KERNEL_RUN)" in test_recipe
    other = _make_variable("OTHER_KERNEL_RUN")
    assert "env OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=512" in other
    assert "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE" in other
    assert "$(NUMERICAL_TESTS)" in other
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_tests_leave_the_blas_kernel_to_the_makefile():
    # Which kernel runs is chosen by `make test`, never inside the suite: no
    # test module nor conftest sets OPENBLAS_* (reading it is fine).
    setting = re.compile(
        r"(setenv|putenv|environ\[|environ\.(update|setdefault))[^\n]*OPENBLAS_"
    )
    for path in sorted((ROOT / "tests").glob("*.py")):
        if path.name == Path(__file__).name:
            continue
        match = setting.search(path.read_text())
        assert match is None, f"{path.name} sets the BLAS kernel: {match[0]}"


def test_the_constraints_come_from_a_resolver():
    # constraints.txt is uv's output for pyproject.toml's extras, written by
    # the Makefile's `constraints` target, not by a hand-made script.
    header = _constraints_path().read_text().splitlines()[:2]
    assert header == [
        "# This file was autogenerated by uv via the following command:",
        "#    make constraints",
    ]
    recipe = MAKEFILE.split("\nconstraints:\n", 1)[1].split("\n\n", 1)[0]
    assert "uv pip compile pyproject.toml" in recipe
    assert "$(PIP) install --quiet $(UV)" in recipe
    _pinned_requirement(_make_variable("UV"))  # the resolver is pinned too
    extras = set(re.findall(r"[a-z]+", _make_variable("EXTRAS").split("[")[1]))
    assert extras == set(re.search(r"foreach extra,([a-z ]+),", recipe)[1].split())


def test_torch_source_is_one_overridable_setting():
    # Empty by default: torch comes from the package index like everything
    # else; `make install TORCH_INDEX=...` picks another index.
    assert re.search(r"^TORCH_INDEX \?=$", MAKEFILE, re.MULTILINE)
    recipe = MAKEFILE.split("\ninstall-python:\n", 1)[1].split("\n\n", 1)[0]
    (torch_line,) = [line for line in recipe.splitlines() if "$(TORCH)" in line]
    assert "$(TORCH_FROM)" in torch_line
    assert MAKEFILE.count("$(TORCH_FROM)") == 1
    assert "timm" not in MAKEFILE.lower().replace("imagenet", "")


def test_all_extra_is_what_runs_the_package():
    extras = PYPROJECT["project"]["optional-dependencies"]
    (spec,) = extras["all"]
    inside = set(requirements.Requirement(spec).extras)
    assert inside == {"torch", "embeddings", "hierarchy", "dask", "plot"}
    tools = {"pytest", "hypothesis", "sphinx", "sphinx-gallery", "ruff", "numpydoc"}
    for extra in inside:
        names = {
            canonicalize_name(requirements.Requirement(r).name) for r in extras[extra]
        }
        assert not names & tools, (extra, names & tools)
    assert {"test", "docs", "lint"} <= set(extras)


def test_version_is_written_once():
    import sk_conse

    assert "version" not in PYPROJECT["project"]
    assert "version" in PYPROJECT["project"]["dynamic"]
    attr = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "sk_conse.__version__"
    assert re.fullmatch(r"\d+\.\d+\.\d+", sk_conse.__version__)
    assert PYPROJECT["project"]["urls"]


def test_the_21k_synset_list_is_package_data():
    data = PYPROJECT["tool"]["setuptools"]["package-data"]["sk_conse"]
    assert "data/*.txt" in data
    assert (ROOT / "sk_conse" / "data" / "imagenet21k_goog_synsets.txt").is_file()
