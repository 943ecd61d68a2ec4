"""Numerical tolerance primitives of the engine (CLAIMS.md section 0): the floating-point allowance for comparing
two float64 losses, and the slack allowed to a cvxpy value. The suite (minimacheck.tolerance) builds its budgets
tau = tau_fp + slack_cert + slack_solver from these and the certificates' numbers."""
from __future__ import annotations


def tau_fp(value: float) -> float:
    """Floating-point allowance for comparing two float64 losses near `value`: 1e-10 (1 + |value|)."""
    return 1e-10 * (1.0 + abs(value))


def slack_solver(value: float, from_cvxpy: bool) -> float:
    """1e-6 (1 + |value|) for a cvxpy value, 0 for a closed form."""
    return 1e-6 * (1.0 + abs(value)) if from_cvxpy else 0.0
