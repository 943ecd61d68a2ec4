"""claim2 — No worse than linear least squares, given a locally induced (partial linear) structure.

Source: K. Kawaguchi, J. Huang, L. P. Kaelbling, "Effect of depth and width on local minima in deep learning",
Neural Computation 31(7), 2019 (arXiv:1811.08150). Formalization, proof and check: CLAIMS.md, claim2.

Statement (as formalized). L = 1/2 ||Yhat - Y||_F^2, L_OLS = min_R 1/2 ||X~ R - Y||_F^2 with X~ = [X, 1] (every
net here has biases). A locally induced structure at theta is one of
- S1  always-active path (d_y = 1): a layer-1 unit j_1 whose reachable units (a chain j_1 -> .. -> j_H; the
      architecture masks the path units' outgoing cross weights) all sit in one linear piece of a piecewise-linear
      sigma with sigma' != 0 on all m inputs; its gain g = B_i^(1)[j_1] is then the same for every sample;
- S2  the same path made of identity-activation units (MLP linear_units);
- S3  a trainable linear skip Yhat = f(X; theta) + X R;
- S4  (vector output) >= d_y such paths whose gain vectors c_k span R^{d_y}, C = [c_1 .. c_k], sigma_min(C) > 0.
  ('linear', a fully linear net, is the extreme case: every layer-1 unit is a path, C = (W^(2) .. W^(H+1))^T.)
Claim: at every differentiable critical point with the structure and gain |g| >= g_min, L <= L_OLS; for one hidden
layer, d_y = 1 and an always-active unit with ANY output weight (v_j = 0 included) at every differentiable LOCAL
MINIMUM, L <= L_OLS ('shallow0').

Check (first-order certificate with slack; Lemma P with J = I (x) [h~^(H), X], col(J) >= col(I (x) X~)):
    L <= L_OLS + 1/2 (||J^T r|| / sigma_min^+(J))^2 + tau_fp + slack_solver,
    ||J^T r||^2 = ||grad_{W^(H+1)} L||^2 + ||X^T E||^2,
where ||X^T E|| is bounded from certificate gradients only:
- S1/S2/S4/linear: the path units' first-layer gradients G = [grad_{W^(1)[:, j]} L]_j equal X~^T E C, so
  ||X^T E|| <= ||X~^T E|| <= ||G||_F / sigma_min(C)   (1/g^2 growth of the slack: it weakens where containment
  degenerates);
- S3: X^T E = grad_R L exactly;
- shallow0 (C-min): claim4's bound ||g_j|| <= tau_j with g_j = s X~^T E (s = the unit's constant slope),
  tau_j = min{||grad_{w_j} L|| / |v_j|, sqrt((p + eps_H)(a + eps_H)) + |v_j| ||X~^T D_j a_j||}.
The structure is verified AFTER training: masks, path pre-activations in one linear piece with a margin, gains
constant over samples (read off the output Jacobian's first-layer bias columns), sigma_min(C) >= G_MIN.
Instances outside the hypotheses are counted with a reason, never passed.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from minimacheck import tolerance
from minimacheck.datasets import design_matrix
from minimacheck.ledger import Record
from minimacheck.legacy import Claim, RunConfig
from networks import MLP, Verdict, certify, minimize, numerical_rank, squared_loss
from networks import activations

CLAIM_ID = "claim2"
STRUCTURES = ("S1", "S2", "S3", "S4", "linear", "shallow0")
PL_ACTIVATIONS = ("relu", "leaky_relu", "leaky_relu:0.5", "abs")
SMOOTH_ACTIVATIONS = ("tanh", "softplus", "sigmoid")
# Policy (CLAIMS.md claim2, "deep tests assert only where |g| >= g_min"): below this the containment col(D) >= col(X)
# is numerically degenerate and the 1/g^2 slack is meaningless; such instances are counted as outside the hypotheses.
G_MIN = 1e-3
# Gains are sample-independent exactly (products of constant slopes and weights); 1e-10 relative absorbs rounding
# in the Jacobian (a few dozen flops per entry at eps = 2.2e-16).
GAIN_CONST_RTOL = 1e-10
# Numerical-rank gap the handbook requires at the cut of sigma_min^+(J) (section 0).
RANK_GAP = 1e3
PATH_BIAS = 4.0  # path units start with a large positive bias, so they start in the z > 0 piece
TRAIN_ITERS = 300


# ======================================================================== instances
@dataclass(frozen=True)
class Params:
    """The drawn structure of one instance; arrays are built from `seed` with numpy."""

    structure: str
    m: int = 20
    d_x: int = 3
    d_y: int = 1
    widths: tuple = (4,)
    activation: str = "tanh"
    seed: int = 0
    n_paths: int = 1
    v0: float | None = None  # output weight the path unit starts with (shallow0: 0.0 = zero gain at the start)
    log10_cond: float = 0.0  # log10 cond(X) over its non-zero singular values (0 with rank None: plain Gaussian X)
    rank: int | None = None  # rank of X (None: full); rank < d_x makes X rank deficient, OLS then uses lstsq's rcond

    def __post_init__(self):
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        s = self.structure
        if s not in STRUCTURES:
            raise ValueError(f"unknown structure {s!r}; use one of {STRUCTURES}")
        if self.m < 2 or self.d_x < 1 or self.d_y < 1 or not self.widths:
            raise ValueError(f"need m >= 2, d_x >= 1, d_y >= 1 and at least one hidden layer, got {self}")
        activations.get(self.activation)
        if s == "S1" and self.activation not in PL_ACTIVATIONS:
            raise ValueError(f"S1 needs a piecewise-linear activation {PL_ACTIVATIONS}, got {self.activation!r}")
        if s in ("S1", "S2", "shallow0") and self.d_y != 1:
            raise ValueError(f"{s} is a scalar-output structure (d_y = 1); use S4 for d_y = {self.d_y}")
        if s == "S4" and self.n_paths < self.d_y:
            raise ValueError(f"S4 needs n_paths >= d_y = {self.d_y} paths, got {self.n_paths}")
        if s == "shallow0" and len(self.widths) != 1:
            raise ValueError("shallow0 is the one-hidden-layer variant: widths must have one entry")
        if s in ("S1", "S2", "S4", "shallow0") and min(self.widths) < self.n_paths:
            raise ValueError(f"every hidden layer needs >= n_paths = {self.n_paths} units, got widths {self.widths}")
        if s == "linear" and self.activation != "linear":
            raise ValueError("structure 'linear' is a fully linear net: activation must be 'linear'")


@dataclass
class Instance:
    params: Params
    X: np.ndarray
    Y: np.ndarray
    model: MLP
    theta0: torch.Tensor
    paths: tuple  # layer-1 unit indices whose gains are sample-independent (the structure's paths)
    path_kind: str | None  # 'pl' | 'linear' | 'skip' | None
    label: str = ""


LOG10_CONDS = (0.0, 1.0, 2.0, 3.0)  # drawn conditioning of X: cond(X) = 1 .. 1e3 over its non-zero singular values


def make_data(m: int, d_x: int, d_y: int, seed: int, log10_cond: float | None = None, rank: int | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Inputs: Gaussian, or with a drawn condition number / rank deficiency (datasets.design_matrix);
    targets = affine part + a nonlinear part (so nets can beat OLS) + noise."""
    rng = np.random.default_rng([seed, 2])
    if log10_cond is None and rank is None:
        X = rng.standard_normal((m, d_x))
    else:
        X = design_matrix(m, d_x, rng, log10_cond=log10_cond or 0.0, rank=rank)
    Xt = np.hstack([X, np.ones((m, 1))])
    U = rng.standard_normal((d_x, 2))
    Y = Xt @ rng.standard_normal((d_x + 1, d_y)) + np.tanh(1.5 * X @ U) @ rng.standard_normal((2, d_y))
    return X, Y + 0.3 * rng.standard_normal((m, d_y))


def chain_masks(d_in: int, widths: tuple, d_out: int, paths: tuple) -> tuple:
    """Masks for the hidden-to-hidden matrices: path unit j of layer l feeds only unit j of layer l+1, so the units
    reachable from a layer-1 path unit are exactly its chain. Inputs into path units are left free."""
    masks = [None]
    for l in range(1, len(widths)):
        M = np.ones((widths[l - 1] + 1, widths[l]), bool)
        for j in paths:
            M[j, :] = False
            M[j, j] = True
        masks.append(M)
    masks.append(None)
    return tuple(masks) if any(m is not None for m in masks) else ()


def param_index(model: MLP) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Index of every weight entry in theta (full shapes, bias row last); -1 where masked."""
    Ws, R = model.unflatten(torch.arange(1, model.n_params + 1, dtype=torch.float64))
    idx = [(W.round().long() - 1).numpy() for W in Ws]
    return idx, (None if R is None else (R.round().long() - 1).numpy())


def build_instance(p: Params, X: np.ndarray | None = None, Y: np.ndarray | None = None, label: str = "") -> Instance:
    """Arrays from p.seed (or the given X, Y, e.g. features Phi(X) for claim3b), the model and its start point."""
    if X is None or Y is None:
        shaped = p.log10_cond or p.rank is not None
        X, Y = make_data(p.m, p.d_x, p.d_y, p.seed, p.log10_cond, p.rank) if shaped else make_data(p.m, p.d_x, p.d_y, p.seed)
    X, Y = np.asarray(X, np.float64), np.asarray(Y, np.float64)
    if X.shape != (p.m, p.d_x) or Y.shape != (p.m, p.d_y):
        raise ValueError(f"data shapes {X.shape}, {Y.shape} disagree with params m={p.m}, d_x={p.d_x}, d_y={p.d_y}")
    s, H = p.structure, len(p.widths)
    paths: tuple = ()
    kind = None
    linear_units: tuple = ()
    masks: tuple = ()
    skip = 0
    if s in ("S1", "S2", "S4", "shallow0"):
        paths = tuple(range(p.n_paths))
        kind = "pl" if p.activation in PL_ACTIVATIONS and s != "S2" else "linear"
        if kind == "linear":
            linear_units = (paths,) * H
        masks = chain_masks(p.d_x, p.widths, p.d_y, paths)
    elif s == "S3":
        kind, skip = "skip", p.d_x
    elif s == "linear":
        paths, kind = tuple(range(p.widths[0])), "linear"
    model = MLP(p.d_x, p.widths, p.d_y, activation=p.activation, linear_units=linear_units, masks=masks, skip_dim=skip)
    theta = model.init(p.seed)
    if paths and s != "linear":
        Ws, R = model.unflatten(theta)
        Ws = [W.clone() for W in Ws]
        for j in paths:
            Ws[0][-1, j] = PATH_BIAS
            for l in range(1, H):
                Ws[l][j, j] = 1.0
                Ws[l][-1, j] = PATH_BIAS
            if p.v0 is not None:
                Ws[H][j, :] = p.v0
        theta = model.flatten(Ws, R)
    return Instance(p, X, Y, model, theta, paths, kind, label or f"{s}-{p.activation}-m{p.m}-d{p.d_x}x{p.d_y}-w{p.widths}-s{p.seed}")


def draw_params(rng: np.random.Generator, structure: str | None = None) -> Params:
    """Report mode's draw (the tests draw the same fields with Hypothesis)."""
    s = structure or str(rng.choice(STRUCTURES))
    d_x, m = int(rng.integers(1, 5)), int(rng.integers(8, 31))
    H = 1 if s == "shallow0" else int(rng.integers(1, 4))
    d_y = 1 if s in ("S1", "S2", "shallow0") else int(rng.integers(1 if s in ("S3", "linear") else 2, 4))
    n_paths = d_y if s == "S4" else 1
    lo = max(n_paths, d_y if s == "linear" else 1)
    widths = tuple(int(rng.integers(lo, lo + 5)) for _ in range(H))
    if s == "S1":
        act = str(rng.choice(PL_ACTIVATIONS))
    elif s == "linear":
        act = "linear"
    else:
        act = str(rng.choice(PL_ACTIVATIONS + SMOOTH_ACTIVATIONS))
    v0 = 0.0 if s == "shallow0" else None
    log10_cond = float(rng.choice(LOG10_CONDS))
    rank = int(rng.integers(1, d_x)) if d_x > 1 and rng.random() < 0.25 else None
    return Params(s, m, d_x, d_y, widths, act, int(rng.integers(0, 2**31)), n_paths, v0, log10_cond, rank)


# ======================================================================== baseline
def ols_baseline(X: np.ndarray, Y: np.ndarray):
    """L_OLS with an intercept (every net here has biases): baselines.least_squares.ols, closed form + cvxpy."""
    from baselines.least_squares import ols

    return ols(X, Y, intercept=True)


def verify_ols(cert, X: np.ndarray, Y: np.ndarray) -> None:
    """Recompute the baseline's objective and normal equations from its solution (raises BaselineError)."""
    from baselines.least_squares import verify

    Xt = np.hstack([X, np.ones((X.shape[0], 1))])
    verify(cert, Xt, Y, 0.0)


# ======================================================================== training
@dataclass
class Trained:
    inst: object  # the claim's instance (claim2's Instance, or claim3's for its feature-skip/own-feature nets)
    obj: object
    theta: torch.Tensor
    cert: object
    train: object
    seconds: float


def train(inst, *, obj=None, need_second_order: bool = False, time_budget: float = 5.0, max_iter: int = TRAIN_ITERS) -> Trained:
    """Train from inst.theta0 (networks.minimize) and certify. `obj`: the objective (default: the squared loss of
    inst.model on (inst.X, inst.Y)); claim3 passes its regularized / feature-skip objective."""
    t0 = time.perf_counter()
    obj = squared_loss(inst.model, inst.X, inst.Y) if obj is None else obj
    res = minimize(obj, inst.theta0, max_iter=max_iter, time_budget=time_budget)
    cert = certify(obj, res.theta, need_second_order=need_second_order)
    return Trained(inst, obj, res.theta, cert, res, time.perf_counter() - t0)


# ======================================================================== structure verification
def path_gains(model: MLP, theta: torch.Tensor, X: torch.Tensor, paths: tuple) -> np.ndarray:
    """Per-sample gains B_i^(1)[j, :] of layer-1 units j, shape (len(paths), m, d_y).

    d yhat_{ik} / d W^(1)[bias, j] = B_i^(1)[j, k] (the bias input is 1), so the gains are the output Jacobian's
    columns of the first layer's bias row."""
    idx, _ = param_index(model)
    J = model.output_jacobian(theta, X).detach().numpy()  # rows k*m + i
    m, d_y = X.shape[0], model.d_out
    cols = [idx[0][-1, j] for j in paths]
    if min(cols) < 0:
        raise ValueError("a path unit's first-layer bias is masked; gains cannot be read off the Jacobian")
    return np.stack([J[:, c].reshape(d_y, m).T for c in cols])


@dataclass
class StructureCheck:
    ok: bool
    reason: str
    C: np.ndarray | None = None  # d_y x k gain matrix
    sigma_C: float | None = None
    extra: dict = field(default_factory=dict)


def verify_structure(tr: Trained) -> StructureCheck:
    """Check AFTER training that the declared structure holds at theta: masks, linear pieces with margin,
    sample-independent gains, sigma_min(C) >= G_MIN."""
    inst, model, theta = tr.inst, tr.inst.model, tr.theta
    X = torch.as_tensor(inst.X)
    if inst.path_kind == "skip":
        return StructureCheck(True, "linear skip X R (S3)")
    if not inst.paths:
        return StructureCheck(False, "no structure declared")
    Ws, _ = model.unflatten(theta)
    # masks: masked entries are not parameters, so the unflattened weights must be exactly 0 there
    for l, M in enumerate(model.masks or ()):
        if M is not None and bool((Ws[l].detach().numpy()[~np.asarray(M, dtype=bool)] != 0).any()):
            return StructureCheck(False, f"masked cross weights of W^({l + 1}) are non-zero")
    extra = {}
    if inst.path_kind == "pl":
        _, zs, _ = model.layers(theta, X)
        worst = math.inf
        for l, z in enumerate(zs):
            for j in inst.paths:
                zj = z[:, j].detach().numpy()
                tol = 1e-7 * (1.0 + float(np.abs(z.detach().numpy()).max()))
                if inst.params.activation == "relu" and not (zj > tol).all():
                    return StructureCheck(False, f"path unit {j} of layer {l + 1} leaves the active ReLU piece (min z = {zj.min():.3g})")
                if not ((zj > tol).all() or (zj < -tol).all()):
                    return StructureCheck(False, f"path unit {j} of layer {l + 1} spans two linear pieces (z in [{zj.min():.3g}, {zj.max():.3g}])")
                worst = min(worst, float(np.abs(zj).min()))
        extra["path_margin"] = worst
    B = path_gains(model, theta, X, inst.paths)  # (k, m, d_y)
    spread = float(np.abs(B - B[:, :1, :]).max())
    scale = float(np.abs(B).max())
    extra["gain_spread"] = spread
    if spread > GAIN_CONST_RTOL * (1.0 + scale):
        return StructureCheck(False, f"path gains vary over samples by {spread:.3g} (not a locally linear path)", extra=extra)
    C = B[:, 0, :].T  # d_y x k
    sC = float(np.linalg.svd(C, compute_uv=False)[-1]) if C.shape[1] >= C.shape[0] else 0.0
    extra["sigma_C"] = sC
    if sC < G_MIN:
        return StructureCheck(False, f"gain sigma_min(C) = {sC:.3g} < g_min = {G_MIN:g} (zero-gain path)", C, sC, extra)
    return StructureCheck(True, f"{len(inst.paths)} {inst.path_kind} path(s), sigma_min(C) = {sC:.3g}", C, sC, extra)


# ======================================================================== the check
def _hidden_and_residual(tr: Trained):
    model, theta = tr.inst.model, tr.theta
    X = torch.as_tensor(tr.inst.X)
    Yhat, _, hs = model.layers(theta, X)
    h = hs[-1].detach().numpy()
    ht = np.hstack([h, np.ones((h.shape[0], 1))])
    E = Yhat.detach().numpy() - tr.inst.Y
    return ht, E


def first_order_slack(tr: Trained, sc: StructureCheck) -> tuple[float, dict]:
    """1/2 (||J^T r|| / sigma_min^+(J))^2 with J = I (x) [h~, X] and ||J^T r|| bounded by certificate gradients."""
    inst, model = tr.inst, tr.inst.model
    grad = tr.obj.grad(tr.theta).detach().numpy()
    idx, ridx = param_index(model)
    out = idx[-1]
    g_out = grad[out[out >= 0]]
    if inst.path_kind == "skip":
        xte = float(np.linalg.norm(grad[ridx.ravel()]))  # X^T E = grad_R L exactly
        how = "||X^T E|| = ||grad_R L||"
    else:
        G = np.stack([grad[idx[0][:, j]] for j in inst.paths], axis=1)  # (d_x+1) x k = X~^T E C
        xte = float(np.linalg.norm(G)) / sc.sigma_C
        how = "||X~^T E|| <= ||G||_F / sigma_min(C)"
    ht, _ = _hidden_and_residual(tr)
    J = np.hstack([ht, inst.X])
    rank, smin, gap = numerical_rank(J)
    jtr2 = float(g_out @ g_out) + xte**2
    slack = tolerance.lemma_p_slack(math.sqrt(jtr2), smin)
    return slack, dict(xte_bound=xte, grad_out=float(np.linalg.norm(g_out)), J_rank=rank, J_sigma_min_plus=smin, J_gap=gap, how=how)


def shallow_zero_gain_slack(tr: Trained) -> tuple[float, dict]:
    """claim4's second-order bound for the always-active unit j (one hidden layer, d_y = 1), from a C-min certificate.

    g_j = X~^T D_j r = s X~^T E with D_j = s I constant. Compressing the Hessian onto (u, 0) and (0, e_{v_j}),
    u = g_j / ||g_j||: p = u^T H_{w_j w_j} u, a = ||a_j||^2, q = ||g_j|| + v_j u^T X~^T D_j a_j; lambda_min >= -eps_H
    gives q^2 <= (p + eps_H)(a + eps_H), so ||g_j|| <= tau_j (CLAIMS.md claim4, 'Derived tolerance for small |v_j|')."""
    inst, model, theta, cert = tr.inst, tr.inst.model, tr.theta, tr.cert
    cert.require("hessian_resolution", "lambda_min")
    j = inst.paths[0]
    X = torch.as_tensor(inst.X)
    Xt = np.hstack([inst.X, np.ones((inst.params.m, 1))])
    idx, _ = param_index(model)
    w_idx, v_idx = idx[0][:, j], idx[1][j, 0]
    grad = tr.obj.grad(theta).detach().numpy()
    _, zs, hs = model.layers(theta, X)
    v = float(theta[v_idx])
    ht, E = _hidden_and_residual(tr)
    a_j = hs[1][:, j].detach().numpy()
    slope = float(np.median(path_gains(model, theta, X, (j,))[0, :, 0] / v)) if v != 0 else None
    if slope is None:  # sigma' of the unit on its piece, from the activation itself
        zj = zs[0][:, j].detach()
        if j in model.linear_units[0]:
            slope = 1.0
        else:
            dz = torch.func.vmap(torch.func.grad(lambda t: activations.get(model.activation)(t)))(zj)
            slope = float(dz[0])
    r = E[:, 0]
    g_j = slope * (Xt.T @ r)
    eps_H = cert.hessian_resolution
    forms = []
    if v != 0:
        forms.append(float(np.linalg.norm(grad[w_idx])) / abs(v))
    gn = float(np.linalg.norm(g_j))
    if gn > 0:
        u = torch.as_tensor(g_j / gn)
        Hs = tr.obj.hessian(theta).detach().numpy()
        Hw = Hs[np.ix_(w_idx, w_idx)]
        pq = float(u.numpy() @ Hw @ u.numpy())
        a2 = float(a_j @ a_j)
        forms.append(math.sqrt(max(pq + eps_H, 0.0) * (a2 + eps_H)) + abs(v) * float(np.linalg.norm(slope * (Xt.T @ a_j))))
    else:
        forms.append(0.0)
    tau_j = min(forms)
    xte = tau_j / abs(slope)
    idx_out = idx[-1]
    g_out = grad[idx_out[idx_out >= 0]]
    J = np.hstack([ht, inst.X])
    rank, smin, gap = numerical_rank(J)
    slack = tolerance.lemma_p_slack(math.sqrt(float(g_out @ g_out) + xte**2), smin)
    return slack, dict(tau_j=tau_j, v_j=v, slope=slope, xte_bound=xte, J_rank=rank, J_sigma_min_plus=smin, J_gap=gap,
                       how="claim4 tau_j (C-min)")


def check(
    inst: Instance,
    *,
    tr: Trained | None = None,
    baseline=None,
    verify_baseline: bool = True,
    flip: bool = False,
    claim: str = CLAIM_ID,
    check_name: str | None = None,
    kind: str = "positive",
    time_budget: float = 5.0,
    max_iter: int = TRAIN_ITERS,
) -> Record:
    """Train (unless `tr` is given), certify, verify the structure, and test L <= L_OLS + slack + tau.

    `baseline`: a BaselineCertificate to use instead of computing L_OLS (sabotage tests pass a wrong one);
    `verify_baseline`: recompute it from its solution first (a refused baseline fails the check);
    `flip`: the sabotaged claim L >= L_OLS - tau (must be caught on instances strictly better than OLS)."""
    p = inst.params
    name = check_name or ("shallow-zero-gain" if p.structure == "shallow0" else f"ols-{p.structure}")
    shallow = p.structure == "shallow0"
    if tr is None:
        tr = train(inst, need_second_order=shallow, time_budget=time_budget, max_iter=max_iter)
    cert = tr.cert
    L = cert.loss
    extra = dict(instance=inst.label, params=_params_dict(p), verdict=cert.verdict.value, loss=L, grad_norm=cert.grad_norm,
                 margin=cert.margin, train_reason=tr.train.reason, seconds=round(tr.seconds, 3), strength=cert.strength)

    def rec(**kw):
        return Record(claim=claim, check=name, kind=kind, extra=extra, **kw)

    # certification: C-crit (C-min for the shallow zero-gain variant)
    certified = cert.certified if shallow else cert.critical
    if not certified:
        return rec(certified=False, passed=None, reason=f"uncertified: {cert.verdict.value}: {cert.reason}")
    sc = verify_structure(tr)
    extra.update(sc.extra)
    if shallow and not sc.ok and sc.sigma_C is not None and sc.sigma_C < G_MIN:
        sc = StructureCheck(True, "zero-gain always-active unit (allowed at a C-min point)", sc.C, sc.sigma_C, sc.extra)
    if not sc.ok:
        return rec(certified=False, passed=None, reason=f"outside hypotheses: {sc.reason}")
    slack, sx = shallow_zero_gain_slack(tr) if shallow else first_order_slack(tr, sc)
    extra.update(sx)
    if sx["J_gap"] < RANK_GAP:
        return rec(certified=False, passed=None, reason=f"outside hypotheses: gapless rank of [h~, X] (gap {sx['J_gap']:.3g})")
    # baseline
    from baselines.certificate import BaselineError

    if baseline is None:
        try:
            base = ols_baseline(inst.X, inst.Y)
        except BaselineError as e:  # no certified baseline for this instance: counted, never passed
            return rec(certified=False, passed=None, reason=f"baseline uncertified: {e}")
    else:
        base = baseline
    if verify_baseline:
        try:
            verify_ols(base, inst.X, inst.Y)
        except BaselineError as e:  # a supplied certificate that does not verify fails the check
            return rec(certified=True, passed=False, reason=f"baseline refused: {e}")
    L_ols = float(base.value)
    # tau = tau_fp + slack_cert + slack_solver (CLAIMS.md section 0)
    tol = tolerance.tau_fp(L_ols) + slack + float(base.slack_solver)
    gap = L - L_ols
    extra.update(L_ols=L_ols, slack_cert=slack, slack_solver=float(base.slack_solver))
    if flip:  # sabotaged claim: "OLS is no worse than the net"
        gap = L_ols - L
    passed = bool(gap <= tol)
    why = f"L={L:.6g} vs L_OLS={L_ols:.6g}, slack={slack:.2e}; {sc.reason}"
    return rec(certified=True, passed=passed, gap=gap, tol=tol, reason=why if passed else f"VIOLATED: {why}")


def _params_dict(p: Params) -> dict:
    return dict(structure=p.structure, m=p.m, d_x=p.d_x, d_y=p.d_y, widths=list(p.widths), activation=p.activation,
                seed=p.seed, n_paths=p.n_paths, v0=p.v0)


# ======================================================================== tight positive control
def check_tight(inst: Instance, *, baseline=None, verify_baseline: bool = True, time_budget: float = 5.0,
                max_iter: int = TRAIN_ITERS) -> Record:
    """Linear-regime net (structure 'linear'): L = L_OLS within tau. A linear net is an affine map, so
    L >= L_OLS - tau_fp always (a lower value means the baseline is wrong); the claim2 bound gives the upper side."""
    r = check(inst, baseline=baseline, verify_baseline=verify_baseline, check_name="tight-linear-regime",
              time_budget=time_budget, max_iter=max_iter)
    if r.certified and r.passed is not None and r.gap is not None:
        lower_ok = r.gap >= -tolerance.tau_fp(r.extra["L_ols"])
        r.extra["lower_ok"] = bool(lower_ok)
        r.gap = abs(r.gap)  # equality within tau
        r.passed = bool(r.passed and lower_ok and r.gap <= r.tol)
        if not lower_ok:
            r.reason = f"VIOLATED: a linear net beat the OLS baseline ({r.extra['loss']:.12g} < {r.extra['L_ols']:.12g}): baseline wrong"
    return r


TIGHT = Params("linear", m=16, d_x=3, d_y=2, widths=(3, 2), activation="linear", seed=7)
STRICT = Params("S3", m=24, d_x=2, d_y=1, widths=(6,), activation="tanh", seed=3)


# ======================================================================== negative controls
DEAD_RELU = Params("S3", m=20, d_x=3, d_y=1, widths=(4, 3), activation="relu", seed=11)  # arrays only; no skip used


def dead_relu_point(p: Params = DEAD_RELU):
    """Every hidden ReLU unit dead on the data (biases -5 and weights scaled down), no skip, output bias = mean(y):
    constant output, grad L = 0 and L locally constant, so a (non-strict) local minimum with L = 1/2||y - ybar||^2."""
    X, Y = make_data(p.m, p.d_x, p.d_y, p.seed)
    model = MLP(p.d_x, p.widths, p.d_y, activation="relu")
    Ws, _ = model.unflatten(model.init(p.seed))
    Ws = [W.clone() for W in Ws]
    for l in range(len(Ws) - 1):
        Ws[l][:-1] *= 0.1
        Ws[l][-1] = -5.0
    Ws[-1][-1] = torch.as_tensor(Y.mean(axis=0))
    return X, Y, model, model.flatten(Ws)


def _planted_point_vs_ols(X, Y, model: MLP, theta) -> tuple:
    """(certificate, L_OLS, L - L_OLS, tol) at a constructed point. The gradient is exactly 0 there, so the
    tolerance has no certificate slack: tol = tau_fp(L_OLS) + the baseline's solver slack."""
    cert = certify(squared_loss(model, X, Y), theta)
    base = ols_baseline(X, Y)
    L_ols = float(base.value)
    return cert, L_ols, cert.loss - L_ols, tolerance.tau_fp(L_ols) + float(base.slack_solver)


def control_dead_relu(p: Params = DEAD_RELU) -> Record:
    """claim2 WITHOUT the structure must fail: a certified local minimum with L = 1/2||y - ybar||^2 > L_OLS."""
    X, Y, model, theta = dead_relu_point(p)
    cert, L_ols, gap, tol = _planted_point_vs_ols(X, Y, model, theta)
    plateau = abs(cert.loss - 0.5 * float(((Y - Y.mean(0)) ** 2).sum())) <= tolerance.tau_fp(cert.loss)
    detected = bool(cert.certified and plateau and gap > tol)
    return Record(CLAIM_ID, "control-dead-relu-plateau", kind="negative-control", certified=cert.certified, gap=gap, tol=tol,
                  detected=detected, reason=f"{cert.summary()}; L - L_OLS = {gap:.4g}",
                  extra=dict(loss=cert.loss, L_ols=L_ols, strength=cert.strength, verdict=cert.verdict.value))


ZERO_GAIN = Params("shallow0", m=24, d_x=3, d_y=1, widths=(4,), activation="leaky_relu", seed=5, v0=0.0)


def zero_gain_saddle(p: Params = ZERO_GAIN):
    """claim4's planted saddle with an always-active unit: hidden weights with margin > 0, every output weight 0,
    y projected orthogonal to span{a_j, 1}: grad L = 0 exactly and L = 1/2||y||^2, yet X~^T y != 0."""
    inst = build_instance(p)
    model = inst.model
    Ws, _ = model.unflatten(inst.theta0)
    Ws = [W.clone() for W in Ws]
    Ws[-1].zero_()
    theta = model.flatten(Ws)
    _, _, hs = model.layers(theta, torch.as_tensor(inst.X))
    A = np.hstack([hs[1].detach().numpy(), np.ones((p.m, 1))])
    Q, _ = np.linalg.qr(A)
    y = inst.Y - Q @ (Q.T @ inst.Y)
    return inst.X, y, model, theta


def control_zero_gain_saddle(p: Params = ZERO_GAIN) -> Record:
    """The certifier must reject the planted zero-gain critical point (L = 1/2||y||^2 > L_OLS)."""
    cert, L_ols, gap, tol = _planted_point_vs_ols(*zero_gain_saddle(p))
    critical = cert.grad_norm <= cert.grad_tol and (cert.margin is None or cert.margin > cert.margin_tol)
    detected = bool(critical and not cert.certified and cert.verdict is Verdict.SADDLE and gap > tol)
    return Record(CLAIM_ID, "control-zero-gain-saddle", kind="negative-control", certified=cert.certified, gap=gap, tol=tol,
                  detected=detected, reason=f"{cert.summary()}; L - L_OLS = {gap:.4g}",
                  extra=dict(loss=cert.loss, L_ols=L_ols, lambda_min=cert.lambda_min, verdict=cert.verdict.value))


UNSTRUCTURED_ACTS = ("tanh", "softplus", "sigmoid", "linear", "relu", "leaky_relu")


def unstructured_instance(m: int, d_x: int, d_y: int, widths: tuple, activation: str, seed: int) -> Instance:
    """A net WITHOUT S1-S4 (no paths, no skip, no linear units) on the claim's data."""
    p = Params("S3", m, d_x, d_y, widths, activation, seed)  # Params only carries the fields; the model has no skip
    X, Y = make_data(m, d_x, d_y, seed)
    model = MLP(d_x, widths, d_y, activation=activation)
    return Instance(p, X, Y, model, model.init(seed), (), None, f"unstructured-{activation}-w{widths}-dy{d_y}-s{seed}")


def control_unstructured(inst: Instance, *, time_budget: float = 3.0, max_iter: int = TRAIN_ITERS) -> Record:
    """Expected-violation probe: a certified local minimum of an unstructured net with L > L_OLS + tau shows the
    structure hypothesis is needed (never a claim failure). detected = such a violation was found here."""
    tr = train(inst, need_second_order=True, time_budget=time_budget, max_iter=max_iter)
    cert = tr.cert
    base = ols_baseline(inst.X, inst.Y)
    L_ols = float(base.value)
    tol = tolerance.tau_fp(L_ols) + float(base.slack_solver)
    gap = cert.loss - L_ols
    detected = bool(cert.certified and gap > tol)
    return Record(CLAIM_ID, "control-unstructured", kind="negative-control", certified=cert.certified, gap=gap, tol=tol,
                  detected=detected, reason=f"{inst.label}: {cert.summary()}; L - L_OLS = {gap:.4g}",
                  extra=dict(instance=inst.label, loss=cert.loss, L_ols=L_ols, verdict=cert.verdict.value))


def search_summary(records: list[Record], name: str = "control-unstructured-search") -> Record:
    """One aggregated negative-control record for an expected-violation search: detected if any draw violated."""
    hits = [r for r in records if r.detected]
    best = max(records, key=lambda r: (r.detected, r.gap if r.gap is not None else -math.inf)) if records else None
    return Record(CLAIM_ID, name, kind="negative-control", certified=bool(best and best.certified),
                  gap=None if best is None else best.gap, tol=None if best is None else best.tol, detected=bool(hits),
                  reason=f"{len(hits)}/{len(records)} draws gave a certified violation" + (f"; e.g. {hits[0].reason}" if hits else ""),
                  extra=dict(draws=len(records), violations=len(hits)))


# ======================================================================== sabotage
def sabotaged_ols(cert, factor: float = 0.99):
    """An OLS baseline that reports `factor` times the true optimum (1% too low by default)."""
    return replace(cert, value=factor * float(cert.value))


def sabotage_low_baseline(p: Params = TIGHT, *, verify_baseline: bool = False) -> Record:
    """Tight instance + a baseline 1% below the truth: the check must report a failure (detected)."""
    inst = build_instance(p)
    good = ols_baseline(inst.X, inst.Y)
    r = check_tight(inst, baseline=sabotaged_ols(good), verify_baseline=verify_baseline)
    return Record(CLAIM_ID, "sabotage-ols-1pct-low" + ("-verified" if verify_baseline else ""), kind="sabotage",
                  certified=r.certified, gap=r.gap, tol=r.tol, detected=bool(r.certified and r.passed is False), reason=r.reason,
                  extra=r.extra)


def sabotage_flipped(p: Params = STRICT) -> Record:
    """The flipped inequality L >= L_OLS - tau must fail on an instance strictly better than OLS."""
    r = check(build_instance(p), flip=True, check_name="sabotage-flipped")
    return Record(CLAIM_ID, "sabotage-flipped-inequality", kind="sabotage", certified=r.certified, gap=r.gap, tol=r.tol,
                  detected=bool(r.certified and r.passed is False), reason=r.reason, extra=r.extra)


# ======================================================================== report mode
def run(cfg: RunConfig) -> list[Record]:
    rng = cfg.rng(2)
    out = []
    for i in range(cfg.n_instances):
        s = STRUCTURES[i % len(STRUCTURES)]
        out.append(check(build_instance(draw_params(rng, s)), time_budget=cfg.time_budget))  # report mode: cfg's budget
    out.append(check_tight(build_instance(TIGHT), time_budget=cfg.time_budget))
    out.append(control_dead_relu())
    out.append(control_zero_gain_saddle())
    draws = []
    for k in range(4):
        d_y = int(rng.integers(1, 4))
        draws.append(control_unstructured(unstructured_instance(int(rng.integers(12, 31)), int(rng.integers(2, 5)), d_y,
                                                                (1,), str(rng.choice(UNSTRUCTURED_ACTS)), int(rng.integers(0, 2**31)))))
    out.append(search_summary(draws))
    out.append(sabotage_low_baseline())
    out.append(sabotage_flipped())
    return out


CLAIM = Claim(
    id=CLAIM_ID,
    title="No worse than linear least squares, given a locally induced structure",
    source="Kawaguchi, Huang, Kaelbling, Neural Computation 31(7) 2019, arXiv:1811.08150",
    statement=(
        "At every differentiable critical point with a locally induced partial-linear structure (S1 always-active "
        "path, S2 linear-unit path, S3 linear skip, S4 >= d_y spanning paths) and gain |g| >= g_min, "
        "L <= L_OLS = min_R 1/2||[X,1]R - Y||^2; with one hidden layer, d_y = 1 and an always-active unit with any "
        "output weight (v_j = 0 included), every differentiable local minimum has L <= L_OLS."
    ),
    hypotheses=(
        "squared loss 1/2||Yhat - Y||_F^2, linear output layer, biases (L_OLS with an intercept)",
        "structure S1-S4 verified after training: masks, path pre-activations in one linear piece with margin, "
        f"sample-independent gains, sigma_min(C) >= g_min = {G_MIN:g}",
        "C-crit (||grad|| <= 1e-9(1+L), margin > 0); C-min for the shallow zero-gain variant",
        f"numerical rank of [h~, X] with a gap >= {RANK_GAP:g}",
    ),
    negative_controls=(
        "dead-ReLU plateau: certified non-strict local minimum, L = 1/2||y - ybar||^2 > L_OLS",
        "unstructured nets: expected-violation search (certified minima with L > L_OLS)",
        "zero-gain planted saddle (claim4's): the certifier must reject it",
        "sabotage: OLS baseline 1% low on a tight instance; flipped inequality",
    ),
    run=run,
)
