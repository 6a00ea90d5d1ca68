"""ConSEClassifier as a scikit-learn citizen: Pipeline, clone, search, repr."""

import warnings

import numpy as np
import pytest
from _shared import make_zero_shot_problem
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_conse import ConSEClassifier
from sk_conse.exceptions import NoCandidateLabelsWarning, SeenLabelsScoredWarning
from sk_conse.metrics import make_hit_at_k_scorer
from sk_conse.model_selection import ClassDisjointKFold


def _problem(n_classes=8, n_unseen=3, q=6, n_per_class=25, seed=0):
    """Classes whose features are a noisy linear image of their vectors."""
    labels = [f"c{i}" for i in range(n_classes + n_unseen)]
    return make_zero_shot_problem(
        labels,
        n_seen=n_classes,
        n_per_class=n_per_class,
        n_dims=q,
        n_features=10,
        noise=0.3,
        seed=seed,
    )


def test_clone_keeps_parameters_and_drops_fitted_state():
    X, y, emb = _problem()
    clf = ConSEClassifier(LogisticRegression(C=0.5), emb, T=3).fit(X, y)
    twin = clone(clf)
    assert twin.get_params()["T"] == 3
    assert twin.get_params()["base_estimator__C"] == 0.5
    assert not hasattr(twin, "classes_")


def test_pipeline_predicts_like_the_bare_estimator_on_scaled_input():
    X, y, emb = _problem()
    pipe = make_pipeline(
        StandardScaler(), ConSEClassifier(LogisticRegression(), emb, T=2)
    ).fit(X, y)
    bare = ConSEClassifier(LogisticRegression(), emb, T=2).fit(
        StandardScaler().fit_transform(X), y
    )
    Xs = StandardScaler().fit(X).transform(X)
    np.testing.assert_array_equal(pipe.predict(X), bare.predict(Xs))


def test_grid_search_over_T_and_base_C_with_class_disjoint_folds():
    # The user guide's recipe: vectors for the seen labels of the search
    # only, then the tuned model is given the labels to predict.
    X, y, emb = _problem(n_classes=9, n_unseen=3)
    seen = {label: emb[label] for label in np.unique(y)}
    search = GridSearchCV(
        ConSEClassifier(LogisticRegression(max_iter=500), seen),
        {"T": [1, 3, 9], "base_estimator__C": [0.1, 1.0]},
        cv=ClassDisjointKFold(3),
        scoring=make_hit_at_k_scorer(1),
    )
    # The refit on all data has no unseen label left: it warns, naming the fix.
    with pytest.warns(NoCandidateLabelsWarning, match="with_candidates"):
        search.fit(X, y)
    # Every zero-shot fold does better than chance (3 test classes per fold).
    assert search.best_score_ > 1 / 3
    assert len(search.best_estimator_.classes_) == 0
    deployed = search.best_estimator_.with_candidates("unseen", label_embeddings=emb)
    np.testing.assert_array_equal(deployed.classes_, ["c10", "c11", "c9"])
    assert deployed.get_params()["T"] == search.best_params_["T"]
    assert deployed.base_estimator_ is search.best_estimator_.base_estimator_
    # It predicts the unseen classes of new samples of them.
    X_new, y_new, _ = _problem(n_classes=12, n_unseen=0)
    unseen = np.isin(y_new, deployed.classes_)
    assert deployed.score(X_new[unseen], y_new[unseen]) > 0.5


def test_grid_search_over_T_in_the_generalized_setting():
    X, y, emb = _problem()
    search = GridSearchCV(
        ConSEClassifier(LogisticRegression(max_iter=500), emb, candidate_labels="all"),
        {"T": [1, 2]},
        cv=StratifiedKFold(3),
    ).fit(X, y)
    assert search.best_score_ > 0.5
    assert cross_val_score(search.best_estimator_, X, y, cv=3).mean() > 0.5


def test_a_search_on_seen_labels_warns_once_not_once_per_fit():
    """SeenLabelsScoredWarning came once per fit and fold: six times for a
    2-point grid on 3 folds, the same news each time."""
    X, y, emb = _problem()
    search = GridSearchCV(
        ConSEClassifier(LogisticRegression(max_iter=500), emb, candidate_labels="all"),
        {"T": [1, 2]},
        cv=StratifiedKFold(3),
        scoring=make_hit_at_k_scorer(1),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(X, y)
    seen = [w for w in caught if issubclass(w.category, SeenLabelsScoredWarning)]
    assert len(seen) == 1
    assert "8 of the 8 labels of y were seen in fit" in str(seen[0].message)
    # Another situation (other labels seen) is news: it warns again; so does
    # another scorer (nothing process-wide remembers the warning).
    fitted = search.best_estimator_
    some = np.isin(y, ["c0", "c1"])
    with pytest.warns(SeenLabelsScoredWarning, match="2 of the 2 labels"):
        search.scorer_(fitted, X[some], y[some])
    with pytest.warns(SeenLabelsScoredWarning, match="8 of the 8 labels"):
        make_hit_at_k_scorer(1)(fitted, X, y)


def test_html_repr_names_the_base_estimator():
    _, _, emb = _problem()
    html = ConSEClassifier(LogisticRegression(), emb)._repr_html_()
    assert "ConSEClassifier" in html
    assert "LogisticRegression" in html


def test_one_item_per_sample_input_goes_to_a_text_pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["the cat sat", "a dog barked", "cat and kitten", "dog puppy bark"]
    y = ["cat", "dog", "cat", "dog"]
    emb = {
        "cat": np.array([1.0, 0.2]),
        "dog": np.array([0.2, 1.0]),
        "lion": np.array([1.0, 0.0]),
        "wolf": np.array([0.0, 1.0]),
    }
    base = make_pipeline(TfidfVectorizer(), LogisticRegression())
    clf = ConSEClassifier(base, emb, T=1).fit(texts, y)
    np.testing.assert_array_equal(clf.predict(["my cat", "the dog"]), ["lion", "wolf"])


def test_dataframe_reaches_a_column_selecting_base_as_given():
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder

    X, y, emb = _problem(n_classes=4, n_unseen=2)
    df = pd.DataFrame({"num": X[:, 0], "other": X[:, 1], "tag": y})
    base = make_pipeline(
        make_column_transformer(
            (StandardScaler(), ["num", "other"]), (OneHotEncoder(), ["tag"])
        ),
        LogisticRegression(),
    )
    clf = ConSEClassifier(base, emb, T=2).fit(df, y)
    assert clf.n_features_in_ == 3
    np.testing.assert_array_equal(clf.feature_names_in_, ["num", "other", "tag"])
    assert clf.predict(df.iloc[:5]).shape == (5,)
    with pytest.raises(ValueError, match="feature names should match"):
        clf.predict(df[["num", "other"]])


class _RecordsX(LogisticRegression):
    """A base estimator on list input that records what it was given."""

    def fit(self, X, y):
        self.given_ = type(X)
        return super().fit(np.array([[len(str(x))] for x in X]), y)

    def predict_proba(self, X):
        assert isinstance(X, list), type(X)
        return super().predict_proba(np.array([[len(str(x))] for x in X]))


def test_a_list_of_paths_reaches_the_base_as_a_list():
    from pathlib import Path

    paths = [Path("a.png"), Path("bbbbbbbbb.png"), Path("cc.png"), Path("dddddd.png")]
    emb = {"s": [1.0, 0.0], "l": [0.0, 1.0], "x": [1.0, 0.1], "z": [0.1, 1.0]}
    clf = ConSEClassifier(_RecordsX(), emb, T=1).fit(paths, ["s", "l", "s", "l"])
    assert clf.base_estimator_.given_ is list
    assert clf.predict([Path("e.png")]).shape == (1,)
    assert clf.predict(["e.png", "f.png"]).shape == (2,)


def test_predict_top_k_and_explain_through_a_pipeline():
    """docs/user_guide.rst's recipe: the last step on the earlier steps' output."""
    X, y, emb = _problem()
    X = 100 * X  # the scaler matters
    pipe = make_pipeline(
        StandardScaler(), ConSEClassifier(LogisticRegression(), emb, T=3)
    )
    pipe.fit(X, y)
    conse, features = pipe[-1], pipe[:-1].transform(X[:7])
    labels, scores = conse.predict_top_k(features, k=2)
    np.testing.assert_array_equal(labels[:, 0], pipe.predict(X[:7]))
    np.testing.assert_allclose(
        np.sort(pipe.decision_function(X[:7]), axis=1)[:, ::-1][:, :2], scores
    )
    why = conse.explain(features, k=2)
    np.testing.assert_array_equal(why.candidates, labels)
    assert not hasattr(pipe, "predict_top_k")  # hence the recipe


# ------------------------------------------------- binary, as sklearn expects


def _two_candidates():
    X, y, emb = _problem(n_classes=6, n_unseen=2)
    clf = ConSEClassifier(LogisticRegression(max_iter=500), emb, T=2).fit(X, y)
    X_new, y_new, _ = _problem(n_classes=8, n_unseen=0, seed=0)
    unseen = np.isin(y_new, clf.classes_)
    return clf, X_new[unseen], y_new[unseen]


def test_two_candidates_decision_function_is_binary():
    clf, X, _ = _two_candidates()
    assert clf.classes_.shape == (2,)
    scores = clf._scores(clf._start(X))
    decision = clf.decision_function(X)
    assert decision.shape == (len(X),)
    np.testing.assert_allclose(decision, scores[:, 1] - scores[:, 0])
    assert clf.predict_proba(X).shape == (len(X), 2)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(decision > 0) * 1])
    labels, top = clf.predict_top_k(X, 2)
    assert labels.shape == top.shape == (len(X), 2)


def test_two_candidates_work_with_sklearn_binary_scorers():
    from sklearn.metrics import get_scorer, make_scorer, top_k_accuracy_score

    clf, X, y = _two_candidates()
    assert get_scorer("roc_auc")(clf, X, y) > 0.8
    top_1 = make_scorer(
        top_k_accuracy_score,
        response_method=("decision_function", "predict_proba"),
        k=1,
        labels=clf.classes_,
    )
    assert top_1(clf, X, y) == pytest.approx(np.mean(clf.predict(X) == y))


@pytest.mark.parametrize("display", ["RocCurveDisplay", "DetCurveDisplay"])
def test_two_candidates_work_with_curve_displays(display):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import sklearn.metrics

    clf, X, y = _two_candidates()
    shown = getattr(sklearn.metrics, display).from_estimator(clf, X, y)
    # The curve runs over the binary decision_function, classes_[1] positive.
    decision = clf.decision_function(X)
    if display == "RocCurveDisplay":
        from sklearn.metrics import roc_auc_score

        expected = roc_auc_score(y == clf.classes_[1], decision)
        assert shown.roc_auc == pytest.approx(expected)
    else:
        from sklearn.metrics import det_curve

        fpr, fnr, _ = det_curve(y, decision, pos_label=clf.classes_[1])
        # The display clips rates away from 0 for its normal-deviate axes.
        np.testing.assert_allclose(shown.fpr, fpr, atol=1e-15)
        np.testing.assert_allclose(shown.fnr, fnr, atol=1e-15)
    plt.close("all")


# --------------------------------------- class-disjoint searches, train scores


@pytest.mark.parametrize("search", ["grid", "halving"])
def test_class_disjoint_searches_with_train_scores(search):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    X, y, emb = _problem(n_classes=9, n_unseen=3)
    kind = GridSearchCV if search == "grid" else HalvingGridSearchCV
    extra = {"return_train_score": True}
    if search == "grid":
        extra["error_score"] = "raise"
    found = kind(
        ConSEClassifier(LogisticRegression(max_iter=500), emb, seen_penalty=0.1),
        {"T": [1, 2, 3, 9]},
        cv=ClassDisjointKFold(3),
        scoring=make_hit_at_k_scorer(1),
        **extra,
    ).fit(X, y)  # pytest turns any warning into an error
    train = found.cv_results_["mean_train_score"]
    assert np.isfinite(train).all()
    # Seen labels, scored among seen and unseen: the classifier knows them.
    assert train.max() > 0.8


def test_cross_validate_train_scores_are_generalized_hits():
    from sklearn.model_selection import cross_validate

    X, y, emb = _problem(n_classes=9, n_unseen=3)
    estimator = ConSEClassifier(LogisticRegression(max_iter=500), emb, T=2)
    result = cross_validate(
        estimator,
        X,
        y,
        cv=ClassDisjointKFold(3),
        scoring=make_hit_at_k_scorer(1),
        return_train_score=True,
        return_estimator=True,
    )
    # The train score of fold 0 is hit@1 over the fold's seen labels and its
    # candidates, ranked together.
    (train, _) = next(ClassDisjointKFold(3).split(X, y))
    fitted = result["estimator"][0]
    wide = fitted.with_candidates([*fitted.classes_, *fitted.seen_classes_])
    expected = np.mean(wide.predict(X[train]) == y[train])
    assert result["train_score"][0] == pytest.approx(expected)


def test_score_on_labels_that_are_not_candidates():
    from sk_conse.exceptions import NonCandidateLabelsWarning

    clf, X, y = _two_candidates()
    X_seen, y_seen, _ = _problem(n_classes=6, n_unseen=2)
    with pytest.raises(ValueError, match="None of the true labels is a candidate"):
        clf.score(X_seen, y_seen)
    mixed_X = np.vstack([X, X_seen[:10]])
    mixed_y = np.concatenate([y, y_seen[:10]])
    with pytest.warns(NonCandidateLabelsWarning, match="1 true label"):
        mixed = clf.score(mixed_X, mixed_y)
    assert mixed == pytest.approx(np.mean(clf.predict(mixed_X) == mixed_y))


# ------------------------------------------------------------- temperature


def test_temperature_divides_the_scores_before_the_softmax():
    X, y, emb = _problem()
    clf = ConSEClassifier(LogisticRegression(max_iter=500), emb, T=2).fit(X, y)
    scores = clf.decision_function(X)
    for temperature in (0.05, 1.0, 3.0):
        clf.set_params(temperature=temperature)
        z = np.exp(scores / temperature - (scores / temperature).max(1, keepdims=True))
        np.testing.assert_allclose(
            clf.predict_proba(X), z / z.sum(1, keepdims=True), rtol=1e-10
        )


def test_temperature_is_tuned_by_log_loss_on_class_disjoint_folds():
    X, y, emb = _problem(n_classes=9, n_unseen=0)
    search = GridSearchCV(
        ConSEClassifier(LogisticRegression(max_iter=500), emb, T=2),
        {"temperature": [0.01, 0.05, 0.2, 1.0, 5.0]},
        cv=ClassDisjointKFold(3),
        scoring="neg_log_loss",
        refit=False,
    ).fit(X, y)
    losses = -search.cv_results_["mean_test_score"]
    # Every fold scored (no NaN from a failed fit or score), and the loss
    # depends on the temperature: too sharp (0.01) is heavily penalised.
    assert np.isfinite(losses).all()
    assert losses[0] > 2 * losses.min()
