"""Tests of the suite itself: the registry, claim-id selection, and that the README and CI run the same command.

Parameter ids here deliberately avoid the literal claim ids, so that `-k <id>` never selects a meta test.
"""
from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest

from minimacheck.contract import PART_ID
from minimacheck.registry import CLAIM_ID, builtin, discover

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The built-in claims this release implements. A claim that disappears (a module deleted, a CLAIM renamed) fails
# here. External claims (entry points) are not counted.
EXPECTED = {f"claim{n}" for n in range(1, 10)}

pytestmark = pytest.mark.meta


def test_registry_holds_every_implemented_claim():
    reg = builtin()
    assert set(reg) == EXPECTED, f"registry has {sorted(reg)}, expected {sorted(EXPECTED)}"
    for cid, c in reg.items():
        assert c.title and c.source and c.statement, f"{cid} lacks title, source or statement"
        assert c.hypotheses, f"{cid} states no hypotheses"
        assert c.negative_controls, f"{cid} ships no negative control"
        for part in c.parts:
            assert PART_ID.match(part.id) and part.id.startswith(cid), part.id
            assert part.regimes and part.controls, f"{part.id} lacks regimes or controls"


def test_no_claim_id_contains_another():
    """`pytest -k` is a substring match: claim1 would also select a future claim10."""
    ids = sorted(builtin())
    assert all(not CLAIM_ID.match(c) for c in set(discover()) - set(ids)), "external claims must not use claimN ids"
    for a in ids:
        assert CLAIM_ID.match(a)
        for b in ids:
            assert a == b or a not in b, f"id {a!r} is a substring of {b!r}: -k {a} would select both"


def test_keyword_selects_exactly_one_claim():
    """`pytest -k claimN` collects claim N's test module(s) and its generated common checks, nothing else, for every
    built-in claim; every claim has generated checks of each kind."""
    procs = {}
    for cid in sorted(builtin()):
        procs[cid] = subprocess.Popen(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-k", cid],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
    for cid, p in procs.items():
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, f"-k {cid}: collection failed\n{stdout}\n{stderr}"
        nodes = [line for line in stdout.splitlines() if "::" in line]
        assert nodes, f"-k {cid} selects no test"
        pattern = re.compile(rf"^tests/test_{cid}_[a-z0-9_]+\.py::")
        common = re.compile(rf"^tests/test_common\.py::test_[a-z_]+\[{cid}[a-z]?-")
        stray = sorted(n for n in nodes if not (pattern.match(n) or common.match(n)))
        assert not stray, f"-k {cid} also selects {stray[:5]}"
        generated = {n.split("::")[1].split("[")[0] for n in nodes if common.match(n)}
        assert {"test_property", "test_control", "test_forced_pass_is_caught", "test_regime_floor"} <= generated, (
            f"-k {cid}: generated checks missing: {generated}")


def test_subclaim_keyword_selects_one_subclaim():
    """`pytest -k claimNx` selects that sub-claim's generated checks and no sibling's."""
    subs = [p.id for c in builtin().values() for p in c.parts if p.id != c.id]
    assert subs, "no built-in claim has sub-claims"
    sub = subs[0]
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-k", sub,
                          "tests/test_common.py"], cwd=ROOT, capture_output=True, text=True, timeout=300).stdout
    nodes = [line for line in out.splitlines() if "::" in line]
    assert nodes and all(f"[{sub}-" in n for n in nodes), nodes[:5]


def test_readme_test_command_is_what_ci_runs():
    """CI calls the README's test command: the two must not drift apart."""
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    m = re.search(r"<!-- test-command -->\s*```(?:bash|sh)?\s*\n(.*?)\n```", readme, re.S)
    assert m, "README.md must mark its test command with <!-- test-command -->"
    command = m.group(1).strip()
    assert command in ci, f".ci/run does not run the README's test command:\n{command}"
