"""The package's folders on disk: one leaf module, imported by every reader.

- the data home (:func:`sk_conse.datasets.get_data_home`): ``$SK_CONSE_DATA``,
  else ``~/sk_conse_data``;
- the embedding cache (:func:`sk_conse.synsets.embedding_cache_dir`):
  ``$SK_CONSE_CACHE_DIR``, else ``$XDG_CACHE_HOME/sk_conse``, else
  ``~/.cache/sk_conse``;
- the compiled-code cache: the subfolder ``numba`` of the embedding cache.

Every path, given or read from the environment, has ``~`` expanded. Nothing
here creates a folder: the code that writes into one does, and says what is
wrong when it cannot.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "CACHE_ENV",
    "DATA_HOME_ENV",
    "check_folder",
    "data_home",
    "embedding_cache",
    "kernel_cache",
]

DATA_HOME_ENV = "SK_CONSE_DATA"
CACHE_ENV = "SK_CONSE_CACHE_DIR"


def data_home(folder: str | os.PathLike | None = None) -> Path:
    """``folder`` (``~`` expanded), else ``$SK_CONSE_DATA``, else
    ``~/sk_conse_data``."""
    if folder is None:
        folder = os.environ.get(DATA_HOME_ENV) or os.path.join("~", "sk_conse_data")
    return Path(folder).expanduser()


def embedding_cache(folder: str | os.PathLike | None = None) -> Path:
    """``folder`` (``~`` expanded), else ``$SK_CONSE_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/sk_conse``, else ``~/.cache/sk_conse``."""
    if folder is None:
        folder = os.environ.get(CACHE_ENV)
    if folder:
        return Path(folder).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(base).expanduser() / "sk_conse"


def kernel_cache() -> Path:
    """Where compiled kernels are cached: the subfolder ``numba`` of
    :func:`embedding_cache`."""
    return embedding_cache() / "numba"


def check_folder(path: Path, what: str) -> Path:
    """``path``, unless it or the nearest existing folder above it is a file.

    Raises :class:`NotADirectoryError` naming ``what`` (such as
    ``"data_home"``) and the file in the way, before anything is read or
    written there.
    """
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise NotADirectoryError(
                    f"{what} must be a folder (created if missing), but "
                    f"{part} is a file, so {path} cannot be one. Give a folder "
                    "path, or move the file away."
                )
            break
    return path
