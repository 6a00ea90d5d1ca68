"""Ranking metrics for zero-shot classification and their scorers.

The flat hit@k and the hierarchical precision@k are the two measures used by
ConSE (Norouzi et al., ICLR 2014) and DeViSE (Frome et al., NIPS 2013) to
report zero-shot ImageNet results. The scorers take the label set from the
fitted estimator's ``classes_`` and ask the estimator for its ``k`` best labels
only (``predict_top_k``) when it can, so they work on class-disjoint
cross-validation folds and with tens of thousands of candidate labels.
"""

from ._metrics import (
    expected_calibration_error,
    hierarchical_precision_at_k_score,
    hit_at_k_score,
)
from ._scorers import (
    make_hierarchical_precision_scorer,
    make_hit_at_k_scorer,
    make_proba_scorer,
)

__all__ = [
    "expected_calibration_error",
    "hierarchical_precision_at_k_score",
    "hit_at_k_score",
    "make_hierarchical_precision_scorer",
    "make_hit_at_k_scorer",
    "make_proba_scorer",
]
