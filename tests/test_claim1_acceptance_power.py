"""Power test for claim1's acceptance threshold. A tanh OUTPUT layer makes claim1a false; scaling the output weights
by c makes the violation small (~c^3: gap/tol = 1.1e9, 1.1e4, 10, 0.27 at c = 1, 0.1, 0.01, 0.003, measured), so at
c = 0.03 it is a certified critical point with a violation of a few hundred tolerances: check_instance must report
certified and NOT passed. No positive test can see a loosened threshold (e.g. `passed = h <= 1e6`); this one does."""
from __future__ import annotations

import numpy as np

from claims import claim1_exact_loss as c1


def _mild_tanh_output_violation(c: float = 0.03) -> c1.Instance:
    p = c1.Params(m=30, d_x=3, d_y=2, widths=(4, 3), activation="softplus", seed=7, regime="planted",
                  output_activation="tanh")
    inst = c1.build(p)
    Ws, R = inst.model.unflatten(inst.theta)
    Ws = [W.clone() for W in Ws]
    Ws[-1] = Ws[-1] * c
    theta = inst.model.flatten(Ws, R)
    Y = c1.plant(inst.model, inst.X, theta, np.random.default_rng(99))  # grad L = 0 exactly at theta
    return c1.Instance(p, inst.model, inst.X, Y, theta, note=f"tanh output, output weights x{c}")


def test_claim1_check_fails_a_mild_certified_violation():
    rec = c1.check_instance(_mild_tanh_output_violation())
    assert rec.certified, rec.reason
    assert 1.0 < rec.gap < 1e5, f"instance drifted: gap/tol = {rec.gap:.3g} (expected a mild violation)"
    assert rec.passed is False, f"a certified claim1a violation of {rec.gap:.3g} tolerances was passed"


def test_claim1_passed_is_exactly_headroom_at_most_one():
    """passed <=> gap/tol <= 1 on a passing positive instance and on the mild violation."""
    for inst in (c1.build(c1.Params(m=40, d_x=3, d_y=2, widths=(5, 4), activation="leaky_relu", seed=1)),
                 _mild_tanh_output_violation()):
        rec = c1.check_instance(inst)
        assert rec.certified and rec.tol == 1.0, rec.reason
        assert rec.passed == (rec.gap <= 1.0), (rec.gap, rec.passed)
