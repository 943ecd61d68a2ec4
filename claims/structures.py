"""Locally induced (partial linear) structures, shared by claim2 and claim3b (CLAIMS.md claim2, claim3).

What both claims need and neither owns: building a net with a declared structure (S1 always-active path, S2
linear-unit path, S3 linear skip, S4 spanning paths, a fully linear net, the shallow zero-gain unit), training it by
iteration limits, verifying the structure AFTER training, the certificate slacks of the OLS comparison, the OLS
baseline, and the unresolved-slack policy. No claim module imports another claim module; both import this one.

Unresolved slack (policy, stated once here and in both claims): a certified instance whose certificate slack is not
finite, or exceeds SLACK_SCALE_BOUND * (max(|L|, |L_baseline|) + tau_fp), cannot decide "L <= L_baseline": the
comparison would only say that the tolerance is as large as the compared values. Such an instance is reported as
unresolved (certified=True, passed=None, reason "unresolved: ..."), with slack_over_scale in extra, never passed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from minimacheck import tolerance
from networks import MLP, activations, certify, minimize, minimize_piecewise, numerical_rank, squared_loss

EPS = float(np.finfo(np.float64).eps)

PL_ACTIVATIONS = ("relu", "leaky_relu", "leaky_relu:0.5", "abs")
SMOOTH_ACTIVATIONS = ("tanh", "softplus", "sigmoid")
STRUCTURES = ("S1", "S2", "S3", "S4", "linear", "shallow0")
# Policy (CLAIMS.md claim2, "deep tests assert only where |g| >= g_min"): below this the containment col(D) >= col(X)
# is numerically degenerate and the 1/g^2 slack is meaningless; such instances are outside the hypotheses.
G_MIN = 1e-3
# Gains are sample-independent exactly (products of constant slopes and weights); 1e-10 relative absorbs rounding
# in the Jacobian (a few dozen flops per entry at eps = 2.2e-16).
GAIN_CONST_RTOL = 1e-10
RANK_GAP = 1e3  # numerical-rank gap the handbook requires at the cut of sigma_min^+(J) (section 0)
PATH_BIAS = 4.0  # path units start with a large positive bias, so they start in the z > 0 piece (the construction)
SLACK_SCALE_BOUND = 1e-2  # see the module docstring: slack above 1% of the compared values is unresolved


# ======================================================================== structured nets
@dataclass
class Net:
    """A structured net on data: the arrays, the model, its start point and the declared structure."""

    X: np.ndarray
    Y: np.ndarray
    model: MLP
    theta0: torch.Tensor
    paths: tuple  # layer-1 unit indices whose gains are sample-independent (the structure's paths)
    path_kind: str | None  # 'pl' | 'linear' | 'skip' | None (no structure)
    structure: str | None
    label: str = ""


def chain_masks(widths: tuple, paths: tuple) -> tuple:
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


def structured_model(structure: str, d_x: int, widths: tuple, d_y: int, activation: str, n_paths: int = 1
                     ) -> tuple[MLP, tuple, str | None]:
    """(model, paths, path_kind) of a declared structure."""
    if structure not in STRUCTURES:
        raise ValueError(f"unknown structure {structure!r}; use one of {STRUCTURES}")
    H = len(widths)
    if structure in ("S1", "S2", "S4", "shallow0"):
        paths = tuple(range(n_paths))
        kind = "pl" if activation in PL_ACTIVATIONS and structure != "S2" else "linear"
        lin = (paths,) * H if kind == "linear" else ()
        return MLP(d_x, widths, d_y, activation=activation, linear_units=lin, masks=chain_masks(widths, paths)), paths, kind
    if structure == "S3":
        return MLP(d_x, widths, d_y, activation=activation, skip_dim=d_x), (), "skip"
    return MLP(d_x, widths, d_y, activation=activation), tuple(range(widths[0])), "linear"  # 'linear'


def path_start(model: MLP, theta: torch.Tensor, paths: tuple, v0: float | None = None) -> torch.Tensor:
    """The structure's construction on a random point: path units get bias PATH_BIAS and chain weight 1 (so they
    start in one linear piece); `v0` sets their output weights (shallow0: 0 = zero gain at the start). Every other
    weight stays as drawn."""
    Ws, R = model.unflatten(theta)
    Ws = [W.clone() for W in Ws]
    H = len(model.widths)
    for j in paths:
        Ws[0][-1, j] = PATH_BIAS
        for l in range(1, H):
            Ws[l][j, j] = 1.0
            Ws[l][-1, j] = PATH_BIAS
        if v0 is not None:
            Ws[H][j, :] = v0
    return model.flatten(Ws, R)


def param_index(model: MLP) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Index of every weight entry in theta (full shapes, bias row last); -1 where masked."""
    Ws, R = model.unflatten(torch.arange(1, model.n_params + 1, dtype=torch.float64))
    idx = [(W.round().long() - 1).numpy() for W in Ws]
    return idx, (None if R is None else (R.round().long() - 1).numpy())


# ======================================================================== training (iteration limits only)
@dataclass
class Trained:
    """A point of a net, certified: what the structure verification and the slacks read."""

    net: object  # the claim's net (a Net, or claim3's feature-skip instance)
    obj: object
    theta: torch.Tensor
    cert: object


def fit(net, *, obj=None, max_iter: int, skip_input=None) -> tuple[torch.Tensor, str]:
    """Train from net.theta0: squared-loss PL nets through the pattern polish (Newton inside the activation pattern:
    without it they end on kinks), others through networks.minimize. Decided by iteration limits only (no wall
    clock), so a loaded machine reaches the same point. `obj`: a custom objective (claim3a's feature skip, l2)."""
    if obj is None and net.model.is_piecewise_linear:
        res = minimize_piecewise(net.model, net.X, net.Y, net.theta0, skip_input=skip_input, rounds=3, max_iter=max_iter)
    else:
        obj = squared_loss(net.model, net.X, net.Y, skip_input=skip_input) if obj is None else obj
        res = minimize(obj, net.theta0, max_iter=max_iter)
    return res.theta, res.reason


def at_point(net, theta, *, obj=None, need_second_order: bool, skip_input=None) -> Trained:
    """Certify a given point (C-crit, or C-min with need_second_order)."""
    obj = squared_loss(net.model, net.X, net.Y, skip_input=skip_input) if obj is None else obj
    theta = torch.as_tensor(theta, dtype=torch.float64)
    return Trained(net, obj, theta, certify(obj, theta, need_second_order=need_second_order))


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


def _pl_pieces(net: Net, theta, activation: str) -> tuple[str | None, float]:
    """None when every path unit of every layer sits in one linear piece with margin; else the reason."""
    _, zs, _ = net.model.layers(theta, torch.as_tensor(net.X))
    worst = math.inf
    for l, z in enumerate(zs):
        zn = z.detach().numpy()
        tol = 1e-7 * (1.0 + float(np.abs(zn).max()))
        for j in net.paths:
            zj = zn[:, j]
            if activation == "relu" and not (zj > tol).all():
                return f"path unit {j} of layer {l + 1} leaves the active ReLU piece (min z = {zj.min():.3g})", worst
            if not ((zj > tol).all() or (zj < -tol).all()):
                return f"path unit {j} of layer {l + 1} spans two linear pieces (z in [{zj.min():.3g}, {zj.max():.3g}])", worst
            worst = min(worst, float(np.abs(zj).min()))
    return None, worst


def verify_structure(tr: Trained) -> StructureCheck:
    """Check AFTER training that the declared structure holds at theta: masks, linear pieces with margin,
    sample-independent gains, sigma_min(C) >= G_MIN."""
    net, model, theta = tr.net, tr.net.model, tr.theta
    if net.path_kind == "skip":
        return StructureCheck(True, "linear skip X R (S3)")
    if not net.paths:
        return StructureCheck(False, "no structure declared")
    Ws, _ = model.unflatten(theta)
    # masked entries are not parameters, so the unflattened weights must be exactly 0 there
    for l, M in enumerate(model.masks or ()):
        if M is not None and bool((Ws[l].detach().numpy()[~np.asarray(M, dtype=bool)] != 0).any()):
            return StructureCheck(False, f"masked cross weights of W^({l + 1}) are non-zero")
    extra = {}
    if net.path_kind == "pl":
        why, margin = _pl_pieces(net, theta, model.activation)
        if why:
            return StructureCheck(False, why)
        extra["path_margin"] = margin
    B = path_gains(model, theta, torch.as_tensor(net.X), net.paths)  # (k, m, d_y)
    spread = float(np.abs(B - B[:, :1, :]).max())
    extra["gain_spread"] = spread
    if spread > GAIN_CONST_RTOL * (1.0 + float(np.abs(B).max())):
        return StructureCheck(False, f"path gains vary over samples by {spread:.3g} (not a locally linear path)", extra=extra)
    C = B[:, 0, :].T  # d_y x k
    sC = float(np.linalg.svd(C, compute_uv=False)[-1]) if C.shape[1] >= C.shape[0] else 0.0
    extra["sigma_C"] = sC
    if sC < G_MIN:
        return StructureCheck(False, f"gain sigma_min(C) = {sC:.3g} < g_min = {G_MIN:g} (zero-gain path)", C, sC, extra)
    return StructureCheck(True, f"{len(net.paths)} {net.path_kind} path(s), sigma_min(C) = {sC:.3g}", C, sC, extra)


# ======================================================================== certificate slacks
def hidden_and_residual(tr: Trained) -> tuple[np.ndarray, np.ndarray]:
    """(h~^(H) = [h^(H), 1], E = Yhat - Y) at the trained point."""
    net = tr.net
    Yhat, _, hs = net.model.layers(tr.theta, torch.as_tensor(net.X))
    h = hs[-1].detach().numpy()
    return np.hstack([h, np.ones((h.shape[0], 1))]), Yhat.detach().numpy() - net.Y


def _lemma_p(tr: Trained, g_out: np.ndarray, xte: float) -> tuple[float, dict]:
    ht, _ = hidden_and_residual(tr)
    rank, smin, gap = numerical_rank(np.hstack([ht, tr.net.X]))
    slack = tolerance.lemma_p_slack(math.sqrt(float(g_out @ g_out) + xte**2), smin)
    return slack, dict(J_rank=rank, J_sigma_min_plus=smin, J_gap=gap, grad_out=float(np.linalg.norm(g_out)))


def first_order_slack(tr: Trained, sc: StructureCheck) -> tuple[float, dict]:
    """1/2 (||J^T r|| / sigma_min^+(J))^2 with J = I (x) [h~, X] and ||J^T r|| bounded by certificate gradients:
    S1/S2/S4/linear: ||X~^T E|| <= ||G||_F / sigma_min(C) (G = the path units' first-layer gradients = X~^T E C);
    S3: X^T E = grad_R L exactly."""
    net = tr.net
    grad = tr.obj.grad(tr.theta).detach().numpy()
    idx, ridx = param_index(net.model)
    out = idx[-1]
    if net.path_kind == "skip":
        xte, how = float(np.linalg.norm(grad[ridx.ravel()])), "||X^T E|| = ||grad_R L||"
    else:
        G = np.stack([grad[idx[0][:, j]] for j in net.paths], axis=1)  # (d_x+1) x k = X~^T E C
        xte, how = float(np.linalg.norm(G)) / sc.sigma_C, "||X~^T E|| <= ||G||_F / sigma_min(C)"
    slack, extra = _lemma_p(tr, grad[out[out >= 0]], xte)
    return slack, dict(extra, xte_bound=xte, how=how)


def _unit_slope(net: Net, tr: Trained, j: int, v: float) -> float:
    """sigma' of the always-active unit j on its linear piece."""
    if v != 0:
        return float(np.median(path_gains(net.model, tr.theta, torch.as_tensor(net.X), (j,))[0, :, 0] / v))
    if j in net.model.linear_units[0]:
        return 1.0
    _, zs, _ = net.model.layers(tr.theta, torch.as_tensor(net.X))
    act = activations.get(net.model.activation)
    return float(torch.func.vmap(torch.func.grad(lambda t: act(t)))(zs[0][:, j].detach())[0])


def shallow_zero_gain_slack(tr: Trained) -> tuple[float, dict]:
    """claim4's second-order bound for the always-active unit j (one hidden layer, d_y = 1), from a C-min certificate.

    g_j = X~^T D_j r = s X~^T E with D_j = s I constant. Compressing the Hessian onto (u, 0) and (0, e_{v_j}),
    u = g_j / ||g_j||: p = u^T H_{w_j w_j} u, a = ||a_j||^2, q = ||g_j|| + v_j u^T X~^T D_j a_j; lambda_min >= -eps_H
    gives q^2 <= (p + eps_H)(a + eps_H), so ||g_j|| <= tau_j (CLAIMS.md claim4, 'Derived tolerance for small |v_j|')."""
    net, theta, cert = tr.net, tr.theta, tr.cert
    cert.require("hessian_resolution", "lambda_min")
    j = net.paths[0]
    Xt = np.hstack([net.X, np.ones((net.X.shape[0], 1))])
    idx, _ = param_index(net.model)
    w_idx, v_idx = idx[0][:, j], idx[1][j, 0]
    grad = tr.obj.grad(theta).detach().numpy()
    _, _, hs = net.model.layers(theta, torch.as_tensor(net.X))
    v = float(theta[v_idx])
    _, E = hidden_and_residual(tr)
    a_j = hs[1][:, j].detach().numpy()
    slope = _unit_slope(net, tr, j, v)
    g_j = slope * (Xt.T @ E[:, 0])
    eps_H = cert.hessian_resolution
    forms = [float(np.linalg.norm(grad[w_idx])) / abs(v)] if v != 0 else []
    gn = float(np.linalg.norm(g_j))
    if gn > 0:
        u = g_j / gn
        pq = float(u @ tr.obj.hessian(theta).detach().numpy()[np.ix_(w_idx, w_idx)] @ u)
        forms.append(math.sqrt(max(pq + eps_H, 0.0) * (float(a_j @ a_j) + eps_H))
                     + abs(v) * float(np.linalg.norm(slope * (Xt.T @ a_j))))
    else:
        forms.append(0.0)
    tau_j = min(forms)
    xte = tau_j / abs(slope)
    out = idx[-1]
    slack, extra = _lemma_p(tr, grad[out[out >= 0]], xte)
    return slack, dict(extra, tau_j=tau_j, v_j=v, slope=slope, xte_bound=xte, how="claim4 tau_j (C-min)")


# ======================================================================== baseline and verdict helpers
def ols_baseline(X: np.ndarray, Y: np.ndarray):
    """L_OLS with an intercept (every net here has biases): baselines.least_squares.ols, closed form + cvxpy."""
    from baselines.least_squares import ols

    return ols(X, Y, intercept=True)


def verify_ols(cert, X: np.ndarray, Y: np.ndarray) -> None:
    """Recompute the baseline's objective and normal equations from its solution (raises BaselineError)."""
    from baselines.least_squares import verify

    verify(cert, np.hstack([X, np.ones((X.shape[0], 1))]), Y, 0.0)


def no_worse(L: float, L_base: float, tol: float) -> bool:
    """The claims' inequality L <= L_baseline + tol (one place, so a flipped bound can be injected from outside)."""
    return L - L_base <= tol


def slack_over_scale(slack: float, L: float, L_base: float) -> float:
    """slack / (max(|L|, |L_base|) + tau_fp): > SLACK_SCALE_BOUND (or non-finite) leaves the instance unresolved."""
    scale = max(abs(L), abs(L_base))
    return slack / (scale + tolerance.tau_fp(scale)) if math.isfinite(slack) else math.inf


def baseline_resolution(M: np.ndarray, Y: np.ndarray) -> tuple[bool, str]:
    """Can float64 decide the least-squares value min_R 1/2||M R - Y||^2 to tau_fp? Its rounding is about
    cond(M) * eps * 1/2||Y||^2 (first-order perturbation of the residual norm; cond over the numerical rank of
    CLAIMS.md section 0). When that exceeds tau_fp, a baseline that refuses to certify itself says "this instance is
    not decidable here" (unresolved), not "the baseline is wrong"; below it, a refusal is a failure."""
    s = np.linalg.svd(np.asarray(M, dtype=np.float64), compute_uv=False)
    if s.size == 0 or s[0] == 0:
        return True, "M = 0"
    rank = int((s > max(M.shape) * EPS * s[0]).sum())
    cond = float(s[0] / s[rank - 1])
    scale = 0.5 * float(np.sum(np.asarray(Y, dtype=np.float64) ** 2))
    resolution = cond * EPS * scale
    return resolution <= tolerance.tau_fp(scale), f"cond {cond:.3g}: value resolution {resolution:.2e} vs tau_fp"


def refused(e: Exception, M: np.ndarray, Y: np.ndarray) -> tuple[bool | None, str]:
    """(passed, reason) of an instance whose baseline raised BaselineError: unresolved (None) when float64 cannot
    resolve the baseline's value at this conditioning, a failure (False) otherwise."""
    ok, why = baseline_resolution(M, Y)
    if not ok:
        return None, f"unresolved: baseline not resolvable in float64 ({why}): {e}"
    return False, f"baseline refused ({why}): {e}"


def unresolved_reason(ratio: float) -> str | None:
    if not math.isfinite(ratio):
        return "unresolved: non-finite certificate slack"
    if ratio > SLACK_SCALE_BOUND:
        return f"unresolved: certificate slack is {ratio:.3g} of the compared values (> {SLACK_SCALE_BOUND:g})"
    return None


def is_critical(cert, second_order: bool) -> bool:
    """C-crit (or C-min where the variant needs second order)."""
    return cert.certified if second_order else cert.critical



# ======================================================================== the structured comparison
@dataclass
class Outcome:
    """The verdict of one structured comparison, before a claim wraps it into its Record."""

    certified: bool
    passed: bool | None
    reason: str
    gap: float | None = None
    tol: float | None = None


def compare_with_ols(tr: Trained, extra: dict, *, baseline, verify, holds, hypotheses: bool, second_order: bool
                     ) -> Outcome:
    """L <= L_OLS + 1/2 (||J^T r|| / sigma_min^+(J))^2 + tau_fp + slack_solver at tr's point (claim2; claim3b with
    X -> Phi(X)). `baseline(X, Y)`, `verify(cert, X, Y)` and `holds(L, L_base, tol)` are passed by the calling
    claim, so a sabotage patches them in that claim's module. hypotheses=False evaluates the bare assertion
    (certificate slack only where the point is certified with its structure, else 0) even outside the hypotheses."""
    from baselines.certificate import BaselineError

    net, cert = tr.net, tr.cert
    certified = is_critical(cert, second_order)
    if hypotheses and not certified:
        return Outcome(False, None, f"uncertified: {cert.verdict.value}: {cert.reason}")
    sc = verify_structure(tr)
    extra.update(sc.extra, structure_ok=sc.ok, structure_reason=sc.reason)
    if second_order and not sc.ok and sc.sigma_C is not None and sc.sigma_C < G_MIN:
        sc = StructureCheck(True, "zero-gain always-active unit (allowed at a C-min point)", sc.C, sc.sigma_C, sc.extra)
    if hypotheses and not sc.ok:
        return Outcome(False, None, f"outside hypotheses: {sc.reason}")
    slack = 0.0
    if certified and sc.ok:
        slack, sx = shallow_zero_gain_slack(tr) if second_order else first_order_slack(tr, sc)
        extra.update(sx)
        if hypotheses and sx["J_gap"] < RANK_GAP:
            return Outcome(False, None, f"outside hypotheses: gapless rank of [h~, X] (gap {sx['J_gap']:.3g})")
    try:
        base = baseline(net.X, net.Y)
        verify(base, net.X, net.Y)
    except BaselineError as e:  # a baseline that does not verify fails the check: it is the subject here too (unless
        # float64 cannot resolve its value at this conditioning: then the instance is unresolved, never passed)
        passed, why = refused(e, np.hstack([net.X, np.ones((net.X.shape[0], 1))]), net.Y)
        return Outcome(certified and sc.ok, passed, why)
    L, L_base = cert.loss, float(base.value)
    tol = tolerance.tau_fp(L_base) + slack + float(base.slack_solver)  # CLAIMS.md section 0
    ratio = slack_over_scale(slack, L, L_base)
    extra.update(L_ols=L_base, slack_cert=slack, slack_solver=float(base.slack_solver), slack_over_scale=ratio)
    ok = certified and sc.ok
    unresolved = unresolved_reason(ratio) if ok else None
    if unresolved:
        return Outcome(True, None, unresolved, L - L_base, tol)
    passed = bool(holds(L, L_base, tol))
    why = f"L={L:.6g} vs L_OLS={L_base:.6g}, slack={slack:.2e}; {sc.reason}"
    return Outcome(ok, passed, why if passed else f"VIOLATED: {why}", L - L_base, tol)
