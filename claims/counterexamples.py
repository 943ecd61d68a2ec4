"""Shared counterexamples (CLAIMS.md, claim6 negative controls): the YSJ spurious minimum and the Safran-Shamir
population loss.

Both are known *bad local minima* of nonlinear nets, so "every local minimum is global" (claim6 for linear nets)
must FAIL on them. Other claims reuse them:
- YSJ is a tight (equality) case where the net equals the affine least-squares fit, and claim8 starts from it.
- Safran-Shamir gives certified strict spurious minima of a smooth population loss.

YSJ (C. Yun, S. Sra, A. Jadbabaie, ICLR 2019, arXiv:1802.03487; construction re-derived in CLAIMS.md)
- Model: one hidden layer, leaky ReLU sigma(z) = z (z >= 0), s_- z (z < 0), width >= 2, biases, scalar output.
- Data: n points in [-1, 1]^2, non-affine targets y = sin(3 x_1) + x_2^2.
- Point: with (beta_x, beta_0) the affine least-squares fit, unit 1 gets w_1 = beta_x and bias C, every other
  unit w_j = 0 and bias C, v_1 = 1 / s_+ = 1, v_j = 0, output bias beta_0 - C. C is chosen so that every
  pre-activation is >= `margin` (default 20).
- Why a local minimum: on the ball where no pre-activation changes sign, the net is an affine function of x on the
  data, so the loss is >= the affine least-squares value, which the point attains. The ball's radius is the margin
  divided by the Lipschitz constant of the pre-activations in the parameters.
- Exact facts: grad L = 0 (the residual is orthogonal to 1 and to the columns of X), and the Hessian is J^T J
  (the second-order terms sum_i r_i s_+ (x_i, 1) vanish), so it is PSD with a large null space.

Safran-Shamir (I. Safran, O. Shamir, ICML 2018, arXiv:1712.08968)
- Population loss of x -> sum_{i<=k} relu(w_i^T x), x ~ N(0, I_d), teacher v_i = e_i:
  F(W) = 1/2 E[(sum_i relu(w_i.x) - sum_i relu(v_i.x))^2]
       = 1/2 sum_ij g(w_i, w_j) - sum_ij g(w_i, v_j) + 1/2 sum_ij g(v_i, v_j),
  g(u, v) = E[relu(u.x) relu(v.x)] = (|u||v| / 2 pi) (sin t + (pi - t) cos t), t = angle(u, v).
- grad_u g(u, v) = (1 / 2 pi) (|v| sin t u/|u| + (pi - t) v) (used by the L-BFGS stage: exact at t = 0 too).
- Protocol (CLAIMS.md): k = d = 8, init N(0, I/d), L-BFGS then Newton steps; a spurious minimum is certified when
  |grad F| <= 1e-10, lambda_min >= 1e-4 and F > 1e-6. Measured there: 5/40 spurious, F = 0.021508.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
import torch
from threadpoolctl import threadpool_limits

from networks import MLP, Objective, certify, minimize, squared_loss

Tensor = torch.Tensor

# =====================================================================================================  YSJ
YSJ_N = 12
YSJ_MARGIN = 20.0


def ysj_target(X: np.ndarray) -> np.ndarray:
    """The non-affine target y = sin(3 x_1) + x_2^2 (one column)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(f"YSJ data need a 2-D X with at least 2 features, got shape {X.shape}")
    return (np.sin(3 * X[:, 0]) + X[:, 1] ** 2)[:, None]


def ysj_data(n: int = YSJ_N, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n points uniform on [-1, 1]^2 and y = sin(3 x_1) + x_2^2."""
    if n < 4:
        raise ValueError(f"YSJ data need n >= 4 points (more than an affine fit's 3 parameters), got n={n}")
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    return X, ysj_target(X)


@dataclass
class YSJInstance:
    X: np.ndarray
    Y: np.ndarray
    model: MLP
    theta: Tensor  # the constructed spurious minimum
    beta: np.ndarray  # affine least-squares fit (beta_x..., beta_0)
    affine_value: float  # 1/2 ||[X 1] beta - y||^2 computed at construction (numpy lstsq)
    slope: float
    C: float
    extra: dict = field(default_factory=dict)

    def objective(self) -> Objective:
        return squared_loss(self.model, self.X, self.Y)

    def min_preactivation(self) -> float:
        _, zs, _ = self.model.layers(self.theta, torch.as_tensor(self.X))
        return float(zs[0].min())


def ysj_instance(n: int = YSJ_N, width: int = 6, slope: float = 0.1, seed: int = 0, margin: float = YSJ_MARGIN,
                 X: np.ndarray | None = None, Y: np.ndarray | None = None) -> YSJInstance:
    """Construct the YSJ spurious minimum of a width-`width` leaky-ReLU net (negative slope `slope`)."""
    if width < 2:
        raise ValueError(f"the YSJ construction needs hidden width >= 2, got {width}")
    if not (0 <= slope < 1):
        raise ValueError(f"the YSJ construction needs a leaky slope s_- in [0, 1) (s_+ = 1 != s_-), got {slope}")
    if margin <= 0:
        raise ValueError(f"margin must be positive, got {margin}")
    if X is None:
        X, Y = ysj_data(n, seed)
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64).reshape(X.shape[0], -1)
    if Y.shape[1] != 1:
        raise ValueError("the YSJ construction is for a scalar output")
    m, d = X.shape
    A = np.hstack([X, np.ones((m, 1))])
    beta, *_ = np.linalg.lstsq(A, Y[:, 0], rcond=max(A.shape) * np.finfo(float).eps)
    affine_value = 0.5 * float(np.sum((A @ beta - Y[:, 0]) ** 2))
    lin = X @ beta[:d]
    C = margin + max(0.0, -float(lin.min()))
    act = "leaky_relu" if slope == 0.1 else f"leaky_relu:{slope:g}"
    model = MLP(d, (width,), 1, activation=act, bias=True)
    W1 = np.zeros((d + 1, width))
    W1[:d, 0] = beta[:d]
    W1[d, :] = C
    W2 = np.zeros((width + 1, 1))
    W2[0, 0] = 1.0  # v_1 = 1 / s_+ with s_+ = 1
    W2[width, 0] = beta[d] - C
    theta = model.flatten([W1, W2])
    inst = YSJInstance(X, Y, model, theta, beta, affine_value, slope, C)
    inst.extra["min_preactivation"] = inst.min_preactivation()
    return inst


def ysj_perturbation_min_change(inst: YSJInstance, radius: float = 1e-3, n: int = 200, seed: int = 0) -> float:
    """min over n random directions d (|d| = radius) of L(theta + d) - L(theta). Inside the fixed-pattern ball the
    loss is >= the affine least-squares value, so this is >= -rounding (handbook: +2.7e-7 over 2,000 draws)."""
    obj = inst.objective()
    L0 = obj.value(inst.theta)
    g = torch.Generator().manual_seed(seed)
    D = torch.randn(n, inst.theta.numel(), generator=g)
    D = radius * D / D.norm(dim=1, keepdim=True)
    return min(obj.value(inst.theta + d) - L0 for d in D)


def ysj_train_from_random(inst: YSJInstance, seeds=(0, 1, 2), time_budget: float = 3.0, max_iter: int = 300):
    """Train the same architecture on the same data from random inits; returns (best loss, list of TrainResults).

    A point with a lower loss is a proof that the YSJ minimum is not global; it needs no certificate."""
    obj = inst.objective()
    results = [minimize(obj, inst.model.init(s), time_budget=time_budget, max_iter=max_iter) for s in seeds]
    return min(r.loss for r in results), results


# ==========================================================================================  Safran-Shamir
SS_K = 8
SS_GRAD_TOL = 1e-10
SS_LAMBDA_MIN = 1e-4
SS_SPURIOUS_VALUE = 1e-6
# Seeds of `ss_run(k=8, d=8, seed)` that end at a certified spurious minimum (found by `ss_scan`, seeds 0..39).
# Scan of seeds 0..39: 8/40 spurious, all at F = 0.021508037 with lambda_min = 0.02135 (handbook: 5/40, F = 0.021508,
# lambda_min = 0.0213). The tests pin them with @example and check each is still certified spurious.
SS_SPURIOUS_SEEDS_K8: tuple[int, ...] = (9, 12, 18, 19, 20, 25, 33, 37)


def _g_np(U: np.ndarray, V: np.ndarray):
    """g(u_i, v_j) for all pairs, with the angles, norms and unit vectors (numpy)."""
    nu = np.linalg.norm(U, axis=1)
    nv = np.linalg.norm(V, axis=1)
    if np.any(nu == 0) or np.any(nv == 0):
        raise ValueError("Safran-Shamir loss: a weight vector is exactly 0 (the angle is undefined there)")
    c = np.clip((U @ V.T) / np.outer(nu, nv), -1.0, 1.0)
    t = np.arccos(c)
    G = np.outer(nu, nv) / (2 * np.pi) * (np.sin(t) + (np.pi - t) * c)
    return G, t, nu, nv


def ss_value_grad_np(w: np.ndarray, k: int, d: int, V: np.ndarray | None = None):
    """F and its gradient (numpy, analytic: exact also when two vectors are parallel)."""
    W = np.asarray(w, dtype=np.float64).reshape(k, d)
    V = np.eye(k, d) if V is None else V
    Gww, tww, nw, _ = _g_np(W, W)
    Gwv, twv, _, nv = _g_np(W, V)
    Gvv, *_ = _g_np(V, V)
    F = 0.5 * Gww.sum() - Gwv.sum() + 0.5 * Gvv.sum()
    Wn = W / nw[:, None]
    # grad_{w_i} = sum_j grad_u g(w_i, w_j) - sum_j grad_u g(w_i, v_j)
    gww = (np.sin(tww) * nw[None, :]).sum(1)[:, None] * Wn + (np.pi - tww) @ W
    gwv = (np.sin(twv) * nv[None, :]).sum(1)[:, None] * Wn + (np.pi - twv) @ V
    return float(F), ((gww - gwv) / (2 * np.pi)).ravel()


def _g_torch(U: Tensor, V: Tensor, same: bool) -> Tensor:
    nu = U.norm(dim=1)
    nv = V.norm(dim=1)
    n = nu[:, None] * nv[None, :]
    s = U @ V.T
    # clamp keeps acos finite; certified points have every pair away from parallel (checked by the caller)
    c = (s / n).clamp(-1 + 1e-15, 1 - 1e-15)
    G = (n * torch.sqrt(1 - c * c) + (math.pi - torch.acos(c)) * s) / (2 * math.pi)
    if same:  # g(u, u) = |u|^2 / 2 exactly (angle 0): avoids the singular derivative of acos at 1
        eye = torch.eye(U.shape[0], dtype=torch.bool)
        G = torch.where(eye, 0.5 * (nu * nu)[:, None].expand_as(G), G)
    return G


def ss_objective(k: int = SS_K, d: int = SS_K, V: np.ndarray | None = None) -> Objective:
    """The Safran-Shamir population loss as an Objective of the flat k*d student weights (rows w_i)."""
    if k < 1 or d < 1:
        raise ValueError(f"Safran-Shamir loss needs k, d >= 1, got k={k}, d={d}")
    Vt = torch.eye(k, d, dtype=torch.float64) if V is None else torch.as_tensor(V, dtype=torch.float64)
    const = 0.5 * float(_g_torch(Vt, Vt, True).sum())

    def fun(theta: Tensor) -> Tensor:
        W = theta.reshape(k, d)
        return 0.5 * _g_torch(W, W, True).sum() - _g_torch(W, Vt, False).sum() + const

    return Objective(fun=fun, n_params=k * d, nonnegative=True, name=f"Safran-Shamir population loss k={k} d={d}")


def ss_min_pair_angle(w, k: int, d: int) -> float:
    """Smallest angle between two student vectors or a student and a teacher vector (the formula is smooth
    only away from parallel pairs)."""
    W = np.asarray(w, dtype=np.float64).reshape(k, d)
    _, tww, _, _ = _g_np(W, W)
    _, twv, _, _ = _g_np(W, np.eye(k, d))
    off = tww[~np.eye(k, dtype=bool)] if k > 1 else np.array([np.pi])
    return float(min(off.min(), twv.min()))


@dataclass
class SSRun:
    seed: int
    k: int
    d: int
    theta: Tensor
    loss: float
    lbfgs_iterations: int
    outcome: str  # 'global' | 'spurious' | 'uncertified'
    certificate: object | None
    seconds: float


def ss_run(seed: int, k: int = SS_K, d: int = SS_K, newton_steps: int = 5, certify_point: bool = True) -> SSRun:
    """The handbook protocol for one seed: init N(0, I/d), L-BFGS (analytic gradient), then Newton steps, then
    certify spurious candidates (F > 1e-6)."""
    import time

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal(k * d) / math.sqrt(d)
    # one BLAS thread: on a shared 2-core machine, threaded OpenBLAS made each tiny L-BFGS-B step ~10 ms (5x slower)
    with threadpool_limits(1):
        res = scipy.optimize.minimize(ss_value_grad_np, w0, args=(k, d), jac=True, method="L-BFGS-B",
                                      options=dict(maxiter=5000, gtol=1e-13, ftol=1e-16, maxcor=30))
    w = res.x
    F = float(res.fun)
    obj = ss_objective(k, d)
    if F <= SS_SPURIOUS_VALUE:
        return SSRun(seed, k, d, torch.as_tensor(w), F, int(res.nit), "global", None, time.perf_counter() - t0)
    if ss_min_pair_angle(w, k, d) < 1e-6:
        return SSRun(seed, k, d, torch.as_tensor(w), F, int(res.nit), "uncertified", None, time.perf_counter() - t0)
    theta = torch.as_tensor(w)
    tr = minimize(obj, theta, method="newton", max_iter=newton_steps, rel_grad_tol=SS_GRAD_TOL / 10)
    theta = tr.theta
    cert = None
    outcome = "uncertified"
    if certify_point:
        # |grad F| <= 1e-10 absolute (handbook): rel_grad_tol scaled by 1 + F
        cert = certify(obj, theta, rel_grad_tol=SS_GRAD_TOL / (1 + tr.loss))
        if cert.certified and cert.lambda_min >= SS_LAMBDA_MIN and cert.loss > SS_SPURIOUS_VALUE:
            outcome = "spurious"
    return SSRun(seed, k, d, theta, obj.value(theta), int(res.nit), outcome, cert, time.perf_counter() - t0)


def ss_scan(seeds, k: int = SS_K, d: int = SS_K) -> list[SSRun]:
    return [ss_run(s, k, d) for s in seeds]
