"""Power tests for claim4's check:
- assertion 1 uses tau_j, not tau_fp alone: grad_{w_j} L = v_j g_j EXACTLY at any theta, so with v_j != 0 the first
  form of tau_j equals ||g_j||; with eps_H so large that the Hessian form is vacuous, tau_j = ||g_j|| and the
  unit-gradient headroom is <= 1 even at a non-critical point where ||g_j|| >> tau_fp (kills `a1 = max(g / tau_fp)`,
  invisible at certified points, where g_j ~ 1e-12);
- the second form of tau_j carries eps_H as the handbook derives it: sqrt((p + eps_H)(s + eps_H)) + |v_j| ||X^T D_j a_j||
  (pinned on a unit with v_j = 0, where it is the only form);
- a planted SADDLE (every v_j = 0, y orthogonal to the a_j; grad L = 0) must be refused by check_instance (recorded
  uncertified), not checked: claim4 is a statement about local minima only."""
from __future__ import annotations

import math

import numpy as np

from claims import claim4_shallow as c4


def _init_instance(seed: int = 3, zero_units=(0,)):
    p = c4.Params(m=20, d_x=3, d_1=3, activation="tanh", seed=seed, zero_units=zero_units)
    rng = np.random.default_rng(seed)
    model = c4.make_model(p.d_x, p.d_1, p.activation)
    X = c4._data(p, rng)
    y = rng.standard_normal((p.m, 1))
    theta = model.init(seed + 1)
    for j in zero_units:
        theta[c4.v_index(model, j)] = 0.0
    return c4.Instance(p, model, X, y, theta, note="init")


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
    rec = c4.check_instance(c4.planted_saddle())
    assert not rec.certified and rec.passed is None, rec.reason
    assert "saddle" in rec.reason or "not a minimum" in rec.reason


def test_claim4_check_verdict_is_headroom_at_most_one(monkeypatch):
    """Plumbing: claim4 is a theorem, so no certified instance violates it; check_instance's verdict must still be
    exactly `max headroom <= 1`. A mild violation (headroom 5) is injected into assertions(): it must fail."""
    inst = c4.build(c4.Params(m=11, d_x=2, d_1=3, activation="abs", seed=8, zero_units=(0, 1, 2), regime="planted"))
    honest = c4.check_instance(inst)
    assert honest.certified and honest.passed, honest.reason
    real = c4.assertions
    monkeypatch.setattr(c4, "assertions", lambda q, **kw: {**real(q, **kw), "bracket": 5.0})
    rec = c4.check_instance(inst)
    assert rec.certified and rec.gap == 5.0
    assert rec.passed is False, rec.reason


def test_claim4_saddle_control_requires_a_saddle_verdict(monkeypatch):
    """Specificity: moved off the planted saddle (y perturbed, so NOT_CONVERGED), the control must not report a
    detection: its premise is that the certifier classifies the critical point as a SADDLE."""
    real = c4.planted_saddle

    def off_critical(**kw):
        inst = real(**kw)
        inst.y = inst.y + 0.1 * np.random.default_rng(0).standard_normal(inst.y.shape)
        return inst

    monkeypatch.setattr(c4, "planted_saddle", off_critical)
    rec = c4.control_planted_saddle()
    assert not rec.detected, rec.reason
