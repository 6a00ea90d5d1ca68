"""Tests of the backends (sk_conse._backend).

Every numeric test runs on each backend of the ``backend`` fixture (NumPy's
compiled kernels, torch on the CPU running the generic algorithms of ``Backend``,
and torch on CUDA and CuPy when a GPU is there) and compares with a plain
NumPy reference written here: top-k is a stable sort of the negated values
(ties to the smaller column), the sparse product is a loop over the weights.
"""

import numpy as np
import pytest
from _shared import cuda_seen_by
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sk_conse import _backend
from sk_conse._backend import (
    GATHER_MAX_T,
    NumpyBackend,
    TorchBackend,
    backend_for,
    backend_of,
    cuda_available,
    get_backend,
    resolve_device,
    to_numpy,
    top_k,
)
from sk_conse._parallel import Parallel

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# ----------------------------------------------------------------- references


def ref_top_k(A, k):
    """The k largest of each row, best first, ties to the smaller column."""
    return np.argsort(-A, axis=1, kind="stable")[:, :k]


def ref_select_top_k(A, k):
    return np.sort(ref_top_k(A, k), axis=1)


def ref_weighted_rows(idx, w, M):
    """out[i] = sum_t w[i, t] M[idx[i, t]], one row and one weight at a time."""
    out = np.zeros((idx.shape[0], M.shape[1]))
    for i in range(idx.shape[0]):
        for t in range(idx.shape[1]):
            out[i] += float(w[i, t]) * M[idx[i, t]].astype(np.float64)
    return out


def tied_int_matrix(min_side=1, max_side=12, high=3):
    """Random integer-valued matrices in a small range: ties everywhere."""
    shapes = hnp.array_shapes(
        min_dims=2, max_dims=2, min_side=min_side, max_side=max_side
    )
    return hnp.arrays(np.float64, shapes, elements=st.integers(0, high).map(float))


GROUP = 64  # wide rows: several thousand columns, in blocks and runs


def tied_scores(n_valid, seed, m=7, dtype=np.float64):
    """Integer scores with ties everywhere, a row of all ties, and a winner in
    the last (possibly padded) group."""
    rng = np.random.RandomState(seed)
    S = rng.randint(0, 4, size=(m, n_valid)).astype(dtype)
    S[0] = 1.0
    S[1, -1] = 10.0
    return S


def run_top_k(nx, S, k, n_valid):
    idx, vals = nx.top_k(nx.asarray(S[:, :n_valid]), k)
    return nx.to_numpy(idx), nx.to_numpy(vals)


# --------------------------------------------------------------- select_top_k


@SETTINGS
@given(A=tied_int_matrix(), data=st.data())
def test_select_top_k_matches_stable_argsort(backend, A, data):
    k = data.draw(st.integers(1, A.shape[1]), label="k")
    got = backend.to_numpy(backend.select_top_k(backend.asarray(A), k))
    np.testing.assert_array_equal(got, ref_select_top_k(A, k))


@pytest.mark.parametrize("k", [1, 2, 4])
def test_select_top_k_all_equal_rows_take_the_first_columns(backend, k):
    A = backend.asarray(np.ones((3, 5)))
    got = backend.to_numpy(backend.select_top_k(A, k))
    np.testing.assert_array_equal(got, np.broadcast_to(np.arange(k), (3, k)))


def test_select_top_k_k_at_least_n_keeps_every_column(backend):
    A = backend.asarray(np.array([[0.3, 0.1], [0.0, 0.9]]))
    got = backend.to_numpy(backend.select_top_k(A, 5))
    np.testing.assert_array_equal(got, [[0, 1], [0, 1]])


def test_select_top_k_never_picks_minus_inf_over_finite(backend):
    A = backend.asarray(np.array([[-np.inf, -1.0, -np.inf, -2.0]]))
    np.testing.assert_array_equal(
        backend.to_numpy(backend.select_top_k(A, 2)), [[1, 3]]
    )


# ----------------------------------------------------------------------- top_k

# (n_valid, k): narrow and wide rows.
TOP_K_CASES = [
    (10, 1),
    (10, 4),
    (10, 10),
    (8 * 1 * GROUP - 1, 1),
    (8 * 1 * GROUP, 1),
    (8 * 3 * GROUP - 1, 3),
    (8 * 3 * GROUP, 3),
    (8 * 2 * GROUP + 37, 2),
    (8 * 5 * GROUP + 5, 5),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("n_valid", "k"), TOP_K_CASES)
def test_top_k_matches_stable_argsort_with_ties(backend, n_valid, k, dtype):
    S = tied_scores(n_valid, seed=n_valid + k, dtype=dtype)
    idx, vals = run_top_k(backend, S, k, n_valid)
    expected = ref_top_k(S, k)
    np.testing.assert_array_equal(idx, expected)
    np.testing.assert_array_equal(vals, np.take_along_axis(S, expected, 1))
    assert vals.dtype == dtype


@pytest.mark.parametrize("k", [1, 3])
def test_top_k_random_continuous_scores(backend, k):
    # No ties: the grouped paths answer without their fallback.
    n_valid = 8 * k * GROUP + 21
    S = np.random.RandomState(k).randn(30, n_valid)
    idx, vals = run_top_k(backend, S, k, n_valid)
    expected = ref_top_k(S, k)
    np.testing.assert_array_equal(idx, expected)
    np.testing.assert_array_equal(vals, np.take_along_axis(S, expected, 1))


@SETTINGS
@given(A=tied_int_matrix(min_side=1, max_side=6, high=2), data=st.data())
def test_top_k_property(backend, A, data):
    k = data.draw(st.integers(1, A.shape[1] + 2), label="k")
    n = A.shape[1]
    idx, vals = run_top_k(backend, A, k, n)
    expected = ref_top_k(A, min(k, n))
    np.testing.assert_array_equal(idx, expected)
    np.testing.assert_array_equal(vals, np.take_along_axis(A, expected, 1))


def test_top_k_k_beyond_the_valid_columns_returns_them_all(backend):
    S = np.array([[0.5, 2.0, 0.5]])
    idx, vals = run_top_k(backend, S, 10, 3)
    np.testing.assert_array_equal(idx, [[1, 0, 2]])
    np.testing.assert_array_equal(vals, [[2.0, 0.5, 0.5]])


def test_public_top_k_follows_the_input_library():
    S = np.array([[0.1, 0.9, 0.9, 0.3], [1.0, 0.0, 1.0, 1.0]])
    idx, vals = top_k(S, 3)
    assert type(idx) is np.ndarray
    np.testing.assert_array_equal(idx, [[1, 2, 3], [0, 2, 3]])
    np.testing.assert_array_equal(vals, [[0.9, 0.9, 0.3], [1.0, 1.0, 1.0]])
    torch = pytest.importorskip("torch")
    t_idx, t_vals = top_k(torch.as_tensor(S), 3)
    assert isinstance(t_idx, torch.Tensor)
    np.testing.assert_array_equal(t_idx.numpy(), idx)
    np.testing.assert_array_equal(t_vals.numpy(), vals)


# ------------------------------------------------------------- gather and put


def test_take_rows_matches_take_along_axis(backend):
    rng = np.random.RandomState(10)
    A = rng.randn(6, 9)
    idx = rng.randint(0, 9, size=(6, 4))
    got = backend.to_numpy(backend.take_rows(backend.asarray(A), backend.asarray(idx)))
    np.testing.assert_array_equal(got, np.take_along_axis(A, idx, axis=1))


def test_numpy_take_rows_of_a_non_contiguous_array():
    rng = np.random.RandomState(11)
    A = rng.randn(9, 6).T  # Fortran-ordered view
    idx = rng.randint(0, 9, size=(6, 3))
    got = NumpyBackend().take_rows(A, idx)
    np.testing.assert_array_equal(got, np.take_along_axis(A, idx, axis=1))


def test_put_rows_writes_in_place(backend):
    rng = np.random.RandomState(12)
    idx = np.stack([rng.permutation(7)[:3] for _ in range(5)])
    values = rng.randn(5, 3)
    A = backend.asarray(np.zeros((5, 7)))
    backend.put_rows(A, backend.asarray(idx), backend.asarray(values))
    expected = np.zeros((5, 7))
    np.put_along_axis(expected, idx, values, axis=1)
    np.testing.assert_array_equal(backend.to_numpy(A), expected)


# ------------------------------------------------------------ dense weights


def _ref_dense(idx, w, n_rows):
    W = np.zeros((idx.shape[0], n_rows), dtype=w.dtype)
    for i in range(idx.shape[0]):
        for t in range(idx.shape[1]):
            W[i, idx[i, t]] = w[i, t]
    return W


@pytest.mark.parametrize("T", [1, 3, 8])
def test_dense_weights_matches_reference(backend, T):
    rng = np.random.RandomState(13 + T)
    idx = np.sort(np.stack([rng.permutation(8)[:T] for _ in range(4)]), axis=1)
    w = rng.rand(4, T)
    W = backend.dense_weights(backend.asarray(idx), backend.asarray(w), 8)
    np.testing.assert_array_equal(backend.to_numpy(W), _ref_dense(idx, w, 8))


def test_dense_weights_with_every_column_in_another_order(backend):
    # T = all, but not in ascending order: w is not W (NumPy's shortcut for
    # ascending indices must not apply).
    idx = np.array([[2, 0, 1], [0, 1, 2]])
    w = np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]])
    W = backend.dense_weights(backend.asarray(idx), backend.asarray(w), 3)
    np.testing.assert_array_equal(backend.to_numpy(W), _ref_dense(idx, w, 3))


# ------------------------------------------------------------- weighted rows


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T", [1, 5, GATHER_MAX_T, GATHER_MAX_T + 1, 40])
@pytest.mark.parametrize("width", [7, 2148])
def test_weighted_rows_is_the_sparse_product(backend, T, width, dtype):
    # T <= GATHER_MAX_T gathers, beyond it W goes dense; T = 40 = n_rows is
    # "T = all".
    rng = np.random.RandomState(T + width)
    n_rows, m = 40, 6
    M = rng.randn(n_rows, width).astype(dtype)
    idx = np.sort(np.stack([rng.permutation(n_rows)[:T] for _ in range(m)]), axis=1)
    w = rng.rand(m, T).astype(dtype)
    nx = backend
    got = nx.weighted_rows(nx.asarray(idx), nx.asarray(w), nx.asarray(M))
    got = nx.to_numpy(got)
    assert got.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, ref_weighted_rows(idx, w, M), rtol=tol, atol=tol)


@pytest.mark.parametrize("T", [3, GATHER_MAX_T + 1])
def test_weighted_rows_writes_into_out(backend, T):
    rng = np.random.RandomState(14)
    n_rows, m, width = 40, 5, 9
    M = rng.randn(n_rows, width)
    idx = np.sort(np.stack([rng.permutation(n_rows)[:T] for _ in range(m)]), axis=1)
    w = rng.rand(m, T)
    nx = backend
    buffer = nx.asarray(np.full((m + 3, width), np.nan))
    out = buffer[:m]
    got = nx.weighted_rows(nx.asarray(idx), nx.asarray(w), nx.asarray(M), out=out)
    expected = ref_weighted_rows(idx, w, M)
    np.testing.assert_allclose(nx.to_numpy(got), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        nx.to_numpy(buffer)[:m], expected, rtol=1e-12, atol=1e-12
    )
    assert np.isnan(nx.to_numpy(buffer)[m:]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_raw_top_k_holds_the_k_largest_values(backend, dtype):
    # No tie-breaking is asked of it: the values are the K largest, the
    # columns hold them.
    rng = np.random.RandomState(3)
    S = rng.randint(0, 50, size=(9, 5000)).astype(dtype)
    S[2] = 1.0
    for K in (1, 7, 30):
        cols, vals = backend.raw_top_k(backend.asarray(S), K)
        cols, vals = backend.to_numpy(cols), backend.to_numpy(vals)
        np.testing.assert_array_equal(np.take_along_axis(S, cols, 1), vals)
        np.testing.assert_array_equal(np.sort(vals, axis=1), np.sort(S, axis=1)[:, -K:])
        assert all(len(set(row)) == K for row in cols)


# ---------------------------------------------------------------- conversions


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_asarray_and_to_numpy_round_trip(backend, dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    on_device = backend.asarray(a)
    assert backend.owns(on_device)
    back = backend.to_numpy(on_device)
    assert type(back) is np.ndarray
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, a)
    np.testing.assert_array_equal(to_numpy(on_device), a)


def test_asarray_casts_to_the_requested_dtype(backend):
    a = backend.asarray(np.arange(3.0), np.float32)
    assert backend.to_numpy(a).dtype == np.float32


def test_numpy_backend_does_not_own_torch_tensors():
    torch = pytest.importorskip("torch")
    assert not NumpyBackend().owns(torch.zeros(2))
    assert not TorchBackend("cpu").owns(np.zeros(2))


def test_to_numpy_is_a_no_op_for_numpy():
    a = np.arange(3)
    assert to_numpy(a) is a


def test_to_numpy_of_a_tensor_that_requires_grad():
    torch = pytest.importorskip("torch")
    t = torch.arange(3.0, requires_grad=True) * 2
    np.testing.assert_array_equal(to_numpy(t), [0.0, 2.0, 4.0])


# ------------------------------------------------------------ device lookup


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


@pytest.mark.gpu
@pytest.mark.skipif(not cuda_available(), reason="CuPy with a CUDA device is absent")
def test_resolve_device_cuda_with_gpu():
    assert resolve_device("cuda") == "cuda"


@pytest.mark.parametrize(
    ("seen_by", "library", "expected"),
    [
        (("cupy",), "cupy", "cuda"),
        (("cupy",), "torch", "cpu"),
        (("torch",), "torch", "cuda"),
        (("torch",), "cupy", "cpu"),
    ],
)
def test_resolve_device_asks_the_library_that_computes(
    monkeypatch, seen_by, library, expected
):
    cuda_seen_by(monkeypatch, *seen_by)
    assert resolve_device("auto", library=library) == expected


def test_resolve_device_cuda_names_the_library_without_a_device(monkeypatch):
    cuda_seen_by(monkeypatch, "cupy")
    with pytest.raises(RuntimeError, match="but torch sees no CUDA device"):
        resolve_device("cuda", library="torch")


def test_numpy_never_sees_cuda_and_unknown_libraries_are_refused():
    assert cuda_available("numpy") is False
    with pytest.raises(ValueError, match="Unknown backend 'jax'"):
        cuda_available("jax")


@pytest.mark.parametrize(
    ("seen_by", "expected"),
    [(("cupy", "torch"), "CupyBackend"), (("torch",), "TorchBackend")],
)
def test_backend_for_cuda_takes_the_first_library_that_sees_it(
    monkeypatch, seen_by, expected
):
    pytest.importorskip("torch")
    if "cupy" in seen_by:
        # The stand-in device: CuPy itself is not needed to pick the class.
        monkeypatch.setattr(_backend.CupyBackend, "__init__", lambda self: None)
    cuda_seen_by(monkeypatch, *seen_by)
    nx = backend_for(np.zeros(3), "cuda", follow_input=False)
    assert type(nx).__name__ == expected
    if expected == "TorchBackend":
        assert nx.device.type == "cuda"


class _FakeArray:
    """An array of a library that sk_conse does not know."""

    __module__ = "fakelib"
    device = "cpu"

    def __init__(self, values):
        self.values = np.asarray(values)


class _FakeBackend(NumpyBackend):
    name = "fakelib"
    title = "Fake"

    @staticmethod
    def array_to_numpy(a):
        return a.values


def test_one_registry_entry_is_all_a_new_backend_needs(monkeypatch):
    monkeypatch.setitem(_backend._BACKENDS, "fakelib", _FakeBackend)
    a = _FakeArray([1, 2])
    assert _FakeBackend.owns(a)
    assert not NumpyBackend.owns(a)
    assert type(backend_of(a)) is _FakeBackend
    assert type(get_backend("fakelib")) is _FakeBackend
    assert type(backend_for(a, "cpu", follow_input=True)) is _FakeBackend
    assert type(backend_for(a, "cpu", follow_input=False)) is NumpyBackend
    np.testing.assert_array_equal(to_numpy(a), [1, 2])
    np.testing.assert_array_equal(NumpyBackend().to_numpy(a), [1, 2])


def test_get_backend_by_name():
    assert type(get_backend("numpy")) is NumpyBackend
    torch_backend = get_backend("torch")
    assert type(torch_backend) is TorchBackend
    assert str(torch_backend.device) == "cpu"


def test_get_backend_rejects_unknown_names():
    with pytest.raises(ValueError, match="Unknown backend 'jax'"):
        get_backend("jax")


@pytest.mark.skipif(cuda_available(), reason="a CUDA device is present")
def test_get_backend_cupy_without_gpu_raises():
    with pytest.raises(RuntimeError, match="needs CuPy and a CUDA device"):
        get_backend("cupy")


def test_backend_for_numpy_input_on_the_cpu():
    for follow_input in (True, False):
        nx = backend_for(np.zeros(3), "cpu", follow_input=follow_input)
        assert type(nx) is NumpyBackend


def test_backend_for_a_tensor_follows_it_only_when_dispatching():
    torch = pytest.importorskip("torch")
    X = torch.zeros(3, dtype=torch.float64)
    followed = backend_for(X, "cpu", follow_input=True)
    assert type(followed) is TorchBackend
    assert followed.device == X.device
    assert type(backend_for(X, "cpu", follow_input=False)) is NumpyBackend


def test_backend_of_each_library():
    assert type(backend_of(np.zeros(2))) is NumpyBackend
    torch = pytest.importorskip("torch")
    assert type(backend_of(torch.zeros(2))) is TorchBackend


def test_keys_tell_libraries_and_devices_apart():
    keys = {NumpyBackend().key, TorchBackend("cpu").key}
    assert len(keys) == 2
    assert NumpyBackend().key == NumpyBackend(Parallel(4)).key


def test_with_parallel_sets_the_thread_budget_of_numpy_only():
    nx = NumpyBackend().with_parallel(Parallel(3))
    assert type(nx) is NumpyBackend
    assert nx.parallel.n_threads == 3
    torch_backend = TorchBackend("cpu")
    assert torch_backend.with_parallel(Parallel(3)) is torch_backend
