"""claim5: the loss at certified local minima falls with depth and with width (the project's protocol, CLAIMS.md).

One small synthetic sweep (the default synthetic data set, tanh, depths 1-3, widths 2/4/8, five fixed seeds) is
trained once per session; the assertion and the negative controls are tests on it. The statistic itself is also
checked on planted tables with Hypothesis (structure drawn: blocks, levels, missing cells, seed).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from claims import claim5_depth_width as c5
from minimacheck import datasets, sweep

ALPHA = c5.ALPHA
# the tanh half of the default grid (claims.claim5_depth_width.DEFAULT_GRID), same data, seeds and training limits
GRID = sweep.SweepConfig(**{**c5.DEFAULT_GRID.__dict__, "activations": ("tanh",)})


@pytest.fixture(scope="module")
def synthetic_sweep():
    ds = datasets.synthetic(**c5.SYNTHETIC)
    return sweep.run_sweep([ds], GRID, n_jobs=sweep.default_jobs(), progress=False)[0]


@pytest.fixture(scope="module")
def linear_sweep():
    return c5.linear_control(n_jobs=sweep.default_jobs())


# ---------------------------------------------------------------- the assertion
@pytest.mark.slow
@pytest.mark.parametrize("axis", ["depth", "width"])
def test_claim5_loss_decreases_along_axis(synthetic_sweep, claim_ledger, axis):
    t = c5.trend_test(synthetic_sweep.runs, axis)
    rec = claim_ledger.add(c5._trend_record(f"trend-{axis}[synthetic]", t))
    assert rec.certified, rec.reason  # enough certified blocks for the test to have power
    assert t["pvalue"] < ALPHA, rec.reason
    med = [v for v in t["median_l"].values() if v is not None]
    assert med[-1] < med[0], f"median l does not fall from the smallest to the largest {axis}: {t['median_l']}"


@pytest.mark.slow
def test_claim5_projection_identity_at_every_certified_point(synthetic_sweep, claim_ledger):
    """Built-in consistency: l equals claim1's value 1/2||P_N[Dbar]y||^2 / (1/2||Y||^2) within Lemma P's bracket
    (tolerance tau_fp + the certificate's slack, computed in minimacheck.sweep.run_one)."""
    for rec in c5.run_records(synthetic_sweep):
        if rec.check.startswith("loss-equals-projection"):
            claim_ledger.add(rec)
            if rec.certified:
                assert rec.passed, rec.reason
    claim_ledger.assert_certified_fraction(0.5)


@pytest.mark.slow
def test_claim5_sweep_reproduces_with_the_same_seed(synthetic_sweep):
    """Same seed, same numbers: rerun three cells in this process (one job) and compare with the joblib sweep."""
    ds = datasets.synthetic(**c5.SYNTHETIC)
    for (d, w, s) in [(1, 2, 0), (2, 4, 1), (3, 8, 2)]:
        row = sweep.run_one(ds.X, ds.Y, "synthetic", "tanh", d, w, s, GRID)
        ref = next(r for r in synthetic_sweep.runs if (r["depth"], r["width"], r["seed"]) == (d, w, s))
        assert row["verdict"] == ref["verdict"] and row["loss"] == ref["loss"]


# ---------------------------------------------------------------- negative controls
@pytest.mark.slow
@pytest.mark.counterexample
@pytest.mark.parametrize("axis", ["depth", "width"])
def test_claim5_shuffled_labels_do_not_fire(synthetic_sweep, claim_ledger, axis):
    rec = claim_ledger.add(c5._trend_record(f"permuted-labels-{axis}", c5.trend_test(synthetic_sweep.runs, axis, permute_seed=0),
                                            kind="negative-control"))
    assert rec.detected, rec.reason
    # and over many shuffles the test rejects at 0.05 about 5% of the time: binomial(40, 0.05) exceeds 6 w.p. < 1%
    rate = c5.permutation_rejection_rate(synthetic_sweep.runs, axis, n_perm=40, alpha=0.05)
    assert rate <= 6 / 40, f"label shuffles reject at rate {rate:.2f}"


@pytest.mark.slow
@pytest.mark.counterexample
@pytest.mark.parametrize("axis", ["depth", "width"])
def test_claim5_reversed_alternative_does_not_pass(synthetic_sweep, claim_ledger, axis):
    t = c5.trend_test(synthetic_sweep.runs, axis, direction="increasing")
    rec = claim_ledger.add(c5._trend_record(f"reversed-alternative-{axis}", t, kind="negative-control"))
    assert rec.detected, rec.reason
    assert t["pvalue"] > 0.5


@pytest.mark.slow
@pytest.mark.counterexample
def test_claim5_deep_linear_nets_show_no_depth_trend(linear_sweep, claim_ledger):
    """claim6: at a fixed bottleneck every local minimum of a deep linear net is global with the reduced-rank value,
    so the certified l is the same at every depth (within RESOLUTION) and the statistic must not fire."""
    certified = linear_sweep.certified()
    assert len(certified) >= len(linear_sweep.runs) // 2, [r["verdict"] for r in linear_sweep.runs]
    ls = [r["l"] for r in certified]
    assert max(ls) - min(ls) <= c5.RESOLUTION, ls
    t = c5.trend_test(linear_sweep.runs, "depth")
    rec = claim_ledger.add(c5._trend_record("deep-linear-no-depth-trend", t, kind="negative-control"))
    assert t["applicable"] and rec.detected, rec.reason


# ---------------------------------------------------------------- the statistic on planted tables
def _runs_from_table(table: np.ndarray, axis: str = "width") -> list[dict]:
    other = "depth" if axis == "width" else "width"
    runs = []
    for b, row in enumerate(table):
        for j, v in enumerate(row):
            runs.append({"activation": "tanh", "seed": b, other: 1, axis: j + 1, "certified": bool(np.isfinite(v)),
                         "l": float(v) if np.isfinite(v) else 1.0})
    return runs


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n_blocks=st.integers(6, 12), k=st.integers(3, 5), missing=st.floats(0.0, 0.2), seed=st.integers(0, 2**16))
@example(n_blocks=6, k=3, missing=0.0, seed=0)
def test_claim5_statistic_planted_trend_and_null(n_blocks, k, missing, seed):
    rng = np.random.default_rng(seed)
    drop = rng.random((n_blocks, k)) < missing
    planted = np.sort(rng.random((n_blocks, k)), axis=1)[:, ::-1].copy()  # strictly decreasing rows
    planted[drop] = np.nan
    runs = _runs_from_table(planted)
    t_dec = c5.trend_test(runs, "width", n_resamples=999)
    t_inc = c5.trend_test(runs, "width", direction="increasing", n_resamples=999)
    if t_dec["p_floor"] < 1e-3:  # the data can show a trend at all
        assert t_dec["pvalue"] < ALPHA
        assert t_inc["pvalue"] > 0.5
    flat = np.full((n_blocks, k), 0.25)
    flat[drop] = np.nan
    t_flat = c5.trend_test(_runs_from_table(flat), "width", n_resamples=999)
    assert t_flat["statistic"] == 0 and t_flat["pvalue"] == 1.0  # ties below RESOLUTION are no trend


def test_claim5_sweep_config_rejects_bad_grids():
    with pytest.raises(ValueError, match="depths must be positive"):
        sweep.SweepConfig(depths=(0, 1))
    with pytest.raises(ValueError, match="widths is empty"):
        sweep.SweepConfig(widths=())
    with pytest.raises(ValueError, match="axis must be"):
        c5.trend_test([], "height")
