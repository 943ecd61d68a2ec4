"""claim9a — quadratic activations (CLAIMS.md claim9a; Soltanolkotabi, Javanmard, Lee 2019).

Model: f(x) = sum_l v_l (w_l^T x)^2 = <M, x x^T>, M = W^T diag(v) W, v fixed signs (networks.models.QuadraticNet),
L = 1/2 sum_i (f(x_i) - y_i)^2 = g(M), G := sum_i r_i x_i x_i^T = grad g(M).

Claim: mixed signs (k_+ >= d and k_- >= d): every local minimum attains g* = min over symmetric M of g (least squares
in d(d+1)/2 unknowns; 0 when n <= d(d+1)/2, generic X); v = 1 with k >= d: every local minimum attains the SDP value
min over M >= 0 of g.

Certificate-derived bound on G (derived here, the quantitative form of the handbook's proof). With s_+ = sigma_d(W_+)
(the d-th singular value; it exists because k_+ >= d: THE HYPOTHESIS) and eps_H the certificate's Hessian resolution:
- full-rank route: grad_{W_+} L = 2 W_+ G, so ||G||_F <= ||grad_{W_+} L||_F / (2 s_+);
- rank-deficient route: a unit u with ||W_+^T u|| <= s_+ exists (k_+ = d: the singular vector; k_+ > d: a null
  vector); along W_+ + t u z^T, d^2L/dt^2 <= 4 s_+^2 ||z||^2 sum_i ||x_i||^4 + 2 z^T G z and >= -eps_H ||z||^2, so
  lambda_min(G) >= -beta_+, beta_+ = eps_H / 2 + 2 s_+^2 sum_i ||x_i||^4 (likewise lambda_max(G) <= beta_- for W_-);
- always: ||G||_F <= ||r|| sqrt(sum_i ||x_i||^4) (Cauchy-Schwarz).
eps_G = min of the routes that apply (mixed: min(g_+, g_-, sqrt(d) max(beta_+, beta_-), trivial); PSD:
lambda_min(G) >= -min(g_+, beta_+)).

Assertions at a certified local minimum (C-min):
- mixed: g* - tau_fp <= L <= g* + eps_G ||M - M*||_F + tau_fp (Lemma C; M* the closed-form lstsq minimizer);
  zero-loss regime (n <= d(d+1)/2): also g* <= tau_fp (the corollary);
- PSD: value - slack_solver - tau_fp <= L <= value + <G, M> + max(0, -lambda_min(G)) tr-bound + slack_solver + tau_fp
  with <G, M> = 1/2 <grad_W L, W> exactly (convexity of g on the PSD cone; tr-bound from baselines.matrix_ls).
With hypotheses=False the same formulas are evaluated where k_+ < d or k_- < d, taking sigma_d = 0 (no d-th singular
value): then the rank-deficient route claims G ~ 0, which the rank-constrained net (v = (+1, -1)) violates.

Exact vs characterization: every assertion is exact (derived bound + certificate + solver slack). Regimes: mixed
signs with random targets, teacher targets (a random symmetric M plus noise), the zero-loss regime; PSD with random
targets and a planted SDP optimum. All trained from random starts (QuadraticNet.init): certified = C-min.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from unittest import mock

import numpy as np
import torch
from hypothesis import strategies as st

from baselines.matrix_ls import symmetric_ls, unvech, vech_features
from minimacheck.contract import Floor, Part, Sabotage, violation_detected
from minimacheck.tolerance import tau_fp
from networks import Verdict, certify, minimize, squared_loss
from networks.models import QuadraticNet

from .common import record

PART_ID = "claim9a"
STATEMENT = ("f = sum_l v_l (w_l^T x)^2 with fixed signs: with >= d units of each sign every local minimum attains "
             "min over symmetric M of g(M); with v = 1 and k >= d it attains the PSD SDP value.")
SIGNS = ("mixed", "psd", "rank-bound")  # rank-bound: v = (+1, -1), the negative control only
TARGETS = ("random", "teacher", "planted")
TRAIN_ITERS = 400
SLACK_SCALE_BOUND = 1e-2  # a slack above 1e-2 (|g*| + tau_fp) leaves the instance unresolved


@dataclass(frozen=True)
class Params:
    d: int
    n: int
    k_plus: int
    k_minus: int
    seed: int
    signs: str = "mixed"
    target: str = "random"  # random N(0,1) targets; teacher <M_t, x x^T> + noise; planted SDP optimum (psd)

    def validate(self) -> Params:
        if self.signs not in SIGNS:
            raise ValueError(f"claim9a: signs must be one of {SIGNS}, got {self.signs!r}")
        if self.target not in TARGETS:
            raise ValueError(f"claim9a: target must be one of {TARGETS}, got {self.target!r}")
        for name, v in (("d", self.d), ("n", self.n), ("k_plus", self.k_plus)):
            if int(v) != v or v < 1:
                raise ValueError(f"claim9a: {name} must be a positive integer, got {v!r}")
        if self.k_minus < 0 or (self.signs == "psd" and self.k_minus):
            raise ValueError(f"claim9a: k_minus must be >= 0 (0 for psd), got {self.k_minus!r}")
        if self.target == "planted" and (self.signs != "psd" or self.n < self.d * (self.d + 1) // 2):
            raise ValueError("claim9a: the planted SDP optimum needs signs='psd' and n >= d(d+1)/2")
        return self


@dataclass
class Instance:
    params: Params
    net: QuadraticNet
    X: np.ndarray
    y: np.ndarray  # (n,)
    theta: torch.Tensor
    note: str = ""
    planted_value: float | None = None  # the known SDP value of a planted instance

    @property
    def obj(self):
        return squared_loss(self.net, self.X, self.y[:, None])


def regime_of(p: Params) -> str:
    if p.signs == "psd":
        return f"psd/{p.target}-target"
    zero = p.n <= p.d * (p.d + 1) // 2
    return "mixed/zero-loss" if zero else f"mixed/{p.target}-target"


@st.composite
def _params(draw, regime: str | None = None):
    regime = regime or draw(st.sampled_from(sorted(REGIMES)))
    signs, kind = regime.split("/")
    d = draw(st.integers(2, 4))
    vech = d * (d + 1) // 2
    seed = draw(st.integers(0, 2**31 - 1))
    if signs == "psd":
        target = kind.removesuffix("-target")
        n = draw(st.integers(vech, 3 * d * d))
        return Params(d, n, draw(st.integers(d, d + 2)), 0, seed, "psd", target).validate()
    n = draw(st.integers(d + 1, vech)) if kind == "zero-loss" else draw(st.integers(vech + 1, 3 * d * d))
    target = "random" if kind == "zero-loss" else kind.removesuffix("-target")
    return Params(d, n, draw(st.integers(d, d + 1)), draw(st.integers(d, d + 1)), seed, "mixed", target).validate()


def strategy(regime: str | None = None):
    if regime is not None and regime not in REGIMES:
        raise ValueError(f"claim9a: unknown regime {regime!r}; known: {sorted(REGIMES)}")
    return _params(regime)


def make_net(p: Params) -> QuadraticNet:
    return QuadraticNet(p.d, (1.0,) * p.k_plus + (-1.0,) * p.k_minus)


def _targets(p: Params, X: np.ndarray, rng) -> tuple[np.ndarray, str, float | None]:
    if p.target == "random":
        return rng.standard_normal(p.n), "random targets", None
    if p.target == "teacher":
        A = rng.standard_normal((p.d, p.d))
        Mt = 0.5 * (A + A.T)
        return np.einsum("ij,jk,ik->i", X, Mt, X) + 0.1 * rng.standard_normal(p.n), "teacher targets", None
    y, _, value = planted_sdp(X, rng)
    return y, "planted SDP optimum", value


def planted_sdp(X: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray, float]:
    """y with a known PSD optimum: M* >= 0 of rank d-1, G* >= 0 with G* M* = 0 (G* on M*'s null space), r the
    minimum-norm solution of sum_i r_i x_i x_i^T = G*, y = A(M*) - r. KKT of the SDP: M* optimal, value 1/2||r||^2."""
    n, d = X.shape
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    M_star = (Q[:, :-1] * rng.uniform(0.5, 2.0, d - 1)) @ Q[:, :-1].T
    G_star = rng.uniform(0.5, 2.0) * np.outer(Q[:, -1], Q[:, -1])
    j, k = np.triu_indices(d)
    F = (X[:, j] * X[:, k]).T  # vech(x x^T) per sample: rows (j,k), columns i
    r = np.linalg.lstsq(F, G_star[j, k], rcond=None)[0]
    y = np.einsum("ij,jk,ik->i", X, M_star, X) - r
    return y, M_star, 0.5 * float(r @ r)


def build(p: Params, max_iter: int = TRAIN_ITERS) -> Instance:
    """Random data and targets, a random start (QuadraticNet.init), LM + Newton to an iteration limit."""
    p.validate()
    rng = np.random.default_rng(p.seed)
    X = rng.standard_normal((p.n, p.d))
    y, note, value = _targets(p, X, rng)
    net = make_net(p)
    inst = Instance(p, net, X, y, net.init(p.seed + 1), planted_value=value)
    res = minimize(inst.obj, inst.theta, max_iter=max_iter)
    inst.theta, inst.note = res.theta, f"{note}; {res.reason}"
    return inst


# ---------------------------------------------------------------- the bound on G and the check
def _sigma_d(W: np.ndarray, d: int) -> float:
    """The d-th singular value of the k x d block; 0 when k < d (outside the hypotheses: no d-th value)."""
    return float(np.linalg.svd(W, compute_uv=False)[d - 1]) if W.shape[0] >= d else 0.0


def g_bounds(inst: Instance, theta: torch.Tensor, eps_H: float) -> dict:
    """The certificate-derived bounds on G (module docstring): eps_G (Frobenius) and beta_lo (-lambda_min(G) <=)."""
    p, X = inst.params, inst.X
    W = theta.detach().numpy().reshape(-1, p.d)
    grad = inst.obj.grad(theta).detach().numpy().reshape(-1, p.d)
    x4 = float(np.sum(np.sum(X * X, axis=1) ** 2))
    M = inst.net.matrix(theta).detach().numpy()
    r = np.einsum("ij,jk,ik->i", X, M, X) - inst.y
    trivial = float(np.linalg.norm(r)) * math.sqrt(x4)
    routes = {"trivial": trivial}
    blocks = {"+": slice(0, p.k_plus), "-": slice(p.k_plus, p.k_plus + p.k_minus)}
    beta = {}
    for sgn, sl in blocks.items():
        if sl.stop == sl.start:
            continue
        s = _sigma_d(W[sl], p.d)
        routes[f"full-rank{sgn}"] = float(np.linalg.norm(grad[sl])) / (2 * s) if s > 0 else math.inf
        beta[sgn] = eps_H / 2 + 2 * s * s * x4
    if "+" in beta and "-" in beta:
        routes["deficient"] = math.sqrt(p.d) * max(beta.values())
    eps_G = min(routes.values())
    beta_lo = min(beta.get("+", math.inf), routes.get("full-rank+", math.inf), trivial)
    return dict(eps_G=eps_G, beta_lo=beta_lo, routes=routes, M=M, r=r, W=W, grad=grad)


def nearest_minimizer(X: np.ndarray, M: np.ndarray, M_ls: np.ndarray) -> np.ndarray:
    """The minimizer of g nearest (in vech coordinates) to M: the minimizers form M_ls + null(A), so
    m* = m - P_row(F)(m - m_ls). Lemma C holds for any minimizer; the nearest one keeps the slack small where g has
    many minimizers (n < d(d+1)/2)."""
    d = X.shape[1]
    F = vech_features(X)
    j, k = np.triu_indices(d)
    delta = M[j, k] - M_ls[j, k]
    return unvech(M[j, k] - np.linalg.lstsq(F, F @ delta, rcond=None)[0], d)


def baseline(inst: Instance):
    return symmetric_ls(inst.X, inst.y, psd=inst.params.signs == "psd")


def judge(inst: Instance, theta: torch.Tensor, L: float, eps_H: float) -> dict:
    """Both sides of the assertion: returns headroom, slack and the numbers."""
    p = inst.params
    b = g_bounds(inst, theta, eps_H)
    base = baseline(inst)
    gstar = float(base.value)
    tau = tau_fp(gstar)
    G = inst.X.T @ (b["r"][:, None] * inst.X)
    out = dict(L=L, g_star=gstar, eps_G=b["eps_G"], routes=b["routes"], G_fro=float(np.linalg.norm(G)),
               slack_solver=base.slack_solver)
    if p.signs == "psd":
        GM = 0.5 * float(np.sum(b["grad"] * b["W"]))  # <G, W^T W> = 1/2 <grad_W L, W>
        slack = max(GM, 0.0) + b["beta_lo"] * float(base.details["trace_bound"]) + base.slack_solver
        lo = gstar - base.slack_solver - tau
    else:
        slack = b["eps_G"] * float(np.linalg.norm(b["M"] - nearest_minimizer(inst.X, b["M"], base.solution)))
        lo = gstar - tau
    hi = gstar + slack + tau
    h = max((L - gstar) / (slack + tau), (lo - L) / tau)
    if regime_of(p) == "mixed/zero-loss":
        h = max(h, gstar / tau)  # the corollary: the convex value is zero
    if inst.planted_value is not None:  # the SDP value is known in closed form
        out["planted_value"] = inst.planted_value
        h = max(h, abs(gstar - inst.planted_value) / (base.slack_solver + tau))
    out.update(slack=slack, lo=lo, hi=hi, headroom=h)
    return out


def check_at(inst: Instance, theta=None, *, hypotheses: bool = True):
    theta = inst.theta if theta is None else torch.as_tensor(theta, dtype=torch.float64)
    p = inst.params
    cert = certify(inst.obj, theta)
    extra = {"params": asdict(p), "verdict": cert.verdict.value, "strength": cert.strength, "loss": cert.loss,
             "grad_norm": cert.grad_norm, "lambda_min": cert.lambda_min, "note": inst.note}
    rec = dict(regime=regime_of(p))
    if hypotheses and not cert.certified:
        return record(PART_ID, "claim9a-quadratic", **rec, certified=False, extra=extra,
                      reason=f"not certified: {cert.verdict.value}: {cert.reason}")
    short = min(p.k_plus, p.k_minus if p.signs != "psd" else p.k_plus) < p.d
    if hypotheses and short:
        return record(PART_ID, "claim9a-quadratic", **rec, certified=False, extra=extra,
                      reason=f"outside hypotheses: fewer than d={p.d} units of a sign")
    eps_H = cert.hessian_resolution if cert.hessian_resolution is not None else 0.0
    q = judge(inst, theta, cert.loss, eps_H)
    scale = max(abs(cert.loss), abs(q["g_star"])) + tau_fp(q["g_star"])
    extra.update({k: v for k, v in q.items() if k != "routes"}, routes=q["routes"], slack_over_scale=q["slack"] / scale)
    if cert.certified and not (math.isfinite(q["slack"]) and q["slack"] <= SLACK_SCALE_BOUND * scale):
        return record(PART_ID, "claim9a-quadratic", **rec, certified=True, passed=None, extra=extra,
                      reason=f"unresolved: slack {q['slack']:.3g} over {SLACK_SCALE_BOUND:g} x scale {scale:.3g}")
    return record(PART_ID, "claim9a-quadratic", **rec, certified=cert.certified, passed=bool(q["headroom"] <= 1.0),
                  gap=q["headroom"], tol=1.0, extra=extra,
                  reason=f"{cert.verdict.value}; L - g* = {cert.loss - q['g_star']:.3g}, slack {q['slack']:.3g}")


def check(p: Params):
    return check_at(build(p))


# ---------------------------------------------------------------- controls
RANK_BOUND = Params(d=4, n=30, k_plus=1, k_minus=1, seed=0, signs="rank-bound")


def control_rank_bound(part, seed: int = 0) -> object:
    """v = (+1, -1), d = 4, n = 30: M has rank <= 2, the rank constraint binds and the certified minimum stays
    above the convex value (handbook: 9.93 vs 8.93). The check without its hypothesis (k_+- >= d) must fail there,
    at a point the certifier accepts."""
    inst = build(replace(RANK_BOUND, seed=seed))
    rec = part.check_at(inst, hypotheses=False)
    ok = rec.extra["verdict"] == Verdict.CERTIFIED_MINIMUM.value and rec.extra["loss"] > rec.extra["g_star"] + 1e-3
    return violation_detected(replace(rec, check=f"control-rank-bound-{seed}"), ok)


def control_psd_rank_one(part) -> object:
    """v = 1 with k = 1 < d (d = 4, n = 30): a rank-one PSD M cannot reach the SDP value."""
    inst = build(Params(d=4, n=30, k_plus=1, k_minus=0, seed=5, signs="psd"))
    rec = part.check_at(inst, hypotheses=False)
    ok = rec.extra["verdict"] == Verdict.CERTIFIED_MINIMUM.value and rec.extra["loss"] > rec.extra["g_star"] + 1e-3
    return violation_detected(replace(rec, check="control-psd-rank-one"), ok)


CONTROLS = {"rank-bound": control_rank_bound, "psd-rank-one": control_psd_rank_one}


# ---------------------------------------------------------------- sabotages
def _baseline_low(inst):
    cert = _baseline(inst)
    return replace(cert, value=0.99 * cert.value)


def _planted_low(X, rng):
    y, M_star, value = _planted_sdp(X, rng)
    return y, M_star, 0.99 * value


_baseline, _planted_sdp = baseline, planted_sdp
PINNED = {
    "mixed-handbook-size": Params(d=4, n=30, k_plus=4, k_minus=4, seed=1),
    "zero-loss-corollary": Params(d=4, n=10, k_plus=4, k_minus=4, seed=2),
    "planted-sdp-optimum": Params(d=3, n=12, k_plus=3, k_minus=0, seed=3, signs="psd", target="planted"),
    "psd-handbook-size": Params(d=4, n=30, k_plus=4, k_minus=0, seed=4, signs="psd"),
}
SABOTAGES = {
    "baseline-one-percent-low": Sabotage(
        inject=lambda: mock.patch(f"{__name__}.baseline", _baseline_low),
        run=lambda part: [part.check(PINNED["mixed-handbook-size"])],
        description="the convex value 1% low: the net's certified minimum lies above value + slack"),
    "sdp-baseline-one-percent-low": Sabotage(
        inject=lambda: mock.patch(f"{__name__}.baseline", _baseline_low),
        run=lambda part: [part.check(PINNED["psd-handbook-size"])],
        description="the SDP value 1% low: the net's certified PSD minimum lies above value + slack"),
    "planted-value-one-percent-low": Sabotage(
        inject=lambda: mock.patch(f"{__name__}.planted_sdp", _planted_low),
        run=lambda part: [part.check(PINNED["planted-sdp-optimum"])],
        description="the planted optimum's known value 1% low: the SDP solver disagrees with it"),
}

# measured 2026-11-29 on the fixed draw (seed 0); the planted miss is a SADDLE verdict (lambda_min -3.2e-8 at d = 2)
REGIMES = {
    "mixed/random-target": Floor(0.66, 3, "3/3"),
    "mixed/teacher-target": Floor(0.66, 3, "3/3"),
    "mixed/zero-loss": Floor(0.66, 3, "3/3"),
    "psd/random-target": Floor(0.66, 3, "3/3"),
    "psd/planted-target": Floor(0.5, 3, "2/3"),
}

PART = Part(id=PART_ID, statement=STATEMENT, strategy=strategy, check=check, check_at=check_at, regime_of=regime_of,
            regimes=REGIMES, pinned=PINNED, controls=CONTROLS, sabotages=SABOTAGES)
