"""Matrix least squares for quadratic networks (claim9a): g(M) = 1/2 sum_i (x_i^T M x_i - y_i)^2 over symmetric M,
or over M >= 0 (PSD). G(M) := sum_i r_i x_i x_i^T, r = A(M) - y, is the gradient of g.

Symmetric: least squares on vech features (closed form, certified by baselines.least_squares) and cvxpy with a
symmetric variable, agreeing to 1e-8 relative; KKT is G = 0.
PSD: cvxpy variable PSD=True (Clarabel, pinned tolerances). Clarabel's point is projected onto the PSD cone (it may
carry eigenvalues ~ -1e-9, cvxpy/cvxpy#1201) so `value` is g at a feasible point, hence value >= g*. By convexity,
  value - g* <= <G, M> + max(0, -lambda_min(G)) tr(M*),  tr(M*) <= 2 sqrt(n) ||y|| / lambda_min(X^T X)
(g(M*) <= g(0) gives ||A(M*)|| <= 2||y||, and sum_i A(M*)_i = <M*, X^T X>). This bound is kkt_residual and must be
<= slack_solver = 1e-6 (1 + |value|): the budget every claim adds for a cvxpy value.
"""
from __future__ import annotations

import numpy as np

from baselines.certificate import (
    CONIC_AGREEMENT,
    LS_AGREEMENT,
    BaselineCertificate,
    BaselineError,
    as_float_array,
    as_matrix,
    cvxpy_slack,
    limits_iterations,
    rel_gap,
    solve_cvxpy,
    tau_fp,
)
from baselines.least_squares import least_squares


def vech_features(Xs: np.ndarray) -> np.ndarray:
    """Row i: coefficients of <M, x_i x_i^T> in the upper-triangle entries M_jk (j <= k), off-diagonals doubled."""
    j, k = np.triu_indices(Xs.shape[1])
    return Xs[:, j] * Xs[:, k] * np.where(j == k, 1.0, 2.0)


def unvech(v: np.ndarray, d: int) -> np.ndarray:
    M = np.zeros((d, d))
    M[np.triu_indices(d)] = v
    return M + np.triu(M, 1).T


def quad_objective(Xs: np.ndarray, y: np.ndarray, M: np.ndarray) -> tuple[float, np.ndarray]:
    r = np.einsum("ij,jk,ik->i", Xs, M, Xs) - y
    return float(0.5 * r @ r), r


def _inputs(Xs, y):
    Xs = as_matrix("Xs", Xs)
    y = as_float_array("y", y, ndim=(1, 2))
    if y.ndim == 2:
        if y.shape[1] != 1:
            raise ValueError(f"y must be a vector, got shape {y.shape}")
        y = y[:, 0]
    if y.shape[0] != Xs.shape[0]:
        raise ValueError(f"Xs has {Xs.shape[0]} rows but y has {y.shape[0]} entries: shape mismatch")
    return Xs, y


def symmetric_ls(Xs, y, psd=False, *, solver_opts=None) -> BaselineCertificate:
    Xs, y = _inputs(Xs, y)
    n, d = Xs.shape
    what = f"symmetric_ls(n={n}, d={d}, psd={bool(psd)})"
    lsq = least_squares(vech_features(Xs), y, use_cvxpy=False)  # certified closed form over symmetric M
    M_sym = unvech(np.asarray(lsq.solution), d)
    sym_value, r_sym = quad_objective(Xs, y, M_sym)
    if not psd:
        cvx_value, status, solver, _, _ = _cvxpy(Xs, y, False, what, solver_opts)
        if cvx_value < sym_value - tau_fp(sym_value):
            raise BaselineError(f"{what}: cvxpy point {cvx_value!r} beats the closed form {sym_value!r}")
        agreement = rel_gap(sym_value, cvx_value)
        if not agreement <= LS_AGREEMENT:
            raise BaselineError(f"{what}: closed form {sym_value!r} and cvxpy {cvx_value!r} disagree ({agreement:.2e})")
        G = Xs.T @ (r_sym[:, None] * Xs)
        return BaselineCertificate(value=sym_value, solution=M_sym, method="symmetric_ls: lstsq on vech + cvxpy",
                                   closed_form_value=sym_value, cvxpy_value=cvx_value, status=status, solver=solver,
                                   kkt_residual=lsq.kkt_residual, agreement=agreement, slack_solver=0.0,
                                   details={"G_fro": float(np.linalg.norm(G))})
    cvx_value, status, solver, M_cvx, reported = _cvxpy(Xs, y, True, what, solver_opts)
    mu, V = np.linalg.eigh(M_cvx)
    M = (V * np.maximum(mu, 0.0)) @ V.T  # projection onto the PSD cone
    value, r = quad_objective(Xs, y, M)
    G = Xs.T @ (r[:, None] * Xs)
    lam_G = float(np.linalg.eigvalsh(G)[0])
    lam_X = float(np.linalg.eigvalsh(Xs.T @ Xs)[0])
    trace_bound = 2.0 * np.sqrt(n) * np.linalg.norm(y) / lam_X if lam_X > 0 else np.inf
    neg = max(0.0, -lam_G)
    bound = max(0.0, float(np.sum(G * M))) + (neg * trace_bound if neg > 0 else 0.0)
    slack = cvxpy_slack(value)
    if not bound <= slack:
        raise BaselineError(f"{what}: KKT bound {bound:.3e} on value - g* exceeds slack_solver {slack:.1e} "
                            f"(lambda_min(G) = {lam_G:.2e}, <G,M> = {float(np.sum(G * M)):.2e})")
    if value < sym_value - tau_fp(sym_value):  # the PSD problem is a restriction of the symmetric one
        raise BaselineError(f"{what}: PSD value {value!r} below the symmetric optimum {sym_value!r}")
    agreement = rel_gap(value, reported)  # cvxpy's reported objective vs our recomputation
    if not agreement <= CONIC_AGREEMENT:
        raise BaselineError(f"{what}: recomputed {value!r} and reported {reported!r} differ ({agreement:.2e})")
    closed = None
    if np.linalg.eigvalsh(M_sym)[0] >= 0:  # the symmetric optimum is feasible, hence the PSD optimum: cross-check
        closed = sym_value
        if not value - sym_value <= slack:
            raise BaselineError(f"{what}: PSD value {value!r} above the feasible closed form {sym_value!r}")
    return BaselineCertificate(value=value, solution=M, method="symmetric_ls: SDP (cvxpy PSD=True) + KKT bound",
                               closed_form_value=closed, cvxpy_value=value, status=status, solver=solver,
                               kkt_residual=bound, agreement=agreement, slack_solver=slack,
                               details={"lambda_min_G": lam_G, "G_dot_M": float(np.sum(G * M)),
                                        "lambda_min_M_raw": float(mu[0]), "symmetric_value": sym_value,
                                        "trace_bound": float(trace_bound)})


def _cvxpy(Xs, y, psd, what, solver_opts):
    import cvxpy as cp

    d = Xs.shape[1]
    M = cp.Variable((d, d), PSD=True) if psd else cp.Variable((d, d), symmetric=True)
    pred = cp.sum(cp.multiply(Xs @ M, Xs), axis=1)
    # symmetric case with an iteration cap: the cone form ||A(M) - y|| (same minimizer), as in least_squares
    cone = not psd and limits_iterations(solver_opts)
    prob = cp.Problem(cp.Minimize(cp.norm(pred - y) if cone else 0.5 * cp.sum_squares(pred - y)))
    solver, prob = solve_cvxpy(prob, what, solver_opts=solver_opts)
    if M.value is None or not np.all(np.isfinite(M.value)):
        raise BaselineError(f"{what}: cvxpy returned no finite solution")
    Mv = np.asarray(M.value, dtype=np.float64)
    Mv = 0.5 * (Mv + Mv.T)
    reported = 0.5 * float(prob.value) ** 2 if cone else float(prob.value)
    return quad_objective(Xs, y, Mv)[0], prob.status, solver, Mv, reported


__all__ = ["symmetric_ls", "vech_features", "unvech", "quad_objective"]
