"""claim7 — Perturbable gradient basis (PGB): every differentiable local minimum value is the global minimum value
of an induced (convex) model.

Source: K. Kawaguchi, J. Huang, L. P. Kaelbling, "Every local minimum value is the global minimum value of induced
model in nonconvex machine learning", Neural Computation 31(12):2293, 2019, arXiv:1904.03673 (CLAIMS.md, claim7).

Statement, as checked here (CLAIMS.md claim7):
- f(x; theta) in R^{d_y}; f_X(theta) in R^{m d_y} stacks the training outputs (vec order: columns of Yhat stacked);
  J = d f_X / d theta. L(theta) = psi(f_X(theta)), psi(z) = (1/m) sum_i l(z_i, y_i), l(., y) convex and
  differentiable. Two losses (MEAN losses, unlike claims 1-6):
    * 'squared': l(q, y) = ||q - y||^2, so L = (1/m) ||Yhat - Y||_F^2;
    * 'xent'   : softmax cross-entropy, l(q, y) = logsumexp(q) - y^T q with y one-hot.
- A2: f_X in col(J) wherever f_X is differentiable (any net with a linear output layer).
- claim7a: at every differentiable critical point, L(theta) = phi*_GB := min_alpha psi(J alpha).
- claim7b: at every differentiable local minimum there is eps0 > 0 such that, for eps in [0, eps0),
  L(theta) = inf over finite S subset V[theta, eps] and alpha of psi(sum_k J(theta + eps S_k) alpha_k),
  V[theta, eps] = {v : ||v|| <= 1, f_X(theta + eps v) = f_X(theta), f_X differentiable at theta + eps v}.

Check (one obvious place: `check_gb` for 7a, `check_pgb` for 7b):
- Baseline in z = Q beta, Q an orthonormal basis of col(J) at the handbook's numerical rank (networks.numerical_rank
  threshold, gap >= 1e3 at the cut, else the instance is counted as outside the hypotheses). Squared loss: closed
  form via baselines.least_squares (which cross-checks with cvxpy). Cross-entropy: a cvxpy log_sum_exp problem
  (exponential cone, Clarabel), status OPTIMAL only, objective recomputed in numpy, ||Q^T grad psi(z*)|| <= 1e-7.
  (baselines.classification.softmax_regression fits a model logits = Z W with one weight column per class; the GB
  model z = Q beta is a general subspace of R^{m d_y}, so that signature does not fit.)
- 7a (Lemma C, CLAIMS.md section 0): with z0 = f_X(theta) and ||P_V grad psi(z0)|| <= ||grad L|| / sigma_min^+(J),
      phi* - slack_solver - tau_fp <= L <= phi* + ||grad L|| ||z0 - z*|| / sigma_min^+(J) + slack_solver + tau_fp.
- 7b: S is built from EXACTLY output-preserving moves (positive rescaling of homogeneous units, incoming weights of
  zero-output units, incoming weights of dead ReLU units); ||Delta f_X|| <= 1e-12 max(1, ||f_X||) is asserted for
  every move. J_PGB = [J(theta), J(theta + eps S_1), ...]. slack_PGB = Lemma C with J_PGB: the output gradient
  grad psi(z0) is the same at every perturbed point (same outputs), so ||J_PGB^T grad psi(z0)||^2 = sum_k
  ||grad L(theta + eps S_k)||^2, the gradients measured at the perturbed points. Assert
      phi*_PGB - slack_solver - tau_fp <= L <= phi*_PGB + slack_PGB + slack_solver + tau_fp,
  and slack_PGB <= 1e-8 (1 + L) (policy tolerance of the handbook: at a certified minimum the perturbed points are
  minima too, so their gradients are at the certificate's level).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from minimacheck import tolerance
from claims.projections import basis
from minimacheck.ledger import Record
from minimacheck.legacy import Claim, RunConfig
from networks import MLP, Objective, Verdict, activations, certify, minimize, numerical_rank, vec

CLAIM_ID = "claim7"
LOSSES = ("squared", "xent")
SMOOTH_ACTIVATIONS = ("tanh", "softplus", "sigmoid")
PL_ACTIVATIONS = ("leaky_relu", "leaky_relu:0.5", "abs", "relu")
GAP_MIN = 1e3  # handbook: minimum singular-value gap at the numerical-rank cut
A2_REL_TOL = 1e-8  # policy: ||P_N[J] f_X|| <= 1e-8 (1 + ||f_X||) counts as A2 (exact in exact arithmetic)
DELTA_F_TOL = 1e-12  # handbook: ||Delta f_X|| <= 1e-12 for an output-preserving move (scaled by max(1, ||f_X||))
EPS_MOVE = 1e-2  # the largest perturbation radius eps used to build S
SLACK_PGB_POLICY = 1e-8  # handbook policy: slack_PGB <= 1e-8 (1 + L) at certified minima
RESOLUTION_POLICY = SLACK_PGB_POLICY  # 7a: a Lemma-C slack above 1e-8 (1 + L) leaves the identity unresolved
BASELINE_GRAD_TOL = 1e-7  # handbook: ||Q^T grad psi(z*)|| <= 1e-7 for the cvxpy cross-entropy optimum
MAX_RESCALE_MOVES = 6
MAX_INCOMING_MOVES = 24


# ===================================================================== losses (mean losses, CLAIMS.md section 0)
def _loss_name(loss: str) -> str:
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; claim7 checks {LOSSES}")
    return loss


def _shift_tangents(model: MLP) -> torch.Tensor | None:
    """Cross-entropy is invariant under adding the same constant to every logit of a sample. Adding c to every
    column of one row of the output layer (a hidden unit's outgoing row, or the output bias) shifts every sample's
    logits by c h_i: exact symmetries of L that the model does not know about (P x (d_H + 1) tangents)."""
    if model.masks or model.skip_dim:
        return None
    rows = model.weight_shapes[-1][0]
    cols = []
    for r in range(rows):
        Ws = [torch.zeros(s) for s in model.weight_shapes]
        Ws[-1][r, :] = 1.0
        cols.append(model.flatten(Ws))
    return torch.stack(cols, dim=1)


def mean_squared_objective(model: MLP, X, Y) -> Objective:
    """L = (1/m) ||Yhat - Y||_F^2, as 1/2 ||r||^2 with r = sqrt(2/m) (vec Yhat - vec Y) so the trainer can use LM."""
    X = torch.as_tensor(X, dtype=torch.float64)
    Y = torch.as_tensor(Y, dtype=torch.float64)
    _check_xy(model, X, Y)
    m = X.shape[0]
    c = math.sqrt(2.0 / m)
    y = vec(Y)

    def outputs(theta):
        return vec(model.forward(theta, X))

    def residual(theta):
        return c * (outputs(theta) - y)

    def fun(theta):
        r = outputs(theta) - y
        return (r * r).sum() / m

    kinks = (lambda theta: model.kink_preactivations(theta, X)) if model.is_piecewise_linear else None
    return Objective(
        fun=fun, n_params=model.n_params, residual=residual,
        residual_jacobian=lambda theta: c * model.output_jacobian(theta, X), outputs=outputs,
        kink_preactivations=kinks, symmetry_tangents=model.symmetry_tangents, nonnegative=True,
        name=f"mean squared loss, {model.activation} MLP {model.dims}",
    )


def cross_entropy_objective(model: MLP, X, Y) -> Objective:
    """L = (1/m) sum_i logsumexp(Yhat_i) - Y_i . Yhat_i (Y one-hot). No residual: the trainer uses Newton.

    nonnegative=False on purpose: L >= 0 but L = 0 is never attained, so 'L ~ 0' must not certify a minimum."""
    X = torch.as_tensor(X, dtype=torch.float64)
    Y = torch.as_tensor(Y, dtype=torch.float64)
    _check_xy(model, X, Y)
    if model.d_out < 2:
        raise ValueError("cross-entropy needs d_out >= 2 classes")
    if not torch.all((Y == 0) | (Y == 1)) or not torch.all(Y.sum(1) == 1):
        raise ValueError("cross-entropy targets Y must be one-hot rows")
    m = X.shape[0]

    def outputs(theta):
        return vec(model.forward(theta, X))

    def fun(theta):
        Z = model.forward(theta, X)
        return (torch.logsumexp(Z, dim=1) - (Y * Z).sum(1)).sum() / m

    shift = _shift_tangents(model)

    def tangents(theta):
        T = model.symmetry_tangents(theta)
        return T if shift is None else torch.cat([T, shift], dim=1)

    kinks = (lambda theta: model.kink_preactivations(theta, X)) if model.is_piecewise_linear else None
    return Objective(
        fun=fun, n_params=model.n_params, outputs=outputs, kink_preactivations=kinks, symmetry_tangents=tangents,
        nonnegative=False, name=f"mean cross-entropy, {model.activation} MLP {model.dims}",
    )


def _check_xy(model: MLP, X: torch.Tensor, Y: torch.Tensor) -> None:
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0] or X.shape[0] == 0:
        raise ValueError(f"X and Y must be 2-D with the same (positive) number of rows, got {tuple(X.shape)}, {tuple(Y.shape)}")
    if X.shape[1] != model.d_in or Y.shape[1] != model.d_out:
        raise ValueError(f"data shapes {tuple(X.shape)}, {tuple(Y.shape)} do not fit the model {model.dims}")
    if not (torch.isfinite(X).all() and torch.isfinite(Y).all()):
        raise ValueError("X or Y contains NaN or inf")


def objective_for(loss: str, model: MLP, X, Y) -> Objective:
    return mean_squared_objective(model, X, Y) if _loss_name(loss) == "squared" else cross_entropy_objective(model, X, Y)


# numpy versions of psi (vec order: z[k*m + i] is output k of sample i)
def _Z(z: np.ndarray, m: int, k: int) -> np.ndarray:
    return z.reshape(k, m).T


def _logsumexp(Z: np.ndarray) -> np.ndarray:
    mx = Z.max(axis=1, keepdims=True)
    return (mx + np.log(np.exp(Z - mx).sum(axis=1, keepdims=True)))[:, 0]


def psi(z: np.ndarray, Y: np.ndarray, loss: str) -> float:
    m, k = Y.shape
    Z = _Z(z, m, k)
    if loss == "squared":
        return float(((Z - Y) ** 2).sum() / m)
    return float((_logsumexp(Z) - (Y * Z).sum(1)).sum() / m)


def psi_grad(z: np.ndarray, Y: np.ndarray, loss: str) -> np.ndarray:
    m, k = Y.shape
    Z = _Z(z, m, k)
    if loss == "squared":
        G = 2.0 * (Z - Y) / m
    else:
        Pr = np.exp(Z - _logsumexp(Z)[:, None])
        G = (Pr - Y) / m
    return G.T.reshape(-1)


def _psi_hess(z: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Hessian of the cross-entropy psi in z (block diagonal per sample, in vec order)."""
    m, k = Y.shape
    Z = _Z(z, m, k)
    Pr = np.exp(Z - _logsumexp(Z)[:, None])
    H = np.zeros((m * k, m * k))
    for a in range(k):
        for b in range(k):
            H[a * m + np.arange(m), b * m + np.arange(m)] = (Pr[:, a] * ((a == b) - Pr[:, b])) / m
    return H


# ===================================================================== baseline: phi* over col(J)
@dataclass(frozen=True)
class GBOptimum:
    value: float  # certified phi* (closed form, or cvxpy objective recomputed in numpy)
    z_star: np.ndarray  # a minimizer in col(J) (for cross-entropy: the one closest to z0 along the flat directions)
    slack_solver: float
    method: str
    rank: int
    sigma_min_plus: float
    gap: float
    grad_check: float  # ||Q^T grad psi(z*)||
    extra: dict = field(default_factory=dict)


def col_basis(M: np.ndarray) -> tuple[np.ndarray, int, float, float]:
    """(Q, rank, sigma_min^+, gap) at the handbook's numerical rank (claims.projections.basis)."""
    b = basis(M)
    return b.Q, b.rank, b.sigma_min_plus, b.gap


def gb_optimum(J: np.ndarray, Y: np.ndarray, loss: str, z0: np.ndarray) -> GBOptimum:
    """phi* = min_beta psi(Q beta), Q an orthonormal basis of col(J). Raises BaselineError when not certified."""
    from baselines.certificate import BaselineError

    Q, rank, smin, gap = col_basis(J)
    m, k = Y.shape
    if rank == 0:
        z = np.zeros(m * k)
        return GBOptimum(psi(z, Y, loss), z, 0.0, "empty basis", 0, math.inf, math.inf, 0.0)
    if loss == "squared":
        from baselines.least_squares import least_squares

        y = Y.T.reshape(-1)
        cert = least_squares(Q, y[:, None])  # min 1/2 ||Q beta - y||^2, closed form cross-checked by cvxpy
        beta = np.asarray(cert.solution, dtype=np.float64).reshape(-1)
        z = Q @ beta
        value = psi(z, Y, loss)  # = (2/m) cert.value, recomputed at the solution
        if abs(value - 2.0 / m * cert.value) > 1e-9 * (1 + abs(value)):
            raise BaselineError(f"least-squares value {2.0 / m * cert.value} disagrees with the recomputed {value}")
        g = float(np.linalg.norm(Q.T @ psi_grad(z, Y, loss)))
        return GBOptimum(value, z, 2.0 / m * float(cert.slack_solver), f"least squares ({cert.method})", rank, smin, gap, g,
                         {"cvxpy_value": None if cert.cvxpy_value is None else 2.0 / m * cert.cvxpy_value})
    return _xent_optimum(Q, Y, z0, rank, smin, gap)


def _xent_optimum(Q, Y, z0, rank, smin, gap) -> GBOptimum:
    import cvxpy as cp

    from baselines.certificate import BaselineError

    m, k = Y.shape
    beta = cp.Variable(Q.shape[1])
    Zv = cp.reshape(Q @ beta, (m, k), order="F")
    prob = cp.Problem(cp.Minimize((cp.sum(cp.log_sum_exp(Zv, axis=1)) - cp.sum(cp.multiply(Y, Zv))) / m))
    try:
        prob.solve(solver=cp.CLARABEL)
    except cp.error.SolverError as e:  # pragma: no cover - solver failure is reported, not hidden
        raise BaselineError(f"Clarabel failed: {e}") from e
    if prob.status != cp.OPTIMAL or beta.value is None:
        raise BaselineError(f"cvxpy status {prob.status!r} (only 'optimal' is accepted)")
    b = np.asarray(beta.value, dtype=np.float64)
    cvx_reported = float(prob.value)
    cvx_value = psi(Q @ b, Y, "xent")  # recomputed in numpy
    # a few Newton steps in beta (pseudo-inverse: the flat directions are left alone) only sharpen the point;
    # a step is kept only if it lowers the recomputed objective
    for _ in range(6):
        z = Q @ b
        g = Q.T @ psi_grad(z, Y, "xent")
        if np.linalg.norm(g) < 1e-14:
            break
        H = Q.T @ _psi_hess(z, Y) @ Q
        step = -np.linalg.lstsq(H, g, rcond=1e-12)[0]
        cand = b + step
        if psi(Q @ cand, Y, "xent") <= psi(z, Y, "xent"):
            b = cand
        else:
            break
    z_star = Q @ b
    value = psi(z_star, Y, "xent")
    grad_check = float(np.linalg.norm(Q.T @ psi_grad(z_star, Y, "xent")))
    if grad_check > BASELINE_GRAD_TOL:
        raise BaselineError(f"cross-entropy optimum not certified: ||Q^T grad psi(z*)|| = {grad_check:.2e} > {BASELINE_GRAD_TOL}")
    if value > cvx_value + 1e-12 * (1 + abs(cvx_value)):
        raise BaselineError("polish raised the objective")  # cannot happen: steps are only kept when they descend
    # flat directions: psi is invariant under per-sample logit shifts; inside col(Q) those shifts form a subspace T,
    # and z* + P_T (z0 - z*) is a minimizer too, the one closest to z0 along T (tightens Lemma C's distance)
    S = np.kron(np.ones((k, 1)), np.eye(m)) / math.sqrt(k)  # orthonormal basis of the per-sample shifts
    U, s, _ = np.linalg.svd(Q.T @ S, full_matrices=False)
    T = Q @ U[:, s > 1 - 1e-10]
    z_star = z_star + T @ (T.T @ (z0 - z_star))
    return GBOptimum(value, z_star, tolerance.slack_solver(value, True), "cvxpy log_sum_exp (Clarabel) + Newton polish",
                     rank, smin, gap, grad_check, {"cvxpy_value": cvx_value, "cvxpy_reported": cvx_reported, "flat_dim": T.shape[1]})


# ===================================================================== instances
@dataclass(frozen=True)
class Params:
    """Structure of one instance; numpy builds the arrays from `seed`.

    Targets come from a teacher net of the same architecture (so differentiable minima at finite parameters are
    reachable; an unrelated target drives under-parameterized tanh nets to saturation, a minimum at infinity):
    - squared: m samples, X ~ N(0, 1), Y = teacher(X) + noise * N(0, 1);
    - xent: `m` distinct inputs, each repeated with EVERY class label (count 1 + multinomial(4 d_y, softmax of the
      teacher's logits)), so the per-input optimum is attained (CLAIMS.md claim7 Check).
    init: 'teacher' starts the student at the teacher plus `jitter` N(0, 1) per entry; 'random' at MLP.init."""

    loss: str = "squared"
    m: int = 12
    d_x: int = 2
    d_y: int = 1
    widths: tuple[int, ...] = (3,)
    activation: str = "tanh"
    seed: int = 0
    noise: float = 0.05
    init: str = "teacher"
    jitter: float = 0.1

    def __post_init__(self):
        _loss_name(self.loss)
        activations.get(self.activation)
        if self.m < 1 or self.d_x < 1 or self.d_y < 1 or any(w < 1 for w in self.widths):
            raise ValueError(f"invalid instance structure {self}")
        if self.loss == "xent" and self.d_y < 2:
            raise ValueError("cross-entropy instances need d_y >= 2 classes")
        if self.init not in ("teacher", "random"):
            raise ValueError(f"init must be 'teacher' or 'random', got {self.init!r}")
        if not (self.noise >= 0 and self.jitter >= 0):
            raise ValueError("noise and jitter must be >= 0")

    @property
    def label(self) -> str:
        return (f"{self.loss}:{self.activation}:m{self.m}:dx{self.d_x}:dy{self.d_y}:w{'x'.join(map(str, self.widths))}"
                f":{self.init}:s{self.seed}")

    def model(self) -> MLP:
        return MLP(self.d_x, self.widths, self.d_y, activation=self.activation)


def make_data(p: Params) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """(X, Y, teacher parameters)."""
    rng = np.random.default_rng([7, p.seed])
    model = p.model()
    teacher = model.init(int(rng.integers(1 << 31)), 1.0)
    Xd = rng.standard_normal((p.m, p.d_x))
    F = model.forward(teacher, torch.as_tensor(Xd)).numpy()
    if p.loss == "squared":
        return Xd, F + p.noise * rng.standard_normal(F.shape), teacher
    Pr = np.exp(F - F.max(1, keepdims=True))
    Pr /= Pr.sum(1, keepdims=True)
    counts = 1 + np.stack([rng.multinomial(4 * p.d_y, q) for q in Pr])
    rows, labels = [], []
    for i in range(p.m):
        for c in range(p.d_y):
            rows += [i] * int(counts[i, c])
            labels += [c] * int(counts[i, c])
    return Xd[rows], np.eye(p.d_y)[labels], teacher


@dataclass
class Instance:
    label: str
    loss: str
    model: MLP
    X: np.ndarray
    Y: np.ndarray
    obj: Objective
    theta: torch.Tensor
    cert: object  # networks.Certificate
    escape: str = ""  # non-empty: a radial probe found the loss falling towards infinity (no minimum certified)
    train_reason: str = ""
    seconds: float = 0.0

    @property
    def differentiable_critical(self) -> bool:
        return self.cert.critical and not self.escape

    @property
    def certified_minimum(self) -> bool:
        return self.cert.certified and not self.escape


def radial_escape(obj: Objective, theta: torch.Tensor) -> str:
    """ENGINEERING.md 'minima at infinity': L((1+s) theta) < L(theta) / 2 for some s in (0.1, 0.5, 1) means the
    loss keeps falling along the ray (cross-entropy on separable data); at a genuine minimum of the duplicated-label
    designs L(theta) is bounded below by the per-input optimum, so halving along the ray does not happen."""
    L = obj.value(theta)
    if not (L > 0 and math.isfinite(L)):
        return ""
    for s in (0.1, 0.5, 1.0):
        Ls = obj.value((1 + s) * theta)
        if Ls < 0.5 * L:
            return f"diverging: L((1+{s})theta) = {Ls:.3e} < L/2 = {0.5 * L:.3e}, ||theta|| = {float(theta.norm()):.3g} (minimum at infinity)"
    return ""


_WARM = []


def warm_up() -> None:
    """The first torch.func.vmap(grad) call of a process imports torch's compiler stack (about 4 s, measured); pay
    it before any timed training so the first instance's time budget is not spent on an import."""
    if not _WARM:
        m = MLP(1, (1,), 1)
        m.output_jacobian(m.init(0), torch.zeros(1, 1))
        _WARM.append(True)


def build_instance(p: Params, *, time_budget: float = 8.0, max_iter: int = 300) -> Instance:
    warm_up()
    t0 = time.perf_counter()
    X, Y, teacher = make_data(p)
    model = p.model()
    obj = objective_for(p.loss, model, X, Y)
    if p.init == "teacher":
        g = torch.Generator().manual_seed(p.seed)
        theta0 = teacher + p.jitter * torch.randn(model.n_params, generator=g)
    else:
        theta0 = model.init(p.seed)
    res = train(obj, theta0, max_iter=max_iter, time_budget=time_budget)
    return finish_instance(p.label, p.loss, model, X, Y, obj, res.theta, res.reason, t0)


def train(obj: Objective, theta0: torch.Tensor, *, max_iter: int = 300, time_budget: float = 8.0):
    """networks.minimize (LM + Newton, or Newton for cross-entropy) to certify-level gradients, then a short Newton
    polish. Returns networks.minimize's TrainResult. (claim7 had its own damped Newton pre-trainer while the
    engine's Newton crept along negative curvature on cross-entropy nets; measured on claim7's instances, the
    engine now certifies as many records (28/46) in about half the time.)"""
    res = minimize(obj, theta0, max_iter=max_iter, time_budget=time_budget)
    if res.converged:
        # Newton converges quadratically here: a few more steps take the gradient from the 1e-9 certificate level
        # to round-off, which shrinks the Lemma-C slacks (gradient / sigma_min^+) by orders of magnitude
        pol = minimize(obj, res.theta, rel_grad_tol=1e-14, max_iter=4, method="newton")
        if pol.loss <= res.loss and pol.grad_norm < res.grad_norm:
            pol.converged, pol.reason = True, "converged (polished)"
            pol.iterations += res.iterations
            res = pol
    res.theta_norm_start = float(torch.as_tensor(theta0).norm())
    return res


def finish_instance(label, loss, model, X, Y, obj, theta, train_reason="constructed", t0=None) -> Instance:
    t0 = time.perf_counter() if t0 is None else t0
    cert = certify(obj, theta)
    esc = radial_escape(obj, theta) if loss == "xent" else ""
    if esc and cert.critical:
        cert = replace(cert, verdict=Verdict.NOT_CONVERGED, reason=esc, strength=None)
    return Instance(label, loss, model, np.asarray(X, float), np.asarray(Y, float), obj, theta, cert, esc, train_reason,
                    time.perf_counter() - t0)


# ===================================================================== Jacobians and hypotheses
def output_jacobian(inst: Instance, theta: torch.Tensor) -> np.ndarray:
    return inst.model.output_jacobian(theta, torch.as_tensor(inst.X)).detach().numpy()


def outputs(inst: Instance, theta: torch.Tensor) -> np.ndarray:
    return inst.obj.outputs(theta).detach().numpy()


def a2_residual(Q: np.ndarray, f: np.ndarray) -> float:
    return float(np.linalg.norm(f - Q @ (Q.T @ f)))


def _uncertified(check: str, inst: Instance, reason: str, kind: str = "positive", **extra) -> Record:
    return Record(CLAIM_ID, check, kind=kind, certified=False, passed=None, reason=reason,
                  extra={"instance": inst.label, "verdict": inst.cert.verdict.value, "escape": inst.escape, **extra})


@dataclass(frozen=True)
class _Comparison:
    """L against the gradient-basis optimum of col(J), with Lemma C's slack (shared by 7a and 7b)."""

    opt: GBOptimum
    rank: int
    smin: float
    gap: float
    a2: float
    a2_ok: bool
    slack: float
    dist: float
    diff: float  # L - phi*
    tol_low: float
    tol_up: float

    @property
    def gap_and_tol(self) -> tuple[float, float]:
        return (self.diff, self.tol_up) if self.diff >= 0 else (-self.diff, self.tol_low)


def _compare(inst: Instance, J: np.ndarray, z0: np.ndarray, grad_bound: float, L: float, *, what: str,
             policy: float, cap_slack: bool, enforce: bool) -> _Comparison | str:
    """Baseline phi* = min psi over col(J) and Lemma C: L - phi* <= ||P_V grad psi(z0)|| ||z0 - z*|| with
    ||P_V grad psi(z0)|| <= grad_bound / sigma_min^+(J) (grad L = J^T grad psi(z0): chain rule). Returns the
    comparison, or the reason the instance is uncertified (gapless spectrum, A2 fails, baseline refused, or a slack
    above `policy`: the bound holds there but would be vacuous, so it is counted unresolved, never passed)."""
    Q, rank, smin, gap = col_basis(J)
    a2 = a2_residual(Q, z0)
    a2_ok = a2 <= A2_REL_TOL * (1 + np.linalg.norm(z0))
    if enforce and gap < GAP_MIN:
        return f"gapless {what} spectrum at the rank cut (gap {gap:.3g} < {GAP_MIN:g})"
    if enforce and not a2_ok:
        return f"A2 fails: ||P_N[J] f_X|| = {a2:.2e}"
    from baselines.certificate import BaselineError

    try:
        opt = gb_optimum(J, inst.Y, inst.loss, z0)
    except BaselineError as e:
        return f"baseline not certified: {e}"
    dist = float(np.linalg.norm(z0 - opt.z_star))
    slack = tolerance.lemma_c_slack(grad_bound / smin, dist) if rank else 0.0
    if enforce and slack > policy:
        return (f"unresolved: {what} Lemma-C slack {slack:.2e} > policy {policy:.2e} (sigma_min^+ {smin:.2e}, "
                f"gradient {grad_bound:.2e})")
    tol_low = opt.slack_solver + tolerance.tau_fp(opt.value)
    # 7b: the claimed identity may deviate by the Lemma-C slack, which the handbook caps at the policy tolerance
    tol_up = (min(slack, policy) if cap_slack else slack) + tol_low
    return _Comparison(opt, rank, smin, gap, a2, bool(a2_ok), slack, dist, L - opt.value, tol_low, tol_up)


# ===================================================================== claim7a
def check_gb(inst: Instance, *, enforce_hypotheses: bool = True, kind: str = "positive") -> Record:
    """claim7a at a differentiable critical point (C-crit): L = phi*_GB within the Lemma-C tolerance."""
    check = f"7a-gb:{inst.loss}"
    cert = inst.cert
    if enforce_hypotheses and not inst.differentiable_critical:
        return _uncertified(check, inst, f"not a differentiable critical point: {inst.escape or cert.reason}", kind)
    L = float(cert.loss)
    c = _compare(inst, output_jacobian(inst, inst.theta), outputs(inst, inst.theta), float(cert.grad_norm), L,
                 what="Jacobian", policy=RESOLUTION_POLICY * (1 + abs(L)), cap_slack=False, enforce=enforce_hypotheses)
    if isinstance(c, str):
        return _uncertified(check, inst, c, kind)
    gapv, tol = c.gap_and_tol
    passed = bool(gapv <= tol)
    opt = c.opt
    return Record(
        CLAIM_ID, check, kind=kind, certified=True, passed=passed, gap=gapv, tol=tol,
        reason="" if passed else f"L - phi*_GB = {c.diff:.3e} outside [-{c.tol_low:.2e}, {c.tol_up:.2e}]",
        extra={"instance": inst.label, "verdict": cert.verdict.value, "L": L, "phi_gb": opt.value, "lemma_c": c.slack,
               "grad_norm": cert.grad_norm, "sigma_min_plus": c.smin, "rank": c.rank, "rank_gap": c.gap,
               "a2_residual": c.a2, "a2_ok": c.a2_ok, "baseline": opt.method, "baseline_grad": opt.grad_check,
               "dist": c.dist, "slack_solver": opt.slack_solver, **opt.extra},
    )


# ===================================================================== claim7b: output-preserving moves and the PGB
@dataclass(frozen=True)
class Move:
    kind: str  # 'rescale' | 'zero-output' | 'dead'
    layer: int  # hidden layer index (1-based)
    unit: int
    theta: torch.Tensor  # the perturbed point theta + eps v, ||eps v|| <= EPS_MOVE


def output_preserving_moves(model: MLP, theta: torch.Tensor, X, eps: float = EPS_MOVE) -> list[Move]:
    """Exactly output-preserving perturbations of an MLP (no masks, no skip), CLAIMS.md claim7b:
    - positive rescaling of a homogeneous unit (degree k): incoming column x c, outgoing row / c^k;
    - each incoming weight of a zero-output unit (outgoing row exactly 0);
    - each incoming weight of a dead ReLU unit (all pre-activations < 0), small enough to keep it dead.
    The step radius is at most eps, and the incoming moves keep that unit's pre-activation signs (margin)."""
    if model.masks or model.skip_dim:
        raise ValueError("output_preserving_moves supports unmasked MLPs without skip connections")
    X = torch.as_tensor(X, dtype=torch.float64)
    act = activations.get(model.activation)
    Ws, _ = model.unflatten(theta)
    _, zs, hs = model.layers(theta, X)
    rescale, incoming = [], []
    for l in range(model.depth):
        h_in = model._with_bias(hs[l])
        row_norm = float(h_in.norm(dim=1).max())
        for j in range(model.widths[l]):
            w_in, w_out = Ws[l][:, j], Ws[l + 1][j, :]
            linear_unit = j in model.linear_units[l]
            zero_out = bool((w_out == 0).all())
            dead = model.activation == "relu" and not linear_unit and bool((zs[l][:, j] < 0).all())
            if zero_out or dead:
                zmin = float(zs[l][:, j].abs().min())
                # keep the unit's pre-activation signs: |eps x_i^T e_r| <= eps * row_norm < zmin / 2
                e = eps if (act.piecewise_linear is False and not dead) else min(eps, 0.5 * zmin / max(row_norm, 1e-300))
                if e <= 0:
                    continue
                for r in range(w_in.numel()):
                    dWs = [torch.zeros_like(W) for W in Ws]
                    dWs[l][r, j] = e
                    incoming.append(Move("zero-output" if zero_out else "dead", l + 1, j, theta + model.flatten(dWs)))
                continue
            k = 1 if linear_unit else act.homogeneity
            if k is None or model.activation == "linear":
                continue
            nrm = math.sqrt(float(w_in @ w_in) + k * k * float(w_out @ w_out))
            if nrm == 0:
                continue
            s = 0.5 * eps / nrm  # first order: ||theta' - theta|| ~ s nrm = eps / 2
            c = 1.0 + s
            new = [W.clone() for W in Ws]
            new[l][:, j] = w_in * c
            new[l + 1][j, :] = w_out / c**k
            t_new = model.flatten(new)
            if float((t_new - theta).norm()) <= eps:
                rescale.append(Move("rescale", l + 1, j, t_new))
    return rescale[:MAX_RESCALE_MOVES] + incoming[:MAX_INCOMING_MOVES]


def check_pgb(inst: Instance, *, enforce_hypotheses: bool = True, kind: str = "positive", eps: float = EPS_MOVE) -> Record:
    """claim7b at a differentiable local minimum (C-min): L = phi*_PGB within slack_PGB (Lemma C on J_PGB)."""
    check = f"7b-pgb:{inst.loss}"
    cert = inst.cert
    if enforce_hypotheses and not inst.certified_minimum:
        return _uncertified(check, inst, f"not a certified differentiable local minimum: {inst.escape or cert.reason}", kind)
    theta = inst.theta
    L = float(cert.loss)
    z0 = outputs(inst, theta)
    fscale = max(1.0, float(np.linalg.norm(z0)))
    moves = output_preserving_moves(inst.model, theta, inst.X, eps)
    blocks, grads2 = [output_jacobian(inst, theta)], float(cert.grad_norm) ** 2
    max_df, dropped, kinds = 0.0, 0, {}
    for mv in moves:
        df = float(np.linalg.norm(outputs(inst, mv.theta) - z0))
        max_df = max(max_df, df)
        if inst.obj.kink_preactivations is not None:
            zk = inst.obj.kink_preactivations(mv.theta)
            if zk is not None and float(zk.abs().min()) <= 1e-7 * (1 + float(zk.abs().max())):
                dropped += 1  # not a differentiable point: not in V[theta, eps]
                continue
        blocks.append(output_jacobian(inst, mv.theta))
        grads2 += float(inst.obj.grad(mv.theta).norm()) ** 2
        kinds[mv.kind] = kinds.get(mv.kind, 0) + 1
    moves_ok = max_df <= DELTA_F_TOL * fscale
    policy = SLACK_PGB_POLICY * (1 + abs(L))
    # gradients measured at theta and at every perturbed point bound J_PGB^T grad psi(z0) (all share the outputs z0)
    c = _compare(inst, np.hstack(blocks), z0, math.sqrt(grads2), L, what="J_PGB", policy=policy, cap_slack=True,
                 enforce=enforce_hypotheses)
    if isinstance(c, str):
        return _uncertified(check, inst, c, kind)
    gapv, tol = c.gap_and_tol
    reasons = []
    if not moves_ok:
        reasons.append(f"a move changed the outputs by {max_df:.2e} > {DELTA_F_TOL:g} * {fscale:.3g}")
    if gapv > tol:
        reasons.append(f"L - phi*_PGB = {c.diff:.3e} outside [-{c.tol_low:.2e}, {c.tol_up:.2e}]")
    passed = not reasons
    opt = c.opt
    return Record(
        CLAIM_ID, check, kind=kind, certified=True, passed=passed, gap=gapv, tol=tol, reason="; ".join(reasons),
        extra={"instance": inst.label, "verdict": cert.verdict.value, "strength": cert.strength, "L": L,
               "phi_pgb": opt.value, "slack_pgb": c.slack, "policy": policy, "moves": kinds, "dropped_moves": dropped,
               "max_delta_f": max_df, "rank_pgb": c.rank, "rank_J": numerical_rank(blocks[0])[0],
               "sigma_min_plus": c.smin, "rank_gap": c.gap, "a2_residual": c.a2, "baseline": opt.method,
               "dist": c.dist, "eps": eps, **opt.extra},
    )


# ===================================================================== negative controls
def planted_saddle(seed: int = 0, m: int = 30, d_x: int = 3, width: int = 3, activation: str = "tanh") -> Instance:
    """The one-hidden-layer planted saddle (CLAIMS.md claim4's negative control, here with the mean squared loss):
    margin > 0, every outgoing weight v_j = 0, output bias 0, y orthogonal to span{a_j, 1}. Then grad L = 0 exactly,
    L = (1/m)||y||^2 = phi*_GB (claim7a holds), but the zero-output units' incoming moves enlarge the basis."""
    rng = np.random.default_rng([77, seed])
    X = rng.standard_normal((m, d_x))
    model = MLP(d_x, (width,), 1, activation=activation)
    W1 = rng.standard_normal((d_x + 1, width))
    Xt = np.hstack([X, np.ones((m, 1))])
    Z1 = Xt @ W1
    A = activations.get(activation)(torch.as_tensor(Z1)).numpy()
    B = np.hstack([A, np.ones((m, 1))])
    y0 = rng.standard_normal(m)
    y = y0 - B @ np.linalg.lstsq(B, y0, rcond=None)[0]
    theta = model.flatten([torch.as_tensor(W1), torch.zeros(width + 1, 1)])
    obj = mean_squared_objective(model, X, y[:, None])
    return finish_instance(f"planted-saddle:{activation}:s{seed}", "squared", model, X, y[:, None], obj, theta)


def control_planted_saddle(seed: int = 0, activation: str = "tanh") -> list[Record]:
    """7a holds at the planted saddle, but phi*_PGB < L: the 7b identity is violated and must be detected (and the
    certifier must not call the point a minimum)."""
    inst = planted_saddle(seed, activation=activation)
    r7a = check_gb(inst)  # a saddle is a differentiable critical point: a genuine positive instance of 7a
    r7a.check = "7a-gb:planted-saddle"
    r7b = check_pgb(inst, enforce_hypotheses=False, kind="negative-control")
    r7b.check = "7b-planted-saddle"
    viol = r7b.gap is not None and r7b.gap > r7b.tol and r7b.extra.get("phi_pgb", math.inf) < float(inst.cert.loss)
    r7b.detected = bool(viol and not inst.certified_minimum)
    r7b.extra.update(certifier_verdict=inst.cert.verdict.value, lambda_min=inst.cert.lambda_min)
    r7b.reason = (f"phi*_PGB = {r7b.extra.get('phi_pgb'):.4g} < L = {inst.cert.loss:.4g}; certifier: {inst.cert.verdict.value}"
                  if r7b.detected else f"NOT detected: {r7b.reason}; certifier: {inst.cert.verdict.value}")
    return [r7a, r7b]


def a2_violated_instance(seed: int = 0, m: int = 20, d_x: int = 2) -> Instance:
    """A single tanh output unit f = tanh(X~ w): f_X is not in col(J) = col(diag(1 - f^2) X~)."""
    rng = np.random.default_rng([78, seed])
    X = rng.standard_normal((m, d_x))
    y = np.tanh(X @ rng.standard_normal(d_x)) + 0.5 * rng.standard_normal(m)
    model = MLP(d_x, (), 1, activation="tanh", output_activation="tanh")
    obj = mean_squared_objective(model, X, y[:, None])
    res = minimize(obj, model.init(seed), max_iter=200, time_budget=5.0)
    return finish_instance(f"a2-violated:tanh-output:s{seed}", "squared", model, X, y[:, None], obj, res.theta, res.reason)


def control_a2_violated(seed: int = 0) -> Record:
    inst = a2_violated_instance(seed)
    rec = check_gb(inst, enforce_hypotheses=False, kind="negative-control")
    rec.check = "7a-a2-violated"
    rec.detected = bool(inst.differentiable_critical and rec.passed is False and not rec.extra.get("a2_ok", True))
    rec.reason = (f"L = {rec.extra['L']:.6g} != phi*_GB = {rec.extra['phi_gb']:.6g} (gap/tol {rec.headroom:.3g}); "
                  f"A2 residual {rec.extra['a2_residual']:.2e}") if rec.detected else f"NOT detected: {rec.reason}; {inst.cert.summary()}"
    return rec


def separable_instance(seed: int = 0, n: int = 8) -> Instance:
    """Cross-entropy on separable data with one label per input: no minimum is attained (minima at infinity)."""
    rng = np.random.default_rng([79, seed])
    X = rng.standard_normal((n, 2))
    labels = (X @ np.array([1.0, -0.7]) > 0).astype(int)
    labels[:2] = [0, 1]  # both classes present
    X[:2] = [[-1.0, 0.3], [1.0, -0.3]]
    Y = np.eye(2)[labels]
    model = MLP(2, (3,), 2, activation="tanh")
    obj = cross_entropy_objective(model, X, Y)
    res = minimize(obj, model.init(seed), max_iter=150, time_budget=6.0)
    return finish_instance(f"separable-xent:s{seed}", "xent", model, X, Y, obj, res.theta, res.reason)


def control_separable(seed: int = 0) -> list[Record]:
    """The outcome must be 'uncertified' (NOT_CONVERGED with divergence), never 'passed'."""
    inst = separable_instance(seed)
    out = []
    for rec in (check_gb(inst, kind="negative-control"), check_pgb(inst, kind="negative-control")):
        rec.check = rec.check + ":separable"
        diverged = "diverg" in (inst.escape + inst.cert.reason + inst.train_reason)
        rec.detected = bool(not rec.certified and rec.passed is None and inst.cert.verdict is Verdict.NOT_CONVERGED and diverged)
        rec.extra.update(loss=float(inst.cert.loss), theta_norm=float(inst.theta.norm()), train_reason=inst.train_reason)
        out.append(rec)
    return out


# ===================================================================== report mode
def draw_params(rng: np.random.Generator) -> Params:
    """Report mode's draw; the same distribution as the Hypothesis strategy in tests/test_claim7_pgb.py.

    tanh nets get a teacher target plus small noise (non-zero loss minima); PL nets are drawn realizable (noise 0):
    an under-parameterized PL fit usually ends on a kink, a realizable one at a zero-loss point with a positive
    margin, where 7b's rescaling moves are exercised."""
    loss = LOSSES[int(rng.integers(2))]
    act = ("tanh", "tanh", "leaky_relu:0.5", "leaky_relu")[int(rng.integers(4))]
    noise = 0.0 if act != "tanh" else (0.02, 0.05)[int(rng.integers(2))]
    seed, width = int(rng.integers(1 << 16)), int(rng.integers(1, 4))
    if loss == "squared":
        widths = (width,) if rng.integers(2) == 0 else (width, int(rng.integers(1, 3)))
        return Params("squared", int(rng.integers(16, 31)), int(rng.integers(1, 4)), int(rng.integers(1, 3)), widths,
                      act, seed, noise=noise)
    return Params("xent", int(rng.integers(3, 7)), int(rng.integers(1, 3)), int(rng.integers(2, 4)), (width,), act, seed,
                  noise=noise)


def check_instance(p: Params, time_budget: float = 8.0) -> tuple[Instance, list[Record]]:
    inst = build_instance(p, time_budget=time_budget)
    return inst, [check_gb(inst), check_pgb(inst)]


def run(cfg: RunConfig) -> list[Record]:
    rng = cfg.rng(7)
    records: list[Record] = []
    for _ in range(cfg.n_instances):
        records += check_instance(draw_params(rng), cfg.time_budget)[1]
    records += control_planted_saddle(0)
    records.append(control_a2_violated(0))
    records += control_separable(0)
    records += tight_case_records()
    return records


# ===================================================================== tight case: the YSJ spurious minimum
YSJ_LOWER_SEEDS = (1, 0, 2)  # random inits tried (in this order) to exhibit a lower loss; seed 1 measured 0.126 < 0.240


def ysj_tight_instance() -> Instance:
    """claims.counterexamples' YSJ point (leaky ReLU, width 6, n = 12), with claim7's mean squared loss."""
    from claims import counterexamples as ce

    y = ce.ysj_instance()
    obj = mean_squared_objective(y.model, y.X, y.Y)
    return finish_instance("ysj", "squared", y.model, y.X, y.Y, obj, y.theta)


def tight_case_records(lower_seeds=YSJ_LOWER_SEEDS, time_budget: float = 1.0) -> list[Record]:
    """At the YSJ minimum, 7a and 7b hold with equality (L = phi*_GB = phi*_PGB = the affine least-squares value,
    the zero-output units' moves stay inside the affine span), yet a lower loss exists: PGB optimality is not
    global optimality. The lower point is found by plain training and needs no certificate (it is a witness)."""
    inst = ysj_tight_instance()
    recs = [check_gb(inst), check_pgb(inst)]
    lower = math.inf
    for s in lower_seeds:
        lower = min(lower, minimize(inst.obj, inst.model.init(s), time_budget=time_budget).loss)
        if lower < inst.cert.loss:
            break
    for r in recs:
        r.check += ":ysj-tight"
        r.extra.update(lower_loss_found=lower, not_global=bool(lower < float(inst.cert.loss) - 1e-6))
    return recs


CLAIM = Claim(
    id=CLAIM_ID,
    title="Perturbable gradient basis: every differentiable local minimum value is the global minimum value of the induced model",
    source="Kawaguchi, Huang & Kaelbling, Neural Computation 31(12):2293, 2019, arXiv:1904.03673",
    statement=(
        "L = psi(f_X(theta)) with psi(z) = (1/m) sum l(z_i, y_i), l convex and differentiable (mean squared loss, "
        "softmax cross-entropy). 7a: at a differentiable critical point, L = phi*_GB = min_alpha psi(J alpha). "
        "7b: at a differentiable local minimum, L = inf over output-preserving perturbation sets S and alpha of "
        "psi(sum_k J(theta + eps S_k) alpha_k) for all small eps."
    ),
    hypotheses=(
        "A2: f_X in col(J) (linear output layer), checked as ||P_N[J] f_X|| <= 1e-8 (1 + ||f_X||)",
        "7a: C-crit (gradient <= 1e-9 (1 + L), activation margin > 0); 7b: C-min (dense Hessian + probe)",
        "numerical rank of J (and J_PGB) with a gap >= 1e3 at the cut",
        "cross-entropy data: every distinct input carries every class label, so the optimum is attained",
        "baselines certified: closed form + cvxpy (squared), cvxpy OPTIMAL + ||Q^T grad psi(z*)|| <= 1e-7 (cross-entropy)",
    ),
    negative_controls=(
        "planted saddle (every v_j = 0, y orthogonal to span{a_j, 1}): 7a holds, phi*_PGB < L is detected",
        "A2 violated (single tanh output unit): L != phi*_GB is detected",
        "separable cross-entropy data without duplicated labels: uncertified (diverging), never passed",
    ),
    run=run,
    sub_claims=("claim7a", "claim7b"),
)
