"""Records of claim instances and the per-claim summary.

Every instance a check sees becomes a Record, whether it was certified or not: nothing is passed silently.
The pytest summary, `minimacheck check` and `minimacheck report` all print from these records.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

KINDS = ("positive", "negative-control", "sabotage")


@dataclass
class Record:
    claim: str
    check: str
    kind: str = "positive"
    certified: bool = False
    passed: bool | None = None  # the claim's assertion held (None: not asserted, e.g. uncertified)
    gap: float | None = None  # observed gap, in the claim's units (e.g. L_net - L_baseline)
    tol: float | None = None  # tolerance derived from the certificates
    detected: bool | None = None  # negative controls: was the violation found?
    reason: str = ""
    extra: dict = field(default_factory=dict)
    part: str = ""  # the sub-claim (claim3a, claim9c, ...); the claim id itself for claims without sub-claims
    regime: str = ""  # the regime of the instance (strategy's regime_of): floors are counted per regime
    trained: bool = True  # trained from a start (random or teacher); False for planted / constructed points

    @property
    def unresolved(self) -> bool:
        """Certified, but the assertion could not be decided (an infinite or oversized slack): never a pass."""
        return self.kind == "positive" and self.certified and self.passed is None

    @property
    def evidence(self) -> bool:
        """The claim's assertion was evaluated on this positive instance (certified and decided, or executed)."""
        return self.kind == "positive" and self.passed is not None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Record.kind must be one of {KINDS}, got {self.kind!r}")
        # plain Python values: numpy scalars cannot cross pytest-xdist's wire (nor Hypothesis's target statistics)
        self.certified = bool(self.certified)
        self.trained = bool(self.trained)
        self.part = self.part or self.claim
        for name in ("passed", "detected"):
            v = getattr(self, name)
            setattr(self, name, None if v is None else bool(v))
        for name in ("gap", "tol"):
            v = getattr(self, name)
            setattr(self, name, None if v is None else float(v))

    @property
    def headroom(self) -> float | None:
        """gap / tolerance: <= 1 passes; values near 1 are near-failures worth a look."""
        if self.gap is None or self.tol is None or self.tol <= 0:
            return None
        return self.gap / self.tol

    def to_dict(self) -> dict:
        """Plain Python values only (no numpy scalars or arrays), so records cross pytest-xdist's wire and JSON."""
        return _plain(asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> "Record":
        return cls(**d)


def _plain(obj):
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if type(obj) in (bool, int, float, str) or obj is None:  # exact types: np.float64 subclasses float
        return obj
    if hasattr(obj, "tolist"):  # numpy scalars and arrays, torch tensors
        return _plain(obj.tolist())
    return str(obj)


class Ledger:
    def __init__(self):
        self.records: list[Record] = []

    def add(self, record: Record) -> Record:
        self.records.append(record)
        return record

    def of(self, claim: str | None = None, kind: str | None = None) -> list[Record]:
        return [r for r in self.records if (claim is None or r.claim == claim) and (kind is None or r.kind == kind)]

    def certified_fraction(self, kind: str = "positive") -> float:
        recs = self.of(kind=kind)
        return sum(r.certified for r in recs) / len(recs) if recs else float("nan")

    def assert_certified_fraction(self, floor: float, kind: str = "positive") -> None:
        """Fail when too few instances certified: certification is counted, never assumed."""
        recs = self.of(kind=kind)
        if not recs:
            raise AssertionError("no instances were recorded")
        frac = self.certified_fraction(kind)
        if not frac >= floor:
            reasons = sorted({r.reason for r in recs if not r.certified})
            raise AssertionError(
                f"certified fraction {frac:.2f} ({sum(r.certified for r in recs)}/{len(recs)}) is below the "
                f"floor {floor:.2f}; reasons: {reasons}"
            )


@dataclass
class ClaimSummary:
    claim: str
    drawn: int = 0
    certified: int = 0
    passed: int = 0
    failed: int = 0
    worst_headroom: float = -math.inf
    controls: int = 0
    controls_detected: int = 0
    unresolved: int = 0
    evidence: int = 0  # positives whose assertion was evaluated

    @property
    def verdict(self) -> str:
        """PASS needs evidence: a claim with no decided positive instance has not been tested ("no evidence" is not
        a pass)."""
        if self.failed or self.controls_detected < self.controls:
            return "FAIL"
        if self.evidence == 0:
            return "NO EVIDENCE"
        return "PASS"


def summarize(records: list[Record], by: str = "claim") -> dict[str, ClaimSummary]:
    """Per claim (by='claim') or per sub-claim (by='part')."""
    out: dict[str, ClaimSummary] = {}
    for r in records:
        key = getattr(r, by)
        s = out.setdefault(key, ClaimSummary(key))
        if r.kind == "positive":
            s.drawn += 1
            s.certified += bool(r.certified)
            s.unresolved += r.unresolved
            s.evidence += r.evidence
            if r.passed is True:
                s.passed += 1
            elif r.passed is False:
                s.failed += 1
            if r.headroom is not None and r.certified:
                s.worst_headroom = max(s.worst_headroom, r.headroom)
        else:
            s.controls += 1
            s.controls_detected += bool(r.detected)
    return dict(sorted(out.items(), key=lambda kv: _claim_key(kv[0])))


def _claim_key(claim: str):
    digits = "".join(c for c in claim if c.isdigit())
    return (int(digits) if digits else 0, claim)


def summary_lines(records: list[Record], by: str = "claim") -> list[str]:
    head = (f"{'claim':<9} {'drawn':>6} {'certified':>9} {'passed':>6} {'failed':>6} {'unresolved':>10} "
            f"{'worst gap/tol':>13} {'controls caught':>15}  verdict")
    lines = [head, "-" * len(head)]
    for s in summarize(records, by).values():
        worst = f"{s.worst_headroom:.3g}" if s.worst_headroom > -math.inf else "-"
        lines.append(
            f"{s.claim:<9} {s.drawn:>6} {s.certified:>9} {s.passed:>6} {s.failed:>6} {s.unresolved:>10} {worst:>13} "
            f"{f'{s.controls_detected}/{s.controls}':>15}  {s.verdict}"
        )
    return lines
