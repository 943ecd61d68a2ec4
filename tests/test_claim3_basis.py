"""claim3-specific tests (property, pinned, control, sabotage, forced-pass and floor tests are generated per part
in tests/test_common.py): bad input, the instance spaces, and power tests: claim3a's quadratic slack is IN the
tolerance (and exact), an oversized or non-finite slack is unresolved, and the cvxpy-only baseline path refuses a
solver stopped after 2 iterations."""
from __future__ import annotations

import math

import numpy as np
import pytest

from claims import claim3_basis as c3
from claims import structures as S
from minimacheck import tolerance
from minimacheck.draws import draw
from networks import certify, minimize


def test_claim3a_bad_params_raise():
    with pytest.raises(ValueError, match="feature map"):
        c3.ParamsA(phi="wavelet")
    with pytest.raises(ValueError, match="lam"):
        c3.ParamsA(lam=-1.0)
    with pytest.raises(ValueError, match="planted"):
        c3.ParamsA(lam=0.1, target="planted")
    with pytest.raises(ValueError, match="unknown regime"):
        c3.strategy_a("wavelet")


def test_claim3b_bad_params_raise():
    with pytest.raises(ValueError, match="S4 is the vector-output"):
        c3.ParamsB("S2", d_y=2, widths=(2, 2))
    with pytest.raises(ValueError, match="piecewise-linear"):
        c3.ParamsB("S1", activation="tanh")
    with pytest.raises(ValueError, match="path units"):
        c3.ParamsB("S4", d_y=3, widths=(2, 3))


def test_claim3c_bad_params_raise():
    with pytest.raises(ValueError, match="bounded or PL"):
        c3.ParamsC(activation="linear")
    with pytest.raises(ValueError, match="target"):
        c3.ParamsC(target="planted")


def test_claim3b_strategy_reaches_s4_depth_and_width():
    """3b's instance space includes vector output (S4), depth >= 2 and widths up to 8."""
    ps = draw(c3.strategy_b(), 80, seed_value=1)
    assert any(p.structure == "S4" and p.d_y > 1 for p in ps)
    assert max(len(p.widths) for p in ps) >= 2 and max(max(p.widths) for p in ps) == 8
    assert {p.target for p in ps} == set(c3.TARGETS)


def _early(iters: int, factor: float):
    inst = c3.build_a(c3.TIGHT_A, max_iter=0)
    obj = c3.objective_a(inst)
    res = minimize(obj, inst.theta, max_iter=iters)
    loose = certify(obj, res.theta, need_second_order=False)
    cert = certify(obj, res.theta, need_second_order=False, rel_grad_tol=factor * loose.grad_norm_rel)
    assert cert.critical, cert.summary()
    return inst, obj, res.theta


def test_claim3a_quadratic_slack_is_exact_and_in_the_tolerance():
    """The tight instance stopped early: 1/2 g^T Q^+ g equals L - L_Phi (q is quadratic), thousands of tau_fp."""
    inst, obj, theta = _early(2, 2.0)
    slack, _ = c3.quadratic_slack(inst, obj, theta)
    L_phi = float(c3.phi_baseline(inst.Phi, inst.Y, 0.0).value)
    gap = float(obj.value(theta)) - L_phi
    assert gap > 100 * tolerance.tau_fp(L_phi), f"instance drifted: gap {gap:.3g}"
    assert abs(slack - gap) <= 1e-6 * gap + tolerance.tau_fp(L_phi)


def test_claim3_unresolved_policy():
    """A slack of the size of the compared values, or an infinite one, can decide nothing: unresolved."""
    extra: dict = {}
    passed, _, _, why = c3._verdict(1.0, 0.9, 0.5, 0.0, extra, certified=True)
    assert passed is None and why.startswith("unresolved:") and extra["slack_over_scale"] > S.SLACK_SCALE_BOUND
    passed, _, _, why = c3._verdict(1.0, 0.9, math.inf, 0.0, {}, certified=True)
    assert passed is None and why.startswith("unresolved: non-finite")
    passed, _, _, why = c3._verdict(1.0, 0.9, 1e-12, 0.0, {}, certified=True)
    assert passed is False and why is None  # a small slack decides: here L > L_base + tol


@pytest.mark.cvxpy
def test_claim3_cvxpy_stopped_after_two_iterations_is_refused():
    """The baselines' cvxpy path with max_iters=2 must raise (status not OPTIMAL), never return a value."""
    from baselines.certificate import BaselineError
    from baselines.least_squares import least_squares

    inst = c3.build_a(c3.TIGHT_A, max_iter=0)
    with pytest.raises(BaselineError):
        least_squares(inst.Phi, inst.Y, 0.0, solver_opts={"max_iters": 2})


def test_claim3a_planted_baseline_value():
    """Y = Phi R* + E, Phi^T E = 0: the baseline returns 1/2||E||^2 within tau_fp."""
    inst = c3.build_a(c3.PINNED_A["planted-optimum"], max_iter=0)
    assert np.allclose(inst.Phi.T @ (inst.Y - inst.Phi @ np.linalg.lstsq(inst.Phi, inst.Y, rcond=None)[0]), 0, atol=1e-9)
    b = c3.phi_baseline(inst.Phi, inst.Y, 0.0)
    assert abs(float(b.value) - inst.planted_value) <= tolerance.tau_fp(inst.planted_value)
