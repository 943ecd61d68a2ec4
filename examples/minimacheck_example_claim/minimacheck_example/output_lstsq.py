"""minimacheck_example.output_lstsq: at a local minimum, the output layer solves its least-squares problem.

Model: a one-hidden-layer tanh net Yhat = [H 1] W2, H = tanh([X 1] W1), loss L = 1/2 ||Yhat - Y||_F^2. The loss is
a convex quadratic in W2 for fixed W1, so at ANY critical point (a fortiori a certified local minimum) W2 minimizes
it: L = 1/2 ||P_N[[H 1]] Y||_F^2, the least-squares value of regressing Y on the hidden features.

Check (Lemma P): the gradient in W2 is [H 1]^T R, so with g = ||grad L|| and s = sigma_min^+([H 1]),
  -tau_fp <= L - LS <= 1/2 (g / s)^2 + tau_fp.
Only the public API is used: minimacheck.contract, minimacheck.ledger.Record, and the engine (networks).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from unittest import mock

import numpy as np
import torch
from hypothesis import strategies as st

from minimacheck.contract import Claim, Evidence, Floor, Kind, Part, Sabotage, violation_detected
from minimacheck.ledger import Record
from networks import MLP, certify, minimize, squared_loss
from networks.tolerance import tau_fp

CLAIM_ID = "minimacheck_example.output_lstsq"
STATEMENT = ("one hidden tanh layer, linear output with bias: at a certified local minimum L = 1/2||P_N[[H 1]]Y||^2, "
             "the least-squares value of the output layer on the hidden features")
NOISE = {"small-noise": 0.02, "large-noise": 0.1}  # the regimes: teacher targets plus Gaussian noise
MAX_ITER = 60  # iterations from the teacher's weights: the binding limit (no wall clock)


@dataclass(frozen=True)
class Params:
    m: int
    d_x: int
    width: int
    d_y: int
    seed: int
    noise: str = "small-noise"


@dataclass
class Instance:
    params: Params
    model: MLP
    X: np.ndarray
    Y: np.ndarray
    theta: torch.Tensor

    @property
    def obj(self):
        return squared_loss(self.model, self.X, self.Y)


def regime_of(p: Params) -> str:
    return p.noise


def strategy(regime: str | None = None):
    """m, d_x, width, d_y, the seed and the noise level (the regime)."""
    if regime is not None and regime not in NOISE:
        raise ValueError(f"unknown regime {regime!r}; known: {sorted(NOISE)}")
    noises = sorted(NOISE) if regime is None else [regime]
    return st.builds(Params, m=st.integers(8, 20), d_x=st.integers(1, 2), width=st.integers(1, 2),
                     d_y=st.integers(1, 2), seed=st.integers(0, 2**31 - 1), noise=st.sampled_from(noises))


def build(p: Params) -> Instance:
    """Data from a teacher net of the student's architecture (m >= 4 P samples), trained from the teacher's
    weights with networks.minimize (iteration limit only)."""
    model = MLP(p.d_x, (p.width,), p.d_y, "tanh")
    rng = np.random.default_rng([p.seed, 11])
    m = max(p.m, 4 * model.n_params)
    X = rng.standard_normal((m, p.d_x))
    teacher = torch.as_tensor(0.8 * rng.standard_normal(model.n_params))
    Y = model.forward(teacher, torch.as_tensor(X)).detach().numpy() + NOISE[p.noise] * rng.standard_normal((m, p.d_y))
    res = minimize(squared_loss(model, X, Y), teacher, max_iter=MAX_ITER)
    return Instance(p, model, X, Y, res.theta)


def features(inst: Instance, theta) -> np.ndarray:
    _, hs = inst.model.hidden(torch.as_tensor(theta, dtype=torch.float64), torch.as_tensor(inst.X))
    H = hs[-1].detach().numpy()
    return np.hstack([H, np.ones((H.shape[0], 1))])


def ls_value(F: np.ndarray, Y: np.ndarray) -> float:
    """min_B 1/2 ||F B - Y||^2 (numpy least squares)."""
    B = np.linalg.lstsq(F, Y, rcond=None)[0]
    return 0.5 * float(((F @ B - Y) ** 2).sum())


def check_at(inst: Instance, theta=None, *, hypotheses: bool = True) -> Record:
    theta = inst.theta if theta is None else torch.as_tensor(theta, dtype=torch.float64)
    cert = certify(inst.obj, theta)
    extra = {"params": asdict(inst.params), "verdict": cert.verdict.value, "loss": cert.loss, "grad_norm": cert.grad_norm}
    rec = dict(regime=regime_of(inst.params), trained=True)
    if hypotheses and not cert.certified:
        return Record(CLAIM_ID, "output-lstsq", certified=False, reason=f"not certified: {cert.verdict.value}: {cert.reason}",
                      extra=extra, **rec)
    F = features(inst, theta)
    s = np.linalg.svd(F, compute_uv=False)
    s_plus = float(s[s > max(F.shape) * np.finfo(float).eps * s[0]].min())
    # Lemma P's slack is a certificate-derived tolerance: it applies at a certified point only
    slack = 0.5 * (cert.grad_norm / s_plus) ** 2 if cert.certified else 0.0
    L, LS = cert.loss, ls_value(F, inst.Y)
    tol = tau_fp(L)
    gap = max(LS - L, L - LS - slack)  # <= tol inside the bracket
    extra.update(ls=LS, slack=slack)
    return Record(CLAIM_ID, "output-lstsq", certified=cert.certified, passed=bool(gap <= tol), gap=max(gap, 0.0) + 0.0,
                  tol=tol, extra=extra, reason=f"{cert.verdict.value}; L - LS = {L - LS:.3g}, slack {slack:.3g}", **rec)


def check(p: Params) -> Record:
    return check_at(build(p))


# ---------------------------------------------------------------- negative control
def control_moved_output(part: Part) -> Record:
    """A certified minimum with its output layer moved: no longer a least-squares solution. The claim's own check
    (hypotheses off) must see the violation, and the certifier must refuse the point."""
    inst = build(PINNED["teacher-small"])
    W_out = inst.model.weight_shapes[-1]
    theta = inst.theta.clone()
    theta[-W_out[0] * W_out[1]:] += 0.5
    rec = part.check_at(inst, theta, hypotheses=False)
    refused = not certify(inst.obj, theta).certified
    return violation_detected(replace(rec, check="control-moved-output-layer"), refused)


# ---------------------------------------------------------------- sabotage
_ls_value = ls_value
SABOTAGES = {
    "baseline-one-percent-low": Sabotage(
        inject=lambda: mock.patch(f"{__name__}.ls_value", lambda F, Y: 0.99 * _ls_value(F, Y)),
        run=lambda part: [part.check(PINNED["two-outputs"])],
        description="the least-squares value 1% low breaks the bracket (noisy targets: LS > 0)"),
}

PINNED = {
    "teacher-small": Params(m=12, d_x=2, width=2, d_y=1, seed=3),
    "two-outputs": Params(m=10, d_x=1, width=2, d_y=2, seed=4, noise="large-noise"),
}
CONTROLS = {"moved-output-layer": control_moved_output}
REGIMES = {
    "small-noise": Floor(0.66, 3, "3/3 at seed 0 (2026-11-29)"),
    "large-noise": Floor(0.33, 3, "3/3 at seed 0 (2026-11-29)"),
}

CLAIM = Claim(
    id=CLAIM_ID,
    title="Example (external): the output layer solves its least-squares problem at a local minimum",
    source="folklore (convexity of the loss in the last layer); minimacheck example package",
    statement=STATEMENT,
    hypotheses=("one hidden tanh layer, linear output layer with bias", "certified local minimum (C-min)"),
    evidence=Evidence.CERTIFIED,
    parts=(Part(id=CLAIM_ID, statement=STATEMENT, strategy=strategy, check=check, check_at=check_at, kind=Kind.POINT,
                regime_of=regime_of, regimes=REGIMES, pinned=PINNED, controls=CONTROLS, sabotages=SABOTAGES),),
)
