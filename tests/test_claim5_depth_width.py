"""claim5-specific tests. The generated checks (tests/test_common.py) run the property over the strategy's sweeps,
the pinned sweeps, the controls (deep-linear bottleneck, permuted cells), the sabotages, the forced pass and the
per-regime floors. Here: the statistic on planted tables (Hypothesis over blocks, levels, missing cells), the
quantity/scope transforms, claim1's identity at every certified point of the pinned sweep, reproducibility of a run,
and bad input.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from claims import claim5_depth_width as c5
from minimacheck import datasets, sweep

ALPHA = c5.ALPHA
PINNED = c5.PINNED["tanh-teacher-width"]


def _runs_from_table(table: np.ndarray, axis: str = "width") -> list[dict]:
    other = "depth" if axis == "width" else "width"
    return [{"activation": "tanh", "seed": b, other: 1, axis: j + 1, "certified": bool(np.isfinite(v)),
             "l": float(v) if np.isfinite(v) else 1.0}
            for b, row in enumerate(table) for j, v in enumerate(row)]


# ---------------------------------------------------------------- the statistic on planted tables
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
    if t_dec["p_floor"] < 1e-3:  # the design can show a trend at all
        assert t_dec["pvalue"] < ALPHA
        assert t_inc["pvalue"] > 0.5
    flat = np.full((n_blocks, k), 0.25)
    flat[drop] = np.nan
    t_flat = c5.trend_test(_runs_from_table(flat), "width", n_resamples=999)
    assert t_flat["statistic"] == 0 and t_flat["pvalue"] == 1.0  # ties below RESOLUTION are no trend
    assert t_flat["p_floor"] == t_dec["p_floor"]  # the floor is the design's, not the values'


def _table(decreasing: bool, n_blocks: int = 8, k: int = 4) -> np.ndarray:
    rows = np.sort(np.random.default_rng(0).random((n_blocks, k)), axis=1)
    return rows[:, ::-1].copy() if decreasing else rows


def test_claim5_rising_loss_fails_the_positive_record():
    """The RECORD's verdict, not only the p-value: a rising table is a testable trend that fails."""
    runs = _runs_from_table(_table(decreasing=False))
    t = c5.trend_test(runs, "width", n_resamples=999)
    rec = c5._record(PINNED, t, runs)
    assert rec.certified and t["pvalue"] > 0.5, rec.reason
    assert rec.passed is False, rec.reason


def test_claim5_falling_loss_passes_and_a_flat_one_fails():
    runs = _runs_from_table(_table(decreasing=True))
    t = c5.trend_test(runs, "width", n_resamples=999)
    assert t["pvalue"] < ALPHA and c5._record(PINNED, t, runs).passed is True
    flat = _runs_from_table(np.full((8, 4), 0.3))
    rec = c5._record(PINNED, c5.trend_test(flat, "width", n_resamples=999), flat)
    assert rec.certified and rec.passed is False, rec.reason


def test_claim5_too_few_certified_runs_are_not_testable():
    """Two blocks of two certified levels: p_floor = 1/4 >= ALPHA: no evidence either way (passed None)."""
    table = np.array([[0.3, 0.2, np.nan], [0.3, 0.1, np.nan]])
    runs = _runs_from_table(table)
    rec = c5._record(PINNED, c5.trend_test(runs, "width", n_resamples=999), runs)
    assert not rec.certified and rec.passed is None and rec.reason.startswith("not testable"), rec.reason


def test_claim5_excess_is_over_the_best_restart_of_the_cell():
    runs = [dict(activation="tanh", depth=1, width=w, seed=s, certified=c, l=v)
            for w, s, c, v in [(2, 0, True, 0.5), (2, 1, True, 0.3), (2, 2, False, 0.1), (4, 0, True, 0.2)]]
    ex = c5.with_quantity(runs, "excess")
    assert [r["value"] for r in ex[:2]] == pytest.approx([0.2, 0.0])  # the uncertified 0.1 is no restart's best
    assert math.isnan(ex[2]["value"]) and ex[3]["value"] == 0.0


def test_claim5_under_scope_keeps_cells_below_m_dy():
    runs = [dict(n_params=p, m=60, d_y=1) for p in (59, 60, 61)]
    assert c5.in_scope(runs, "under") == runs[:1] and c5.in_scope(runs, "all") == runs


# ---------------------------------------------------------------- the pinned sweep
@pytest.mark.slow
def test_claim5_projection_identity_at_every_certified_point():
    """Built-in consistency: l equals claim1's value 1/2||P_N[Dbar]y||^2 / (1/2||Y||^2) within Lemma P's bracket
    (tolerance tau_fp + the certificate's slack, computed in minimacheck.sweep.run_one)."""
    runs = c5.runs_of(PINNED)
    cert = [r for r in runs if r["certified"] and r["differentiable"]]
    assert cert, "the pinned sweep certified no differentiable point"
    bad = [(r["depth"], r["width"], r["seed"], r["claim1_gap"], r["claim1_tol"])
           for r in cert if not r["claim1_passed"]]
    assert not bad, bad


@pytest.mark.slow
def test_claim5_run_reproduces_with_the_same_seed():
    """Same seed, same numbers: rerun one cell outside the memo and compare with the pinned sweep's run."""
    ref = next(r for r in c5.runs_of(PINNED) if (r["depth"], r["width"], r["seed"]) == (1, 4, 1))
    ds = PINNED.dataset()
    row = sweep.run_one(ds.X, ds.Y, ds.name, "tanh", 1, 4, 1, PINNED.grid())
    assert row["verdict"] == ref["verdict"] and row["loss"] == ref["loss"]


# ---------------------------------------------------------------- bad input
def test_claim5_rejects_bad_params():
    with pytest.raises(ValueError, match="depths must be positive"):
        sweep.SweepConfig(depths=(0, 1))
    with pytest.raises(ValueError, match="widths is empty"):
        sweep.SweepConfig(widths=())
    with pytest.raises(ValueError, match="axis must be"):
        c5.trend_test([], "height")
    with pytest.raises(ValueError, match="quantity must be one of"):
        replace(PINNED, quantity="median").validate()
    with pytest.raises(ValueError, match=">= 2 distinct seeds"):
        replace(PINNED, seeds=(0,)).validate()
    with pytest.raises(ValueError, match="needs >= 2 levels"):
        replace(PINNED, widths=(4,)).validate()
    with pytest.raises(ValueError, match="unknown regime"):
        c5.strategy("relu/teacher-target")


def test_sweep_certifies_leaky_relu_minima_on_kinks_and_keeps_them_out_of_lemma_p():
    """A one-hidden-layer leaky-ReLU cell with P < m: its minima sit on kinks; the sweep (kinks=True) certifies them
    with the kink certificate, marks them non-differentiable, skips Lemma P there, and claim5's consistency records
    count them as not applicable (certified=False with the reason), never as passes. With kinks=False nothing on a
    kink is certified."""
    ds = datasets.synthetic(**c5.CI_DATA, seed=0)
    cfg = sweep.SweepConfig(depths=(1,), widths=(4,), activations=("leaky_relu",), seeds=(0, 1), attempts=2, max_iter=200)
    rows = [sweep.run_one(ds.X, ds.Y, ds.name, "leaky_relu", 1, 4, s, cfg) for s in cfg.seeds]
    kinks = [r for r in rows if r["certified"] and not r["differentiable"]]
    assert kinks, [(r["verdict"], r["reason"][:80]) for r in rows]
    for r in kinks:
        assert r["evidence"].startswith("C-min on a kink [kink-ysj") and r["claim1_passed"] is None
    result = sweep.SweepResult(ds.name, ds.description, ds.m, ds.d_x, ds.d_y, ds.zero_loss, None, 1.0, {}, rows)
    recs = [r for r in c5.run_records(result) if r.check.startswith("loss-equals-projection")]
    on_kinks = [r for r in recs if "Lemma P does not apply" in r.reason]
    assert len(on_kinks) == len(kinks) and not any(r.certified for r in on_kinks)
    plain = [sweep.run_one(ds.X, ds.Y, ds.name, "leaky_relu", 1, 4, s, replace(cfg, kinks=False)) for s in cfg.seeds]
    assert not any(r["certified"] and not r["differentiable"] for r in plain)
