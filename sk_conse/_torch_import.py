"""The optional PyTorch import, with the line that installs it."""

from __future__ import annotations

from typing import Any

__all__ = ["import_torch"]

_TORCH_HINT = (
    "pip install torch==2.13.0 (pick the CPU build on machines without a GPU), "
    "or pip install 'sk_conse[torch]'"
)


def import_torch(needed_by: str = "This feature") -> Any:
    """Import and return :mod:`torch`, or say how to install it.

    Parameters
    ----------
    needed_by : str, default="This feature"
        What needs PyTorch, named at the start of the error message.

    Returns
    -------
    torch : module
        The imported :mod:`torch` package.

    Raises
    ------
    ImportError
        If PyTorch is not installed; the message gives the ``pip install``
        line.

    Examples
    --------
    >>> from sk_conse._torch_import import import_torch
    >>> try:
    ...     torch = import_torch("DeViSEClassifier")
    ... except ImportError as exc:
    ...     assert "pip install torch==2.13.0" in str(exc)
    """
    try:
        import torch
    except ImportError as exc:
        raise ImportError(f"{needed_by} needs PyTorch: {_TORCH_HINT}.") from exc
    return torch
