"""Helpers for the tests of external claims, replay and sharding (not a test module).

External claims are registered without installing anything: a `*.dist-info` folder with an `entry_points.txt`
in a temporary folder on sys.path (in-process: monkeypatch.syspath_prepend; subprocesses: PYTHONPATH) is what
importlib.metadata reads, exactly as for an installed package. No network, no pip.
"""
from __future__ import annotations

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE_SRC = ROOT / "examples" / "minimacheck_example_claim"
EXAMPLE_ID = "minimacheck_example.output_lstsq"

TEST_CLAIM = '''
"""A test-only external claim: value(p) = 1 + a <= BOUND. With BOUND = 1 it is wrong (a violation for every
a > 0); with BOUND = 2 it holds. A trajectory-kind claim: replay re-runs check(params)."""
from dataclasses import dataclass

from hypothesis import strategies as st

from minimacheck.contract import Claim, Evidence, Floor, Kind, Part, violation_detected
from minimacheck.ledger import Record

CLAIM_ID = "mc_testclaim.{name}"
BOUND = {bound}


@dataclass(frozen=True)
class Params:
    a: float
    tag: tuple = ()


def strategy(regime=None):
    return st.builds(Params, a=st.floats(0.01, 1.0), tag=st.just((1, 2)))


def check(p):
    v = 1.0 + p.a
    return Record(CLAIM_ID, "bound", certified=True, passed=v <= BOUND, gap=v, tol=BOUND, regime="all",
                  reason=f"value {{v}} vs bound {{BOUND}}", extra={{"params": {{"a": p.a}}}})


def control_too_big(part):
    return violation_detected(part.check(Params(a=5.0)))


CLAIM = Claim(id=CLAIM_ID, title="test-only claim", source="tests", statement="1 + a <= BOUND",
              hypotheses=("none",), evidence=Evidence.EXECUTED,
              parts=(Part(id=CLAIM_ID, statement="1 + a <= BOUND", strategy=strategy, check=check,
                          regime_of=lambda p: "all", regimes={{"all": Floor(1.0, 1, "always")}},
                          pinned={{"edge": Params(a=0.75)}}, controls={{"too-big": control_too_big}},
                          kind=Kind.TRAJECTORY),))
'''


def write_dist(folder: pathlib.Path, dist: str, entry_points: dict[str, str]) -> pathlib.Path:
    """A minimal installed-distribution record: <dist>-0.1.0.dist-info/{METADATA, entry_points.txt}."""
    info = folder / f"{dist.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
    lines = ["[minimacheck.claims]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return folder


def example_dist(folder: pathlib.Path) -> list[str]:
    """sys.path entries that register the example claim package (its source folder + a dist-info)."""
    write_dist(folder, "minimacheck-example-claim", {"minimacheck_example": "minimacheck_example.output_lstsq:CLAIM"})
    return [str(folder), str(EXAMPLE_SRC)]


def make_test_claims(folder: pathlib.Path) -> list[str]:
    """sys.path entries registering mc_testclaim.wrong (BOUND 1: violated) and mc_testclaim.ok (BOUND 2)."""
    pkg = folder / "mc_testclaim"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "wrong.py").write_text(TEST_CLAIM.format(name="wrong", bound=1.0))
    (pkg / "ok.py").write_text(TEST_CLAIM.format(name="ok", bound=2.0))
    write_dist(folder, "mc-testclaim", {"wrong": "mc_testclaim.wrong:CLAIM", "ok": "mc_testclaim.ok:CLAIM"})
    return [str(folder)]


def forget_modules(*prefixes: str) -> None:
    for k in list(sys.modules):
        if k.split(".")[0] in prefixes:
            del sys.modules[k]


def subprocess_env(paths: list[str], **extra) -> dict:
    """This checkout first (not another installed copy of minimacheck), then the given paths."""
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *paths, *filter(None, [os.environ.get("PYTHONPATH")])])
    env.pop("HYPOTHESIS_PROFILE", None) if "HYPOTHESIS_PROFILE" not in extra else None
    return env
