"""Local optimality at activation kinks of piecewise-linear (PL) squared-loss nets, and a polish along the kinks.

Why. A PL net (ReLU, leaky ReLU, |z|) with fewer parameters than samples ends with some pre-activations EXACTLY on a
kink (margin ~1e-15): that is where its minima are. The loss is not differentiable there, so the smooth certificate
says NON_DIFFERENTIABLE. Near such a point the pre-activations that sit on the kink ("kink entries", k of them) split
a neighbourhood into at most 2^k closed pieces P_s = {theta : s_a z_a(theta) >= 0}, s in {+1,-1}^k. On P_s the
loss is the loss of the GATED net (networks.pattern.gated_objective with the kink entries' gains fixed at
sigma'(0+) or sigma'(0-)), a polynomial L_s. theta is a local minimum of L iff it is one of every problem

    min L_s(theta)  subject to  s_a z_a^s(theta) >= 0   (a = 1..k),

where z_a^s is the kink pre-activation computed by the gated net (a polynomial; linear in theta for one hidden
layer). What we test, per piece (`analyze_kink`):

1. stationarity along the kink manifold {z_a = 0}: ||grad L_s - B^T lambda|| <= grad_tol for some free lambda
   (B = dz/dtheta); otherwise NOT stationary, with the projected gradient as the descent witness.
2. first order (KKT): NNLS  min_{lambda >= 0} ||grad L_s - (s B)^T lambda||. A residual rho above grad_tol gives
   d = -rho with (s B) d >= 0 and grad L_s . d = -||rho||^2 < 0 (NNLS optimality): a first-order descent into P_s.
3. second order: the Hessian of the Lagrangian L_s - sum_a lambda_a s_a z_a^s on the subspace
   N = {d : B_a d = 0 for every a with lambda_a > lambda_tol} ("strict" entries). N contains the critical cone
   (it drops the cone's inequalities for degenerate multipliers), so PSD on N is SUFFICIENT; a negative
   eigenvector is a witness only if it also lies in the cone and the real loss falls along it (checked).
   Near-null directions of the reduced Hessian must be explained by the model's symmetry tangents (Morse-Bott,
   strength '...strict-mod-symmetry'); otherwise a perturbation probe of the REAL loss is the only evidence
   (strength '...probe').

Rigorous vs evidence. Second-order sufficient conditions (KKT + Lagrangian Hessian positive on the critical cone)
need no constraint qualification, also for the nonlinear constraints of deeper nets, so items 2-3 with a positive
definite reduced Hessian are a proof of a strict local minimum of every piece, to the floating-point resolutions
grad_tol (KKT residual), eps_H (eigenvalues) and the kink resolution margin_tol (a kink entry with |z| <= margin_tol is
treated as exactly 0; an entry above it keeps its side on a ball of radius ~ margin / Lipschitz). With
symmetry-explained null directions it is the same Morse-Bott argument as the smooth certifier's; with the probe it
is evidence only. Every SADDLE witness is verified by evaluating the real loss, never taken from the model alone.

Methods and bounds.
- One hidden layer, 'kink-ysj': the structure of Yun, Sra & Jadbabaie (ICLR 2019, arXiv:1809.10858). The kink
  constraints of hidden unit j involve only its incoming weights w_j, and the gated gradient on w_j depends only on
  unit j's own kink signs (output weights see sigma(0) = 0 on either side), so the first-order test splits into one
  convex NNLS (a QP) per unit and per sign pattern of THAT unit's M_j kink points: sum_j 2^{M_j} QPs instead of
  2^M. On the subspace N the reduced Hessian depends on a piece only through the signs of its degenerate
  (lambda ~ 0) entries and the strict set, so with strict complementarity everywhere ONE eigenvalue problem
  decides the second order (YSJ's generic case); otherwise one per distinct (strict set, degenerate signs)
  combination. Bounds: M_j <= UNIT_LIMIT per unit and at most 2^KINK_LIMIT second-order problems.
  Unlike YSJ (who solve the last step as a copositivity QP on the exact cone), we relax the degenerate
  inequalities, which can only answer "undecided" where YSJ would find a second-order stationary point.
- Deeper nets, 'kink-pieces (k=...)': all 2^k pieces enumerated, k <= KINK_LIMIT. Above the bounds: undecided
  (the certifier reports NON_DIFFERENTIABLE with k in the reason).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import scipy.optimize
import torch

from networks import activations
from networks.models import MLP
from networks.objective import Objective, PiecewiseData, autodiff_hessian
from networks.pattern import gated_objective

Tensor = torch.Tensor
EPS = float(np.finfo(np.float64).eps)
KINK_LIMIT = 12  # pieces 2^k (deeper nets) or second-order problems (one hidden layer) up to 2^12 = 4096
UNIT_LIMIT = 12  # one hidden layer: kink points per hidden unit (2^M_j first-order QPs per unit)
LAMBDA_REL = 1e3  # a multiplier is "strict" when lambda_a ||dz_a|| exceeds this many gradient tolerances


@dataclass(frozen=True)
class KinkAnalysis:
    """The outcome of `analyze_kink`. outcome: 'minimum' | 'saddle' | 'not stationary' | 'undecided'."""

    outcome: str
    reason: str
    method: str  # 'kink-ysj' | 'kink-pieces (k=3)'
    k: int  # kink entries (pre-activations with |z| <= margin_tol)
    problems: int  # first- and second-order problems solved
    kkt_residual: float | None  # max over pieces of the NNLS residual
    lambda_min: float | None  # min over pieces of the reduced Lagrangian Hessian's lowest eigenvalue
    lambda_max: float | None
    hessian_resolution: float | None
    null_dim: int | None  # worst piece's near-null dimension
    symmetry_dim: int | None
    null_explained: bool | None
    probe_min_change: float | None
    witness: tuple | None = None  # a verified descent step (theta + witness has a lower real loss)
    witness_change: float | None = None


@dataclass(frozen=True)
class _Piece:
    signs: tuple[int, ...]
    gains: list
    obj: Objective  # the gated loss L_s
    cons: object  # theta -> z^s_a for the kink entries (gated forward)


def kink_entries(model: MLP, theta: Tensor, X: Tensor, tol: float) -> list[tuple[int, int, int]]:
    """(layer, sample, unit) of every kink-feeding pre-activation with |z| <= tol (linear units excluded)."""
    zs, _ = model.hidden(theta, X)
    out = []
    for l, z in enumerate(zs):
        for i, j in (z.abs() <= tol).nonzero().tolist():
            if j not in model.linear_units[l]:
                out.append((l, i, j))
    return out


def _pattern(model: MLP, theta: Tensor, X: Tensor) -> list[Tensor]:
    """networks.pattern.pattern (sigma'(z^(l)) per hidden layer, linear units 1) in one elementwise autodiff call per
    layer instead of a vmap over scalars: the same derivative rule entry by entry, so the same gains (also exactly
    on a kink), ~10x cheaper (it ran at every polish iteration)."""
    act = activations.get(model.activation)
    zs, _ = model.hidden(torch.as_tensor(theta, dtype=torch.float64), torch.as_tensor(X, dtype=torch.float64))
    d1 = torch.func.grad(lambda u: act(u).sum())
    out = []
    for l, z in enumerate(zs):
        g = d1(z.detach()).clone()
        if model.linear_units[l]:
            g[:, list(model.linear_units[l])] = 1.0
        out.append(g)
    return out


def one_sided_slopes(model: MLP) -> tuple[float, float]:
    """(sigma'(0+), sigma'(0-)): relu (1, 0), leaky_relu:a (1, a), abs (1, -1)."""
    act = activations.get(model.activation)
    one = torch.ones((), dtype=torch.float64)
    return float(act(one)), float(-act(-one))


def _gated_preactivations(model: MLP, X: Tensor, gains: list):
    def zs(theta):
        Ws, _ = model.unflatten(theta)
        h, out = X, []
        for W, g in zip(Ws[:-1], gains):
            z = model._with_bias(h) @ W
            out.append(z)
            h = g * z
        return out

    return zs


def _piece(data: PiecewiseData, base: list, entries, signs, slopes) -> _Piece:
    gains = [g.clone() for g in base]
    for (l, i, j), s in zip(entries, signs):
        gains[l][i, j] = slopes[0] if s > 0 else slopes[1]
    zs = _gated_preactivations(data.model, data.X, gains)
    # per layer: (positions in the entry list, samples, units); one gather per layer instead of one per entry
    layers = sorted({e[0] for e in entries})
    where = [(l, torch.as_tensor([a for a, e in enumerate(entries) if e[0] == l]),
              torch.as_tensor([e[1] for e in entries if e[0] == l]), torch.as_tensor([e[2] for e in entries if e[0] == l]))
             for l in layers]
    single = len(where) == 1

    def cons(theta):
        z = zs(theta)
        if single:
            l, _, i, j = where[0]
            return z[l][i, j]
        out = theta.new_zeros(len(entries))
        for l, pos, i, j in where:
            out = out.index_put((pos,), z[l][i, j])
        return out

    obj = gated_objective(data.model, data.X, data.Y, gains, data.skip_input)
    return _Piece(tuple(signs), gains, obj, cons)


def subspace_explained(V_null: np.ndarray, T: np.ndarray, tol: float = 1e-3) -> bool:
    """True when span(V_null) lies in span(T): the largest principal-angle sine is below tol."""
    if V_null.shape[1] == 0:
        return True
    if T.shape[1] == 0:
        return False
    Q, s, _ = np.linalg.svd(T, full_matrices=False)
    Q = Q[:, s > 1e-10 * s[0]]
    resid = V_null - Q @ (Q.T @ V_null)
    return bool(np.linalg.norm(resid, 2) <= tol)


def null_basis(B: np.ndarray, n: int) -> np.ndarray:
    """Orthonormal basis (n x r) of null(B), with the handbook's rank threshold."""
    if B.shape[0] == 0:
        return np.eye(n)
    U, s, Vt = np.linalg.svd(B, full_matrices=True)
    rank = int((s > max(B.shape) * EPS * s[0]).sum()) if s.size and s[0] > 0 else 0
    return Vt[rank:].T


def best_step(obj: Objective, theta: Tensor, d: Tensor, loss: float,
              scales=(1.0, 0.3, 0.1, 3e-2, 1e-2, 3e-3, 1e-3, 1e-4, 1e-5, 1e-6)) -> tuple[float, Tensor]:
    """min over t in scales of L(theta + t d) - L, and that step t d: a witness is checked on the REAL loss."""
    best, step = math.inf, None
    for t in scales:
        change = obj.value(theta + t * d) - loss
        if change < best:
            best, step = change, t * d
    return best, step


def _verified(obj, theta, d, loss, loss_tol):
    d = d / d.norm().clamp_min(1e-300)
    change, step = best_step(obj, theta, d, loss)
    return (change, step) if change < -loss_tol else (change, None)


def _unit_indices(model: MLP) -> list[list[int]]:
    """Positions in theta of each first-layer unit's incoming weights (bias row included)."""
    r, c = model.weight_shapes[0]
    pos = -np.ones(model._n_full, dtype=np.int64)
    pos[model._free.numpy()] = np.arange(model.n_params)
    return [[int(pos[a * c + j]) for a in range(r) if pos[a * c + j] >= 0] for j in range(c)]


def _nnls(A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """lambda >= 0 minimizing ||A lambda - b|| and the residual b - A lambda."""
    if A.shape[1] == 0:
        return np.zeros(0), b.copy()
    lam, _ = scipy.optimize.nnls(A, b, maxiter=50 * max(A.shape))
    return lam, b - A @ lam


def _strict(lam: np.ndarray, B: np.ndarray, grad_tol: float) -> np.ndarray:
    return lam * np.linalg.norm(B, axis=1) > LAMBDA_REL * grad_tol


def _second_order(piece: _Piece, theta, lam, strict, T, P, rel_res):
    """Lowest eigenpairs of the Lagrangian Hessian of one piece on N = null(B_strict)."""
    sl = torch.as_tensor(lam * np.asarray(piece.signs, dtype=np.float64))

    def lagrangian(t):
        return piece.obj.fun(t) - (sl * piece.cons(t)).sum() if sl.numel() else piece.obj.fun(t)

    H = autodiff_hessian(lagrangian, theta)
    H = (0.5 * (H + H.T)).numpy()
    B = torch.func.jacrev(piece.cons)(theta).numpy() if sl.numel() else np.zeros((0, P))
    Z = null_basis(B[strict], P)
    lmax = float(np.abs(np.linalg.eigvalsh(H)).max()) if P else 0.0
    eps_H = rel_res * max(1.0, lmax) + 1e3 * P * EPS * lmax
    if Z.shape[1] == 0:
        return dict(lmin=math.inf, lmax=lmax, eps_H=eps_H, null_dim=0, explained=True, Z=Z, w=np.zeros(0), U=np.zeros((0, 0)),
                    B=B)
    w, U = np.linalg.eigh(Z.T @ H @ Z)
    null = np.abs(w) <= eps_H
    explained = subspace_explained(U[:, null], Z.T @ T)
    return dict(lmin=float(w[0]), lmax=lmax, eps_H=eps_H, null_dim=int(null.sum()), explained=explained, Z=Z, w=w, U=U, B=B)


def _in_cone(B, signs, strict, d, tol=1e-10) -> bool:
    """d keeps every degenerate entry on its piece's side to first order (strict ones are 0 on N)."""
    v = (np.asarray(signs)[:, None] * B)[~strict] @ d
    return bool((v >= -tol * max(1.0, np.linalg.norm(d) * np.abs(B).max(initial=0.0))).all())


def analyze_kink(obj: Objective, theta: Tensor, *, grad_tol: float, loss_tol: float, margin_tol: float,
                 hessian_rel_resolution: float = 1e-8, probe_radii=(1e-5, 1e-4, 1e-3), probe_directions: int = 16,
                 probe_seed: int = 0) -> KinkAnalysis:
    """Decide local optimality at a point with pre-activations on a kink (see the module docstring)."""
    data = obj.piecewise
    if data is None:
        raise ValueError("analyze_kink needs an objective with piecewise data (networks.squared_loss of a PL MLP without l2)")
    model = data.model
    theta = torch.as_tensor(theta, dtype=torch.float64).detach()
    entries = kink_entries(model, theta, data.X, margin_tol)
    k, P = len(entries), obj.n_params
    one_layer = model.depth == 1
    method = "kink-ysj" if one_layer else f"kink-pieces (k={k})"
    blank = dict(method=method, k=k, problems=0, kkt_residual=None, lambda_min=None, lambda_max=None,
                 hessian_resolution=None, null_dim=None, symmetry_dim=None, null_explained=None, probe_min_change=None)
    loss = obj.value(theta)
    base = _pattern(model, theta, data.X)
    slopes = one_sided_slopes(model)
    if k == 0:
        return KinkAnalysis("undecided", "no kink entries at this resolution", **blank)

    # 1. stationarity along the kink manifold (any piece: on z = 0 the kink gains do not matter)
    p0 = _piece(data, base, entries, (1,) * k, slopes)
    g0 = p0.obj.grad(theta).numpy()
    B0 = torch.func.jacrev(p0.cons)(theta).numpy()
    lam0 = np.linalg.lstsq(B0.T, g0, rcond=None)[0]
    proj = g0 - B0.T @ lam0
    if np.linalg.norm(proj) > grad_tol:
        change, step = _verified(obj, theta, torch.as_tensor(-proj), loss, loss_tol)
        return KinkAnalysis("not stationary", f"not stationary along the kink manifold: projected gradient "
                            f"{np.linalg.norm(proj):.3e} > {grad_tol:.3e}",
                            witness=None if step is None else tuple(step.tolist()),
                            witness_change=change, **{**blank, "kkt_residual": float(np.linalg.norm(proj))})

    T = obj.symmetry_tangents(theta).cpu().numpy() if obj.symmetry_tangents is not None else np.zeros((P, 0))
    blank["symmetry_dim"] = int(np.linalg.matrix_rank(T)) if T.shape[1] else 0
    if one_layer:
        plan = _ysj_plan(data, theta, base, entries, slopes, grad_tol, g0)
    else:
        plan = _all_pieces_plan(data, theta, base, entries, slopes, grad_tol)
    if isinstance(plan, str):
        return KinkAnalysis("undecided", plan, **blank)
    first, second, problems = plan
    blank["problems"] = problems
    worst = max(first, key=lambda f: f["res_norm"])
    blank["kkt_residual"] = worst["res_norm"]
    if worst["res_norm"] > grad_tol:
        change, step = _verified(obj, theta, torch.as_tensor(worst["descent"]), loss, loss_tol)
        if step is None:
            return KinkAnalysis("undecided", f"KKT residual {worst['res_norm']:.3e} > {grad_tol:.3e} on piece "
                                f"{worst['label']}, but the descent direction did not lower the loss ({change:.3e})", **blank)
        return KinkAnalysis("saddle", f"first-order descent into piece {worst['label']}: KKT residual "
                            f"{worst['res_norm']:.3e} > {grad_tol:.3e} (a negative multiplier); loss change {change:.3e}",
                            witness=tuple(step.tolist()), witness_change=change, **blank)
    return _decide_second_order(obj, theta, loss, loss_tol, second, T, P, hessian_rel_resolution, blank,
                                probe_radii, probe_directions, probe_seed)


def _all_pieces_plan(data, theta, base, entries, slopes, grad_tol):
    """Deeper nets: every piece's KKT (NNLS) and its second-order problem."""
    k = len(entries)
    if k > KINK_LIMIT:
        return f"{k} kink entries > KINK_LIMIT={KINK_LIMIT}: 2^{k} pieces not enumerated"
    first, second = [], []
    for signs in itertools.product((1, -1), repeat=k):
        p = _piece(data, base, entries, signs, slopes)
        g = p.obj.grad(theta).numpy()
        B = torch.func.jacrev(p.cons)(theta).numpy()
        A = (np.asarray(signs, dtype=np.float64)[:, None] * B).T
        lam, res = _nnls(A, g)
        first.append(dict(res_norm=float(np.linalg.norm(res)), descent=-res, label=_label(signs)))
        second.append((p, lam, _strict(lam, B, grad_tol)))
    return first, second, 2 * len(first)


def _label(signs) -> str:
    return "".join("+" if s > 0 else "-" for s in signs)


def _ysj_plan(data, theta, base, entries, slopes, grad_tol, g0):
    """One hidden layer: per-unit first-order QPs, then one second-order problem per distinct combination of the
    units' (strict set, degenerate signs)."""
    model, k, P = data.model, len(entries), theta.numel()
    units = sorted({j for _, _, j in entries})
    idx = _unit_indices(model)
    by_unit = {j: [a for a, e in enumerate(entries) if e[2] == j] for j in units}
    if max(len(v) for v in by_unit.values()) > UNIT_LIMIT:
        return f"a hidden unit has {max(len(v) for v in by_unit.values())} kink points > UNIT_LIMIT={UNIT_LIMIT}"
    p0 = _piece(data, base, entries, (1,) * k, slopes)
    B = torch.func.jacrev(p0.cons)(theta).numpy()  # linear constraints: the same on every piece
    rest = np.ones(P, bool)
    for j in units:
        rest[idx[j]] = False
    rest_norm = float(np.linalg.norm(g0[rest]))  # output weights and kink-free units: piece-independent
    first, per_unit, problems = [], {}, 0
    for j in units:
        rows, cols = by_unit[j], idx[j]
        options, worst = {}, None
        for sub in itertools.product((1, -1), repeat=len(rows)):
            signs = [1] * k
            for a, s in zip(rows, sub):
                signs[a] = s
            g = _piece(data, base, entries, signs, slopes).obj.grad(theta).numpy()
            A = (np.asarray(sub, dtype=np.float64)[:, None] * B[np.ix_(rows, cols)]).T
            lam, res = _nnls(A, g[cols])
            problems += 1
            strict = _strict(lam, B[np.ix_(rows, cols)], grad_tol)
            key = (tuple(strict), tuple(s if not st else 0 for s, st in zip(sub, strict)))
            options.setdefault(key, (sub, lam, strict))
            if worst is None or np.linalg.norm(res) > worst[0]:
                d = np.zeros(P)
                d[cols] = -res
                worst = (float(np.linalg.norm(res)), d, _label(signs))
        per_unit[j] = list(options.values())
        first.append(worst)
    total = math.sqrt(rest_norm ** 2 + sum(w[0] ** 2 for w in first))
    descent = max(first, key=lambda w: w[0])
    first = [dict(res_norm=total, descent=descent[1], label=descent[2])]
    combos = math.prod(len(v) for v in per_unit.values())
    if combos > 2 ** KINK_LIMIT:
        return f"{combos} second-order problems (degenerate multipliers) > 2^KINK_LIMIT={2 ** KINK_LIMIT}"
    second = []
    for choice in itertools.product(*(per_unit[j] for j in units)):
        signs, lam, strict = [1] * k, np.zeros(k), np.zeros(k, bool)
        for j, (sub, l_j, st_j) in zip(units, choice):
            for a, s, la, st in zip(by_unit[j], sub, l_j, st_j):
                signs[a], lam[a], strict[a] = s, la, st
        second.append((_piece(data, base, entries, tuple(signs), slopes), lam, strict))
    return first, second, problems + len(second)


def _decide_second_order(obj, theta, loss, loss_tol, second, T, P, rel_res, blank, probe_radii, probe_directions, probe_seed):
    worst = None
    unexplained = []
    for piece, lam, strict in second:
        so = _second_order(piece, theta, lam, strict, T, P, rel_res)
        if worst is None or so["lmin"] < worst["lmin"]:
            worst = so
        if so["lmin"] < -so["eps_H"]:
            for sgn in (1.0, -1.0):
                d = sgn * so["Z"] @ so["U"][:, 0]
                if _in_cone(so["B"], piece.signs, strict, d):
                    change, step = _verified(obj, theta, torch.as_tensor(d), loss, loss_tol)
                    if step is not None:
                        return KinkAnalysis("saddle", f"negative curvature {so['lmin']:.3e} on piece {_label(piece.signs)}'s "
                                            f"critical subspace; loss change {change:.3e}", witness=tuple(step.tolist()),
                                            witness_change=change, **_so_fields(blank, so))
            return KinkAnalysis("undecided", f"negative curvature {so['lmin']:.3e} on piece {_label(piece.signs)}'s "
                                f"relaxed critical subspace, no verified descent along it", **_so_fields(blank, so))
        if not so["explained"]:
            unexplained.append(so)
    fields = _so_fields(blank, worst)
    if not unexplained:
        return KinkAnalysis("minimum", "", **fields)
    # degenerate: only a probe of the real loss (evidence) along near-null and random directions
    gen = torch.Generator().manual_seed(probe_seed)
    dirs = [torch.randn(P, generator=gen, dtype=torch.float64) for _ in range(probe_directions)]
    for so in unexplained:
        null = np.abs(so["w"]) <= so["eps_H"]
        dirs += [torch.as_tensor(so["Z"] @ so["U"][:, j]) for j in np.flatnonzero(null)]
    change = min(obj.value(theta + s * r * d / d.norm()) - loss for d in dirs for r in probe_radii for s in (1.0, -1.0))
    fields["probe_min_change"] = change
    if change < -loss_tol:
        return KinkAnalysis("undecided", f"degenerate, and the probe found a lower point ({change:.3e})", **fields)
    return KinkAnalysis("minimum", f"{fields['null_dim']} near-null directions not explained by symmetries: probe only", **fields)


def _so_fields(blank, so):
    return {**blank, "lambda_min": so["lmin"], "lambda_max": so["lmax"], "hessian_resolution": so["eps_H"],
            "null_dim": so["null_dim"], "null_explained": so["explained"]}


@dataclass(frozen=True)
class KinkPolish:
    """The outcome of `polish_on_kinks`: the end point, its loss, the kink entries held at 0 and the reduced
    (projected) gradient norm on the kink manifold."""

    theta: Tensor
    loss: float
    k: int
    reduced_grad: float
    constraint_norm: float
    iterations: int
    converged: bool


def _restore(cons, theta: Tensor, tol: float, steps: int = 8) -> Tensor:
    """Gauss-Newton back onto {z_a = 0}: theta -= B^+ c (exact in one step for one hidden layer)."""
    for _ in range(steps):
        c = cons(theta)
        if c.numel() == 0 or float(c.abs().max()) <= tol:
            break
        B = torch.func.jacrev(cons)(theta)
        theta = theta - torch.linalg.lstsq(B, c[:, None], driver="gelsd").solution[:, 0]
    return theta


def _flat_entries(model: MLP, m: int) -> list[tuple[int, int, int]]:
    """(layer, sample, unit) in the order of MLP.kink_preactivations."""
    return [(l, i, j) for l, w in enumerate(model.widths) for i in range(m) for j in range(w) if j not in model.linear_units[l]]


def _stop_at_first_kink(model: MLP, X: Tensor, theta: Tensor, cand: Tensor, z: Tensor) -> tuple[Tensor, list[int]]:
    """Active set: shorten the step to where the first off-kink pre-activation reaches its kink (linear
    interpolation of z along the step; exact in one hidden layer), so the step never crosses into a piece where
    the gated model is wrong; that entry joins the kink set at the next iteration."""
    zc = model.kink_preactivations(cand, X)
    crossed = (torch.sign(zc) != torch.sign(z)) & (z.abs() > 0) & (zc.abs() > 0)
    if not bool(crossed.any()):
        return cand, []
    ratio = z / (z - zc)
    hit = crossed.nonzero()[:, 0]
    first = int(hit[ratio[hit].argmin()])
    return theta + float(ratio[first]) * (cand - theta), [first]


def polish_on_kinks(obj: Objective, theta, *, rel_grad_tol: float = 1e-11, rel_margin: float = 1e-7,
                    max_iter: int = 50) -> KinkPolish:
    """Equality-constrained Newton on the active kinks: minimize L keeping every kink entry (|z| <= margin_tol) at 0.

    Why: trainers stop at kinks with one-sided gradients 1e-3..1, and only the component of the gradient ALONG the
    kink manifold has to vanish there (the rest is carried by the kink multipliers). Each step: least-squares
    multipliers, saddle-free Newton on the null space of B = dz/dtheta with the Lagrangian Hessian, Levenberg
    damping, a Gauss-Newton restoration onto z = 0, accepted when the REAL loss does not rise. The kink set is
    re-read at every step (entries that reach the kink join it)."""
    data = obj.piecewise
    if data is None:
        raise ValueError("polish_on_kinks needs an objective with piecewise data (networks.squared_loss of a PL MLP without l2)")
    theta = torch.as_tensor(theta, dtype=torch.float64).detach().clone()
    model, slopes = data.model, one_sided_slopes(data.model)
    loss, lam_damp, red, cn, k = obj.value(theta), None, math.inf, 0.0, 0
    flat, pinned = _flat_entries(model, data.X.shape[0]), set()
    for it in range(1, max_iter + 1):
        z = model.kink_preactivations(theta, data.X)
        tol_z = rel_margin * (1.0 + float(z.abs().max()))
        # the entry a truncated step stopped at is pinned to its kink even if interpolation left it at ~1e-6
        entries = sorted(set(kink_entries(model, theta, data.X, tol_z)) | pinned)
        k = len(entries)
        piece = _piece(data, _pattern(model, theta, data.X), entries, (1,) * k, slopes)
        g = piece.obj.grad(theta)
        cons = piece.cons if k else (lambda t: t.new_zeros(0))
        B = torch.func.jacrev(cons)(theta) if k else theta.new_zeros(0, theta.numel())
        lam = torch.linalg.lstsq(B.T, g[:, None], driver="gelsd").solution[:, 0] if k else g.new_zeros(0)
        Z = torch.as_tensor(null_basis(B.numpy(), theta.numel()))
        gr = Z.T @ g
        red, cn = float(gr.norm()), float(cons(theta).abs().max()) if k else 0.0
        if red <= rel_grad_tol * (1 + abs(loss)):
            return KinkPolish(theta, loss, k, red, cn, it, True)
        H = autodiff_hessian(lambda t, piece=piece, lam=lam, cons=cons: piece.obj.fun(t) - (lam * cons(t)).sum(), theta)
        w, U = torch.linalg.eigh(Z.T @ (0.5 * (H + H.T)) @ Z)
        scale = float(w.abs().max().clamp_min(1e-300))
        lam_damp = 1e-10 * scale if lam_damp is None else lam_damp
        for _ in range(40):
            cand = _restore(cons, theta + Z @ (-U @ ((U.T @ gr) / (w.abs() + lam_damp))), 1e-15 * (1 + float(theta.norm())))
            cand, hit = _stop_at_first_kink(model, data.X, theta, cand, z)
            lc = obj.value(cand)
            # a tie within rounding is accepted: near the end Newton still shrinks the reduced gradient while the
            # loss change (~ gradient^2 / curvature) is below float64's resolution of L
            if math.isfinite(lc) and lc <= loss + 4 * EPS * (1 + abs(loss)):
                theta, loss, lam_damp = cand, lc, max(lam_damp / 4, 1e-12 * scale)
                pinned = set(entries) | {flat[h] for h in hit}
                break
            lam_damp = max(lam_damp * 8, 1e-8 * scale)
        else:
            return KinkPolish(theta, loss, k, red, cn, it, False)
    return KinkPolish(theta, loss, k, red, cn, max_iter, False)
