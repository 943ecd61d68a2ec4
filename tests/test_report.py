"""`minimacheck report` on a tiny configuration (--quick) into tmp_path.

The other claims are replaced by stand-ins (one per registered id, so every registered claim must get a verdict),
one of which raises: the report must record ERROR for it, carry on, and exit non-zero. Test names here carry no
claim id, so `pytest -k claimN` never selects them.
"""
from __future__ import annotations

import argparse
import json

import pytest
from hypothesis import strategies as st

from minimacheck import report
from minimacheck.contract import Claim, Evidence, Kind, Part, Unreached
from minimacheck.ledger import Record
from minimacheck.registry import discover

pytestmark = pytest.mark.meta

BROKEN = "claim2"  # the stand-in that raises


def _stand_in(cid: str) -> Claim:
    """A contract claim whose check returns a passing record, with one detected control; BROKEN's check raises."""
    def check(params):
        if cid == BROKEN:
            raise RuntimeError("boom: a stand-in claim that crashes")
        return Record(cid, "ok", certified=True, passed=True, gap=0.0, tol=1.0, regime="only")

    def control(part):
        return Record(cid, "control", kind="negative-control", detected=True)

    part = Part(id=cid, statement="-", strategy=lambda regime=None: st.just(0), check=check, regime_of=lambda p: "only",
                regimes={"only": Unreached("stand-in")}, controls={"stand-in": control}, kind=Kind.TRAJECTORY)
    return Claim(id=cid, title="stand-in", source="test", statement="-", hypotheses=("-",),
                 evidence=Evidence.EXECUTED, parts=(part,))


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    ids = [cid for cid in discover() if cid != "claim5"]
    if BROKEN not in ids:
        ids.append(BROKEN)
    mp = pytest.MonkeyPatch()
    mp.setattr(report, "registered_claims", lambda: {cid: _stand_in(cid) for cid in ids})
    out = tmp_path_factory.mktemp("report")
    try:
        cfg = report.ReportConfig(out=str(out), quick=True, data=("synthetic",), jobs=1, progress=False)
        results = report.build(cfg, log=lambda *a: None)
    finally:
        mp.undo()
    return out, results, ids


def test_report_writes_summary_figures_and_results(quick_report):
    out, results, ids = quick_report
    for name in ("summary.md", "results.json", "loss_vs_depth.png", "loss_vs_width.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert (out / "loss_vs_width.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((out / "results.json").read_text())
    assert set(saved["verdicts"]) == set(ids) | {"claim5"}
    summary = (out / "summary.md").read_text()
    for cid in set(ids) | {"claim5"}:
        assert f"| {cid} |" in summary, f"no verdict row for {cid}"
    runs = saved["sweeps"][0]["runs"]
    assert runs and all({"l", "certified", "verdict", "claim1_l"} <= set(r) for r in runs)
    assert saved["timings"]["claims"] and saved["timings"]["sweep"] > 0


def test_report_records_error_for_a_crashing_claim_and_fails(quick_report):
    _, results, ids = quick_report
    assert results["verdicts"][BROKEN] == "ERROR"
    assert "boom" in results["errors"][BROKEN]
    assert all(results["verdicts"][c] == "PASS" for c in ids if c != BROKEN)
    assert report.exit_code(results) == 1


def test_report_certified_points_match_projection_value(quick_report):
    """The sweep's consistency check: at every certified point l equals 1/2||P_N[Dbar]y||^2 / (1/2||Y||^2)."""
    _, results, _ = quick_report
    cert = [r for s in results["sweeps"] for r in s["runs"] if r["certified"] and r["differentiable"]]
    assert cert, "the quick sweep certified no differentiable point"
    assert all(r["claim1_passed"] for r in cert)


def test_report_offline_data_set_is_an_error_not_a_crash(tmp_path, monkeypatch):
    from minimacheck import datasets

    monkeypatch.setenv("MINIMACHECK_DATA", str(tmp_path / "cache"))
    monkeypatch.setitem(datasets.REMOTE, "mnist", (datasets.RemoteFile("m.gz", "http://127.0.0.1:9/m.gz", "0" * 32),))
    monkeypatch.setattr(report, "registered_claims", lambda: {})
    cfg = report.ReportConfig(out=str(tmp_path / "r"), quick=True, data=("mnist",), jobs=1, progress=False)
    results = report.build(cfg, log=lambda *a: None)
    assert "offline" in results["errors"]["claim5 data set mnist"]
    assert report.exit_code(results) == 1
    assert (tmp_path / "r" / "summary.md").is_file()


def test_report_command_line_options():
    parser = argparse.ArgumentParser()
    report.add_parser(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(["report", "--out", "x", "--seed", "3", "--quick", "--data", "synthetic,digits",
                              "--depths", "1,2", "--widths", "2,4,8", "--seeds", "2", "--subsample", "40", "--jobs", "2"])
    assert args.func is report._cmd_report
    assert (args.out, args.seed, args.quick, args.data) == ("x", 3, True, ("synthetic", "digits"))
    assert (args.depths, args.widths, args.n_seeds, args.subsample, args.jobs) == ((1, 2), (2, 4, 8), 2, 40, 2)
    with pytest.raises(SystemExit):
        parser.parse_args(["report", "--depths", "1,x"])


def test_report_grid_follows_options_and_seed():
    cfg = report.ReportConfig(seed=2, depths=(1, 4), widths=(3,), n_seeds=3)
    g = cfg.grid()
    assert g.depths == (1, 4) and g.widths == (3,) and g.seeds == (2000, 2001, 2002)
    with pytest.raises(ValueError, match="--seeds must be >= 1"):
        report.ReportConfig(n_seeds=0).grid()
