"""Run claims outside pytest (`minimacheck check`, `minimacheck report`): the same strategy, checks, pinned cases
and controls the generated tests use, drawn with a seed."""
from __future__ import annotations

from minimacheck.contract import Claim, Part
from minimacheck.draws import draw
from minimacheck.ledger import Record


def run_part(part: Part, n: int, seed: int, *, controls: bool = True) -> list[Record]:
    """n positive instances drawn from the part's strategy (seeded), its pinned cases and its controls."""
    records = [part.check(p) for p in draw(part.strategy(), n, seed)]
    records += [part.check(p) for p in part.pinned.values()]
    if controls:
        records += [control(part) for control in part.controls.values()]
    return records


def run_claim(claim: Claim, n: int, seed: int, *, controls: bool = True) -> list[Record]:
    return [r for part in claim.parts for r in run_part(part, n, seed, controls=controls)]
