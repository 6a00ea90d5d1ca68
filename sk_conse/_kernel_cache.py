"""Where the compiled kernels keep their code on disk between processes.

:func:`cached` points one numba dispatcher's cache at
:func:`sk_conse._folders.kernel_cache` (numba's own ``cache=True`` would write
next to the source, inside site-packages). Nothing process-wide changes.

The cache is a convenience, never a requirement: an entry that cannot be read
back (half a ``.nbc`` file, a garbage ``.nbi`` index, a foreign pickle) is
deleted with a warning naming the folder, and the kernel is compiled again;
a folder that cannot be created or written leaves the kernel compiled in
memory, once per process.
"""

from __future__ import annotations

import contextlib
import glob
import os
import warnings
from typing import Any

from ._folders import kernel_cache

__all__ = ["cached"]


def _discard(cache: Any, error: BaseException) -> None:
    """Delete the index and data files of ``cache``'s function, and say so."""
    folder = cache.cache_path
    base = os.path.join(folder, glob.escape(cache._impl.filename_base))
    left = []
    for path in [base + ".nbi", *glob.glob(base + ".*.nbc")]:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        except OSError:
            left.append(path)
    then = (
        "its files were deleted"
        if not left
        else f"{len(left)} of its files could not be deleted (delete them)"
    )
    warnings.warn(
        f"sk_conse's compiled-code cache in {folder} has a damaged entry for "
        f"{cache._py_func.__name__} ({type(error).__name__}: {error}); {then}, "
        "and the kernel was compiled again. Set SK_CONSE_CACHE_DIR to use "
        "another folder.",
        RuntimeWarning,
        stacklevel=2,
    )


def cached(dispatcher: Any) -> Any:
    """``dispatcher`` with its compiled code cached in :func:`kernel_cache`.

    Set on this dispatcher only; nothing process-wide changes. An unwritable
    folder, or a numba whose caching API moved, leaves the kernel uncached
    (compiled once per process); a damaged entry is deleted and compiled
    again.
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

            def load_overload(self, sig, target_context):
                try:
                    return super().load_overload(sig, target_context)
                except Exception as error:  # whatever a damaged file raises
                    _discard(self, error)
                    return None

            def save_overload(self, sig, data):
                # Unwritable now: the kernel stays compiled in memory only.
                with contextlib.suppress(Exception):
                    super().save_overload(sig, data)

        dispatcher._cache = _Cache(dispatcher.py_func)
    except Exception:  # any failure only costs a compile per process
        pass
    return dispatcher
