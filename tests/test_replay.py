"""Replayable counterexamples: a violating instance writes a file; `minimacheck replay` exits 1 while the violation
stands and 0 once the check is fixed. Point claims are re-judged at the saved theta without retraining."""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from ext_claim_fixtures import ROOT, forget_modules, make_test_claims, subprocess_env

from minimacheck import artifacts, cli

pytestmark = pytest.mark.meta


@pytest.fixture
def test_claims(tmp_path, monkeypatch):
    for p in make_test_claims(tmp_path / "dist"):
        monkeypatch.syspath_prepend(p)
    forget_modules("mc_testclaim")
    import mc_testclaim.wrong

    yield mc_testclaim.wrong
    forget_modules("mc_testclaim")


def _strict(text):
    def bad(c):
        raise ValueError(f"non-finite number {c} in JSON")
    return json.loads(text, parse_constant=bad)


def test_check_writes_artifacts_and_replay_follows_the_fix(test_claims, tmp_path, monkeypatch, capsys):
    arts = tmp_path / "arts"
    junit_path = tmp_path / "junit.xml"
    code = cli.main(["check", "mc_testclaim.wrong", "-n", "3", "--seed", "1", "--artifacts", str(arts),
                     "--junit-xml", str(junit_path)])
    assert code == 1
    files = sorted(arts.glob("*.json"))
    assert len(files) == 4, files  # 3 positives + the pinned case violate the wrong bound; the control is caught
    doc = _strict(files[0].read_text())
    for key in ("claim", "part", "kind", "params", "params_class", "record", "versions", "schema_version", "git_commit",
                "device"):
        assert key in doc, key
    assert doc["params_class"] == "mc_testclaim.wrong:Params"
    assert "minimacheck replay" in capsys.readouterr().out
    suite = ET.parse(junit_path).getroot().find("testsuite")
    assert suite.get("tests") == "5" and suite.get("failures") == "4"

    for f in files:
        assert cli.main(["replay", str(f)]) == 1
    monkeypatch.setattr(test_claims, "BOUND", 2.0)  # the check fixed
    for f in files:
        assert cli.main(["replay", str(f)]) == 0
    assert "no longer stands" in capsys.readouterr().out


def test_replay_rejects_bad_files(tmp_path, capsys):
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    assert cli.main(["replay", str(bad)]) == 2
    assert cli.main(["replay", str(tmp_path / "missing.json")]) == 2
    assert "error" in capsys.readouterr().err


def test_point_claim_replays_at_the_saved_theta_without_training(tmp_path):
    """claim4 with its projection formula sabotaged 1% low fails at a pinned planted minimum; the file holds the
    instance (data, model, theta); replay re-judges it through check_at without training: 1 under the sabotage, 0
    with the genuine formula."""
    from unittest import mock

    from claims import claim4_shallow as c4
    from minimacheck import shard

    part = c4.CLAIM.parts[0]
    item = shard.Item("claim4", "claim4", "pinned", "planted-all-units-active", 0)
    sabotage = c4.SABOTAGES["formula-one-percent-low"]
    with sabotage.inject():
        rec, path = shard.run_item(part, item, artifacts_dir=tmp_path)
    assert rec.passed is False and path
    doc = _strict(open(path).read())
    assert doc["instance"] is not None and doc["theta"] is not None and doc["X"] is not None and doc["Y"] is not None
    assert doc["certificate"]["verdict"] == "certified local minimum"
    no_training = mock.patch.object(c4, "minimize_piecewise", side_effect=AssertionError("replay trained"))
    with sabotage.inject(), no_training:
        assert artifacts.replay(path)[0] is True
    with no_training:
        violated, rec2, how = artifacts.replay(path)
    assert violated is False and rec2.passed is True and "no training" in how


def test_failing_pytest_test_writes_a_replayable_file(tmp_path):
    """Under pytest with the plugin, a failing claim test (its claim_ledger holds the failing record) writes the
    file; replay exits 1."""
    paths = make_test_claims(tmp_path / "dist")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "test_ext.py").write_text(
        "from minimacheck.pytest_plugin import parametrize_with_claims, run_check\n\n"
        "@parametrize_with_claims(ids=['mc_testclaim.wrong'])\n"
        "def test_claim(part, check, claim_ledger):\n"
        "    run_check(part, check, claim_ledger)\n")
    fails = tmp_path / "fails"
    env = subprocess_env(paths, MINIMACHECK_FAILURES=str(fails), MINIMACHECK_SEED="3")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "minimacheck.pytest_plugin", "-p", "no:cacheprovider",
                           "-o", "minimacheck=true", "-q", "-k", "pinned", str(proj)], cwd=proj, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "mc_testclaim.wrong-pinned-edge" in proc.stdout
    (art,) = fails.glob("*.json")
    (txt,) = fails.glob("*.txt")
    assert "MINIMACHECK_SEED=3" in txt.read_text()
    rep = subprocess.run([sys.executable, "-m", "minimacheck", "replay", str(art)], env=env, capture_output=True,
                         text=True, timeout=300, cwd=ROOT)
    assert rep.returncode == 1, rep.stdout + rep.stderr
