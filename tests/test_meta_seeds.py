"""MINIMACHECK_SEED really seeds: the same N gives the same Hypothesis examples (under the ci profile too), a
different N gives different ones, and `any` draws one N that every pytest-xdist worker uses.

Each case runs pytest in a subprocess on a throw-away folder holding a copy of the project's conftest and a probe
test that writes the examples it is given (drawn from claim4's real strategy) to a file.
"""
from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.meta

PROBE = '''
import os
from hypothesis import core, given, settings
from claims.claim4_shallow import strategy

@settings(max_examples=6)
@given(strategy())
def test_probe_examples(p):
    with open(os.environ["PROBE_OUT"], "a") as f:
        f.write(repr(p) + "\\n")

def test_probe_worker_seed_a():
    with open(os.environ["PROBE_OUT"] + ".seeds", "a") as f:
        f.write(f"{core.global_force_seed}\\n")

def test_probe_worker_seed_b():
    with open(os.environ["PROBE_OUT"] + ".seeds", "a") as f:
        f.write(f"{core.global_force_seed}\\n")
'''


def _run(tmp_path: pathlib.Path, seed: str, tag: str, *extra: str) -> tuple[list[str], list[str], str]:
    folder = tmp_path / tag
    folder.mkdir()
    (folder / "conftest.py").write_text((ROOT / "conftest.py").read_text())
    (folder / "test_probe.py").write_text(PROBE)
    out = folder / "examples.txt"
    env = {**os.environ, "CI": "true", "MINIMACHECK_SEED": seed, "PROBE_OUT": str(out)}
    env.pop("HYPOTHESIS_PROFILE", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *extra,
                           str(folder)], cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    seeds = pathlib.Path(str(out) + ".seeds").read_text().split()
    return out.read_text().splitlines(), seeds, proc.stdout


def test_same_seed_same_examples_other_seed_other_examples(tmp_path):
    one, seeds1, head1 = _run(tmp_path, "1", "one")
    one_again, _, _ = _run(tmp_path, "1", "again")
    two, seeds2, _ = _run(tmp_path, "2", "two")
    assert one == one_again, "MINIMACHECK_SEED=1 did not reproduce its own examples"
    assert one != two, "MINIMACHECK_SEED=1 and =2 ran the same examples: the seed does not reach Hypothesis"
    assert set(seeds1) == {"1"} and set(seeds2) == {"2"}
    assert "MINIMACHECK_SEED=1" in head1


def test_any_draws_one_seed_shared_by_every_worker(tmp_path):
    _, seeds, head = _run(tmp_path, "any", "any", "-n", "2")
    assert len(seeds) == 2 and len(set(seeds)) == 1, f"workers used different seeds: {seeds}"
    printed = re.search(r"MINIMACHECK_SEED=(\d+)", head)
    assert printed and printed.group(1) == seeds[0], head[:2000]
