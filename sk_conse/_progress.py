"""The one progress bar (tqdm): off unless stderr is a terminal or the bar
was asked for explicitly, plain lines on stderr without tqdm."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, Literal

__all__ = ["progress"]


def _stderr_is_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty is not None and isatty())
    except ValueError:  # a closed stream
        return False


class _Lines:
    """Stand-in for a tqdm bar when tqdm is missing: plain lines on stderr.

    Supports the parts of tqdm's interface that sk_conse uses: iteration,
    ``update``, ``close`` and use as a context manager.
    """

    def __init__(
        self,
        iterable: Iterable | None,
        desc: str,
        total: int | None,
        shown: bool,
    ) -> None:
        self.iterable = iterable
        self.desc = desc
        if total is None and iterable is not None:
            try:
                total = len(iterable)  # type: ignore[arg-type]
            except TypeError:
                total = None
        self.total = total
        self.shown = shown
        self.n = 0

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.shown:
            of = "" if self.total is None else f"/{self.total}"
            print(f"{self.desc}: {self.n}{of}", file=sys.stderr, flush=True)

    def __iter__(self) -> Iterator:
        if self.iterable is None:
            raise TypeError("this progress bar has no iterable; call update().")
        for item in self.iterable:
            yield item
            self.update()

    def close(self) -> None:
        pass

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(
    iterable: Iterable | None,
    desc: str,
    *,
    total: int | None = None,
    enabled: bool | int | Literal["always"] = True,
    **tqdm_kwargs: Any,
) -> Any:
    """Wrap ``iterable`` in a progress bar on stderr, when one is wanted.

    The bar is shown when ``enabled`` is true *and* stderr is a terminal, so
    logs, CI output and notebooks redirected to files stay free of bar
    redraws; ``enabled="always"`` shows it whatever stderr is (the caller
    asked for it explicitly). The bar is :class:`tqdm.auto.tqdm` when tqdm is
    installed, else one plain line per step on stderr.

    Parameters
    ----------
    iterable : iterable or None
        What to iterate over. None gives a bar that is advanced by hand with
        ``bar.update(n)`` (then pass ``total``).
    desc : str
        The bar's label.
    total : int, default=None
        Number of steps; default ``len(iterable)`` when it has one.
    enabled : bool, int or "always", default=True
        False (or 0) never shows the bar; True (or a positive int, such as a
        ``verbose`` level) shows it when stderr is a terminal; ``"always"``
        shows it even when stderr is not a terminal.
    **tqdm_kwargs
        Passed on to tqdm (``unit``, ``leave``, ...); ignored without tqdm.

    Returns
    -------
    bar : iterable
        A tqdm bar (disabled when not shown, so it costs next to nothing) or
        its plain-lines stand-in; either can also be used as a context
        manager and advanced with ``update(n)``.

    Raises
    ------
    ValueError
        If ``enabled`` is a string other than ``"always"``.

    Examples
    --------
    Under doctest stderr is not a terminal, so no bar is drawn unless asked
    for with ``enabled="always"``:

    >>> from sk_conse._progress import progress
    >>> [i * i for i in progress(range(4), "squares")]
    [0, 1, 4, 9]
    >>> with progress(None, "images", total=10, enabled=False) as bar:
    ...     bar.update(10)
    """
    if isinstance(enabled, str):
        if enabled != "always":
            raise ValueError(f"enabled must be a bool or 'always', got {enabled!r}.")
        shown = True
    else:
        shown = bool(enabled) and _stderr_is_terminal()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Lines(iterable, desc, total, shown)
    tqdm_kwargs.setdefault("file", sys.stderr)
    return tqdm(iterable, desc=desc, total=total, disable=not shown, **tqdm_kwargs)
