"""`minimacheck bench`: certified local minima per start and per instance, and time per certified minimum, project vs \
alternatives.

What is measured
----------------
Every instance (an objective: data, targets, architecture) comes with K start vectors (the group's `starts`, K <= 8),
drawn exactly as ``networks.find_minimum`` draws them (``mlp_init(model)(numpy.random.default_rng([seed, i]))``,
i = 0..K-1). Every method gets the SAME K starts of the SAME objective, in the same process; the method order rotates
from one instance to the next.

- ``project``: ``networks.find_minimum(obj, mlp_init(model), starts=K, seed=seed, allow_kinks=True,
  max_iter=PROJECT_MAX_ITER)``: per start, smooth nets run the ridge homotopy (4 x 20 iterations) and then
  Levenberg-Marquardt + Newton for at most PROJECT_MAX_ITER = 100 iterations; piecewise-linear nets run the smoothing
  homotopy, 30 iterations on the real net and the kink rounds (polish along the kinks, kink certificate); then early
  detection of minima at infinity (escapes) and certification. No time budget, so no start is skipped. Its charged
  time is find_minimum's whole wall time: training AND certification AND kink rounds of all K starts. Why 100
  iterations: measured on the seven smooth groups, seeds 0-3 (224 starts), with 400 iterations: after a longer ridge
  homotopy (8 weights x 30 iterations) 28 of 35 certified starts had converged within 100 iterations; without the
  homotopy 4 of 19 (the others took 107-394). With this configuration: 18 certified starts (all within 67
  iterations) in 81 s, against 19 in 177 s without the homotopy and 400 iterations.
- ``scipy``: per start, ``scipy.optimize.minimize(method='L-BFGS-B')`` (ftol=2.2e-15, gtol=0, maxcor=20, unlimited
  iterations) then ``method='trust-krylov'`` with exact Hessian-vector products; loss and gradient from plain
  ``torch.autograd``.
- ``scipy-trf``: per start, ``scipy.optimize.least_squares(method='trf')`` on the residual with the exact analytic
  Jacobian (ftol = xtol = gtol = machine eps), then ``scipy.optimize.minimize(method='trust-exact')`` with the exact
  dense Hessian (``Objective.hessian``: the project's own fast Hessian, which makes this comparison conservative). The
  strongest off-the-shelf second-order pipeline we know for least squares.
- ``adam``: per start, full-batch ``torch.optim.Adam(lr=ADAM_LR)``; ADAM_LR = 1e-2 was tuned once, outside the
  instance set (earlier versions of this bench: seed 7, grid {1e-3 .. 1e-1}).

Every alternative runs until ||grad L|| <= 1e-9 (1 + |L|) (``networks.train.default_grad_tol``) at a point it
evaluates, or the group's per-start budget ``budget_s``; on time-out it returns the lowest-loss point it evaluated.
Its end points are then certified by ``networks.certify(obj, theta, allow_kinks=True)`` and
``networks.multistart.plateau_check`` (the certificate the project uses); that certification is NOT charged to the
alternatives (conservative: the project's charge includes its own).

Per group and method: ``certified/starts`` and ``yield_per_start``; ``instance_yield`` = fraction of instances where
at least one of the K starts is certified (for the project: ``MultiStartResult.n_certified > 0``); ``escapes`` =
starts stopped or ended on a path to a minimum at infinity (project: find_minimum's escape records; alternatives:
uncertified end points with ||theta|| > 2 max(||theta0||, 1) and the loss still falling along the ray theta -> (1+s)
theta, ``networks.train.radial_escape``, also at s = 1); ``time_per_certified`` = total charged seconds over all starts of all
instances / certified minima (None when nothing was certified; ``..._lower`` then divides by 1 instead, a lower
bound). Summary (JSON top level): ``instance_yield_teacher``, ``instance_yield_random``, ``escapes`` (project),
``yield_per_start`` (project), and over the UNDER-parameterized groups (P < m d_y) ``time_per_certified_<method>``
and ``speedup_vs_<method>`` = time_per_certified_<method> / time_per_certified_project ('-' in names becomes '_').

Timing conditions: torch and BLAS threads fixed (default 1, ``--threads``), every code path warmed up first (torch's
first torch.func call imports ~850 modules: seconds). Timings on a shared machine are noisy; ratios within one run
are what to compare.

Instance set (DEFAULT_GROUPS; instances = seeds 0 .. n-1 of every group, none selected; K = 8 starts each)
-----------------------------------------------------------------------------------------------------------
Data: X ~ N(0, 1)^(m x d) (rank-deficient groups: X = Z A / sqrt(r), Z ~ N(0,1)^(m x r), A ~ N(0,1)^(r x d));
the student is MLP(d, widths, d_y) with biases. Teacher targets: Y = teacher(X) + 0.1 N(0, 1), the teacher a random
MLP(d, (4,) * depth, d_y) with the student's activation; random targets: Y ~ N(0, 1) independent of X. Under-
parameterized groups (P < m d_y) have non-zero-loss minima (and, for saturating tanh units, minima at infinity);
their leaky-ReLU groups end ON kinks, where only the kink certificate (allow_kinks=True) can certify.

    group                act         target   m    d  widths     d_y  rank  P    under  budget/start
    deep2-tanh-teacher   tanh        teacher  100  4  (6, 4)     1    -     63   yes    1.0 s
    deep2-tanh-random    tanh        random   100  4  (6, 4)     1    -     63   yes    1.0 s
    deep3-tanh-teacher   tanh        teacher  120  4  (5, 5, 4)  1    -     84   yes    1.0 s
    deep3-softplus-rand  softplus    random   120  4  (5, 5, 4)  1    -     84   yes    1.0 s
    multi-tanh-teacher   tanh        teacher  60   5  (8,)       3    -     75   yes    1.0 s
    multi-tanh-random    tanh        random   60   5  (8,)       3    -     75   yes    1.0 s
    rankdef-tanh-teacher tanh        teacher  80   6  (6,)       1    2     49   yes    1.0 s
    leaky-teacher-under  leaky_relu  teacher  60   3  (6,)       1    -     31   yes    1.0 s
    leaky-random-under   leaky_relu  random   60   3  (6,)       1    -     31   yes    1.0 s
    tanh-teacher-over    tanh        teacher  20   4  (10,)      1    -     61   no     1.0 s

2 instances per group, 8 starts each: 20 instances, 160 starts per method; 568 s wall on a shared 2-core machine.

Measured (2026-11-29, full set, project and scipy-trf, 179 s wall; certified/starts, project | scipy-trf):
deep2-tanh-teacher 1/16 | 3/16, deep2-tanh-random 3 | 1, deep3-tanh-teacher 2 | 0, deep3-softplus-rand 0 | 0,
multi-tanh-teacher 2 | 2, multi-tanh-random 0 | 1, rankdef-tanh-teacher 0 | 0, leaky-teacher-under 16 | 0,
leaky-random-under 16 | 0, tanh-teacher-over 16 | 16. Instance yield (project, <= 8 starts): teacher 67%, random
50%; escapes 5. Time per certified minimum on the under-parameterized groups: project 1.39 s (40 certified in 55 s),
scipy-trf 16.75 s (7 in 117 s): 12.1x (4.5x before the ridge homotopy, the 100-iteration limit and the 30 real-net
iterations of PL nets; 1.5x before the smoothing homotopy). The teacher-yield floor (90%) is NOT met: the failing
teacher instances are deep2 seed 0, deep3 seed 0 and both rankdef instances, where nearly every start runs to a
minimum at infinity (saturating tanh units; ||theta|| from ~3 to 30-400) with or without the ridge homotopy; over
seeds 0-3 of the four under-parameterized tanh teacher groups, 10-11 of 16 instances certify with any of the
configurations tried (plain 400 iterations, ridge homotopies of 4 or 8 weights, 100 or 400 iterations, alternating
starts), rankdef 1 of 4. An earlier run with all four methods gave L-BFGS-B -> trust-krylov and Adam no certified
start on the under-parameterized groups. \
``--quick`` runs a 2-instance set with 2
starts and 0.4 s budgets (tests). ``--budget S`` overrides every group's per-start budget, ``--seeds N`` the instances
per group, ``--starts K`` the starts, ``--groups a,b`` selects groups by name, ``--methods`` the methods.
"""
from __future__ import annotations

import math
import os
import sys
import time
import warnings
import zlib
from dataclasses import asdict, dataclass

import numpy as np
import torch

import networks
from networks.multistart import mlp_init, plateau_check
from networks.train import default_grad_tol, radial_escape

REL_GRAD_TOL = 1e-9  # the trainer's and certifier's default: ||grad|| <= 1e-9 (1 + |L|)
ADAM_LR = 1e-2
METHODS = ("project", "scipy", "scipy-trf", "adam")
SCIPY_METHODS = ("scipy", "scipy-trf")
TEACHER_WIDTH = 4
TEACHER_NOISE = 0.1
LBFGSB_OPTIONS = dict(maxiter=10**9, maxfun=10**9, maxcor=20, ftol=10 * np.finfo(float).eps, gtol=0.0)
PROJECT_MAX_ITER = 100  # find_minimum's training limit after its homotopies (see the module docstring)
ESCAPE_NORM_RATIO = 2.0  # alternatives' end points: ||theta|| > 2 max(||theta0||, 1) and a falling ray = an escape
ACCEPT_YIELD = 0.90  # acceptance: project instance yield (<= 8 starts) on the teacher-target groups
ACCEPT_SPEEDUP = 10.0  # acceptance: time per certified minimum, best scipy pipeline / project, under-parameterized


@dataclass(frozen=True)
class Group:
    name: str
    activation: str
    target: str  # 'teacher' | 'random'
    m: int
    d: int
    widths: tuple  # hidden widths (an int: one hidden layer)
    budget_s: float  # per start, for the alternatives
    n: int = 2  # instances: seeds 0 .. n-1
    starts: int = 8  # K start vectors per instance, the same for every method
    d_out: int = 1
    rank: int | None = None  # rank of X (None: full rank)

    def __post_init__(self):
        w = (self.widths,) if isinstance(self.widths, int) else tuple(int(v) for v in self.widths)
        object.__setattr__(self, "widths", w)
        if self.target not in ("teacher", "random"):
            raise ValueError(f"group {self.name}: target must be 'teacher' or 'random', got {self.target!r}")
        if min(self.m, self.d, self.n, self.starts, self.d_out, *self.widths) < 1 or not self.budget_s > 0:
            raise ValueError(f"group {self.name}: m, d, widths, n, starts, d_out must be >= 1 and budget_s > 0")
        if self.rank is not None and not 1 <= self.rank <= min(self.m, self.d):
            raise ValueError(f"group {self.name}: rank must be in [1, min(m, d)]")

    @property
    def model(self) -> networks.MLP:
        return networks.MLP(self.d, self.widths, self.d_out, activation=self.activation)

    @property
    def n_params(self) -> int:
        return self.model.n_params

    @property
    def under(self) -> bool:
        """Under-parameterized: P < m d_y (non-zero-loss minima)."""
        return self.n_params < self.m * self.d_out


B = 1.0
DEFAULT_GROUPS = (
    Group("deep2-tanh-teacher", "tanh", "teacher", 100, 4, (6, 4), B),
    Group("deep2-tanh-random", "tanh", "random", 100, 4, (6, 4), B),
    Group("deep3-tanh-teacher", "tanh", "teacher", 120, 4, (5, 5, 4), B),
    Group("deep3-softplus-rand", "softplus", "random", 120, 4, (5, 5, 4), B),
    Group("multi-tanh-teacher", "tanh", "teacher", 60, 5, (8,), B, d_out=3),
    Group("multi-tanh-random", "tanh", "random", 60, 5, (8,), B, d_out=3),
    Group("rankdef-tanh-teacher", "tanh", "teacher", 80, 6, (6,), B, rank=2),
    Group("leaky-teacher-under", "leaky_relu", "teacher", 60, 3, (6,), B),
    Group("leaky-random-under", "leaky_relu", "random", 60, 3, (6,), B),
    Group("tanh-teacher-over", "tanh", "teacher", 20, 4, (10,), B),
)
del B

QUICK_GROUPS = (
    Group("under-tanh-quick", "tanh", "teacher", 30, 3, (4,), 0.4, n=1, starts=2),
    Group("under-leaky-quick", "leaky_relu", "random", 20, 2, (3,), 0.4, n=1, starts=2),
)


# ---------------------------------------------------------------- instances
@dataclass
class Instance:
    group: Group
    seed: int
    obj: networks.Objective
    model: networks.MLP
    fm_seed: int  # the seed find_minimum draws the starts with
    starts: list  # K float64 tensors, start i = mlp_init(model)(default_rng([fm_seed, i]))


def build_instance(group: Group, seed: int) -> Instance:
    """The objective and its K starts; arrays from numpy.random.default_rng((seed, crc32(group name)))."""
    rng = np.random.default_rng((int(seed), zlib.crc32(group.name.encode())))
    if group.rank is None:
        X = rng.standard_normal((group.m, group.d))
    else:
        X = rng.standard_normal((group.m, group.rank)) @ rng.standard_normal((group.rank, group.d)) / np.sqrt(group.rank)
    if group.target == "teacher":
        widths_t = group.widths if TEACHER_WIDTH is None else (TEACHER_WIDTH,) * len(group.widths)
        teacher = networks.MLP(group.d, widths_t, group.d_out, activation=group.activation)
        theta_t = torch.as_tensor(mlp_init(teacher)(rng))
        Y = teacher.forward(theta_t, torch.as_tensor(X)).numpy() + TEACHER_NOISE * rng.standard_normal((group.m, group.d_out))
    else:
        Y = rng.standard_normal((group.m, group.d_out))
    model = group.model
    obj = networks.squared_loss(model, X, Y)
    fm_seed = int(rng.integers(2**31))
    init = mlp_init(model)
    starts = [torch.as_tensor(np.asarray(init(np.random.default_rng([fm_seed, i])), dtype=np.float64))
              for i in range(group.starts)]
    return Instance(group, seed, obj, model, fm_seed, starts)


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
        return self.obj.hvp(torch.from_numpy(np.array(x, dtype=np.float64)),
                            torch.from_numpy(np.array(p, dtype=np.float64))).numpy()

    def end_point(self, fallback):
        if self.hit is not None:
            return self.hit
        return self.best if self.best is not None else fallback


def run_project(obj, theta0, budget: float) -> MethodRun:
    """One start of networks.minimize (the bench's 'project' method runs networks.find_minimum: run_instance)."""
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


class _LSWatch(_Watch):
    """_Watch for scipy.optimize.least_squares: residual and Jacobian callbacks; the gradient J^T r is checked at
    every point whose Jacobian least_squares asks for (its accepted iterates)."""

    def __init__(self, obj, deadline: float):
        super().__init__(obj, deadline)
        self._x, self._r = None, None

    def res(self, x):
        if time.perf_counter() > self.deadline:
            raise _Stop("time budget spent")
        t = torch.from_numpy(np.array(x, dtype=np.float64))
        r = self.obj.residual(t).detach()
        v = 0.5 * float(r @ r)
        self.nfev += 1
        self.nonfinite += not math.isfinite(v)
        if math.isfinite(v) and v < self.best_loss:
            self.best_loss, self.best = v, t
        self._x, self._r = np.array(x, dtype=np.float64), r
        return r.numpy()

    def jac(self, x):
        if time.perf_counter() > self.deadline:
            raise _Stop("time budget spent")
        t = torch.from_numpy(np.array(x, dtype=np.float64))
        J = self.obj.jacobian(t).detach()
        r = self._r if self._x is not None and np.array_equal(self._x, x) else self.obj.residual(t).detach()
        v = 0.5 * float(r @ r)
        if math.isfinite(v) and float((J.T @ r).norm()) <= default_grad_tol(v, REL_GRAD_TOL):
            self.hit = t
            raise _Stop("converged")
        return J.numpy()

    def hess(self, x):
        if time.perf_counter() > self.deadline:
            raise _Stop("time budget spent")
        return self.obj.hessian(torch.from_numpy(np.array(x, dtype=np.float64))).numpy()


def run_scipy_trf(obj, theta0, budget: float) -> MethodRun:
    """scipy.optimize.least_squares(method='trf') on the residual with the exact (analytic) Jacobian, then
    scipy.optimize.minimize(method='trust-exact') from its end point with the exact dense Hessian (the project's
    Objective.hessian, the same fast analytic/autodiff Hessian the project's Newton steps use: a conservative
    comparison). Stops at the gradient tolerance or the budget, like every method."""
    import scipy.optimize as so

    if obj.residual is None:
        raise ValueError("scipy-trf needs an objective with a residual (a squared loss)")
    t0 = time.perf_counter()
    w = _LSWatch(obj, t0 + budget)
    stage, status, its = "least_squares(trf)", "", 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            r = so.least_squares(w.res, theta0.numpy().copy(), jac=w.jac, method="trf", ftol=np.finfo(float).eps,
                                 xtol=np.finfo(float).eps, gtol=np.finfo(float).eps, max_nfev=10**9)
            its += int(r.nfev)
            stage = "trust-exact"
            x1 = w.end_point(torch.from_numpy(r.x)).numpy().copy()
            r = so.minimize(w.fun_and_grad, x1, jac=True, hess=w.hess, method="trust-exact",
                            options=dict(maxiter=10**9, gtol=0.0))
            its += int(r.nit)
            status = f"{stage} stopped: {r.message}"
        except _Stop as e:
            status = f"{stage}: {e}"
        except (ValueError, ArithmeticError, RuntimeError, np.linalg.LinAlgError) as e:
            status = f"{stage} failed: {type(e).__name__}: {e}"
    if w.nonfinite:
        status += f" ({w.nonfinite} of {w.nfev} evaluations at non-finite points)"
    return MethodRun(w.end_point(theta0), time.perf_counter() - t0, status, its)


def run_scipy_ncg(obj, theta0, budget: float) -> MethodRun:
    """Diagnostic variant (not in the default set): L-BFGS-B then trust-ncg, to separate trlib's breakdowns near
    zero-loss manifolds (trust-krylov proposes NaN steps there) from L-BFGS-B's own speed."""
    return run_scipy(obj, theta0, budget, second="trust-ncg")


RUNNERS = {"project": run_project, "scipy": run_scipy, "scipy-trf": run_scipy_trf, "adam": run_adam, "scipy-ncg": run_scipy_ncg}


# ---------------------------------------------------------------- one instance, one method
def _escaped(obj, theta0, theta, loss) -> bool:
    """An uncertified end point on a path to a minimum at infinity: ||theta|| more than doubled (ESCAPE_NORM_RATIO) and
    the loss falls along the ray. (A mere growth by ESCAPE_GROWTH, find_minimum's per-chunk test, would flag any
    non-stationary end point whose gradient points outwards.)"""
    if not math.isfinite(loss) or float(theta.norm()) <= ESCAPE_NORM_RATIO * max(float(theta0.norm()), 1.0):
        return False
    tol = 1e-11 * (1 + abs(loss))
    # as find_minimum's test: the loss falls along the ray for small s and still at s = 1
    return radial_escape(obj, theta, loss, tol) is not None and obj.value(2.0 * theta) < loss - tol


def run_instance(inst: Instance, method: str) -> tuple[dict, list[dict]]:
    """Run `method` from the instance's K starts. Returns (instance record, per-start records)."""
    g, obj = inst.group, inst.obj
    base = dict(group=g.name, target=g.target, activation=g.activation, under=g.under, m=g.m, P=g.n_params, seed=inst.seed,
                method=method)
    starts = []
    t0 = time.perf_counter()
    if method == "project":
        res = networks.find_minimum(obj, mlp_init(inst.model), starts=g.starts, seed=inst.fm_seed, allow_kinks=True,
                                    max_iter=PROJECT_MAX_ITER)
        total = time.perf_counter() - t0
        for rec in res.starts:
            if not torch.equal(rec.theta0, inst.starts[rec.index]):
                raise AssertionError(f"find_minimum drew a different start {rec.index} than the bench")  # same starts for all
            c = rec.certificate
            starts.append(dict(base, start=rec.index, seconds=rec.train.seconds + c.seconds, certified=c.certified,
                               verdict=c.verdict.name, strength=c.strength, loss=c.loss, grad_norm=c.grad_norm,
                               escape=rec.escape is not None, status=rec.train.reason[:200], cert_s=c.seconds,
                               kink_rounds=rec.kink_rounds))
        for i in range(len(res.starts), g.starts):
            starts.append(dict(base, start=i, seconds=0.0, certified=False, verdict="SKIPPED", strength=None, loss=None,
                               grad_norm=None, escape=False, status="skipped: find_minimum's time budget", cert_s=0.0,
                               kink_rounds=0))
    else:
        total = 0.0
        for i, th0 in enumerate(inst.starts):
            run = RUNNERS[method](obj, th0, g.budget_s)
            total += run.seconds
            tc = time.perf_counter()
            c = networks.certify(obj, run.theta, rel_grad_tol=REL_GRAD_TOL, allow_kinks=True)
            c, plateau = plateau_check(obj, run.theta, c)  # the same withdrawal find_minimum applies to its own
            cert_s = time.perf_counter() - tc
            esc = plateau is not None or (not c.certified and _escaped(obj, th0, run.theta, c.loss))
            starts.append(dict(base, start=i, seconds=run.seconds, certified=c.certified, verdict=c.verdict.name,
                               strength=c.strength, loss=c.loss, grad_norm=c.grad_norm, escape=esc, status=run.status[:200],
                               cert_s=cert_s, kink_rounds=0))
    n_cert = sum(s["certified"] for s in starts)
    inst_rec = dict(base, total_s=total, starts=g.starts, certified=n_cert, any_certified=n_cert > 0,
                    escapes=sum(s["escape"] for s in starts), cert_s=sum(s["cert_s"] for s in starts))
    return inst_rec, starts


# ---------------------------------------------------------------- accounting
def time_per_certified(total_s: float, certified: int) -> float | None:
    """Total seconds (all starts) / certified minima; None when nothing was certified."""
    if not total_s >= 0:
        raise ValueError(f"total_s must be >= 0, got {total_s}")
    if certified < 0:
        raise ValueError(f"certified must be >= 0, got {certified}")
    return total_s / certified if certified else None


def _ratio(a, b):
    return a / b if a is not None and b else None


def _stats(irecs: list[dict], srecs: list[dict]) -> dict:
    n_starts = sum(r["starts"] for r in irecs)
    cert = sum(r["certified"] for r in irecs)
    total = sum(r["total_s"] for r in irecs)
    verdicts: dict = {}
    for r in srecs:
        verdicts[r["verdict"]] = verdicts.get(r["verdict"], 0) + 1
    return dict(instances=len(irecs), instances_certified=sum(r["any_certified"] for r in irecs),
                instance_yield=sum(r["any_certified"] for r in irecs) / len(irecs) if irecs else None,
                starts=n_starts, certified=cert, yield_per_start=cert / n_starts if n_starts else None,
                escapes=sum(r["escapes"] for r in irecs), total_s=total,
                time_per_certified=time_per_certified(total, cert), time_per_certified_lower=total / max(cert, 1),
                verdicts=verdicts)


def summarize(instance_records: list[dict], start_records: list[dict], groups) -> dict:
    """The JSON summary from per-(instance, method) and per-(instance, method, start) records."""
    present = [m for m in RUNNERS if any(r["method"] == m for r in instance_records)]

    def sel(recs, method, pred=lambda r: True):
        return [r for r in recs if r["method"] == method and pred(r)]

    groups_out = {}
    for g in groups:
        entry = dict(activation=g.activation, target=g.target, m=g.m, d=g.d, widths=list(g.widths), d_out=g.d_out,
                     rank=g.rank, P=g.n_params, under=g.under, budget_s=g.budget_s, starts=g.starts,
                     seeds=list(range(g.n)), methods={})
        for meth in present:
            ir = sel(instance_records, meth, lambda r, g=g: r["group"] == g.name)
            if ir:
                entry["methods"][meth] = _stats(ir, sel(start_records, meth, lambda r, g=g: r["group"] == g.name))
        proj = entry["methods"].get("project", {}).get("time_per_certified")
        for meth in entry["methods"]:
            if meth != "project":
                key = meth.replace("-", "_")
                entry[f"speedup_vs_{key}"] = _ratio(entry["methods"][meth]["time_per_certified"], proj)
        groups_out[g.name] = entry

    def teacher(r):
        return r["target"] == "teacher"

    def random_(r):
        return r["target"] == "random"

    def under(r):
        return r["under"]

    methods_out = {}
    for meth in present:
        a = _stats(sel(instance_records, meth), sel(start_records, meth))
        t = _stats(sel(instance_records, meth, teacher), [])
        rr = _stats(sel(instance_records, meth, random_), [])
        u = _stats(sel(instance_records, meth, under), [])
        methods_out[meth] = dict(a, instance_yield_teacher=t["instance_yield"], instance_yield_random=rr["instance_yield"],
                                 escapes_teacher=t["escapes"], escapes_random=rr["escapes"],
                                 under=dict(starts=u["starts"], certified=u["certified"], total_s=u["total_s"],
                                            time_per_certified=u["time_per_certified"],
                                            time_per_certified_lower=u["time_per_certified_lower"]))
    proj = methods_out.get("project", {})
    out = dict(instances=proj.get("instances"), starts=proj.get("starts"), certified=proj.get("certified"),
               yield_per_start=proj.get("yield_per_start"),
               instance_yield_teacher=proj.get("instance_yield_teacher"), instance_yield_random=proj.get("instance_yield_random"),
               escapes=proj.get("escapes"), escapes_random=proj.get("escapes_random"))
    tpc_p = proj.get("under", {}).get("time_per_certified")
    for meth, s in methods_out.items():
        key = meth.replace("-", "_")
        out[f"time_per_certified_{key}"] = s["under"]["time_per_certified"]
        if meth != "project":
            out[f"time_per_certified_{key}_lower"] = s["under"]["time_per_certified_lower"]
            out[f"speedup_vs_{key}"] = _ratio(s["under"]["time_per_certified"], tpc_p)
            # when the alternative certified nothing: a lower bound (its total time as if it had certified one)
            out[f"speedup_vs_{key}_lower"] = _ratio(s["under"]["time_per_certified_lower"], tpc_p)
    scipys = [m for m in SCIPY_METHODS if m in methods_out]
    best = min(scipys, key=lambda m: methods_out[m]["under"]["time_per_certified_lower"]) if scipys else None
    out["best_scipy"] = best
    out["speedup_vs_best_scipy"] = out.get(f"speedup_vs_{best.replace('-', '_')}_lower") if best else None
    out["acceptance"] = dict(
        yield_floor=ACCEPT_YIELD, speedup_floor=ACCEPT_SPEEDUP,
        yield_ok=out["instance_yield_teacher"] is not None and out["instance_yield_teacher"] >= ACCEPT_YIELD,
        speedup_ok=out["speedup_vs_best_scipy"] is not None and out["speedup_vs_best_scipy"] >= ACCEPT_SPEEDUP,
    )
    out["methods"] = methods_out
    out["groups"] = groups_out
    return out


# ---------------------------------------------------------------- driver
def _warm_up(methods=METHODS):
    """Run every code path once on small instances so no method pays torch's first-call overheads."""
    for act in ("tanh", "leaky_relu"):
        g = Group(f"warm-up-{act}", act, "teacher", 12, 2, (3,), 0.1, n=1, starts=1)
        inst = build_instance(g, 0)
        obj, th0 = inst.obj, inst.starts[0]
        obj.jacobian(th0), obj.hessian(th0), obj.hvp(th0, th0), _autograd_value_and_grad(obj)(th0)
        torch.func.hessian(obj.fun)(th0)
        for meth in methods:
            run_instance(inst, meth)


def run_bench(groups=DEFAULT_GROUPS, *, budget: float | None = None, threads: int = 1, methods=METHODS,
              log=print, warm_up: bool = True) -> dict:
    """Run the bench; returns the summary dict (the --json content) with per-instance and per-start records."""
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
    irecs: list[dict] = []
    srecs: list[dict] = []
    t_start = time.perf_counter()
    try:
        with threadpool_limits(limits=threads):
            if warm_up:
                _warm_up(methods)
            k = 0
            for g in groups:
                for seed in range(g.n):
                    inst = build_instance(g, seed)
                    order = list(methods[k % len(methods):]) + list(methods[: k % len(methods)])  # rotate the order
                    k += 1
                    line = []
                    for meth in order:
                        ir, sr = run_instance(inst, meth)
                        irecs.append(ir)
                        srecs.extend(sr)
                        line.append(f"{meth} {ir['certified']}/{ir['starts']} {ir['total_s']:6.1f}s esc {ir['escapes']}")
                    line.sort()
                    log(f"  {g.name:<21} seed {seed} P={g.n_params:<4} " + " | ".join(line))
    finally:
        torch.set_num_threads(old_threads)
        torch.set_default_dtype(old_dtype)
    out = summarize(irecs, srecs, groups)
    out["config"] = dict(rel_grad_tol=REL_GRAD_TOL, adam_lr=ADAM_LR,
                         lbfgsb_options={k: float(v) for k, v in LBFGSB_OPTIONS.items()},
                         threads=threads, methods=list(methods), teacher_width=TEACHER_WIDTH, teacher_noise=TEACHER_NOISE,
                         torch=torch.__version__, wall_s=time.perf_counter() - t_start,
                         accounting="time per certified minimum = total seconds over all starts / certified minima; the "
                                    "project's time includes its certification and kink rounds, the alternatives' does not")
    out["instance_set"] = [dict(asdict(g), P=g.n_params, under=g.under) for g in groups]
    out["instance_records"] = irecs
    out["records"] = srecs
    return out


# ---------------------------------------------------------------- printing and CLI
def instance_set_lines(groups) -> list[str]:
    lines = [f"{'group':<21} {'act':<11} {'target':<8} {'m':>4} {'d':>3} {'widths':<10} {'d_y':>3} {'rank':>4} {'P':>5} "
             f"{'under':>5} {'K':>2} {'budget':>7} seeds"]
    for g in groups:
        lines.append(f"{g.name:<21} {g.activation:<11} {g.target:<8} {g.m:>4} {g.d:>3} {str(g.widths):<10} {g.d_out:>3} "
                     f"{g.rank if g.rank else '-':>4} {g.n_params:>5} {'yes' if g.under else 'no':>5} {g.starts:>2} "
                     f"{g.budget_s:>6.3g}s 0..{g.n - 1}")
    return lines


def _fmt(x, spec):
    return "-" if x is None else format(x, spec)


def report_lines(out: dict) -> list[str]:
    lines = [f"{'group':<21} {'method':<9} {'cert/starts':>11} {'inst yield':>10} {'escapes':>7} {'s/cert':>8}  verdicts"]
    for name, g in out["groups"].items():
        for meth, s in g["methods"].items():
            v = ", ".join(f"{k}:{n}" for k, n in sorted(s["verdicts"].items()))
            frac = f"{s['certified']}/{s['starts']}"
            tpc = _fmt(s["time_per_certified"], "8.2f") if s["time_per_certified"] is not None else f">{s['total_s']:7.1f}"
            lines.append(f"{name:<21} {meth:<9} {frac:>11} {s['instances_certified']:>3}/{s['instances']:<3} "
                         f"{s['instance_yield']:>4.0%} {s['escapes']:>7} {tpc:>8}  {v}")
    lines.append("")
    lines.append(f"{'method':<9} {'cert/starts':>11} {'inst yield teacher':>18} {'random':>7} {'escapes':>7} "
                 f"{'s/cert (under)':>14}")
    for meth, s in out["methods"].items():
        u = s["under"]
        tpc = _fmt(u["time_per_certified"], "14.2f") if u["time_per_certified"] is not None else f">{u['total_s']:.1f} (none)"
        lines.append(f"{meth:<9} {s['certified']:>5}/{s['starts']:<5} {_fmt(s['instance_yield_teacher'], '18.0%')} "
                     f"{_fmt(s['instance_yield_random'], '7.0%')} {s['escapes']:>7} {tpc:>14}")
    lines.append("")
    acc = out["acceptance"]
    lines.append(f"project: {out['certified']}/{out['starts']} starts certified ({_fmt(out['yield_per_start'], '.0%')}); "
                 f"instance yield teacher {_fmt(out['instance_yield_teacher'], '.0%')}, "
                 f"random {_fmt(out['instance_yield_random'], '.0%')}; escapes {out['escapes']}")
    sp = [f"{m}: {_fmt(out.get('speedup_vs_' + m.replace('-', '_')), '.1f')}x "
          f"(lower bound {_fmt(out.get('speedup_vs_' + m.replace('-', '_') + '_lower'), '.1f')}x)"
          for m in out["methods"] if m != "project"]
    lines.append("time per certified minimum on the under-parameterized groups, speed-up of the project vs " + "; ".join(sp))
    lines.append(f"acceptance: instance yield (teacher) >= {acc['yield_floor']:.0%}: {'ok' if acc['yield_ok'] else 'NOT MET'}; "
                 f"speed-up vs best scipy ({out['best_scipy']}) >= {acc['speedup_floor']:g}x: "
                 f"{'ok' if acc['speedup_ok'] else 'NOT MET'}")
    if "config" in out:
        lines.append(f"wall {out['config']['wall_s']:.0f}s, torch threads {out['config']['threads']}; certification time of the "
                     "alternatives (not charged) "
                     f"{sum(r['cert_s'] for r in out['instance_records'] if r['method'] != 'project'):.1f}s")
    return lines


def _cmd_bench(args) -> int:
    groups = QUICK_GROUPS if args.quick else DEFAULT_GROUPS
    if args.seeds is not None:
        if args.seeds < 1:
            raise SystemExit("--seeds must be >= 1")
        groups = tuple(Group(**{**asdict(g), "n": args.seeds}) for g in groups)
    if args.starts is not None:
        if args.starts < 1:
            raise SystemExit("--starts must be >= 1")
        groups = tuple(Group(**{**asdict(g), "starts": args.starts}) for g in groups)
    if args.budget is not None:
        groups = tuple(Group(**{**asdict(g), "budget_s": args.budget}) for g in groups)
    if args.groups:
        keys = [k.strip() for k in args.groups.split(",") if k.strip()]
        groups = tuple(g for g in groups if any(k in g.name for k in keys))
        if not groups:
            raise SystemExit(f"--groups {args.groups!r} matches no group")
    print("instance set (every method: same instances, the same K starts; alternatives: budget per start):")
    for line in instance_set_lines(groups):
        print("  " + line)
    names = dict(project="networks.find_minimum(allow_kinks=True)", scipy="L-BFGS-B -> trust-krylov (hessp)",
                 adam=f"Adam(lr={ADAM_LR})", **{"scipy-trf": "least_squares(trf) -> trust-exact",
                                               "scipy-ncg": "L-BFGS-B -> trust-ncg (diagnostic)"})
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    print("methods: " + "; ".join(f"{m} = {names.get(m, m)}" for m in methods)
          + f"; stop at ||grad|| <= {REL_GRAD_TOL:g} (1+|L|) or the budget; end points certified with allow_kinks=True")
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
    p = subparsers.add_parser("bench",
                              help="certified minima per start and per instance, time per certified minimum: "
                                   "project vs scipy and Adam",
                              description=__doc__.split("\n")[0].replace("`", ""))
    p.add_argument("--json", metavar="PATH",
                   help="write the summary, per-group detail and per-instance/per-start records as JSON")
    p.add_argument("--quick", action="store_true", help="a 2-instance set, 2 starts, 0.4 s budgets (for tests)")
    p.add_argument("--budget", type=float, default=None, help="override every group's per-start budget (seconds)")
    p.add_argument("--seeds", type=int, default=None, help="instances per group (seeds 0..n-1; default 2, quick 1)")
    p.add_argument("--starts", type=int, default=None, help="starts per instance (default 8, quick 2)")
    p.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (default 1)")
    p.add_argument("--methods", default=",".join(METHODS),
                   help=f"comma-separated methods (default {','.join(METHODS)}; "
                        "also: scipy-ncg = L-BFGS-B -> trust-ncg, a diagnostic)")
    p.add_argument("--groups", default=None, help="comma-separated substrings: run only the groups whose name contains one")
    p.add_argument("--check", action="store_true",
                   help="exit 1 when the acceptance floors (teacher instance yield >= 90%%, "
                        "speed-up vs best scipy >= 10x) are not met")
    p.set_defaults(func=_cmd_bench)


if __name__ == "__main__":  # pragma: no cover
    import argparse

    ap = argparse.ArgumentParser(prog="bench")
    sp = ap.add_subparsers(dest="cmd", required=True)
    add_parser(sp)
    a = ap.parse_args(["bench", *sys.argv[1:]])
    sys.exit(a.func(a))
