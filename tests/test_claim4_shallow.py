"""claim4 (one hidden layer, second-order strengthening): claim-specific tests. The property test, pinned cases,
controls, sabotages, forced pass and per-regime floors are generated for every claim in tests/test_common.py; the
check itself lives in claims/claim4_shallow.py.

Power tests kept here:
- assertion 1 uses tau_j, not tau_fp alone: grad_{w_j} L = v_j g_j EXACTLY at any theta, so with v_j != 0 the first
  form of tau_j equals ||g_j||; with eps_H so large that the Hessian form is vacuous the unit-gradient headroom is
  <= 1 even at a non-critical point (kills `a1 = max(g / tau_fp)`, invisible at certified points);
- the second form of tau_j carries eps_H as the handbook derives it (pinned on a unit with v_j = 0);
- a planted SADDLE must be refused (recorded uncertified), not checked: claim4 is about local minima only.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from claims import claim4_shallow as c4
from networks import Verdict, certify


def _init_instance(seed: int = 3, zero_units=(0,)):
    p = c4.Params(m=20, d_x=3, d_1=3, activation="tanh", seed=seed, zero_units=zero_units, target="random")
    rng = np.random.default_rng(seed)
    model = c4.make_model(p.d_x, p.d_1, p.activation)
    X = c4._data(p, rng)
    y = rng.standard_normal((p.m, 1))
    theta = model.init(seed + 1)
    for j in zero_units:
        theta[c4.v_index(model, j)] = 0.0
    return c4.Instance(p, model, X, y, theta, note="init")


def test_claim4_zero_output_weight_units_are_exercised():
    """The strengthening's point: a certified local minimum with v_j = 0 exactly, where only tau_j's second-order
    branch bounds ||g_j||."""
    rec = c4.check(c4.PINNED["planted-zero-units"])
    assert rec.certified and rec.passed and rec.extra["min_abs_v"] == 0.0
    zero = [u for u in rec.extra["units"] if u["v"] == 0.0]
    assert len(zero) == 4 and all(np.isinf(u["first"]) and u["tau"] == u["second"] for u in zero)


def test_claim4_unit_gradient_bound_holds_off_critical_points():
    inst = _init_instance(zero_units=())
    q = c4.quantities(inst, eps_H=1e8)  # the second form of tau_j is then >= 1e8: tau_j = grad_w / |v_j| = ||g_j||
    assert all(u["tau"] == u["first"] for u in q["units"])
    assert max(q["g"]) > 1e3 * c4.tolerance.tau_fp(q["L"])  # far from critical
    assert c4.assertions(q)["unit-gradients"] <= 1.0


def test_claim4_second_form_of_tau_j_includes_eps_H():
    inst = _init_instance(zero_units=(0,))
    for eps_H in (0.0, 0.5):
        u = c4.quantities(inst, eps_H=eps_H)["units"][0]
        assert u["v"] == 0.0 and u["first"] == math.inf
        assert math.isclose(u["tau"], math.sqrt(max(u["p"] + eps_H, 0.0) * (u["s"] + eps_H)), rel_tol=1e-12)


def test_claim4_planted_saddle_is_refused_not_checked():
    rec = c4.check_at(c4.planted_saddle())
    assert not rec.certified and rec.passed is None, rec.reason
    assert "not a minimum" in rec.reason


def test_claim4_verdict_is_headroom_at_most_one(monkeypatch):
    """claim4 is a theorem, so no certified instance violates it; check_at's verdict must still be exactly
    `max headroom <= 1`. A mild violation (headroom 5) injected into assertions() must fail."""
    inst = c4.build(c4.PINNED["planted-abs"])
    honest = c4.check_at(inst)
    assert honest.certified and honest.passed, honest.reason
    real = c4.assertions
    monkeypatch.setattr(c4, "assertions", lambda q: {**real(q), "bracket": 5.0})
    rec = c4.check_at(inst)
    assert rec.certified and rec.gap == 5.0 and rec.passed is False, rec.reason


@pytest.mark.counterexample
@pytest.mark.parametrize("act,seed", [("leaky_relu", 0), ("abs", 3), ("tanh", 1), ("softplus", 2)])
def test_claim4_planted_saddle_is_exactly_critical_with_negative_curvature(act, seed):
    inst = c4.planted_saddle(activation=act, seed=seed)
    cert = certify(inst.obj, inst.theta)
    assert cert.grad_norm <= 1e-12 * (1 + cert.loss), "the planted point must be exactly critical"
    assert cert.verdict is Verdict.SADDLE and cert.lambda_min < 0
    rec = c4.control_planted_saddle(c4.CLAIM.parts[0], act, seed)
    assert rec.detected, rec.reason


def test_claim4_saddle_control_requires_a_saddle_verdict(monkeypatch):
    """Specificity: moved off the planted saddle (y perturbed, so NOT_CONVERGED), the control must not report a
    detection: its premise is that the certifier classifies the critical point as a SADDLE."""
    real = c4.planted_saddle

    def off_critical(**kw):
        inst = real(**kw)
        inst.y = inst.y + 0.1 * np.random.default_rng(0).standard_normal(inst.y.shape)
        return inst

    monkeypatch.setattr(c4, "planted_saddle", off_critical)
    assert not c4.control_planted_saddle(c4.CLAIM.parts[0]).detected


def test_claim4_early_stop_is_uncertified_not_passed():
    """A trainer stopped after one iteration reaches nothing certifiable: the record says so, and counts against
    the floor of its regime."""
    p = c4.Params(m=30, d_x=3, d_1=4, activation="tanh", seed=1, zero_units=(0,))
    rec = c4.check_at(c4.build(p, max_iter=1))
    assert not rec.certified and rec.passed is None and rec.reason.startswith("not certified")


def test_claim4_bad_input_raises():
    with pytest.raises(ValueError, match="zero_units"):
        c4.Params(m=10, d_x=2, d_1=2, activation="tanh", seed=0, zero_units=(5,)).validate()
    with pytest.raises(ValueError, match="PL"):
        c4.Params(m=10, d_x=2, d_1=2, activation="tanh", seed=0, start="planted").validate()
    with pytest.raises(ValueError, match="unknown regime"):
        c4.strategy("nonsense")
