"""Numerically careful reference implementations for the course.

Every function takes NumPy arrays (or Python scalars and lists) and returns NumPy
values.  The result dtype follows the input: ``float32`` in gives ``float32`` out;
``float64``, integer and boolean input give ``float64``.  Internally everything is
computed in (at least) double precision, so a ``float32`` result is the correctly
rounded double result rounded once more.

The formulas are chosen so that no input, however extreme, overflows, produces a
NaN or a floating-point warning where the mathematical answer exists: ``|x|`` up to
``1e4`` and beyond, rows holding ``-inf`` next to finite logits, ``0 * log(0)``
terms.  Gradual underflow of a tiny result to a subnormal number or to zero is the
correctly rounded answer, so it is allowed silently inside every function.

The accuracy of each function is stated in its Notes and checked against 50-digit
``mpmath`` in ``tests/reference/test_elementary_accuracy.py``.

Checks and notebooks name every function here, in one flat namespace
(``reference.sigmoid``, ``reference.softmax_regression_fit``).  They are written in
one submodule per part of the course, each of which imports only the ones before it:

- :mod:`autograder.reference.elementary`: chapters 1 to 4, the sigmoid and softplus,
  the softmax and log-sum-exp, cross-entropy and the losses;
- :mod:`autograder.reference.exponential_family`: chapter 5, the categorical
  distribution as an exponential family;
- :mod:`autograder.reference.softmax_regression`: chapter 6, the model, its loss and
  gradient, a trainer and the digits;
- :mod:`autograder.reference.practice`: chapter 7, calibration, temperature scaling,
  minibatch SGD, Newton's method and one-vs-rest.
"""

from autograder.reference import elementary, exponential_family, practice, softmax_regression
from autograder.reference.elementary import *  # noqa: F403
from autograder.reference.exponential_family import *  # noqa: F403
from autograder.reference.practice import *  # noqa: F403
from autograder.reference.softmax_regression import *  # noqa: F403

__all__ = [
    *elementary.__all__,
    *exponential_family.__all__,
    *softmax_regression.__all__,
    *practice.__all__,
]
