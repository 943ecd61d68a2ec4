"""Drive a net to a local minimum: Levenberg-Marquardt on the residual, then a Newton polish.

Why not Adam or L-BFGS: these landscapes are ill conditioned and flat near their minima; first-order methods stall
far from the gradient tolerances that certificates need (CLAIMS.md measured Adam ending on ReLU kinks with gradient
O(1)). Levenberg-Marquardt uses the exact Jacobian and converges quadratically on zero-residual problems; the
Newton polish (exact Hessian, eigenvalue-modified, backtracking) finishes non-zero-residual problems to ~1e-12
in a handful of steps, and steps off saddles along negative curvature.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import torch

from networks.objective import Objective

Tensor = torch.Tensor
LM_MU0 = 1e-3  # initial Levenberg-Marquardt damping, relative to max diag(J^T J)


@dataclass
class TrainResult:
    theta: Tensor
    loss: float
    grad_norm: float
    grad_tol: float
    iterations: int
    seconds: float
    converged: bool
    reason: str
    theta_norm_start: float
    theta_norm_end: float
    method: str
    pattern_rounds: int | None = None  # networks.minimize_piecewise: rounds of the pattern polish (None: not run)
    pattern_consistent: bool | None = None  # ... and whether the pattern settled


def default_grad_tol(loss: float, rel: float = 1e-9) -> float:
    """Gradient tolerance in absolute units: rel * (1 + |L|)."""
    return rel * (1.0 + abs(loss))


def _finite(x) -> bool:
    return bool(torch.isfinite(torch.as_tensor(x)).all())


def _diverging(n0: float, n1: float) -> bool:
    return n1 > 10 * max(n0, 1.0)


def radial_escape(obj: Objective, theta: Tensor, loss: float, tol: float) -> float | None:
    """Detect a minimum at infinity: the loss still falls along the ray theta -> (1 + s) theta.

    Along an escape path the gradient vanishes (separable logistic loss, saturating units), so a small gradient
    proves nothing there; a genuine minimum's loss rises along any ray for small s. Returns the relative step s at
    which the loss fell by more than tol, or None."""
    if float(theta.norm()) == 0.0:
        return None
    for s in (1e-3, 1e-2, 1e-1):
        if obj.value((1.0 + s) * theta) < loss - tol:
            return s
    return None


_BLAS = None


def _blas_threads():
    """Limit scipy's BLAS to torch's thread count while the trainer calls it (scipy's OpenBLAS otherwise starts one
    thread per core: measured 100x slower potrf on a loaded 2-core machine)."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=torch.get_num_threads(), user_api="blas")


class _Gram:
    """The Gauss-Newton Gram matrix of one Jacobian J, for several Levenberg-Marquardt damping values mu.

    On the CPU: BLAS syrk (half the flops of J^T @ J; only the upper triangle is formed) and LAPACK potrf/potrs on
    that triangle (scipy), i.e. no symmetrization, no identity matrix and no copy of J. Elsewhere: torch.
    Small side: J^T J (P x P) when n_res >= P, else J J^T (n_res x n_res) with the step J^T (J J^T + mu I)^-1 (-r)."""

    def __init__(self, J: Tensor):
        n_res, P = J.shape
        self.wide = n_res < P
        self.cpu = J.device.type == "cpu" and J.dtype == torch.float64
        if self.cpu:
            Jn = J.detach().numpy()
            a = np.asfortranarray(Jn.T)  # P x n_res, a view of a C-ordered J
            # upper triangle of a a^T = J^T J (trans=0) or of a^T a = J J^T (trans=1)
            with _blas_threads():
                self.G = scipy.linalg.blas.dsyrk(1.0, a, trans=1 if self.wide else 0, lower=0)
        else:
            self.G = J @ J.T if self.wide else J.T @ J

    def diag_max(self) -> float:
        return float(np.max(np.diagonal(self.G))) if self.cpu else float(self.G.diagonal().max())

    def lm_step(self, mu: float, J: Tensor, r: Tensor, g: Tensor) -> Tensor:
        """-(G + mu I)^-1 applied as in Levenberg-Marquardt; raises LinAlgError when the factorization fails."""
        if self.cpu:
            A = self.G.copy(order="F")
            A.flat[:: A.shape[0] + 1] += mu
            rhs = (r if self.wide else g).detach().numpy()
            with _blas_threads():
                c = scipy.linalg.cho_factor(A, lower=False, overwrite_a=True, check_finite=False)
                if not np.isfinite(c[0].diagonal()).all():
                    raise np.linalg.LinAlgError("non-finite Cholesky factor")
                x = torch.from_numpy(scipy.linalg.cho_solve(c, rhs, check_finite=False))
            return -(J.T @ x) if self.wide else -x
        A = self.G + mu * torch.eye(self.G.shape[0], dtype=self.G.dtype, device=self.G.device)
        L = torch.linalg.cholesky(A)
        return -J.T @ torch.cholesky_solve(r[:, None], L)[:, 0] if self.wide else -torch.cholesky_solve(g[:, None], L)[:, 0]


def _lambda_max_psd(H: Tensor, iters: int = 30) -> float:
    """Largest eigenvalue of a positive definite H by power iteration (a lower bound, within a few per cent on the
    Hessians here); used only to scale Newton's damping, never in a verdict."""
    v = torch.ones(H.shape[0], dtype=H.dtype, device=H.device) + torch.linspace(0, 1, H.shape[0], dtype=H.dtype, device=H.device)
    lam = 0.0
    for _ in range(iters):
        u = H @ v
        n = float(u.norm())
        if not n > 0 or not math.isfinite(n):
            break
        lam = float(v @ u) / float(v @ v)
        v = u / n
    return max(lam, float(H.diagonal().max()))


def minimize(
    obj: Objective,
    theta0: Tensor,
    *,
    rel_grad_tol: float = 1e-9,
    max_iter: int = 400,
    time_budget: float | None = None,
    method: str = "auto",
    monitor: Callable[[Tensor, int], bool] | None = None,
) -> TrainResult:
    """Minimize obj from theta0 until ||grad|| <= rel_grad_tol (1 + |L|), max_iter iterations or time_budget seconds.

    method: 'auto' (Levenberg-Marquardt then Newton when obj has a residual, Newton otherwise), 'lm', 'newton'.
    monitor(theta, iterations_done) is called before every iteration; True stops the run (reason 'stopped by the
    monitor'): networks.find_minimum's escape test watches the run this way without restarting the optimizer.
    """
    if method not in ("auto", "lm", "newton"):
        raise ValueError(f"unknown method {method!r}; use 'auto', 'lm' or 'newton'")
    if method == "lm" and obj.residual is None:
        raise ValueError("method='lm' needs an objective with a residual (a squared loss)")
    theta = torch.as_tensor(theta0, dtype=torch.float64).to(obj.device).clone()
    if theta.shape != (obj.n_params,):
        raise ValueError(f"theta0 has shape {tuple(theta.shape)}, expected ({obj.n_params},)")
    if not _finite(theta):
        raise ValueError("theta0 contains NaN or inf")
    t0 = time.perf_counter()
    deadline = math.inf if time_budget is None else t0 + time_budget
    n0 = float(theta.norm())
    it = 0
    use_lm = obj.residual is not None and method in ("auto", "lm")
    reason = "iteration limit"
    patience = 3
    while it < max_iter:
        if use_lm:
            theta, k, status = _levenberg_marquardt(obj, theta, rel_grad_tol, max_iter - it, deadline, patience,
                                                    _offset(monitor, it))
            it += k
            if status in ("converged", "time", "nonfinite", "iteration limit", "stopped") or method == "lm":
                reason = status
                break
        # from LM, Newton is tried only where the Hessian is PSD (locally convex); elsewhere LM resumes
        theta, k, status = _newton(obj, theta, rel_grad_tol, max_iter - it, deadline, convex_only=use_lm,
                                   monitor=_offset(monitor, it))
        it += k
        reason = status
        if use_lm and status in ("not locally convex", "line search failed"):
            patience *= 2  # Gauss-Newton is slow here, but Newton is not yet safe: check less often
            continue
        if status == "negative curvature" and obj.residual is not None and method == "auto":
            use_lm = True  # stepped off a saddle: let LM make the long descent
            continue
        if status != "negative curvature":
            break
    loss, g = obj.value_and_grad(theta)
    loss, gn = float(loss), float(g.norm())
    tol = default_grad_tol(loss, rel_grad_tol)
    converged = _finite(loss) and gn <= tol
    n1 = float(theta.norm())
    if converged and _diverging(n0, n1):
        s = radial_escape(obj, theta, loss, 1e-11 * (1 + abs(loss)))
        if s is not None:
            converged = False
            reason = (f"diverging: ||theta|| grew from {n0:.3g} to {n1:.3g} and the loss still falls along the ray (s={s:g}): "
                      "minimum at infinity")
    if not converged and not reason.startswith("diverging"):
        if not _finite(loss) or not _finite(theta):
            reason = "non-finite loss or parameters"
        elif _diverging(n0, n1):
            reason = f"diverging: ||theta|| grew from {n0:.3g} to {n1:.3g} (minimum at infinity?)"
        elif reason == "time":
            reason = f"time budget {time_budget:.3g}s spent"
        elif reason == "stopped":
            reason = "stopped by the monitor"
    return TrainResult(
        theta=theta.detach(),
        loss=loss,
        grad_norm=gn,
        grad_tol=tol,
        iterations=it,
        seconds=time.perf_counter() - t0,
        converged=converged,
        reason="converged" if converged else reason,
        theta_norm_start=n0,
        theta_norm_end=n1,
        method=method,
    )


def _offset(monitor, done: int):
    """The monitor seen from a sub-solver that starts after `done` iterations."""
    return None if monitor is None else (lambda theta, k: monitor(theta, done + k))


def _levenberg_marquardt(obj: Objective, theta: Tensor, rel_tol: float, max_iter: int, deadline: float, patience: int = 3,
                         monitor=None):
    """Levenberg's damping with Nielsen's update. Returns (theta, iterations, status).

    Hands over to Newton ('slow') once Gauss-Newton only makes linear progress, i.e. the residual is not small."""
    r = obj.residual(theta)
    loss = 0.5 * float(r @ r)
    mu, nu = None, 2.0
    slow = 0
    for it in range(1, max_iter + 1):
        J = obj.jacobian(theta)
        g = J.T @ r
        gn = float(g.norm())
        if gn <= default_grad_tol(loss, rel_tol):
            return theta, it, "converged"
        if time.perf_counter() > deadline:
            return theta, it, "time"
        if monitor is not None and it > 1 and monitor(theta, it - 1):
            return theta, it - 1, "stopped"
        n_res, P = J.shape
        G = _Gram(J)  # J^T J (or J J^T when n_res < P), factorized once per trial mu
        if mu is None:
            mu = LM_MU0 * max(G.diag_max(), 1e-12)
        while True:
            try:
                step = G.lm_step(mu, J, r, g)
            except (torch.linalg.LinAlgError, np.linalg.LinAlgError):
                mu *= nu
                nu *= 2
                continue
            r_new = obj.residual(theta + step)
            loss_new = 0.5 * float(r_new @ r_new)
            pred = 0.5 * float(step @ (mu * step - g))
            rho = (loss - loss_new) / pred if pred > 0 else -1.0
            if rho > 0 and math.isfinite(loss_new):
                theta, r = theta + step, r_new
                slow = slow + 1 if loss - loss_new < 1e-3 * (loss - 0.0) and rho > 0.5 else 0
                loss = loss_new
                mu *= max(1 / 3, 1 - (2 * rho - 1) ** 3)
                nu = 2.0
                break
            mu *= nu
            nu *= 2
            if mu > 1e20 or not math.isfinite(mu):
                return theta, it, "stalled"
        # Gauss-Newton converges linearly when the residual is not small; Newton then wins.
        if slow >= patience:
            return theta, it, "slow"
    return theta, max_iter, "iteration limit"


def _newton(obj: Objective, theta: Tensor, rel_tol: float, max_iter: int, deadline: float, convex_only: bool = False,
            monitor=None):
    """Eigenvalue-modified Newton with backtracking; steps along negative curvature at saddles.

    convex_only: return 'not locally convex' instead of stepping where the Hessian has a clearly negative
    eigenvalue (the caller then resumes Levenberg-Marquardt)."""
    loss, g = obj.value_and_grad(theta)
    loss = float(loss)
    lam_prev = None
    for it in range(1, max_iter + 1):
        gn = float(g.norm())
        if gn <= default_grad_tol(loss, rel_tol):
            return theta, it, "converged"
        if time.perf_counter() > deadline:
            return theta, it, "time"
        if monitor is not None and it > 1 and monitor(theta, it - 1):
            return theta, it - 1, "stopped"
        H = obj.hessian(theta)
        # positive definite H (the usual case near a minimum): Cholesky instead of a dense eigh (~10x cheaper). The
        # saddle-free step -V (V^T g / (|w| + lam)) is then exactly -(H + lam I)^-1 g, and neither the convexity
        # test nor the saddle test below can fire (w > 0).
        Hc = H.cpu()
        L, info = torch.linalg.cholesky_ex(Hc)
        if int(info) == 0 and bool(torch.isfinite(L.diagonal()).all()):
            theta, loss, g, lam_prev, ok = _newton_pd(obj, theta, loss, g, Hc, lam_prev)
            if not ok:
                return theta, it, "line search failed"
            continue
        # dense eigh on the CPU in float64, also for CUDA objectives (ENGINEERING.md: GPU eigh failed on low-rank input)
        w, V = (t.to(H.device) for t in torch.linalg.eigh(Hc))
        scale = float(w.abs().max().clamp_min(1e-300))
        gV = V.T @ g
        if convex_only and float(w[0]) < -1e-8 * scale and gn > 1e-3 * (1 + abs(loss)):
            return theta, it, "not locally convex"
        if float(w[0]) < -1e-6 * scale and gn < 1e-6 * (1 + abs(loss)):
            # at a saddle (gradient ~0): even saddle-free Newton only creeps away (its step along v is g.v / |w0|),
            # so step along the most negative eigenvector. Not earlier: further out, the |w| + lam step below already
            # descends along negative curvature, while this step's length is only ~1e-3; with the old gate
            # (||g|| < 1e-3 (1 + L)) cross-entropy nets took 300 such creeping steps and stalled at ||g|| ~ 1e-3
            # (measured on claim7's instances: 16/46 certified records vs 28/46 with this gate).
            v = V[:, 0] * (-1.0 if float(gV[0]) > 0 else 1.0)
            t = 2 * abs(float(w[0])) / max(float(w.abs().max()), 1e-300) + 1e-3
            for _ in range(40):
                cand = theta + t * v
                lc = obj.value(cand)
                if lc < loss - 1e-12 * (1 + abs(loss)):
                    return cand, it, "negative curvature"
                t *= 0.5
        # |w| + lam: saddle-free Newton with Levenberg damping adapted like a trust region. The damping tames
        # near-null (symmetry) directions and far-from-quadratic regions (e.g. cross-entropy's flat tails).
        lam = 1e-10 * scale if lam_prev is None else lam_prev
        accepted = False
        for _ in range(60):
            step = -V @ (gV / (w.abs() + lam))
            cand = theta + step
            lc, gc = obj.value_and_grad(cand)
            lc = float(lc)
            if math.isfinite(lc) and (lc < loss or (lc <= loss + 1e-13 * (1 + abs(loss)) and float(gc.norm()) < gn)):
                theta, loss, g = cand, lc, gc
                accepted = True
                lam_prev = max(lam / 4, 1e-12 * scale)
                break
            lam = max(lam * 8, 1e-8 * scale)
        if not accepted:
            return theta, it, "line search failed"
    return theta, max_iter, "iteration limit"


def _newton_pd(obj: Objective, theta: Tensor, loss: float, g: Tensor, H: Tensor, lam_prev):
    """One damped Newton step for a positive definite H (CPU float64): the same step, acceptance rule and damping
    schedule as the eigenvalue path of _newton, with Cholesky factorizations of H + lam I. Returns
    (theta, loss, g, lam_prev, accepted)."""
    scale = max(_lambda_max_psd(H), 1e-300)
    gn = float(g.norm())
    lam = 1e-10 * scale if lam_prev is None else lam_prev
    eye = torch.eye(H.shape[0], dtype=H.dtype)
    gc_ = g.cpu()[:, None]
    for _ in range(60):
        L, info = torch.linalg.cholesky_ex(H + lam * eye)
        if int(info) != 0:
            lam = max(lam * 8, 1e-8 * scale)
            continue
        step = -torch.cholesky_solve(gc_, L)[:, 0].to(theta.device)
        cand = theta + step
        lc, gc = obj.value_and_grad(cand)
        lc = float(lc)
        if math.isfinite(lc) and (lc < loss or (lc <= loss + 1e-13 * (1 + abs(loss)) and float(gc.norm()) < gn)):
            return cand, lc, gc, max(lam / 4, 1e-12 * scale), True
        lam = max(lam * 8, 1e-8 * scale)
    return theta, loss, g, lam_prev, False
