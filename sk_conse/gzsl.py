"""Generalized zero-shot learning: evaluation and tuning of calibrated stacking.

In *generalized* zero-shot learning (GZSL) test inputs come from seen and
unseen labels alike, and both kinds of label are candidates
(``candidate_labels="all"``). Scores then favour the seen labels, and the
accuracy on unseen labels collapses. Calibrated stacking (Chao et al., ECCV
2016) subtracts a constant ``seen_penalty`` from the score of every seen
label; this module provides what is needed to choose it soundly:

- :func:`seen_unseen_accuracy` and :func:`harmonic_mean_score`, the
  per-class-averaged accuracies on seen and unseen labels and their harmonic
  mean H (Xian et al., CVPR 2017), and :func:`make_harmonic_mean_scorer`;
- :class:`~sk_conse.model_selection.PseudoUnseenSplit` (imported here too), a
  cross-validator that turns some *seen*
  labels into pseudo-unseen labels in each fold, so that validation folds
  hold both seen and unseen labels without touching the real unseen labels.
"""

from ._metrics import harmonic_mean_score, seen_unseen_accuracy
from ._scorers import make_harmonic_mean_scorer
from .model_selection import PseudoUnseenSplit

__all__ = [
    "PseudoUnseenSplit",
    "harmonic_mean_score",
    "make_harmonic_mean_scorer",
    "seen_unseen_accuracy",
]
