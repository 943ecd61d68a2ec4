"""The claim registry: built-in claims discovered by file name, external claims by entry point.

Built-in: every `claims/claimN_<slug>.py` (or package `claims/claimN_<slug>/`) exporting `CLAIM`, a
`minimacheck.contract.Claim` with id `claimN`. Adding a claim is copying one module; nothing else registers it.

External: an installed package declares, in its pyproject,

    [project.entry-points."minimacheck.claims"]
    mypkg = "mypkg.claims:CLAIM"

whose CLAIM (or a list of them) has an id `<package>.<name>`, never `claimN`: `pytest -k claimN` stays exact and
the built-in registry test counts built-ins only.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
import re

from minimacheck.contract import BUILTIN_ID, EXTERNAL_ID, Claim

CLAIM_MODULE = re.compile(r"^claim(\d+)_[a-z0-9_]+$")
CLAIM_ID = BUILTIN_ID
ENTRY_POINT_GROUP = "minimacheck.claims"


class UnknownClaim(KeyError):
    """An id that no registered claim has; the message lists the registered ids."""

    def __str__(self) -> str:
        return str(self.args[0])


def builtin_modules() -> list[str]:
    """Module names claims/claimN_<slug>, ordered by N, without importing them."""
    import claims as pkg

    mods = [i.name for i in pkgutil.iter_modules(pkg.__path__) if CLAIM_MODULE.match(i.name)]
    return sorted(mods, key=lambda n: int(CLAIM_MODULE.match(n).group(1)))


def load_builtin(name: str) -> Claim:
    m = CLAIM_MODULE.match(name)
    mod = importlib.import_module(f"claims.{name}")
    claim = getattr(mod, "CLAIM", None)
    if not isinstance(claim, Claim):
        raise TypeError(f"claims.{name} must define CLAIM = minimacheck.contract.Claim(...)")
    if claim.id != f"claim{m.group(1)}":
        raise ValueError(f"claims.{name} defines {claim.id!r}; the file name says claim{m.group(1)}")
    return claim


def builtin() -> dict[str, Claim]:
    found: dict[str, Claim] = {}
    for name in builtin_modules():
        claim = load_builtin(name)
        if claim.id in found:
            raise ValueError(f"two modules define {claim.id}")
        found[claim.id] = claim
    return found


def external() -> dict[str, Claim]:
    """Claims registered by installed packages under the entry-point group `minimacheck.claims`."""
    found: dict[str, Claim] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        obj = ep.load()
        for claim in obj if isinstance(obj, (list, tuple)) else [obj]:
            if not isinstance(claim, Claim):
                raise TypeError(f"entry point {ep.name} = {ep.value} must be a Claim or a list of Claims")
            if not EXTERNAL_ID.match(claim.id):
                raise ValueError(f"external claim ids are '<package>.<name>', never 'claimN'; {ep.value} defines {claim.id!r}")
            if claim.id in found:
                raise ValueError(f"two entry points define {claim.id}")
            found[claim.id] = claim
    return dict(sorted(found.items()))


def discover(include_external: bool = True) -> dict[str, Claim]:
    """{id: Claim}: built-ins ordered by N, then external claims by id."""
    reg = builtin()
    if include_external:
        for cid, claim in external().items():
            reg[cid] = claim
    return reg


def get(claim_id: str) -> Claim:
    reg = discover()
    if claim_id not in reg:
        raise UnknownClaim(f"unknown claim {claim_id!r}; registered: {', '.join(reg) or 'none'}")
    return reg[claim_id]


def parts(claim_ids=None):
    """(claim, part) pairs of the registry (or of the given ids), in order."""
    reg = discover()
    ids = list(reg) if claim_ids is None else list(claim_ids)
    return [(reg[c], p) for c in ids for p in reg[c].parts]
