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
    :class:`~sk_conse.ConSEClassifierCV` does not warn for its refit: with
    the vectors of the seen labels only, its documented use, no candidate is
    the expected outcome.

    Examples
    --------
    Label vectors for the seen labels only leave nothing to rank:

    >>> import warnings
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sk_conse import ConSEClassifier
    >>> X, y = [[0.0], [0.1], [3.0], [3.1]], ["cat", "cat", "car", "car"]
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     clf = ConSEClassifier(LogisticRegression(), {"cat": [1, 0], "car": [0, 1]})
    ...     clf = clf.fit(X, y)
    >>> caught[0].category.__name__
    'NoCandidateLabelsWarning'
    >>> clf.with_candidates("all").predict([[3.0]])
    array(['car'], dtype='<U3')
    """


class NonCandidateLabelsWarning(UserWarning):
    """Some true labels given to ``score`` are not candidate labels.

    The model can never predict them, so they count as errors.

    Examples
    --------
    With ``candidate_labels="unseen"``, a seen label among the true labels is
    an error that no model could avoid:

    >>> import warnings
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sk_conse import ConSEClassifier
    >>> from sk_conse.exceptions import NonCandidateLabelsWarning
    >>> vectors = {"cat": [1.0, 0.1], "car": [0.0, 1.0], "lion": [1.0, 0.0]}
    >>> clf = ConSEClassifier(LogisticRegression(), vectors)
    >>> clf = clf.fit([[0.0], [0.1], [3.0], [3.1]], ["cat", "cat", "car", "car"])
    >>> clf.classes_
    array(['lion'], dtype='<U4')
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", NonCandidateLabelsWarning)
    ...     clf.score([[0.0], [3.0]], ["lion", "car"])
    0.5
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

    A scorer warns once per situation (the model's class, the seen labels in
    ``y``, whether they were ranked as candidates or added to them): not
    again for every fold and grid point of one search.

    Examples
    --------
    A generalized zero-shot model scored on its own training labels:

    >>> import warnings
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sk_conse import ConSEClassifier
    >>> from sk_conse.metrics import make_hit_at_k_scorer
    >>> X, y = [[0.0], [0.1], [3.0], [3.1]], ["cat", "cat", "car", "car"]
    >>> vectors = {"cat": [1.0, 0.1], "car": [0.0, 1.0], "lion": [1.0, 0.0]}
    >>> clf = ConSEClassifier(LogisticRegression(), vectors, candidate_labels="all")
    >>> scorer = make_hit_at_k_scorer(k=1)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     score = scorer(clf.fit(X, y), X, y)
    >>> caught[0].category.__name__
    'SeenLabelsScoredWarning'
    """


class TrivialScoreWarning(UserWarning):
    """A ranking score does not depend on the ranking.

    hit@k with no more candidate labels than ``k`` is 1 for every model:
    every candidate is among the ``k`` best. Use a smaller ``k``, or more
    candidates per fold (fewer, larger folds of
    :class:`~sk_conse.model_selection.ClassDisjointKFold`).

    Examples
    --------
    Two labels, ``k=2``: every sample is a hit, whatever the scores. As an
    error, in a test suite for example:

    >>> import warnings
    >>> from sk_conse.exceptions import TrivialScoreWarning
    >>> from sk_conse.metrics import hit_at_k_score
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", TrivialScoreWarning)
    ...     try:
    ...         hit_at_k_score(["cat", "dog"], [[0.9, 0.1], [0.6, 0.4]], k=2)
    ...     except TrivialScoreWarning as warning:
    ...         print(str(warning).split(":")[0])
    hit@2 is 1 whatever the scores
    """


__all__ += ["SeenLabelsScoredWarning", "TrivialScoreWarning"]
