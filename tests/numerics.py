"""Numerical helpers shared by test modules (gradients by central differences)."""

from __future__ import annotations

import numpy as np

EPS = np.finfo(np.float64).eps


def central_difference_gradient(f, theta):
    """The gradient of the scalar ``f`` at ``theta``, entry by entry, by central differences.

    The step ``eps**(1/3) * max(1, |theta_i|)`` balances the O(h^2) truncation against
    rounding; dividing by the step actually taken (``up - down``) removes its own rounding.
    """
    theta = np.array(theta, dtype=float)
    g = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        h = EPS ** (1 / 3) * max(1.0, abs(theta[i]))
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        g[i] = (f(up) - f(down)) / (up[i] - down[i])
    return g


def relative_error(g, g_fd):
    """``|g - g_fd| / max(|g|, |g_fd|)``, safe when both are zero."""
    return np.linalg.norm(g - g_fd) / max(np.linalg.norm(g), np.linalg.norm(g_fd), 1e-300)
