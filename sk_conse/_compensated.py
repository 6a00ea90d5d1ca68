"""One step of the compensated dot product Dot2, written once.

Ogita, Rump and Oishi, "Accurate sum and dot product", SIAM J. Sci. Comput.
26(6), 2005: TwoProduct (Dekker's split, no fused multiply-add) and TwoSum.
Plain arithmetic, so the same function runs on NumPy, torch and CuPy arrays
(:meth:`sk_conse._backend.Backend.dot2`, vectorised over pairs) and is
compiled by numba (:func:`sk_conse._numba_kernels.dot2`, one pair at a time):
the same operations in the same order, the same bits.
"""

__all__ = ["dot2_step"]

# Dekker's splitting constant for float64 (2**27 + 1).
SPLIT = 134217729.0


def dot2_step(p, s, x, y):
    """Add ``x * y`` to the running sum ``p`` and its error term ``s``.

    Starting from ``p = s = 0`` over every pair of components, ``p + s`` is
    the dot product as accurate as if computed in twice the precision.
    """
    h = x * y
    c = SPLIT * x
    xh = c - (c - x)
    xl = x - xh
    c = SPLIT * y
    yh = c - (c - y)
    yl = y - yh
    r = xl * yl - (((h - xh * yh) - xl * yh) - xh * yl)
    total = p + h
    z = total - p
    return total, s + (((p - (total - z)) + (h - z)) + r)
