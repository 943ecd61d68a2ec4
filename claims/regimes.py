"""Regime names shared by the claims that train from a start towards a target (claim1, claim4): trained instances
are '<family>/<start>-start/<target>-target' (family 'pl' or 'smooth', networks.activations.family), constructed
points are 'planted'. One spelling, so floors, `minimacheck yields` and the records agree across claims."""
from __future__ import annotations

from networks.activations import family

PLANTED = "planted"


def start_target_regime(activation: str, start: str, target: str) -> str:
    return PLANTED if start == PLANTED else f"{family(activation)}/{start}-start/{target}-target"


def parse_start_target(regime: str) -> tuple[str | None, str, str]:
    """(family, start, target) of a regime name; planted points: (None, 'planted', 'teacher')."""
    if regime == PLANTED:
        return None, PLANTED, "teacher"
    fam, start, target = regime.split("/")
    return fam, start.removesuffix("-start"), target.removesuffix("-target")
