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
:func:`restrict_embeddings` keeps the labels a fitted model uses. The WordNet
synset spaces (:func:`synset_embeddings`, :func:`imagenet_embeddings`) and
their disk cache live in :mod:`sk_conse.synsets`, and are imported here too.
"""

from ._text_embeddings import (
    load_glove_6b_50d,
    load_minilm,
    restrict_embeddings,
    sentence_embeddings,
    tokenize_label,
    word_vector_embeddings,
)
from .synsets import (
    SYNSET_SPACES,
    embedding_cache_dir,
    imagenet_embeddings,
    synset_embeddings,
    synset_texts,
)

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
