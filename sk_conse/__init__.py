"""Zero-shot classification by Convex combination of Semantic Embeddings.

ConSE (Norouzi et al., ICLR 2014) embeds an input as the probability-weighted
average of the semantic vectors of its ``T`` most likely *seen* labels, then
ranks *candidate* labels (unseen, or seen and unseen) by cosine similarity.
"""

from ._conse import ConSEClassifier

__version__ = "0.1.0"

__all__ = ["ConSEClassifier", "__version__"]
