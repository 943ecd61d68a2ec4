"""Power tests for claim5's records (`_trend_record`), on planted tables where the answer is known. The suite's
trend tests assert t['pvalue'] < ALPHA themselves, so the RECORD's verdict (what the ledger and the report show) was
never checked: `passed = p <= 1` or `detected = True` survived. Here:
- a strictly INCREASING table (loss rising along the axis): the positive record must be certified and NOT passed;
- a strictly decreasing table: the positive record passes, and the same table as a negative control (where the
  statistic must NOT fire) must be NOT detected."""
from __future__ import annotations

import numpy as np

from claims import claim5_depth_width as c5


def _runs_from_table(table: np.ndarray, axis: str = "width") -> list[dict]:
    other = "depth" if axis == "width" else "width"
    return [{"activation": "tanh", "seed": b, other: 1, axis: j + 1, "certified": True, "l": float(v)}
            for b, row in enumerate(table) for j, v in enumerate(row)]


def _table(decreasing: bool, n_blocks: int = 8, k: int = 4) -> np.ndarray:
    rows = np.sort(np.random.default_rng(0).random((n_blocks, k)), axis=1)
    return rows[:, ::-1].copy() if decreasing else rows


def test_claim5_rising_loss_fails_the_positive_record():
    t = c5.trend_test(_runs_from_table(_table(decreasing=False)), "width", n_resamples=999)
    rec = c5._trend_record("trend-width[planted-rising]", t)
    assert rec.certified and t["pvalue"] > 0.5, rec.reason
    assert rec.passed is False, rec.reason


def test_claim5_falling_loss_passes_and_is_not_a_control_detection():
    t = c5.trend_test(_runs_from_table(_table(decreasing=True)), "width", n_resamples=999)
    assert t["pvalue"] < c5.ALPHA
    assert c5._trend_record("trend-width[planted-falling]", t).passed is True
    ctl = c5._trend_record("control[planted-falling]", t, kind="negative-control")
    assert ctl.detected is False, ctl.reason  # the statistic fired: a control that must not fire is NOT satisfied
