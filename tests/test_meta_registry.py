"""Tests of the suite itself: the registry, claim-id selection, and that the README and CI run the same command.

Parameter ids here deliberately avoid the literal claim ids, so that `-k <id>` never selects a meta test.
"""
from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

from minimacheck.registry import CLAIM_ID, discover

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The claims this release implements. A claim that disappears (a module deleted, a CLAIM renamed) fails here.
EXPECTED = {f"claim{n}" for n in range(1, 9)}

pytestmark = pytest.mark.meta


def test_registry_holds_every_implemented_claim():
    reg = discover(include_external=False)  # built-ins only: installed external claims are not counted here
    assert set(reg) == EXPECTED, f"registry has {sorted(reg)}, expected {sorted(EXPECTED)}"
    for cid, c in reg.items():
        assert c.title and c.source and c.statement, f"{cid} lacks title, source or statement"
        assert c.hypotheses, f"{cid} states no hypotheses"
        assert c.negative_controls, f"{cid} ships no negative control"


def test_no_claim_id_contains_another():
    """`pytest -k` is a substring match: claim1 would also select a future claim10."""
    ids = sorted(discover(include_external=False))
    for a in ids:
        assert CLAIM_ID.match(a)
        for b in ids:
            assert a == b or a not in b, f"id {a!r} is a substring of {b!r}: -k {a} would select both"


def test_keyword_selects_exactly_one_claim():
    """`pytest -k claimN` collects claim N's test module(s) and nothing else, for every registered claim."""
    procs = {}
    for cid in sorted(discover(include_external=False)):
        procs[cid] = subprocess.Popen(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-k", cid],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
    for cid, p in procs.items():
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, f"-k {cid}: collection failed\n{stdout}\n{stderr}"
        nodes = [line for line in stdout.splitlines() if "::" in line]
        assert nodes, f"-k {cid} selects no test"
        files = {n.split("::")[0] for n in nodes}
        pattern = re.compile(rf"^tests/test_{cid}_[a-z0-9_]+\.py$")
        stray = sorted(f for f in files if not pattern.match(f))
        assert not stray, f"-k {cid} also selects {stray}"


def test_readme_test_command_is_what_ci_runs():
    """CI calls the README's test command: the two must not drift apart."""
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    m = re.search(r"<!-- test-command -->\s*```(?:bash|sh)?\s*\n(.*?)\n```", readme, re.S)
    assert m, "README.md must mark its test command with <!-- test-command -->"
    command = m.group(1).strip()
    assert command in ci, f".ci/run does not run the README's test command:\n{command}"
