"""Where the compiled kernels keep their code on disk between processes.

:func:`cached` points one numba dispatcher's cache at
:func:`sk_conse._folders.kernel_cache` (numba's own ``cache=True`` would write
next to the source, inside site-packages). Nothing process-wide changes.
"""

from __future__ import annotations

from typing import Any

from ._folders import kernel_cache

__all__ = ["cached"]


def cached(dispatcher: Any) -> Any:
    """``dispatcher`` with its compiled code cached in :func:`kernel_cache`.

    Set on this dispatcher only; nothing process-wide changes. An unwritable
    folder, or a numba whose caching API moved, leaves the kernel uncached
    (compiled once per process).
    """
    try:
        from numba.core.caching import (
            CompileResultCacheImpl,
            FunctionCache,
            UserWideCacheLocator,
        )

        class _Locator(UserWideCacheLocator):
            def __init__(self, py_func, py_file):
                super().__init__(py_func, py_file)
                self._cache_path = str(kernel_cache())

        class _Impl(CompileResultCacheImpl):
            _locator_classes = (_Locator,)

        class _Cache(FunctionCache):
            _impl_class = _Impl

        dispatcher._cache = _Cache(dispatcher.py_func)
    except Exception:  # any failure only costs a compile per process
        pass
    return dispatcher
