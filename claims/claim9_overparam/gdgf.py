"""claim9f — gradient descent tracks gradient flow (CLAIMS.md claim9f; Elkabetz & Cohen 2021).

Deep linear net f(theta) = 1/2 ||W_L ... W_1 - Phi||_F^2, W_j in R^{d x d}, balanced init W_j = 0.3 Q_{j+1} Q_j^T
(Q_j random orthogonal), target Phi with det(Phi) of the initial product's sign (normalized to ||Phi||_F = sqrt(d)).
GF by scipy solve_ivp (DOP853, rtol 1e-11, atol 1e-12, dense output); GD theta_{k+1} = theta_k - eta grad f(theta_k).

One executed check per instance (Kind.TRAJECTORY; `certified=True`: it ran to a verdict, i.e. the stability
hypothesis eta max_t lambda_max(Hess f(theta(t))) <= 2 held along the GF path, sampled every 0.1 time units):
1. [a-posteriori bound, first order in eta] e_k = theta_k - theta(k eta) obeys e_{k+1} = (I - eta Hbar_k) e_k - l_k,
   l_k = theta(t_{k+1}) - theta(t_k) + eta grad f(theta(t_k)) (the local error, computed from the dense GF
   solution), Hbar_k the mean Hessian on [theta(t_k), theta_k]; with ||I - eta H|| <= 1 + eta m, m = max(0,
   -lambda_min(H)) (valid for eta lambda_max <= 2), E_{k+1} = (1 + eta m_k) E_k + ||l_k|| bounds ||e_k||. m_k is taken
   on the GF path (the max over the two neighbouring samples): Hbar_k - Hess(theta(t_k)) = O(||e_k||) = O(eta) is
   the neglected second-order term. Assert max_k ||e_k|| <= max_k E_k (= C eta, C reported) [characterization of a
   first-order bound].
2. [characterization, the handbook's tolerance] halving eta halves the error: max dev(eta) / max dev(eta/2) in
   2 +- 0.3 (compared on [0, T] at the times both grids share).
Recorded: int_0^T m dt and the final GF and GD losses. The handbook expects int m <= 1 for balanced init; measured
2.3-4.5 here (init scale 0.3 starts near the saddle at the origin, whose negative curvature m integrates while GF
escapes it), so that expectation is recorded, not asserted. T = 6.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from unittest import mock

import numpy as np
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from minimacheck.contract import Floor, Kind, Part, Sabotage, violation_detected

from .common import headroom, record

PART_ID = "claim9f"
STATEMENT = ("GD with step eta on a deep linear net from a balanced init stays within C eta of gradient flow at the "
             "same time, C from the a-posteriori Euler bound; the deviation is first order in eta.")
T_END = 6.0
HESS_DT = 0.1
RATIO_BAND = (1.7, 2.3)
INIT_SCALE = 0.3


@dataclass(frozen=True)
class Params:
    d: int
    depth: int
    eta: float
    seed: int
    step_over_lmax: float | None = None  # control: eta = step_over_lmax / max_t lambda_max (overrides eta)

    def validate(self) -> Params:
        if int(self.d) != self.d or self.d < 1 or int(self.depth) != self.depth or self.depth < 2:
            raise ValueError(f"claim9f: d >= 1 and depth >= 2 integers, got d={self.d!r}, depth={self.depth!r}")
        if not self.eta > 0:
            raise ValueError(f"claim9f: eta must be > 0, got {self.eta}")
        return self


def regime_of(p: Params) -> str:
    return f"depth-{p.depth}"


@st.composite
def _params(draw, regime: str | None = None):
    regime = regime or draw(st.sampled_from(sorted(REGIMES)))
    return Params(d=draw(st.integers(2, 4)), depth=int(regime.removeprefix("depth-")),
                  eta=draw(st.sampled_from((0.04, 0.02, 0.01))), seed=draw(st.integers(0, 2**31 - 1))).validate()


def strategy(regime: str | None = None):
    if regime is not None and regime not in REGIMES:
        raise ValueError(f"claim9f: unknown regime {regime!r}; known: {sorted(REGIMES)}")
    return _params(regime)


# ---------------------------------------------------------------- the problem
def problem(p: Params) -> tuple[np.ndarray, np.ndarray]:
    """(theta0, Phi): balanced init and a target whose determinant has the initial product's sign."""
    rng = np.random.default_rng(p.seed)
    Qs = [np.linalg.qr(rng.standard_normal((p.d, p.d)))[0] for _ in range(p.depth + 1)]
    Ws = [INIT_SCALE * Qs[j + 1] @ Qs[j].T for j in range(p.depth)]
    prod = _product(Ws)
    Phi = rng.standard_normal((p.d, p.d))
    if np.sign(np.linalg.det(Phi)) != np.sign(np.linalg.det(prod)):
        Phi[0] *= -1
    Phi *= math.sqrt(p.d) / np.linalg.norm(Phi)
    return np.concatenate([W.ravel() for W in Ws]), Phi


def _product(Ws):
    P = Ws[0]
    for W in Ws[1:]:
        P = W @ P
    return P


def _factors(theta: np.ndarray, d: int) -> list[np.ndarray]:
    return [theta[j * d * d:(j + 1) * d * d].reshape(d, d) for j in range(theta.size // (d * d))]


def loss(theta: np.ndarray, Phi: np.ndarray) -> float:
    E = _product(_factors(theta, Phi.shape[0])) - Phi
    return 0.5 * float(np.sum(E * E))


def grad(theta: np.ndarray, Phi: np.ndarray) -> np.ndarray:
    """d/dW_j = (W_L..W_{j+1})^T E (W_{j-1}..W_1)^T."""
    d = Phi.shape[0]
    Ws = _factors(theta, d)
    E = _product(Ws) - Phi
    out = []
    for j in range(len(Ws)):
        left = _product(Ws[j + 1:]) if j + 1 < len(Ws) else np.eye(d)
        right = _product(Ws[:j]) if j else np.eye(d)
        out.append(left.T @ E @ right.T)
    return np.concatenate([g.ravel() for g in out])


def hessian_extremes(theta: np.ndarray, Phi: np.ndarray, h: float = 1e-6) -> tuple[float, float]:
    """(lambda_min, lambda_max) of the Hessian by central differences of the analytic gradient (error ~h^2 ||D^3 f||,
    ~1e-11 here: far below the eigenvalues it resolves), symmetrized, dense eigvalsh in float64."""
    P = theta.size
    H = np.empty((P, P))
    for i in range(P):
        e = np.zeros(P)
        e[i] = h
        H[:, i] = (grad(theta + e, Phi) - grad(theta - e, Phi)) / (2 * h)
    w = np.linalg.eigvalsh(0.5 * (H + H.T))
    return float(w[0]), float(w[-1])


def gradient_flow(theta0: np.ndarray, Phi: np.ndarray, t_end: float):
    sol = solve_ivp(lambda t, th: -grad(th, Phi), (0.0, t_end), theta0, method="DOP853", rtol=1e-11, atol=1e-12,
                    dense_output=True)
    if not sol.success:
        raise RuntimeError(f"claim9f: solve_ivp failed: {sol.message}")
    return sol.sol


def gd(theta0: np.ndarray, Phi: np.ndarray, eta: float, steps: int) -> np.ndarray:
    out = np.empty((steps + 1, theta0.size))
    out[0] = theta = theta0
    for k in range(steps):
        theta = theta - eta * grad(theta, Phi)
        if not np.all(np.isfinite(theta)) or np.abs(theta).max() > 1e8:
            out[k + 1:] = np.nan
            break
        out[k + 1] = theta
    return out


def curvature_path(flow, Phi: np.ndarray, t_end: float) -> dict:
    ts = np.arange(0.0, t_end + 1e-12, HESS_DT)
    ext = np.array([hessian_extremes(flow(t), Phi) for t in ts])
    return dict(t=ts, m=np.maximum(0.0, -ext[:, 0]), lam_max=ext[:, 1])


def deviation(theta0, Phi, flow, curv, eta: float, t_end: float) -> dict:
    """max_k ||theta_k - theta(k eta)|| and the a-posteriori bound max_k E_k (module docstring)."""
    steps = int(round(t_end / eta))
    t = eta * np.arange(steps + 1)
    path = flow(t).T  # (steps + 1, P)
    traj = gd(theta0, Phi, eta, steps)
    dev = np.linalg.norm(traj - path, axis=1)
    local = path[1:] - path[:-1] + eta * np.array([grad(th, Phi) for th in path[:-1]])
    idx = np.minimum((t[:-1] / HESS_DT).astype(int), curv["m"].size - 2)
    m = np.maximum(curv["m"][idx], curv["m"][idx + 1])
    E = np.zeros(steps + 1)
    for k in range(steps):
        E[k + 1] = (1 + eta * m[k]) * E[k] + np.linalg.norm(local[k])
    return dict(t=t, dev=dev, bound=E, max_dev=float(np.nanmax(dev)) if np.isfinite(dev).any() else math.inf,
                max_bound=float(E.max()), diverged=bool(not np.all(np.isfinite(dev))), final_gd=traj[-1])


def run(p: Params) -> dict:
    p.validate()
    theta0, Phi = problem(p)
    flow = gradient_flow(theta0, Phi, T_END)
    curv = curvature_path(flow, Phi, T_END)
    lam_max = float(curv["lam_max"].max())
    eta = p.eta if p.step_over_lmax is None else p.step_over_lmax / lam_max
    coarse = deviation(theta0, Phi, flow, curv, eta, T_END)
    fine = deviation(theta0, Phi, flow, curv, eta / 2, T_END)
    return dict(eta=eta, lam_max=lam_max, int_m=float(np.sum(curv["m"][:-1]) * HESS_DT), coarse=coarse, fine=fine,
                gf_loss=loss(flow(T_END), Phi),
                gd_loss=loss(coarse["final_gd"], Phi) if not coarse["diverged"] else math.inf)


def gd_gf_deviation_vs_eta(p: Params, etas=(0.04, 0.02, 0.01, 0.005)) -> dict:
    """Figure data: max ||theta_k - theta(k eta)|| and the a-posteriori bound against eta."""
    theta0, Phi = problem(p)
    flow = gradient_flow(theta0, Phi, T_END)
    curv = curvature_path(flow, Phi, T_END)
    devs = [deviation(theta0, Phi, flow, curv, eta, T_END) for eta in etas]
    return dict(eta=np.array(etas), deviation=np.array([q["max_dev"] for q in devs]),
                bound=np.array([q["max_bound"] for q in devs]))


# ---------------------------------------------------------------- the check
def check(p: Params, *, hypotheses: bool = True):
    q = run(p)
    c, f = q["coarse"], q["fine"]
    ratio = c["max_dev"] / f["max_dev"] if f["max_dev"] > 0 else math.inf
    stable = q["eta"] * q["lam_max"] <= 2.0
    extra = {"params": asdict(p), "eta": q["eta"], "lam_max": q["lam_max"], "eta_lam_max": q["eta"] * q["lam_max"],
             "int_m": q["int_m"], "max_dev": c["max_dev"], "bound": c["max_bound"], "C": c["max_bound"] / q["eta"],
             "dev_over_eta": c["max_dev"] / q["eta"], "max_dev_half": f["max_dev"], "bound_half": f["max_bound"],
             "ratio": ratio, "gf_loss": q["gf_loss"], "gd_loss": q["gd_loss"], "diverged": c["diverged"]}
    rec = dict(regime=regime_of(p))
    if hypotheses and not stable:
        return record(PART_ID, "claim9f-gd-gf", **rec, certified=False, extra=extra,
                      reason=f"outside hypotheses: eta lambda_max = {extra['eta_lam_max']:.3g} > 2")
    lo, hi = RATIO_BAND
    h = headroom((c["max_dev"], c["max_bound"]), (f["max_dev"], f["max_bound"]), (lo, ratio), (ratio, hi))
    return record(PART_ID, "claim9f-gd-gf", **rec, certified=stable, passed=h <= 1.0, gap=h, tol=1.0, extra=extra,
                  reason=f"eta {q['eta']:.3g}: max dev {c['max_dev']:.3g} vs bound {c['max_bound']:.3g} (C = "
                         f"{extra['C']:.3g}); ratio dev(eta)/dev(eta/2) = {ratio:.3g}; int m = {q['int_m']:.3g}")


# ---------------------------------------------------------------- controls, sabotages
def control_large_step(part) -> object:
    """eta = 3 / max_t lambda_max: GD no longer tracks GF to first order, the ratio dev(eta)/dev(eta/2) leaves
    2 +- 0.3 (measured 2.65; at 4/lambda_max 6.2). The handbook's 2.5/lambda_max is NOT caught: there GD settles into
    a bounded oscillation (max deviation 0.40, ratio 1.77, inside the band) although its loss stalls (0.093 against
    GF's 0.0019 at T = 15): the deviation bound and the first-order ratio do not see a stalled loss."""
    rec = part.check(Params(d=4, depth=3, eta=0.04, seed=51, step_over_lmax=3.0), hypotheses=False)
    return violation_detected(replace(rec, check="control-large-step"), rec.extra["eta_lam_max"] > 2.0)


CONTROLS = {"large-step": control_large_step}


def _gd_double_step(theta0, Phi, eta, steps):
    """A broken GD: each step twice as long as the flow time it is compared at."""
    return _gd(theta0, Phi, 2 * eta, steps)


_gd = gd
PINNED = {
    "handbook-d4-depth3": Params(d=4, depth=3, eta=0.02, seed=1),
    "depth2-eta004": Params(d=3, depth=2, eta=0.04, seed=2),
}
SABOTAGES = {
    "gd-double-step": Sabotage(
        inject=lambda: mock.patch(f"{__name__}.gd", _gd_double_step),
        run=lambda part: [part.check(PINNED["handbook-d4-depth3"])],
        description="GD run with 2 eta against GF at k eta: an O(1) deviation, far above the O(eta) bound"),
}

REGIMES = {
    "depth-2": Floor(1.0, 2, "2/2"),
    "depth-3": Floor(1.0, 2, "2/2"),
}

PART = Part(id=PART_ID, statement=STATEMENT, strategy=strategy, check=check, check_at=None, regime_of=regime_of,
            regimes=REGIMES, pinned=PINNED, controls=CONTROLS, sabotages=SABOTAGES, kind=Kind.TRAJECTORY)
