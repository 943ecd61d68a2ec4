"""Objectives: a scalar loss of the flat parameter vector, plus what the trainer and certifier need about it.

`residual` is given for squared losses (L = 1/2 ||residual||^2 exactly, regularizers as extra rows), so the trainer
can run Levenberg-Marquardt and the certifier can compute the output Jacobian.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from networks.models import MLP, QuadraticNet, check_data

Tensor = torch.Tensor


@dataclass(frozen=True)
class PiecewiseData:
    """What the kink certificate (networks.kinks) needs to rebuild the loss on each activation piece: the model and
    the data of a squared loss L = 1/2 ||Yhat - Y||^2 without regularizers (the gated objective has none)."""

    model: MLP
    X: Tensor
    Y: Tensor
    skip_input: Tensor | None = None


@dataclass
class Objective:
    fun: Callable[[Tensor], Tensor]
    n_params: int
    residual: Callable[[Tensor], Tensor] | None = None
    outputs: Callable[[Tensor], Tensor] | None = None  # vec(Yhat), columns stacked (CLAIMS.md section 0)
    residual_jacobian: Callable[[Tensor], Tensor] | None = None  # analytic d residual / d theta, if known
    kink_preactivations: Callable[[Tensor], Tensor | None] | None = None
    symmetry_tangents: Callable[[Tensor], Tensor] | None = None
    nonnegative: bool = True  # L >= 0 everywhere, so L ~ 0 is a global minimum
    device: torch.device | str = "cpu"  # where the data live; minimize and certify move theta here
    name: str = "objective"
    piecewise: PiecewiseData | None = None  # PL squared losses: lets certify(allow_kinks=True) examine kinks
    hessian_fn: Callable[[Tensor], Tensor | None] | None = None  # analytic Hessian (None from it: use autodiff)

    def value(self, theta: Tensor) -> float:
        return float(self.fun(theta))

    def grad(self, theta: Tensor) -> Tensor:
        return torch.func.grad(self.fun)(theta)

    def value_and_grad(self, theta: Tensor) -> tuple[Tensor, Tensor]:
        g, v = torch.func.grad_and_value(self.fun)(theta)
        return v, g

    def hessian(self, theta: Tensor) -> Tensor:
        """Dense Hessian (symmetrized). Analytic when the objective provides one (squared loss of a one-hidden-layer
        MLP: J^T J + sum_i r_i Hess f_i, ~10-50x faster), else reverse-over-reverse autodiff in chunks of
        HESSIAN_CHUNK rows (2-10x faster than torch.func.hessian's unchunked forward-over-reverse at P ~ 300-900:
        the unchunked vmap's P x m x width intermediates fall out of cache)."""
        H = self.hessian_fn(theta) if self.hessian_fn is not None else None
        if H is None:
            H = autodiff_hessian(self.fun, theta)
        return 0.5 * (H + H.T)

    def jacobian(self, theta: Tensor) -> Tensor:
        """Jacobian of the residual (analytic when the model provides one)."""
        if self.residual_jacobian is not None:
            return self.residual_jacobian(theta)
        return jacobian(self.residual, theta)

    def hvp(self, theta: Tensor, v: Tensor) -> Tensor:
        return torch.func.jvp(torch.func.grad(self.fun), (theta,), (v,))[1]


HESSIAN_CHUNK = 64


def autodiff_hessian(fun: Callable[[Tensor], Tensor], theta: Tensor) -> Tensor:
    """Hessian by reverse-over-reverse autodiff (jacrev of grad), HESSIAN_CHUNK rows at a time for large P.

    torch.func.hessian is forward-over-reverse; this torch's forward mode runs many ops through Python
    decompositions, so at small P (~30, the kink polish) it is ~3x slower, and unchunked at P ~ 300-900 its
    intermediates fall out of cache (2-10x slower). torch.func.hessian remains the fallback for ops without a
    reverse-over-reverse batching rule."""
    try:
        return torch.func.jacrev(torch.func.grad(fun), chunk_size=HESSIAN_CHUNK if theta.numel() > HESSIAN_CHUNK else None)(theta)
    except (RuntimeError, NotImplementedError):
        return torch.func.hessian(fun)(theta)


def vec(Y: Tensor) -> Tensor:
    """vec(Y): stack the columns (CLAIMS.md section 0)."""
    return Y.mT.reshape(-1)


def _jac(f, theta, n_out):
    # reverse mode costs one backward pass per output, forward mode one forward pass per parameter; this torch's
    # forward mode runs through Python decompositions (measured 2.8x slower than jacrev at m = 40 > P = 31), so
    # reverse mode is used up to 4 outputs per parameter
    return torch.func.jacrev(f)(theta) if n_out <= 4 * theta.numel() else torch.func.jacfwd(f)(theta)


def jacobian(f: Callable[[Tensor], Tensor], theta: Tensor) -> Tensor:
    n_out = f(theta).numel()
    return _jac(f, theta, n_out)


def squared_loss(model: MLP | QuadraticNet, X, Y, *, skip_input=None, l2: dict | None = None, device=None) -> Objective:
    """L = 1/2 ||Yhat - Y||_F^2 (+ 1/2 sum_i lam_i theta_i^2 for `l2` = {param index tensor: lam}).

    No 1/m factor (CLAIMS.md: claims 1-6)."""
    X, Y = check_data(X, Y)
    device = torch.device(device) if device is not None else X.device
    X, Y = X.to(device), Y.to(device)
    if X.shape[1] != model.d_in:
        raise ValueError(f"X has {X.shape[1]} features, the model expects d_in={model.d_in}")
    if Y.shape[1] != model.d_out:
        raise ValueError(f"Y has {Y.shape[1]} columns, the model has d_out={model.d_out}")
    S = None
    skip_dim = getattr(model, "skip_dim", 0)
    if skip_input is not None:
        if not skip_dim:
            raise ValueError("skip_input given, but the model has no skip connection (skip_dim=0)")
        S = torch.as_tensor(skip_input, dtype=torch.float64).to(device)
        if S.ndim != 2 or S.shape[0] != X.shape[0]:
            raise ValueError(f"skip_input must have one row per sample ({X.shape[0]} rows), got shape {tuple(S.shape)}")
        if S.shape[1] != skip_dim:
            raise ValueError(f"skip_input has {S.shape[1]} columns, the model's skip_dim is {skip_dim}")
        if not torch.isfinite(S).all():
            raise ValueError("skip_input contains NaN or inf")
    elif skip_dim and skip_dim != X.shape[1]:
        raise ValueError(f"the model's skip_dim={skip_dim} differs from d_in={X.shape[1]}: pass skip_input")
    y = vec(Y)
    reg_idx, reg_sqrt = None, None
    if l2:
        idx = [torch.as_tensor(i, dtype=torch.long).reshape(-1) for i in l2]
        for i, lam in zip(idx, l2.values()):
            if i.numel() and (int(i.min()) < 0 or int(i.max()) >= model.n_params):
                raise ValueError(f"l2 index out of range [0, {model.n_params})")
            if not (float(lam) >= 0):
                raise ValueError(f"l2 weight must be >= 0, got {lam}")
        reg_idx = torch.cat(idx).to(device)
        reg_sqrt = torch.cat([torch.full((i.numel(),), float(lam) ** 0.5) for i, lam in zip(idx, l2.values())]).to(device)

    def outputs(theta):
        return vec(model.forward(theta, X, S))

    def residual(theta):
        r = outputs(theta) - y
        if reg_idx is not None:
            r = torch.cat([r, reg_sqrt * theta[reg_idx]])
        return r

    def residual_jacobian(theta):
        J = model.output_jacobian(theta, X, S)
        if reg_idx is not None:
            J = torch.cat([J, torch.diag(reg_sqrt).new_zeros(reg_sqrt.numel(), J.shape[1]).index_put(
                (torch.arange(reg_sqrt.numel(), device=device), reg_idx), reg_sqrt)])
        return J

    def fun(theta):
        r = residual(theta)
        return 0.5 * (r * r).sum()

    n_out = X.shape[0] * model.d_out
    curvature = getattr(model, "output_curvature", None)

    def hessian_fn(theta):
        # H = J^T J + sum_i r_i Hess(yhat_i): regularizer rows are linear in theta (their curvature is 0)
        r = residual(theta)
        C = r[:n_out].reshape(model.d_out, X.shape[0]).mT  # unvec (columns stacked)
        S2 = curvature(theta, X, C, S)
        if S2 is None:
            return None
        J = residual_jacobian(theta)
        return J.T @ J + S2

    kinks = (lambda theta: model.kink_preactivations(theta, X)) if model.is_piecewise_linear else None
    gateable = model.is_piecewise_linear and getattr(model, "output_activation", "linear") == "linear" and not l2
    piecewise = PiecewiseData(model, X, Y, S) if gateable else None
    return Objective(
        fun=fun,
        n_params=model.n_params,
        residual=residual,
        residual_jacobian=residual_jacobian,
        outputs=outputs,
        kink_preactivations=kinks,
        symmetry_tangents=None if l2 else model.symmetry_tangents,
        device=device,
        name=f"squared loss, {model!r}",
        piecewise=piecewise,
        hessian_fn=hessian_fn if curvature is not None else None,
    )


def with_ridge(obj: Objective, lam: float) -> Objective:
    """obj + lam/2 ||theta||^2, for training only (networks.multistart.ridge_homotopy): residual rows sqrt(lam) theta
    when obj has a residual (so Levenberg-Marquardt still applies), Hessian + lam I. No kinks, symmetries or gating:
    the ridge breaks the rescaling symmetries, and nothing is ever certified against this objective."""
    if not (lam >= 0 and lam < float("inf")):
        raise ValueError(f"ridge weight must be finite and >= 0, got {lam}")
    s = lam**0.5

    def fun(theta):
        return obj.fun(theta) + 0.5 * lam * (theta * theta).sum()

    def residual(theta):
        return torch.cat([obj.residual(theta), s * theta])

    def residual_jacobian(theta):
        J = obj.jacobian(theta)
        return torch.cat([J, s * torch.eye(J.shape[1], dtype=J.dtype, device=J.device)])

    def hessian_fn(theta):
        H = obj.hessian(theta)
        return H + lam * torch.eye(H.shape[0], dtype=H.dtype, device=H.device)

    has_res = obj.residual is not None
    return Objective(fun=fun, n_params=obj.n_params, residual=residual if has_res else None,
                     residual_jacobian=residual_jacobian if has_res else None, nonnegative=obj.nonnegative,
                     device=obj.device, name=f"{obj.name} + {lam:g}/2 ||theta||^2", hessian_fn=hessian_fn)
