"""Zero-shot classification by Convex combination of Semantic Embeddings.

ConSE (Norouzi et al., ICLR 2014) embeds an input as the probability-weighted
average of the semantic vectors of its ``T`` most likely *seen* labels, then
ranks *candidate* labels (unseen, or seen and unseen) by cosine similarity.

The estimators live at the top level; the rest lives in one module per
concept: :mod:`sk_conse.metrics` (hit@k, hierarchical precision@k, scorers),
:mod:`sk_conse.model_selection` (class-disjoint folds),
:mod:`sk_conse.gzsl` (generalized zero-shot: harmonic mean, pseudo-unseen
folds), :mod:`sk_conse.hierarchy` (label hierarchies), :mod:`sk_conse.wordnet`
(the WordNet noun hierarchy), :mod:`sk_conse.imagenet` (the
ImageNet 1k and 21k label sets), :mod:`sk_conse.embeddings` (label vectors
from GloVe or a sentence encoder), :mod:`sk_conse.datasets` (Fashion-MNIST,
image folders) and :mod:`sk_conse.torch_models` (torch feature extractors and
a pretrained ImageNet classifier). Those needing optional packages (torch,
gensim) import them only when used.
"""

from ._conse import ConSEClassifier
from ._conse_cv import ConSEClassifierCV
from ._devise import DeViSEClassifier
from .embeddings import sentence_embeddings, word_vector_embeddings
from .hierarchy import Hierarchy, WordNet
from .metrics import (
    hierarchical_precision_at_k_score,
    hit_at_k_score,
    make_hierarchical_precision_scorer,
    make_hit_at_k_scorer,
    make_proba_scorer,
)
from .model_selection import ClassDisjointKFold
from .torch_models import EfficientNetLite0Classifier, TorchFeatureExtractor

__version__ = "0.1.0"

__all__ = [
    "ClassDisjointKFold",
    "ConSEClassifier",
    "ConSEClassifierCV",
    "DeViSEClassifier",
    "EfficientNetLite0Classifier",
    "Hierarchy",
    "TorchFeatureExtractor",
    "WordNet",
    "__version__",
    "hierarchical_precision_at_k_score",
    "hit_at_k_score",
    "make_hierarchical_precision_scorer",
    "make_hit_at_k_scorer",
    "make_proba_scorer",
    "sentence_embeddings",
    "word_vector_embeddings",
]
