"""The claim registry: one module per claim, `claims/claimN_<slug>.py`, each exporting `CLAIM`.

A claim module holds, in one place: the statement and hypotheses (as CLAIMS.md gives them), how an instance is
built from drawn parameters, the check (instance -> Record with gap, tolerance and headroom) and the negative
controls. Tests in `tests/test_claimN_<slug>.py` draw parameters with Hypothesis and call the same check.
Modules are discovered by name, so adding a claim is copying one file (and its test file).
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from minimacheck.ledger import Record

CLAIM_MODULE = re.compile(r"^claim(\d+)_[a-z0-9_]+$")
CLAIM_ID = re.compile(r"^claim\d+$")


@dataclass(frozen=True)
class RunConfig:
    """Report-mode settings: how many positive instances, the seed that draws them, and a per-instance budget."""

    n_instances: int = 6
    seed: int = 0
    time_budget: float = 20.0

    def rng(self, salt: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, salt])


@dataclass(frozen=True)
class Claim:
    id: str
    title: str
    source: str
    statement: str
    hypotheses: tuple[str, ...]
    negative_controls: tuple[str, ...]
    run: Callable[[RunConfig], list[Record]] = field(repr=False)  # report mode: positive instances + controls
    sub_claims: tuple[str, ...] = ()

    def __post_init__(self):
        if not CLAIM_ID.match(self.id):
            raise ValueError(f"claim id must look like 'claimN', got {self.id!r}")


def discover() -> dict[str, Claim]:
    """Import every claims/claimN_<slug>.py and return {id: Claim}, ordered by N."""
    import claims as pkg

    found: dict[str, Claim] = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        m = CLAIM_MODULE.match(info.name)
        if not m:
            continue
        mod = importlib.import_module(f"claims.{info.name}")
        claim = getattr(mod, "CLAIM", None)
        if not isinstance(claim, Claim):
            raise TypeError(f"claims.{info.name} must define CLAIM = Claim(...)")
        if claim.id != f"claim{m.group(1)}":
            raise ValueError(f"claims.{info.name} defines {claim.id!r}; the file name says claim{m.group(1)}")
        if claim.id in found:
            raise ValueError(f"two modules define {claim.id}")
        found[claim.id] = claim
    return dict(sorted(found.items(), key=lambda kv: int(kv[0][5:])))


def get(claim_id: str) -> Claim:
    reg = discover()
    if claim_id not in reg:
        raise KeyError(f"unknown claim {claim_id!r}; registered: {', '.join(reg) or 'none'}")
    return reg[claim_id]
