"""The report's proofs (minimacheck.proofs): a claim's certified strict minimum is proven at the point its check
judged; a record whose certified loss is not the squared loss of the instance's net is refused, never proven for
the wrong function; the pinned binding-rank counterexample of claim9a is proven worse than the convex value."""
from __future__ import annotations

import dataclasses

import pytest

from claims import claim4_shallow as c4
from minimacheck import proofs
from minimacheck.artifacts import capture
from networks.tolerance import tau_fp

pytestmark = pytest.mark.meta


def _claim4_strict_minimum():
    part = c4.CLAIM.parts[0]
    for name in ("tanh-most-units-zero", "softplus-random-start", "abs-single-unit"):
        with capture(part) as seen:
            rec = part.check(c4.PINNED[name])
        if rec.certified and rec.extra.get("strength") == "strict-mod-symmetry":
            return rec, seen.find(rec)
    raise AssertionError("no pinned claim4 case is a strict-mod-symmetry minimum")


def test_claim_record_is_proven_at_the_point_its_check_judged():
    rec, captured = _claim4_strict_minimum()
    v = proofs.verify_record(rec, captured)
    assert v["ok"], v["reason"]
    # the float loss at theta-hat carries float64 rounding (tau_fp) and sits within it of the enclosure of L(theta*)
    L, tau = rec.extra["loss"], tau_fp(rec.extra["loss"])
    assert v["loss_lo"] - tau <= L <= v["loss_hi"] + tau


def test_a_record_for_another_objective_is_refused():
    rec, captured = _claim4_strict_minimum()
    other = dataclasses.replace(rec, extra={**rec.extra, "loss": 1.01 * rec.extra["loss"] + 1e-3})
    v = proofs.verify_record(other, captured)
    assert not v["ok"] and v["reason"].startswith("not verifiable"), v


def test_uncertified_or_non_strict_records_are_not_attempted():
    rec, captured = _claim4_strict_minimum()
    assert proofs.verify_record(dataclasses.replace(rec, certified=False), captured) is None
    assert proofs.verify_record(dataclasses.replace(rec, extra={**rec.extra, "strength": "probe"}), captured) is None


@pytest.mark.counterexample
def test_binding_rank_control_is_proven_worse_than_the_convex_value():
    row = proofs.quadratic_rank_bound()
    assert row["ok"] and row["comparison"] == "proven >", row
