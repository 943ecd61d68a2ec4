"""claim6 - Deep linear networks (Kawaguchi 2016): every local minimum is global; the rest are saddles.

Source: K. Kawaguchi, "Deep learning without poor local minima", NeurIPS 2016, arXiv:1605.07110. Background:
P. Baldi, K. Hornik, Neural Networks 2(1):53-58, 1989. CLAIMS.md, claim6.

Setting (the paper's COLUMN convention): Yhat_c = W_{H+1} ... W_1 X_c, X_c in R^{d_x x m}, Y_c in R^{d_y x m},
L = 1/2 ||Yhat_c - Y_c||_F^2, p = min(d_1..d_H). The engine works in the ROW convention (X = X_c^T, one row per
sample; W^(l) = W_l^T), so at the boundary:
    X = X_c^T,  Y = Y_c^T,  W^(l) = W_l^T,  Yhat = X W^(1) ... W^(H+1) = Yhat_c^T,
    YX^T (paper) = Y^T X (here),   XX^T (paper) = X^T X (here),
    Sigma = Y_c X_c^T (X_c X_c^T)^-1 X_c Y_c^T = Y^T X (X^T X)^-1 X^T Y = Y^T P_X Y   (d_y x d_y).
Hypotheses: X^T X and X^T Y full rank, d_y <= d_x, Sigma has distinct eigenvalues lambda_1 > ... > lambda_{d_y}.

- claim6a: every local minimum is global, L* = 1/2 (||Y||^2 - sum_{j <= min(p, d_y)} lambda_j) (reduced-rank
  regression; p >= d_y gives OLS).
- claim6b: every other critical point is a saddle. The Baldi-Hornik points (one per p-subset S of Sigma's
  eigenvectors) are critical with value 1/2 (||Y||^2 - sum_{j in S} lambda_j); the non-global ones have a strictly
  negative Hessian eigenvalue.
- claim6c: H = 1: at W = 0 the Hessian has eigenvalues +-sigma_i(X^T Y), each d_1 times, and zeros. H >= 2: W = 0
  has grad = 0 and Hessian = 0, yet is a saddle: along V (below) L(tV) = 1/2||Y||^2 - t^{H+1} sigma_1
  + 1/2 t^{2H+2} ||X r||^2. A second-order certificate ("grad 0, Hessian PSD => minimum") is wrong there.

Negative controls (the hypothesis "linear" is needed): the YSJ spurious minimum of a leaky-ReLU net and the
Safran-Shamir spurious minima (claims/counterexamples.py) are certified local minima that are not global; and the
naive second-order certificate accepts W = 0 (certificate misuse).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from claims import counterexamples as ce
from minimacheck.ledger import Record
from minimacheck.legacy import Claim, RunConfig
from minimacheck.tolerance import tau_fp
from networks import MLP, Verdict, certify, minimize, squared_loss

CLAIM_ID = "claim6"

# ----------------------------------------------------------------------------------------- constants
COND_MAX = 1e6  # cond(X^T X) <= COND_MAX (handbook generator)
EIGENGAP_MIN = 1e-3  # relative eigengap of Sigma: min_j (lambda_j - lambda_{j+1}) / lambda_1
RANK_GAP = 1e-6  # sigma_p(W_H ... W_2) >= RANK_GAP (recorded: claim6b's rank condition)
POLICY_REL_TOL_BOTTLENECK = 1e-7  # p < d_y: policy tolerance 1e-7 (1 + L*) (no derivation; CLAIMS.md)
BH_GRAD_TOL = 1e-10  # scaled gradient at the Baldi-Hornik points
BH_NEG_CURV = 1e-6  # non-global BH points: lambda_min < -1e-6 lambda_max
BH_GLOBAL_CURV = 1e-9  # global BH point: lambda_min >= -1e-9 lambda_max
ORIGIN_SPECTRUM_REL = 1e-10  # H = 1: lambda_min(Hess L(0)) = -sigma_1 to 1e-10 relative
ORIGIN_HESS_ABS = 1e-12  # H >= 2: ||Hess L(0)|| <= 1e-12 (relative to 1 + ||X^T Y||)
DIRECTION_REL = 1e-10  # L(tV) vs the formula, relative


# ----------------------------------------------------------------------------------------- instances
@dataclass
class LinearInstance:
    """Data for a deep linear net, with the construction's planted facts."""

    X: np.ndarray  # m x d_x (rows are samples)
    Y: np.ndarray  # m x d_y
    lambdas: np.ndarray  # planted eigenvalues of Sigma, descending
    seed: int
    params: dict = field(default_factory=dict)

    @property
    def d_x(self) -> int:
        return self.X.shape[1]

    @property
    def d_y(self) -> int:
        return self.Y.shape[1]

    def sigma(self) -> np.ndarray:
        """Sigma = Y^T P_X Y (row convention), computed from the data (not from the plant)."""
        Q, _ = np.linalg.qr(self.X)
        QY = Q.T @ self.Y
        return QY.T @ QY

    def ols(self) -> np.ndarray:
        B, *_ = np.linalg.lstsq(self.X, self.Y, rcond=None)
        return B


def build_instance(m: int, d_x: int, d_y: int, seed: int, log10_cond: float = 2.0, noise: float = 0.5) -> LinearInstance:
    """Data meeting claim6's hypotheses by construction (no rejection loop).

    X = U diag(s) V^T with s log-spaced over a ratio 10^(log10_cond / 2), so cond(X^T X) = 10^log10_cond exactly.
    Y = U A + N with N orthogonal to col(X): then Sigma = Y^T P_X Y = A^T A. A = U_A diag(sqrt(lambda)) V_A^T with
    lambda_{j+1} = lambda_j (1 - delta_j), delta_j in [0.1, 0.5]: the relative gaps are >= 0.1 * 0.5^(d_y - 1)
    >= 3e-3 > 1e-3 for d_y <= 6, and lambda > 0 makes X^T Y = V diag(s) A full rank d_y.
    """
    if not (1 <= d_y <= d_x):
        raise ValueError(f"claim6 needs 1 <= d_y <= d_x, got d_x={d_x}, d_y={d_y}")
    if d_y > 6:
        raise ValueError(f"the eigengap construction is sized for d_y <= 6, got d_y={d_y}")
    if m < d_x + 1:
        raise ValueError(f"claim6 instances need m > d_x (noise orthogonal to col(X)), got m={m}, d_x={d_x}")
    if not (0 <= log10_cond <= math.log10(COND_MAX)):
        raise ValueError(f"log10_cond must be in [0, {math.log10(COND_MAX):g}] (cond(X^T X) <= {COND_MAX:g}), got {log10_cond}")
    # stay a hair inside the bound so rounding of the computed condition number cannot cross it
    log10_cond = min(log10_cond, math.log10(COND_MAX) - 1e-3)
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((m, d_x)))
    V, _ = np.linalg.qr(rng.standard_normal((d_x, d_x)))
    s = np.sqrt(m) * np.logspace(0.0, -log10_cond / 2, d_x) if d_x > 1 else np.array([np.sqrt(m)])
    s = rng.permutation(s)
    X = (U * s) @ V.T
    lam = [rng.uniform(4.0, 9.0) * m / 4]
    for _ in range(d_y - 1):
        lam.append(lam[-1] * (1 - rng.uniform(0.1, 0.5)))
    lam = np.array(lam)
    UA, _ = np.linalg.qr(rng.standard_normal((d_x, d_y)))
    VA, _ = np.linalg.qr(rng.standard_normal((d_y, d_y)))
    A = (UA * np.sqrt(lam)) @ VA.T
    G = rng.standard_normal((m, d_y))
    N = noise * (G - U @ (U.T @ G))
    Y = U @ A + N
    return LinearInstance(X, Y, lam, seed, dict(m=m, d_x=d_x, d_y=d_y, log10_cond=log10_cond, noise=noise))


def hypotheses_hold(inst: LinearInstance) -> tuple[bool, str, dict]:
    """Check claim6's hypotheses on the data (computed, not taken from the plant). Returns (ok, reason, numbers)."""
    X, Y = inst.X, inst.Y
    sx = np.linalg.svd(X, compute_uv=False)
    cond = float((sx[0] / sx[-1]) ** 2) if sx[-1] > 0 else math.inf
    sxy = np.linalg.svd(X.T @ Y, compute_uv=False)
    lam = np.sort(np.linalg.eigvalsh(inst.sigma()))[::-1]
    gap = float(np.min(-np.diff(lam)) / lam[0]) if len(lam) > 1 else math.inf
    nums = dict(cond_XtX=cond, sigma_min_XtY=float(sxy[-1]), eigengap_rel=gap, lambdas=lam.tolist())
    if inst.d_y > inst.d_x:
        return False, f"d_y={inst.d_y} > d_x={inst.d_x}", nums
    if not cond <= COND_MAX:
        return False, f"cond(X^T X) = {cond:.3g} > {COND_MAX:g}", nums
    if not sxy[-1] > max(X.shape) * np.finfo(float).eps * sxy[0] * 1e3:
        return False, "X^T Y is rank deficient", nums
    if not gap >= EIGENGAP_MIN:
        return False, f"relative eigengap of Sigma {gap:.3g} < {EIGENGAP_MIN:g}", nums
    return True, "", nums


def linear_model(d_x: int, widths, d_y: int) -> MLP:
    return MLP(d_x, tuple(widths), d_y, activation="linear", bias=False)


def weights(model: MLP, theta) -> list[np.ndarray]:
    Ws, _ = model.unflatten(torch.as_tensor(theta))
    return [W.detach().numpy() for W in Ws]


def chain(mats, n: int) -> np.ndarray:
    """Product of a (possibly empty) list of matrices; the n x n identity when empty."""
    out = np.eye(n)
    for M in mats:
        out = out @ M
    return out


def rrr_value(inst: LinearInstance, rank: int):
    """Certified reduced-rank regression optimum min_{rank B <= rank} 1/2 ||XB - Y||^2 (baselines.reduced_rank:
    two closed forms that must agree to 1e-10)."""
    from baselines.reduced_rank import reduced_rank

    return reduced_rank(inst.X, inst.Y, rank)


# ----------------------------------------------------------------------------------------- claim6a
def check_local_min_is_global(inst: LinearInstance, widths, init_seed: int = 0, time_budget: float = 20.0) -> Record:
    """claim6a: train a deep linear net to a certified minimum and compare with reduced-rank regression.

    Assertion: -tau_fp <= L - L* <= slack + tau_fp.
    - L* is a global optimum, so L < L* - tau_fp means the baseline is wrong (asserted as a failure too).
    - p >= d_y: L - L_OLS = 1/2 ||P_X E||^2 and grad_{W^(1)} L = X^T E M^T with M = W^(2)...W^(H+1), so
      ||P_X E|| <= ||grad_{W^(1)} L|| / (sigma_min(M) sigma_min(X)) and
      slack = 1/2 ||grad_{W^(1)} L||^2 / (sigma_min(M)^2 lambda_min(X^T X))      (derived; CLAIMS.md).
    - p < d_y: slack = 1e-7 (1 + L*), a POLICY tolerance (no derivation).
    """
    widths = tuple(int(w) for w in widths)
    p = min(widths)
    ok, why, hyp = hypotheses_hold(inst)
    base = dict(params=inst.params, widths=widths, p=p, init_seed=init_seed, hypotheses=hyp)
    if not ok:
        return Record(CLAIM_ID, "6a-local-min-global", certified=False, passed=None, reason=f"outside hypotheses: {why}", extra=base)
    model = linear_model(inst.d_x, widths, inst.d_y)
    obj = squared_loss(model, inst.X, inst.Y)
    tr = minimize(obj, model.init(init_seed, scale=1.0), time_budget=time_budget)
    cert = certify(obj, tr.theta)
    base.update(train_reason=tr.reason, train_seconds=tr.seconds, verdict=cert.verdict.value, strength=cert.strength,
                grad_norm=cert.grad_norm, lambda_min=cert.lambda_min, lambda_max=cert.lambda_max)
    r = min(p, inst.d_y)
    bl = rrr_value(inst, r)
    Lstar = float(bl.value)
    # cross-check the generator's plant: Sigma's eigenvalues are lambda by construction (1e-10 relative)
    planted = 0.5 * (float(np.sum(inst.Y ** 2)) - float(np.sum(inst.lambdas[:r])))
    base.update(L_star=Lstar, L_star_planted=planted, baseline_method=bl.method, baseline_agreement=bl.agreement)
    if not cert.certified:
        return Record(CLAIM_ID, "6a-local-min-global", certified=False, passed=None,
                      reason=f"uncertified: {cert.verdict.value}: {cert.reason} (trainer: {tr.reason})", extra=base)
    Ws = weights(model, tr.theta)
    L = cert.loss
    fp = tau_fp(Lstar)
    sig_p = float(np.linalg.svd(chain(Ws[1:-1], Ws[0].shape[1]), compute_uv=False)[min(p, Ws[0].shape[1]) - 1])
    base["sigma_p_inner"] = sig_p
    if p >= inst.d_y:
        M = chain(Ws[1:], Ws[0].shape[1])  # d_1 x d_y
        sM = float(np.linalg.svd(M, compute_uv=False)[inst.d_y - 1])
        g1 = float(obj.grad(tr.theta)[: Ws[0].size].norm())
        lamX = float(np.linalg.svd(inst.X, compute_uv=False)[-1] ** 2)
        slack = 0.5 * g1 ** 2 / (sM ** 2 * lamX) if sM > 0 else math.inf
        tol_kind = "derived (p >= d_y)"
    else:
        slack = POLICY_REL_TOL_BOTTLENECK * (1 + abs(Lstar))
        tol_kind = "policy tolerance 1e-7 (1 + L*) (p < d_y)"
    gap = L - Lstar
    tol = slack + fp
    # planted value 1/2(||Y||^2 - sum lambda) subtracts from ||Y||^2: rounding ~ d_y eps ||Y||^2 on top of 1e-10 relative
    plant_ok = abs(planted - Lstar) <= 1e-10 * (1 + abs(Lstar)) + 1e2 * inst.d_y * np.finfo(float).eps * float(np.sum(inst.Y ** 2))
    passed = bool(-fp <= gap <= tol and plant_ok)
    base.update(slack=slack, tau_fp=fp, tol_kind=tol_kind, plant_ok=plant_ok)
    reason = "" if passed else (
        "baseline beaten by more than tau_fp: the baseline is wrong" if gap < -fp else
        "planted eigenvalues disagree with the baseline" if not plant_ok else "certified minimum above the global value")
    return Record(CLAIM_ID, "6a-local-min-global", certified=True, passed=passed, gap=gap, tol=tol, reason=reason, extra=base)


# ----------------------------------------------------------------------------------------- claim6b
def baldi_hornik_point(inst: LinearInstance, S, H: int) -> tuple[MLP, torch.Tensor]:
    """Row-convention Baldi-Hornik critical point for the eigenvector subset S (|S| = p, all widths p):
    W^(1) = B_OLS U_S, W^(2..H) = I_p, W^(H+1) = U_S^T (the transpose of the paper's W_1 = U_S^T Y X^T (X X^T)^-1,
    W_k = I_p, W_{H+1} = U_S). Product B_OLS U_S U_S^T; value 1/2 (||Y||^2 - sum_{j in S} lambda_j)."""
    S = tuple(sorted(S))
    p = len(S)
    if H < 1 or p < 1 or p > inst.d_y:
        raise ValueError(f"Baldi-Hornik points need H >= 1 and 1 <= |S| <= d_y, got H={H}, S={S}")
    w, U = np.linalg.eigh(inst.sigma())
    U = U[:, np.argsort(w)[::-1]]
    US = U[:, list(S)]
    model = linear_model(inst.d_x, (p,) * H, inst.d_y)
    Ws = [inst.ols() @ US] + [np.eye(p)] * (H - 1) + [US.T]
    return model, model.flatten(Ws)


def scaled_grad(model: MLP, obj, theta, X, Y) -> float:
    """||grad L|| / scale, scale = ||X||_2 (||Yhat|| + ||Y||) max_l prod_{k != l} ||W^(k)||_2: each block
    grad_{W^(l)} L = (X W^(1..l-1))^T E (W^(l+1..H+1))^T is bounded by that product, so the ratio is the relative
    cancellation achieved (a dimensionless 'scaled unit')."""
    Ws = weights(model, theta)
    norms = [np.linalg.norm(W, 2) for W in Ws]
    prod_others = max(np.prod([n for k, n in enumerate(norms) if k != l]) for l in range(len(norms)))
    Yhat = model.forward(torch.as_tensor(theta), torch.as_tensor(X)).detach().numpy()
    scale = np.linalg.norm(X, 2) * (np.linalg.norm(Yhat) + np.linalg.norm(Y)) * max(prod_others, 1e-300)
    return float(obj.grad(torch.as_tensor(theta)).norm()) / scale


def check_baldi_hornik(inst: LinearInstance, p: int, H: int) -> list[Record]:
    """claim6b on every p-subset S: critical (scaled gradient <= 1e-10); the non-global ones are saddles
    (lambda_min < -1e-6 lambda_max, certifier verdict SADDLE); the global one (S = top p) is a certified minimum
    with L = L* (tau_fp) and lambda_min >= -1e-9 lambda_max."""
    ok, why, hyp = hypotheses_hold(inst)
    if not ok:
        return [Record(CLAIM_ID, "6b-baldi-hornik", certified=False, passed=None, reason=f"outside hypotheses: {why}",
                       extra=dict(params=inst.params, hypotheses=hyp))]
    Lstar = float(rrr_value(inst, min(p, inst.d_y)).value)
    lam = np.sort(np.linalg.eigvalsh(inst.sigma()))[::-1]
    top = tuple(range(p))
    out = []
    for S in itertools.combinations(range(inst.d_y), p):
        model, theta = baldi_hornik_point(inst, S, H)
        obj = squared_loss(model, inst.X, inst.Y)
        sg = scaled_grad(model, obj, theta, inst.X, inst.Y)
        cert = certify(obj, theta)
        value = 0.5 * (float(np.sum(inst.Y ** 2)) - float(lam[list(S)].sum()))
        L = cert.loss
        fp = tau_fp(value)
        extra = dict(params=inst.params, H=H, p=p, S=S, scaled_grad=sg, verdict=cert.verdict.value,
                     lambda_min=cert.lambda_min, lambda_max=cert.lambda_max, L=L, value_formula=value, L_star=Lstar)
        if S == top:
            passed = bool(sg <= BH_GRAD_TOL and cert.certified and abs(L - Lstar) <= fp
                          and cert.lambda_min >= -BH_GLOBAL_CURV * cert.lambda_max and abs(L - value) <= fp)
            out.append(Record(CLAIM_ID, "6b-baldi-hornik-global", certified=cert.certified, passed=passed,
                              gap=abs(L - Lstar), tol=fp, reason="" if passed else f"global BH point: {cert.summary()}", extra=extra))
        else:
            neg = cert.lambda_min is not None and cert.lambda_min < -BH_NEG_CURV * cert.lambda_max
            passed = bool(sg <= BH_GRAD_TOL and cert.verdict is Verdict.SADDLE and neg and abs(L - value) <= fp and L > Lstar + fp)
            # 'certified' = the point's nature was certified (a critical point with a certified negative curvature)
            out.append(Record(CLAIM_ID, "6b-baldi-hornik-saddle", certified=cert.verdict is Verdict.SADDLE, passed=passed,
                              # headroom = 1e-6 lambda_max / |lambda_min| <= 1  <=>  lambda_min <= -1e-6 lambda_max
                              gap=BH_NEG_CURV * cert.lambda_max / max(-cert.lambda_min, 1e-300) if cert.lambda_min is not None else None,
                              tol=1.0, reason="" if passed else f"non-global BH point: {cert.summary()}", extra=extra))
    return out


# ----------------------------------------------------------------------------------------- claim6c
def top_singular_pair(inst: LinearInstance):
    """(sigma_1, l, r) of the paper's Y_c X_c^T = Y^T X (d_y x d_x): l in R^{d_y}, r in R^{d_x}."""
    U, s, Vt = np.linalg.svd(inst.Y.T @ inst.X)
    return float(s[0]), U[:, 0], Vt[0]


def cubic_direction(model: MLP, inst: LinearInstance) -> torch.Tensor:
    """V with V_1 = e_1 r^T, V_2..V_H = e_1 e_1^T, V_{H+1} = l e_1^T (paper), i.e. in rows V^(1) = r e_1^T,
    V^(2..H) = e_1 e_1^T, V^(H+1) = e_1 l^T. Then X V^(1)...V^(H+1) = X r l^T."""
    _, l, r = top_singular_pair(inst)
    shapes = model.weight_shapes
    Vs = []
    for k, (a, b) in enumerate(shapes):
        M = np.zeros((a, b))
        if k == 0:
            M[:, 0] = r
        elif k == len(shapes) - 1:
            M[0, :] = l
        else:
            M[0, 0] = 1.0
        Vs.append(M)
    return model.flatten(Vs)


def naive_second_order_certificate(obj, theta, rel: float = 1e-9) -> bool:
    """The MISUSED certificate 'grad L = 0 and Hess L PSD => local minimum' (no probe, no higher order)."""
    theta = torch.as_tensor(theta)
    L, g = obj.value_and_grad(theta)
    Hs = obj.hessian(theta)
    w = torch.linalg.eigvalsh(Hs)
    scale = max(1.0, float(w.abs().max()))
    return bool(float(g.norm()) <= rel * (1 + abs(float(L))) and float(w[0]) >= -rel * scale)


def check_origin(inst: LinearInstance, widths) -> list[Record]:
    """claim6c at W = 0.

    H = 1: the Hessian there is that of -tr(W^(1) W^(2) Y^T X ...): eigenvalues +-sigma_i(X^T Y), each d_1 times,
    and zeros. Assert lambda_min = -sigma_1 to 1e-10 relative (and the whole non-zero spectrum), L neither convex nor
    concave (eigenvalues of both signs), and the certifier says SADDLE.
    H >= 2: assert grad = 0, ||Hess|| <= 1e-12 (1 + sigma_1), the direction formula at t^{H+1} = sigma_1 / ||X r||^2
    to 1e-10 relative (decrease sigma_1^2 / (2 ||X r||^2)), and the certifier says SADDLE. The certifier's probe
    radii are scaled to t* ||V|| (the distance to the minimum along V), where the order-(H+1) term is O(sigma_1 t*^{H+1}).
    """
    widths = tuple(int(w) for w in widths)
    H = len(widths)
    model = linear_model(inst.d_x, widths, inst.d_y)
    obj = squared_loss(model, inst.X, inst.Y)
    zero = torch.zeros(model.n_params)
    s1, l, r = top_singular_pair(inst)
    sv = np.linalg.svd(inst.X.T @ inst.Y, compute_uv=False)
    half_y2 = 0.5 * float(np.sum(inst.Y ** 2))
    L0, g0 = obj.value_and_grad(zero)
    Hs = obj.hessian(zero)
    w = torch.linalg.eigvalsh(Hs).numpy()
    Xr2 = float(np.sum((inst.X @ r) ** 2))
    tstar = (s1 / Xr2) ** (1.0 / (H + 1))
    Vdir = cubic_direction(model, inst)
    radius = tstar * float(Vdir.norm())
    cert = certify(obj, zero, probe_radii=tuple(c * radius for c in (1e-2, 1e-1, 0.3, 1.0)))
    extra = dict(params=inst.params, widths=widths, H=H, sigma_1=s1, grad_norm=float(g0.norm()), hess_norm=float(np.abs(w).max()),
                 lambda_min=float(w[0]), verdict=cert.verdict.value, reason_cert=cert.reason)
    out = []
    if H == 1:
        d1 = widths[0]
        expect = np.sort(np.concatenate([np.repeat(sv, d1), -np.repeat(sv, d1), np.zeros(len(w) - 2 * d1 * len(sv))]))
        spec_err = float(np.max(np.abs(np.sort(w) - expect))) / s1
        lmin_err = abs(float(w[0]) + s1) / s1
        passed = bool(lmin_err <= ORIGIN_SPECTRUM_REL and spec_err <= ORIGIN_SPECTRUM_REL and w[-1] > 0 > w[0]
                      and cert.verdict is Verdict.SADDLE and float(g0.norm()) == 0.0)
        extra.update(spectrum_err_rel=spec_err)
        out.append(Record(CLAIM_ID, "6c-origin-H1-spectrum", certified=cert.verdict is Verdict.SADDLE, passed=passed,
                          gap=lmin_err, tol=ORIGIN_SPECTRUM_REL, reason="" if passed else f"origin H=1: {cert.summary()}", extra=extra))
        return out
    t = tstar
    L_dir = obj.value(t * Vdir)
    formula = half_y2 - t ** (H + 1) * s1 + 0.5 * t ** (2 * H + 2) * Xr2
    closed = half_y2 - s1 ** 2 / (2 * Xr2)
    rel_err = abs(L_dir - formula) / abs(formula)
    hess_ok = float(np.abs(w).max()) <= ORIGIN_HESS_ABS * (1 + s1)
    passed = bool(float(g0.norm()) == 0.0 and hess_ok and rel_err <= DIRECTION_REL
                  and abs(formula - closed) <= 1e-10 * abs(closed) and L_dir < float(L0) and cert.verdict is Verdict.SADDLE)
    extra.update(L_dir=L_dir, formula=formula, decrease=float(L0) - L_dir, probe_radius=radius)
    out.append(Record(CLAIM_ID, "6c-origin-higher-order-saddle", certified=cert.verdict is Verdict.SADDLE, passed=passed,
                      gap=rel_err, tol=DIRECTION_REL, reason="" if passed else f"origin H>=2: {cert.summary()}", extra=extra))
    return out


def control_naive_certificate(inst: LinearInstance, widths=(3, 3)) -> Record:
    """Certificate misuse: at W = 0 with H >= 2, 'grad = 0 and Hessian PSD' ACCEPTS the point, yet the direction V
    descends. Detected when the naive certificate accepts, V gives a strict decrease, and the real certifier says
    SADDLE."""
    widths = tuple(widths)
    if len(widths) < 2:
        raise ValueError("the naive-certificate control needs H >= 2 (three or more weight matrices)")
    model = linear_model(inst.d_x, widths, inst.d_y)
    obj = squared_loss(model, inst.X, inst.Y)
    zero = torch.zeros(model.n_params)
    naive = naive_second_order_certificate(obj, zero)
    rec = check_origin(inst, widths)[0]
    descent = rec.extra["decrease"]
    detected = bool(naive and descent > tau_fp(obj.value(zero)) and rec.extra["verdict"] == Verdict.SADDLE.value)
    return Record(CLAIM_ID, "6c-naive-certificate-misuse", kind="negative-control", detected=detected,
                  gap=-descent, reason=f"naive certificate {'accepts' if naive else 'rejects'} W=0; descent along V {descent:.3e}; "
                  f"certifier: {rec.extra['verdict']}", extra={**rec.extra, "naive_accepts": naive})


# ----------------------------------------------------------------------------------------- nonlinear controls
def control_ysj(n: int = ce.YSJ_N, width: int = 6, slope: float = 0.1, seed: int = 0, train_seeds=(0, 3),
                time_budget: float = 10.0, max_iter: int = 30) -> Record:
    """YSJ: a certified local minimum of a leaky-ReLU net whose loss equals the affine least-squares value, strictly
    above a loss reached by training the same net from random inits. 'Every local minimum is global' fails once the
    activation is nonlinear. Detected when: certified, |L - L_affine| <= tau_fp (baselines.least_squares.ols with an
    intercept), L > L_trained + tau_fp, and 200 random 1e-3 perturbations never lower L by more than tau_fp.
    The training budget is iteration-bound (max_iter; time_budget is only a cap), so the outcome does not depend
    on machine load."""
    from baselines.least_squares import ols

    inst = ce.ysj_instance(n=n, width=width, slope=slope, seed=seed)
    obj = inst.objective()
    cert = certify(obj, inst.theta)
    bl = ols(inst.X, inst.Y, intercept=True)
    best, runs = ce.ysj_train_from_random(inst, seeds=train_seeds, time_budget=time_budget, max_iter=max_iter)
    L = cert.loss
    fp = tau_fp(bl.value)
    pert = ce.ysj_perturbation_min_change(inst)
    equal_affine = abs(L - bl.value) <= fp + bl.slack_solver
    detected = bool(cert.certified and equal_affine and L > best + fp and pert >= -fp)
    return Record(CLAIM_ID, "ysj-spurious-minimum", kind="negative-control", certified=cert.certified, detected=detected,
                  gap=L - best, tol=fp,
                  reason=f"YSJ minimum {cert.verdict.value} [{cert.strength}] L={L:.6g} (affine LS {bl.value:.6g}); "
                         f"training reached {best:.4g}",
                  extra=dict(L=L, L_affine=bl.value, L_trained=best, perturbation_min_change=pert, grad_norm=cert.grad_norm, lambda_min=cert.lambda_min,
                             margin=cert.margin, probe_min_change=cert.probe_min_change, n=n, width=width, slope=slope, seed=seed,
                             train_reasons=[r.reason for r in runs]))


def control_safran_shamir(seed: int, k: int = ce.SS_K) -> Record:
    """Safran-Shamir: a seed whose run ends at a certified spurious minimum (|grad F| <= 1e-10, lambda_min >= 1e-4,
    F > 1e-6, while F = 0 at W = V). Detected when the run is certified spurious."""
    run = ce.ss_run(seed, k, k)
    c = run.certificate
    detected = run.outcome == "spurious"
    return Record(CLAIM_ID, f"safran-shamir-k{k}", kind="negative-control", certified=bool(c is not None and c.certified),
                  detected=detected, gap=run.loss,
                  reason=f"seed {seed}: {run.outcome}, F={run.loss:.6g}" + (f", {c.summary()}" if c is not None else ""),
                  extra=dict(seed=seed, k=k, F=run.loss, outcome=run.outcome, seconds=run.seconds,
                             lambda_min=None if c is None else c.lambda_min, grad_norm=None if c is None else c.grad_norm))


# ----------------------------------------------------------------------------------------- report mode
def draw_params(rng: np.random.Generator) -> dict:
    d_x = int(rng.integers(2, 7))
    d_y = int(rng.integers(1, d_x + 1))
    H = int(rng.integers(1, 5))
    widths = tuple(int(w) for w in rng.integers(1, 7, size=H))
    return dict(m=int(rng.integers(d_x + 2, 41)), d_x=d_x, d_y=d_y, widths=widths, seed=int(rng.integers(2**31)),
                log10_cond=float(rng.integers(0, 7)))


def run(cfg: RunConfig) -> list[Record]:
    rng = cfg.rng(6)
    recs: list[Record] = []
    for _ in range(cfg.n_instances):
        prm = draw_params(rng)
        inst = build_instance(prm["m"], prm["d_x"], prm["d_y"], prm["seed"], prm["log10_cond"])
        recs.append(check_local_min_is_global(inst, prm["widths"], init_seed=prm["seed"] % 1000, time_budget=cfg.time_budget))
    bh = build_instance(20, 4, 3, int(rng.integers(2**31)))
    recs += check_baldi_hornik(bh, p=2, H=2)
    ori = build_instance(20, 4, 3, int(rng.integers(2**31)))
    recs += check_origin(ori, (3,))
    recs += check_origin(ori, (3, 3))
    recs.append(control_naive_certificate(ori, (3, 3)))
    recs.append(control_ysj())
    for s in ce.SS_SPURIOUS_SEEDS_K8[:2]:
        recs.append(control_safran_shamir(s))
    return recs


CLAIM = Claim(
    id=CLAIM_ID,
    title="Deep linear networks: every local minimum is global, every other critical point a saddle",
    source="K. Kawaguchi, Deep learning without poor local minima, NeurIPS 2016, arXiv:1605.07110; Baldi & Hornik 1989",
    statement=("Yhat = X W^(1)...W^(H+1) (rows), L = 1/2||Yhat - Y||^2, p = min widths. (6a) every local minimum is "
               "global with L* = 1/2(||Y||^2 - sum_{j<=min(p,d_y)} lambda_j(Sigma)); (6b) every other critical point "
               "(Baldi-Hornik points) is a saddle with a negative Hessian eigenvalue; (6c) W=0 is a saddle: for H=1 "
               "lambda_min = -sigma_1(X^T Y); for H>=2 the Hessian vanishes and a degree-(H+1) direction descends."),
    hypotheses=("activation linear, no biases", "X^T X and X^T Y full rank (cond(X^T X) <= 1e6)", "d_y <= d_x",
                "Sigma = Y^T P_X Y has distinct eigenvalues (relative gap >= 1e-3)"),
    negative_controls=("YSJ spurious minimum of a leaky-ReLU net (certified, loss = affine LS > trained loss)",
                       "Safran-Shamir spurious minima of the ReLU population loss (k = d = 8, pinned seeds)",
                       "naive certificate 'grad 0 and Hessian PSD' accepts the W=0 saddle of a 3-factor linear net"),
    run=run,
    sub_claims=("6a", "6b", "6c"),
)
