"""claim3 — No worse than a fixed-basis (kernel) model.

Source: K. Kawaguchi, J. Huang, L. P. Kaelbling, Neural Computation 31(7), 2019 (arXiv:1811.08150), abstract
("corresponding classical machine learning models"); the kernel variants and the ridge form of claim3a are the
project's extensions, proved in CLAIMS.md (claim3).

Phi: R^{d_x} -> R^p is a fixed feature map (polynomial of degree <= q, random Fourier, Nystrom with RBF kernel;
baselines.features). L_Phi(lam) = min_R 1/2 ||Phi(X) R - Y||^2 + lam/2 ||R||^2 (baselines.least_squares, closed form
+ cvxpy).
- claim3a (feature skip). Yhat = f(X; theta) + Phi(X) R, f with a linear output layer a (bias row included),
  L = 1/2 ||Yhat - Y||^2 + lam/2 ||R||^2 + mu/2 ||a||^2. At every differentiable critical point, L <= L_Phi(lam).
  Check: scaling a by t gives the convex quadratic q(t, R) = 1/2||t f + Phi R - Y||^2 + mu/2 t^2||a||^2 + lam/2||R||^2
  with L = q(1, R) and min_R q(0, R) = L_Phi(lam); q(1, R) - min q = 1/2 g^T Q^+ g exactly (Q the constant Hessian,
  g = (<grad_a L, a>, grad_R L) from the certificate), so
      L <= L_Phi(lam) + 1/2 g^T Q^+ g + tau_fp + slack_solver.
- claim3b (feature input). The net takes Phi(X) as input with an S1/S2 path: claim2 with X -> Phi(X), checked by
  claim2's own check function (L_OLS on [Phi, 1] <= L_Phi(0)).
- claim3c (own last-layer features). At a local minimum (C-min), L = LS(h~^(H)) = min_R 1/2||h~^(H) R - Y||^2:
      LS(h~) - tau_fp <= L <= LS(h~) + 1/2 (||grad_{W^(H+1)} L|| / sigma_min^+(h~))^2 + tau_fp
  (Lemma P with J = I (x) h~; the lower side holds everywhere because Yhat in col(h~): a lower L means the
  baseline is wrong).
Like with like: a check refuses a baseline computed with a different lam than the instance's (ValueError).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from math import comb

import numpy as np
import torch

from claims import claim2_ols as c2
from minimacheck import tolerance
from minimacheck.ledger import Record
from minimacheck.legacy import Claim, RunConfig
from networks import MLP, numerical_rank, squared_loss

CLAIM_ID = "claim3"
PHI_TYPES = ("poly", "rff", "nystrom")
LAMS = (0.0, 1e-3, 1e-2, 1e-1, 1.0)
MUS = (0.0, 1e-2, 1e-1)
ACTIVATIONS = ("tanh", "softplus", "sigmoid", "leaky_relu", "abs", "relu")
# Activation families for the draws. mu > 0 only with BOUNDED activations: for a positively homogeneous sigma the
# rescaling (W -> cW, a -> a/c) lowers mu/2||a||^2 at constant fit, so there is no finite critical point with f != const
# and the trainer runs off to infinity (measured); such draws would only add uncertified instances.
FAMILIES = {"bounded": ("tanh", "sigmoid"), "pl": ("leaky_relu", "abs", "relu"), "linear": ("linear",)}
GAMMA = 0.5  # RBF width for random Fourier and Nystrom features
TRAIN_ITERS = 300


# ======================================================================== instances
@dataclass(frozen=True)
class Params:
    variant: str  # '3a' | '3b' | '3c'
    phi: str = "poly"  # feature map type (3a, 3b)
    regime: str = "lt"  # 'lt': p < m (a non-trivial baseline); 'ge': p >= m (interpolation)
    m: int = 14
    d_x: int = 2
    d_y: int = 1
    degree: int = 2
    lam: float = 0.0
    mu: float = 0.0
    widths: tuple = (3,)
    activation: str = "tanh"
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        if self.variant not in ("3a", "3b", "3c"):
            raise ValueError(f"unknown claim3 variant {self.variant!r}; use '3a', '3b' or '3c'")
        if self.phi not in PHI_TYPES:
            raise ValueError(f"unknown feature map {self.phi!r}; use one of {PHI_TYPES}")
        if self.regime not in ("lt", "ge"):
            raise ValueError(f"regime must be 'lt' (p < m) or 'ge' (p >= m), got {self.regime!r}")
        if not (self.lam >= 0 and self.mu >= 0 and math.isfinite(self.lam) and math.isfinite(self.mu)):
            raise ValueError(f"lam and mu must be finite and >= 0, got lam={self.lam}, mu={self.mu}")
        if self.m < 3 or self.d_x < 1 or self.d_y < 1 or not self.widths or self.degree < 1:
            raise ValueError(f"need m >= 3, d_x >= 1, d_y >= 1, degree >= 1 and a hidden layer, got {self}")


@dataclass
class Instance:
    params: Params
    X: np.ndarray
    Y: np.ndarray
    Phi: np.ndarray
    model: MLP
    theta0: torch.Tensor
    label: str
    tight: bool = False  # Yhat in col(Phi) for every theta and no regularizer: L >= L_Phi(0) too


def features(kind: str, X: np.ndarray, *, degree: int = 2, p: int | None = None, seed: int = 0,
             landmarks: np.ndarray | None = None) -> np.ndarray:
    from baselines.features import nystrom_features, polynomial_features, random_fourier_features

    if kind == "poly":
        return polynomial_features(X, degree)
    if kind == "rff":
        return random_fourier_features(X, int(p), GAMMA, int(seed))
    if kind == "nystrom":
        return nystrom_features(X, X if landmarks is None else landmarks, GAMMA)
    raise ValueError(f"unknown feature map {kind!r}")


def poly_degree_for(d_x: int, degree: int, regime: str) -> int:
    """In the p >= m regime polynomial maps need enough columns for m >= 6 samples."""
    while regime == "ge" and comb(d_x + degree, degree) < 6:
        degree += 1
    return degree


def make_features(p: Params, X: np.ndarray) -> np.ndarray:
    """Phi(X) with p < m ('lt') or p >= m ('ge') columns."""
    m = X.shape[0]
    if p.phi == "poly":
        return features("poly", X, degree=p.degree)
    if p.phi == "rff":
        n = max(1, m // 2) if p.regime == "lt" else m + 2
        return features("rff", X, p=n, seed=p.seed)
    # Nystrom: landmarks = all training inputs gives Phi Phi^T = K on the data (exact kernel ridge)
    return features("nystrom", X, landmarks=X if p.regime == "ge" else X[: max(1, m // 2)])


def sample_count(p: Params) -> int:
    """m as drawn, adjusted to the regime for polynomial maps (whose p is fixed by d_x and the degree)."""
    if p.phi != "poly":
        return p.m
    n_feat = comb(p.d_x + p.degree, p.degree)
    return max(p.m, n_feat + 2) if p.regime == "lt" else min(max(6, p.m), n_feat)


def make_data(p: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = sample_count(p)
    rng = np.random.default_rng([p.seed, 3])
    X = rng.standard_normal((m, p.d_x))
    W = rng.standard_normal((p.d_x, 3))
    Y = np.sin(X @ W) @ rng.standard_normal((3, p.d_y)) + X @ rng.standard_normal((p.d_x, p.d_y))
    Y = Y + 0.3 * rng.standard_normal((m, p.d_y))
    return X, Y, make_features(p, X)


def build_instance(p: Params) -> Instance:
    """3a: MLP on X with a trainable skip on S = Phi(X); 3c: MLP on X (no skip). (3b goes through claim2.)"""
    if p.phi == "poly":
        p = replace(p, degree=poly_degree_for(p.d_x, p.degree, p.regime))
    X, Y, Phi = make_data(p)
    skip = Phi.shape[1] if p.variant == "3a" else 0
    model = MLP(p.d_x, p.widths, p.d_y, activation=p.activation, skip_dim=skip)
    tight = p.variant == "3a" and p.activation == "linear" and p.phi == "poly" and p.lam == 0 and p.mu == 0
    label = (f"{p.variant}-{p.phi}-{p.regime}-m{X.shape[0]}-p{Phi.shape[1]}-lam{p.lam:g}-mu{p.mu:g}-{p.activation}"
             f"-w{p.widths}-dy{p.d_y}-s{p.seed}")
    return Instance(p, X, Y, Phi, model, model.init(p.seed), label, tight)


def make_params(variant: str, family: str, *, phi: str = "poly", regime: str = "lt", m: int = 12, d_x: int = 2,
                d_y: int = 1, degree: int = 2, lam: float = 0.0, mu_choice: int = 0, width: int = 2, depth: int = 1,
                act_choice: int = 0, over: bool = False, seed: int = 0) -> Params:
    """Map drawn integers to an instance (shared by report mode and the Hypothesis strategies).

    3c ignores phi/lam/mu: over=True draws a small data set (m in [6, 11], wider layers), else m in [20, 30]."""
    acts = FAMILIES[family]
    act = acts[act_choice % len(acts)]
    mu = (0.01, 0.1)[mu_choice % 2] if family == "bounded" else 0.0
    if variant == "3c":
        m = 6 + m % 6 if over else 20 + m % 11
        width = width + 2 if over else width
        return Params("3c", "rff", "lt", m, d_x, d_y, 2, 0.0, 0.0, (width,) * depth, act, seed)
    return Params(variant, phi, regime, m, d_x, d_y, degree, lam, mu, (width,) * depth, act, seed)


def draw_params(rng: np.random.Generator, variant: str) -> Params:
    fam = str(rng.choice(tuple(FAMILIES) if variant == "3a" else ("bounded", "pl")))
    return make_params(variant, fam, phi=str(rng.choice(PHI_TYPES)), regime=str(rng.choice(("lt", "ge"))),
                       m=int(rng.integers(8, 21)), d_x=int(rng.integers(1, 4)), d_y=int(rng.integers(1, 3)),
                       degree=int(rng.integers(1, 4)), lam=float(rng.choice(LAMS)), mu_choice=int(rng.integers(0, 2)),
                       width=int(rng.integers(1, 4)), depth=1 if variant != "3c" else int(rng.integers(1, 3)),
                       act_choice=int(rng.integers(0, 3)), over=bool(rng.integers(0, 2)), seed=int(rng.integers(0, 2**31)))


# ======================================================================== baselines
def phi_baseline(Phi: np.ndarray, Y: np.ndarray, lam: float, **kw):
    from baselines.least_squares import least_squares

    return least_squares(Phi, Y, lam, **kw)


@dataclass(frozen=True)
class Baseline:
    """A baseline certificate together with the lam it was computed for (like with like)."""

    cert: object
    lam: float


# ======================================================================== claim3a
def objective(inst: Instance):
    """L = 1/2||Yhat - Y||^2 + lam/2||R||^2 + mu/2||a||^2 (squared_loss's l2 with index tensors for R and a)."""
    idx, ridx = c2.param_index(inst.model)
    p = inst.params
    l2 = {}
    if p.variant == "3a" and p.lam > 0:
        l2[torch.as_tensor(ridx.ravel())] = p.lam
    if p.variant == "3a" and p.mu > 0:
        l2[torch.as_tensor(idx[-1].ravel())] = p.mu
    S = inst.Phi if p.variant == "3a" else None
    return squared_loss(inst.model, inst.X, inst.Y, skip_input=S, l2=l2 or None)


Trained = c2.Trained  # one training record type for claims 2 and 3


def train(inst: Instance, *, need_second_order: bool, time_budget: float = 5.0, max_iter: int = TRAIN_ITERS) -> Trained:
    """claim2's train-and-certify on this instance's objective (feature skip, l2 penalties)."""
    return c2.train(inst, obj=objective(inst), need_second_order=need_second_order, time_budget=time_budget,
                    max_iter=max_iter)


def quadratic_slack(tr: Trained) -> tuple[float, dict]:
    """1/2 g^T Q^+ g for q(t, R) at (1, R). vec R is row-major, as theta stores R."""
    inst, model, theta = tr.inst, tr.inst.model, tr.theta
    p = inst.params
    idx, ridx = c2.param_index(model)
    grad = tr.obj.grad(theta).detach().numpy()
    th = theta.detach().numpy()
    a_idx, r_idx = idx[-1].ravel(), ridx.ravel()
    a, R = th[a_idx], th[r_idx].reshape(inst.Phi.shape[1], p.d_y)
    Yhat = model.forward(theta, torch.as_tensor(inst.X), torch.as_tensor(inst.Phi)).detach().numpy()
    f = Yhat - inst.Phi @ R
    g = np.concatenate([[grad[a_idx] @ a], grad[r_idx]])
    n = 1 + r_idx.size
    Q = np.empty((n, n))
    Q[0, 0] = float(np.sum(f * f)) + p.mu * float(a @ a)
    Q[0, 1:] = Q[1:, 0] = (inst.Phi.T @ f).ravel()
    Q[1:, 1:] = np.kron(inst.Phi.T @ inst.Phi, np.eye(p.d_y)) + p.lam * np.eye(n - 1)
    w, V = np.linalg.eigh(Q)
    keep = w > n * np.finfo(float).eps * w[-1]  # the handbook's numerical-rank threshold
    gV = V.T @ g
    slack = 0.5 * float(np.sum(gV[keep] ** 2 / w[keep]))
    # g lies in range(Q) exactly (q is bounded below); what rounding leaves outside is reported, and an
    # out-of-range part above rounding makes the bound unusable (infinite slack)
    out = float(np.linalg.norm(gV[~keep]))
    if out > 1e-8 * (1 + float(np.linalg.norm(g))):
        slack = math.inf
    return slack, dict(g_t=float(g[0]), g_R=float(np.linalg.norm(g[1:])), Q_rank=int(keep.sum()), g_out_of_range=out,
                       data_term=0.5 * float(np.sum((Yhat - inst.Y) ** 2)))


def _refused(e) -> str:
    return f"baseline refused: {type(e).__name__}: {e}"


def check_feature_skip(inst: Instance, *, tr: Trained | None = None, baseline: Baseline | None = None,
                       verify_baseline: bool = True, kind: str = "positive", check_name: str | None = None,
                       time_budget: float = 5.0, max_iter: int = TRAIN_ITERS) -> Record:
    """claim3a on one instance: C-crit, then L <= L_Phi(lam) + 1/2 g^T Q^+ g + tau_fp + slack_solver."""
    from baselines.certificate import BaselineError
    from baselines.least_squares import verify

    p = inst.params
    if p.variant != "3a":
        raise ValueError(f"check_feature_skip needs a 3a instance, got variant {p.variant!r}")
    if baseline is not None and baseline.lam != p.lam:
        raise ValueError(f"like with like: the baseline was computed with lam={baseline.lam:g} but the instance "
                         f"regularizes R with lam={p.lam:g}; compare L with L_Phi(lam) for the same lam")
    tr = tr or train(inst, need_second_order=False, time_budget=time_budget, max_iter=max_iter)
    cert = tr.cert
    extra = dict(instance=inst.label, verdict=cert.verdict.value, loss=cert.loss, grad_norm=cert.grad_norm,
                 margin=cert.margin, seconds=round(tr.seconds, 3), p=int(inst.Phi.shape[1]), m=int(inst.X.shape[0]),
                 lam=p.lam, mu=p.mu, tight=inst.tight)
    name = check_name or f"3a-feature-skip-{p.phi}"

    def rec(**kw):
        return Record(claim=CLAIM_ID, check=name, kind=kind, extra=extra, **kw)

    if not cert.critical:
        return rec(certified=False, reason=f"uncertified: {cert.verdict.value}: {cert.reason}")
    slack, sx = quadratic_slack(tr)
    extra.update(sx)
    if baseline is None:
        try:
            b = phi_baseline(inst.Phi, inst.Y, p.lam)
        except BaselineError as e:  # no certified baseline for this instance: counted, never passed
            return rec(certified=False, reason=f"baseline uncertified: {e}")
    else:
        b = baseline.cert
    if verify_baseline:
        try:
            verify(b, inst.Phi, inst.Y, p.lam)
        except BaselineError as e:  # a supplied certificate that does not verify fails the check
            return rec(certified=True, passed=False, reason=_refused(e))
    L_phi, L = float(b.value), cert.loss
    tol = tolerance.tau_fp(L_phi) + slack + float(b.slack_solver)
    gap = L - L_phi
    extra.update(L_phi=L_phi, slack_cert=slack, slack_solver=float(b.slack_solver))
    passed = gap <= tol
    why = f"L={L:.6g} vs L_Phi({p.lam:g})={L_phi:.6g}, slack={slack:.2e}"
    if inst.tight and gap < -tolerance.tau_fp(L_phi):
        # Yhat in col(Phi) and no regularizer: no theta can go below L_Phi(0), so the baseline is wrong
        passed = False
        why = f"net beat the global baseline by {-gap:.3g} > tau_fp: baseline wrong; " + why
    if inst.tight:
        gap = abs(gap)
    return rec(certified=True, passed=bool(passed), gap=gap, tol=tol, reason=why if passed else f"VIOLATED: {why}")


# ======================================================================== claim3b (claim2 with X -> Phi(X))
def feature_input_instance(p: Params, structure: str = "S2") -> c2.Instance:
    if p.phi == "poly":
        p = replace(p, degree=poly_degree_for(p.d_x, p.degree, p.regime))
    X, Y, Phi = make_data(p)
    act = p.activation
    if structure == "S1" and act not in c2.PL_ACTIVATIONS:
        raise ValueError(f"S1 needs a piecewise-linear activation, got {act!r}")
    q = c2.Params(structure, m=X.shape[0], d_x=Phi.shape[1], d_y=1, widths=p.widths, activation=act, seed=p.seed)
    return c2.build_instance(q, X=Phi, Y=Y[:, :1], label=f"3b-{structure}-{p.phi}-{p.regime}-m{X.shape[0]}-p{Phi.shape[1]}-{act}-w{p.widths}-s{p.seed}")


def check_feature_input(p: Params, structure: str = "S2", time_budget: float = 5.0, max_iter: int = TRAIN_ITERS) -> Record:
    """claim3b = claim2's check on the feature-input net (reused, not copied)."""
    return c2.check(feature_input_instance(p, structure), claim=CLAIM_ID, check_name=f"3b-feature-input-{structure}",
                    time_budget=time_budget, max_iter=max_iter)


# ======================================================================== claim3c
def check_own_features(inst: Instance, *, time_budget: float = 5.0, max_iter: int = TRAIN_ITERS, kind: str = "positive") -> Record:
    """claim3c: at a C-min point, LS(h~) - tau_fp <= L <= LS(h~) + 1/2(||grad_{W^(H+1)} L|| / sigma_min^+(h~))^2 + tau_fp."""
    from baselines.certificate import BaselineError

    p = inst.params
    if p.variant != "3c":
        raise ValueError(f"check_own_features needs a 3c instance, got variant {p.variant!r}")
    tr = train(inst, need_second_order=True, time_budget=time_budget, max_iter=max_iter)
    cert = tr.cert
    extra = dict(instance=inst.label, verdict=cert.verdict.value, loss=cert.loss, grad_norm=cert.grad_norm,
                 strength=cert.strength, margin=cert.margin, seconds=round(tr.seconds, 3))

    def rec(**kw):
        return Record(claim=CLAIM_ID, check="3c-own-last-layer", kind=kind, extra=extra, **kw)

    if not cert.certified:
        return rec(certified=False, reason=f"uncertified: {cert.verdict.value}: {cert.reason}")
    _, _, hs = inst.model.layers(tr.theta, torch.as_tensor(inst.X))
    h = hs[-1].detach().numpy()
    ht = np.hstack([h, np.ones((h.shape[0], 1))])
    idx, _ = c2.param_index(inst.model)
    grad = tr.obj.grad(tr.theta).detach().numpy()
    g_out = float(np.linalg.norm(grad[idx[-1].ravel()]))
    rank, smin, gap_rank = numerical_rank(ht)
    if gap_rank < c2.RANK_GAP:
        return rec(certified=False, reason=f"outside hypotheses: gapless numerical rank of h~ (gap {gap_rank:.3g})")
    try:
        b = phi_baseline(ht, inst.Y, 0.0)
    except BaselineError as e:  # no certified baseline for this instance: counted, never passed
        return rec(certified=False, reason=f"baseline uncertified: {e}")
    LS, L = float(b.value), cert.loss
    slack = tolerance.lemma_p_slack(g_out, smin)
    tol = tolerance.tau_fp(LS) + slack + float(b.slack_solver)
    gap = L - LS
    extra.update(LS=LS, slack_cert=slack, h_rank=rank, h_sigma_min_plus=smin)
    lower_ok = gap >= -tolerance.tau_fp(LS)
    passed = bool(lower_ok and gap <= tol)
    why = f"L={L:.6g} vs LS(h~)={LS:.6g}, slack={slack:.2e}" + ("" if lower_ok else "; net below LS(h~): baseline wrong")
    return rec(certified=True, passed=passed, gap=abs(gap), tol=tol, reason=why if passed else f"VIOLATED: {why}")


def check(p: Params, time_budget: float = 5.0, max_iter: int = TRAIN_ITERS) -> Record:
    """One positive instance of the drawn variant (3b: an S1 path for PL activations on odd seeds, else S2)."""
    if p.variant == "3a":
        return check_feature_skip(build_instance(p), time_budget=time_budget, max_iter=max_iter)
    if p.variant == "3b":
        structure = "S1" if p.activation in c2.PL_ACTIVATIONS and p.seed % 2 else "S2"
        return check_feature_input(replace(p, d_y=1), structure, time_budget=time_budget, max_iter=max_iter)
    return check_own_features(build_instance(p), time_budget=time_budget, max_iter=max_iter)


# ======================================================================== tight case, planted optimum
TIGHT = Params("3a", "poly", "lt", m=20, d_x=2, d_y=2, degree=2, lam=0.0, mu=0.0, widths=(2,), activation="linear", seed=4)


def planted_instance(p: Params = TIGHT) -> tuple[Instance, float]:
    """Y = Phi R* + E with Phi^T E = 0 (E projected off col(Phi)), lam = 0: L_Phi(0) = 1/2||E||^2 exactly."""
    if p.lam != 0:
        raise ValueError("the planted optimum needs lam = 0")
    inst = build_instance(p)
    rng = np.random.default_rng([p.seed, 9])
    Phi = inst.Phi
    E = rng.standard_normal(inst.Y.shape)
    Qb, _ = np.linalg.qr(Phi)
    E = E - Qb @ (Qb.T @ E)
    Y = Phi @ rng.standard_normal((Phi.shape[1], p.d_y)) + E
    inst = replace(inst, Y=Y, label=inst.label + "-planted")
    return inst, 0.5 * float(np.sum(E * E))


def control_planted(p: Params = TIGHT) -> Record:
    """The baseline must return 1/2||E||^2 (within tau_fp) and the tight net must reach it (within tau)."""
    inst, val = planted_instance(p)
    b = phi_baseline(inst.Phi, inst.Y, 0.0)
    r = check_feature_skip(inst, check_name="control-planted-optimum", kind="negative-control")
    base_ok = abs(float(b.value) - val) <= tolerance.tau_fp(val)
    net_ok = bool(r.certified and r.passed)
    r.extra.update(planted_value=val, baseline_value=float(b.value))
    r.detected = bool(base_ok and net_ok)
    r.reason = f"planted 1/2||E||^2={val:.12g}, baseline {float(b.value):.12g}; {r.reason}"
    return r


# ======================================================================== negative controls
LIKE = Params("3a", "rff", "lt", m=16, d_x=2, d_y=1, lam=1.0, mu=1.0, widths=(1,), activation="tanh", seed=2)


def control_like_with_like(p: Params = LIKE) -> Record:
    """With lam > 0 the DATA term can exceed the unregularized L_Phi(0): comparing it with L_Phi(0) is a mismatch.
    Detected = the check refuses a lam-mismatched baseline (ValueError) AND the mismatched comparison is violated
    at a certified critical point (so a suite that made it would fail)."""
    inst = build_instance(p)
    tr = train(inst, need_second_order=False)
    b0 = phi_baseline(inst.Phi, inst.Y, 0.0)
    refused = False
    try:
        check_feature_skip(inst, tr=tr, baseline=Baseline(b0, 0.0))
    except ValueError:
        refused = True
    good = check_feature_skip(inst, tr=tr)
    data = good.extra.get("data_term", math.nan)
    gap = data - float(b0.value)
    tol = tolerance.tau_fp(float(b0.value))
    mismatch_violated = bool(tr.cert.critical and gap > tol)
    return Record(CLAIM_ID, "control-like-with-like", kind="negative-control", certified=tr.cert.critical,
                  gap=gap, tol=tol, detected=bool(refused and mismatch_violated and good.passed),
                  reason=f"mismatched baseline refused={refused}; data term {data:.6g} vs L_Phi(0)={float(b0.value):.6g}; "
                         f"matched check passed={good.passed}",
                  extra=dict(instance=inst.label, data_term=data, L_phi0=float(b0.value), matched=good.reason))


def missing_path_instance(m: int, d_x: int, widths: tuple, activation: str, phi: str, seed: int, lam: float = 0.0) -> Instance:
    """A net WITHOUT the feature skip (the feature path missing), compared with L_Phi(lam) of a rich Phi."""
    p = Params("3c", phi, "lt", m=m, d_x=d_x, d_y=1, degree=3, lam=lam, widths=widths, activation=activation, seed=seed)
    return build_instance(p)


# A known violation (measured: certified minimum, L = 1.0305 > L_Phi(0)): width-1 sigmoid net, degree-3 polynomials.
MISSING_PINNED = dict(m=19, d_x=2, widths=(1,), activation="sigmoid", phi="poly", seed=467)


def control_missing_path(inst: Instance, time_budget: float = 3.0, max_iter: int = TRAIN_ITERS) -> Record:
    """Expected violation: a certified local minimum without the feature path with L > L_Phi(lam) + tau."""
    tr = train(inst, need_second_order=True, time_budget=time_budget, max_iter=max_iter)
    b = phi_baseline(inst.Phi, inst.Y, inst.params.lam)
    L_phi = float(b.value)
    tol = tolerance.tau_fp(L_phi) + float(b.slack_solver)
    gap = tr.cert.loss - L_phi
    return Record(CLAIM_ID, "control-missing-feature-path", kind="negative-control", certified=tr.cert.certified, gap=gap,
                  tol=tol, detected=bool(tr.cert.certified and gap > tol),
                  reason=f"{inst.label}: {tr.cert.summary()}; L - L_Phi = {gap:.4g}", extra=dict(instance=inst.label))


def search_summary(records: list[Record]) -> Record:
    r = c2.search_summary(records, "control-missing-feature-path-search")
    r.claim = CLAIM_ID
    return r


def sabotaged_baselines(inst: Instance) -> dict:
    """Wrong certificates for the instance's problem: truncated lstsq, wrong lam, cvxpy max_iters=2 (a callable,
    since that one must raise inside the baseline)."""
    from baselines.least_squares import objective as ls_objective

    p = inst.params
    good = phi_baseline(inst.Phi, inst.Y, p.lam)
    k = max(1, inst.Phi.shape[1] // 2)
    Rt = np.zeros_like(np.asarray(good.solution).reshape(inst.Phi.shape[1], -1))
    Rt[:k] = np.linalg.lstsq(inst.Phi[:, :k], inst.Y, rcond=None)[0]
    truncated = replace(good, solution=Rt, value=ls_objective(inst.Phi, inst.Y, p.lam, Rt), method="sabotage: truncated lstsq")
    wrong_lam = phi_baseline(inst.Phi, inst.Y, p.lam + 0.1)
    return {
        "truncated-lstsq": lambda: Baseline(truncated, p.lam),
        "wrong-lam": lambda: Baseline(wrong_lam, p.lam),  # mislabelled: claims to be for p.lam
        "cvxpy-max-iters-2": lambda: Baseline(phi_baseline(inst.Phi, inst.Y, p.lam, solver_opts={"max_iters": 2}), p.lam),
        "cvxpy-scs-max-iters-2": lambda: Baseline(cvxpy_only_baseline(inst.Phi, inst.Y, p.lam, "SCS", {"max_iters": 2}), p.lam),
    }


def cvxpy_only_baseline(Phi, Y, lam, solver: str, solver_opts: dict):
    """A cvxpy-only least-squares certificate through the baselines' pinned entry point (solve_cvxpy: status OPTIMAL
    or BaselineError), objective recomputed in numpy: the max_iters sabotage with a first-order solver (SCS), in
    addition to the baselines' own Clarabel path."""
    import cvxpy as cp

    from baselines.certificate import BaselineCertificate, cvxpy_slack, solve_cvxpy
    from baselines.least_squares import objective as ls_objective

    R = cp.Variable((Phi.shape[1], Y.shape[1]))
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(Phi @ R - Y) + 0.5 * lam * cp.sum_squares(R)))
    used = solve_cvxpy(prob, f"sabotaged cvxpy least squares ({solver}, {solver_opts})", solver=solver, solver_opts=solver_opts)
    Rv = np.asarray(R.value, dtype=np.float64)
    value = ls_objective(Phi, Y, lam, Rv)
    return BaselineCertificate(value=value, solution=Rv, method=f"cvxpy only ({used}, {solver_opts})", closed_form_value=None,
                               cvxpy_value=value, status=prob.status, solver=used, kkt_residual=None, agreement=None,
                               slack_solver=cvxpy_slack(value))


def sabotage_baseline(which: str, p: Params = TIGHT, *, verify_baseline: bool = True) -> Record:
    """Detected = the baseline is refused (BaselineError at construction or verification) or the tight case breaks."""
    from baselines.certificate import BaselineError

    inst = build_instance(p)
    make = sabotaged_baselines(inst)[which]
    try:
        b = make()
    except BaselineError as e:
        return Record(CLAIM_ID, f"sabotage-{which}", kind="sabotage", detected=True, reason=_refused(e))
    r = check_feature_skip(inst, baseline=b, verify_baseline=verify_baseline, check_name=f"sabotage-{which}")
    return Record(CLAIM_ID, f"sabotage-{which}" + ("" if verify_baseline else "-unverified"), kind="sabotage",
                  certified=r.certified, gap=r.gap, tol=r.tol, detected=bool(r.certified and r.passed is False),
                  reason=r.reason, extra=r.extra)


# ======================================================================== report mode
def run(cfg: RunConfig) -> list[Record]:
    rng = cfg.rng(3)
    out = []
    for i in range(cfg.n_instances):
        out.append(check(draw_params(rng, ("3a", "3b", "3c")[i % 3]), time_budget=cfg.time_budget))
    out.append(check_feature_skip(build_instance(TIGHT), check_name="3a-tight-linear-poly"))
    out.append(control_planted())
    out.append(control_like_with_like())
    draws = [control_missing_path(missing_path_instance(**MISSING_PINNED))]
    draws += [control_missing_path(missing_path_instance(int(rng.integers(12, 21)), 2, (1,), str(rng.choice(("tanh", "leaky_relu"))),
                                                         str(rng.choice(PHI_TYPES)), int(rng.integers(0, 2**31))))
              for _ in range(2)]
    out.append(search_summary(draws))
    for which in ("truncated-lstsq", "wrong-lam", "cvxpy-max-iters-2", "cvxpy-scs-max-iters-2"):
        out.append(sabotage_baseline(which))
    return out


CLAIM = Claim(
    id=CLAIM_ID,
    title="No worse than a fixed-basis (kernel) model",
    source="Kawaguchi, Huang, Kaelbling, Neural Computation 31(7) 2019, arXiv:1811.08150 (kernel/ridge forms: project's)",
    statement=(
        "3a: with a feature skip Phi(X)R and L = 1/2||Yhat-Y||^2 + lam/2||R||^2 + mu/2||a||^2, every differentiable "
        "critical point has L <= L_Phi(lam) = min_R 1/2||Phi R - Y||^2 + lam/2||R||^2. 3b: a net on Phi(X) with an "
        "S1/S2 path obeys claim2 with X -> Phi(X). 3c: at a local minimum L = min_R 1/2||h^(H) R - Y||^2."
    ),
    hypotheses=(
        "fixed feature maps: polynomial (degree <= q), random Fourier, Nystrom (RBF, gamma = 0.5); p < m and p >= m",
        "lam in {0, 1e-3 .. 1}; the baseline uses the SAME lam (like with like)",
        "C-crit for 3a and 3b (3b also |g| >= g_min); C-min for 3c",
        "squared loss without 1/m; linear output layer with a bias",
    ),
    negative_controls=(
        "like with like: lam > 0 data term vs unregularized L_Phi(0) is refused and violated",
        "missing feature path: expected-violation search (certified minima with L > L_Phi)",
        "sabotaged baselines: truncated lstsq, wrong lam, cvxpy max_iters=2 (refused or a tight case breaks)",
        "planted optimum Y = Phi R* + E, Phi^T E = 0, lam = 0",
    ),
    run=run,
    sub_claims=("claim3a", "claim3b", "claim3c"),
)
