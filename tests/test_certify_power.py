"""Power tests for networks/certify.py found by mutation testing:
- the gradient tolerance is exactly rel_grad_tol (1 + |L|): a gradient 10x above it is NOT_CONVERGED, 10x below it
  certifies (kills a gradient test loosened by 1e3, which no planted point in test_certify.py could see: they sit
  at exact critical points or far from them);
- C-crit (need_second_order=False) must refuse a minimum at infinity: there the radial check is the ONLY guard (the
  second-order path also has the probe, which masks a missing radial check in the existing test)."""
from __future__ import annotations

import numpy as np
import torch

from networks import Objective, Verdict, certify, minimize


def _shifted_quadratic():
    # L = 1/2 ||x||^2 + 1: minimum at 0 with L = 1 (not a zero-loss point), grad = x, so ||grad|| = ||x||
    return Objective(lambda x: 0.5 * (x * x).sum() + 1.0, 3, name="shifted quadratic")


def test_gradient_tolerance_is_rel_grad_tol_times_one_plus_loss():
    obj = _shifted_quadratic()
    tol = 1e-9 * (1 + 1.0)  # rel_grad_tol (1 + |L|) with L = 1 to 1e-16
    e = torch.tensor([1.0, 0.0, 0.0])
    above = certify(obj, 10 * tol * e)
    assert above.verdict is Verdict.NOT_CONVERGED and not above.critical, above.summary()
    assert abs(above.grad_tol - tol) <= 1e-15
    below = certify(obj, 0.1 * tol * e)
    assert below.certified, below.summary()
    c_crit = certify(obj, 10 * tol * e, need_second_order=False)
    assert c_crit.verdict is Verdict.NOT_CONVERGED, c_crit.summary()


def _separable_logistic_end_point():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((20, 2))
    y = np.sign(Z @ np.array([1.0, -1.0]))
    Zt, yt = torch.as_tensor(Z), torch.as_tensor(y)
    obj = Objective(lambda w: torch.nn.functional.softplus(-yt * (Zt @ w)).sum(), 2, name="separable logistic")
    return obj, minimize(obj, torch.zeros(2)).theta


def test_c_crit_refuses_a_minimum_at_infinity():
    obj, theta = _separable_logistic_end_point()
    cert = certify(obj, theta, need_second_order=False)
    assert cert.grad_norm <= cert.grad_tol  # the gradient test alone would call it critical ...
    assert cert.verdict is Verdict.NOT_CONVERGED and not cert.critical, cert.summary()  # ... the ray check must not
    assert "infinity" in cert.reason
