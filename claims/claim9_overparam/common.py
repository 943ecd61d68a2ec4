"""Shared helpers of claim9's sub-claims: records, the executed-check convention, unit-sphere data."""
from __future__ import annotations

import math

import numpy as np
import torch

from minimacheck.ledger import Record

CLAIM_ID = "claim9"


def record(part: str, check: str, regime: str, *, trained: bool = True, **kw) -> Record:
    """A positive record of sub-claim `part`. For executed-check parts `certified=True` means "the check ran to a
    verdict" (its hypotheses held at the instance); for 9a/9e it means a certified local minimum."""
    return Record(CLAIM_ID, check, part=part, regime=regime, trained=trained, **kw)


def headroom(*pairs: tuple[float, float]) -> float:
    """max over (gap, tol) pairs of gap / tol (<= 1 passes); a non-finite gap is a failure (inf)."""
    out = -math.inf
    for gap, tol in pairs:
        if not math.isfinite(gap):
            return math.inf
        out = max(out, gap / tol if tol > 0 else (math.inf if gap > 0 else 0.0))
    return out


def sphere(n: int, d: int, rng: np.random.Generator, radius: float = 1.0) -> np.ndarray:
    """n points uniform on the sphere of the given radius in R^d."""
    X = rng.standard_normal((n, d))
    return radius * X / np.linalg.norm(X, axis=1, keepdims=True)


def separation(X: np.ndarray) -> float:
    """min over i != j of min(||x_i - x_j||, ||x_i + x_j||): 0 for repeated or antipodal points."""
    n = X.shape[0]
    best = math.inf
    for i in range(n):
        D = np.minimum(np.linalg.norm(X[i + 1:] - X[i], axis=1), np.linalg.norm(X[i + 1:] + X[i], axis=1))
        if D.size:
            best = min(best, float(D.min()))
    return best


def jacobian_gram(X: np.ndarray, widths: tuple, seed: int, device="cpu") -> np.ndarray:
    """J J^T at a N(0, 1) init of the NTK-parameterized ReLU net with the given hidden widths, every layer trained
    (torch.func.jacrev): the empirical NTK of claim9c and the Gram matrix of claim9d."""
    g = torch.Generator().manual_seed(int(seed))
    dims = [X.shape[1], *widths, 1]
    params = tuple(torch.randn(dims[i + 1], dims[i], generator=g).to(device) for i in range(len(dims) - 1))
    Xt = torch.as_tensor(X, device=device)

    def f(ps):
        h = Xt.T
        for i, W in enumerate(ps):
            h = W @ h if i == 0 else W @ (math.sqrt(2.0 / h.shape[0]) * torch.relu(h))
        return h[0]

    J = torch.cat([j.reshape(X.shape[0], -1) for j in torch.func.jacrev(f)(params)], dim=1)
    return (J @ J.T).cpu().numpy()
