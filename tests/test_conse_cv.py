"""ConSEClassifierCV: GridSearchCV's choice from one base fit per fold."""

import numpy as np
import pytest
import sklearn
from _shared import CountingLogisticRegression, count_calls
from sklearn.exceptions import NotFittedError, UnsetMetadataPassedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

from sk_conse import ClassDisjointKFold, ConSEClassifier, make_hit_at_k_scorer
from sk_conse._conse_cv import ConSEClassifierCV
from sk_conse.gzsl import PseudoUnseenSplit, make_harmonic_mean_scorer


def _same_choice(cv_est, search):
    assert cv_est.best_params_ == search.best_params_
    assert cv_est.best_index_ == search.best_index_
    assert cv_est.best_score_ == search.best_score_
    assert cv_est.cv_results_["params"] == search.cv_results_["params"]
    for key, value in cv_est.cv_results_.items():
        if key.endswith("_test_score"):
            np.testing.assert_array_equal(value, search.cv_results_[key], key)
        elif key.startswith("param_"):
            assert list(value) == list(search.cv_results_[key]), key


def test_zero_shot_choice_equals_grid_search(problem, log):
    X, y, embeddings = problem
    base = CountingLogisticRegression(log=str(log))
    cv = ClassDisjointKFold(n_splits=4)
    scorer = make_hit_at_k_scorer(k=2)
    Ts = [1, 2, 3, 5, None]
    cv_est = ConSEClassifierCV(base, embeddings, Ts=Ts, cv=cv, scoring=scorer)
    cv_est.fit(X, y)
    assert count_calls(log, "fit") == 4 + 1
    # One predict_proba per fold (one batch each) and none in the refit.
    assert count_calls(log, "predict_proba") == 4

    search = GridSearchCV(
        ConSEClassifier(LogisticRegression(), embeddings),
        {"T": Ts, "seen_penalty": [0.0]},
        cv=cv,
        scoring=scorer,
    ).fit(X, y)
    _same_choice(cv_est, search)
    # Hit@2 differs between grid points: the test can see a wrong choice.
    assert len(set(cv_est.cv_results_["mean_test_score"])) > 1
    np.testing.assert_array_equal(
        cv_est.decision_function(X), search.best_estimator_.decision_function(X)
    )
    np.testing.assert_array_equal(cv_est.predict(X), search.predict(X))
    np.testing.assert_array_equal(cv_est.classes_, search.best_estimator_.classes_)


def test_generalized_choice_equals_grid_search(problem, log):
    X, y, embeddings = problem
    grid = {"T": [1, 3, None], "seen_penalty": [0.0, 0.1, 0.2, 0.4]}
    cv = PseudoUnseenSplit(n_splits=3, n_unseen=3, random_state=0)
    scorer = make_harmonic_mean_scorer()
    cv_est = ConSEClassifierCV(
        CountingLogisticRegression(log=str(log)),
        embeddings,
        Ts=grid["T"],
        seen_penalties=grid["seen_penalty"],
        candidate_labels="all",
        cv=cv,
        scoring=scorer,
        batch_size=16,  # several batches per fold, each predicted once
    ).fit(X, y)
    assert count_calls(log, "fit") == 3 + 1
    search = GridSearchCV(
        ConSEClassifier(LogisticRegression(), embeddings, candidate_labels="all"),
        grid,
        cv=cv,
        scoring=scorer,
    ).fit(X, y)
    _same_choice(cv_est, search)
    assert cv_est.best_params_["seen_penalty"] > 0  # the penalty matters here
    assert cv_est.best_estimator_.seen_penalty == cv_est.best_params_["seen_penalty"]


def _mean_log_proba(estimator, X, y):
    """Log likelihood of the true labels among the candidates: it depends on
    the temperature, which hit@k does not."""
    proba = estimator.predict_proba(X)
    columns = np.searchsorted(estimator.classes_, y)
    return float(np.mean(np.log(proba[np.arange(len(y)), columns])))


def test_temperature_is_tuned_when_given(problem):
    X, y, embeddings = problem
    cv = ClassDisjointKFold(n_splits=3)
    grid = {"T": [1, 3], "seen_penalty": [0.0], "temperature": [0.05, 1.0, 5.0]}
    cv_est = ConSEClassifierCV(
        LogisticRegression(),
        embeddings,
        Ts=grid["T"],
        temperatures=grid["temperature"],
        cv=cv,
        scoring=_mean_log_proba,
    ).fit(X, y)
    search = GridSearchCV(
        ConSEClassifier(LogisticRegression(), embeddings),
        grid,
        cv=cv,
        scoring=_mean_log_proba,
    ).fit(X, y)
    _same_choice(cv_est, search)
    assert cv_est.best_params_["temperature"] != 5.0
    assert len(set(cv_est.cv_results_["mean_test_score"])) == 6


def test_normalize_embeddings_reaches_the_folds_and_the_refit(problem):
    """Label vectors of very different norms: unit vectors change the fold
    scores, and the choice is GridSearchCV's over
    ConSEClassifier(normalize_embeddings=True)."""
    X, y, embeddings = problem
    rng = np.random.RandomState(0)
    scaled = {label: v * rng.uniform(0.5, 8.0) for label, v in embeddings.items()}
    cv = ClassDisjointKFold(n_splits=3)
    Ts = [2, 4, None]
    cv_est = ConSEClassifierCV(
        LogisticRegression(), scaled, Ts=Ts, cv=cv, normalize_embeddings=True
    ).fit(X, y)
    assert cv_est.best_estimator_.normalize_embeddings is True
    search = GridSearchCV(
        ConSEClassifier(LogisticRegression(), scaled, normalize_embeddings=True),
        {"T": Ts, "seen_penalty": [0.0]},
        cv=cv,
        scoring=make_hit_at_k_scorer(k=1),
    ).fit(X, y)
    _same_choice(cv_est, search)
    raw = ConSEClassifierCV(LogisticRegression(), scaled, Ts=Ts, cv=cv).fit(X, y)
    scores = cv_est.cv_results_["mean_test_score"]
    assert not np.array_equal(scores, raw.cv_results_["mean_test_score"])


def test_int_cv_means_class_disjoint_folds(problem):
    X, y, embeddings = problem
    a = ConSEClassifierCV(LogisticRegression(), embeddings, Ts=[1, 4], cv=3)
    b = ConSEClassifierCV(
        LogisticRegression(), embeddings, Ts=[1, 4], cv=ClassDisjointKFold(3)
    )
    a.fit(X, y)
    b.fit(X, y)
    assert a.n_splits_ == 3
    np.testing.assert_array_equal(
        a.cv_results_["mean_test_score"], b.cv_results_["mean_test_score"]
    )


def test_sample_weight_reaches_each_fold(problem, log):
    X, y, embeddings = problem
    weights = np.where(np.arange(len(y)) % 2, 1.0, 3.0)
    est = ConSEClassifierCV(LogisticRegression(), embeddings, Ts=[2], cv=3)
    weighted = est.fit(X, y, sample_weight=weights).cv_results_["mean_test_score"]
    unweighted = est.fit(X, y).cv_results_["mean_test_score"]
    search = GridSearchCV(
        ConSEClassifier(LogisticRegression(), embeddings, T=2),
        {"T": [2], "seen_penalty": [0.0]},
        cv=ClassDisjointKFold(3),
        scoring=make_hit_at_k_scorer(1),
    ).fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(weighted, search.cv_results_["mean_test_score"])
    assert not np.array_equal(weighted, unweighted)


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"Ts": [0, 2]}, InvalidParameterError, "'T' parameter"),
        ({"seen_penalties": ["a"]}, InvalidParameterError, "'seen_penalty'"),
        ({"Ts": []}, ValueError, "grid of T is empty"),
        ({"n_jobs": "two"}, InvalidParameterError, "'n_jobs' parameter"),
        ({"base_estimator": object()}, InvalidParameterError, "'base_estimator'"),
    ],
)
def test_bad_parameters_fail_before_any_fit(problem, log, params, error, match):
    X, y, embeddings = problem
    kwargs = {"base_estimator": CountingLogisticRegression(log=str(log)), **params}
    with pytest.raises(error, match=match):
        ConSEClassifierCV(label_embeddings=embeddings, **kwargs).fit(X, y)
    assert count_calls(log, "fit") == 0


def test_unfitted_raises(problem):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ConSEClassifierCV(LogisticRegression(), problem[2]).predict(problem[0])


def test_cv_without_splits_raises(problem, log):
    X, y, embeddings = problem
    base = CountingLogisticRegression(log=str(log))
    with pytest.raises(ValueError, match=r"cv=\[\] gave no train/test split"):
        ConSEClassifierCV(base, embeddings, cv=[]).fit(X, y)
    assert count_calls(log, "fit") == 0


class WeightRecordingLogisticRegression(CountingLogisticRegression):
    """Notes the sample_weight each fit receives (one line of ints, or None)."""

    def fit(self, X, y, sample_weight=None):
        if sample_weight is None:
            self._note("weights None")
        else:
            self._note("weights " + " ".join(str(int(w)) for w in sample_weight))
        return super().fit(X, y, sample_weight=sample_weight)


def _received_weights(log):
    return [
        line.split(" ", 1)[1]
        for line in log.read_text().splitlines()
        if line.startswith("weights ")
    ]


def _as_line(weights):
    return " ".join(str(int(w)) for w in weights)


@pytest.mark.parametrize("request_as", [True, "fold_weight"])
def test_metadata_routing_sends_sample_weight_to_every_fold_and_refit(
    problem, log, request_as
):
    X, y, embeddings = problem
    weights = np.arange(1, len(y) + 1, dtype=np.float64)  # names the rows
    name = "sample_weight" if request_as is True else request_as
    cv = ClassDisjointKFold(3)
    with sklearn.config_context(enable_metadata_routing=True):
        base = WeightRecordingLogisticRegression(log=str(log)).set_fit_request(
            sample_weight=request_as
        )
        est = ConSEClassifierCV(base, embeddings, Ts=[1, 2], cv=cv)
        est.fit(X, y, **{name: weights})
    expected = [_as_line(weights[train]) for train, _ in cv.split(X, y)]
    expected.append(_as_line(weights))  # the refit, on all rows
    assert _received_weights(log) == expected
    assert est.best_estimator_.base_estimator_.lr_.coef_.shape[0] == 12


def test_metadata_routing_matches_grid_search(problem):
    X, y, embeddings = problem
    weights = np.where(np.arange(len(y)) % 2, 1.0, 3.0)
    with sklearn.config_context(enable_metadata_routing=True):
        base = LogisticRegression().set_fit_request(sample_weight=True)
        scorer = make_hit_at_k_scorer(1).set_score_request(sample_weight=True)
        est = ConSEClassifierCV(
            base, embeddings, Ts=[1, 2, 4], cv=3, scoring=scorer
        ).fit(X, y, sample_weight=weights)
        search = GridSearchCV(
            ConSEClassifier(base, embeddings),
            {"T": [1, 2, 4], "seen_penalty": [0.0]},
            cv=ClassDisjointKFold(3),
            scoring=scorer,
        ).fit(X, y, sample_weight=weights)
    _same_choice(est, search)


def test_metadata_routing_unrequested_sample_weight_fails_before_any_fit(problem, log):
    X, y, embeddings = problem
    weights = np.ones(len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        base = WeightRecordingLogisticRegression(log=str(log))
        est = ConSEClassifierCV(base, embeddings, Ts=[1], cv=3)
        with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
            est.fit(X, y, sample_weight=weights)
    assert count_calls(log, "fit") == 0


def test_delegates_every_prediction_method_to_the_best_estimator(problem):
    X, y, embeddings = problem
    cv_est = ConSEClassifierCV(LogisticRegression(), embeddings, Ts=[1, 3], cv=3)
    cv_est.fit(X, y)
    best = cv_est.best_estimator_
    for method in ("decision_function", "predict_proba", "predict", "transform"):
        np.testing.assert_array_equal(
            getattr(cv_est, method)(X[:5]), getattr(best, method)(X[:5])
        )
    labels, scores = cv_est.predict_top_k(X[:5], k=2)
    best_labels, best_scores = best.predict_top_k(X[:5], k=2)
    np.testing.assert_array_equal(labels, best_labels)
    np.testing.assert_array_equal(scores, best_scores)
    explanation = cv_est.explain(X[:5], k=2)
    np.testing.assert_array_equal(explanation.scores, best.explain(X[:5], k=2).scores)
    wider = cv_est.with_candidates("all")
    assert isinstance(wider, ConSEClassifier)
    assert set(y) <= set(wider.classes_)
    assert wider.get_params()["T"] == cv_est.best_params_["T"]


def test_delegated_methods_need_a_fit(problem):
    X, _, embeddings = problem
    cv_est = ConSEClassifierCV(LogisticRegression(), embeddings)
    for method in ("predict_top_k", "explain", "with_candidates", "predict"):
        assert hasattr(cv_est, method)
    with pytest.raises(NotFittedError):
        cv_est.explain(X)
    with pytest.raises(NotFittedError):
        cv_est.with_candidates("all")


def test_a_method_the_best_estimator_lacks_is_not_offered(problem):
    X, y, embeddings = problem
    cv_est = ConSEClassifierCV(LogisticRegression(), embeddings, Ts=[1], cv=3)
    cv_est.fit(X, y)
    object.__setattr__(cv_est, "best_estimator_", _NoExplain(cv_est.best_estimator_))
    assert not hasattr(cv_est, "explain")
    assert hasattr(cv_est, "predict")


class _NoExplain:
    def __init__(self, inner):
        self.predict = inner.predict


def test_the_documented_usage_is_warning_free(problem):
    """The user guide's recipe (the seen labels' vectors only, class-disjoint
    folds, then with_candidates) always raised NoCandidateLabelsWarning from
    the refit, whose empty candidate set is its expected outcome."""
    import warnings

    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline

    from sk_conse.exceptions import NoCandidateLabelsWarning

    X, y, vectors = problem
    seen_vectors = {label: vectors[label] for label in set(y)}
    search = ConSEClassifierCV(
        make_pipeline(PCA(4, random_state=0), LogisticRegression(max_iter=300)),
        seen_vectors,
        Ts=[1, 2, 5],
        cv=ClassDisjointKFold(n_splits=4, shuffle=True, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        search.fit(X, y)
        model = search.best_estimator_.with_candidates(
            "unseen", label_embeddings=vectors
        )
        assert model.predict(X).shape == (len(X),)
    assert len(search.classes_) == 0
    np.testing.assert_array_equal(model.classes_, ["c12", "c13", "c14"])
    # Prediction names the way out.
    with pytest.raises(ValueError, match=r"with_candidates\(labels, label_embed"):
        search.predict(X)
    # Only the CV's refit is quiet: a ConSEClassifier fitted afterwards, in
    # this thread, still warns.
    with pytest.warns(NoCandidateLabelsWarning):
        ConSEClassifier(LogisticRegression(), seen_vectors).fit(X, y)


class _NotAnEstimator:
    """fit and predict_proba, but no get_params and no tags."""

    def fit(self, X, y):
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


@pytest.mark.parametrize("which", ["conse", "cv", "grid"])
def test_a_base_that_is_not_an_estimator_is_refused_in_one_line(problem, which):
    """It got scikit-learn's __sklearn_tags__ error, nested three times."""
    X, y, vectors = problem
    estimator = {
        "conse": ConSEClassifier(_NotAnEstimator(), vectors),
        "cv": ConSEClassifierCV(_NotAnEstimator(), vectors, Ts=[1], cv=3),
        "grid": GridSearchCV(
            ConSEClassifier(_NotAnEstimator(), vectors),
            {"T": [1]},
            cv=ClassDisjointKFold(3),
            error_score="raise",
        ),
    }[which]
    with pytest.raises(TypeError) as error:
        estimator.fit(X, y)
    message = str(error.value)
    assert message.startswith(
        "The base estimator _NotAnEstimator is not a scikit-learn estimator (it "
        "has no get_params and no __sklearn_tags__)"
    )
    assert "class _NotAnEstimator(ClassifierMixin, BaseEstimator)" in message
    assert "The following error was raised" not in message
    assert "\n" not in message
