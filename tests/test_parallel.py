"""Tests of the CPU engine's parallelism (sk_conse._parallel).

``Parallel.run`` hands out units one at a time to the calling thread and to a
persistent pool shared by every call; nothing process-wide (BLAS thread limits
included) is ever changed.

Nesting: a unit may itself call ``Parallel.run``. The calling thread of the
inner call works its own units and waits only for units that have started, so
it cannot deadlock even when every pool thread is busy with outer units;
``test_nested_run_inside_a_unit_completes`` checks it under a timeout.
"""

import threading
import time
import weakref

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from sk_conse import _parallel
from sk_conse._backend import NumpyBackend
from sk_conse._parallel import SERIAL, Parallel, blas_threads, plan

TIMEOUT = 30


def _blas_threads():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def _pool_threads():
    return [t for t in threading.enumerate() if t.name.startswith("sk_conse")]


def _in_thread(target, timeout=TIMEOUT):
    """Run ``target`` on a thread; fail (instead of hanging) past ``timeout``."""
    errors = []

    def body():
        try:
            target()
        except BaseException as exc:  # reported on the test's thread
            errors.append(exc)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"no answer within {timeout} s (deadlock?)"
    if errors:
        raise errors[0]


# -------------------------------------------------------------------- run


@pytest.mark.parametrize("n_threads", [1, 4])
@pytest.mark.parametrize("n_units", [0, 1, 3, 100])
def test_run_calls_every_unit_once(n_threads, n_units):
    calls = [0] * n_units
    lock = threading.Lock()

    def unit(u):
        with lock:
            calls[u] += 1

    Parallel(n_threads).run(n_units, unit)
    assert calls == [1] * n_units


def test_run_uses_several_threads_when_budgeted():
    # Units that wait for each other can only finish on two threads at once.
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    names = set()

    def unit(u):
        names.add(threading.current_thread().name)
        barrier.wait()

    _in_thread(lambda: Parallel(2).run(2, unit))
    assert len(names) == 2


def test_serial_runs_on_the_calling_thread():
    names = []
    SERIAL.run(5, lambda u: names.append(threading.current_thread().name))
    assert names == [threading.current_thread().name] * 5


@pytest.mark.parametrize("n_threads", [1, 4])
def test_run_reraises_the_first_exception(n_threads):
    def unit(u):
        if u == 3:
            raise ValueError("unit 3 failed")

    with pytest.raises(ValueError, match="unit 3 failed"):
        Parallel(n_threads).run(10, unit)


def test_run_waits_for_running_units_before_raising():
    started = threading.Event()
    finished = threading.Event()

    def unit(u):
        if u == 0:
            assert started.wait(TIMEOUT)  # unit 1 is running on another thread
            raise ValueError("unit 0 failed")
        if u == 1:
            started.set()
            time.sleep(0.2)
            finished.set()

    def call():
        with pytest.raises(ValueError, match="unit 0 failed"):
            Parallel(4).run(2, unit)
        assert finished.is_set()

    _in_thread(call)


def test_run_keeps_the_first_of_several_exceptions_and_starts_no_more_units():
    # Units 0 and 1 run at once; unit 0 raises first, unit 1 after it.
    second_started = threading.Event()
    first_raised = threading.Event()
    ran = []

    def unit(u):
        ran.append(u)
        if u == 0:
            assert second_started.wait(TIMEOUT)
            first_raised.set()
            raise ValueError("first")
        if u == 1:
            second_started.set()
            assert first_raised.wait(TIMEOUT)
            time.sleep(0.05)
            raise KeyError("second")

    def call():
        with pytest.raises(ValueError, match="first"):
            Parallel(2).run(50, unit)

    _in_thread(call)
    assert sorted(ran) == [0, 1]


def test_concurrent_runs_from_several_threads():
    # 8 threads each run 50 units on one shared list, disjoint slots each.
    n_callers, n_units = 8, 50
    slots = [None] * (n_callers * n_units)
    barrier = threading.Barrier(n_callers, timeout=TIMEOUT)
    errors = []

    def caller(c):
        def unit(u):
            slot = c * n_units + u
            assert slots[slot] is None
            slots[slot] = (c, u)
            time.sleep(0.0005)

        try:
            barrier.wait()
            Parallel(4).run(n_units, unit)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(c,)) for c in range(n_callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert slots == [(c, u) for c in range(n_callers) for u in range(n_units)]


def test_nested_run_inside_a_unit_completes():
    out = np.zeros((4, 6), dtype=int)

    def outer(i):
        def inner(j):
            out[i, j] += 1

        Parallel(4).run(6, inner)

    _in_thread(lambda: Parallel(4).run(4, outer))
    np.testing.assert_array_equal(out, 1)


def test_a_helper_that_starts_late_keeps_nothing_of_the_call_alive():
    # The calling thread did every unit while the pool was busy; the
    # helper's queued work still held the call's units (and through them
    # every array they read, one per batch of predict) until it started.
    executor = _parallel._get_executor()
    release = threading.Event()
    busy = [executor.submit(release.wait) for _ in range(executor._max_workers)]

    class Data:
        pass

    data = Data()
    seen = weakref.ref(data)
    try:
        Parallel(2).run(3, lambda u, data=data: None)
        del data
        assert seen() is None
    finally:
        release.set()
        for future in busy:
            future.result(timeout=TIMEOUT)


def test_the_pool_is_persistent():
    n = min(4, _parallel._get_executor()._max_workers + 1)
    barrier = threading.Barrier(n, timeout=TIMEOUT)

    def together(u):
        barrier.wait()  # n units at once: the pool holds all its threads

    _in_thread(lambda: Parallel(n).run(n, together))
    pool = {t.ident for t in _pool_threads()}
    assert len(pool) == n - 1
    for _ in range(20):
        _in_thread(lambda: Parallel(n).run(n, together))
        Parallel(n).run(10, lambda u: time.sleep(0.001))
    assert {t.ident for t in _pool_threads()} == pool


# ------------------------------------------------------------ plan and BLAS


def test_plan_respects_a_callers_blas_limit():
    with threadpool_limits(1):
        assert plan().n_threads == 1
    with threadpool_limits(1, user_api="blas"):
        assert plan().n_threads == 1
        assert blas_threads() == 1


def test_plan_is_capped_by_cores_and_blas():
    n = plan().n_threads
    assert 1 <= n <= _parallel._cores()
    assert n <= blas_threads()


def test_plan_reads_the_limit_in_force_when_called():
    with threadpool_limits(2, user_api="blas"):
        assert plan().n_threads <= 2
    assert plan().n_threads == min(_parallel._cores(), blas_threads())


def test_plan_uses_every_core_of_a_16_core_machine(monkeypatch):
    # Found from outside: the engine never used more than 4 threads
    # (_MAX_THREADS, tuned on 2 cores), whatever the machine.
    monkeypatch.setattr(_parallel, "_cores", lambda: 16)
    monkeypatch.setattr(_parallel, "blas_threads", lambda: 16)
    assert plan().n_threads == 16
    # The caller's BLAS limit and the process's affinity still cap it.
    monkeypatch.setattr(_parallel, "blas_threads", lambda: 6)
    assert plan().n_threads == 6
    monkeypatch.setattr(_parallel, "_cores", lambda: 3)
    assert plan().n_threads == 3


def test_plan_reads_affinity(monkeypatch):
    monkeypatch.setattr(
        _parallel.os, "sched_getaffinity", lambda pid: {0, 5}, raising=False
    )
    assert _parallel._cores() == 2


def _concurrent_calls(n_callers=4):
    """Threaded top-k and gathers, planned by ``plan()``, from several threads
    and the calling one (with this OpenBLAS, a thread limit set from another
    thread after the main thread set one does not take effect, so only the
    calling thread's calls could reveal a leaked limit there)."""
    rng = np.random.default_rng(0)
    S = rng.random((256, 32768), dtype=np.float32)  # threaded top-k
    M, w = rng.random((50, 4096)), rng.random((1024, 16))
    idx = np.sort(rng.permuted(np.tile(np.arange(50), (1024, 1)), axis=1)[:, :16], 1)
    errors = []

    def caller():
        try:
            nx = NumpyBackend(plan())
            nx.top_k(S, 5)
            nx.weighted_rows(idx, w, M)
            nx.weighted_sum(idx, w, M, np.float32)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=caller) for _ in range(n_callers)]
    for t in threads:
        t.start()
    caller()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    assert errors == []


def test_concurrent_use_leaves_blas_thread_counts_alone():
    before = _blas_threads()
    assert before  # NumPy's BLAS is visible to threadpoolctl
    _concurrent_calls()
    assert _blas_threads() == before


def test_concurrent_use_inside_a_callers_limit_leaves_it_alone():
    # A count that differs from both 1 and the default, set by the caller.
    with threadpool_limits(3, user_api="blas"):
        inside = _blas_threads()
        assert set(inside) == {3}
        _concurrent_calls()
        assert _blas_threads() == inside
