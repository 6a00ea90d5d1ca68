"""Torch tensors end to end, under scikit-learn's array API dispatch.

With ``sklearn.config_context(array_api_dispatch=True)`` (which needs
``SCIPY_ARRAY_API=1`` before SciPy is imported, so these checks run in a
fresh interpreter), a torch ``X`` and a base estimator that supports the array
API keep the work in torch on ``X``'s device: scores come back as tensors
equal to the NumPy path's, labels as NumPy arrays like ``classes_``.
"""

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("torch")

_SCRIPT = textwrap.dedent(
    """
    import numpy as np, sklearn, torch
    from sklearn.linear_model import LogisticRegression
    from sk_conse import ConSEClassifier

    device = {device!r}
    rng = np.random.RandomState(0)
    unseen = [f"u{{i}}" for i in range(150)]
    vectors = rng.randn(155, 16)
    emb = dict(zip(list(range(5)) + unseen, vectors))
    y = np.repeat(np.arange(5), 20)
    X = vectors[y] @ rng.randn(16, 6) + rng.randn(100, 6)

    def fit(X, y, algorithm):
        return ConSEClassifier(
            LogisticRegression(), emb, T=2, algorithm=algorithm, batch_size=32
        ).fit(X, y)

    for algorithm in ("direct", "factorised"):
        ref = fit(X, y, algorithm)
        with sklearn.config_context(array_api_dispatch=True):
            Xt = torch.as_tensor(X, device=device)
            clf = fit(Xt, torch.as_tensor(y, device=device), algorithm)
            # The base estimator itself answered in torch.
            assert isinstance(clf.base_estimator_.predict_proba(Xt[:2]), torch.Tensor)
            outputs = {{
                "decision_function": clf.decision_function(Xt),
                "predict_proba": clf.predict_proba(Xt),
                "transform": clf.transform(Xt),
            }}
            labels, scores = clf.predict_top_k(Xt, 4)
            predicted = clf.predict(Xt)
        for name, got in outputs.items():
            assert isinstance(got, torch.Tensor), name
            assert got.device.type == torch.device(device).type, name
            np.testing.assert_allclose(
                got.cpu().numpy(), getattr(ref, name)(X), atol=1e-6, err_msg=name
            )
        assert isinstance(scores, torch.Tensor) and isinstance(labels, np.ndarray)
        ref_labels, ref_scores = ref.predict_top_k(X, 4)
        np.testing.assert_array_equal(labels, ref_labels)
        np.testing.assert_allclose(scores.cpu().numpy(), ref_scores, atol=1e-6)
        assert isinstance(predicted, np.ndarray)
        np.testing.assert_array_equal(predicted, ref.predict(X))
    # Without dispatch a torch X still works, and answers in NumPy.
    out = ref.decision_function(torch.as_tensor(X))
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, ref.decision_function(X), atol=1e-12)
    print("ok")
    """
)


def _devices():
    yield "cpu"
    import torch

    cuda = torch.cuda.is_available()
    yield pytest.param(
        "cuda",
        marks=[pytest.mark.gpu]
        + ([] if cuda else [pytest.mark.skip(reason="no CUDA device for torch")]),
    )


@pytest.mark.parametrize("device", list(_devices()))
def test_torch_tensors_stay_in_torch(device):
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT.format(device=device)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
