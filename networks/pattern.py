"""Train a piecewise-linear net to a DIFFERENTIABLE critical point: Newton inside the activation pattern.

Why (CLAIMS.md, claim1 Check: "Newton inside the current activation pattern, re-check the pattern, repeat until
consistent"). The squared loss of a relu/leaky_relu/abs net is a polynomial in theta on each activation region, and
non-differentiable on the region boundaries. A trainer run on the real net keeps crossing boundaries: its Hessian
model is wrong across a kink, steps get rejected, and it usually ends ON a kink (NON_DIFFERENTIABLE; measured, and
the handbook's Adam runs end there too). Freezing the pattern removes the kinks: with sigma(z) = sigma'(z) z (PL
activations are positively homogeneous of degree 1), the net equals the GATED net h^(l) = g^(l) * z^(l), g^(l) =
sigma'(z^(l)) held fixed, wherever the pattern is g. The gated loss is smooth, so LM + Newton converge to ~1e-12 on
it; if the end point still has pattern g (and margin > 0, which the certifier checks), the two losses agree on a
neighbourhood, so it is a differentiable critical point of the real net with the same gradient and Hessian. If the
pattern moved, re-gate at the new point and repeat; when it does not settle within `rounds`, train the real net.
"""
from __future__ import annotations

import time

import torch

from networks import activations
from networks.models import MLP
from networks.objective import Objective, squared_loss, vec
from networks.train import TrainResult, minimize

Tensor = torch.Tensor


def pattern(model: MLP, theta, X) -> list[Tensor]:
    """sigma'(z^(l)) per hidden layer (linear units: 1): the activation pattern, locally constant where margin > 0."""
    act = activations.get(model.activation)
    X = torch.as_tensor(X, dtype=torch.float64)
    zs, _ = model.hidden(torch.as_tensor(theta, dtype=torch.float64), X)
    d = torch.func.vmap(torch.func.grad(lambda z: act(z)))
    out = []
    for l, z in enumerate(zs):
        g = d(z.reshape(-1)).reshape(z.shape).detach()
        if model.linear_units[l]:
            g[:, list(model.linear_units[l])] = 1.0
        out.append(g)
    return out


def _check_gateable(model: MLP) -> None:
    if not model.is_piecewise_linear or model.output_activation != "linear":
        raise ValueError(f"a pattern-fixed objective needs a piecewise-linear activation and a linear output, got "
                         f"activation={model.activation!r}, output_activation={model.output_activation!r}")


def gated_objective(model: MLP, X, Y, gains: list[Tensor], skip_input=None) -> Objective:
    """The squared loss 1/2||Yhat - Y||^2 of the net with its activation pattern frozen: h^(l) = gains^(l) * z^(l).

    Equals the net's loss wherever the pattern is `gains` (PL sigma: sigma(z) = sigma'(z) z), so a critical point of
    this polynomial objective with a consistent pattern and margin > 0 is a differentiable critical point of the net.
    `skip_input`: the fixed features S of a trainable skip S @ R (default X, as in squared_loss)."""
    _check_gateable(model)
    X = torch.as_tensor(X, dtype=torch.float64)
    y = vec(torch.as_tensor(Y, dtype=torch.float64))
    S = None if skip_input is None else torch.as_tensor(skip_input, dtype=torch.float64)
    if model.skip_dim:
        S = X if S is None else S
        if S.shape != (X.shape[0], model.skip_dim):
            raise ValueError(f"skip input has shape {tuple(S.shape)}, expected ({X.shape[0]}, {model.skip_dim})")
    if len(gains) != model.depth:
        raise ValueError(f"gains has {len(gains)} layers, the model has {model.depth} hidden layers")

    def outputs(theta):
        Ws, R = model.unflatten(theta)
        h = X
        for W, g in zip(Ws[:-1], gains):
            h = g * (model._with_bias(h) @ W)
        out = model._with_bias(h) @ Ws[-1]
        if model.skip_dim:
            out = out + S @ R
        return vec(out)

    def residual(theta):
        return outputs(theta) - y

    def fun(theta):
        r = residual(theta)
        return 0.5 * (r * r).sum()

    return Objective(fun=fun, n_params=model.n_params, residual=residual, outputs=outputs, name="pattern-fixed net")


def _polish(model: MLP, X, Y, theta, *, rounds: int, rel_grad_tol: float, max_iter: int,
            time_budget: float | None, skip_input=None):
    """Newton/LM inside the current activation pattern, re-check the pattern, repeat until consistent.

    Returns (theta, rounds_used, consistent, iterations). `consistent`: the final point's pattern is the one it was
    polished in. `time_budget` is per round."""
    X = torch.as_tensor(X, dtype=torch.float64)
    iterations = 0
    for k in range(1, rounds + 1):
        gains = pattern(model, theta, X)
        res = minimize(gated_objective(model, X, Y, gains, skip_input), theta, rel_grad_tol=rel_grad_tol,
                       max_iter=max_iter, time_budget=time_budget)
        theta, iterations = res.theta, iterations + res.iterations
        new = pattern(model, theta, X)
        if all(torch.equal(a, b) for a, b in zip(gains, new)):
            return theta, k, True, iterations
    return theta, rounds, False, iterations


def minimize_piecewise(model: MLP, X, Y, theta0, *, skip_input=None, rounds: int = 3, rel_grad_tol: float = 1e-9,
                       polish_rel_grad_tol: float = 1e-11, max_iter: int = 200,
                       time_budget: float | None = None, device=None) -> TrainResult:
    """Minimize the squared loss 1/2||Yhat - Y||^2 of `model` from theta0; PL nets via the pattern polish.

    Piecewise-linear nets: the pattern polish (up to `rounds` rounds, each with half of `time_budget`); when the
    pattern does not settle, networks.minimize on the real net from theta0 (the other half). Smooth nets:
    networks.minimize with the whole budget. The result describes the REAL net's loss and gradient at the end point
    (`converged` is ||grad|| <= rel_grad_tol (1 + L)); `reason` says which path ran, e.g. 'pattern polish: 2
    round(s), consistent=True' or '...consistent=False; trainer: <reason>'. `pattern_rounds`/`pattern_consistent`
    hold the polish's outcome (None for smooth nets). The activation margin is NOT checked here: certify does.
    `device` (e.g. 'cuda') moves the data; the default keeps them where they are (the CPU for numpy input)."""
    obj = squared_loss(model, X, Y, skip_input=skip_input, device=device)
    # the polish works on the objective's device too
    X, Y = (torch.as_tensor(A, dtype=torch.float64).to(obj.device) for A in (X, Y))
    if skip_input is not None:
        skip_input = torch.as_tensor(skip_input, dtype=torch.float64).to(obj.device)
    theta0 = torch.as_tensor(theta0, dtype=torch.float64).to(obj.device)
    if not model.is_piecewise_linear:
        res = minimize(obj, theta0, rel_grad_tol=rel_grad_tol, max_iter=max_iter, time_budget=time_budget)
        res.reason = f"trainer: {res.reason}"
        return res
    _check_gateable(model)
    t0 = time.perf_counter()
    half = None if time_budget is None else time_budget / 2
    theta, k, ok, iterations = _polish(model, X, Y, theta0, rounds=rounds, rel_grad_tol=polish_rel_grad_tol,
                                       max_iter=max_iter, time_budget=half, skip_input=skip_input)
    reason = f"pattern polish: {k} round(s), consistent={ok}"
    if not ok:
        fallback = minimize(obj, theta0, rel_grad_tol=rel_grad_tol, max_iter=max_iter, time_budget=half)
        theta, iterations = fallback.theta, iterations + fallback.iterations
        reason += f"; trainer: {fallback.reason}"
    loss, g = obj.value_and_grad(theta)
    loss, gn = float(loss), float(g.norm())
    tol = rel_grad_tol * (1.0 + abs(loss))
    return TrainResult(theta=theta.detach(), loss=loss, grad_norm=gn, grad_tol=tol, iterations=iterations,
                       seconds=time.perf_counter() - t0, converged=bool(torch.isfinite(torch.tensor(loss)) and gn <= tol),
                       reason=reason, theta_norm_start=float(theta0.norm()), theta_norm_end=float(theta.norm()),
                       method="pattern polish" if ok else "pattern polish, then minimize",
                       pattern_rounds=k, pattern_consistent=ok)
