"""Tests of the multi-start entry point (networks/multistart.py).

- A planted minimum at infinity (separable logistic loss) is stopped at the first escape check (10 iterations)
  with a recorded direction and a loss that falls along the ray; it is never certified.
- Reproducible: the same seed gives the same starts and certificates, also under a float32 default dtype;
  theta0 is start 0; `best` is the lowest-loss certified start; bad input raises ValueError.
- plateau_check withdraws a probe certificate on a plateau that falls towards infinity and keeps one at a genuine
  degenerate minimum; minimize's monitor stops one run; until_certified stops after the first certified start.
- The softplus smoothing of PL activations stays within its bound; the smoothing homotopy takes an over-parameterized
  deep leaky net to a certified zero loss where LM on the real net stalls; PL starts train pl_train_iter iterations
  on the real net.
- with_ridge adds lam/2 ||theta||^2 to value, residual, Jacobian and Hessian (against autodiff); the ridge homotopy
  certifies a bench start that plain training runs to a minimum at infinity, and the certified point passes an
  independent dense float64 check.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from networks import (
    MLP,
    Objective,
    Verdict,
    certify,
    find_minimum,
    find_minimum_mlp,
    minimize,
    mlp_init,
    squared_loss,
    train_with_escape_check,
)

X_SEP = torch.tensor([[1.0, 0.2], [2.0, -0.5], [-1.0, 0.3], [-1.5, -0.1]], dtype=torch.float64)
Y_SEP = torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=torch.float64)


def separable_logistic() -> Objective:
    """sum log(1 + exp(-y x.theta)) on separable data: the infimum 0 is approached only as ||theta|| -> inf."""
    return Objective(lambda th: torch.nn.functional.softplus(-Y_SEP * (X_SEP @ th)).sum(), 2, name="separable logistic")


def small_problem(seed=0):
    rng = np.random.default_rng(seed)
    return MLP(2, (2,), 1, "leaky_relu"), rng.standard_normal((12, 2)), rng.standard_normal((12, 1))


def test_planted_escape_is_stopped_at_the_first_check():
    obj = separable_logistic()
    res, esc = train_with_escape_check(obj, torch.tensor([0.1, 0.0], dtype=torch.float64), max_iter=400, escape_check=10)
    assert esc is not None and esc.iteration <= 10 and res.iterations == esc.iteration, res.reason
    assert not res.converged and "minimum at infinity" in res.reason
    losses = [l for _, l in esc.ray]
    assert all(b < a for a, b in zip(losses, losses[1:])), esc.ray  # the loss keeps falling along the ray
    assert abs(np.linalg.norm(esc.direction) - 1) < 1e-12


def test_find_minimum_records_the_escape_and_certifies_nothing():
    obj = separable_logistic()
    out = find_minimum(obj, lambda rng: 0.1 * rng.standard_normal(2), starts=2, seed=0, max_iter=400)
    assert len(out.escapes) == 2 and out.best is None and out.n_certified == 0
    assert all(s.train.iterations <= 10 for s in out.starts)


def test_same_seed_same_certificates_and_float32_default_does_not_change_starts():
    model, X, Y = small_problem()
    a = find_minimum_mlp(model, X, Y, starts=2, seed=5, max_iter=100)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        b = find_minimum_mlp(model, X, Y, starts=2, seed=5, max_iter=100)
    finally:
        torch.set_default_dtype(old)
    for ra, rb in zip(a.starts, b.starts):
        assert ra.theta0.dtype == rb.theta0.dtype == torch.float64 and torch.equal(ra.theta0, rb.theta0)
        assert ra.certificate.verdict is rb.certificate.verdict and ra.certificate.strength == rb.certificate.strength
        assert ra.certificate.loss == rb.certificate.loss
    if a.best is not None:
        assert a.best.certificate.loss == min(s.certificate.loss for s in a.starts if s.certificate.certified)


def test_theta0_is_the_first_start_and_others_come_from_init():
    model, X, Y = small_problem()
    th0 = torch.as_tensor(mlp_init(model)(np.random.default_rng(123)))
    out = find_minimum(squared_loss(model, X, Y), mlp_init(model), starts=2, seed=0, theta0=th0, max_iter=50,
                       allow_kinks=False)
    assert torch.equal(out.starts[0].theta0, th0)
    assert torch.equal(out.starts[1].theta0, torch.as_tensor(mlp_init(model)(np.random.default_rng([0, 1]))))


def test_bad_input_raises_value_error():
    model, X, Y = small_problem()
    obj = squared_loss(model, X, Y)
    with pytest.raises(ValueError, match="starts must be >= 1"):
        find_minimum(obj, starts=0)
    with pytest.raises(ValueError, match="needs init"):
        find_minimum(separable_logistic())
    with pytest.raises(ValueError, match="expected"):
        find_minimum(obj, lambda rng: np.zeros(3), starts=1)
    with pytest.raises(ValueError, match="escape_check"):
        train_with_escape_check(separable_logistic(), torch.zeros(2, dtype=torch.float64), escape_check=0)
    with pytest.raises(ValueError, match="pl_train_iter"):
        find_minimum(obj, starts=1, pl_train_iter=-1)
    with pytest.raises(ValueError, match="ridge"):
        find_minimum(obj, starts=1, ridge=(1e-2, -1.0))


# ---------------------------------------------------------------- plateaus, the monitor, until_certified
def plateau() -> Objective:
    """1 + exp(-t) + u^2: the infimum 1 is approached only as t -> inf; at t = 25 the gradient (1.4e-11) is below
    the certifier's tolerance and the t-direction is near-null, so certify says CERTIFIED_MINIMUM [probe]."""
    return Objective(lambda th: 1 + torch.exp(-th[0]) + th[1] ** 2, 2, nonnegative=False, name="plateau")


def flat_minimum() -> Objective:
    """1 + t^4 + u^2: a genuine, degenerate minimum at 0 (near-null t-direction at t = 1e-5: probe strength too)."""
    return Objective(lambda th: 1 + th[0] ** 4 + th[1] ** 2, 2, nonnegative=False, name="flat minimum")


def test_plateau_check_withdraws_a_probe_certificate_on_the_way_to_infinity():
    from networks.multistart import plateau_check

    obj, theta = plateau(), torch.tensor([25.0, 0.0], dtype=torch.float64)
    cert = certify(obj, theta)
    assert cert.certified and cert.strength == "probe", cert.summary()  # the weak certificate the check exists for
    new, esc = plateau_check(obj, theta, cert)
    assert not new.certified and new.verdict is Verdict.NOT_CONVERGED and "minimum at infinity" in new.reason
    assert esc is not None and esc.theta_norm > 25.0 and esc.ray[1][1] < esc.ray[0][1]


def test_plateau_check_keeps_a_genuine_degenerate_minimum():
    from networks.multistart import plateau_check

    obj, theta = flat_minimum(), torch.tensor([1e-5, 0.0], dtype=torch.float64)
    cert = certify(obj, theta)
    assert cert.certified and cert.strength == "probe", cert.summary()
    new, esc = plateau_check(obj, theta, cert)
    assert new is cert and esc is None


def test_monitor_stops_the_run_without_restarting_it():
    obj = separable_logistic()
    seen = []

    def monitor(theta, done):
        seen.append(done)
        return done >= 7

    res = minimize(obj, torch.tensor([0.1, 0.0], dtype=torch.float64), max_iter=400, monitor=monitor)
    assert res.iterations == 7 and res.reason == "stopped by the monitor" and not res.converged
    assert seen == list(range(1, 8))  # called before every iteration after the first, once each


def test_until_certified_stops_after_the_first_certified_start():
    model, X, Y = small_problem()
    full = find_minimum_mlp(model, X, Y, starts=4, seed=0, max_iter=100)
    first = next(i for i, s in enumerate(full.starts) if s.certificate.certified)
    res = find_minimum_mlp(model, X, Y, starts=4, seed=0, max_iter=100, until_certified=1)
    assert len(res.starts) == first + 1 and res.n_certified == 1
    assert res.best.certificate.loss == full.starts[first].certificate.loss


# ---------------------------------------------------------------- the smoothing homotopy of PL nets
@pytest.mark.parametrize("name", ["leaky_relu", "relu", "abs", "leaky_relu:0.5"])
def test_smoothed_activation_is_within_its_bound_of_the_kinked_one(name):
    from networks import activations

    base = activations.get(name)
    z = torch.linspace(-3, 3, 601, dtype=torch.float64)
    s_plus, s_minus = float(base(torch.ones(1))), -float(base(-torch.ones(1)))
    for tau in (0.3, 0.01):
        sm = activations.get(f"smoothed:{tau:g}:{name}")
        gap = (sm(z) - base(z)).abs().max()
        assert not sm.piecewise_linear and float(gap) <= (s_plus - s_minus) * tau * math.log(2) + 1e-15
    with pytest.raises(ValueError, match="not piecewise linear"):
        activations.get("smoothed:0.1:tanh")
    with pytest.raises(ValueError, match="smoothed"):
        activations.get("smoothed:x:relu")


def test_smoothing_homotopy_takes_an_overparameterized_deep_leaky_net_to_a_certified_zero_loss():
    """LM on the real net stalls at a kink (measured L ~ 0.03 on this instance); through the smoothings the same start
    reaches zero loss, certified as a global minimum."""
    from networks.multistart import smoothing_homotopy

    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((30, 4)), rng.standard_normal((30, 1))
    model = MLP(4, (8, 8), 1, "leaky_relu")
    obj = squared_loss(model, X, Y)
    th0 = torch.as_tensor(mlp_init(model)(np.random.default_rng([0, 0])))
    plain = minimize(obj, th0, max_iter=200)
    theta = smoothing_homotopy(obj, th0)
    res = minimize(obj, theta, max_iter=200)
    cert = certify(obj, res.theta, accept_kink_zero_loss=True)
    assert cert.certified and cert.strength == "zero-loss" and res.loss < 1e-12, cert.summary()
    assert plain.loss > 1e3 * max(res.loss, 1e-20), plain.loss  # what the homotopy is for


def test_pl_starts_train_pl_train_iter_iterations_on_the_real_net():
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((40, 3)), rng.standard_normal((40, 1))
    obj = squared_loss(MLP(3, (4,), 1, "leaky_relu"), X, Y)
    for cap in (0, 7):
        res = find_minimum(obj, starts=1, seed=0, pl_train_iter=cap, kink_rounds=1)
        assert res.starts[0].train.iterations <= cap, res.starts[0].train.reason


def test_with_ridge_adds_the_penalty_everywhere_against_autodiff():
    from networks.objective import with_ridge

    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((12, 3)), rng.standard_normal((12, 2))
    obj = squared_loss(MLP(3, (4,), 2, "tanh"), X, Y)
    th = torch.as_tensor(rng.standard_normal(obj.n_params))
    lam = 0.37
    ridge = with_ridge(obj, lam)
    assert ridge.value(th) == pytest.approx(obj.value(th) + 0.5 * lam * float(th @ th), rel=1e-14)
    r = ridge.residual(th)
    assert 0.5 * float(r @ r) == pytest.approx(ridge.value(th), rel=1e-14)
    torch.testing.assert_close(ridge.jacobian(th), torch.func.jacrev(ridge.residual)(th), rtol=1e-12, atol=1e-12)
    dense = torch.autograd.functional.hessian(lambda t: obj.fun(t) + 0.5 * lam * (t * t).sum(), th)
    torch.testing.assert_close(ridge.hessian(th), dense, rtol=1e-10, atol=1e-10)
    for bad in (-1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="ridge weight"):
            with_ridge(obj, bad)


def test_ridge_homotopy_certifies_a_start_that_plain_training_runs_to_infinity():
    """The bench's deep2-tanh-teacher instance, seed 2, start 1 (measured: without the homotopy ||theta|| grows
    3.1 -> 198 in 400 iterations, 'diverging'; through it the start certifies after 41 iterations)."""
    from minimacheck.bench import DEFAULT_GROUPS, build_instance

    inst = build_instance(next(g for g in DEFAULT_GROUPS if g.name == "deep2-tanh-teacher"), 2)
    th0 = inst.starts[1]
    plain = find_minimum(inst.obj, starts=1, theta0=th0, max_iter=100, ridge=(), init=lambda rng: th0.numpy())
    ridge = find_minimum(inst.obj, starts=1, theta0=th0, max_iter=100, init=lambda rng: th0.numpy())
    assert not plain.starts[0].certificate.certified, plain.starts[0].train.reason
    assert plain.starts[0].train.theta_norm_end > 5 * float(th0.norm())  # on its way out
    assert ridge.best is not None, ridge.starts[0].certificate.summary()
    assert "ridge homotopy" in ridge.best.train.reason
    # independent check: the loss through plain autograd (not the analytic Hessian certify used), dense float64
    theta = ridge.best.train.theta.clone()
    g = torch.autograd.functional.jacobian(inst.obj.fun, theta)
    H = torch.autograd.functional.hessian(inst.obj.fun, theta)
    loss = float(inst.obj.fun(theta))
    assert float(g.norm()) <= 1e-9 * (1 + loss)
    w = torch.linalg.eigvalsh(0.5 * (H + H.T))
    assert float(w[0]) >= -1e-8 * float(w.abs().max()), (float(w[0]), float(w[-1]))
