"""claim3: no worse than a fixed-basis (kernel) model (CLAIMS.md claim3).

3a feature skip with ridge terms (quadratic-certificate slack), 3b feature input (the structured-path check with
X -> Phi(X), reused from its module), 3c own last-layer features at C-min points. Hypothesis draws the structure
(feature map, p < m or p >= m, lam, family, widths, seed); numpy builds the arrays. Every instance is recorded;
every certified one must pass. Controls and sabotage assert that the violation IS detected.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, target
from hypothesis import strategies as st

from claims import claim3_basis as c3
from minimacheck.legacy import RunConfig

ITERS = 100  # iteration-limited training (deterministic); BUDGET is only a safety net
BUDGET = 6.0
FIXTURE_OK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def basis_params(draw, variants=("3a", "3b", "3c")):
    v = draw(st.sampled_from(variants))
    fam = draw(st.sampled_from(tuple(c3.FAMILIES) if v == "3a" else ("bounded", "pl")))
    return c3.make_params(
        v, fam,
        phi=draw(st.sampled_from(c3.PHI_TYPES)),
        regime=draw(st.sampled_from(("lt", "ge"))),
        m=draw(st.integers(8, 20)),
        d_x=draw(st.integers(1, 3)),
        d_y=draw(st.integers(1, 2)),
        degree=draw(st.integers(1, 3)),
        lam=draw(st.sampled_from(c3.LAMS)),
        mu_choice=draw(st.integers(0, 1)),
        width=draw(st.integers(1, 3)),
        depth=1 if v != "3c" else draw(st.integers(1, 2)),
        act_choice=draw(st.integers(0, 2)),
        over=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31 - 1)),
    )


NYSTROM_EXACT = c3.Params("3a", "nystrom", "ge", m=12, d_x=2, d_y=1, lam=0.1, mu=0.1, widths=(2,), activation="tanh", seed=5)
OWN_FEATURES = c3.Params("3c", "rff", "lt", m=24, d_x=2, d_y=1, widths=(2,), activation="tanh", seed=8)
FEATURE_INPUT = c3.Params("3b", "nystrom", "lt", m=16, d_x=2, d_y=1, widths=(2,), activation="relu", seed=1)


@FIXTURE_OK
@given(p=basis_params())
@example(p=c3.TIGHT)  # linear net + polynomial features, lam = mu = 0: equality L = L_Phi(0)
@example(p=NYSTROM_EXACT)  # landmarks = all inputs: exact kernel ridge on the data
@example(p=OWN_FEATURES)
@example(p=FEATURE_INPUT)
def test_claim3_no_worse_than_fixed_basis(p, claim_ledger):
    rec = claim_ledger.add(c3.check(p, time_budget=BUDGET, max_iter=ITERS))
    if rec.certified:
        target(rec.headroom, label="claim3 gap/tol")
        assert rec.passed, rec.reason
    else:
        assert rec.passed is None and rec.reason  # counted with a reason, never passed


# Fixed-seed yield: 3 draws per variant from seed 2024 (100 iterations). Measured 5/9 certified; the rest are
# three smooth nets running to minima at infinity (not converged) and one PL net on a kink. Floor 0.4 leaves one
# instance of margin.
FLOOR = 0.4


def test_claim3_certified_fraction_floor(claim_ledger):
    rng = np.random.default_rng(2024)
    for v in ("3a", "3b", "3c"):
        for _ in range(3):
            rec = claim_ledger.add(c3.check(c3.draw_params(rng, v), time_budget=BUDGET, max_iter=ITERS))
            assert rec.passed is not False, rec.reason
    claim_ledger.assert_certified_fraction(FLOOR)


def test_claim3_tight_linear_net_with_polynomial_features(claim_ledger):
    """Yhat in col(Phi) for every theta and no regularizer, so L >= L_Phi(0) - tau_fp everywhere and the claim
    gives the other side: |L - L_Phi(0)| <= tau."""
    rec = claim_ledger.add(c3.check_feature_skip(c3.build_instance(c3.TIGHT), check_name="3a-tight-linear-poly"))
    assert rec.certified and rec.passed, rec.reason
    assert rec.gap <= rec.tol


def test_claim3_planted_optimum(claim_ledger):
    rec = claim_ledger.add(c3.control_planted())
    assert rec.detected, rec.reason


def test_claim3_like_with_like_mismatch_is_flagged(claim_ledger):
    rec = claim_ledger.add(c3.control_like_with_like())
    assert rec.detected, rec.reason
    assert rec.gap > rec.tol  # the lam > 0 data term really exceeds the unregularized L_Phi(0)


def test_claim3_mismatched_lambda_raises():
    inst = c3.build_instance(c3.LIKE)
    b0 = c3.phi_baseline(inst.Phi, inst.Y, 0.0)
    with pytest.raises(ValueError, match="like with like"):
        c3.check_feature_skip(inst, baseline=c3.Baseline(b0, 0.0))


@st.composite
def missing_path_specs(draw):
    return dict(m=draw(st.integers(12, 20)), d_x=draw(st.integers(1, 3)), widths=(draw(st.integers(1, 2)),),
                activation=draw(st.sampled_from(("tanh", "sigmoid", "leaky_relu"))),
                phi=draw(st.sampled_from(c3.PHI_TYPES)), seed=draw(st.integers(0, 2**31 - 1)))


def test_claim3_missing_feature_path_search_finds_violation(claim_ledger):
    """Expected violation: without the feature skip a narrow net's certified local minimum can be worse than L_Phi
    (target(L - L_Phi) steers the search). A violation shows the structure is needed, never a claim failure."""
    records = []

    @settings(max_examples=6, database=None, derandomize=True, deadline=None)
    @given(spec=missing_path_specs())
    @example(spec=c3.MISSING_PINNED)
    def search(spec):
        rec = c3.control_missing_path(c3.missing_path_instance(**spec), time_budget=BUDGET, max_iter=ITERS)
        records.append(rec)
        target(rec.gap, label="L - L_Phi")

    search()
    summary = claim_ledger.add(c3.search_summary(records))
    assert summary.detected, summary.reason


@pytest.mark.cvxpy
@pytest.mark.parametrize("which", ["truncated-lstsq", "wrong-lam", "cvxpy-max-iters-2", "cvxpy-scs-max-iters-2"])
def test_claim3_sabotaged_baseline_is_refused(which, claim_ledger):
    rec = claim_ledger.add(c3.sabotage_baseline(which))
    assert rec.detected, rec.reason


@pytest.mark.parametrize("which", ["truncated-lstsq", "wrong-lam"])
def test_claim3_sabotaged_baseline_breaks_tight_case(which, claim_ledger):
    """Without re-verification the sabotaged value still cannot pass: on the tight instance the net beats the
    'global' baseline by more than tau_fp, which the check reports as a wrong baseline."""
    rec = claim_ledger.add(c3.sabotage_baseline(which, verify_baseline=False))
    assert rec.detected, rec.reason
    assert "baseline wrong" in rec.reason


def test_claim3_bad_input_raises():
    with pytest.raises(ValueError, match="variant"):
        c3.Params("3d")
    with pytest.raises(ValueError, match="feature map"):
        c3.Params("3a", phi="wavelet")
    with pytest.raises(ValueError, match="lam"):
        c3.Params("3a", lam=-1.0)
    with pytest.raises(ValueError, match="planted"):
        c3.planted_instance(replace(c3.TIGHT, lam=0.1))


def test_claim3_report_mode(claim_ledger):
    recs = c3.run(RunConfig(n_instances=3, seed=0, time_budget=BUDGET))
    for r in recs:
        claim_ledger.add(r)
    pos = [r for r in recs if r.kind == "positive"]
    assert pos and all(r.passed is not False for r in pos), [r.reason for r in pos if r.passed is False]
    assert any(r.certified for r in pos)
    ctl = [r for r in recs if r.kind != "positive"]
    assert ctl and all(r.detected for r in ctl), [(r.check, r.reason) for r in ctl if not r.detected]
