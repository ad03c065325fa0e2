"""The dtype rule every reference function follows, written once.

A function turns each array argument into working precision with :func:`as_float`,
computes, and casts its result back with :func:`finish`: ``float16`` and ``float32``
in give ``float32`` out, other floats keep their dtype, integers and booleans give
``float64``, and anything else (complex numbers, strings, objects) is refused.
"""

import numpy as np

__all__ = ["as_float", "finish", "result_dtype"]


def result_dtype(a):
    """float16/float32 -> float32, other floats kept, integers and bools -> float64.

    Raises
    ------
    TypeError
        If ``a`` does not hold real numbers.
    """
    if a.dtype.kind == "f":
        return np.result_type(a.dtype, np.float32)
    if a.dtype.kind in "biu":
        return np.dtype(np.float64)
    raise TypeError(f"expected real numbers, got an array of dtype {a.dtype}")


def as_float(x):
    """``x`` as an array in working precision (at least float64), and the result dtype.

    Raises
    ------
    TypeError
        If ``x`` does not hold real numbers.
    """
    x = np.asarray(x)
    out = result_dtype(x)
    return x.astype(np.promote_types(out, np.float64)), out


def finish(y, out):
    """Cast to the result dtype; a 0-d array becomes a NumPy scalar."""
    with np.errstate(over="ignore"):  # beyond the float32 range is +-inf, correctly rounded
        return np.asarray(y).astype(out, copy=False)[()]
