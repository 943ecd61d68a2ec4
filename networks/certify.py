"""Certify what a trainer reached: a typed Certificate with every number behind the verdict.

Verdicts (never a silent "ok"):
- CERTIFIED_MINIMUM: gradient below tolerance, activation margin positive (PL nets), Hessian PSD to resolution,
  and the perturbation probe finds no lower point. `strength` says how strong the evidence is:
  'zero-loss' (L ~ 0 for a nonnegative loss: a global minimum), 'strict-mod-symmetry' (every near-null Hessian
  direction is a known symmetry tangent: a strict minimum transversal to the symmetry orbit, Morse-Bott),
  'probe' (degenerate Hessian: the higher-order probe is the only evidence; 'probabilistic' if Lanczos was used).
- SADDLE: critical, but a negative eigenvalue (with a verified descent witness) or the probe found descent.
- NOT_CONVERGED: gradient above tolerance; the reason names e.g. divergence of the parameters.
- NON_DIFFERENTIABLE: the activation margin is ~0, so the point sits on a kink.
- CRITICAL: with need_second_order=False (the handbook's C-crit), a differentiable critical point, nothing more.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, fields
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse.linalg as spla
import torch

from networks.kinks import KinkAnalysis, analyze_kink, subspace_explained
from networks.objective import Objective
from networks.train import default_grad_tol, radial_escape

if TYPE_CHECKING:  # for the annotation only: at run time networks.verify (python-flint) stays a lazy import
    from networks.verify import Verification

Tensor = torch.Tensor
EPS = float(np.finfo(np.float64).eps)
DENSE_LIMIT = 3000  # parameters up to which the Hessian spectrum is computed densely (exact to resolution)
ZERO_LOSS_SPECTRUM_LIMIT = 1000  # above this, zero-loss points skip the spectrum (a global minimum needs none)


class Verdict(str, Enum):
    CERTIFIED_MINIMUM = "certified local minimum"
    SADDLE = "critical point, not a minimum"
    CRITICAL = "critical point (second order not examined)"
    NOT_CONVERGED = "not converged"
    NON_DIFFERENTIABLE = "non-differentiable point"


class MissingCertificateField(AssertionError):
    pass


@dataclass(frozen=True)
class Certificate:
    verdict: Verdict
    reason: str
    strength: str | None
    loss: float
    grad_norm: float
    grad_norm_rel: float  # ||grad|| / (1 + |L|)
    grad_tol: float
    n_params: int
    lambda_min: float | None
    lambda_max: float | None
    hessian_method: str | None  # 'dense eigvalsh' | 'lanczos (probabilistic)'
    hessian_resolution: float | None  # eps_H: eigenvalues in [-eps_H, eps_H] are numerically zero
    null_dim: int | None  # eigenvalues with |lambda| <= eps_H
    symmetry_dim: int | None  # rank of the known symmetry tangents
    null_explained: bool | None  # near-null eigenspace == symmetry tangent space
    margin: float | None  # min |pre-activation| at kinks (PL nets); None for smooth nets
    margin_tol: float | None
    probe_min_change: float | None  # min over probe points of L(theta + rho d) - L(theta)
    probe_tol: float | None
    probe_radii: tuple | None
    jac_rank: int | None
    jac_sigma_min_plus: float | None
    jac_shape: tuple | None
    slack: float | None  # 1/2 (||grad L|| / sigma_min^+(J))^2: Lemma P's slack (CLAIMS.md section 0)
    seconds: float
    dtype: str = "float64"
    witness: tuple | None = None  # a descent direction at a saddle (as a tuple, to keep the record immutable)
    verified: "Verification | dict | None" = None  # networks.verify's ball-arithmetic proof; None: not attempted

    @property
    def certified(self) -> bool:
        return self.verdict is Verdict.CERTIFIED_MINIMUM

    @property
    def differentiable(self) -> bool:
        """The loss is differentiable here: a smooth net, or every kink pre-activation clears the margin."""
        return self.margin is None or (self.margin_tol is not None and self.margin > self.margin_tol)

    @property
    def critical(self) -> bool:
        """C-crit of CLAIMS.md: gradient below tolerance at a differentiable point."""
        return self.verdict in (Verdict.CERTIFIED_MINIMUM, Verdict.SADDLE, Verdict.CRITICAL)

    def require(self, *names: str) -> "Certificate":
        """Fail (not skip) when a field a claim relies on is missing."""
        missing = [n for n in names if getattr(self, n) is None]
        if missing:
            raise MissingCertificateField(f"certificate lacks {missing}; verdict {self.verdict.value}: {self.reason}")
        return self

    def summary(self) -> str:
        parts = [f"{self.verdict.value} [{self.strength or '-'}]", f"L={self.loss:.6g}", f"|g|={self.grad_norm:.2e}"]
        if self.lambda_min is not None:
            parts.append(f"lmin={self.lambda_min:.3e}")
        if self.margin is not None:
            parts.append(f"margin={self.margin:.2e}")
        if self.reason:
            parts.append(self.reason)
        return ", ".join(parts)

    def as_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "witness"}
        d["verdict"] = self.verdict.value
        if hasattr(self.verified, "as_dict"):
            d["verified"] = self.verified.as_dict()
        return d


def numerical_rank(M: Tensor | np.ndarray) -> tuple[int, float, float]:
    """(rank, sigma_min^+, gap) with the handbook's threshold max(shape) * eps * sigma_max.

    gap is sigma_k / sigma_{k+1} at the cut (inf when there is no smaller singular value)."""
    M = np.asarray(M.detach().cpu() if isinstance(M, Tensor) else M, dtype=np.float64)
    if M.size == 0:
        return 0, math.inf, math.inf
    s = np.linalg.svd(M, compute_uv=False)
    if s[0] == 0:
        return 0, math.inf, math.inf
    thr = max(M.shape) * EPS * s[0]
    r = int((s > thr).sum())
    smin = float(s[r - 1])
    gap = float(s[r - 1] / s[r]) if r < len(s) and s[r] > 0 else math.inf
    return r, smin, gap


def _spectrum(obj: Objective, theta: Tensor, n_low: int):
    """Lowest eigenpairs and lambda_max. Dense below DENSE_LIMIT; Lanczos (probabilistic) above."""
    P = theta.numel()
    if P <= DENSE_LIMIT:
        H = obj.hessian(theta).cpu()  # dense eigh on the CPU in float64 (ENGINEERING.md)
        w, V = torch.linalg.eigh(H)
        return w.numpy(), V.numpy(), float(w.abs().max()), "dense eigvalsh"
    op = spla.LinearOperator(
        (P, P), matvec=lambda v: obj.hvp(theta, torch.as_tensor(np.asarray(v).ravel(), device=theta.device)).cpu().numpy(),
        dtype=np.float64
    )
    lmax = float(abs(spla.eigsh(op, k=1, which="LM", return_eigenvectors=False, tol=1e-6)[0]))
    k = min(max(n_low, 6), P - 2)
    while True:
        w, V = spla.eigsh(op, k=k, which="SA", tol=1e-10, maxiter=20 * P)
        order = np.argsort(w)
        w, V = w[order], V[:, order]
        # if every computed eigenvalue is numerically zero, the null space may be larger: ask for more
        if k >= P - 2 or w[-1] > 1e-8 * max(1.0, lmax):
            return w, V, lmax, "lanczos (probabilistic)"
        k = min(2 * k, P - 2)


_subspace_explained = subspace_explained  # one implementation, shared with the kink certificate


def _probe(obj: Objective, theta: Tensor, loss: float, dirs: list[Tensor], radii, tol: float, descend: bool):
    """min over directions d, radii rho of L(theta + rho d) - L; a candidate descent is confirmed by a short
    Newton/LM descent from the perturbed point (a genuine minimum's basin returns to L, a saddle falls below)."""
    from networks.train import minimize

    worst, worst_point = math.inf, None
    for d in dirs:
        d = d / d.norm()
        for rho in radii:
            for s in (1.0, -1.0):
                p = theta + s * rho * d
                change = obj.value(p) - loss
                if change < worst:
                    worst, worst_point = change, p
    if worst < -tol and descend:
        res = minimize(obj, worst_point, max_iter=30)
        confirmed = res.loss < loss - tol
        return worst, confirmed, (worst_point - theta)
    return worst, worst < -tol, (None if worst_point is None else worst_point - theta)


def certify(
    obj: Objective,
    theta: Tensor,
    *,
    rel_grad_tol: float = 1e-9,
    rel_margin: float = 1e-7,
    hessian_rel_resolution: float = 1e-8,
    probe_radii=(1e-4, 1e-3, 1e-2, 1e-1),
    probe_directions: int = 8,
    probe_seed: int = 0,
    need_second_order: bool = True,
    accept_kink_zero_loss: bool = False,
    allow_kinks: bool = False,
) -> Certificate:
    """Certify theta against obj. `need_second_order=False` gives the C-crit certificate (no Hessian, no probe):
    a differentiable critical point, verdict CRITICAL. `accept_kink_zero_loss=True` certifies a zero loss on a kink
    as a (global, non-differentiable) minimum instead of NON_DIFFERENTIABLE; `Certificate.differentiable` tells.
    `allow_kinks=True` (opt-in; needs `obj.piecewise`, i.e. networks.squared_loss of a PL MLP) examines a kink point
    with networks.kinks.analyze_kink: CERTIFIED_MINIMUM with strength 'kink-ysj, ...' or 'kink-pieces (k=..), ...'
    (and differentiable=False), SADDLE with a verified witness, NOT_CONVERGED when it is not stationary along the
    kink manifold, NON_DIFFERENTIABLE when undecided (e.g. too many kink entries: the reason gives k)."""
    t0 = time.perf_counter()
    theta = torch.as_tensor(theta, dtype=torch.float64).detach().to(obj.device)
    if theta.shape != (obj.n_params,):
        raise ValueError(f"theta has shape {tuple(theta.shape)}, expected ({obj.n_params},)")
    loss_t, g = obj.value_and_grad(theta)
    loss, gn = float(loss_t), float(g.norm())
    tol = default_grad_tol(loss, rel_grad_tol)
    base = dict(loss=loss, grad_norm=gn, grad_norm_rel=gn / (1 + abs(loss)), grad_tol=tol, n_params=obj.n_params)
    empty = dict(
        lambda_min=None, lambda_max=None, hessian_method=None, hessian_resolution=None, null_dim=None,
        symmetry_dim=None, null_explained=None, margin=None, margin_tol=None, probe_min_change=None, probe_tol=None,
        probe_radii=None, jac_rank=None, jac_sigma_min_plus=None, jac_shape=None, slack=None, strength=None,
    )
    if not (math.isfinite(loss) and math.isfinite(gn) and bool(torch.isfinite(theta).all())):
        return Certificate(Verdict.NOT_CONVERGED, "non-finite loss, gradient or parameters", seconds=time.perf_counter() - t0,
                           **{**empty, **base})

    # activation margin: differentiability of PL nets
    margin = margin_tol = None
    if obj.kink_preactivations is not None:
        z = obj.kink_preactivations(theta)
        if z is not None and z.numel():
            margin = float(z.abs().min())
            margin_tol = rel_margin * (1.0 + float(z.abs().max()))
    empty.update(margin=margin, margin_tol=margin_tol)

    # output Jacobian: rank and Lemma P's slack
    if obj.outputs is not None:
        if obj.residual is not None:  # the residual's Jacobian starts with the outputs' rows (regularizers follow)
            J = obj.jacobian(theta)[: obj.outputs(theta).numel()]
        else:
            from networks.objective import jacobian

            J = jacobian(obj.outputs, theta)
        r, smin, _ = numerical_rank(J)
        empty.update(jac_rank=r, jac_sigma_min_plus=smin, jac_shape=tuple(J.shape),
                     slack=0.5 * (gn / smin) ** 2 if r else math.inf)

    def done(verdict, reason, **kw):
        return Certificate(verdict, reason, seconds=time.perf_counter() - t0, **{**empty, **base, **kw})

    loss_tol = 1e-11 * (1 + abs(loss))  # resolution of loss comparisons: zero loss, the radial check, the probe
    zero_loss = obj.nonnegative and loss <= loss_tol

    def global_minimum(reason="zero loss of a nonnegative objective", hessian_method="not needed (zero loss)"):
        # a nonnegative loss at ~0 is a global minimum: nothing nearby is lower
        return done(Verdict.CERTIFIED_MINIMUM, reason, strength="zero-loss", hessian_method=hessian_method,
                    probe_tol=loss_tol, probe_min_change=0.0)

    on_kink = margin is not None and margin <= margin_tol
    if on_kink and accept_kink_zero_loss and need_second_order and zero_loss and gn <= tol:
        # opt-in: the claims are about DIFFERENTIABLE minima, so by default a kink is NON_DIFFERENTIABLE; the bench
        # counts such global minima
        return global_minimum(f"zero loss of a nonnegative objective (on a kink: margin {margin:.2e})")
    if on_kink and allow_kinks and need_second_order and obj.piecewise is not None:
        s_escape = radial_escape(obj, theta, loss, loss_tol)
        if s_escape is not None:
            return done(Verdict.NOT_CONVERGED,
                        f"on a kink, and the loss falls along the ray theta -> (1+s) theta (s={s_escape:g})")
        a = analyze_kink(obj, theta, grad_tol=tol, loss_tol=loss_tol, margin_tol=margin_tol,
                         hessian_rel_resolution=hessian_rel_resolution, probe_seed=probe_seed)
        return _kink_certificate(a, margin, done, loss_tol)
    if on_kink:
        return done(Verdict.NON_DIFFERENTIABLE, f"on a kink: margin {margin:.2e} <= {margin_tol:.2e}")
    if gn > tol:
        return done(Verdict.NOT_CONVERGED, f"gradient {gn:.3e} > tolerance {tol:.3e}")
    s_escape = radial_escape(obj, theta, loss, loss_tol)
    if s_escape is not None:
        return done(Verdict.NOT_CONVERGED, "minimum at infinity: the loss falls along the ray theta -> (1+s) theta "
                                           f"(s={s_escape:g}) although the gradient is small")
    if not need_second_order:
        # C-crit: a differentiable critical point; minimality is not examined, so it is not called a minimum
        return done(Verdict.CRITICAL, "C-crit only: second order not examined")

    if zero_loss and obj.n_params > ZERO_LOSS_SPECTRUM_LIMIT:
        return global_minimum()  # the spectrum would add nothing and cost O(P) Hessian-vector products

    # second order
    T = obj.symmetry_tangents(theta).cpu().numpy() if obj.symmetry_tangents is not None else np.zeros((obj.n_params, 0))
    sym_dim = int(np.linalg.matrix_rank(T)) if T.shape[1] else 0
    w, V, lmax, method = _spectrum(obj, theta, n_low=sym_dim + 6)
    eps_H = hessian_rel_resolution * max(1.0, lmax) + 1e3 * obj.n_params * EPS * lmax
    lmin = float(w[0])
    null = np.abs(w) <= eps_H
    null_dim = int(null.sum())
    explained = _subspace_explained(V[:, null], T)
    empty.update(lambda_min=lmin, lambda_max=lmax, hessian_method=method, hessian_resolution=eps_H, null_dim=null_dim,
                 symmetry_dim=sym_dim, null_explained=explained)
    empty.update(probe_tol=loss_tol, probe_radii=tuple(probe_radii))

    if lmin < -eps_H:
        v = torch.as_tensor(V[:, 0], device=theta.device)
        drops = [obj.value(theta + s * rho * v) - loss for rho in (1e-4, 1e-3, 1e-2, 1e-1) for s in (1, -1)]
        return done(Verdict.SADDLE,
                    f"negative curvature lambda_min={lmin:.3e} < -{eps_H:.1e}; best descent along it {min(drops):.3e}",
                    witness=tuple(V[:, 0].tolist()), probe_min_change=min(drops))

    if zero_loss:
        return global_minimum(hessian_method=method)

    # probe: random directions, near-null eigenvectors, and their mix
    gen = torch.Generator().manual_seed(probe_seed)
    dirs = [torch.randn(obj.n_params, generator=gen).to(theta.device) for _ in range(probe_directions)]
    low = V[:, : max(null_dim, 1) + 2]
    dirs += [torch.as_tensor(low[:, j], device=theta.device) for j in range(low.shape[1])]
    if null_dim:
        dirs += [torch.as_tensor(V[:, null] @ np.random.default_rng(probe_seed + j).standard_normal(null_dim),
                                 device=theta.device) for j in range(4)]
    worst, confirmed, step = _probe(obj, theta, loss, dirs, probe_radii, loss_tol, descend=True)
    empty.update(probe_min_change=worst)
    if confirmed:
        return done(Verdict.SADDLE, f"higher-order saddle: the probe found descent {worst:.3e} (< -{loss_tol:.1e}) "
                                    "and a descent from there went lower",
                    witness=tuple(step.tolist()))
    strength = "strict-mod-symmetry" if explained else "probe"
    if method.startswith("lanczos"):
        strength += " (probabilistic)"
    return done(Verdict.CERTIFIED_MINIMUM, "" if explained else f"{null_dim} near-null directions, {sym_dim} from symmetries",
                strength=strength)


def _kink_certificate(a: KinkAnalysis, margin: float, done, loss_tol: float) -> Certificate:
    """Translate networks.kinks' analysis into a Certificate (margin stays ~0, so differentiable is False)."""
    fields = dict(lambda_min=a.lambda_min, lambda_max=a.lambda_max, hessian_resolution=a.hessian_resolution,
                  null_dim=a.null_dim, symmetry_dim=a.symmetry_dim, null_explained=a.null_explained,
                  probe_tol=loss_tol,
                  hessian_method=f"{a.method}: dense eigh of the Lagrangian Hessian on each piece's critical subspace")
    where = (f"on a kink (margin {margin:.2e}, k={a.k} kink entries, {a.problems} problems, KKT residual "
             f"{a.kkt_residual if a.kkt_residual is None else f'{a.kkt_residual:.2e}'})")
    if a.outcome == "minimum":
        strength = f"{a.method}, " + ("strict-mod-symmetry" if a.null_explained else "probe")
        return done(Verdict.CERTIFIED_MINIMUM, f"{where}; {a.reason}".rstrip("; "), strength=strength,
                    probe_min_change=a.probe_min_change, **fields)
    if a.outcome == "saddle":
        return done(Verdict.SADDLE, f"{where}: {a.reason}", witness=a.witness, probe_min_change=a.witness_change, **fields)
    if a.outcome == "not stationary":
        return done(Verdict.NOT_CONVERGED, f"{where}: {a.reason}", witness=a.witness, probe_min_change=a.witness_change, **fields)
    return done(Verdict.NON_DIFFERENTIABLE, f"{where}: undecided: {a.reason}", **fields)
