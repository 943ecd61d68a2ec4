"""Common checks, generated for every registered claim part (scikit-learn's parametrize_with_checks pattern).

For each part of each claim in the registry (built-in and external), with ids that start with the part id so that
`pytest -k claimN` selects exactly claim N (and `-k claim9c` one sub-claim):
- `<part>-property`: the property test over the part's strategy: a decided positive must pass; uncertified and
  unresolved instances are recorded with their reason;
- `<part>-pinned-<name>`: every pinned exact or tight case;
- `<part>-control-<name>`: every negative control must be detected;
- `<part>-sabotage-<name>`: every injected broken subject must be caught;
- `<part>-forced-pass`: the part's check forced to passed=True must make some control test of the part fail, so no
  claim can be hollowed out with the suite green;
- `<part>-floor-<regime>`: per-regime certified-fraction floors on trained instances drawn from strategy(regime) at
  a fixed seed (planted points never count); an Unreached regime must still certify nothing (reaching it asks
  for a floor).
Claim-specific tests stay in tests/test_claimN_*.py.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from minimacheck import registry
from minimacheck.contract import Floor, Unreached, forced_pass, outcome_ok
from minimacheck.draws import draw

FLOOR_SEED = 0  # floors are measured on a fixed draw: a floor is a statement about these instances
PARTS = [part for _, part in registry.parts()]


def _cases(attr: str):
    return [pytest.param(part, name, id=f"{part.id}-{attr[:-1] if attr != 'pinned' else attr}-{name}")
            for part in PARTS for name in getattr(part, attr)]


def _judge(ledger, rec, what: str):
    ledger.add(rec)
    assert rec.passed is not False, f"{what}: the claim FAILED on a {'certified' if rec.certified else 'decided'} " \
                                     f"instance: {rec.reason}; gap/tol {rec.headroom}; {rec.extra}"
    if rec.headroom is not None and currently_in_test_context():
        target(rec.headroom, label=f"{rec.part} gap/tol")
    return rec


@pytest.mark.parametrize("part", [pytest.param(p, id=f"{p.id}-property") for p in PARTS])
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_property(claim_ledger, part, data):
    params = data.draw(part.strategy(), label="params")
    _judge(claim_ledger, part.check(params), f"{part.id} {params!r}")


@pytest.mark.parametrize("part,name", _cases("pinned"))
def test_pinned(claim_ledger, part, name):
    rec = _judge(claim_ledger, part.check(part.pinned[name]), f"{part.id} pinned {name}")
    assert rec.evidence, f"pinned case {name} decided nothing: {rec.reason}"


@pytest.mark.counterexample
@pytest.mark.parametrize("part,name", _cases("controls"))
def test_control(claim_ledger, part, name):
    rec = claim_ledger.add(part.controls[name](part))
    assert rec.kind == "negative-control", f"control {name} returned a {rec.kind} record"
    assert rec.detected, f"{part.id} control {name} was NOT detected: {rec.reason}; {rec.extra}"


@pytest.mark.meta
@pytest.mark.parametrize("part,name", _cases("sabotages"))
def test_sabotage(part, name):
    sab = part.sabotages[name]
    with sab.inject():
        records = sab.run(part)
    assert records, f"sabotage {name} produced no record"
    assert not all(outcome_ok(r) for r in records), (
        f"{part.id}: sabotage {name} ({sab.description}) went unnoticed: {[r.reason for r in records]}")


@pytest.mark.meta
@pytest.mark.parametrize("part", [pytest.param(p, id=f"{p.id}-forced-pass") for p in PARTS])
def test_forced_pass_is_caught(claim_ledger, part):
    """A check whose verdict is forced to passed=True: at least one of the part's own control tests must fail."""
    hollow = forced_pass(part)
    failed = []
    for name in hollow.controls:
        try:
            test_control(claim_ledger.__class__(), hollow, name)
        except AssertionError:
            failed.append(name)
            break
    assert failed, f"{part.id}: with its check forced to pass, every control still passes: the check can be hollowed out"


def _floor_cases():
    return [pytest.param(part, regime, id=f"{part.id}-floor-{regime.replace('/', '-')}")
            for part in PARTS for regime in part.regimes]


@pytest.mark.slow
@pytest.mark.parametrize("part,regime", _floor_cases())
def test_regime_floor(claim_ledger, part, regime):
    rule = part.regimes[regime]
    params = draw(part.strategy(regime), rule.draws, FLOOR_SEED)
    records = [claim_ledger.add(part.check(p)) for p in params]
    trained = [r for r in records if r.trained]
    assert trained, f"{part.id} {regime}: no trained instance was drawn"
    assert all(r.passed is not False for r in records), [r.reason for r in records if r.passed is False]
    certified = sum(r.certified for r in trained)
    reasons = sorted({r.reason.split(':')[0] + ': ' + r.reason.split(':')[1][:60] if ':' in r.reason else r.reason
                      for r in trained if not r.certified})
    if isinstance(rule, Unreached):
        assert certified == 0, (f"{part.id} {regime} is marked unreached ({rule.reason}) but {certified}/{len(trained)} "
                                "certified: give it a Floor")
        assert all(r.reason for r in trained), "an uncertified instance must say why"
        return
    assert isinstance(rule, Floor)
    frac = certified / len(trained)
    assert frac >= rule.fraction, (f"{part.id} {regime}: certified {certified}/{len(trained)} = {frac:.2f} < floor "
                                   f"{rule.fraction} (measured {rule.measured}); uncertified: {reasons}")
