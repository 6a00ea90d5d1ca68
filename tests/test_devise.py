"""Tests of DeViSEClassifier (Frome et al., NIPS 2013)."""

import pickle

import numpy as np
import pytest
from _shared import check_embeddings, cuda_seen_by
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_conse._devise import DeViSEClassifier
from sk_conse.exceptions import NoCandidateLabelsWarning
from sk_conse.gzsl import PseudoUnseenSplit, make_harmonic_mean_scorer
from sk_conse.metrics import make_hit_at_k_scorer
from sk_conse.model_selection import ClassDisjointKFold

N_SEEN, N_UNSEEN, Q, D = 12, 6, 8, 20
# Stop after the first epoch that does not improve the loss by 10: short fits.
QUICK = {"tol": 10.0, "n_iter_no_change": 1}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """These fits are tiny: thread start-up dominates, and on a loaded 2-core
    machine two torch threads were up to 100x slower than one."""
    import torch

    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


def _synthetic(n_per_class=30, noise=0.3, seed=0):
    """Features that are a noisy linear image of the label vectors."""
    rng = np.random.RandomState(seed)
    labels = [f"c{i:02d}" for i in range(N_SEEN + N_UNSEEN)]
    vectors = rng.randn(len(labels), Q)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    embeddings = dict(zip(labels, vectors))
    A = rng.randn(D, Q)

    def sample(which):
        y = np.repeat(np.asarray(which), n_per_class)
        S = np.array([embeddings[label] for label in y])
        return S @ A.T + noise * rng.randn(len(y), D), y

    X_seen, y_seen = sample(labels[:N_SEEN])
    X_unseen, y_unseen = sample(labels[N_SEEN:])
    return embeddings, X_seen, y_seen, X_unseen, y_unseen


@pytest.fixture(scope="module")
def data():
    return _synthetic()


def _devise(embeddings, **params):
    params = {"learning_rate": 0.01, "max_iter": 300, "random_state": 0, **params}
    return DeViSEClassifier(embeddings, **params)


@pytest.fixture(scope="module")
def fitted(data):
    embeddings, X, y, _, _ = data
    return _devise(embeddings).fit(X, y)


def test_zero_shot_accuracy_far_above_chance(data, fitted):
    _, _, _, X_unseen, y_unseen = data
    assert list(fitted.classes_) == sorted(set(y_unseen))
    accuracy = np.mean(fitted.predict(X_unseen) == y_unseen)
    assert accuracy > 0.7  # chance is 1 / 6


def test_hinge_loss_decreases(fitted):
    curve = fitted.loss_curve_
    assert len(curve) == fitted.n_iter_
    assert curve[-1] < 0.2 * curve[0]


def test_fit_is_deterministic_given_random_state(data):
    embeddings, X, y, _, _ = data
    params = {"max_iter": 20, "batch_size": 64, "n_iter_no_change": 100}
    a = _devise(embeddings, **params)
    b = _devise(embeddings, **params)
    c = _devise(embeddings, **params, random_state=1)
    with pytest.warns(ConvergenceWarning, match="max_iter=20"):
        a.fit(X, y)
    with pytest.warns(ConvergenceWarning):
        b.fit(X, y)
    with pytest.warns(ConvergenceWarning):
        c.fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    assert not np.array_equal(a.coef_, c.coef_)


def test_global_torch_random_state_is_untouched(data):
    import torch

    embeddings, X, y, _, _ = data
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    _devise(embeddings, max_iter=5, **QUICK).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected.numpy())


def test_scores_are_consistent(data, fitted):
    _, _, _, X_unseen, _ = data
    scores = fitted.decision_function(X_unseen)
    proba = fitted.predict_proba(X_unseen)
    assert scores.shape == proba.shape == (len(X_unseen), N_UNSEEN)
    assert np.all(np.abs(scores) <= 1 + 1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(
        fitted.classes_[scores.argmax(axis=1)], fitted.predict(X_unseen)
    )
    labels, top = fitted.predict_top_k(X_unseen, 3)
    assert labels.shape == top.shape == (len(X_unseen), 3)
    np.testing.assert_allclose(top, -np.sort(-scores, axis=1)[:, :3], rtol=1e-5)
    assert fitted.transform(X_unseen).shape == (len(X_unseen), Q)


def test_transform_is_the_documented_point(data, fitted):
    """transform is M x + b itself (it was divided by each row's largest
    entry), and the scores and predictions are the cosines against it."""
    _, _, _, X_unseen, _ = data
    F = fitted.transform(X_unseen)
    expected = X_unseen @ fitted.coef_.T.astype(np.float64) + fitted.intercept_
    np.testing.assert_allclose(F, expected, rtol=1e-5, atol=1e-6)
    assert F.dtype == fitted.candidate_embeddings_.dtype
    units = fitted.candidate_embeddings_ / np.linalg.norm(
        fitted.candidate_embeddings_, axis=1, keepdims=True
    )
    cosines = (F / np.linalg.norm(F, axis=1, keepdims=True)) @ units.T
    np.testing.assert_allclose(fitted.decision_function(X_unseen), cosines, atol=1e-5)
    np.testing.assert_array_equal(
        fitted.predict(X_unseen), fitted.classes_[cosines.argmax(axis=1)]
    )


def test_transform_refuses_points_beyond_the_vectors_dtype(data):
    """Rankings scale each row (any finite M x + b ranks), but transform
    returns the point itself, in the vectors' dtype: one beyond float32
    raises, naming the row."""
    embeddings, X, y, X_unseen, _ = data
    single = {label: v.astype(np.float32) for label, v in embeddings.items()}
    clf = _devise(single, max_iter=5, **QUICK).fit(X, y)
    X = X_unseen[:3].copy()
    X[1] *= 1e300
    with pytest.raises(ValueError, match=r"rows 1 of the batch.*float32"):
        clf.transform(X)
    assert clf.transform(X[[0, 2]]).dtype == np.float32
    assert clf.predict(X).shape == (3,)


def test_seen_penalty_shifts_seen_scores(data):
    embeddings, X, y, X_unseen, _ = data
    base = _devise(embeddings, candidate_labels="all", max_iter=50, tol=1.0)
    base.fit(X, y)
    penalised = _devise(
        embeddings, candidate_labels="all", max_iter=50, tol=1.0, seen_penalty=0.25
    ).fit(X, y)
    is_seen = np.isin(base.classes_, base.seen_classes_)
    diff = base.decision_function(X_unseen) - penalised.decision_function(X_unseen)
    np.testing.assert_allclose(diff[:, is_seen], 0.25, atol=1e-6)
    np.testing.assert_allclose(diff[:, ~is_seen], 0, atol=1e-6)
    huge = penalised.set_params(seen_penalty=10.0).fit(X, y)
    assert not np.isin(huge.predict(X), huge.seen_classes_).any()


def test_explicit_candidates(data):
    embeddings, X, y, X_unseen, _ = data
    clf = _devise(embeddings, candidate_labels=["c15", "c12"], max_iter=5, **QUICK)
    clf.fit(X, y)
    assert list(clf.classes_) == ["c12", "c15"]
    assert clf.decision_function(X_unseen).shape == (len(X_unseen),)  # binary


def test_early_stopping_keeps_best_epoch(data):
    embeddings, X, y, _, _ = data
    clf = _devise(embeddings, early_stopping=True, n_iter_no_change=3).fit(X, y)
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    assert clf.n_iter_ < 300


# ---------------------------------------------------------------- errors


def test_missing_label_embeddings():
    with pytest.raises(ValueError, match="label_embeddings is required"):
        DeViSEClassifier().fit(np.zeros((4, 2)), [0, 0, 1, 1])


def test_seen_label_without_vector(data):
    embeddings, X, y, _, _ = data
    partial = {k: v for k, v in embeddings.items() if k != "c03"}
    with pytest.raises(ValueError, match=r"1 seen label\(s\) have no vector.*'c03'"):
        _devise(partial).fit(X, y)


def test_candidate_without_vector(data):
    embeddings, X, y, _, _ = data
    with pytest.raises(ValueError, match=r"candidate label\(s\) have no vector"):
        _devise(embeddings, candidate_labels=["c12", "zebra"]).fit(X, y)


def test_empty_and_duplicated_candidate_lists(data):
    embeddings, X, y, _, _ = data
    with pytest.raises(ValueError, match="candidate_labels is empty"):
        _devise(embeddings, candidate_labels=[]).fit(X, y)
    with pytest.raises(ValueError, match="duplicated labels: 'c12'"):
        _devise(embeddings, candidate_labels=["c12", "c12"]).fit(X, y)


def test_no_candidates_left_at_predict(data):
    embeddings, X, y, _, _ = data
    seen_only = {k: embeddings[k] for k in np.unique(y)}
    with pytest.warns(NoCandidateLabelsWarning, match="no candidate label"):
        clf = _devise(seen_only, max_iter=2, **QUICK).fit(X, y)
    assert len(clf.classes_) == 0
    with pytest.raises(ValueError, match="There are no candidate labels to rank"):
        clf.predict(X)
    with pytest.raises(ValueError, match="There are no candidate labels to rank"):
        clf.predict_top_k(X, 1)


def test_single_seen_class(data):
    embeddings, X, _, _, _ = data
    with pytest.raises(ValueError, match="at least 2 seen classes"):
        _devise(embeddings).fit(X, np.full(len(X), "c00"))


@pytest.mark.parametrize("k", [0, 7, 1.5, True])
def test_bad_k(fitted, data, k):
    _, _, _, X_unseen, _ = data
    with pytest.raises(ValueError, match="k must be an integer between 1 and"):
        fitted.predict_top_k(X_unseen, k)


def test_bad_parameters(data):
    embeddings, X, y, _, _ = data
    with pytest.raises(ValueError, match="'margin' parameter"):
        _devise(embeddings, margin=0).fit(X, y)
    with pytest.raises(ValueError, match="'solver' parameter"):
        _devise(embeddings, solver="lbfgs").fit(X, y)


# -------------------------------------------------- model selection


def test_grid_search_over_margin_with_class_disjoint_folds(data):
    embeddings, X, y, _, _ = data
    search = GridSearchCV(
        _devise(embeddings, max_iter=40, tol=1.0),
        {"margin": [0.05, 0.2]},
        cv=ClassDisjointKFold(n_splits=3),
        scoring=make_hit_at_k_scorer(k=1),
    ).fit(X, y)
    assert search.best_score_ > 1 / 4  # chance within a 4-class test fold


def test_grid_search_over_seen_penalty_with_pseudo_unseen_folds(data):
    embeddings, X, y, _, _ = data
    search = GridSearchCV(
        _devise(embeddings, candidate_labels="all", max_iter=60),
        {"seen_penalty": [0.0, 0.1, 1.0]},
        cv=PseudoUnseenSplit(n_splits=2, n_unseen=3, random_state=0),
        scoring=make_harmonic_mean_scorer(),
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_index_ == np.argmax(scores)
    # a penalty larger than any cosine gap hides every seen label: H = 0
    assert scores[2] == 0
    assert scores[0] > 0.5  # these synthetic scores carry no seen bias


# ------------------------------------------------------------- device


def test_device_comes_from_torch_not_cupy(data, monkeypatch):
    """DeViSE trains in torch: a GPU that only CuPy sees is not its device."""
    embeddings, X, y, _, _ = data
    cuda_seen_by(monkeypatch, "cupy")
    clf = _devise(embeddings, max_iter=2, **QUICK).fit(X, y)
    assert clf.device_ == "cpu"
    with pytest.raises(RuntimeError, match="torch sees no CUDA device"):
        _devise(embeddings, device="cuda").fit(X, y)


def test_device_is_cuda_when_torch_sees_one(data, monkeypatch):
    embeddings, X, y, _, _ = data
    cuda_seen_by(monkeypatch, "torch")
    trained_on = []
    monkeypatch.setattr(
        DeViSEClassifier,
        "_train",
        lambda self, torch, X, y_idx: trained_on.append(self.device_),
    )
    clf = _devise(embeddings).fit(X, y)
    assert clf.device_ == "cuda"
    assert trained_on == ["cuda"]


def test_loaded_model_resolves_cuda_through_torch(data, monkeypatch):
    """A pickle of a model fitted on a GPU resolves its device again on
    loading, as fit does: by torch, which DeViSE computes with, not CuPy."""
    embeddings, X, y, _, _ = data
    cuda_seen_by(monkeypatch, "torch")

    def no_training(self, torch, X, y_idx):  # a fitted state, without the epochs
        q = self.seen_embeddings_.shape[1]
        self.coef_ = np.zeros((q, X.shape[1]), np.float32)
        self.intercept_ = np.zeros(q, np.float32)

    monkeypatch.setattr(DeViSEClassifier, "_train", no_training)
    saved = pickle.dumps(_devise(embeddings).fit(X, y))
    assert pickle.loads(saved).device_ == "cuda"
    cuda_seen_by(monkeypatch, "cupy")
    assert pickle.loads(saved).device_ == "cpu"


# ------------------------------------------------------ sklearn checks


_CLASSES_ARE_CANDIDATES = (
    "classes_ is the candidate label set fixed by label_embeddings (15 labels "
    "here), not unique(y), so predict_proba/decision_function have one column "
    "per candidate"
)

# Each expected failure, with its reason (as for ConSE in test_common.py).
_EXPECTED_FAILED_CHECKS = {
    "check_classifiers_train": _CLASSES_ARE_CANDIDATES
    + "; decision_function stays (n_samples, n_candidates) even with two "
    "seen classes, as documented",
    "check_decision_proba_consistency": _CLASSES_ARE_CANDIDATES
    + "; the check compares predict_proba[:, 1] with a 1-D binary "
    "decision_function",
    "check_classifiers_classes": "the check relabels y with strings ('one', "
    "'two', ...) that have no vector in this configuration's label_embeddings; "
    "DeViSE rightly refuses seen labels without a semantic vector",
}


@parametrize_with_checks(
    [
        DeViSEClassifier(
            check_embeddings(),
            candidate_labels="all",
            learning_rate=0.05,
            max_iter=200,
            tol=1e-3,
            random_state=0,
        )
    ],
    expected_failed_checks=lambda est: _EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
