"""claim4 — one hidden layer: the second-order strengthening (CLAIMS.md, claim4).

Source: as claim1 (Kawaguchi, Huang, Kaelbling 2019); the statement is the handbook's derived formalization.

Model: yhat = sigma(X W) v, scalar output, L = 1/2 ||yhat - y||^2. The bias is a ones column appended to X (the
handbook's X includes it) and the net is MLP(d_x + 1, (d_1,), 1, sigma, bias=False): W = [w_1 .. w_{d_1}] is
(d_x + 1) x d_1 and v is W^(2). Notation: H = sigma(XW), a_j = sigma(X w_j), D_j = diag(sigma'(X w_j)),
D-bar_sh = [D_1 X, ..., D_{d_1} X], g_j = X^T D_j r.

Claim: at every differentiable LOCAL MINIMUM, g_j = 0 for every j (units with v_j = 0 included) and H^T r = 0,
hence L = 1/2 ||P_N[[H, D-bar_sh]] y||^2.

Derived tolerance for small |v_j| (CLAIMS.md): with u = g_j / ||g_j||, p = u^T (d^2 L / dw_j^2) u, s = ||a_j||^2,
tau_j = min{ ||grad_{w_j} L|| / |v_j| , sqrt((p + eps_H)(s + eps_H)) + |v_j| ||X^T D_j a_j|| }, eps_H =
certificate.hessian_resolution (lambda_min >= -eps_H makes the 2x2 compression of the Hessian on (u, 0), (0, e_{v_j})
PSD up to eps_H, whose off-diagonal is ||g_j|| + v_j u^T X^T D_j a_j).

Assertions (C-min certificate, dense Hessian):
1. max_j (||g_j|| - tau_j) <= tau_fp.
2. Lemma-P bracket for J = [H, D-bar_sh] with ||J^T r||^2 <= ||grad_v L||^2 + sum_j tau_j^2:
   1/2||P_N[J]y||^2 - tau_fp <= L <= 1/2||P_N[J]y||^2 + 1/2 (||J^T r|| / sigma_min^+(J))^2 + tau_fp.

Instances: m, d_x, d_1, sigma, seed and the set of units that START at v_j = 0 are drawn; y = teacher + noise, the
teacher being a net of the same width; training (LM + Newton; PL nets: networks.minimize_piecewise, Newton inside the activation pattern) starts
from the teacher with the chosen v_j set to 0. Uncertified runs (kinks, saddles, not converged) are counted.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

from minimacheck import tolerance
from minimacheck.ledger import Record
from claims.projections import basis
from minimacheck.registry import Claim, RunConfig
from networks import MLP, Verdict, activations, certify, minimize_piecewise, squared_loss

CLAIM_ID = "claim4"
ACTIVATIONS = ("leaky_relu", "abs", "tanh", "softplus")
M_RANGE, DX_RANGE, D1_RANGE = (10, 40), (2, 5), (1, 8)

torch.set_default_dtype(torch.float64)


@dataclass(frozen=True)
class Params:
    m: int
    d_x: int
    d_1: int
    activation: str
    seed: int
    zero_units: tuple = ()  # units whose output weight starts at 0
    noise: float = 0.1
    regime: str = "trained"  # 'trained' | 'planted' (PL only: a planted minimum with v_j = 0 exactly on zero_units)

    def validate(self) -> "Params":
        if self.regime not in ("trained", "planted"):
            raise ValueError(f"claim4: regime must be 'trained' or 'planted', got {self.regime!r}")
        if self.regime == "planted" and not activations.get(self.activation).piecewise_linear:
            raise ValueError("claim4: the planted minimum needs a PL-homogeneous sigma (smooth sigma adds cubic terms)")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"claim4: activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        for name, v in (("m", self.m), ("d_x", self.d_x), ("d_1", self.d_1)):
            if int(v) != v or v < 1:
                raise ValueError(f"claim4: {name} must be a positive integer, got {v!r}")
        bad = [j for j in self.zero_units if not 0 <= j < self.d_1]
        if bad:
            raise ValueError(f"claim4: zero_units {bad} out of range for d_1={self.d_1}")
        return self


@dataclass
class Instance:
    params: Params
    model: MLP
    X: np.ndarray  # bias column included
    y: np.ndarray  # (m, 1)
    theta: torch.Tensor
    note: str = ""

    @property
    def obj(self):
        return squared_loss(self.model, self.X, self.y)


def make_model(d_x: int, d_1: int, activation: str) -> MLP:
    return MLP(d_x + 1, (d_1,), 1, activation, bias=False)


def split(model: MLP, theta) -> tuple[np.ndarray, np.ndarray]:
    Ws, _ = model.unflatten(torch.as_tensor(theta))
    return Ws[0].detach().numpy(), Ws[1].detach().numpy()[:, 0]


def w_index(model: MLP, j: int) -> np.ndarray:
    """Positions of w_j (column j of W, row-major storage) in theta."""
    d_in, d_1 = model.weight_shapes[0]
    return np.arange(d_in) * d_1 + j


def v_index(model: MLP, j: int) -> int:
    d_in, d_1 = model.weight_shapes[0]
    return d_in * d_1 + j


def draw_params(rng: np.random.Generator) -> Params:
    d_1 = int(rng.integers(D1_RANGE[0], D1_RANGE[1] + 1))
    k = int(rng.integers(0, d_1 + 1))
    act = str(rng.choice(ACTIVATIONS))
    planted = activations.get(act).piecewise_linear and rng.random() < 0.5
    return Params(
        m=int(rng.integers(M_RANGE[0], M_RANGE[1] + 1)), d_x=int(rng.integers(DX_RANGE[0], DX_RANGE[1] + 1)), d_1=d_1,
        activation=act, seed=int(rng.integers(0, 2**31 - 1)),
        zero_units=tuple(sorted(int(j) for j in rng.choice(d_1, size=k, replace=False))),
        regime="planted" if planted else "trained",
    ).validate()


def _data(p: Params, rng) -> np.ndarray:
    return np.hstack([rng.standard_normal((p.m, p.d_x)), np.ones((p.m, 1))])


def build(p: Params, time_budget: float = 5.0) -> Instance:
    p.validate()
    rng = np.random.default_rng(p.seed)
    model = make_model(p.d_x, p.d_1, p.activation)
    X = _data(p, rng)
    teacher = model.init(p.seed + 1)
    y = model.forward(teacher, torch.as_tensor(X)).detach().numpy() + p.noise * rng.standard_normal((p.m, 1))
    theta0 = teacher.clone()
    for j in p.zero_units:
        theta0[v_index(model, j)] = 0.0
    if p.regime == "planted":
        return planted_minimum(p, model, X, theta0, rng)
    res = minimize_piecewise(model, X, y, theta0, rounds=3, max_iter=200, time_budget=time_budget)
    return Instance(p, model, X, y, res.theta, res.reason)


def planted_minimum(p: Params, model: MLP, X, theta, rng) -> Instance:
    """PL sigma: y = yhat - r with r = c P_N[[H, D-bar_sh]] xi (c in [0.05, 0.5]). Then grad L = 0 and every
    g_j = 0; inside the activation pattern yhat is bilinear in (w_j, v_j), so the Hessian is J^T J + sum_j
    (cross terms g_j) = J^T J: PSD, flat along w_j for v_j = 0. A local minimum with v_j = 0 units, which the
    certifier must still establish (margin, spectrum, probe)."""
    W, v = split(model, theta)
    act = activations.get(model.activation)
    Z = torch.as_tensor(X @ W)
    A = act(Z).numpy()
    dZ = torch.func.vmap(torch.func.grad(lambda z: act(z)))(Z.reshape(-1)).reshape(Z.shape).numpy()
    J = np.hstack([A] + [dZ[:, [j]] * X for j in range(p.d_1)])
    r = float(rng.uniform(0.05, 0.5)) * basis(J).project_out(rng.standard_normal(p.m))
    y = (A @ v - r)[:, None]
    return Instance(p, model, X, y, theta, note="planted minimum")


# ---------------------------------------------------------------- the check
def quantities(inst: Instance, theta=None, eps_H: float = 0.0, hessian=None) -> dict:
    """g_j, tau_j, the [H, D-bar_sh] projection and the bracket numbers at theta."""
    model = inst.model
    theta = inst.theta if theta is None else torch.as_tensor(theta)
    X = inst.X
    W, v = split(model, theta)
    act = activations.get(model.activation)
    Z = torch.as_tensor(X @ W)
    A = act(Z).numpy()  # H = sigma(XW), columns a_j
    dZ = torch.func.vmap(torch.func.grad(lambda z: act(z)))(Z.reshape(-1)).reshape(Z.shape).numpy()
    yv = inst.y[:, 0]
    r = A @ v - yv
    L = 0.5 * float(r @ r)
    obj = inst.obj
    grad = obj.grad(theta).detach().numpy()
    Hess = obj.hessian(theta).detach().numpy() if hessian is None else hessian
    gs, taus, per_unit = [], [], []
    for j in range(model.widths[0]):
        Dj = dZ[:, j]
        g = X.T @ (Dj * r)
        gn = float(np.linalg.norm(g))
        wi = w_index(model, j)
        grad_w = float(np.linalg.norm(grad[wi]))
        XDa = float(np.linalg.norm(X.T @ (Dj * A[:, j])))
        s = float(A[:, j] @ A[:, j])
        if gn > 0:
            u = g / gn
            p = float(u @ Hess[np.ix_(wi, wi)] @ u)
        else:
            p = float(np.linalg.eigvalsh(Hess[np.ix_(wi, wi)]).max())  # any unit u: bound by the largest
        second = math.sqrt(max(p + eps_H, 0.0) * max(s + eps_H, 0.0)) + abs(v[j]) * XDa
        first = grad_w / abs(v[j]) if v[j] != 0 else math.inf
        tau_j = min(first, second)
        gs.append(gn)
        taus.append(tau_j)
        per_unit.append(dict(g=gn, tau=float(tau_j), v=float(v[j]), p=p, s=s, first=float(first), second=float(second)))
    Dsh = np.hstack([Dj[:, None] * X for Dj in dZ.T])
    J = np.hstack([A, Dsh])
    B = basis(J)
    lo = 0.5 * float(np.sum(B.project_out(yv) ** 2))
    grad_v = grad[[v_index(model, j) for j in range(model.widths[0])]]
    JTr_bound = math.sqrt(float(grad_v @ grad_v) + sum(t * t for t in taus))
    JTr_actual = float(np.linalg.norm(J.T @ r))
    return dict(L=L, g=gs, tau=taus, units=per_unit, lo=lo, basis=B, JTr_bound=JTr_bound, JTr_actual=JTr_actual,
                grad_v=float(np.linalg.norm(grad_v)))


def assertions(q: dict, tau_override: bool = False) -> dict:
    """Assertion 1 (||g_j|| <= tau_j + tau_fp) and 2 (bracket) as headrooms; <= 1 passes."""
    tau = tolerance.tau_fp(q["L"])
    a1 = max(((g - t) / tau for g, t in zip(q["g"], q["tau"])), default=-math.inf)
    B = q["basis"]
    slack = tolerance.lemma_p_slack(q["JTr_bound"], B.sigma_min_plus) if B.rank else math.inf
    a2 = max((q["lo"] - q["L"]) / tau, (q["L"] - q["lo"]) / (slack + tau))
    return {"unit-gradients": a1, "bracket": a2, "slack": slack}


def check_instance(inst: Instance, kind: str = "positive", check: str = "claim4-shallow") -> Record:
    p = inst.params
    cert = certify(inst.obj, inst.theta)
    W, v = split(inst.model, inst.theta)
    extra = {"params": asdict(p), "verdict": cert.verdict.value, "strength": cert.strength, "loss": cert.loss,
             "grad_norm": cert.grad_norm, "lambda_min": cert.lambda_min, "margin": cert.margin, "note": inst.note,
             "min_abs_v": float(np.abs(v).min())}
    if not cert.certified:
        return Record(CLAIM_ID, check, kind=kind, certified=False, passed=None,
                      reason=f"not certified: {cert.verdict.value}: {cert.reason}", extra=extra)
    cert.require("hessian_resolution", "lambda_min")
    q = quantities(inst, eps_H=cert.hessian_resolution)
    if not q["basis"].gapped:
        return Record(CLAIM_ID, check, kind=kind, certified=False, passed=None,
                      reason=f"outside hypotheses: gapless numerical rank of [H, D-bar_sh] (gap {q['basis'].gap:.3g})", extra=extra)
    a = assertions(q)
    h = max(a["unit-gradients"], a["bracket"])
    extra.update(a1=a["unit-gradients"], a2=a["bracket"], units=q["units"], lo=q["lo"])
    return Record(CLAIM_ID, check, kind=kind, certified=True, passed=bool(h <= 1.0), gap=h, tol=1.0,
                  reason=f"max ||g_j|| = {max(q['g']):.3g}, min |v_j| = {extra['min_abs_v']:.3g}", extra=extra)


# ---------------------------------------------------------------- negative controls
def planted_saddle(m: int = 30, d_x: int = 3, d_1: int = 5, activation: str = "leaky_relu", seed: int = 0) -> Instance:
    """Every v_j = 0 and y orthogonal to span{a_j}: grad L = 0 exactly, L = 1/2||y||^2, but g_j != 0."""
    p = Params(m=m, d_x=d_x, d_1=d_1, activation=activation, seed=seed, zero_units=tuple(range(d_1)))
    rng = np.random.default_rng(seed)
    model = make_model(d_x, d_1, activation)
    X = _data(p, rng)
    theta = model.init(seed + 1)
    for j in range(d_1):
        theta[v_index(model, j)] = 0.0
    W, _ = split(model, theta)
    A = activations.get(activation)(torch.as_tensor(X @ W)).numpy()
    y = basis(A).project_out(rng.standard_normal(m))[:, None]
    return Instance(p, model, X, y, theta, note="planted saddle")


def control_planted_saddle(activation: str = "leaky_relu", seed: int = 0) -> Record:
    """The certifier must reject the planted saddle (SADDLE, lambda_min < 0) AND the uncertified identity must fail."""
    inst = planted_saddle(activation=activation, seed=seed)
    cert = certify(inst.obj, inst.theta)
    eps_H = cert.hessian_resolution if cert.hessian_resolution is not None else 0.0
    q = quantities(inst, eps_H=eps_H)
    a = assertions(q)
    L = q["L"]
    identity_gap = L - q["lo"]
    rejected = cert.verdict is Verdict.SADDLE and cert.lambda_min is not None and cert.lambda_min < 0
    identity_fails = identity_gap > tolerance.tau_fp(L) and a["unit-gradients"] > 1.0
    return Record(CLAIM_ID, f"control-planted-saddle-{activation}", kind="negative-control", certified=cert.certified,
                  detected=bool(rejected and identity_fails), gap=identity_gap, tol=tolerance.tau_fp(L),
                  reason=(f"{cert.verdict.value}, lambda_min={cert.lambda_min}, |grad|={cert.grad_norm:.2e}; "
                          f"L={L:.4g}, formula={q['lo']:.4g}; unit-gradient gap/tol {a['unit-gradients']:.3g}"),
                  extra={"lambda_min": cert.lambda_min, "grad_norm": cert.grad_norm, "L": L, "formula": q["lo"]})


def control_noncritical(seed: int = 2) -> Record:
    """The teacher start with half the output weights zeroed, before training: refused, and the identity fails."""
    p = Params(m=30, d_x=3, d_1=4, activation="tanh", seed=seed, zero_units=(0, 1), noise=0.5)
    rng = np.random.default_rng(p.seed)
    model = make_model(p.d_x, p.d_1, p.activation)
    X = _data(p, rng)
    y = rng.standard_normal((p.m, 1))
    theta = model.init(seed + 1)
    for j in p.zero_units:
        theta[v_index(model, j)] = 0.0
    inst = Instance(p, model, X, y, theta, note="init, not trained")
    cert = certify(inst.obj, inst.theta)
    q = quantities(inst, eps_H=0.0)
    gap = abs(q["L"] - q["lo"])
    tol = tolerance.tau_fp(q["L"])
    detected = (not cert.critical) and gap > 1e3 * tol
    return Record(CLAIM_ID, "control-noncritical-init", kind="negative-control", certified=cert.certified,
                  detected=detected, gap=gap, tol=tol, reason=f"{cert.verdict.value}; |L - formula| = {gap:.3g}")


CONTROLS = (control_planted_saddle, lambda: control_planted_saddle("tanh", 1), control_noncritical)


def run(cfg: RunConfig) -> list[Record]:
    rng = cfg.rng(4)
    records = [check_instance(build(draw_params(rng), time_budget=cfg.time_budget)) for _ in range(cfg.n_instances)]
    records += [c() for c in CONTROLS]
    return records


CLAIM = Claim(
    id=CLAIM_ID,
    title="One hidden layer: the second-order strengthening",
    source="Kawaguchi, Huang, Kaelbling, Neural Computation 31(7):1462-1498, 2019 (arXiv:1811.08150); derived",
    statement=("yhat = sigma(XW)v, scalar output: at every differentiable local minimum g_j = X^T D_j r = 0 for every "
               "unit (v_j = 0 included) and H^T r = 0, hence L = 1/2||P_N[[H, D-bar_sh]]y||^2."),
    hypotheses=("one hidden layer, scalar output, linear output layer, bias as a ones column of X",
                "sigma PL-homogeneous with margin > 0, or C^2",
                "C-min certificate (dense Hessian, lambda_min >= -eps_H, probe)",
                "numerical rank of [H, D-bar_sh] with a gap >= 1e3"),
    negative_controls=("planted saddle (all v_j = 0, y orthogonal to span{a_j}): certifier says SADDLE and the "
                       "identity fails", "non-critical initial point: refused and the identity fails"),
    run=run,
)
