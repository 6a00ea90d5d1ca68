"""Tests of the NumPy / CuPy switch (sk_conse._backend)."""

import numpy as np
import pytest

from sk_conse._backend import (
    cuda_available,
    get_namespace,
    namespace_of,
    resolve_device,
    to_numpy,
)


def test_cuda_available_is_a_bool():
    assert isinstance(cuda_available(), bool)


def test_resolve_device_cpu_is_always_cpu():
    assert resolve_device("cpu") == "cpu"


def test_resolve_device_auto_follows_cuda_available():
    assert resolve_device("auto") == ("cuda" if cuda_available() else "cpu")


def test_resolve_device_rejects_unknown_names():
    with pytest.raises(ValueError, match="device must be one of"):
        resolve_device("tpu")


@pytest.mark.skipif(cuda_available(), reason="a CUDA device is present")
def test_resolve_device_cuda_without_gpu_raises():
    with pytest.raises(RuntimeError, match=r"device='cuda' was requested but CuPy"):
        resolve_device("cuda")


def test_get_namespace_cpu_is_numpy():
    assert get_namespace("cpu") is np


def test_namespace_of_and_to_numpy_on_the_backend(xp):
    a = xp.arange(6.0).reshape(2, 3)
    assert namespace_of(a) is xp
    assert namespace_of(np.zeros(1), a) is xp
    b = to_numpy(a)
    assert type(b) is np.ndarray
    np.testing.assert_array_equal(b, np.arange(6.0).reshape(2, 3))


def test_to_numpy_is_a_no_op_for_numpy():
    a = np.arange(3)
    assert to_numpy(a) is a
