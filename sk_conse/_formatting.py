"""How labels are written in messages: as the user wrote them, a few at a time.

Labels read from NumPy arrays are NumPy scalars, whose ``repr`` is
``np.str_('cat')``; messages show them as the Python values they hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["MAX_NAMED", "as_python_label", "label_repr", "name_some"]

#: How many labels an error message names before "and N more".
MAX_NAMED = 10


def name_some(labels: Iterable[Any], limit: int = MAX_NAMED) -> str:
    """The first ``limit`` labels as a comma-separated list, for messages.

    NumPy scalars are shown as plain Python values; when there are more than
    ``limit`` labels, "and N more" follows.

    Parameters
    ----------
    labels : iterable
        The labels to name.
    limit : int, default=10
        How many labels to show.

    Returns
    -------
    text : str
        The ``repr`` of the first labels, joined by ", ".

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._formatting import name_some
    >>> name_some(["cat", np.int64(3)])
    "'cat', 3"
    >>> name_some(range(5), limit=2)
    '0, 1 and 3 more'
    """
    labels = list(labels)
    shown = ", ".join(label_repr(label) for label in labels[:limit])
    more = len(labels) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def label_repr(label: Any) -> str:
    """The ``repr`` of a label for a message, as the user wrote it.

    NumPy scalars are shown as the Python values they hold, also inside a
    tuple label: ``'T-shirt/top'``, not ``np.str_('T-shirt/top')``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._formatting import label_repr
    >>> label_repr(np.str_("T-shirt/top")), label_repr((np.int64(1), "a"))
    ("'T-shirt/top'", "(1, 'a')")
    """
    if isinstance(label, tuple):
        return repr(tuple(as_python_label(part) for part in label))
    return repr(as_python_label(label))


def as_python_label(label: Any) -> Any:
    """A NumPy scalar label as the Python value it holds; others unchanged.

    ``np.str_("cat")`` becomes ``"cat"`` and ``np.int64(3)`` becomes ``3``,
    so that labels read from arrays are the same dict keys as the user's
    own, and messages show ``'cat'``, not ``np.str_('cat')``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_conse._formatting import as_python_label
    >>> as_python_label(np.int64(3)), as_python_label("cat")
    (3, 'cat')
    """
    return label.item() if isinstance(label, np.generic) else label
