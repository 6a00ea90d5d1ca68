"""Parallelism of the CPU engine: one persistent thread pool, sized once per call.

Everything sk_conse runs in parallel on the CPU goes through this module:

- **Nothing process-wide changes.** BLAS thread limits are only *read*
  (through threadpoolctl), never set: entering ``threadpool_limits`` from
  several threads at once leaves the process at the wrong thread count
  (measured: 2 threads x 50 predicts left OpenBLAS on 1 thread for good, and
  the caller's own GEMMs 2x slower).
- **Decided once per public call.** :func:`plan` reads the thread budget at the
  start of ``predict`` (and friends): the cores this process may use, capped by
  the BLAS limit in force, so a caller's ``threadpool_limits(1)`` block or a
  joblib worker's share of the cores is respected.
- **Persistent workers.** Work units go to one lazily created
  :class:`~concurrent.futures.ThreadPoolExecutor` shared by every call, not to
  threads started per call. The calling thread works too, and never waits for
  a helper that has not started: concurrent calls share the pool without
  blocking each other.

The units are NumPy operations that release the GIL (``take``, small matrix
products, elementwise maxima); see :class:`sk_conse._backend.NumpyBackend`.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

__all__ = ["SERIAL", "Parallel", "blas_threads", "plan"]

_executor_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _forget_executor() -> None:
    # A forked child inherits the pool object but not its threads.
    global _executor
    _executor = None


if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
    os.register_at_fork(after_in_child=_forget_executor)


def _get_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            # Threads start only when work needs them: as many as the
            # machine has cores, so that any call's plan fits.
            _executor = ThreadPoolExecutor(
                max_workers=max(1, (os.cpu_count() or 1) - 1),
                thread_name_prefix="sk_conse",
            )
        return _executor


@functools.cache
def _threadpool_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def blas_threads() -> int:
    """How many threads BLAS may use now, a caller's or joblib's limit included.

    Read-only: the limit is never changed here.

    Examples
    --------
    >>> from sk_conse._parallel import blas_threads
    >>> blas_threads() >= 1
    True
    """
    libs = _threadpool_controller().select(user_api="blas").lib_controllers
    return max(1, min((lib.num_threads for lib in libs), default=1))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class _Units:
    """Hands out unit numbers one at a time; tracks the units in progress."""

    def __init__(self, n_units: int, unit: Callable[[int], None]) -> None:
        self.n_units = n_units
        self.unit = unit
        self.next = 0
        self.active = 0
        self.error: BaseException | None = None
        self.done = threading.Condition()

    def work(self) -> None:
        while True:
            with self.done:
                if self.next >= self.n_units or self.error is not None:
                    return
                u = self.next
                self.next += 1
                self.active += 1
            try:
                self.unit(u)
            except BaseException as exc:
                with self.done:
                    if self.error is None:
                        self.error = exc
            finally:
                with self.done:
                    self.active -= 1
                    self.done.notify_all()

    def wait(self) -> None:
        """Block until no unit is running; helpers that never started are moot."""
        with self.done:
            while self.active:
                self.done.wait()


@dataclass(frozen=True)
class Parallel:
    """A thread budget for one public call.

    Parameters
    ----------
    n_threads : int
        Threads that may work on the call's units, the calling one included.

    Examples
    --------
    >>> from sk_conse._parallel import Parallel
    >>> out = [0] * 5
    >>> def unit(u):
    ...     out[u] = u * u
    >>> Parallel(2).run(5, unit)
    >>> out
    [0, 1, 4, 9, 16]
    """

    n_threads: int = 1

    def threads_for(self, n_units: int) -> int:
        """Threads worth using for ``n_units`` units."""
        return max(1, min(self.n_threads, n_units))

    def run(self, n_units: int, unit: Callable[[int], None]) -> None:
        """Call ``unit(0) ... unit(n_units - 1)``, in parallel when budgeted.

        Units are handed out one at a time, so a thread slowed by a busy core
        takes fewer of them. The first exception is re-raised once no unit is
        running any more.
        """
        n_threads = self.threads_for(n_units)
        if n_threads <= 1:
            for u in range(n_units):
                unit(u)
            return
        units = _Units(n_units, unit)
        executor = _get_executor()
        for _ in range(n_threads - 1):
            executor.submit(units.work)
        units.work()
        units.wait()
        # A helper that starts later finds no unit left: it must not keep
        # the call's work (and the arrays it reads) alive in the queue.
        units.unit = None
        if units.error is not None:
            raise units.error


#: Everything on the calling thread.
SERIAL = Parallel(1)


def plan() -> Parallel:
    """The thread budget of a public call, decided at its start.

    The cores this process may run on (its affinity), capped by the BLAS
    thread limit in force (a ``threadpool_limits`` block of the caller, or a
    joblib worker's share). Nothing else caps it: a 64-core machine gets 64.

    Examples
    --------
    >>> from threadpoolctl import threadpool_limits
    >>> from sk_conse._parallel import plan
    >>> with threadpool_limits(1):
    ...     plan().n_threads
    1
    """
    return Parallel(max(1, min(_cores(), blas_threads())))
