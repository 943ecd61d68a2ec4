"""Claims from outside the repository: the example package (examples/minimacheck_example_claim), registered
through the `minimacheck.claims` entry point by a temporary dist-info on sys.path (no install, no network), shows in
`minimacheck list`, and runs under pytest: the project's generated common checks and the opt-in plugin."""
from __future__ import annotations

import subprocess
import sys

import pytest
from ext_claim_fixtures import EXAMPLE_ID, ROOT, example_dist, forget_modules, subprocess_env

from minimacheck import cli, registry

pytestmark = pytest.mark.meta


@pytest.fixture
def example(tmp_path, monkeypatch):
    for p in reversed(example_dist(tmp_path / "dist")):
        monkeypatch.syspath_prepend(p)
    forget_modules("minimacheck_example")
    yield
    forget_modules("minimacheck_example")


def test_example_claim_is_listed_and_builtins_are_counted_apart(example, capsys):
    assert cli.main(["list", "-v"]) == 0
    out = capsys.readouterr().out
    assert EXAMPLE_ID in out and "negative control: minimacheck_example.output_lstsq: moved-output-layer" in out
    assert EXAMPLE_ID in registry.discover() and EXAMPLE_ID not in registry.discover(include_external=False)
    assert list(registry.external()) == [EXAMPLE_ID]


def test_generated_common_checks_pick_up_the_example_claim(tmp_path):
    """tests/test_common.py's parametrization goes through registry.discover(): the example claim's property,
    pinned cases, control, sabotage, forced-pass and floors run under the project's conftest (and plugin)."""
    env = subprocess_env(example_dist(tmp_path / "dist"), HYPOTHESIS_PROFILE="mutation")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rN", "-v",
                           "tests/test_common.py", "-k", "minimacheck_example"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    for case in ("property", "pinned-teacher-small", "control-moved-output-layer", "sabotage-baseline-one-percent-low",
                 "forced-pass", "floor-small-noise"):
        assert f"[{EXAMPLE_ID}-{case}] PASSED" in proc.stdout, case
    assert "minimacheck claims summary" in proc.stdout


def test_example_claim_runs_under_the_plugin_in_another_project(tmp_path):
    """A project without this repository's conftest: `pytest -p minimacheck.pytest_plugin` with
    parametrize_with_claims(ids=[...]) and run_check."""
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "test_theirs.py").write_text(
        "from minimacheck.pytest_plugin import parametrize_with_claims, run_check\n\n"
        f"@parametrize_with_claims(ids=[{EXAMPLE_ID!r}])\n"
        "def test_claim(part, check, claim_ledger):\n"
        "    run_check(part, check, claim_ledger)\n")
    env = subprocess_env(example_dist(tmp_path / "dist"), HYPOTHESIS_PROFILE="mutation")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "minimacheck.pytest_plugin", "-p", "no:cacheprovider",
                           "-o", "minimacheck=true", "-v", "-k", "pinned-two or control", str(proj)],
                          cwd=proj, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "hypothesis profile=mutation" in proc.stdout
    for case in ("pinned-two-outputs", "control-moved-output-layer"):
        assert f"test_claim[{EXAMPLE_ID}-{case}] PASSED" in proc.stdout, case
