"""claim3 — No worse than a fixed-basis (kernel) model (CLAIMS.md, claim3).

Source: K. Kawaguchi, J. Huang, L. P. Kaelbling, Neural Computation 31(7), 2019 (arXiv:1811.08150), abstract
("corresponding classical machine learning models"); the kernel variants and the ridge form of claim3a are the
project's extensions, proved in CLAIMS.md (claim3).

Phi: R^{d_x} -> R^p is a fixed feature map (polynomial of degree <= q, random Fourier, Nystrom with RBF kernel;
baselines.features). L_Phi(lam) = min_R 1/2 ||Phi(X) R - Y||^2 + lam/2 ||R||^2 (baselines.least_squares).
- claim3a (feature skip). Yhat = f(X; theta) + Phi(X) R, L = 1/2 ||Yhat - Y||^2 + lam/2 ||R||^2 + mu/2 ||a||^2. At
  every differentiable critical point L <= L_Phi(lam). Check: scaling the output layer a by t gives the convex
  quadratic q(t, R) with L = q(1, R), min_R q(0, R) = L_Phi(lam) and q(1, R) - min q = 1/2 g^T Q^+ g exactly, so
  L <= L_Phi(lam) + 1/2 g^T Q^+ g + tau_fp + slack_solver. A linear net on polynomial features with lam = mu = 0
  has Yhat in col(Phi), so there also L >= L_Phi(0) - tau_fp (a lower L means the baseline is wrong).
- claim3b (feature input). A net on Phi(X) with an S1, S2 or S4 structure: claim2 with X -> Phi(X), checked by the
  shared structured comparison (claims/structures.py): L <= L_OLS([Phi, 1]) + slack (and L_OLS([Phi, 1]) <= L_Phi(0)).
- claim3c (own last-layer features). At a local minimum (C-min), with h~ = [h^(H), 1]:
  LS(h~) - tau_fp <= L <= LS(h~) + 1/2 (||grad_{W^(H+1)} L|| / sigma_min^+(h~))^2 + tau_fp.
Unresolved (structures.SLACK_SCALE_BOUND): a certified instance whose slack is non-finite or above
1e-2 (max(L, L_baseline) + tau_fp) is reported with passed=None, never passed (all three parts).
Targets: 'teacher' (a fixed smooth teacher function + noise) or 'random' (N(0, 1), unrelated to any function);
starts are random initializations (3b adds the structure's path construction). Training: iteration limits only.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass, replace
from math import comb
from unittest import mock

import numpy as np
import torch
from hypothesis import strategies as st

from claims import structures as S
from claims.structures import no_worse
from minimacheck import tolerance
from minimacheck.contract import Claim, Evidence, Floor, Part, Sabotage, violation_detected
from minimacheck.ledger import Record
from networks import MLP, Verdict, certify, numerical_rank, squared_loss

CLAIM_ID = "claim3"
PHI_TYPES = ("poly", "rff", "nystrom")
SIZES = ("lt", "ge")  # p < m (a non-trivial baseline) or p >= m (interpolation)
TARGETS = ("teacher", "random")
LAMS = (0.0, 1e-3, 1e-2, 1e-1, 1.0)
# mu > 0 only with BOUNDED activations: for a positively homogeneous sigma the rescaling (W -> cW, a -> a/c) lowers
# mu/2||a||^2 at constant fit, so there is no finite critical point with f != const (measured).
FAMILIES = {"bounded": ("tanh", "sigmoid"), "pl": ("leaky_relu", "abs", "relu"), "linear": ("linear",)}
GAMMA = 0.5  # RBF width for random Fourier and Nystrom features
NOISE = 0.3
TRAIN_ITERS = 60  # LM + Newton iterations: the binding limit, no wall clock


# ======================================================================== data and features
def features(kind: str, X: np.ndarray, *, degree: int = 2, p: int | None = None, seed: int = 0,
             landmarks: np.ndarray | None = None) -> np.ndarray:
    from baselines.features import nystrom_features, polynomial_features, random_fourier_features

    if kind == "poly":
        return polynomial_features(X, degree)
    if kind == "rff":
        return random_fourier_features(X, int(p), GAMMA, int(seed))
    if kind == "nystrom":
        return nystrom_features(X, X if landmarks is None else landmarks, GAMMA)
    raise ValueError(f"claim3: unknown feature map {kind!r}")


def poly_degree_for(d_x: int, degree: int, size: str) -> int:
    """In the p >= m regime polynomial maps need enough columns for m >= 6 samples."""
    while size == "ge" and comb(d_x + degree, degree) < 6:
        degree += 1
    return degree


def sample_count(phi: str, size: str, m: int, d_x: int, degree: int) -> int:
    """m as drawn, adjusted to the size regime for polynomial maps (whose p is fixed by d_x and the degree)."""
    if phi != "poly":
        return m
    n_feat = comb(d_x + degree, degree)
    return max(m, n_feat + 2) if size == "lt" else min(max(6, m), n_feat)


def make_data(phi: str, size: str, m: int, d_x: int, d_y: int, degree: int, seed: int, target: str):
    """(X, Y, Phi). 'teacher': Y = sin(X W) V + X U + noise (a smooth teacher function); 'random': Y ~ N(0, 1)."""
    degree = poly_degree_for(d_x, degree, size) if phi == "poly" else degree
    m = sample_count(phi, size, m, d_x, degree)
    rng = np.random.default_rng([seed, 3])
    X = rng.standard_normal((m, d_x))
    W = rng.standard_normal((d_x, 3))
    Y = np.sin(X @ W) @ rng.standard_normal((3, d_y)) + X @ rng.standard_normal((d_x, d_y))
    Y = Y + NOISE * rng.standard_normal((m, d_y))
    if target == "random":
        Y = np.random.default_rng([seed, 4]).standard_normal((m, d_y))
    if phi == "poly":
        Phi = features("poly", X, degree=degree)
    elif phi == "rff":
        Phi = features("rff", X, p=max(1, m // 2) if size == "lt" else m + 2, seed=seed)
    else:  # Nystrom: landmarks = all inputs gives Phi Phi^T = K on the data (exact kernel ridge)
        Phi = features("nystrom", X, landmarks=X if size == "ge" else X[: max(1, m // 2)])
    return X, Y, Phi


def phi_baseline(Phi: np.ndarray, Y: np.ndarray, lam: float):
    """L_Phi(lam): closed form + cvxpy (baselines.least_squares)."""
    from baselines.least_squares import least_squares

    return least_squares(Phi, Y, lam)


def verify_phi(cert, Phi: np.ndarray, Y: np.ndarray, lam: float) -> None:
    """Recompute the baseline's objective and normal equations from its solution (raises BaselineError)."""
    from baselines.least_squares import verify

    verify(cert, Phi, Y, lam)


def _validate_common(m: int, d_x: int, d_y: int, degree: int, phi: str, size: str, target: str, targets=TARGETS):
    if phi not in PHI_TYPES:
        raise ValueError(f"claim3: unknown feature map {phi!r}; use one of {PHI_TYPES}")
    if size not in SIZES:
        raise ValueError(f"claim3: size must be 'lt' (p < m) or 'ge' (p >= m), got {size!r}")
    if target not in targets:
        raise ValueError(f"claim3: target must be one of {targets}, got {target!r}")
    if m < 3 or d_x < 1 or d_y < 1 or degree < 1:
        raise ValueError(f"claim3: need m >= 3, d_x >= 1, d_y >= 1 and degree >= 1, got {m}, {d_x}, {d_y}, {degree}")


def _record(part: str, regime: str, trained: bool, **kw) -> Record:
    return Record(CLAIM_ID, kw.pop("check"), part=part, regime=regime, trained=trained, **kw)


def _verdict(L: float, L_base: float, slack: float, solver: float, extra: dict, certified: bool) -> tuple:
    """(passed, gap, tol, reason-or-None) of L <= L_base + tau_fp + slack + slack_solver, with the unresolved
    policy (structures.SLACK_SCALE_BOUND) on certified points."""
    tol = tolerance.tau_fp(L_base) + slack + solver
    ratio = S.slack_over_scale(slack, L, L_base)
    extra.update(slack_cert=slack, slack_solver=solver, slack_over_scale=ratio)
    unresolved = S.unresolved_reason(ratio) if certified else None
    if unresolved:
        return None, L - L_base, tol, unresolved
    return bool(no_worse(L, L_base, tol)), L - L_base, tol, None


# ======================================================================== claim3a: feature skip
@dataclass(frozen=True)
class ParamsA:
    phi: str = "poly"
    size: str = "lt"
    m: int = 14
    d_x: int = 2
    d_y: int = 1
    degree: int = 2
    lam: float = 0.0
    mu: float = 0.0
    widths: tuple = (3,)
    activation: str = "tanh"
    seed: int = 0
    target: str = "teacher"  # 'teacher' | 'random' | 'planted' (Y = Phi R* + E, Phi^T E = 0: pinned only)

    def __post_init__(self):
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        _validate_common(self.m, self.d_x, self.d_y, self.degree, self.phi, self.size, self.target,
                         TARGETS + ("planted",))
        if not (self.lam >= 0 and self.mu >= 0 and math.isfinite(self.lam) and math.isfinite(self.mu)):
            raise ValueError(f"claim3a: lam and mu must be finite and >= 0, got lam={self.lam}, mu={self.mu}")
        if self.target == "planted" and self.lam != 0:
            raise ValueError("claim3a: the planted optimum needs lam = 0")
        if not self.widths or min(self.widths) < 1:
            raise ValueError(f"claim3a: need hidden layers of width >= 1, got {self.widths}")


@dataclass
class InstanceA:
    params: ParamsA
    X: np.ndarray
    Y: np.ndarray
    Phi: np.ndarray
    model: MLP  # skip_dim = p (the feature skip); 0 for the missing-path control
    theta: torch.Tensor
    note: str = ""
    trained: bool = True
    planted_value: float | None = None

    @property
    def tight(self) -> bool:
        """Yhat in col(Phi) for every theta and no regularizer: L >= L_Phi(0) too."""
        p = self.params
        return self.model.activation == "linear" and p.phi == "poly" and p.lam == 0 and p.mu == 0 and self.has_skip

    @property
    def has_skip(self) -> bool:
        return bool(self.model.skip_dim)


def regime_a(p: ParamsA) -> str:
    return p.phi


@st.composite
def _params_a(draw, regime: str | None = None):
    phi = regime or draw(st.sampled_from(PHI_TYPES))
    fam = draw(st.sampled_from(tuple(FAMILIES)))
    return ParamsA(phi=phi, size=draw(st.sampled_from(SIZES)), m=draw(st.integers(8, 16)), d_x=draw(st.integers(1, 3)),
                   d_y=draw(st.integers(1, 2)), degree=draw(st.integers(1, 3)), lam=draw(st.sampled_from(LAMS)),
                   mu=draw(st.sampled_from((0.01, 0.1))) if fam == "bounded" else 0.0,
                   widths=tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(1, 2)))),
                   activation=draw(st.sampled_from(FAMILIES[fam])), seed=draw(st.integers(0, 2**31 - 1)),
                   target=draw(st.sampled_from(TARGETS)))


def strategy_a(regime: str | None = None):
    """claim3a's instances: THE instance space (regimes: the feature map type)."""
    if regime is not None and regime not in REGIMES_A:
        raise ValueError(f"claim3a: unknown regime {regime!r}; known: {sorted(REGIMES_A)}")
    return _params_a(regime)


def objective_a(inst: InstanceA):
    """L = 1/2||Yhat - Y||^2 + lam/2||R||^2 + mu/2||a||^2 (squared_loss's l2 with index tensors for R and a)."""
    idx, ridx = S.param_index(inst.model)
    p, l2 = inst.params, {}
    if inst.has_skip and p.lam > 0:
        l2[torch.as_tensor(ridx.ravel())] = p.lam
    if p.mu > 0:
        l2[torch.as_tensor(idx[-1].ravel())] = p.mu
    return squared_loss(inst.model, inst.X, inst.Y, skip_input=inst.Phi if inst.has_skip else None, l2=l2 or None)


def _planted_targets(Phi: np.ndarray, d_y: int, seed: int) -> tuple[np.ndarray, float]:
    """Y = Phi R* + E with E projected off col(Phi): L_Phi(0) = 1/2||E||^2 exactly."""
    rng = np.random.default_rng([seed, 9])
    Q, _ = np.linalg.qr(Phi)
    E = rng.standard_normal((Phi.shape[0], d_y))
    E = E - Q @ (Q.T @ E)
    return Phi @ rng.standard_normal((Phi.shape[1], d_y)) + E, 0.5 * float(np.sum(E * E))


def build_a(p: ParamsA, max_iter: int = TRAIN_ITERS, skip: bool = True) -> InstanceA:
    """The 3a instance of p trained from a random start (skip=False: the feature path missing)."""
    X, Y, Phi = make_data(p.phi, p.size, p.m, p.d_x, p.d_y, p.degree, p.seed, "teacher" if p.target == "planted" else p.target)
    planted = None
    if p.target == "planted":
        Y, planted = _planted_targets(Phi, p.d_y, p.seed)
    model = MLP(p.d_x, p.widths, p.d_y, activation=p.activation, skip_dim=Phi.shape[1] if skip else 0)
    inst = InstanceA(p, X, Y, Phi, model, model.init(p.seed), planted_value=planted)
    theta, reason = S.fit(S.Net(X, Y, model, inst.theta, (), None, None), obj=objective_a(inst), max_iter=max_iter)
    return replace(inst, theta=theta, note=reason)


def quadratic_slack(inst: InstanceA, obj, theta) -> tuple[float, dict]:
    """1/2 g^T Q^+ g for q(t, R) at (1, R); vec R is row-major, as theta stores R. g lies in range(Q) exactly (q is
    bounded below); a part outside range(Q) above rounding makes the bound unusable: infinite slack (unresolved)."""
    p, model = inst.params, inst.model
    idx, ridx = S.param_index(model)
    grad, th = obj.grad(theta).detach().numpy(), theta.detach().numpy()
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
    out = float(np.linalg.norm(gV[~keep]))
    if out > 1e-8 * (1 + float(np.linalg.norm(g))):
        slack = math.inf
    return slack, dict(g_t=float(g[0]), g_R=float(np.linalg.norm(g[1:])), Q_rank=int(keep.sum()), g_out_of_range=out,
                       data_term=0.5 * float(np.sum((Yhat - inst.Y) ** 2)))


def check_at_a(inst: InstanceA, theta=None, *, hypotheses: bool = True) -> Record:
    """claim3a at theta: C-crit and a feature skip, then L <= L_Phi(lam) + 1/2 g^T Q^+ g + tau. hypotheses=False
    evaluates the bare assertion (slack 0 where the point is not a certified critical point with the skip)."""
    from baselines.certificate import BaselineError

    p = inst.params
    theta = inst.theta if theta is None else torch.as_tensor(theta, dtype=torch.float64)
    obj = objective_a(inst)
    cert = certify(obj, theta, need_second_order=False)
    extra = dict(params=asdict(p), verdict=cert.verdict.value, loss=cert.loss, grad_norm=cert.grad_norm,
                 margin=cert.margin, p=int(inst.Phi.shape[1]), m=int(inst.X.shape[0]), tight=inst.tight, note=inst.note)

    def rec(**kw):
        return _record("claim3a", regime_a(p), inst.trained, check=f"feature-skip-{p.phi}", extra=extra, **kw)

    if hypotheses and not cert.critical:
        return rec(certified=False, reason=f"uncertified: {cert.verdict.value}: {cert.reason}")
    if hypotheses and not inst.has_skip:
        return rec(certified=False, reason="outside hypotheses: no feature skip Phi(X) R")
    ok = cert.critical and inst.has_skip
    slack = 0.0
    if ok:
        slack, sx = quadratic_slack(inst, obj, theta)
        extra.update(sx)
    try:
        b = phi_baseline(inst.Phi, inst.Y, p.lam)
        verify_phi(b, inst.Phi, inst.Y, p.lam)
    except BaselineError as e:  # the baseline is a subject too: one that does not verify fails the check (unless
        # float64 cannot resolve its value at this conditioning: then the instance is unresolved, never passed)
        passed, why = S.refused(e, inst.Phi, inst.Y)
        return rec(certified=ok, passed=passed, reason=why)
    L, L_phi = cert.loss, float(b.value)
    extra.update(L_phi=L_phi, planted_value=inst.planted_value)
    passed, gap, tol, unresolved = _verdict(L, L_phi, slack, float(b.slack_solver), extra, ok)
    if unresolved:
        return rec(certified=True, passed=None, gap=gap, tol=tol, reason=unresolved)
    why = f"L={L:.6g} vs L_Phi({p.lam:g})={L_phi:.6g}, slack={slack:.2e}"
    if inst.tight and gap < -tolerance.tau_fp(L_phi):
        passed, why = False, f"net beat the global baseline by {-gap:.3g} > tau_fp: baseline wrong; " + why
    if inst.planted_value is not None and abs(L_phi - inst.planted_value) > tolerance.tau_fp(inst.planted_value):
        passed, why = False, f"baseline {L_phi:.12g} != planted 1/2||E||^2 = {inst.planted_value:.12g}; " + why
    return rec(certified=ok, passed=passed, gap=gap, tol=tol, reason=why if passed else f"VIOLATED: {why}")


def check_a(p: ParamsA) -> Record:
    return check_at_a(build_a(p))


TIGHT_A = ParamsA("poly", "lt", m=20, d_x=2, d_y=2, degree=2, widths=(2,), activation="linear", seed=4)
STRICT_A = ParamsA("rff", "lt", m=12, d_x=2, d_y=1, widths=(2,), activation="tanh", seed=0)  # L ~ 0 < L_Phi = 5.26
LIKE = ParamsA("rff", "lt", m=16, d_x=2, d_y=1, lam=1.0, mu=1.0, widths=(1,), activation="tanh", seed=2)
# A known violation without the skip (measured: certified minimum, L = 1.03 > L_Phi(0)): width-1 sigmoid, degree 3.
MISSING = ParamsA("poly", "lt", m=19, d_x=2, d_y=1, degree=3, widths=(1,), activation="sigmoid", seed=467)


def control_like_with_like(part) -> Record:
    """With lam > 0 the DATA term can exceed the unregularized L_Phi(0). The point is a certified critical point of
    its own objective (lam = mu = 1); judged as if it were unregularized (lam = mu = 0, comparing with L_Phi(0)), the
    part's own assertion is violated: the comparison must be like with like."""
    inst = build_a(LIKE)
    own = certify(objective_a(inst), inst.theta, need_second_order=False).critical
    mismatched = replace(inst, params=replace(LIKE, lam=0.0, mu=0.0), trained=False)
    rec = part.check_at(mismatched, hypotheses=False)
    return violation_detected(replace(rec, check="control-like-with-like"), own)


def control_missing_path(part) -> Record:
    """A net WITHOUT the feature skip at a certified local minimum: the assertion, evaluated without the skip
    hypothesis, is violated (L > L_Phi + tau)."""
    inst = build_a(MISSING, skip=False)
    local_min = certify(objective_a(inst), inst.theta).certified
    rec = part.check_at(inst, hypotheses=False)
    return violation_detected(replace(rec, check="control-missing-feature-path"), local_min)


CONTROLS_A = {"like-with-like": control_like_with_like, "missing-feature-path": control_missing_path}


# ======================================================================== claim3b: feature input (claim2 with Phi)
@dataclass(frozen=True)
class ParamsB:
    structure: str = "S2"  # 'S1' | 'S2' | 'S4'
    phi: str = "poly"
    size: str = "lt"
    m: int = 14
    d_x: int = 2
    d_y: int = 1
    degree: int = 2
    widths: tuple = (3, 3)
    activation: str = "tanh"
    seed: int = 0
    target: str = "teacher"

    def __post_init__(self):
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        _validate_common(self.m, self.d_x, self.d_y, self.degree, self.phi, self.size, self.target)
        if self.structure not in STRUCTURES_B:
            raise ValueError(f"claim3b: structure must be one of {STRUCTURES_B}, got {self.structure!r}")
        if self.structure == "S1" and self.activation not in S.PL_ACTIVATIONS:
            raise ValueError(f"claim3b: S1 needs a piecewise-linear activation, got {self.activation!r}")
        if (self.structure == "S4") != (self.d_y > 1):
            raise ValueError(f"claim3b: S4 is the vector-output structure (d_y > 1), got {self.structure} with d_y={self.d_y}")
        if not self.widths or min(self.widths) < self.d_y:
            raise ValueError(f"claim3b: every hidden layer needs >= d_y = {self.d_y} path units, got {self.widths}")


STRUCTURES_B = ("S1", "S2", "S4")


@dataclass
class InstanceB:
    params: ParamsB
    net: S.Net  # X = Phi(X)
    theta: torch.Tensor
    L_phi0: float
    note: str = ""
    trained: bool = True


def regime_b(p: ParamsB) -> str:
    return p.structure


@st.composite
def _params_b(draw, regime: str | None = None):
    s = regime or draw(st.sampled_from(STRUCTURES_B))
    d_y = draw(st.integers(2, 3)) if s == "S4" else 1
    act = draw(st.sampled_from(S.PL_ACTIVATIONS if s == "S1" else S.PL_ACTIVATIONS + S.SMOOTH_ACTIVATIONS))
    return ParamsB(s, phi=draw(st.sampled_from(PHI_TYPES)), size=draw(st.sampled_from(SIZES)),
                   m=draw(st.integers(8, 16)), d_x=draw(st.integers(1, 3)), d_y=d_y, degree=draw(st.integers(1, 3)),
                   widths=tuple(draw(st.integers(d_y, 8)) for _ in range(draw(st.integers(1, 3)))), activation=act,
                   seed=draw(st.integers(0, 2**31 - 1)), target=draw(st.sampled_from(TARGETS)))


def strategy_b(regime: str | None = None):
    """claim3b's instances (regimes: the structure S1, S2, S4; depth 1-3, widths up to 8)."""
    if regime is not None and regime not in REGIMES_B:
        raise ValueError(f"claim3b: unknown regime {regime!r}; known: {sorted(REGIMES_B)}")
    return _params_b(regime)


def ols_on_features(Phi: np.ndarray, Y: np.ndarray):
    """L_OLS on [Phi, 1] (the net has biases): <= L_Phi(0)."""
    return S.ols_baseline(Phi, Y)


def verify_ols_on_features(cert, Phi: np.ndarray, Y: np.ndarray) -> None:
    S.verify_ols(cert, Phi, Y)


def make_net_b(p: ParamsB) -> tuple[S.Net, float]:
    X, Y, Phi = make_data(p.phi, p.size, p.m, p.d_x, p.d_y, p.degree, p.seed, p.target)
    model, paths, kind = S.structured_model(p.structure, Phi.shape[1], p.widths, p.d_y, p.activation, p.d_y)
    theta0 = S.path_start(model, model.init(p.seed), paths)  # random weights + the path construction
    label = f"3b-{p.structure}-{p.phi}-{p.size}-m{X.shape[0]}-p{Phi.shape[1]}-{p.activation}-w{p.widths}-s{p.seed}"
    return S.Net(Phi, Y, model, theta0, paths, kind, p.structure, label), _informational_l_phi0(Phi, Y)


def _informational_l_phi0(Phi: np.ndarray, Y: np.ndarray) -> float | None:
    """L_Phi(0), recorded beside the OLS comparison for the reader (never asserted): None when the baseline cannot
    certify itself on this Phi (an ill-conditioned feature matrix), so building the instance never fails on it."""
    from baselines.certificate import BaselineError

    try:
        return float(phi_baseline(Phi, Y, 0.0).value)
    except BaselineError:
        return None


def build_b(p: ParamsB, max_iter: int = TRAIN_ITERS) -> InstanceB:
    net, L_phi0 = make_net_b(p)
    theta, reason = S.fit(net, max_iter=max_iter)
    return InstanceB(p, net, theta, L_phi0, note=reason)


def check_at_b(inst: InstanceB, theta=None, *, hypotheses: bool = True) -> Record:
    """claim2's structured comparison on the feature-input net (shared, not copied): C-crit, the structure verified
    after training, L <= L_OLS([Phi, 1]) + Lemma P slack + tau."""
    tr = S.at_point(inst.net, inst.theta if theta is None else theta, need_second_order=False)
    cert = tr.cert
    extra = dict(params=asdict(inst.params), instance=inst.net.label, verdict=cert.verdict.value, loss=cert.loss,
                 grad_norm=cert.grad_norm, margin=cert.margin, L_phi0=inst.L_phi0, note=inst.note)
    out = S.compare_with_ols(tr, extra, baseline=ols_on_features, verify=verify_ols_on_features, holds=no_worse,
                             hypotheses=hypotheses, second_order=False)
    return _record("claim3b", regime_b(inst.params), inst.trained, check=f"feature-input-{inst.params.structure}",
                   certified=out.certified, passed=out.passed, gap=out.gap, tol=out.tol, reason=out.reason, extra=extra)


def check_b(p: ParamsB) -> Record:
    return check_at_b(build_b(p))


DEAD_B = ParamsB("S1", "rff", "lt", m=14, d_x=2, d_y=1, widths=(3, 2), activation="relu", seed=11)


def control_dead_feature_path(part) -> Record:
    """Every ReLU unit (the path included) dead on the features, output bias = mean(y): a certified plateau with
    L = 1/2||y - ybar||^2; the part's assertion, evaluated without the structure (no live path), is violated."""
    net, L_phi0 = make_net_b(DEAD_B)
    model = MLP(net.X.shape[1], DEAD_B.widths, 1, activation="relu")
    Ws, _ = model.unflatten(model.init(DEAD_B.seed))
    Ws = [W.clone() for W in Ws]
    for W in Ws[:-1]:
        W[:-1] *= 0.1
        W[-1] = -5.0
    Ws[-1][-1] = float(net.Y.mean())
    dead = S.Net(net.X, net.Y, model, model.flatten(Ws), (), None, None, "dead-feature-path")
    plateau = certify(squared_loss(model, dead.X, dead.Y), dead.theta0).certified
    rec = part.check_at(InstanceB(DEAD_B, dead, dead.theta0, L_phi0, "planted plateau", False), hypotheses=False)
    return violation_detected(replace(rec, check="control-dead-feature-path"), plateau)


CONTROLS_B = {"dead-feature-path": control_dead_feature_path}


# ======================================================================== claim3c: own last-layer features
@dataclass(frozen=True)
class ParamsC:
    m: int = 20
    d_x: int = 2
    d_y: int = 1
    widths: tuple = (2,)
    activation: str = "tanh"
    seed: int = 0
    target: str = "teacher"

    def __post_init__(self):
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        _validate_common(self.m, self.d_x, self.d_y, 1, "rff", "lt", self.target)
        if self.activation not in FAMILIES["bounded"] + FAMILIES["pl"]:
            raise ValueError(f"claim3c: activation must be bounded or PL, got {self.activation!r}")
        if not self.widths or min(self.widths) < 1:
            raise ValueError(f"claim3c: need hidden layers of width >= 1, got {self.widths}")


@dataclass
class InstanceC:
    params: ParamsC
    net: S.Net
    theta: torch.Tensor
    note: str = ""
    trained: bool = True


def regime_c(p: ParamsC) -> str:
    return "bounded" if p.activation in FAMILIES["bounded"] else "pl"


@st.composite
def _params_c(draw, regime: str | None = None):
    fam = regime or draw(st.sampled_from(("bounded", "pl")))
    small = draw(st.booleans())  # a small data set with wider layers (over-parameterized last layer)
    width = draw(st.integers(1, 3)) + (2 if small else 0)
    return ParamsC(m=draw(st.integers(6, 11) if small else st.integers(14, 24)), d_x=draw(st.integers(1, 3)),
                   d_y=draw(st.integers(1, 2)), widths=(width,) * draw(st.integers(1, 2)),
                   activation=draw(st.sampled_from(FAMILIES[fam])), seed=draw(st.integers(0, 2**31 - 1)),
                   target=draw(st.sampled_from(TARGETS)))


def strategy_c(regime: str | None = None):
    """claim3c's instances (regimes: the activation family)."""
    if regime is not None and regime not in REGIMES_C:
        raise ValueError(f"claim3c: unknown regime {regime!r}; known: {sorted(REGIMES_C)}")
    return _params_c(regime)


def last_layer_baseline(ht: np.ndarray, Y: np.ndarray):
    """LS(h~) = min_R 1/2||h~ R - Y||^2 (closed form + cvxpy)."""
    return phi_baseline(ht, Y, 0.0)


def make_net_c(p: ParamsC) -> S.Net:
    X, Y, _ = make_data("rff", "lt", p.m, p.d_x, p.d_y, 1, p.seed, p.target)
    model = MLP(p.d_x, p.widths, p.d_y, activation=p.activation)
    return S.Net(X, Y, model, model.init(p.seed), (), None, None, f"3c-{p.activation}-w{p.widths}-m{p.m}-s{p.seed}")


def build_c(p: ParamsC, max_iter: int = TRAIN_ITERS) -> InstanceC:
    net = make_net_c(p)
    theta, reason = S.fit(net, max_iter=max_iter)
    return InstanceC(p, net, theta, note=reason)


def check_at_c(inst: InstanceC, theta=None, *, hypotheses: bool = True) -> Record:
    """claim3c at theta: C-min, then LS(h~) - tau_fp <= L <= LS(h~) + 1/2(||grad_{W^(H+1)} L|| / sigma_min^+(h~))^2
    + tau_fp (the lower side everywhere: Yhat lies in col(h~))."""
    from baselines.certificate import BaselineError

    tr = S.at_point(inst.net, inst.theta if theta is None else theta, need_second_order=True)
    cert = tr.cert
    extra = dict(params=asdict(inst.params), verdict=cert.verdict.value, loss=cert.loss, grad_norm=cert.grad_norm,
                 strength=cert.strength, margin=cert.margin, note=inst.note)

    def rec(**kw):
        return _record("claim3c", regime_c(inst.params), inst.trained, check="own-last-layer", extra=extra, **kw)

    if hypotheses and not cert.certified:
        return rec(certified=False, reason=f"uncertified: {cert.verdict.value}: {cert.reason}")
    ht, _ = S.hidden_and_residual(tr)
    rank, smin, gap_rank = numerical_rank(ht)
    extra.update(h_rank=rank, h_sigma_min_plus=smin, h_gap=gap_rank)
    if hypotheses and gap_rank < S.RANK_GAP:
        return rec(certified=False, reason=f"outside hypotheses: gapless numerical rank of h~ (gap {gap_rank:.3g})")
    idx, _ = S.param_index(inst.net.model)
    g_out = float(np.linalg.norm(tr.obj.grad(tr.theta).detach().numpy()[idx[-1].ravel()]))
    slack = tolerance.lemma_p_slack(g_out, smin) if cert.certified else 0.0
    try:
        b = last_layer_baseline(ht, inst.net.Y)
        verify_phi(b, ht, inst.net.Y, 0.0)
    except BaselineError as e:
        passed, why = S.refused(e, ht, inst.net.Y)
        return rec(certified=cert.certified, passed=passed, reason=why)
    L, LS = cert.loss, float(b.value)
    extra.update(LS=LS)
    passed, gap, tol, unresolved = _verdict(L, LS, slack, float(b.slack_solver), extra, cert.certified)
    if unresolved:
        return rec(certified=True, passed=None, gap=gap, tol=tol, reason=unresolved)
    lower_ok = gap >= -tolerance.tau_fp(LS)
    why = f"L={L:.6g} vs LS(h~)={LS:.6g}, slack={slack:.2e}" + ("" if lower_ok else "; net below LS(h~): baseline wrong")
    passed = bool(passed and lower_ok)
    return rec(certified=cert.certified, passed=passed, gap=gap, tol=tol, reason=why if passed else f"VIOLATED: {why}")


def check_c(p: ParamsC) -> Record:
    return check_at_c(build_c(p))


def control_untrained_point(part, p: ParamsC = ParamsC(m=20, d_x=2, widths=(2,), activation="tanh", seed=8)) -> Record:
    """The random start, before training: not a local minimum (the certifier refuses it), and there the part's
    assertion L <= LS(h~) + tau fails: the output layer is not least-squares optimal off a minimum."""
    net = make_net_c(p)
    rec = part.check_at(InstanceC(p, net, net.theta0, "random start, not trained", False), hypotheses=False)
    refused = rec.extra["verdict"] == Verdict.NOT_CONVERGED.value
    return violation_detected(replace(rec, check="control-untrained-point"), refused)


CONTROLS_C = {"untrained-point": control_untrained_point}


# ======================================================================== sabotages (injected from outside)
_phi_baseline, _ols_on_features, _last_layer_baseline = phi_baseline, ols_on_features, last_layer_baseline


def _low(fn):
    def low(*args):
        cert = fn(*args)
        return replace(cert, value=0.99 * float(cert.value))

    return low


def _truncated_lstsq(Phi, Y, lam):
    """lstsq on the first half of the features only: a feasible but suboptimal R, its objective recomputed."""
    from baselines.least_squares import objective as ls_objective

    good = _phi_baseline(Phi, Y, lam)
    k = max(1, Phi.shape[1] // 2)
    R = np.zeros((Phi.shape[1], Y.shape[1]))
    R[:k] = np.linalg.lstsq(Phi[:, :k], Y, rcond=None)[0]
    return replace(good, solution=R, value=ls_objective(Phi, Y, lam, R), method="sabotage: truncated lstsq")


@contextlib.contextmanager
def _unverified(name: str, fake):
    with mock.patch(f"{__name__}.{name}", fake), mock.patch(f"{__name__}.verify_phi", lambda *a: None):
        yield


def _flipped():
    return mock.patch(f"{__name__}.no_worse", lambda L, L_base, tol: L_base - L <= tol)


SABOTAGES_A = {
    "baseline-one-percent-low": Sabotage(
        inject=lambda: mock.patch(f"{__name__}.phi_baseline", _low(_phi_baseline)),
        run=lambda part: [part.check(TIGHT_A)],
        description="L_Phi reported 1% below its solution's objective: the re-verification refuses it"),
    "truncated-lstsq": Sabotage(
        inject=lambda: mock.patch(f"{__name__}.phi_baseline", _truncated_lstsq),
        run=lambda part: [part.check(TIGHT_A)],
        description="lstsq on half the features: the normal equations fail at its solution"),
    "truncated-lstsq-unverified": Sabotage(
        inject=lambda: _unverified("phi_baseline", _truncated_lstsq),
        run=lambda part: [part.check(TIGHT_A)],
        description="the truncated baseline unverified: the tight linear net beats the 'global' value (baseline wrong)"),
    "flipped-bound": Sabotage(
        inject=_flipped, run=lambda part: [part.check(STRICT_A)],
        description="the inequality flipped fails where the net beats L_Phi strictly"),
}

STRICT_B = ParamsB("S2", "rff", "lt", m=14, d_x=2, d_y=1, widths=(3, 2), activation="tanh", seed=2)
S4_B = ParamsB("S4", "poly", "lt", m=12, d_x=2, d_y=2, widths=(2, 2), activation="tanh", seed=0)
SABOTAGES_B = {
    "ols-one-percent-low": Sabotage(
        inject=lambda: mock.patch(f"{__name__}.ols_on_features", _low(_ols_on_features)),
        run=lambda part: [part.check(STRICT_B)],
        description="L_OLS([Phi, 1]) 1% low: the re-verification refuses it"),
    "flipped-bound": Sabotage(
        inject=_flipped, run=lambda part: [part.check(STRICT_B)],
        description="the inequality flipped fails where the net beats OLS on the features strictly"),
}

OWN_C = ParamsC(m=8, d_x=2, d_y=1, widths=(4,), activation="tanh", seed=0)
SABOTAGES_C = {
    "baseline-too-high-unverified": Sabotage(
        inject=lambda: _unverified("last_layer_baseline", lambda ht, Y: replace(
            _last_layer_baseline(ht, Y), value=float(_last_layer_baseline(ht, Y).value) + 1.0)),
        run=lambda part: [part.check(OWN_C)],
        description="LS(h~) + 1 unverified: the net lies below the 'optimum' of its own last layer (baseline wrong)"),
}

PINNED_A = {
    "tight-linear-poly": TIGHT_A,  # equality L = L_Phi(0) within tau
    "planted-optimum": replace(TIGHT_A, target="planted"),  # the baseline must return 1/2||E||^2
    "nystrom-exact-kernel-ridge": ParamsA("nystrom", "ge", m=12, d_x=2, d_y=1, lam=0.1, mu=0.1, widths=(2,),
                                          activation="tanh", seed=5),
    "strictly-better": STRICT_A,
}
PINNED_B = {"s2-depth2": STRICT_B, "s4-vector-output": S4_B}
PINNED_C = {"own-features": OWN_C}

# Floors on the fixed draw (seed 0, 3 instances, TRAIN_ITERS = 60; measured 2026-11-30). The losses: PL nets ending
# on a kink (3a trained on the real net, 3b/3c S1/S4 paths) and bounded 3c nets not converged in 60 iterations.
REGIMES_A = {
    "poly": Floor(0.33, 3, "2/3 (tanh, linear certified; leaky_relu on a kink)"),
    "rff": Floor(0.33, 3, "2/3 (tanh, linear certified; leaky_relu on a kink)"),
    "nystrom": Floor(0.33, 3, "2/3 (tanh, linear certified; leaky_relu on a kink)"),
}
REGIMES_B = {
    "S1": Floor(0.33, 3, "2/3 (teacher relu, random abs certified; teacher abs on a kink)"),
    "S2": Floor(0.66, 3, "3/3 (teacher relu/softplus, random sigmoid)"),
    "S4": Floor(0.33, 3, "2/3 (teacher relu, random sigmoid certified; teacher leaky_relu on a kink)"),
}
REGIMES_C = {
    # 1/6 at seed 0 (measured with `minimacheck yields claim3 -n 6`): reachable, so not Unreached; tanh/sigmoid nets
    # mostly stop short of C-min within 60 iterations (gradients 1e-4..1e-1 left: saturating units drift outwards)
    "bounded": Floor(0.16, 6, "1/6 (tanh/sigmoid mostly not converged in 60 iterations)"),
    "pl": Floor(0.33, 3, "2/3 (teacher leaky_relu, random abs certified; random abs on a kink)"),
}

STATEMENT_A = ("Feature skip Yhat = f(X) + Phi(X)R, L = 1/2||Yhat-Y||^2 + lam/2||R||^2 + mu/2||a||^2: every "
               "differentiable critical point has L <= L_Phi(lam) = min_R 1/2||Phi R - Y||^2 + lam/2||R||^2.")
STATEMENT_B = "A net on Phi(X) with an S1, S2 or S4 structure obeys claim2 with X -> Phi(X): L <= L_OLS([Phi, 1])."
STATEMENT_C = "At a local minimum, L = min_R 1/2||h~^(H) R - Y||^2 (the net's own last-layer features)."

CLAIM = Claim(
    id=CLAIM_ID,
    title="No worse than a fixed-basis (kernel) model",
    source="Kawaguchi, Huang, Kaelbling, Neural Computation 31(7) 2019, arXiv:1811.08150 (kernel/ridge forms: project's)",
    statement=f"3a: {STATEMENT_A} 3b: {STATEMENT_B} 3c: {STATEMENT_C}",
    hypotheses=(
        "fixed feature maps: polynomial (degree <= q), random Fourier, Nystrom (RBF, gamma = 0.5); p < m and p >= m",
        "lam in {0, 1e-3 .. 1}; the baseline uses the SAME lam (like with like)",
        "C-crit for 3a and 3b (3b: structure verified after training, gain >= g_min); C-min for 3c",
        f"certificate slack <= {S.SLACK_SCALE_BOUND:g} (max(L, L_baseline) + tau_fp), else unresolved",
    ),
    evidence=Evidence.CERTIFIED,
    parts=(
        Part(id="claim3a", statement=STATEMENT_A, strategy=strategy_a, check=check_a, check_at=check_at_a,
             regime_of=regime_a, regimes=REGIMES_A, pinned=PINNED_A, controls=CONTROLS_A, sabotages=SABOTAGES_A),
        Part(id="claim3b", statement=STATEMENT_B, strategy=strategy_b, check=check_b, check_at=check_at_b,
             regime_of=regime_b, regimes=REGIMES_B, pinned=PINNED_B, controls=CONTROLS_B, sabotages=SABOTAGES_B),
        Part(id="claim3c", statement=STATEMENT_C, strategy=strategy_c, check=check_c, check_at=check_at_c,
             regime_of=regime_c, regimes=REGIMES_C, pinned=PINNED_C, controls=CONTROLS_C, sabotages=SABOTAGES_C),
    ),
)
