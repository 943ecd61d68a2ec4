"""Multi-start search for a certified local minimum, with early detection of minima at infinity.

Why. Under-parameterized smooth nets (tanh, cross-entropy-like saturation) often follow a ray to a minimum at
infinity: the gradient decays along it, so a trainer spends its whole budget on one such start. We train in chunks
of `escape_check` iterations and stop a start at the first chunk boundary where (a) ||theta|| grew by more than
ESCAPE_GROWTH over the chunk, (b) the loss still falls along the ray theta -> (1+s) theta (train.radial_escape),
(c) it still falls at s = 1 (doubling theta lowers the loss) and (d) ||theta|| is at least ESCAPE_START_RATIO times
its start value: the escape is recorded (direction, loss along the ray) and the next start runs. A planted escape is
thus stopped within escape_check iterations of the first check at which (a)-(d) hold (tests: <= 3 checks).
Not detected: saturation (tanh units turning into steps, the loss approaching a limit it never attains; e.g. every
start of the digits report cells tanh 2-8 and 3-8: loss -> l = 0.1, ||theta|| 20 -> 31 over 1,000 iterations,
||grad|| ~1e-5). ||theta|| grows ~1% per chunk, so (a) never fires; the ray theta -> (1+s) theta RISES (it scales the
linear read-out too), and so does the extrapolation theta + c d of a chunk's motion d (c = 10: +1e-3..1e-2; the
valley is curved). Such runs end NOT_CONVERGED at the iteration limit, which is the honest verdict.
(c) and (d) were added after measuring false alarms: with (a) and (b) alone, EVERY start of the bench's
under-parameterized tanh groups was stopped after 10-30 iterations (a non-stationary point's gradient often points
outwards early on, so (b) holds for small s), while with (a)-(d) deep2-tanh-teacher certified 1/8 and 3/8 starts
(seeds 0, 1) and multi-tanh-teacher seed 0 1/8, instead of 0/8 each.

Under-parameterized smooth nets (P < residual rows) first follow a ridge path (`ridge_homotopy`: L + lam/2 ||theta||^2,
lam relative to L(theta0) / ||theta0||^2, four decreasing weights): the path stays bounded where plain runs mostly head
to minima at infinity; nothing is certified against the regularized objective.

Piecewise-linear squared losses end on kinks; each start of a PL net first runs the smoothing homotopy
(`smoothing_homotopy`: the net trained through softplus smoothings of its activation, tau = 0.3 .. 0.001), then the
trainer on the real net; with allow_kinks=True it then alternates networks.kinks.polish_on_kinks (converge ALONG the
kink manifold, at most `polish_iter` iterations) with certify(allow_kinks=True): a kink saddle's verified witness
step leaves the kink, and the polish resumes from there, up to `kink_rounds` times. (The pattern polish,
networks.minimize_piecewise, served here before; see smoothing_homotopy for the measurements that replaced it.)

Reproducibility. Start i is drawn by init(numpy.random.default_rng([seed, i])) and converted to float64, so the
starts do not depend on torch's default dtype or global RNG; what is certified depends on iteration limits only
(`time_budget` is a safety net that skips the remaining starts, default None).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch

from networks.certify import Certificate, Verdict, certify
from networks.kinks import polish_on_kinks
from networks.models import MLP
from networks.objective import Objective, squared_loss, with_ridge
from networks.train import TrainResult, minimize, radial_escape

Tensor = torch.Tensor
ESCAPE_GROWTH = 1.05  # ||theta|| growth over one chunk that, with a falling ray, marks a run heading to infinity
RAY_STEPS = (1e-3, 1e-2, 1e-1, 1.0)
ESCAPE_START_RATIO = 2.0  # an escape must also have at least doubled ||theta|| since the start
SMOOTHING_TAUS = (0.3, 0.1, 0.03, 0.01, 0.003, 0.001)  # PL nets: the smoothing homotopy's temperatures
SMOOTHING_ITERS = 60  # iterations per temperature
RIDGE_SCALES = (1e-2, 1e-3, 1e-4, 1e-5)  # smooth nets: the ridge homotopy's weights (relative to L(theta0) / ||theta0||^2)
RIDGE_ITERS = 20  # ... and iterations per weight
PL_TRAIN_ITER = 30  # PL nets: iterations on the real net after the homotopy, before the kink rounds (find_minimum)
PLATEAU_ITER = 200  # continued-descent iterations that test a probe-strength certificate (plateau_check)
PLATEAU_GROWTH = 0.01  # ... which it withdraws if the loss falls (resolvably) while ||theta|| grows by > 1%
EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Escape:
    """A start stopped because it heads to a minimum at infinity."""

    iteration: int  # iterations run when the escape was detected
    theta_norm_start: float
    theta_norm: float
    direction: tuple  # theta / ||theta|| at detection
    ray: tuple  # ((s, L((1+s) theta)), ...) for s in RAY_STEPS, s = 0 first
    reason: str


@dataclass(frozen=True)
class StartRecord:
    index: int
    theta0: Tensor
    train: TrainResult
    certificate: Certificate
    escape: Escape | None
    kink_rounds: int  # polish/certify rounds at kinks (0: none ran)


@dataclass(frozen=True)
class MultiStartResult:
    starts: tuple[StartRecord, ...]
    best: StartRecord | None  # lowest-loss certified start
    seed: int
    skipped: int  # starts not run because `time_budget` ran out

    @property
    def n_certified(self) -> int:
        return sum(s.certificate.certified for s in self.starts)

    @property
    def escapes(self) -> tuple[Escape, ...]:
        return tuple(s.escape for s in self.starts if s.escape is not None)


def mlp_init(model: MLP, scale: float = 1.0) -> Callable[[np.random.Generator], np.ndarray]:
    """He/Glorot-style draws N(0, scale^2 / fan_in) from a numpy Generator (skip weights 0), in float64."""
    def init(rng: np.random.Generator) -> np.ndarray:
        parts = [rng.standard_normal(r * c) * (scale / np.sqrt(r)) for r, c in model.weight_shapes]
        parts.append(np.zeros(model.skip_dim * model.d_out))
        return np.concatenate(parts)[model._free.numpy()]
    return init


def train_with_escape_check(obj: Objective, theta0: Tensor, *, max_iter: int = 400, escape_check: int = 10,
                            rel_grad_tol: float = 1e-9) -> tuple[TrainResult, Escape | None]:
    """networks.minimize, watched every `escape_check` iterations (one run of the optimizer, never restarted) and
    stopped when it heads to infinity.

    Until 2026-11-29 the run was restarted every `escape_check` iterations (fresh Levenberg-Marquardt damping). One
    watched run certified as many bench starts (400 iterations, 16 starts per group: deep2-tanh-teacher 0 vs 4,
    deep3-tanh-teacher 2 vs 1, multi-tanh-teacher 3 vs 1, rankdef-tanh-teacher 2 vs 1, deep2-tanh-random 2 vs 2: 9
    vs 9) in ~70% of the time, and more runs of claim5's pinned synthetic sweep (24 vs 20 of 36 at 200 iterations)."""
    if escape_check < 1:
        raise ValueError(f"escape_check must be >= 1, got {escape_check}")
    theta0 = torch.as_tensor(theta0, dtype=torch.float64)
    n0 = float(theta0.norm())
    state = dict(n_before=n0, escape=None)

    def monitor(theta, done):
        if done % escape_check:
            return False
        state["escape"] = _escape(obj, theta, obj.value(theta), state["n_before"], n0, done)
        state["n_before"] = float(theta.norm())
        return state["escape"] is not None

    res = minimize(obj, theta0, rel_grad_tol=rel_grad_tol, max_iter=max_iter, monitor=monitor)
    escape = state["escape"]
    if escape is not None:
        res.converged, res.reason = False, escape.reason
    return res, escape


def _escape(obj, theta, loss, n_before, n0, it) -> Escape | None:
    n = float(theta.norm())
    if not (math.isfinite(loss) and n > ESCAPE_GROWTH * n_before):
        return None
    tol = 1e-11 * (1 + abs(loss))
    if n < ESCAPE_START_RATIO * n0:
        return None
    s = radial_escape(obj, theta, loss, tol)
    if s is None:
        return None
    ray = ((0.0, loss),) + tuple((r, obj.value((1 + r) * theta)) for r in RAY_STEPS)
    if not ray[-1][1] < loss - tol:  # the loss no longer falls at s = 1: a finite minimum along the ray
        return None
    return Escape(it, n0, n, tuple((theta / n).tolist()), ray,
                  f"minimum at infinity: ||theta|| {n_before:.3g} -> {n:.3g} over the last chunk and the loss falls along "
                  f"the ray (s={s:g}); stopped at iteration {it}")


def smoothing_homotopy(obj: Objective, theta0: Tensor, *, taus=SMOOTHING_TAUS, iters: int = SMOOTHING_ITERS) -> Tensor:
    """Train the piecewise-linear net of `obj` through its softplus smoothings (networks.activations.smoothed) with
    tau = taus[0], taus[1], ... (`iters` iterations each), from theta0; returns the end point.

    Why: Levenberg-Marquardt on the PL net itself stalls at the first kink it meets (one-sided derivatives make its
    model wrong across the kink, the damping grows: 'slow' after 20-100 iterations, L 0.03-1.7 on the synthetic
    report cells, also when P >= m), and the pattern polish never settles where minima sit on kinks. Through the
    smoothings the same starts reached zero loss in 0.1-1.4 s on every over-parameterized deep cell tried (2-8, 3-8:
    4/4, certified), and ended on few kink entries (k = 2..8) elsewhere, where the kink rounds certify (3-4, 3-2, 1-8:
    4/6 starts, against 0/24 with the pattern polish)."""
    d = obj.piecewise
    theta = torch.as_tensor(theta0, dtype=torch.float64)
    for tau in taus:
        model = replace(d.model, activation=f"smoothed:{tau:g}:{d.model.activation}")
        theta = minimize(squared_loss(model, d.X, d.Y, skip_input=d.skip_input, device=obj.device), theta,
                         max_iter=iters).theta
    return theta


def ridge_homotopy(obj: Objective, theta0: Tensor, *, scales=RIDGE_SCALES, iters: int = RIDGE_ITERS) -> Tensor:
    """Train obj + lam/2 ||theta||^2 with lam = c L(theta0) / max(||theta0||^2, 1) for c in `scales` (decreasing),
    `iters` iterations each, from theta0; returns the end point (the unregularized training and the certificate
    follow in find_minimum).

    Why: under-parameterized tanh nets mostly follow a valley to a minimum at infinity (units saturating into steps);
    from the same starts the regularization path stays bounded and ends near finite minima (Tikhonov continuation)."""
    theta = torch.as_tensor(theta0, dtype=torch.float64)
    lam0 = abs(obj.value(theta)) / max(float(theta @ theta), 1.0)
    for c in scales:
        theta = minimize(with_ridge(obj, c * lam0), theta, max_iter=iters).theta
    return theta


def _residual_rows(obj: Objective, theta: Tensor) -> int | None:
    """Entries of a squared loss's residual (m d_y, plus any regularizer rows); None without a residual."""
    return None if obj.residual is None else int(obj.residual(theta).numel())


def _train(obj, theta0, max_iter, pl_train_iter, escape_check, ridge):
    if obj.piecewise is None:
        # only under-parameterized squared losses (P < residual rows) have the competing minima at infinity the ridge
        # path avoids; over-parameterized ones reach zero loss directly (bench group tanh-teacher-over: 16/16 starts
        # either way, 0.14 s against 0.006 s per certified minimum with the homotopy)
        rows = _residual_rows(obj, theta0)
        ridge = ridge if rows is None or obj.n_params < rows else ()
        if ridge:
            theta0 = ridge_homotopy(obj, theta0, scales=ridge)
        res, escape = train_with_escape_check(obj, theta0, max_iter=max_iter, escape_check=escape_check)
        if ridge:
            res.reason = f"ridge homotopy ({len(ridge) * RIDGE_ITERS} iterations), then {res.reason}"
        return res, escape
    # PL nets: through the smoothings first, then the real net
    res, escape = train_with_escape_check(obj, smoothing_homotopy(obj, theta0), max_iter=pl_train_iter,
                                         escape_check=escape_check)
    res.reason = f"smoothing homotopy (<= {len(SMOOTHING_TAUS) * SMOOTHING_ITERS} iterations), then {res.reason}"
    return res, escape


def _kink_rounds(obj, theta, cert_kw, kink_rounds, polish_iter):
    """Polish along the kinks and certify; step along a verified witness and repeat."""
    cert, rounds = None, 0
    for rounds in range(1, kink_rounds + 1):  # noqa: B007 -- returned after the loop
        theta = polish_on_kinks(obj, theta, max_iter=polish_iter).theta
        cert = certify(obj, theta, allow_kinks=True, **cert_kw)
        if cert.verdict not in (Verdict.SADDLE, Verdict.NOT_CONVERGED) or cert.witness is None:
            break
        theta = theta + torch.as_tensor(cert.witness, dtype=torch.float64)
    return theta, cert, rounds


def plateau_check(obj: Objective, theta: Tensor, cert: Certificate, *, max_iter: int = PLATEAU_ITER,
                  theta_norm_start: float | None = None) -> tuple[Certificate, Escape | None]:
    """Refute a 'probe' certificate that sits on a plateau on the way to a minimum at infinity.

    Why: a probe-strength certificate (near-null Hessian directions no symmetry explains) is evidence at the probe's
    radii (<= 0.1) and resolution (1e-11 (1 + L)). Saturating tanh nets reach such points on their way to a minimum at
    infinity: measured on the digits report cell tanh 2-4 (seed 0), a point certified at L = 12.50000000026 went on to
    L = 12.5000000000194 with ||theta|| 31.6 -> 34.3 in 500 more Newton iterations (limit 12.5 = l 0.5, never
    attained); on the width-2 cells (l -> 0.7) the certified points sat 8e-12 .. 1.3e-10 above the limit, below the
    probe's tolerance 1.85e-10, and 2,000 more iterations went on down while ||theta|| grew 5-10%. We continue the
    descent from theta for `max_iter` iterations (gradient tolerance 1e-15); when the loss falls by more than its
    rounding (n_res eps (1 + L), n_res residual entries) while ||theta|| grows by more than PLATEAU_GROWTH, the
    certificate is replaced by NOT_CONVERGED ('minimum at infinity') and the escape recorded. A converged finite
    minimum does not move outwards by 1% under Newton steps; a degenerate one may creep, but not while its loss falls
    resolvably. Only ever withdraws a certificate."""
    if not (cert.certified and cert.strength is not None and cert.strength.startswith("probe")):
        return cert, None
    theta = torch.as_tensor(theta, dtype=torch.float64)
    res = minimize(obj, theta, rel_grad_tol=1e-15, max_iter=max_iter)
    n, n1 = float(theta.norm()), float(res.theta.norm())
    drop = cert.loss - res.loss
    # resolvable: above the rounding of the loss's sum of n_res squares (n_res eps (1 + L)), not the probe tolerance:
    # the plateau's remaining drop is below the probe's 1e-11 (1 + L) by construction
    n_res = _residual_rows(obj, theta) or obj.n_params
    tol = n_res * EPS * (1 + abs(cert.loss))
    if not (math.isfinite(res.loss) and drop > tol and n1 > (1 + PLATEAU_GROWTH) * n):
        return cert, None
    d = res.theta - theta
    reason = (f"minimum at infinity: continued descent ({res.iterations} iterations) lowered the loss by {drop:.3e} > "
              f"its rounding {tol:.1e} while ||theta|| grew {n:.4g} -> {n1:.4g}; the probe certificate "
              f"({cert.null_dim} near-null directions) is withdrawn")
    escape = Escape(res.iterations, n if theta_norm_start is None else theta_norm_start, n1,
                    tuple((d / d.norm()).tolist()), ((0.0, cert.loss), (1.0, res.loss)), reason)
    return replace(cert, verdict=Verdict.NOT_CONVERGED, reason=reason, strength=None), escape


def _one_start(obj, index, theta0, *, max_iter, pl_train_iter, allow_kinks, escape_check, kink_rounds, polish_iter,
               cert_kw, ridge) -> StartRecord:
    res, escape = _train(obj, theta0, max_iter, pl_train_iter, escape_check, ridge)
    cert = certify(obj, res.theta, allow_kinks=allow_kinks, **cert_kw)
    if escape is None:
        cert, escape = plateau_check(obj, res.theta, cert, theta_norm_start=float(theta0.norm()))
    rounds = 0
    if allow_kinks and obj.piecewise is not None and escape is None and not cert.certified and math.isfinite(res.loss):
        theta, cert, rounds = _kink_rounds(obj, res.theta, cert_kw, kink_rounds, polish_iter)
        loss, g = obj.value_and_grad(theta)
        res.theta, res.loss, res.grad_norm = theta, float(loss), float(g.norm())
        res.reason += f"; {rounds} kink polish round(s)"
    return StartRecord(index, theta0, res, cert, escape, rounds)


def find_minimum(obj: Objective, init: Callable[[np.random.Generator], object] | None = None, *, starts: int = 8,
                 seed: int = 0, max_iter: int = 400, allow_kinks: bool = True, theta0=None, escape_check: int = 10,
                 kink_rounds: int = 8, polish_iter: int = 100, time_budget: float | None = None,
                 certify_kwargs: dict | None = None, until_certified: int | None = None,
                 pl_train_iter: int = PL_TRAIN_ITER, ridge: tuple = RIDGE_SCALES) -> MultiStartResult:
    """Train from `starts` starting points and certify each; `best` is the lowest-loss certified start.

    init(rng) returns a start (length obj.n_params) from a numpy Generator; default for PL squared losses of an MLP:
    mlp_init(model). `theta0`, when given, is start 0 (and init draws the others). `until_certified=c` stops after
    the c-th certified start (the remaining starts are not run and not counted as skipped): the sweeps need one
    certified minimum per (cell, seed), not K.

    max_iter bounds the training of smooth nets. Piecewise-linear nets train through the smoothing homotopy, then
    `pl_train_iter` iterations on the real net, then the kink rounds: on the real net Levenberg-Marquardt and Newton
    stall at kinks, so more iterations there buy nothing. Measured on the bench's leaky groups (2 x 2 instances,
    8 starts): 0, 30 and 100 real-net iterations certified the same 31, 32 and 30 of 32 starts with the same losses,
    in 18, 18 and 28 s; 400 iterations took 72 s (Newton's backtracking at kinks: ~23 loss evaluations per step).

    Under-parameterized smooth nets (P < residual rows; every smooth objective without a residual) first run the
    ridge homotopy (`ridge`: its relative weights, RIDGE_SCALES; () turns it off), then max_iter iterations on the
    real objective; see ridge_homotopy."""
    if starts < 1:
        raise ValueError(f"starts must be >= 1, got {starts}")
    if pl_train_iter < 0:
        raise ValueError(f"pl_train_iter must be >= 0, got {pl_train_iter}")
    ridge = tuple(float(c) for c in (ridge or ()))
    if not all(c > 0 and math.isfinite(c) for c in ridge):
        raise ValueError(f"ridge weights must be finite and > 0, got {ridge}")
    if until_certified is not None and until_certified < 1:
        raise ValueError(f"until_certified must be >= 1 or None, got {until_certified}")
    if init is None:
        if obj.piecewise is None:
            raise ValueError("find_minimum needs init(rng) -> theta for an objective without an MLP model")
        init = mlp_init(obj.piecewise.model)
    cert_kw = dict(certify_kwargs or {})
    t0, records, skipped = time.perf_counter(), [], 0
    for i in range(starts):
        if time_budget is not None and time.perf_counter() - t0 > time_budget:
            skipped = starts - i
            break
        th = theta0 if (i == 0 and theta0 is not None) else init(np.random.default_rng([seed, i]))
        th = torch.as_tensor(np.asarray(th, dtype=np.float64) if not isinstance(th, Tensor) else th,
                             dtype=torch.float64).detach().clone()
        if th.shape != (obj.n_params,):
            raise ValueError(f"start {i} has shape {tuple(th.shape)}, expected ({obj.n_params},)")
        records.append(_one_start(obj, i, th, max_iter=max_iter, pl_train_iter=pl_train_iter, allow_kinks=allow_kinks,
                                  escape_check=escape_check, kink_rounds=kink_rounds, polish_iter=polish_iter,
                                  cert_kw=cert_kw, ridge=ridge))
        if until_certified is not None and sum(r.certificate.certified for r in records) >= until_certified:
            break
    certified = [r for r in records if r.certificate.certified]
    best = min(certified, key=lambda r: r.certificate.loss) if certified else None
    return MultiStartResult(tuple(records), best, seed, skipped)


def find_minimum_mlp(model: MLP, X, Y, *, init_scale: float = 1.0, **kwargs) -> MultiStartResult:
    """find_minimum on the squared loss 1/2 ||Yhat - Y||^2 of `model`, starts from mlp_init(model, init_scale)."""
    return find_minimum(squared_loss(model, X, Y), mlp_init(model, init_scale), **kwargs)
