"""The handbook's tolerance budget (CLAIMS.md section 0): tau = tau_fp + slack_cert + slack_solver.

Every claim builds its tolerance from these pieces and the certificate's numbers; nothing is tuned until green.
"""
from __future__ import annotations

import math

from networks.tolerance import slack_solver, tau_fp  # noqa: F401 - re-exported: the suite's budget starts here


def lemma_p_slack(grad_norm: float, sigma_min_plus: float) -> float:
    """Lemma P: ||P[J] r|| <= ||J^T r|| / sigma_min^+(J), so the loss exceeds the projection value by at most
    1/2 (||grad|| / sigma_min^+)^2."""
    if sigma_min_plus <= 0 or not math.isfinite(sigma_min_plus):
        return math.inf
    return 0.5 * (grad_norm / sigma_min_plus) ** 2


def lemma_c_slack(projected_grad_norm: float, distance: float) -> float:
    """Lemma C: Phi(z0) - Phi(z*) <= ||P_V grad Phi(z0)|| * ||z0 - z*|| for convex Phi."""
    return projected_grad_norm * distance


def headroom(gap: float, tol: float) -> float:
    """gap / tolerance; a check passes when headroom <= 1."""
    return gap / tol if tol > 0 else math.inf
