"""claim4 (one hidden layer, second-order strengthening): property test, certified-fraction floor, the planted
saddle and a non-critical control. The check itself lives in claims/claim4_shallow.py."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, target
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from claims import claim4_shallow as c4
from minimacheck.ledger import Ledger
from minimacheck.registry import RunConfig
from networks import Verdict, certify

TRAIN_BUDGET = 2.0
FLOOR = 0.5  # certified fraction on the fixed draw (measured 0.6-0.7: trained PL runs end on kinks, softplus stalls)


def _record(ledger, inst):
    rec = ledger.add(c4.check_instance(inst))
    if rec.certified:
        assert rec.passed, f"claim4 violated on a certified local minimum: {rec.reason}; {rec.extra}"
        if currently_in_test_context():
            target(rec.headroom, label="claim4 worst gap/tol")
    return rec


@st.composite
def shallow_params(draw):
    d_1 = draw(st.integers(*c4.D1_RANGE))
    act = draw(st.sampled_from(c4.ACTIVATIONS))
    zero = draw(st.lists(st.integers(0, d_1 - 1), unique=True, max_size=d_1))
    pl = act in ("leaky_relu", "abs")
    regime = draw(st.sampled_from(("trained", "planted"))) if pl else "trained"
    return c4.Params(m=draw(st.integers(*c4.M_RANGE)), d_x=draw(st.integers(*c4.DX_RANGE)), d_1=d_1, activation=act,
                     seed=draw(st.integers(0, 2**31 - 1)), zero_units=tuple(sorted(zero)), regime=regime)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(p=shallow_params())
# pinned: a planted minimum with every v_j = 0 but one (the tau_j second-order branch), a tanh net with most units
# started at v_j = 0, a single-unit abs net, a softplus net
@example(p=c4.Params(m=22, d_x=3, d_1=5, activation="leaky_relu", seed=7, zero_units=(0, 1, 2, 3), regime="planted"))
@example(p=c4.Params(m=11, d_x=2, d_1=3, activation="abs", seed=8, zero_units=(0, 1, 2), regime="planted"))
@example(p=c4.Params(m=16, d_x=4, d_1=6, activation="tanh", seed=9, zero_units=(0, 1, 2, 3, 4)))
@example(p=c4.Params(m=23, d_x=2, d_1=1, activation="abs", seed=10))
@example(p=c4.Params(m=19, d_x=3, d_1=6, activation="softplus", seed=11, zero_units=(5,)))
def test_claim4_shallow_property(claim_ledger, p):
    _record(claim_ledger, c4.build(p, time_budget=TRAIN_BUDGET))


def test_claim4_certified_fraction_floor(claim_ledger):
    rng = RunConfig(seed=0).rng(4)
    for _ in range(8):
        _record(claim_ledger, c4.build(c4.draw_params(rng), time_budget=TRAIN_BUDGET))
    claim_ledger.assert_certified_fraction(FLOOR)


def test_claim4_zero_output_weight_units_are_exercised(claim_ledger):
    """The strengthening's point: a certified local minimum with v_j = 0 exactly, where only tau_j's second-order
    branch bounds ||g_j||."""
    p = c4.Params(m=22, d_x=3, d_1=5, activation="leaky_relu", seed=7, zero_units=(0, 1, 2, 3), regime="planted")
    rec = _record(claim_ledger, c4.build(p))
    assert rec.certified and rec.extra["min_abs_v"] == 0.0
    zero = [u for u in rec.extra["units"] if u["v"] == 0.0]
    assert len(zero) == 4 and all(np.isinf(u["first"]) and u["tau"] == u["second"] for u in zero)


@pytest.mark.counterexample
@pytest.mark.parametrize("act,seed", [("leaky_relu", 0), ("abs", 3), ("tanh", 1), ("softplus", 2)])
def test_claim4_planted_saddle_rejected_and_identity_fails(claim_ledger, act, seed):
    rec = claim_ledger.add(c4.control_planted_saddle(act, seed))
    assert rec.extra["grad_norm"] <= 1e-12 * (1 + rec.extra["L"]), "the planted point must be exactly critical"
    assert rec.extra["lambda_min"] < 0
    assert rec.detected, rec.reason


@pytest.mark.counterexample
def test_claim4_noncritical_point_detected(claim_ledger):
    rec = claim_ledger.add(c4.control_noncritical())
    assert rec.detected, rec.reason


@pytest.mark.meta
def test_claim4_sabotage_without_second_order_is_caught():
    """Sabotage: accepting C-crit (first order only) for claim4 lets the planted saddle in, and then assertion 1
    fails there. So the second-order certificate is what the claim needs."""
    inst = c4.planted_saddle(seed=5)
    cert = certify(inst.obj, inst.theta, need_second_order=False)
    assert cert.verdict is Verdict.CRITICAL
    a = c4.assertions(c4.quantities(inst, eps_H=0.0))
    assert a["unit-gradients"] > 1.0 and a["bracket"] > 1.0


@pytest.mark.meta
def test_claim4_early_stop_fails_the_floor():
    book = Ledger()
    for seed in (1, 2, 3):
        p = c4.Params(m=30, d_x=3, d_1=4, activation="tanh", seed=seed, zero_units=(0,))
        inst = c4.build(p, time_budget=1e-9)  # the trainer stops at once: nothing to certify
        rec = book.add(c4.check_instance(inst))
        assert not rec.certified
    with pytest.raises(AssertionError, match="below the floor"):
        book.assert_certified_fraction(FLOOR)


def test_claim4_bad_input_raises():
    with pytest.raises(ValueError, match="zero_units"):
        c4.Params(m=10, d_x=2, d_1=2, activation="tanh", seed=0, zero_units=(5,)).validate()
    with pytest.raises(ValueError, match="PL"):
        c4.Params(m=10, d_x=2, d_1=2, activation="tanh", seed=0, regime="planted").validate()


def test_claim4_report_mode_runs():
    recs = c4.run(RunConfig(n_instances=2, seed=1, time_budget=TRAIN_BUDGET))
    assert sum(r.kind == "positive" for r in recs) == 2
    assert all(r.detected for r in recs if r.kind != "positive")
