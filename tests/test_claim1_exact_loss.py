"""claim1 (exact loss value at differentiable critical points): claim-specific tests. The property test, pinned
cases, controls, sabotages, forced pass and per-regime floors are generated for every claim in tests/test_common.py;
the check itself lives in claims/claim1_exact_loss.py.

Kept here (power tests, exact cases, bad input):
- the acceptance threshold: a tanh OUTPUT layer makes claim1a false; scaling the output weights by c makes the
  violation small (~c^3: gap/tol = 1.1e9, 1.1e4, 10, 0.27 at c = 1, 0.1, 0.01, 0.003, measured), so at c = 0.03 the
  check (its scope told the output is linear) sees a C-crit point with a violation of a few hundred tolerances and
  must say passed=False;
  no positive test can see a loosened threshold (e.g. `passed = h <= 1e6`);
- control specificity: a control fed an instance where the claim HOLDS must not report a detection;
- claim1d is exercised (full row rank, L = 0) and 1b bites (an under-parameterized trained PL point, L > 0, every
  per-layer identity asserted);
- a trainer stopped after 2 iterations is refused, and the floor of its regime then fails.
"""
from __future__ import annotations

import numpy as np
import pytest

from claims import claim1_exact_loss as c1
from minimacheck.draws import draw

PART = c1.CLAIM.parts[0]


def _mild_tanh_output_violation(c: float = 0.03) -> c1.Instance:
    p = c1.Params(m=30, d_x=3, d_y=2, widths=(4, 3), activation="softplus", seed=7, start="planted",
                  output_activation="tanh")
    inst = c1.build(p)
    Ws, R = inst.model.unflatten(inst.theta)
    Ws = [W.clone() for W in Ws]
    Ws[-1] = Ws[-1] * c
    theta = inst.model.flatten(Ws, R)
    Y = c1.plant(inst.model, inst.X, theta, np.random.default_rng(99))  # grad L = 0 exactly at theta
    return c1.Instance(p, inst.model, inst.X, Y, theta, note=f"tanh output, output weights x{c}")


def _in_scope(p):
    """The tanh-output instance judged as if its output layer were linear: only 1a/1c/1d/1e are asserted (with
    hypotheses off, homogeneity and 1b would fail by ~1e9 tolerances and hide the threshold)."""
    return {"linear_output": True, "homogeneous": False}


def test_claim1_check_fails_a_mild_critical_violation(monkeypatch):
    monkeypatch.setattr(c1, "scope", _in_scope)
    rec = c1.check_at(_mild_tanh_output_violation())
    assert rec.certified, rec.reason
    assert 1.0 < rec.gap < 1e5, f"instance drifted: gap/tol = {rec.gap:.3g} (expected a mild violation)"
    assert rec.passed is False, f"a C-crit claim1a violation of {rec.gap:.3g} tolerances was passed"


def test_claim1_nonlinear_output_is_outside_the_hypotheses():
    rec = c1.check_at(_mild_tanh_output_violation())
    assert not rec.certified and rec.passed is None and rec.reason.startswith("outside hypotheses")


def test_claim1_passed_is_exactly_headroom_at_most_one(monkeypatch):
    """passed <=> gap/tol <= 1, on a passing pinned instance and on the mild violation."""
    honest = c1.check(c1.PINNED["leaky-depth-3"])
    monkeypatch.setattr(c1, "scope", _in_scope)
    for rec in (honest, c1.check_at(_mild_tanh_output_violation())):
        assert rec.certified and rec.tol == 1.0, rec.reason
        assert rec.passed == (rec.gap <= 1.0), (rec.gap, rec.passed)


def test_claim1_tanh_output_control_is_not_detected_on_a_linear_output(monkeypatch):
    real = c1._planted

    def linear_output(activation, seed, **kw):
        kw["output_activation"] = "linear"
        return real(activation, seed, **kw)

    monkeypatch.setattr(c1, "_planted", linear_output)
    rec = c1.control_tanh_output(PART)
    assert rec.extra["verdict"] == c1.Verdict.CRITICAL.value, rec.reason  # a C-crit point ...
    assert not rec.detected, rec.reason  # ... where claim1a holds, so nothing may be "detected"


def test_claim1_per_layer_control_is_not_detected_on_a_homogeneous_net(monkeypatch):
    """The tanh-per-layer control run on a leaky-ReLU net (input-only bias): 1b holds there."""
    real = c1._planted
    monkeypatch.setattr(c1, "_planted", lambda activation, seed, **kw: real("leaky_relu", seed, **kw))
    rec = c1.control_tanh_per_layer(PART)
    assert rec.extra["verdict"] == c1.Verdict.CRITICAL.value and not rec.detected, rec.reason


def test_claim1_guards_off_control_is_not_detected_at_a_critical_point(monkeypatch):
    monkeypatch.setattr(c1, "adam_end_point", lambda seed=3: c1.build(c1.PINNED["width-one-bottleneck"]))
    rec = c1.control_guards_off(PART)
    assert not rec.detected, rec.reason


def test_claim1_tanh_hypotheses_leave_out_the_per_layer_identity():
    """With hypotheses on, a tanh critical point is judged on 1a/1c/1e only (1b needs a PL-homogeneous sigma)."""
    rec = c1.check_at(c1._planted("tanh", 5))
    assert rec.certified and rec.passed, rec.reason
    assert "1b" not in rec.extra["ran"] and {"1a", "1c", "1e"} <= set(rec.extra["ran"])


def test_claim1_full_rank_instance_is_global():
    """claim1d is exercised: an over-parameterized point has rank D-bar = m d_y and L = 0."""
    rec = c1.check(c1.PINNED["abs-full-rank"])
    assert rec.certified and rec.passed and rec.extra["full_rank"] and "1d" in rec.extra["ran"], rec.reason


def test_claim1_under_parameterized_trained_point_bites():
    """A PL net trained from a random start on random targets: P < m d_y, L > 0, every identity of 1a-1c and 1e
    asserted (1b at every layer)."""
    rec = c1.check(c1.PINNED["leaky-under-parameterized-random-target"])
    assert rec.certified and rec.passed and rec.trained, rec.reason
    assert rec.extra["under_parameterized"] and rec.extra["loss"] > 1.0 and not rec.extra["full_rank"]
    assert {"1a", "1b", "1c", "1e"} <= set(rec.extra["ran"])
    for layer in (1, 2):
        assert rec.extra["checks"][f"1b-D^({layer})"][3], f"per-layer identity {layer} not asserted"


def test_claim1_draws_include_under_parameterized_nets():
    """Every trained regime's floor draw holds under-parameterized nets (P < m d_y: L > 0 at a critical point)."""
    for regime in c1.REGIMES:
        params = draw(PART.strategy(regime), 12, 0)
        assert any(c1.make_model(p).n_params < p.m * p.d_y for p in params), regime


def test_claim1_gram_schmidt_split_at_full_rank():
    """Past failure: at full row rank the 1c split lost orthogonality without re-projection. The record is
    unresolved (L ~ 0 and slack_a ~ 3e-9 against a scale of tau_fp), but 1c's own sub-checks are decided."""
    rec = c1.check(c1.GRAM_SCHMIDT_FULL_RANK)
    assert rec.certified and rec.extra["full_rank"], rec.reason
    for name in ("1c-terms", "1c-sum"):
        gap, tol, sub, asserted = rec.extra["checks"][name]
        assert asserted and gap <= tol, (name, gap, tol)


@pytest.mark.meta
@pytest.mark.parametrize("act", ["leaky_relu", "tanh"])
def test_claim1_flipped_bracket_is_caught_off_critical_points(monkeypatch, act):
    """claim1e holds at any differentiable point; reversed, it fails there (at a critical point L - lo is below
    tau_fp, so only a non-critical point separates the two)."""
    inst = c1.build(c1.Params(m=30, d_x=3, d_y=1, widths=(4,), activation=act, seed=31, start="planted"))
    inst.Y = inst.Y + 1.0
    assert c1.evaluate(inst)["checks"]["1e-D-bar"][0] <= 1.0
    monkeypatch.setattr(c1, "bracket_headroom", c1._flipped_bracket)
    assert c1.evaluate(inst)["checks"]["1e-D-bar"][0] > 1.0


@pytest.mark.meta
def test_claim1_early_stop_fails_the_floor():
    """A trainer stopped after 2 iterations: every instance is refused (recorded, not passed), below any floor."""
    regime = "smooth/random-start/random-target"
    recs = [c1.check_at(c1.build(p, max_iter=2)) for p in draw(PART.strategy(regime), 3, 0)]
    assert all(not r.certified and r.passed is None and r.reason.startswith("not certified") for r in recs)
    assert sum(r.certified for r in recs) / len(recs) < c1.REGIMES[regime].fraction


def test_claim1_bad_input_raises():
    with pytest.raises(ValueError, match="activation"):
        c1.Params(m=10, d_x=2, d_y=1, widths=(2,), activation="nope", seed=0).validate()
    with pytest.raises(ValueError, match="widths"):
        c1.Params(m=10, d_x=2, d_y=1, widths=(0,), activation="tanh", seed=0).validate()
    with pytest.raises(ValueError, match="start"):
        c1.Params(m=10, d_x=2, d_y=1, widths=(2,), activation="tanh", seed=0, start="zero").validate()
    with pytest.raises(ValueError, match="unknown regime"):
        c1.strategy("nonsense")
