"""Numerical helpers shared by test modules (gradients by central differences)."""

from __future__ import annotations

import numpy as np

EPS = np.finfo(np.float64).eps
TINY = np.finfo(np.float64).tiny


def central_difference_gradient(f, theta, h=None):
    """The gradient of the scalar ``f`` at ``theta``, entry by entry, by central differences.

    The default step ``eps**(1/3) * max(1, |theta_i|)`` balances the O(h^2) truncation
    against rounding; ``h`` may instead be a step, or a function of ``theta_i`` giving one.
    Dividing by the step actually taken (``up - down``) removes the step's own rounding.
    """
    theta = np.array(theta, dtype=float)
    g = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        if h is None:
            step = EPS ** (1 / 3) * max(1.0, abs(theta[i]))
        else:
            step = h(theta[i]) if callable(h) else h
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        g[i] = (f(up) - f(down)) / (up[i] - down[i])
    return g


def relative_error(g, g_fd):
    """``|g - g_fd| / max(|g|, |g_fd|)``, safe when both are zero."""
    g, g_fd = np.asarray(g, dtype=float), np.asarray(g_fd, dtype=float)
    return np.linalg.norm(g - g_fd) / max(np.linalg.norm(g), np.linalg.norm(g_fd), TINY)
