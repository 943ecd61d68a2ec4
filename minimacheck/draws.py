"""Seeded draws from a claim's Hypothesis strategy, outside pytest (report mode, `minimacheck check`, floors).

The strategy is the one definition of a claim's instance space; this draws n parameter sets from it with Hypothesis
itself, seeded (`hypothesis.seed`) and without a database, so the same seed gives the same instances.
"""
from __future__ import annotations

from hypothesis import HealthCheck, Phase, given, seed, settings


def draw(strategy, n: int, seed_value: int = 0) -> list:
    """n examples of `strategy` (fewer if the space is smaller), the same for the same seed."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n == 0:
        return []
    out: list = []

    @seed(int(seed_value))
    @settings(max_examples=n, database=None, derandomize=False, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(x):
        if len(out) < n:
            out.append(x)

    collect()
    return out
