"""Shared fixtures: the backends every engine test runs on, and the synthetic
zero-shot problem of the tuning and caching tests (builders in ``_shared.py``)."""

import pytest
from _shared import make_zero_shot_problem

from sk_conse._backend import CupyBackend, NumpyBackend, TorchBackend, cuda_available

_NO_TORCH_CUDA = "torch sees no CUDA device"
_NO_CUPY_CUDA = "CuPy with a CUDA device is not available"


def _torch_cuda_available():
    import torch

    return torch.cuda.is_available()


@pytest.fixture(
    params=[
        pytest.param("numpy", id="numpy"),
        pytest.param("torch-cpu", id="torch-cpu"),
        pytest.param("torch-cuda", id="torch-cuda", marks=pytest.mark.gpu),
        pytest.param("cupy", id="cupy", marks=pytest.mark.gpu),
    ]
)
def backend(request):
    """A backend under test.

    NumPy (the tuned CPU code) and torch on the CPU (the generic algorithms of
    :class:`sk_conse._backend.Backend`) always run; torch on CUDA and CuPy run
    when a CUDA device is there and skip with the reason otherwise. torch is
    imported only when a torch backend is asked for.
    """
    name = request.param
    if name == "numpy":
        return NumpyBackend()
    if name == "torch-cpu":
        return TorchBackend("cpu")
    if name == "torch-cuda":
        if not _torch_cuda_available():
            pytest.skip(_NO_TORCH_CUDA)
        return TorchBackend("cuda")
    if not cuda_available():
        pytest.skip(_NO_CUPY_CUDA)
    return CupyBackend()


@pytest.fixture(scope="session")
def problem():
    """12 seen classes, inputs a noisy linear image of their vectors; 3 more
    labels are embedded and never seen, so a refit on all data has candidates."""
    labels = [f"c{i:02d}" for i in range(15)]
    return make_zero_shot_problem(
        labels, n_seen=12, n_per_class=12, n_dims=6, n_features=8, noise=0.7
    )


@pytest.fixture
def log(tmp_path):
    """The file CountingLogisticRegression writes its calls to."""
    return tmp_path / "calls.log"
