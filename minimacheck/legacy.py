"""TRANSITIONAL: the pre-contract claim record (Claim.run(RunConfig)). Removed once every claim implements
minimacheck.contract; the registry ignores legacy claims."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from minimacheck.ledger import Record

CLAIM_ID = __import__("re").compile(r"^claim\d+$")


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


