"""The claim contract: what every claim module implements, with the same names everywhere.

A claim module `claims/claimN_<slug>.py` (or a package `claims/claimN_<slug>/` whose sub-modules are its sub-claims)
defines module-level names, and at its end one `CLAIM = Claim(...)` that bundles them:

- `strategy(regime=None)`: the Hypothesis strategy of the claim's instance parameters, the ONE definition of its
  instance space. Tests draw from it with @given; report mode and `minimacheck check` draw from it too
  (`minimacheck.draws.draw`, seeded and derandomized). With `regime`, it draws within that regime only.
- `regime_of(params) -> str`: the regime (structure / variant / activation family / start) an instance belongs to.
- `REGIMES`: {regime: Floor(...) or Unreached(...)}: per-regime certified-fraction floors, counted on trained
  instances only (planted points never count), each with the yield that was measured.
- `check(params) -> Record`: instance -> trained/certified point -> baseline -> verdict. It returns the positive
  Record of that instance (certified or not, with its reason; nothing is passed silently).
- `check_at(instance, theta, *, hypotheses=True) -> Record`: for claims whose check is about a point: the same
  check at a given point without training (what a replay of a saved counterexample needs). With hypotheses=False
  the assertion is evaluated even where the claim's hypotheses (the certificate, the structure) fail: that is how a
  negative control shows the hypothesis is needed. None for claims whose check is a trajectory or a trend.
- `PINNED`: {name: params}: exact or tight cases, run through `check`.
- `CONTROLS`: {name: control(part) -> Record}: negative controls. A control receives the Part, so it judges a
  violation through the part's own check (`part.check_at(..., hypotheses=False)` or `part.check`): a check that is
  forced to pass makes the control miss, and the suite goes red (the forced-pass meta-test).
- `SABOTAGES`: {name: Sabotage}: broken subjects injected from outside (a baseline 1% low, a flipped bound),
  never flags threaded through the check.

Sub-claims (claim3a..3c, claim7a/7b, claim9a..9f) are Parts of one Claim; test ids start with the part id, so
`pytest -k claim9c` selects one sub-claim and `-k claim9` all of them.
"""
from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass, field
from typing import Any

from minimacheck.ledger import Record

BUILTIN_ID = re.compile(r"^claim\d+$")
PART_ID = re.compile(r"^claim\d+[a-z]?$")
EXTERNAL_ID = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")  # <package>.<name>, never claimN


class Evidence(str, enum.Enum):
    """What counts as evidence that a claim was tested (exit code 1 when a claim has none)."""

    CERTIFIED = "certified instances"  # claims about minima: positives at certified points
    EXECUTED = "executed checks"  # kernel and trajectory claims: checks that ran to a verdict
    TREND = "a testable trend"  # claim5: a trend test with enough certified runs


class Kind(str, enum.Enum):
    POINT = "point"  # check_at(instance, theta) re-checks a saved point
    TRAJECTORY = "trajectory"  # a saved instance is re-run deterministically
    TREND = "trend"


@dataclass(frozen=True)
class Floor:
    """Certified-fraction floor of one regime: `draws` trained instances drawn from strategy(regime) at a fixed
    seed must certify at least `fraction` of the time. `measured` states the yield that justifies the floor."""

    fraction: float
    draws: int
    measured: str

    def __post_init__(self):
        if not 0 < self.fraction <= 1:
            raise ValueError(f"a floor must be in (0, 1]; a regime the engine cannot reach is Unreached, got {self.fraction}")
        if self.draws < 1:
            raise ValueError(f"a floor needs draws >= 1, got {self.draws}")


@dataclass(frozen=True)
class Unreached:
    """A regime the engine cannot certify today (measured yield 0). Its instances stay in the draws and are counted;
    the floor test asserts the yield is still 0, so reaching it fails loudly and asks for a floor."""

    reason: str
    draws: int = 3


@dataclass(frozen=True)
class Sabotage:
    """A broken subject injected from outside. `inject()` is a context manager that breaks something the check
    relies on (usually unittest.mock.patch of a baseline or bound); `run(part)` returns the records the suite
    produces under it. The sabotage is caught when a test would go red: a positive not passing or a control missed.
    """

    inject: Callable[[], ContextManager]
    run: Callable[["Part"], list[Record]]
    description: str = ""


@dataclass(frozen=True)
class Part:
    """One checked statement: a claim, or one of its sub-claims."""

    id: str
    statement: str
    strategy: Callable[..., Any]
    check: Callable[[Any], Record]
    regime_of: Callable[[Any], str]
    regimes: Mapping[str, Floor | Unreached]
    pinned: Mapping[str, Any] = field(default_factory=dict)
    controls: Mapping[str, Callable[["Part"], Record]] = field(default_factory=dict)
    sabotages: Mapping[str, Sabotage] = field(default_factory=dict)
    check_at: Callable[..., Record] | None = None
    kind: Kind = Kind.POINT

    def __post_init__(self):
        if not (PART_ID.match(self.id) or EXTERNAL_ID.match(self.id.split("-")[0])):
            raise ValueError(f"part id must look like 'claimN' or 'claimNx' (or '<package>.<name>'), got {self.id!r}")
        if self.kind is Kind.POINT and self.check_at is None:
            raise ValueError(f"{self.id}: a point claim must define check_at(instance, theta, *, hypotheses=True)")
        if not self.controls:
            raise ValueError(f"{self.id}: every part ships at least one negative control")
        if not self.regimes:
            raise ValueError(f"{self.id}: state the regimes the strategy draws, with a Floor or Unreached each")
        for name in (*self.pinned, *self.controls, *self.sabotages, *self.regimes):
            if re.search(r"claim\d", name):
                raise ValueError(f"{self.id}: name {name!r} must not contain a claim id (pytest -k is a substring match)")


@dataclass(frozen=True)
class Claim:
    id: str
    title: str
    source: str
    statement: str
    hypotheses: tuple[str, ...]
    evidence: Evidence
    parts: tuple[Part, ...]
    module: str = ""

    def __post_init__(self):
        if not (BUILTIN_ID.match(self.id) or EXTERNAL_ID.match(self.id)):
            raise ValueError(f"claim id must look like 'claimN' (built-in) or '<package>.<name>' (external), got {self.id!r}")
        if not self.parts:
            raise ValueError(f"{self.id}: a claim has at least one part")
        for p in self.parts:
            if not p.id.startswith(self.id):
                raise ValueError(f"{self.id}: part {p.id!r} must start with the claim id")

    @property
    def negative_controls(self) -> tuple[str, ...]:
        return tuple(f"{p.id}: {name}" for p in self.parts for name in p.controls)


# ---------------------------------------------------------------- judging records
def outcome_ok(record: Record) -> bool:
    """Would the suite's test for this record pass? Positives must not fail; controls must be detected."""
    if record.kind == "positive":
        return record.passed is not False
    return record.detected is True


def violation_detected(record: Record, *also: bool) -> Record:
    """A control's record: detected when the claim's own check judged the violation (passed is False) and every
    extra condition holds (e.g. the certifier rejected the point)."""
    return dataclasses.replace(record, kind="negative-control", detected=bool(record.passed is False and all(also)))


# ---------------------------------------------------------------- the forced-pass sabotage
def _forced(fn):
    def forced(*args, **kwargs):
        rec = fn(*args, **kwargs)
        return dataclasses.replace(rec, passed=True)

    return forced


def forced_pass(part: Part) -> Part:
    """The part with its check (and check_at) wrapped so every verdict is passed=True: a hollowed-out check. The
    suite must catch it: some control of the part must then be missed."""
    return dataclasses.replace(
        part, check=_forced(part.check), check_at=None if part.check_at is None else _forced(part.check_at))
