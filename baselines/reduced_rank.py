"""Reduced-rank regression: min_{rank B <= r} 1/2 ||X B - Y||_F^2 (rows are samples; claim6 transposes to this).

Not convex, so no cvxpy. Two closed forms must agree (handbook claim6a):
  (eig) Sigma = Yhat^T Yhat with Yhat the OLS fit, L* = 1/2 (||Y||^2 - sum_{j<=r} lambda_j(Sigma));
  (EY)  Eckart-Young on the OLS fit, L* = 1/2 ||Y - Yhat||^2 + 1/2 sum_{j>r} sigma_j(Yhat)^2.
The minimizer B = B_ols U_r U_r^T is checked by recomputing the objective and the stationarity conditions of the
factorization B = A C^T (A = B_ols U_r, C = U_r): X^T E C = 0 and (X A)^T E = 0, E = X B - Y.
"""
from __future__ import annotations

import numpy as np

from baselines.certificate import EPS, BaselineCertificate, BaselineError, as_matrix, check_rows, rel_gap, tau_fp
from baselines.least_squares import kkt_tolerance, least_squares


def reduced_rank(X, Y, rank) -> BaselineCertificate:
    X, Y = as_matrix("X", X), as_matrix("Y", Y)
    check_rows(("X", "Y"), X, Y)
    dx, dy = X.shape[1], Y.shape[1]
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)):
        raise ValueError(f"rank must be an integer, got {rank!r}")
    if not 0 <= rank <= min(dx, dy):
        raise ValueError(f"rank must be in [0, min(d_x, d_y)] = [0, {min(dx, dy)}], got {rank}")
    r = int(rank)
    what = f"reduced_rank(m={X.shape[0]}, d_x={dx}, d_y={dy}, rank={r})"
    B_ols = np.asarray(least_squares(X, Y, use_cvxpy=False).solution)  # certified lstsq (raises if not)
    Yhat = X @ B_ols
    lam, U = np.linalg.eigh(Yhat.T @ Yhat)
    lam, U = lam[::-1], U[:, ::-1]  # descending
    Ur = U[:, :r]
    B = B_ols @ Ur @ Ur.T
    E = X @ B - Y
    value = float(0.5 * np.sum(E * E))
    nY2 = float(np.sum(Y * Y))
    value_eig = 0.5 * (nY2 - float(np.sum(lam[:r])))
    sig = np.linalg.svd(Yhat, compute_uv=False)
    value_ey = float(0.5 * np.sum((Y - Yhat) ** 2) + 0.5 * np.sum(sig[r:] ** 2))
    # The eig formula subtracts from ||Y||^2, so it carries an absolute rounding error ~ d_y eps ||Y||^2 on top of
    # the handbook's 1e-10 relative agreement.
    tol = 1e-10 * (1.0 + abs(value_ey)) + 1e2 * dy * EPS * nY2
    gaps = (abs(value - value_ey), abs(value_eig - value_ey))
    if not max(gaps) <= tol:
        raise BaselineError(f"{what}: objective {value!r}, eig {value_eig!r}, Eckart-Young {value_ey!r} disagree "
                            f"(max gap {max(gaps):.2e} > {tol:.1e})")
    nX = np.linalg.norm(X, 2)
    scale = nX * (nX * np.linalg.norm(B) + np.linalg.norm(Y)) + 1e-300
    kkt = float(max(np.linalg.norm(X.T @ E @ Ur), np.linalg.norm((X @ B_ols @ Ur).T @ E)) / scale)
    ktol = kkt_tolerance(X.shape + Y.shape[1:])
    if not kkt <= ktol:
        raise BaselineError(f"{what}: factorization stationarity residual {kkt:.3e} > {ktol:.1e}")
    sB = np.linalg.svd(B, compute_uv=False)
    if r < len(sB) and sB[r] > max(B.shape) * EPS * max(sB[0], 1e-300) * 10:
        raise BaselineError(f"{what}: solution has rank > {r} (sigma_{r + 1} = {sB[r]:.3e})")
    gap = float((lam[r - 1] - lam[r]) / max(lam[0], 1e-300)) if 0 < r < dy else None
    return BaselineCertificate(value=value, solution=B, method="reduced_rank: eig(Sigma) + Eckart-Young",
                               closed_form_value=value_ey, cvxpy_value=None, status=None, solver=None,
                               kkt_residual=kkt, agreement=rel_gap(value_ey, value_eig), slack_solver=0.0,
                               details={"eigenvalues": lam.copy(), "value_eig": value_eig, "relative_eigengap": gap,
                                        "ols_value": float(0.5 * np.sum((Y - Yhat) ** 2)), "tau_fp": tau_fp(value)})


__all__ = ["reduced_rank"]
