"""Fixed feature maps for the kernel baselines of claim 3 (rows of X are samples; all float64).

RBF kernel k(x, x') = exp(-gamma ||x - x'||^2) throughout, so random Fourier and Nystrom features approximate or
reproduce the same kernel.
"""
from __future__ import annotations

from itertools import combinations_with_replacement

import numpy as np

from baselines.certificate import EPS, as_matrix


def _check_int(name: str, v, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {v!r}")
    if v < lo:
        raise ValueError(f"{name} must be >= {lo}, got {v}")
    return int(v)


def _check_gamma(gamma) -> float:
    g = float(gamma)
    if not (np.isfinite(g) and g > 0):
        raise ValueError(f"gamma must be finite and > 0, got {gamma!r}")
    return g


def polynomial_features(X, degree) -> np.ndarray:
    """All monomials of total degree <= `degree`, constant first, then by degree (combinations with replacement):
    p = C(d + degree, degree) columns."""
    X = as_matrix("X", X)
    degree = _check_int("degree", degree, 0)
    cols = [np.ones(X.shape[0])]
    for k in range(1, degree + 1):
        for idx in combinations_with_replacement(range(X.shape[1]), k):
            cols.append(np.prod(X[:, list(idx)], axis=1))
    return np.column_stack(cols)


def rbf_kernel(X, Z, gamma) -> np.ndarray:
    """exp(-gamma ||x_i - z_j||^2), distances clipped at 0 against rounding."""
    X, Z = as_matrix("X", X), as_matrix("Z", Z)
    if X.shape[1] != Z.shape[1]:
        raise ValueError(f"X has {X.shape[1]} columns but Z has {Z.shape[1]}: shape mismatch")
    g = _check_gamma(gamma)
    d2 = np.sum(X * X, 1)[:, None] + np.sum(Z * Z, 1)[None, :] - 2.0 * X @ Z.T
    return np.exp(-g * np.maximum(d2, 0.0))


def random_fourier_features(X, p, gamma, seed) -> np.ndarray:
    """sqrt(2/p) cos(X w + b) with w ~ N(0, 2 gamma I), b ~ U[0, 2 pi): E[Phi Phi^T] = RBF kernel (Rahimi-Recht).
    The map depends only on (d, p, gamma, seed), so train and test points share it."""
    X = as_matrix("X", X)
    p = _check_int("p", p, 1)
    g = _check_gamma(gamma)
    rng = np.random.default_rng(_check_int("seed", seed, 0))
    W = rng.normal(scale=np.sqrt(2.0 * g), size=(X.shape[1], p))
    b = rng.uniform(0.0, 2.0 * np.pi, size=p)
    return np.sqrt(2.0 / p) * np.cos(X @ W + b)


def nystrom_features(X, landmarks, gamma) -> np.ndarray:
    """Phi(x) = k(x, S) K_SS^{+1/2} (m x |S|). The pseudo-inverse square root drops eigenvalues below the handbook
    threshold |S| eps lambda_max; with landmarks = X this gives Phi Phi^T = K K^+ K = K on the data."""
    X = as_matrix("X", X)
    S = as_matrix("landmarks", landmarks)
    g = _check_gamma(gamma)
    KSS = rbf_kernel(S, S, g)
    mu, V = np.linalg.eigh(0.5 * (KSS + KSS.T))
    keep = mu > S.shape[0] * EPS * mu[-1]
    inv_sqrt = (V[:, keep] / np.sqrt(mu[keep])) @ V[:, keep].T
    return rbf_kernel(X, S, g) @ inv_sqrt


__all__ = ["polynomial_features", "rbf_kernel", "random_fourier_features", "nystrom_features"]
