"""Warnings of sk_conse.

Each names what happened and the fix, like :mod:`sklearn.exceptions`.
"""

__all__ = ["NoCandidateLabelsWarning", "NonCandidateLabelsWarning"]


class NoCandidateLabelsWarning(UserWarning):
    """A fit left no candidate label to rank.

    With ``candidate_labels="unseen"`` and label vectors for the seen labels
    only, every embedded label was seen in fit: prediction methods will raise.
    Give ``label_embeddings`` vectors for the labels to predict, use
    ``candidate_labels="all"``, or give the fitted model new candidates with
    :meth:`~sk_conse.ConSEClassifier.with_candidates`.

    Examples
    --------
    >>> import warnings
    >>> from sk_conse.exceptions import NoCandidateLabelsWarning
    >>> issubclass(NoCandidateLabelsWarning, UserWarning)
    True
    """


class NonCandidateLabelsWarning(UserWarning):
    """Some true labels given to ``score`` are not candidate labels.

    The model can never predict them, so they count as errors.

    Examples
    --------
    >>> from sk_conse.exceptions import NonCandidateLabelsWarning
    >>> issubclass(NonCandidateLabelsWarning, UserWarning)
    True
    """


class SeenLabelsScoredWarning(UserWarning):
    """A zero-shot model was scored on true labels it was trained on.

    The number is not a zero-shot score: the labels were seen in fit, so
    they were ranked among the candidates in the *generalized* setting (or
    are candidates themselves). Raised by the scorers of
    :mod:`sk_conse.metrics` when a test fold holds seen labels, as
    :class:`~sklearn.model_selection.KFold` or
    :class:`~sklearn.model_selection.StratifiedKFold` folds do. For
    zero-shot scores, split the classes with
    :class:`~sk_conse.model_selection.ClassDisjointKFold`.

    Examples
    --------
    >>> from sk_conse.exceptions import SeenLabelsScoredWarning
    >>> issubclass(SeenLabelsScoredWarning, UserWarning)
    True
    """


class TrivialScoreWarning(UserWarning):
    """A ranking score does not depend on the ranking.

    hit@k with no more candidate labels than ``k`` is 1 for every model:
    every candidate is among the ``k`` best. Use a smaller ``k``, or more
    candidates per fold (fewer, larger folds of
    :class:`~sk_conse.model_selection.ClassDisjointKFold`).

    Examples
    --------
    >>> from sk_conse.exceptions import TrivialScoreWarning
    >>> issubclass(TrivialScoreWarning, UserWarning)
    True
    """


__all__ += ["SeenLabelsScoredWarning", "TrivialScoreWarning"]
