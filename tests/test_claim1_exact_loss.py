"""claim1 (exact loss value at differentiable critical points): property test, certified-fraction floor, negative
controls and sabotage. The check itself lives in claims/claim1_exact_loss.py."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings, target
from hypothesis.control import currently_in_test_context
from hypothesis import strategies as st

from claims import claim1_exact_loss as c1
from minimacheck.ledger import Ledger
from minimacheck.legacy import RunConfig

TRAIN_BUDGET = 2.0  # seconds of training per 'trained' instance (uncertified runs are counted, not passed)
FLOOR = 0.6  # certified fraction on the fixed draw below (measured 0.9-1.0: planted points always certify)


def _record(ledger, inst):
    rec = ledger.add(c1.check_instance(inst))
    if rec.certified:
        assert rec.passed, f"claim1 violated on a certified instance: {rec.reason}; {rec.extra}"
        if currently_in_test_context():
            target(rec.headroom, label="claim1 worst gap/tol")
    return rec


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    m=st.integers(*c1.M_RANGE),
    d_x=st.integers(*c1.DX_RANGE),
    d_y=st.integers(*c1.DY_RANGE),
    widths=st.lists(st.integers(*c1.WIDTH_RANGE), min_size=c1.H_RANGE[0], max_size=c1.H_RANGE[1]),
    activation=st.sampled_from(c1.ACTIVATIONS),
    regime=st.sampled_from(c1.REGIMES),
    seed=st.integers(0, 2**31 - 1),
)
# pinned: an under-parameterized leaky-ReLU net (L > 0, every per-layer identity asserted), a width-1 bottleneck,
# an over-parameterized abs net (full row rank: claim1d, L = 0), a smooth trained net, a depth-3 relu net
@example(m=40, d_x=3, d_y=2, widths=[5, 4], activation="leaky_relu", regime="planted", seed=1)
@example(m=24, d_x=2, d_y=3, widths=[1, 1, 2], activation="leaky_relu:0.5", regime="planted", seed=2)
@example(m=8, d_x=5, d_y=1, widths=[8, 6], activation="abs", regime="planted", seed=3)
@example(m=26, d_x=2, d_y=2, widths=[2], activation="tanh", regime="trained", seed=4)
@example(m=30, d_x=4, d_y=1, widths=[3, 3, 3], activation="relu", regime="planted", seed=5)
# past failure (thorough profile): full row rank, the claim1c Gram-Schmidt lost orthogonality without re-projection
@example(m=8, d_x=2, d_y=1, widths=[8, 1], activation="leaky_relu:0.5", regime="trained", seed=40894585)
@example(m=9, d_x=5, d_y=2, widths=[7, 1, 4], activation="tanh", regime="planted", seed=129579)
# past failure (thorough): the last block adds no rank; a scale-based cut counted its round-off as a direction
@example(m=8, d_x=3, d_y=1, widths=[1, 8, 1], activation="abs", regime="planted", seed=12262418)
def test_claim1_exact_loss_property(claim_ledger, m, d_x, d_y, widths, activation, regime, seed):
    p = c1.Params(m=m, d_x=d_x, d_y=d_y, widths=tuple(widths), activation=activation, seed=seed, regime=regime)
    _record(claim_ledger, c1.build(p, time_budget=TRAIN_BUDGET))


def test_claim1_certified_fraction_floor(claim_ledger):
    """A fixed draw (report mode's generator, seed 0): every certified instance passes, and at least FLOOR of the
    instances certify (trained PL/tanh runs may end on kinks or diverge; they are counted)."""
    rng = RunConfig(seed=0).rng(1)
    for _ in range(8):
        _record(claim_ledger, c1.build(c1.draw_params(rng), time_budget=TRAIN_BUDGET))
    claim_ledger.assert_certified_fraction(FLOOR)


def test_claim1_full_rank_instance_is_global(claim_ledger):
    """claim1d is exercised: an over-parameterized planted point has rank D-bar = m d_y and L = 0."""
    p = c1.Params(m=8, d_x=5, d_y=1, widths=(8, 6), activation="abs", seed=3)
    rec = _record(claim_ledger, c1.build(p))
    assert rec.certified and rec.extra["full_rank"] and rec.extra["checks"]["full-rank-global"][2]


def test_claim1_under_parameterized_instance_has_positive_loss(claim_ledger):
    """Not trivial: an under-parameterized PL planted point has L > 0 and every per-layer identity is asserted."""
    p = c1.Params(m=40, d_x=3, d_y=2, widths=(5, 4), activation="leaky_relu", seed=1)
    rec = _record(claim_ledger, c1.build(p))
    assert rec.certified and rec.extra["loss"] > 1.0 and not rec.extra["full_rank"]
    for l in (1, 2, 3):
        assert rec.extra["checks"][f"bracket-D^({l})"][2], f"per-layer identity {l} not asserted"


@pytest.mark.counterexample
@pytest.mark.parametrize("control", c1.CONTROLS, ids=lambda f: f.__name__)
def test_claim1_control_detected(claim_ledger, control):
    rec = claim_ledger.add(control())
    assert rec.detected, f"{rec.check} was NOT detected: {rec.reason}"


@pytest.mark.meta
def test_claim1_early_stop_sabotage_fails_the_floor():
    """A trainer stopped after 2 iterations must be refused: the certified-fraction floor then fails."""
    book = Ledger()
    for seed in (19, 23, 29):
        rec = book.add(c1.check_instance(c1.early_stopped_instance(seed)))  # recorded as ordinary positives
        assert not rec.certified and rec.passed is None
    with pytest.raises(AssertionError, match="below the floor"):
        book.assert_certified_fraction(FLOOR)


@pytest.mark.meta
def test_claim1_flipped_bracket_is_caught_at_certified_points_too():
    """The flipped bracket also fails at a non-critical point of every activation family (sanity of the sabotage)."""
    for act in ("leaky_relu", "tanh"):
        inst = c1.build(c1.Params(m=30, d_x=3, d_y=1, widths=(4,), activation=act, seed=31))
        inst.Y = inst.Y + 1.0
        assert c1.evaluate(inst)["checks"]["bracket-D-bar"][0] <= 1.0
        assert c1.evaluate(inst, flip=True)["checks"]["bracket-D-bar"][0] > 1.0


def test_claim1_bad_input_raises():
    with pytest.raises(ValueError, match="activation"):
        c1.Params(m=10, d_x=2, d_y=1, widths=(2,), activation="nope", seed=0).validate()
    with pytest.raises(ValueError, match="widths"):
        c1.Params(m=10, d_x=2, d_y=1, widths=(0,), activation="tanh", seed=0).validate()


def test_claim1_report_mode_runs():
    recs = c1.run(RunConfig(n_instances=2, seed=1, time_budget=TRAIN_BUDGET))
    assert sum(r.kind == "positive" for r in recs) == 2
    assert all(r.detected for r in recs if r.kind != "positive")
    assert all(r.passed for r in recs if r.kind == "positive" and r.certified)
