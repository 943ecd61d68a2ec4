"""Tests of the multi-start entry point (networks/multistart.py).

- A planted minimum at infinity (separable logistic loss) is stopped at the first escape check (10 iterations)
  with a recorded direction and a loss that falls along the ray; it is never certified.
- Reproducible: the same seed gives the same starts and certificates, also under a float32 default dtype;
  theta0 is start 0; `best` is the lowest-loss certified start; bad input raises ValueError.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from networks import MLP, Objective, find_minimum, find_minimum_mlp, mlp_init, squared_loss, train_with_escape_check

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
