"""Shared fixtures: the array backends every kernel test runs on."""

import numpy as np
import pytest

from sk_conse._backend import cuda_available

_NO_CUDA = "CuPy with a CUDA device is not available"


def _backends():
    yield pytest.param("numpy", id="numpy")
    if cuda_available():
        yield pytest.param("cupy", id="cupy", marks=pytest.mark.gpu)
    else:
        yield pytest.param(
            "cupy",
            id="cupy",
            marks=[pytest.mark.gpu, pytest.mark.skip(reason=_NO_CUDA)],
        )


@pytest.fixture(params=list(_backends()))
def xp(request):
    """The array namespace under test: NumPy always, CuPy when a GPU is there."""
    if request.param == "numpy":
        return np
    import cupy

    return cupy


@pytest.fixture
def to_np():
    """Convert a NumPy or CuPy array to NumPy, for comparisons."""
    from sk_conse._backend import to_numpy

    return to_numpy
