"""`minimacheck bench`: certification yield and time per certified local minimum, project trainer vs alternatives.

What is measured
----------------
On a fixed instance set (below) every method starts from the SAME initial parameters of the SAME objective, in the
same process, one after the other, and gets the SAME wall-clock budget per instance (the group's `budget_s`):

- ``project``: ``networks.minimize(obj, theta0, time_budget=B, max_iter=10**6)`` (Levenberg-Marquardt + Newton
  polish; max_iter is raised so that, like the alternatives, it stops only at the gradient tolerance or the budget).
- ``scipy``: ``scipy.optimize.minimize(method='L-BFGS-B', jac=True)`` with ``ftol=2.2e-15`` (factr=10, the
  "extremely high accuracy" setting of the L-BFGS-B authors), ``gtol=0``, ``maxcor=20``, unlimited iterations, then
  ``method='trust-krylov'`` from the L-BFGS-B end point with ``hessp`` = exact Hessian-vector products
  (``Objective.hvp``: forward-over-reverse torch.func). Loss and gradient come from plain ``torch.autograd`` (what a
  researcher would write; it is also faster per call than ``torch.func.grad_and_value``).
- ``adam``: full-batch ``torch.optim.Adam(lr=ADAM_LR)`` (default betas, no schedule). ADAM_LR = 1e-2 was tuned ONCE
  on instances outside the set (seed 7; 4 s budget) over {1e-3, 3e-3, 1e-2, 3e-2, 1e-1}: it reached the tolerance
  on a tanh teacher instance (as did 3e-2 and 1e-1) and gave the smallest final gradient on a softplus and a relu
  teacher instance (1.5e-3 and 1.2e-4); on a random-target tanh instance 3e-2 did better (0.016 vs 0.1). It is not
  re-tuned per instance.

Stopping rule, identical for all three: ||grad L|| <= 1e-9 (1 + |L|) (``networks.train.default_grad_tol``) or the
budget. For scipy and Adam the rule is checked at every point the method evaluates (scipy is stopped through its
objective wrapper the moment an evaluated point meets the tolerance; on time-out the lowest-loss evaluated point is
returned). Only the OPTIMIZATION wall time is charged to a method. Every end point is then certified by the same
``networks.certify`` call (default tolerances); certification time is reported separately (``cert_s``) and charged to
no method.

Accounting (``charged_seconds``): an instance a method certifies counts at min(its optimization time, B); an
instance it does not certify counts at the full budget B. ``median_s_<method>`` is the median of the charged times
over ALL instances of the set (teacher and random targets), so a method cannot look fast by certifying only the easy
instances; ``speedup_vs_<method>`` = median_s_<method> / median_s_project. Yield = certified / instances;
``yield`` is the project trainer's yield on the teacher-target groups, ``yield_random`` on the random-target groups.

Timing conditions: torch and BLAS threads fixed (default 1, ``--threads``), methods run sequentially in one process,
their order rotates from one instance to the next, and every code path (autograd, torch.func gradient, Jacobian,
Hessian, hvp, Adam, L-BFGS-B, trust-krylov, certify) is warmed up on a small instance first, so that no method pays
torch's first-call overheads. Timings on a shared machine are noisy; the medians are what to compare.

Instance set (DEFAULT_GROUPS; seeds 0 .. n-1 of every group, none selected)
-----------------------------------------------------------------------------
Data: X ~ N(0, 1)^(m x d); a one-hidden-layer student MLP(d, (w,), 1) with biases, He init (``MLP.init``).
Teacher targets: Y = teacher(X) + 0.1 N(0, 1), the teacher a random MLP(d, (4,), 1) with the same activation. The
student is wider than the teacher and over-parameterized, P >= 2m: a zero-loss global minimum is reachable (the
design the claims use for "a certified minimum should be reached").
Random targets: Y ~ N(0, 1) independent of X. Under-parameterized groups (P < m) have non-zero-loss minima: smooth
nets may end at a certified non-zero-loss minimum, at a non-converged point, or diverge (minima at infinity of
saturating units); piecewise-linear nets (relu, leaky_relu) usually end ON A KINK (NON_DIFFERENTIABLE) for every
method. These groups are kept on purpose and reported; the over-parameterized random group shows interpolation of
pure noise.

    group                 act         target   m    d   w    P     budget
    teacher-tanh-S        tanh        teacher  20   4   10   61    5 s
    teacher-softplus-S    softplus    teacher  50   5   20   141   5 s
    teacher-leaky-S       leaky_relu  teacher  100  8   24   241   5 s
    teacher-relu-S        relu        teacher  100  8   24   241   5 s
    teacher-tanh-L        tanh        teacher  500  16  64   1153  10 s
    teacher-softplus-L    softplus    teacher  300  10  60   721   10 s
    teacher-leaky-L       leaky_relu  teacher  500  20  90   1981  10 s
    teacher-relu-L        relu        teacher  400  16  60   1081  10 s
    random-tanh-under     tanh        random   100  4   10   61    5 s
    random-softplus-under softplus    random   200  8   12   121   5 s
    random-leaky-under    leaky_relu  random   100  4   10   61    5 s
    random-relu-under     relu        random   200  8   12   121   5 s
    random-tanh-over      tanh        random   50   5   20   141   5 s

2 seeds per group: 26 instances; 374 s wall on a shared 2-core machine (load average ~8). ``--quick`` runs a
3-instance set with 1 s budgets (tests). ``--budget S`` overrides every group's budget, ``--seeds N`` the seeds per
group, ``--groups a,b`` selects groups by name, ``--methods`` the methods.

Known behaviour of the alternatives (measured, see the per-instance ``status`` in the JSON): on zero-loss problems
L-BFGS-B stops (ftol) at L ~ 1e-17 with ||grad|| ~ 5e-9, just above the 1e-9 tolerance, and trust-krylov cannot take
the last step: scipy's trlib subproblem solver breaks down there (Lanczos breakdown, NaN trial steps), so the trust
radius collapses ("A bad approximation caused failure to predict improvement") or the budget runs out. The
diagnostic method ``scipy-ncg`` (L-BFGS-B -> trust-ncg, same hessp) separates that breakdown from L-BFGS-B's speed;
it is not part of the default set. Adam stalls at gradients 1e-3 .. 1e-6 except on the smallest over-parameterized
instances, and on relu/leaky_relu nets it ends near kinks (activation margin ~1e-9).
"""
from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time
import warnings
import zlib
from dataclasses import asdict, dataclass

import numpy as np
import torch

import networks
from networks.train import default_grad_tol

REL_GRAD_TOL = 1e-9  # the trainer's and certifier's default: ||grad|| <= 1e-9 (1 + |L|)
ADAM_LR = 1e-2
METHODS = ("project", "scipy", "adam")
TEACHER_WIDTH = 4
TEACHER_NOISE = 0.1
LBFGSB_OPTIONS = dict(maxiter=10**9, maxfun=10**9, maxcor=20, ftol=10 * np.finfo(float).eps, gtol=0.0)
ACCEPT_YIELD = 0.90  # acceptance: project yield on the teacher-target groups
ACCEPT_SPEEDUP = 5.0  # acceptance: median charged time, scipy / project


@dataclass(frozen=True)
class Group:
    name: str
    activation: str
    target: str  # 'teacher' | 'random'
    m: int
    d: int
    width: int
    budget_s: float
    n: int = 2  # seeds 0 .. n-1

    @property
    def n_params(self) -> int:
        return (self.d + 1) * self.width + self.width + 1

    def __post_init__(self):
        if self.target not in ("teacher", "random"):
            raise ValueError(f"group {self.name}: target must be 'teacher' or 'random', got {self.target!r}")
        if min(self.m, self.d, self.width, self.n) < 1 or not self.budget_s > 0:
            raise ValueError(f"group {self.name}: m, d, width, n must be >= 1 and budget_s > 0")


DEFAULT_GROUPS = (
    Group("teacher-tanh-S", "tanh", "teacher", 20, 4, 10, 5.0),
    Group("teacher-softplus-S", "softplus", "teacher", 50, 5, 20, 5.0),
    Group("teacher-leaky-S", "leaky_relu", "teacher", 100, 8, 24, 5.0),
    Group("teacher-relu-S", "relu", "teacher", 100, 8, 24, 5.0),
    Group("teacher-tanh-L", "tanh", "teacher", 500, 16, 64, 10.0),
    Group("teacher-softplus-L", "softplus", "teacher", 300, 10, 60, 10.0),
    Group("teacher-leaky-L", "leaky_relu", "teacher", 500, 20, 90, 10.0),
    Group("teacher-relu-L", "relu", "teacher", 400, 16, 60, 10.0),
    Group("random-tanh-under", "tanh", "random", 100, 4, 10, 5.0),
    Group("random-softplus-under", "softplus", "random", 200, 8, 12, 5.0),
    Group("random-leaky-under", "leaky_relu", "random", 100, 4, 10, 5.0),
    Group("random-relu-under", "relu", "random", 200, 8, 12, 5.0),
    Group("random-tanh-over", "tanh", "random", 50, 5, 20, 5.0),
)

QUICK_GROUPS = (
    Group("teacher-tanh-quick", "tanh", "teacher", 20, 3, 8, 1.0, n=1),
    Group("teacher-relu-quick", "relu", "teacher", 20, 3, 8, 1.0, n=1),
    Group("random-relu-quick", "relu", "random", 40, 3, 4, 1.0, n=1),
)


# ---------------------------------------------------------------- instances
def build_instance(group: Group, seed: int):
    """(objective, theta0) of one instance; arrays from numpy.random.default_rng((seed, crc32(group name)))."""
    rng = np.random.default_rng((int(seed), zlib.crc32(group.name.encode())))
    X = rng.standard_normal((group.m, group.d))
    if group.target == "teacher":
        teacher = networks.MLP(group.d, (TEACHER_WIDTH,), 1, activation=group.activation)
        theta_t = teacher.init(int(rng.integers(2**31)))
        Y = teacher.forward(theta_t, torch.as_tensor(X)).numpy() + TEACHER_NOISE * rng.standard_normal((group.m, 1))
    else:
        Y = rng.standard_normal((group.m, 1))
    student = networks.MLP(group.d, (group.width,), 1, activation=group.activation)
    obj = networks.squared_loss(student, X, Y)
    theta0 = student.init(int(rng.integers(2**31)))
    assert obj.n_params == group.n_params
    return obj, theta0


# ---------------------------------------------------------------- methods
@dataclass
class MethodRun:
    theta: torch.Tensor
    seconds: float
    status: str
    iterations: int


class _Stop(Exception):
    pass


def _autograd_value_and_grad(obj):
    def vg(theta):
        t = theta.detach().requires_grad_(True)
        L = obj.fun(t)
        (g,) = torch.autograd.grad(L, t)
        return float(L.detach()), g

    return vg


class _Watch:
    """Objective wrapper for scipy: stops the optimizer as soon as an evaluated point meets the gradient tolerance,
    or when the deadline passes; remembers the lowest-loss point evaluated."""

    def __init__(self, obj, deadline: float):
        self.obj, self.deadline = obj, deadline
        self.vg = _autograd_value_and_grad(obj)
        self.best_loss, self.best = math.inf, None
        self.hit = None
        self.nfev = 0
        self.nonfinite = 0  # evaluations at non-finite points (trust-krylov's trlib can propose NaN steps)

    def fun_and_grad(self, x):
        if time.perf_counter() > self.deadline:
            raise _Stop("time budget spent")
        t = torch.from_numpy(np.array(x, dtype=np.float64))
        v, g = self.vg(t)
        self.nfev += 1
        self.nonfinite += not math.isfinite(v)
        if math.isfinite(v) and v < self.best_loss:
            self.best_loss, self.best = v, t
        if math.isfinite(v) and float(g.norm()) <= default_grad_tol(v, REL_GRAD_TOL):
            self.hit = t
            raise _Stop("converged")
        return v, g.numpy().astype(np.float64)

    def hessp(self, x, p):
        if time.perf_counter() > self.deadline:
            raise _Stop("time budget spent")
        return self.obj.hvp(torch.from_numpy(np.array(x, dtype=np.float64)), torch.from_numpy(np.array(p, dtype=np.float64))).numpy()

    def end_point(self, fallback):
        if self.hit is not None:
            return self.hit
        return self.best if self.best is not None else fallback


def run_project(obj, theta0, budget: float) -> MethodRun:
    t0 = time.perf_counter()
    res = networks.minimize(obj, theta0, rel_grad_tol=REL_GRAD_TOL, time_budget=budget, max_iter=10**6)
    return MethodRun(res.theta, time.perf_counter() - t0, res.reason, res.iterations)


def run_scipy(obj, theta0, budget: float, second: str = "trust-krylov") -> MethodRun:
    """L-BFGS-B, then `second` (trust-krylov) from its end point, until the gradient tolerance or the budget."""
    import scipy.optimize as so

    t0 = time.perf_counter()
    w = _Watch(obj, t0 + budget)
    stage, status, its = "L-BFGS-B", "", 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN trial steps are counted in the status instead
        try:
            r = so.minimize(w.fun_and_grad, theta0.numpy().copy(), jac=True, method="L-BFGS-B", options=LBFGSB_OPTIONS)
            its += int(r.nit)
            stage = second
            x1 = w.end_point(torch.from_numpy(r.x)).numpy().copy()
            r = so.minimize(w.fun_and_grad, x1, jac=True, hessp=w.hessp, method=second, options=dict(maxiter=10**9, gtol=0.0))
            its += int(r.nit)
            status = f"{stage} stopped: {r.message}"
        except _Stop as e:
            status = f"{stage}: {e}"
        except (ValueError, ArithmeticError, RuntimeError, np.linalg.LinAlgError) as e:  # a solver failure is a result
            status = f"{stage} failed: {type(e).__name__}: {e}"
    if w.nonfinite:
        status += f" ({w.nonfinite} of {w.nfev} evaluations at non-finite points)"
    return MethodRun(w.end_point(theta0), time.perf_counter() - t0, status, its)


def run_adam(obj, theta0, budget: float, lr: float = ADAM_LR) -> MethodRun:
    """Full-batch Adam until the gradient tolerance or the budget; returns the lowest-loss iterate."""
    t0 = time.perf_counter()
    deadline = t0 + budget
    p = theta0.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([p], lr=lr)
    best_loss, best = math.inf, theta0.detach().clone()
    status, it = "time budget spent", 0
    while True:
        opt.zero_grad(set_to_none=True)
        L = obj.fun(p)
        L.backward()
        v = float(L.detach())
        if not math.isfinite(v):
            status = "non-finite loss"
            break
        if v < best_loss:
            best_loss, best = v, p.detach().clone()
        if float(p.grad.norm()) <= default_grad_tol(v, REL_GRAD_TOL):
            status, best = "converged", p.detach().clone()
            break
        if time.perf_counter() > deadline:
            break
        opt.step()
        it += 1
    return MethodRun(best, time.perf_counter() - t0, status, it)


def run_scipy_ncg(obj, theta0, budget: float) -> MethodRun:
    """Diagnostic variant (not in the default set): L-BFGS-B then trust-ncg, to separate trlib's breakdowns near
    zero-loss manifolds (trust-krylov proposes NaN steps there) from L-BFGS-B's own speed."""
    return run_scipy(obj, theta0, budget, second="trust-ncg")


RUNNERS = {"project": run_project, "scipy": run_scipy, "adam": run_adam, "scipy-ncg": run_scipy_ncg}


# ---------------------------------------------------------------- accounting
def charged_seconds(seconds: float, certified: bool, budget: float) -> float:
    """Time charged to a method on one instance: min(seconds, budget) when its end point is certified, else the
    full budget (an uncertified instance costs the whole budget, however early the method gave up)."""
    if not budget > 0:
        raise ValueError(f"budget must be > 0, got {budget}")
    if not seconds >= 0:
        raise ValueError(f"seconds must be >= 0, got {seconds}")
    return min(float(seconds), float(budget)) if certified else float(budget)


def median_or_none(values):
    return float(statistics.median(values)) if values else None


def _ratio(a, b):
    return a / b if a is not None and b else None


def summarize(records: list[dict], groups) -> dict:
    """The JSON summary from per-(instance, method) records."""
    by_group = {g.name: g for g in groups}
    present = [m for m in RUNNERS if any(r["method"] == m for r in records)]

    def sel(method, pred=lambda r: True):
        return [r for r in records if r["method"] == method and pred(r)]

    def stats(rs):
        n = len(rs)
        cert = sum(r["certified"] for r in rs)
        verdicts: dict = {}
        for r in rs:
            verdicts[r["verdict"]] = verdicts.get(r["verdict"], 0) + 1
        return dict(instances=n, certified=cert, yield_=cert / n if n else None,
                    median_s=median_or_none([r["charged_s"] for r in rs]), verdicts=verdicts)

    def clean(d):
        d = dict(d)
        d["yield"] = d.pop("yield_")
        return d

    groups_out = {}
    for name, g in by_group.items():
        entry = dict(activation=g.activation, target=g.target, m=g.m, d=g.d, width=g.width, P=g.n_params,
                     budget_s=g.budget_s, seeds=list(range(g.n)), methods={})
        for meth in present:
            rs = sel(meth, lambda r: r["group"] == name)
            if rs:
                entry["methods"][meth] = clean(stats(rs))
        groups_out[name] = entry
    teacher = lambda r: r["target"] == "teacher"
    random_ = lambda r: r["target"] == "random"
    methods_out = {}
    for meth in present:
        rs = sel(meth)
        if not rs:
            continue
        a, t, rr = stats(rs), stats(sel(meth, teacher)), stats(sel(meth, random_))
        methods_out[meth] = dict(instances=a["instances"], certified=a["certified"], yield_all=a["yield_"],
                                 yield_teacher=t["yield_"], yield_random=rr["yield_"], median_s=a["median_s"],
                                 median_s_teacher=t["median_s"], median_s_random=rr["median_s"], verdicts=a["verdicts"])
    proj = methods_out.get("project", {})
    out = dict(
        instances=len(sel("project")) if "project" in methods_out else len({(r["group"], r["seed"]) for r in records}),
        certified=proj.get("certified"),
        **{"yield": proj.get("yield_teacher")},
        yield_random=proj.get("yield_random"),
        median_s_project=proj.get("median_s"),
        median_s_scipy=methods_out.get("scipy", {}).get("median_s"),
        median_s_adam=methods_out.get("adam", {}).get("median_s"),
    )
    out["speedup_vs_scipy"] = _ratio(out["median_s_scipy"], out["median_s_project"])
    out["speedup_vs_adam"] = _ratio(out["median_s_adam"], out["median_s_project"])
    for meth in methods_out:
        if meth not in METHODS:
            key = meth.replace("-", "_")
            out[f"median_s_{key}"] = methods_out[meth]["median_s"]
            out[f"speedup_vs_{key}"] = _ratio(methods_out[meth]["median_s"], out["median_s_project"])
    out["acceptance"] = dict(
        yield_floor=ACCEPT_YIELD, speedup_floor=ACCEPT_SPEEDUP,
        yield_ok=out["yield"] is not None and out["yield"] >= ACCEPT_YIELD,
        speedup_ok=out["speedup_vs_scipy"] is not None and out["speedup_vs_scipy"] >= ACCEPT_SPEEDUP,
    )
    out["methods"] = methods_out
    out["groups"] = groups_out
    return out


# ---------------------------------------------------------------- driver
def _warm_up(methods=METHODS):
    """Run every code path once on small instances so no method pays torch's first-call overheads."""
    for act in ("tanh", "relu"):
        g = Group(f"warm-up-{act}", act, "teacher", 8, 2, 6, 0.3, n=1)
        obj, th0 = build_instance(g, 0)
        obj.jacobian(th0), obj.hessian(th0), obj.hvp(th0, th0), _autograd_value_and_grad(obj)(th0)
        for meth in methods:
            r = RUNNERS[meth](obj, th0, 0.3)
            networks.certify(obj, r.theta)


def run_bench(groups=DEFAULT_GROUPS, *, budget: float | None = None, threads: int = 1, methods=METHODS,
              log=print, warm_up: bool = True) -> dict:
    """Run the bench; returns the summary dict (the --json content) with per-instance `records`."""
    from threadpoolctl import threadpool_limits

    unknown = [m for m in methods if m not in RUNNERS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; known: {list(RUNNERS)}")
    if budget is not None and not budget > 0:
        raise ValueError(f"budget must be > 0 seconds, got {budget}")
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    if budget is not None:
        groups = tuple(Group(**{**asdict(g), "budget_s": float(budget)}) for g in groups)
    old_threads, old_dtype = torch.get_num_threads(), torch.get_default_dtype()
    torch.set_num_threads(threads)
    torch.set_default_dtype(torch.float64)
    records: list[dict] = []
    t_start = time.perf_counter()
    try:
        with threadpool_limits(limits=threads):
            if warm_up:
                _warm_up(methods)
            k = 0
            for g in groups:
                for seed in range(g.n):
                    obj, th0 = build_instance(g, seed)
                    order = list(methods[k % len(methods):]) + list(methods[: k % len(methods)])  # rotate the order
                    k += 1
                    line = []
                    for meth in order:
                        run = RUNNERS[meth](obj, th0, g.budget_s)
                        tc = time.perf_counter()
                        cert = networks.certify(obj, run.theta, rel_grad_tol=REL_GRAD_TOL, accept_kink_zero_loss=True)
                        cert_s = time.perf_counter() - tc
                        rec = dict(group=g.name, target=g.target, activation=g.activation, m=g.m, P=g.n_params,
                                   seed=seed, method=meth, budget_s=g.budget_s, seconds=run.seconds,
                                   charged_s=charged_seconds(run.seconds, cert.certified, g.budget_s),
                                   certified=cert.certified, verdict=cert.verdict.name, strength=cert.strength,
                                   loss=cert.loss, grad_norm=cert.grad_norm, status=run.status,
                                   iterations=run.iterations, cert_s=cert_s, cert_reason=cert.reason)
                        records.append(rec)
                        line.append(f"{meth} {'C' if cert.certified else '-'} {run.seconds:6.2f}s {cert.verdict.name[:14]:<14}")
                    line.sort()
                    log(f"  {g.name:<22} seed {seed}  P={g.n_params:<5} " + " | ".join(line))
    finally:
        torch.set_num_threads(old_threads)
        torch.set_default_dtype(old_dtype)
    out = summarize(records, groups)
    out["config"] = dict(rel_grad_tol=REL_GRAD_TOL, adam_lr=ADAM_LR, lbfgsb_options={k: float(v) for k, v in LBFGSB_OPTIONS.items()},
                         threads=threads, methods=list(methods), teacher_width=TEACHER_WIDTH, teacher_noise=TEACHER_NOISE,
                         torch=torch.__version__, wall_s=time.perf_counter() - t_start,
                         accounting="uncertified instances are charged the full budget; certification time is not charged")
    out["instance_set"] = [dict(asdict(g), P=g.n_params) for g in groups]
    out["records"] = records
    return out


# ---------------------------------------------------------------- printing and CLI
def instance_set_lines(groups) -> list[str]:
    lines = [f"{'group':<22} {'act':<11} {'target':<8} {'m':>4} {'d':>3} {'w':>3} {'P':>5} {'budget':>7} seeds"]
    for g in groups:
        lines.append(f"{g.name:<22} {g.activation:<11} {g.target:<8} {g.m:>4} {g.d:>3} {g.width:>3} {g.n_params:>5} {g.budget_s:>6.3g}s 0..{g.n - 1}")
    return lines


def _fmt(x, spec):
    return "-" if x is None else format(x, spec)


def report_lines(out: dict) -> list[str]:
    lines = [f"{'group':<22} {'method':<8} {'certified':>9} {'yield':>6} {'median s':>9}  verdicts"]
    for name, g in out["groups"].items():
        for meth, s in g["methods"].items():
            v = ", ".join(f"{k}:{n}" for k, n in sorted(s["verdicts"].items()))
            frac = f"{s['certified']}/{s['instances']}"
            lines.append(f"{name:<22} {meth:<8} {frac:>9} {s['yield']:>6.0%} {_fmt(s['median_s'], '9.3f')}  {v}")
    lines.append("")
    lines.append(f"{'method':<8} {'yield teacher':>13} {'yield random':>12} {'median s (all)':>14} {'teacher':>8} {'random':>8}")
    for meth, s in out["methods"].items():
        lines.append(f"{meth:<8} {_fmt(s['yield_teacher'], '13.0%')} {_fmt(s['yield_random'], '12.0%')} "
                     f"{_fmt(s['median_s'], '14.3f')} {_fmt(s['median_s_teacher'], '8.3f')} {_fmt(s['median_s_random'], '8.3f')}")
    lines.append("")
    acc = out["acceptance"]
    lines.append(f"instances {out['instances']}, project certified {out['certified']}; "
                 f"yield (teacher) {_fmt(out['yield'], '.1%')}, yield_random {_fmt(out['yield_random'], '.1%')}")
    lines.append(f"median s per certified minimum (uncertified = full budget): project {_fmt(out['median_s_project'], '.3f')}, "
                 f"scipy {_fmt(out['median_s_scipy'], '.3f')}, adam {_fmt(out['median_s_adam'], '.3f')}")
    lines.append(f"speedup vs scipy L-BFGS-B->trust-krylov {_fmt(out['speedup_vs_scipy'], '.1f')}x, vs adam {_fmt(out['speedup_vs_adam'], '.1f')}x")
    lines.append(f"acceptance: yield >= {acc['yield_floor']:.0%}: {'ok' if acc['yield_ok'] else 'NOT MET'}; "
                 f"speedup vs scipy >= {acc['speedup_floor']:g}x: {'ok' if acc['speedup_ok'] else 'NOT MET'}")
    if "config" in out:
        lines.append(f"wall {out['config']['wall_s']:.0f}s, torch threads {out['config']['threads']}; certification time "
                     f"(not charged) total {sum(r['cert_s'] for r in out['records']):.1f}s")
    return lines


def _cmd_bench(args) -> int:
    groups = QUICK_GROUPS if args.quick else DEFAULT_GROUPS
    if args.seeds is not None:
        if args.seeds < 1:
            raise SystemExit("--seeds must be >= 1")
        groups = tuple(Group(**{**asdict(g), "n": args.seeds}) for g in groups)
    if args.budget is not None:
        groups = tuple(Group(**{**asdict(g), "budget_s": args.budget}) for g in groups)
    if args.groups:
        keys = [k.strip() for k in args.groups.split(",") if k.strip()]
        groups = tuple(g for g in groups if any(k in g.name for k in keys))
        if not groups:
            raise SystemExit(f"--groups {args.groups!r} matches no group")
    print("instance set (every method: same instances, same initial point, same budget per instance):")
    for line in instance_set_lines(groups):
        print("  " + line)
    names = dict(project="networks.minimize", scipy="L-BFGS-B -> trust-krylov (hessp)", adam=f"Adam(lr={ADAM_LR})",
                 **{"scipy-ncg": "L-BFGS-B -> trust-ncg (diagnostic)"})
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    print("methods: " + "; ".join(f"{m} = {names.get(m, m)}" for m in methods)
          + f"; stop at ||grad|| <= {REL_GRAD_TOL:g} (1+|L|) or the budget; certification time not charged")
    print()
    out = run_bench(groups, threads=args.threads, methods=methods, log=lambda s: print(s, flush=True))
    print()
    for line in report_lines(out):
        print(line)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        from minimacheck import provenance  # schema version, git commit, versions, solvers, device; strict JSON

        with open(args.json, "w") as f:
            f.write(provenance.dumps({**provenance.stamp(), **out}, indent=1))
        print(f"wrote {args.json}")
    if args.check and not (out["acceptance"]["yield_ok"] and out["acceptance"]["speedup_ok"]):
        return 1
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("bench", help="certification yield and median time per certified minimum: project trainer vs scipy and Adam",
                              description=__doc__.split("\n")[0].replace("`", ""))
    p.add_argument("--json", metavar="PATH", help="write the summary, per-group detail and per-instance records as JSON")
    p.add_argument("--quick", action="store_true", help="a 3-instance set with 1 s budgets (for tests)")
    p.add_argument("--budget", type=float, default=None, help="override every group's time budget per instance (seconds)")
    p.add_argument("--seeds", type=int, default=None, help="instances per group (seeds 0..n-1; default 2, quick 1)")
    p.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (default 1)")
    p.add_argument("--methods", default=",".join(METHODS),
                   help=f"comma-separated methods (default {','.join(METHODS)}; also: scipy-ncg = L-BFGS-B -> trust-ncg, a diagnostic)")
    p.add_argument("--groups", default=None, help="comma-separated substrings: run only the groups whose name contains one")
    p.add_argument("--check", action="store_true", help="exit 1 when the acceptance floors (yield >= 90%%, speed-up >= 5x) are not met")
    p.set_defaults(func=_cmd_bench)


if __name__ == "__main__":  # pragma: no cover
    import argparse

    ap = argparse.ArgumentParser(prog="bench")
    sp = ap.add_subparsers(dest="cmd", required=True)
    add_parser(sp)
    a = ap.parse_args(["bench", *sys.argv[1:]])
    sys.exit(a.func(a))
