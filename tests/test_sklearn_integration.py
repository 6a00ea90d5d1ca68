"""ConSEClassifier as a scikit-learn citizen: Pipeline, clone, search, repr."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_conse import ConSEClassifier
from sk_conse.exceptions import NoCandidateLabelsWarning
from sk_conse.metrics import make_hit_at_k_scorer
from sk_conse.model_selection import ClassDisjointKFold


def _problem(n_classes=8, n_unseen=3, q=6, n_per_class=25, seed=0):
    """Classes whose features are a noisy linear image of their vectors."""
    rng = np.random.RandomState(seed)
    labels = [f"c{i}" for i in range(n_classes + n_unseen)]
    vectors = rng.randn(len(labels), q)
    embeddings = dict(zip(labels, vectors))
    A = rng.randn(q, 10)
    y = np.repeat(labels[:n_classes], n_per_class)
    X = vectors[np.repeat(np.arange(n_classes), n_per_class)] @ A
    X += 0.3 * rng.randn(*X.shape)
    return X, y, embeddings


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
    assert set(pipe.predict(X)) <= set(pipe.classes_)


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


def test_html_repr_names_the_base_estimator():
    _, _, emb = _problem()
    html = ConSEClassifier(LogisticRegression(), emb)._repr_html_()
    assert "ConSEClassifier" in html
    assert "LogisticRegression" in html


@pytest.mark.parametrize("dumps", ["pickle", "joblib"])
def test_round_trips_give_identical_predictions(tmp_path, dumps):
    X, y, emb = _problem()
    clf = ConSEClassifier(LogisticRegression(), emb, T=3).fit(X, y)
    if dumps == "pickle":
        loaded = pickle.loads(pickle.dumps(clf))
    else:
        joblib.dump(clf, tmp_path / "clf.joblib")
        loaded = joblib.load(tmp_path / "clf.joblib")
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.decision_function(X), clf.decision_function(X))


def test_frozen_pretrained_base_is_not_refitted():
    X, y, emb = _problem()
    base = LogisticRegression().fit(X, y)
    coef = base.coef_.copy()
    clf = ConSEClassifier(FrozenEstimator(base), emb, T=2)
    # The labels passed to fit are ignored by a frozen base: seen_classes_
    # comes from the pretrained model.
    clf.fit(X[:5], np.array(["c9"] * 5))
    np.testing.assert_array_equal(clf.seen_classes_, base.classes_)
    np.testing.assert_array_equal(clf.base_estimator_.estimator.coef_, coef)
    assert list(clf.classes_) == ["c10", "c8", "c9"]


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
