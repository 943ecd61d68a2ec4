"""minimacheck.pytest_plugin: inert about numerics and Hypothesis unless asked; profiles, seed header and the shared
example database when asked; parametrize_with_claims ids."""
from __future__ import annotations

import subprocess
import sys

import pytest
from ext_claim_fixtures import forget_modules, make_test_claims, subprocess_env

pytestmark = pytest.mark.meta

PROBE = '''
import os, sys
from hypothesis import settings

def test_probe(claim_ledger):
    assert "torch" not in sys.modules  # the plugin never touches torch (dtype, threads)
    db = settings().database
    with open(os.environ["PROBE_OUT"], "w") as f:
        f.write(f"{settings.get_current_profile_name()}|{type(db).__name__}|{getattr(db, 'path', '')}")
'''


def _run(tmp_path, tag, *args, **env):
    proj = tmp_path / tag
    proj.mkdir()
    (proj / "test_probe.py").write_text(PROBE)
    out = proj / "out.txt"
    e = subprocess_env([], PROBE_OUT=str(out), **env)
    for k in ("CI", "MINIMACHECK_SEED", "HYPOTHESIS_PROFILE", "MINIMACHECK_HYPOTHESIS_DB"):
        if k not in env:
            e.pop(k, None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "minimacheck.pytest_plugin", "-p", "no:cacheprovider",
                           *args, str(proj)], cwd=proj, env=e, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out.read_text().split("|"), proc.stdout


def test_plugin_is_inert_unless_asked(tmp_path):
    (profile, db, _), head = _run(tmp_path, "inert", MINIMACHECK_SEED="5")
    assert profile == "default" and "minimacheck:" not in head


def test_asked_for_it_loads_profiles_seed_and_shared_database(tmp_path):
    shared = tmp_path / "shared-db"
    (profile, db, path), head = _run(tmp_path, "asked", "-o", "minimacheck=true", HYPOTHESIS_PROFILE="thorough",
                                     MINIMACHECK_HYPOTHESIS_DB=str(shared))
    assert profile == "thorough" and db == "DirectoryBasedExampleDatabase" and path == str(shared)
    assert "minimacheck: hypothesis profile=thorough, MINIMACHECK_SEED=random" in head
    (profile, db, _), head = _run(tmp_path, "seeded", "-o", "minimacheck=true", MINIMACHECK_SEED="7", CI="true")
    assert profile == "ci-seeded" and "MINIMACHECK_SEED=7" in head


def test_parametrize_with_claims_ids(tmp_path, monkeypatch):
    from minimacheck import pytest_plugin

    for p in make_test_claims(tmp_path / "dist"):
        monkeypatch.syspath_prepend(p)
    forget_modules("mc_testclaim")
    try:
        cases = pytest_plugin.claim_cases(ids=["mc_testclaim.ok"])
        ids = [f"{p.id}-{c}" for p, c in cases]
        assert ids == ["mc_testclaim.ok-property", "mc_testclaim.ok-pinned-edge", "mc_testclaim.ok-control-too-big",
                       "mc_testclaim.ok-forced-pass", "mc_testclaim.ok-floor-all"]
        mark = pytest_plugin.parametrize_with_claims(ids=["mc_testclaim.ok"])
        assert mark.args[0] == "part,check" and [p.id for p in mark.args[1]] == ids
        for part, check in cases:
            pytest_plugin.run_check(part, check)
    finally:
        forget_modules("mc_testclaim")
