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
