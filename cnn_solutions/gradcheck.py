"""Numerical gradients, the independent check of every backward pass."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnn_solutions._validate import as_float_array

__all__ = ["numerical_gradient", "rel_error"]


def numerical_gradient(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Centred-difference gradient of ``sum(f(x) * dout)`` with respect to ``x``.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to an array shaped like ``dout``.
    x : ndarray
        Point at which to differentiate; left exactly as it was.
    dout : ndarray
        Upstream gradient, the weights of the scalar ``sum(f(x) * dout)``.
    h : float, default 1e-5
        Step size.

    Returns
    -------
    grad : ndarray of the shape of x
        ``(L(x + h e_i) - L(x - h e_i)) / (2h)`` for each element ``i``.
    """
    # Perturb a private copy, so the caller's x is untouched even if f fails midway.
    point = as_float_array(x, "x", tuple(range(np.ndim(x) + 1))).copy()
    weights = np.asarray(dout, dtype=np.float64)
    grad = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        original = point[index]
        point[index] = original + h
        plus = np.sum(np.asarray(f(point), dtype=np.float64) * weights)
        point[index] = original - h
        minus = np.sum(np.asarray(f(point), dtype=np.float64) * weights)
        point[index] = original
        grad[index] = (plus - minus) / (2 * h)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """CS231n relative error: ``max |a - b| / max(1e-8, |a| + |b|)``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
