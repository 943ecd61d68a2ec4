"""Least squares and ridge: min_R 1/2 ||Phi R - Y||_F^2 + lam/2 ||R||_F^2, certified two ways.

Closed form: LAPACK gelsd with an explicit rcond for lam = 0 (never the normal equations, which square the
condition number); Cholesky of the smaller Gram matrix for lam > 0 (well posed: its spectrum is shifted by lam).
Independent check: an SVD solution R_svd, the exact excess L(R) - L* = 1/2 ||Phi (R - R_svd)||^2 + lam/2 ||R - R_svd||^2
(no cancellation), a backward-error normal-equation residual, and cvxpy (Clarabel, status OPTIMAL) agreeing to 1e-8.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from baselines.certificate import (
    EPS,
    LS_AGREEMENT,
    BaselineCertificate,
    BaselineError,
    as_matrix,
    check_lam,
    check_rows,
    limits_iterations,
    rel_gap,
    solve_cvxpy,
    tau_fp,
)


def default_rcond(shape: tuple[int, int]) -> float:
    """The handbook's numerical-rank threshold, max(shape) * eps (relative to sigma_max)."""
    return max(shape) * EPS


def kkt_tolerance(shape: tuple[int, ...]) -> float:
    """Bound on the backward-error residual of a backward-stable solve: O((m + p) eps), with a factor 1e3 margin.

    The residual is scaled by ||Phi||_2 (||Phi||_2 ||R|| + ||Y||) + lam ||R||, which makes it independent of the
    conditioning; a wrong lam shows up as |dlam| ||R|| / scale, a truncated SVD as sigma_dropped |u^T Y| / scale."""
    return 1e3 * sum(shape) * EPS


def objective(Phi: np.ndarray, Y: np.ndarray, lam: float, R: np.ndarray) -> float:
    r = Phi @ R - Y
    return float(0.5 * np.sum(r * r) + 0.5 * lam * np.sum(R * R))


def normal_residual(Phi: np.ndarray, Y: np.ndarray, lam: float, R: np.ndarray) -> float:
    """||Phi^T (Phi R - Y) + lam R||_F relative to its backward-error scale (see kkt_tolerance)."""
    g = Phi.T @ (Phi @ R - Y) + lam * R
    s = np.linalg.norm(Phi, 2)
    nR = np.linalg.norm(R)
    scale = s * (s * nR + np.linalg.norm(Y)) + lam * nR
    return float(np.linalg.norm(g) / scale) if scale > 0 else float(np.linalg.norm(g))


def svd_solution(Phi: np.ndarray, Y: np.ndarray, lam: float) -> tuple[np.ndarray, float]:
    """Independent minimizer and optimal value from numpy's SVD: pseudo-inverse at the handbook threshold (lam = 0)
    or the ridge filter s / (s^2 + lam). The value, 1/2 ||(I - U U^T) Y||^2 + 1/2 sum_j lam/(s_j^2 + lam) |u_j^T Y|^2,
    never forms Phi R, so it stays accurate when ||R|| is huge (ill-conditioned Phi)."""
    U, s, Vt = np.linalg.svd(Phi, full_matrices=False)
    UtY = U.T @ Y
    if lam == 0.0:
        keep = s > default_rcond(Phi.shape) * s[0] if s[0] > 0 else np.zeros(len(s), dtype=bool)
        R = Vt[keep].T @ (UtY[keep] / s[keep, None])
        P = U[:, keep]
        return R, float(0.5 * np.sum((Y - P @ (P.T @ Y)) ** 2))
    R = Vt.T @ ((s / (s * s + lam))[:, None] * UtY)
    filt = lam / (s * s + lam)
    return R, float(0.5 * np.sum((Y - U @ UtY) ** 2) + 0.5 * np.sum(filt[:, None] * UtY ** 2))


def _closed_form(Phi: np.ndarray, Y: np.ndarray, lam: float, rcond: float) -> tuple[np.ndarray, str]:
    m, p = Phi.shape
    if lam == 0.0:
        R, _, rank, _ = sla.lstsq(Phi, Y, cond=rcond, lapack_driver="gelsd")
        return R, f"lstsq(gelsd, rcond={rcond:.3g}, rank={rank})"
    try:
        if p <= m:  # primal: (Phi^T Phi + lam I) R = Phi^T Y
            c = sla.cho_factor(Phi.T @ Phi + lam * np.eye(p))
            return sla.cho_solve(c, Phi.T @ Y), "cholesky(primal)"
        c = sla.cho_factor(Phi @ Phi.T + lam * np.eye(m))  # dual: R = Phi^T (Phi Phi^T + lam I)^-1 Y
        return Phi.T @ sla.cho_solve(c, Y), "cholesky(dual)"
    except np.linalg.LinAlgError:  # lam below rounding of the Gram matrix: fall back to the augmented lstsq
        A = np.vstack([Phi, np.sqrt(lam) * np.eye(p)])
        B = np.vstack([Y, np.zeros((p, Y.shape[1]))])
        R = sla.lstsq(A, B, cond=default_rcond(A.shape), lapack_driver="gelsd")[0]
        return R, "lstsq(augmented ridge)"


def check_point(Phi, Y, lam, R, value, what) -> tuple[float, float]:
    """Raise BaselineError unless R is optimal: returns (normal-equation residual, excess over the SVD optimum)."""
    kkt = normal_residual(Phi, Y, lam, R)
    tol = kkt_tolerance(Phi.shape + Y.shape[1:])
    if not kkt <= tol:
        raise BaselineError(f"{what}: normal-equation residual {kkt:.3e} > {tol:.1e} (sub-optimal or wrong lam)")
    R_svd, value_svd = svd_solution(Phi, Y, lam)
    D = R - R_svd
    excess = float(0.5 * np.sum((Phi @ D) ** 2) + 0.5 * lam * np.sum(D * D))
    if not excess <= tau_fp(value):
        raise BaselineError(f"{what}: excess {excess:.3e} over the SVD optimum exceeds tau_fp {tau_fp(value):.1e}")
    # The objective evaluated at R carries rounding ~ eps ||Phi|| ||R|| ||r||, huge when Phi is ill-conditioned; the
    # SVD value does not. They must agree to tau_fp plus the SVD value's own rounding (~ (m + p) eps ||Y||^2).
    tol = tau_fp(value) + 10 * sum(Phi.shape) * EPS * float(np.sum(Y * Y))
    if not abs(value - value_svd) <= tol:
        raise BaselineError(f"{what}: objective at the solution {value!r} and the SVD value {value_svd!r} differ by "
                            f"{abs(value - value_svd):.2e} > {tol:.1e}: the value is not resolvable in float64 "
                            "(Phi too ill-conditioned)")
    return kkt, excess


def _inputs(Phi, Y, lam):
    Phi = as_matrix("Phi", Phi)
    Ym = as_matrix("Y", Y)
    check_rows(("Phi", "Y"), Phi, Ym)
    return Phi, Ym, check_lam(lam)


def least_squares(Phi, Y, lam=0.0, *, use_cvxpy=True, rcond=None, solver_opts=None) -> BaselineCertificate:
    """Certified min_R 1/2 ||Phi R - Y||_F^2 + lam/2 ||R||_F^2 (rows of Phi are samples; 1-D Y gives 1-D R)."""
    Phi, Ym, lam = _inputs(Phi, Y, lam)
    if rcond is None:
        rcond = default_rcond(Phi.shape)
    if not (np.isfinite(rcond) and 0.0 <= rcond < 1.0):
        raise ValueError(f"rcond must be in [0, 1), got {rcond}")
    what = f"least_squares(m={Phi.shape[0]}, p={Phi.shape[1]}, d_y={Ym.shape[1]}, lam={lam:g})"
    R, how = _closed_form(Phi, Ym, lam, float(rcond))
    value = objective(Phi, Ym, lam, R)
    kkt, excess = check_point(Phi, Ym, lam, R, value, what)
    cvx_value = agreement = status = solver = None
    if use_cvxpy:
        cvx_value, status, solver = _cvxpy_value(Phi, Ym, lam, what, solver_opts)
        if cvx_value < value - tau_fp(value):  # cvxpy's point is feasible: beating the closed form refutes it
            raise BaselineError(f"{what}: cvxpy point {cvx_value!r} beats the closed form {value!r}")
        agreement = rel_gap(value, cvx_value)
        if not agreement <= LS_AGREEMENT:
            raise BaselineError(f"{what}: closed form {value!r} and cvxpy {cvx_value!r} disagree "
                                f"({agreement:.2e} > {LS_AGREEMENT:.0e} relative)")
    return BaselineCertificate(value=value, solution=R[:, 0] if np.ndim(Y) == 1 else R, method=f"least_squares: {how}",
                               closed_form_value=value, cvxpy_value=cvx_value, status=status, solver=solver,
                               kkt_residual=kkt, agreement=agreement, slack_solver=0.0,
                               details={"lam": lam, "rcond": float(rcond), "excess_vs_svd": excess})


def _cvxpy_value(Phi, Y, lam, what, solver_opts):
    """cvxpy's minimizer, with the objective recomputed in numpy (never cvxpy's reported value)."""
    import cvxpy as cp

    R = cp.Variable((Phi.shape[1], Y.shape[1]))
    if limits_iterations(solver_opts):
        # Cone form min ||[Phi R - Y; sqrt(lam) R]||_F (same minimizer): Clarabel needs 5-7 interior-point iterations,
        # so an iteration cap (the max_iters=2 sabotage) really cuts the solve short.
        resid = cp.vstack([Phi @ R - Y, np.sqrt(lam) * R]) if lam > 0 else Phi @ R - Y
        obj = cp.norm(resid, "fro")
    else:
        # QP form. Clarabel factors its own sparse KKT system (QDLDL, independent of LAPACK); for well-conditioned
        # Phi that is exact at its initial point (0 iterations), so an iteration cap does not apply to it. Measured
        # agreement with the closed form: <= 3e-9 up to cond(Phi) = 1e6 (the cone form breaks from 1e5); beyond
        # ~1e7 both forms miss by 1e-3..1e-2 with status OPTIMAL, and the 1e-8 agreement check refuses them.
        obj = 0.5 * cp.sum_squares(Phi @ R - Y) + (0.5 * lam) * cp.sum_squares(R)
    prob = cp.Problem(cp.Minimize(obj))
    solver, prob = solve_cvxpy(prob, what, solver_opts=solver_opts)
    if R.value is None or not np.all(np.isfinite(R.value)):
        raise BaselineError(f"{what}: cvxpy returned no finite solution")
    return objective(Phi, Y, lam, np.asarray(R.value, dtype=np.float64)), prob.status, solver


def verify(cert: BaselineCertificate, Phi, Y, lam) -> float:
    """Re-check a least-squares certificate against (Phi, Y, lam): the value must be the objective at the solution,
    and the solution must pass the normal-equation and excess checks. Returns the residual; raises BaselineError."""
    Phi, Ym, lam = _inputs(Phi, Y, lam)
    R = np.asarray(cert.solution, dtype=np.float64)
    R = R[:, None] if R.ndim == 1 else R
    if R.shape != (Phi.shape[1], Ym.shape[1]):
        raise BaselineError(f"verify: solution shape {R.shape} does not fit Phi {Phi.shape}, Y {Ym.shape}")
    value = objective(Phi, Ym, lam, R)
    if not abs(value - cert.value) <= tau_fp(value):
        raise BaselineError(f"verify: certificate value {cert.value!r} != objective {value!r} at its solution")
    return check_point(Phi, Ym, lam, R, value, f"verify({cert.method}, lam={lam:g})")[0]


def ols(X, Y, *, intercept=False, use_cvxpy=True) -> BaselineCertificate:
    """Ordinary least squares on X (rows are samples), optionally with an intercept column appended last."""
    X = as_matrix("X", X)
    Phi = np.hstack([X, np.ones((X.shape[0], 1))]) if intercept else X
    return least_squares(Phi, Y, 0.0, use_cvxpy=use_cvxpy)


def kernel_ridge(K, Y, lam) -> BaselineCertificate:
    """min_R 1/2 ||Phi R - Y||^2 + lam/2 ||R||^2 for any Phi with Phi Phi^T = K, via the dual:
    value = lam/2 tr(Y^T (K + lam I)^-1 Y), alpha = (K + lam I)^-1 Y (predictions K alpha). lam > 0 required.

    Two closed forms: Cholesky, and the eigenvalue sum lam/2 sum_j |v_j^T Y|^2 / (mu_j + lam). The value itself is
    sensitive to rounding of K at the level m eps cond(K + lam I) (a perturbation dK changes it by ~alpha^T dK alpha);
    that is the agreement tolerance, also reported in details['value_error_bound']."""
    K = as_matrix("K", K)
    Ym = as_matrix("Y", Y)
    lam = check_lam(lam, positive=True)
    m = K.shape[0]
    if K.shape != (m, m):
        raise ValueError(f"K must be square, got shape {K.shape}")
    check_rows(("K", "Y"), K, Ym)
    nK = np.linalg.norm(K, 2)
    if np.linalg.norm(K - K.T) > 1e-12 * max(nK, 1.0) * m:
        raise ValueError("K is not symmetric")
    K = 0.5 * (K + K.T)
    mu, V = np.linalg.eigh(K)
    if mu[0] < -m * EPS * max(nK, 1.0) * 10:
        raise ValueError(f"K is not positive semidefinite (lambda_min = {mu[0]:.3e})")
    A = K + lam * np.eye(m)
    alpha = sla.cho_solve(sla.cho_factor(A), Ym)
    value = float(0.5 * lam * np.sum(Ym * alpha))
    c2 = np.sum((V.T @ Ym) ** 2, axis=1)
    value_eig = float(0.5 * lam * np.sum(c2 / (np.maximum(mu, 0.0) + lam)))
    cond = (np.max(mu) + lam) / lam
    tol = max(1e-10, 10 * m * EPS * cond)
    agreement = rel_gap(value, value_eig)
    resid = float(np.linalg.norm(A @ alpha - Ym) / (np.linalg.norm(A, 2) * np.linalg.norm(alpha) + np.linalg.norm(Ym)))
    what = f"kernel_ridge(m={m}, lam={lam:g})"
    if not resid <= 1e3 * m * EPS:
        raise BaselineError(f"{what}: dual residual {resid:.3e} too large")
    if not agreement <= tol:
        raise BaselineError(f"{what}: Cholesky {value!r} and eigen {value_eig!r} disagree ({agreement:.2e} > {tol:.1e})")
    return BaselineCertificate(value=value, solution=alpha[:, 0] if np.ndim(Y) == 1 else alpha,
                               method="kernel_ridge: cholesky dual + eigen cross-check", closed_form_value=value,
                               cvxpy_value=None, status=None, solver=None, kkt_residual=resid, agreement=agreement,
                               slack_solver=0.0,
                               details={"lam": lam, "cond": float(cond), "value_error_bound": tol * (1 + abs(value))})
