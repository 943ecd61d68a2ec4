"""Logistic and softmax regression with MEAN losses (claims 7-8):
  f(W) = (1/m) sum_i [logsumexp(z_i^T W) - y_i^T W^T z_i] + lam/2 ||W||_F^2   (logistic: K = 2 with W = [0, w]).

No closed form. Certification:
  1. Attainment (lam = 0). The recession function of f is (1/m) sum_i [max_k q_ik - y_i^T q_i], q_i = D^T z_i. The
     minimum is attained iff every D with f_oo(D) = 0 keeps each q_i constant over k (Rockafellar, Thm 27.1), else
     the infimum is a minimum at infinity (separable data). An LP (HiGHS) maximizes sum_ik (y_i^T q_i - q_ik) over
     {q_ik <= y_i^T q_i, |D| <= 1}; a value above the LP's feasibility noise means "not attained": BaselineError.
  2. cvxpy (exponential cone, Clarabel, status OPTIMAL), objective recomputed in numpy = `value`.
  3. Newton polish from cvxpy's point (pseudo-inverse steps: softmax is invariant under W -> W + d 1^T); the polished
     gradient must vanish to rounding, and value - f(W_newton) <= slack_solver = 1e-6 (1 + |value|).
  4. Gradient residual at cvxpy's point (kkt_residual): either <= GRAD_TOL (1 + max ||z_i||), the handbook's 1e-7
     (claim7), or its Lemma C gap bound ||grad|| ||W_cvx - W_newton|| <= slack_solver. Clarabel's exp-cone points
     carry gradients ~1e-6 while their objective is within ~1e-12 of Newton's (the error is quadratic in the point).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linprog
from scipy.special import expit, logsumexp, softmax

from baselines.certificate import (
    EPS,
    BaselineCertificate,
    BaselineError,
    as_float_array,
    as_matrix,
    check_lam,
    check_rows,
    cvxpy_slack,
    rel_gap,
    solve_cvxpy,
    tau_fp,
)

GRAD_TOL = 1e-7
# HiGHS's primal feasibility tolerance is 1e-7 per constraint; a spurious LP value can reach ~1e-7 per constraint.
LP_NOISE = 1e-6


def _loss(Z, Y, lam, W):
    Q = Z @ W
    return float(np.mean(logsumexp(Q, axis=1) - np.sum(Y * Q, axis=1)) + 0.5 * lam * np.sum(W * W))


def _grad(Z, Y, lam, W):
    return Z.T @ (softmax(Z @ W, axis=1) - Y) / Z.shape[0] + lam * W


def _hessian(Z, lam, W):
    """d^2 f / dvec(W)^2 in row-major vec(W) order (index a*K + k)."""
    m, p = Z.shape
    P = softmax(Z @ W, axis=1)
    K = P.shape[1]
    S = P[:, :, None] * np.eye(K)[None] - P[:, :, None] * P[:, None, :]  # per-sample softmax Jacobian
    H = np.einsum("ia,ib,ikl->akbl", Z, Z, S).reshape(p * K, p * K) / m
    return H + lam * np.eye(p * K)


def minimum_attained(Z, Y) -> tuple[bool, float]:
    """(attained, LP value): the recession LP of point 1 above, for lam = 0."""
    m, p = Z.shape
    K = Y.shape[1]
    # q_ik - y_i^T q_i as a linear function of vec(D) (row-major, index a*K + k): rows (i, k).
    A = np.einsum("ia,kl->ikal", Z, np.eye(K)) - np.einsum("ia,il->ial", Z, Y)[:, None]
    A = A.reshape(m * K, p * K)
    res = linprog(c=A.sum(axis=0), A_ub=A, b_ub=np.zeros(m * K), bounds=(-1.0, 1.0), method="highs")
    if res.status != 0:
        raise BaselineError(f"attainment LP failed: {res.message}")
    value = float(-res.fun)
    return value <= LP_NOISE * m * K * max(1.0, float(np.abs(Z).max())), value


def _newton(f, grad, hess, w, iters=60):
    """Damped Newton with pseudo-inverse steps (softmax is invariant under W -> W + d 1^T; Z may be rank deficient).
    Armijo backtracking while f can resolve the predicted decrease (Newton decrement^2 above ~1e3 eps |f|); below
    that, f's rounding hides the decrease, so full steps are taken while they shrink the gradient: this drives
    ||grad|| to its own rounding level (~1e-16) instead of stalling at ~1e-11."""
    fw, g = f(w), grad(w)
    for _ in range(iters):
        H = hess(w)
        step = -np.linalg.lstsq(H, g.ravel(), rcond=H.shape[0] * EPS)[0].reshape(w.shape)
        dec = float(-np.sum(g * step))
        if not dec > 0:
            break
        if dec <= 1e3 * EPS * (1 + abs(fw)):  # rounding regime: the quadratic model is exact to working precision
            wn = w + step
            fn, gn = f(wn), grad(wn)
            if not np.linalg.norm(gn) < np.linalg.norm(g):
                break
            w, fw, g = wn, fn, gn
            continue
        t = 1.0
        while t > 1e-10 and f(w + t * step) > fw - 1e-4 * t * dec:
            t *= 0.5
        if t <= 1e-10:
            break
        w = w + t * step
        fw, g = f(w), grad(w)
    return w, fw


def _problem(Z, Y, lam, logistic):
    import cvxpy as cp

    m, p = Z.shape
    if logistic:  # K = 2, first class logit pinned to 0 (removes the shift symmetry)
        w = cp.Variable(p)
        t = Z @ w
        obj = (cp.sum(cp.logistic(t)) - Y[:, 1] @ t) / m + (0.5 * lam) * cp.sum_squares(w)
    else:
        w = cp.Variable((p, Y.shape[1]))
        Q = Z @ w
        obj = (cp.sum(cp.log_sum_exp(Q, axis=1)) - cp.sum(cp.multiply(Y, Q))) / m + (0.5 * lam) * cp.sum_squares(w)
        if lam == 0.0:
            # the loss is invariant under W -> W + d 1^T; without a gauge the optimal set is unbounded along it and
            # the interior-point solver can stall at OPTIMAL_INACCURATE (found by the seeded ci draw m=10, p=1,
            # K=2). Pinning the first class's logit weights to 0 removes the symmetry and changes no value.
            return cp.Problem(cp.Minimize(obj), [w[:, 0] == 0]), w
    return cp.Problem(cp.Minimize(obj)), w


def _logistic_oracles(Z, y, lam):
    """f, grad, Hessian in the logistic parameterization w (first logit pinned to 0)."""
    m, p = Z.shape

    def f(w):
        t = Z @ w
        return float(np.mean(np.logaddexp(0.0, t) - y * t) + 0.5 * lam * w @ w)

    def grad(w):
        return Z.T @ (expit(Z @ w) - y) / m + lam * w

    def hess(w):
        s = expit(Z @ w)
        return (Z * (s * (1 - s))[:, None]).T @ Z / m + lam * np.eye(p)

    return f, grad, hess


def _certify(Z, Y, lam, what, solver_opts, logistic: bool):
    m, p = Z.shape
    K = Y.shape[1]
    if lam == 0.0:
        attained, lp = minimum_attained(Z, Y)
        if not attained:
            raise BaselineError(f"{what}: optimum not attained (minimum at infinity): the data are separable along a "
                                f"direction (recession LP value {lp:.3e}); the loss only approaches its infimum as "
                                f"||W|| -> inf. Use lam > 0, or give every input every label.")
    prob, var = _problem(Z, Y, lam, logistic)
    solver, prob = solve_cvxpy(prob, what, solver_opts=solver_opts)
    if var.value is None or not np.all(np.isfinite(var.value)):
        raise BaselineError(f"{what}: cvxpy returned no finite solution")
    w = np.asarray(var.value, dtype=np.float64)
    if logistic:
        f, grad, hess = _logistic_oracles(Z, Y[:, 1], lam)
    else:
        f, grad, hess = (lambda W: _loss(Z, Y, lam, W)), (lambda W: _grad(Z, Y, lam, W)), (lambda W: _hessian(Z, lam, W))
    value = f(w)  # cvxpy's point, objective recomputed in numpy
    gnorm = float(np.linalg.norm(grad(w)))
    W_n, f_n = _newton(f, grad, hess, w)
    g_n = float(np.linalg.norm(grad(W_n)))
    zscale = 1.0 + float(np.max(np.linalg.norm(Z, axis=1)))
    gtol_n = 1e3 * (m + p * K) * EPS * zscale  # Newton ends at the gradient's rounding level; 1e3 margin
    if not g_n <= gtol_n:
        raise BaselineError(f"{what}: Newton polish did not converge (gradient {g_n:.3e} > {gtol_n:.1e})")
    slack = cvxpy_slack(value)
    if not -tau_fp(value) <= value - f_n <= slack:
        raise BaselineError(f"{what}: cvxpy value {value!r} vs Newton {f_n!r}: outside [-tau_fp, slack_solver]")
    # Lemma C at cvxpy's point, with the polished point standing in for the NEAREST minimizer: the minimizers form
    # W_n + null(Hessian) (the softmax shift W + d 1^T, null(Z)), so only the range component of the offset counts.
    H = hess(W_n)
    mu, V = np.linalg.eigh(H)
    Vr = V[:, mu > H.shape[0] * EPS * max(mu[-1], 0.0)]
    lemma_c = gnorm * float(np.linalg.norm(Vr.T @ (w - W_n).ravel()))
    if not (gnorm <= GRAD_TOL * zscale or lemma_c <= slack):
        raise BaselineError(f"{what}: gradient residual {gnorm:.3e} at cvxpy's point exceeds {GRAD_TOL * zscale:.1e} "
                            f"and its Lemma C gap bound {lemma_c:.3e} exceeds slack_solver {slack:.1e}")
    return BaselineCertificate(value=value, solution=w, method=f"{'logistic' if logistic else 'softmax'} regression: "
                               "cvxpy exp-cone + Newton polish", closed_form_value=None, cvxpy_value=value,
                               status=prob.status, solver=solver, kkt_residual=gnorm, agreement=rel_gap(value, f_n),
                               slack_solver=slack, details={"newton_value": f_n, "newton_solution": W_n,
                                                            "newton_grad_norm": g_n, "lemma_c_bound": lemma_c,
                                                            "lam": lam})


def logistic_regression(Z, y01, lam=0.0, *, solver_opts=None) -> BaselineCertificate:
    """Certified min_w (1/m) sum_i [log(1 + exp(z_i^T w)) - y_i z_i^T w] + lam/2 ||w||^2, y_i in [0, 1] (no intercept:
    append a ones column to Z). solution = w."""
    Z = as_matrix("Z", Z)
    y = as_float_array("y01", y01, ndim=(1,))
    check_rows(("Z", "y01"), Z, y)
    if np.any((y < 0) | (y > 1)):
        raise ValueError("y01 must lie in [0, 1]")
    lam = check_lam(lam)
    what = f"logistic_regression(m={Z.shape[0]}, p={Z.shape[1]}, lam={lam:g})"
    return _certify(Z, np.column_stack([1 - y, y]), lam, what, solver_opts, logistic=True)


def softmax_regression(Z, Yonehot, lam=0.0, *, solver_opts=None) -> BaselineCertificate:
    """Certified min_W (1/m) sum_i [logsumexp(z_i^T W) - y_i^T W^T z_i] + lam/2 ||W||_F^2; rows of Yonehot are
    one-hot (or any probability vectors). solution = W (p x K); for lam = 0 it is unique only up to W + d 1^T."""
    Z = as_matrix("Z", Z)
    Y = as_float_array("Yonehot", Yonehot, ndim=(2,))
    check_rows(("Z", "Yonehot"), Z, Y)
    if Y.shape[1] < 2:
        raise ValueError(f"Yonehot needs at least 2 classes, got shape {Y.shape}")
    if np.any(Y < 0) or not np.allclose(Y.sum(axis=1), 1.0, atol=1e-12):
        raise ValueError("rows of Yonehot must be nonnegative and sum to 1")
    lam = check_lam(lam)
    what = f"softmax_regression(m={Z.shape[0]}, p={Z.shape[1]}, K={Y.shape[1]}, lam={lam:g})"
    return _certify(Z, Y, lam, what, solver_opts, logistic=False)


__all__ = ["logistic_regression", "softmax_regression", "minimum_attained", "GRAD_TOL"]
