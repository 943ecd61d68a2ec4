"""Example budgets for expensive Hypothesis properties that run fewer examples than the active profile in dev and
ci, while the thorough profile (and any profile of >= 200 examples) keeps its own count: a long campaign runs every
property at full strength, never capped by a fixed max_examples in the test."""
from __future__ import annotations

from hypothesis import settings

THOROUGH = 200


def at_most(n: int, **kw) -> settings:
    """settings(max_examples=min(n, profile)) below THOROUGH; the profile's count at THOROUGH and above."""
    current = settings.default.max_examples
    return settings(max_examples=current if current >= THOROUGH else min(n, current), **kw)
