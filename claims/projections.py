"""Shared numerical helpers for the projection claims (claim1, claim4; usable by any claim).

- Projections P[M] and P_N[M] = I - P[M] through an SVD with the handbook's numerical rank (CLAIMS.md section 0):
  threshold max(shape) * eps * sigma_max and a gap sigma_k / sigma_{k+1} >= GAP_MIN at the cut.
- The Jacobian blocks D^(l) = d vec(Yhat) / d vec W^(l) of an MLP, as column blocks of MLP.output_jacobian (D-bar).
(The pattern-fixed polish for piecewise-linear nets lives in the engine: networks.minimize_piecewise.)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from networks import MLP

EPS = float(np.finfo(np.float64).eps)
GAP_MIN = 1e3  # the handbook's minimum singular-value gap at the rank cut


@dataclass(frozen=True)
class Basis:
    """Orthonormal basis Q of col(M) at the handbook's numerical rank, with the numbers behind the cut."""

    Q: np.ndarray  # (n, rank)
    rank: int
    sigma_max: float
    sigma_min_plus: float  # smallest kept singular value (inf for rank 0)
    gap: float  # sigma_rank / sigma_{rank+1}; inf when nothing was cut

    @property
    def gapped(self) -> bool:
        return self.gap >= GAP_MIN

    def project(self, y: np.ndarray) -> np.ndarray:
        """P[M] y."""
        return self.Q @ (self.Q.T @ y)

    def project_out(self, y: np.ndarray) -> np.ndarray:
        """P_N[M] y = y - P[M] y."""
        return y - self.project(y)


def _np(M) -> np.ndarray:
    if isinstance(M, torch.Tensor):
        M = M.detach().cpu().numpy()
    M = np.asarray(M, dtype=np.float64)
    if M.ndim != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {M.shape}")
    if not np.isfinite(M).all():
        raise ValueError("matrix contains NaN or inf")
    return M


def basis(M, scale: float | None = None) -> Basis:
    """Orthonormal basis of col(M) with the handbook threshold max(shape) * eps * sigma_max.

    `scale` replaces sigma_max in the threshold when M is a projected block whose own sigma_max understates the
    round-off it carries (e.g. P_N[A] B carries residue of order eps * ||B||, not eps * ||P_N[A] B||)."""
    M = _np(M)
    n = M.shape[0]
    if M.size == 0:
        return Basis(np.zeros((n, 0)), 0, 0.0, math.inf, math.inf)
    U, s, _ = np.linalg.svd(M, full_matrices=False)
    smax = float(s[0]) if s.size else 0.0
    ref = smax if scale is None else max(float(scale), smax)
    if ref == 0.0:
        return Basis(np.zeros((n, 0)), 0, 0.0, math.inf, math.inf)
    thr = max(M.shape) * EPS * ref
    r = int((s > thr).sum())
    smin = float(s[r - 1]) if r else math.inf
    gap = float(s[r - 1] / s[r]) if 0 < r < s.size and s[r] > 0 else math.inf
    return Basis(U[:, :r], r, smax, smin, gap)


def proj_norm2(M, y, scale: float | None = None) -> float:
    """||P[M] y||^2."""
    b = basis(M, scale)
    c = b.Q.T @ np.asarray(y, dtype=np.float64)
    return float(c @ c)


def residual_norm2(M, y, scale: float | None = None) -> float:
    """||P_N[M] y||^2."""
    b = basis(M, scale)
    v = b.project_out(np.asarray(y, dtype=np.float64))
    return float(v @ v)


# ---------------------------------------------------------------- Jacobian blocks of an MLP
def block_slices(model: MLP) -> list[slice]:
    """Column slices of D-bar (MLP.output_jacobian) holding D^(1), ..., D^(H+1).

    Valid for models without masks and without skip (every weight entry is a parameter, stored W^(1) first)."""
    if model.masks or model.skip_dim:
        raise ValueError("block_slices needs an MLP without masks and without a skip (parameters = weight entries)")
    out, i = [], 0
    for r, c in model.weight_shapes:
        out.append(slice(i, i + r * c))
        i += r * c
    return out


def jacobian_blocks(model: MLP, theta, X) -> tuple[np.ndarray, list[np.ndarray]]:
    """(D-bar, [D^(1), ..., D^(H+1)]) as numpy arrays, rows in vec order (CLAIMS.md section 0)."""
    X = torch.as_tensor(X, dtype=torch.float64)
    J = model.output_jacobian(torch.as_tensor(theta, dtype=torch.float64), X).detach().numpy()
    return J, [J[:, s] for s in block_slices(model)]
