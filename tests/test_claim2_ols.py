"""claim2: nets with a locally induced partial-linear structure (S1-S4) are no worse than OLS at certified
critical points (CLAIMS.md claim2). Hypothesis draws the structure; numpy builds the arrays from the drawn seed.

Every drawn instance is recorded in the claim ledger (certified or not, with its reason); every certified one must
pass. Negative controls and sabotage assert that the violation IS detected.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, target
from hypothesis import strategies as st

from claims import claim2_ols as c2
from minimacheck.legacy import RunConfig

# Training is iteration-limited (deterministic); the time budget is only a safety net against a stalled machine.
ITERS = 100
BUDGET = 6.0
FIXTURE_OK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def structured_params(draw):
    s = draw(st.sampled_from(c2.STRUCTURES))
    H = 1 if s == "shallow0" else draw(st.integers(1, 2))
    if s in ("S1", "S2", "shallow0"):
        d_y = 1
    elif s == "S4":
        d_y = draw(st.integers(2, 3))
    else:
        d_y = draw(st.integers(1, 3))
    n_paths = d_y if s == "S4" else 1
    lo = d_y if s == "linear" else n_paths
    widths = tuple(draw(st.integers(lo, lo + 3)) for _ in range(H))
    if s == "S1":
        act = draw(st.sampled_from(c2.PL_ACTIVATIONS))
    elif s == "linear":
        act = "linear"
    else:
        act = draw(st.sampled_from(c2.PL_ACTIVATIONS + c2.SMOOTH_ACTIVATIONS))
    return c2.Params(
        s,
        m=draw(st.integers(8, 24)),
        d_x=(d_x := draw(st.integers(1, 4))),
        d_y=d_y,
        widths=widths,
        activation=act,
        seed=draw(st.integers(0, 2**31 - 1)),
        n_paths=n_paths,
        v0=0.0 if s == "shallow0" else None,
        log10_cond=draw(st.sampled_from(c2.LOG10_CONDS)),
        rank=draw(st.none() | st.integers(1, max(1, d_x - 1))) if d_x > 1 else None,  # rank-deficient X
    )


# The handbook's measured shallow case (one always-active unit; L well below L_OLS) and a zero-gain start.
SHALLOW_ACTIVE = c2.Params("shallow0", m=24, d_x=3, d_y=1, widths=(4,), activation="tanh", seed=1, v0=0.0)
S1_RELU = c2.Params("S1", m=10, d_x=2, d_y=1, widths=(5, 4), activation="relu", seed=3)
# The tight linear-regime case on a rank-deficient, ill-conditioned X (rank 2 of 4, cond 1e3): equality must survive
# lstsq's rcond and the rank-deficient OLS baseline.
TIGHT_RANK_DEFICIENT = replace(c2.TIGHT, d_x=4, log10_cond=3.0, rank=2)


@FIXTURE_OK
@given(p=structured_params())
@example(p=c2.TIGHT)  # linear regime: equality L = L_OLS, the tight end of the tolerance
@example(p=SHALLOW_ACTIVE)
@example(p=S1_RELU)
@example(p=TIGHT_RANK_DEFICIENT)
def test_claim2_structured_nets_no_worse_than_ols(p, claim_ledger):
    rec = claim_ledger.add(c2.check(c2.build_instance(p), time_budget=BUDGET, max_iter=ITERS))
    if rec.certified:
        target(rec.headroom, label="claim2 gap/tol")
        assert rec.passed, rec.reason
    else:
        assert rec.passed is None and rec.reason  # counted with a reason, never passed


# Fixed-seed yield. Measured on these 12 draws (2 per structure, seed 2024, 100 iterations): 8/12 certified; the
# losses are PL nets ending on kinks and smooth nets running to minima at infinity (CLAIMS.md: count them, never
# drop them). Floor 0.5 leaves one instance of margin for a trainer change.
FLOOR = 0.5


def test_claim2_certified_fraction_floor(claim_ledger):
    rng = np.random.default_rng(2024)
    for s in c2.STRUCTURES:
        for _ in range(2):
            rec = claim_ledger.add(c2.check(c2.build_instance(c2.draw_params(rng, s)), time_budget=BUDGET, max_iter=ITERS))
            assert rec.passed is not False, rec.reason
    claim_ledger.assert_certified_fraction(FLOOR)


def test_claim2_tight_linear_regime_equality(claim_ledger):
    """A linear net is affine, so L >= L_OLS - tau_fp anywhere; at a critical point with full-rank gains the claim2
    bound closes the gap: |L - L_OLS| <= tau (catches a tolerance that is too loose or a baseline that is off)."""
    rec = claim_ledger.add(c2.check_tight(c2.build_instance(c2.TIGHT)))
    assert rec.certified, rec.reason
    assert rec.passed and rec.extra["lower_ok"], rec.reason
    assert rec.gap <= rec.tol


def test_claim2_dead_relu_plateau_is_a_certified_violation(claim_ledger):
    rec = claim_ledger.add(c2.control_dead_relu())
    assert rec.certified, rec.reason  # a (non-strict) local minimum, certified by the probe
    assert rec.detected, rec.reason  # L = 1/2||y - ybar||^2 > L_OLS: claim2 without the structure fails


def test_claim2_zero_gain_planted_saddle_is_rejected(claim_ledger):
    rec = claim_ledger.add(c2.control_zero_gain_saddle())
    assert not rec.certified
    assert rec.detected, rec.reason
    assert rec.extra["lambda_min"] < 0


@st.composite
def unstructured_specs(draw):
    return dict(m=draw(st.integers(12, 24)), d_x=draw(st.integers(2, 4)), d_y=draw(st.integers(1, 3)),
                widths=(draw(st.integers(1, 2)),), activation=draw(st.sampled_from(c2.UNSTRUCTURED_ACTS)),
                seed=draw(st.integers(0, 2**31 - 1)))


def test_claim2_unstructured_search_finds_violation(claim_ledger):
    """Expected-violation search: without S1-S4 a certified local minimum can be worse than OLS. Hypothesis is
    steered by target(L - L_OLS); the pinned dead-ReLU plateau is one known violation."""
    records = []

    @settings(max_examples=8, database=None, derandomize=True, deadline=None)
    @given(spec=unstructured_specs())
    @example(spec="dead-relu-plateau")
    def search(spec):
        if spec == "dead-relu-plateau":
            rec = c2.control_dead_relu()
        else:
            rec = c2.control_unstructured(c2.unstructured_instance(**spec), time_budget=BUDGET, max_iter=ITERS)
        records.append(rec)
        if rec.gap is not None:
            target(rec.gap, label="L - L_OLS")

    search()
    summary = claim_ledger.add(c2.search_summary(records))
    assert sum(r.detected for r in records if r.reason and "dead" not in r.check) >= 1, summary.reason
    assert summary.detected, summary.reason


def test_claim2_sabotage_ols_one_percent_low_fails(claim_ledger):
    """An OLS baseline 1% below the true optimum must make the check fail on the tight instance, both when the
    certificate is re-verified (refused) and when only the inequality is evaluated (the tight case breaks)."""
    for verify in (False, True):
        rec = claim_ledger.add(c2.sabotage_low_baseline(verify_baseline=verify))
        assert rec.detected, rec.reason
    assert "baseline refused" in rec.reason


def test_claim2_sabotage_flipped_inequality_is_caught(claim_ledger):
    rec = claim_ledger.add(c2.sabotage_flipped())
    assert rec.certified, rec.reason
    assert rec.detected, rec.reason


def test_claim2_true_baseline_passes_where_sabotage_fails(claim_ledger):
    """Control for the sabotage tests: the same tight instance passes with the honest baseline."""
    rec = claim_ledger.add(c2.check_tight(c2.build_instance(c2.TIGHT), verify_baseline=True))
    assert rec.certified and rec.passed, rec.reason


def test_claim2_bad_structure_raises():
    with pytest.raises(ValueError, match="piecewise-linear"):
        c2.Params("S1", activation="tanh")
    with pytest.raises(ValueError, match="scalar-output"):
        c2.Params("S2", d_y=2)
    with pytest.raises(ValueError, match="n_paths"):
        c2.Params("S4", d_y=3, n_paths=2, widths=(3,))
    with pytest.raises(ValueError, match="unknown structure"):
        c2.Params("S9")


def test_claim2_report_mode(claim_ledger):
    recs = c2.run(RunConfig(n_instances=2, seed=0, time_budget=BUDGET))
    for r in recs:
        claim_ledger.add(r)
    pos = [r for r in recs if r.kind == "positive"]
    assert pos and all(r.passed is not False for r in pos), [r.reason for r in pos if r.passed is False]
    assert any(r.certified for r in pos)
    ctl = [r for r in recs if r.kind != "positive"]
    assert ctl and all(r.detected for r in ctl), [(r.check, r.reason) for r in ctl if not r.detected]
