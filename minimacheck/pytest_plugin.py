"""minimacheck's pytest plugin (opt-in): `pytest -p minimacheck.pytest_plugin`, or `pytest_plugins =
["minimacheck.pytest_plugin"]` in a conftest.

It provides
- the `claim_ledger` fixture (a per-test minimacheck.ledger.Ledger; records travel to the controller, xdist-safe)
  and the claims summary at the end of the run;
- failing-example capture: a failing test writes failures/<test>.txt (report, Hypothesis's falsifying example and
  blob, a reproduce command carrying the seed) and, when its ledger holds a failing record, a replayable
  counterexample file for `minimacheck replay` (minimacheck.artifacts);
- the Hypothesis profiles dev / ci / thorough / mutation and MINIMACHECK_SEED (an integer or `any`), applied only
  when asked for: by the ini option `minimacheck = true`, or by calling `setup_hypothesis()` (this project's
  conftest does). MINIMACHECK_HYPOTHESIS_DB=/shared/path gives the thorough profile a shared
  DirectoryBasedExampleDatabase (multi-machine campaigns);
- `--xslow` (or MINIMACHECK_XSLOW=1) for tests marked xslow;
- `parametrize_with_claims(ids=None)` and `run_check(part, check, ledger)`: the common checks of every registered
  claim (or of `ids`) as (part, check-name) cases with ids `<part>-<check>` (scikit-learn's parametrize_with_checks).

It never changes torch's dtype or threads, and it leaves the Hypothesis profile alone unless asked.
"""
from __future__ import annotations

import os
import pathlib
import re

import pytest

from minimacheck import ledger

SEED_ENV = "MINIMACHECK_SEED"
DB_ENV = "MINIMACHECK_HYPOTHESIS_DB"
PROFILES = ("dev", "ci", "thorough", "mutation")


class _State:
    configured = False
    seed: int | None = None
    profile: str | None = None


state = _State()


# ---------------------------------------------------------------- seeds and profiles
def seed_from_env() -> int | None:
    """MINIMACHECK_SEED: an integer, or `any`: one seed drawn once and written back to the environment, so
    pytest-xdist workers (started later) inherit the same one."""
    raw = os.environ.get(SEED_ENV, "").strip()
    if not raw:
        return None
    if raw == "any":
        import numpy as np

        raw = str(int(np.random.SeedSequence().entropy % 2**31))
        os.environ[SEED_ENV] = raw
    try:
        return int(raw)
    except ValueError:
        raise pytest.UsageError(f"{SEED_ENV} must be an integer or 'any', got {raw!r}") from None


def register_profiles() -> None:
    from hypothesis import HealthCheck, Phase, settings

    common = dict(deadline=None, print_blob=True)
    quiet = [HealthCheck.too_slow, HealthCheck.differing_executors]
    settings.register_profile("dev", max_examples=8, **common)
    # `ci` extends Hypothesis's built-in ci profile: reproducible, no database, too_slow suppressed. Its examples
    # come from the seed (MINIMACHECK_SEED, default 42), not from the test's name.
    settings.register_profile("ci", parent=settings.get_profile("ci"), max_examples=12, derandomize=False,
                              database=None, suppress_health_check=quiet, **common)
    thorough = dict(max_examples=200, suppress_health_check=quiet, **common)
    shared = os.environ.get(DB_ENV, "").strip()
    if shared:  # one example database for every machine of a campaign (a shared folder)
        from hypothesis.database import DirectoryBasedExampleDatabase

        thorough["database"] = DirectoryBasedExampleDatabase(shared)
    settings.register_profile("thorough", **thorough)
    settings.register_profile("mutation", max_examples=4, derandomize=False, database=None,
                              phases=[Phase.explicit, Phase.generate], suppress_health_check=quiet, **common)


def setup_hypothesis() -> None:
    """Register and load the profile (HYPOTHESIS_PROFILE, else `ci` under CI, else `dev`) and apply
    MINIMACHECK_SEED through Hypothesis's global seed (derandomize off, no database). Idempotent."""
    if state.configured:
        return
    from hypothesis import core as hypothesis_core
    from hypothesis import settings

    state.seed = seed_from_env()
    register_profiles()
    profile = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
    settings.load_profile(profile)
    if state.seed is None and profile in ("ci", "mutation"):
        state.seed = 42  # reproducible profiles are always seeded
    if state.seed is not None:
        hypothesis_core.global_force_seed = state.seed
        settings.register_profile(f"{profile}-seeded", parent=settings.get_profile(profile), derandomize=False,
                                  database=None)
        settings.load_profile(f"{profile}-seeded")
    state.profile = profile
    state.configured = True


def active_profile() -> str:
    from hypothesis import settings

    return settings.get_current_profile_name().removesuffix("-seeded")


# ---------------------------------------------------------------- hooks
def pytest_addoption(parser):
    parser.addoption("--xslow", action="store_true", default=False, help="run tests marked xslow (or MINIMACHECK_XSLOW=1)")
    parser.addini("minimacheck", type="bool", default=False,
                  help="minimacheck: load its Hypothesis profiles and MINIMACHECK_SEED (the rest of the plugin is on "
                       "whenever it is loaded)")


def pytest_configure(config):
    config.addinivalue_line("markers", "xslow: opt-in (--xslow or MINIMACHECK_XSLOW=1): long campaigns")
    if config.getini("minimacheck"):
        setup_hypothesis()


def pytest_report_header(config):
    if not state.configured:
        return []
    seed = "random (set MINIMACHECK_SEED=N to reproduce)" if state.seed is None else state.seed
    line = f"minimacheck: hypothesis profile={active_profile()}, MINIMACHECK_SEED={seed}"
    import sys

    if "torch" in sys.modules:
        line += f", torch threads={sys.modules['torch'].get_num_threads()}"
    if os.environ.get(DB_ENV):
        line += f", shared example database={os.environ[DB_ENV]}"
    return [line]


def pytest_collection_modifyitems(config, items):
    if config.getoption("--xslow") or os.environ.get("MINIMACHECK_XSLOW") == "1":
        return
    skip = pytest.mark.skip(reason="xslow: opt in with --xslow or MINIMACHECK_XSLOW=1")
    for item in items:
        if "xslow" in item.keywords:
            item.add_marker(skip)


class _CapturingLedger(ledger.Ledger):
    """A Ledger that also keeps, per record, what the claim's check_at judged (for the counterexample file)."""

    def __init__(self):
        super().__init__()
        self.params: dict = {}  # id(record) -> the params it was checked at (run_check's property)


@pytest.fixture
def claim_ledger(request):
    """A per-test ledger of claim instances; the records travel to the controller in the test report."""
    from minimacheck import artifacts

    book = _CapturingLedger()
    part = _param(request.node, "part")
    if part is not None and hasattr(part, "check_at"):
        with artifacts.capture(part) as seen:
            book.seen = seen
            yield book
    else:
        book.seen = None
        yield book
    request.node.user_properties.append(("minimacheck_records", [r.to_dict() for r in book.records]))


def _param(node, name):
    cs = getattr(node, "callspec", None)
    return cs.params.get(name) if cs is not None else None


_collected: list[dict] = []


def pytest_runtest_logreport(report):
    for key, value in getattr(report, "user_properties", []):
        if key == "minimacheck_records":
            _collected.extend(value)


def pytest_terminal_summary(terminalreporter):
    failed = [r for r in terminalreporter.stats.get("failed", []) if r.when == "call"]
    if failed:
        terminalreporter.section("minimacheck failing examples")
        for r in failed:
            for title, text in r.sections:
                if title == "minimacheck":
                    terminalreporter.write_line(text)
    if not _collected:
        return
    terminalreporter.section("minimacheck claims summary")
    for line in ledger.summary_lines([ledger.Record.from_dict(d) for d in _collected]):
        terminalreporter.write_line(line)


def failures_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("MINIMACHECK_FAILURES", "failures"))


def _artifact(item, folder) -> str | None:
    """A counterexample file from the failing test's claim_ledger (its first failing record), if it has one."""
    from minimacheck import artifacts
    from minimacheck.contract import outcome_ok

    book = item.funcargs.get("claim_ledger") if hasattr(item, "funcargs") else None
    part = _param(item, "part")
    if book is None or part is None:
        return None
    bad = [r for r in book.records if not outcome_ok(r)]
    if not bad:
        return None
    rec = bad[0]
    name = _param(item, "name")
    check = _param(item, "check")
    if name is None and isinstance(check, str) and check.startswith(("pinned-", "control-")):
        name = check.split("-", 1)[1]
    kind = "control" if rec.kind != "positive" else ("pinned" if name in getattr(part, "pinned", {}) else "positive")
    params = part.pinned.get(name) if kind == "pinned" else getattr(book, "params", {}).get(id(rec))
    seen = getattr(book, "seen", None)
    return str(artifacts.save(folder, part, rec, kind=kind, name=name, params=params,
                              captured=seen.find(rec) if seen is not None else None, nodeid=item.nodeid))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    env = f"HYPOTHESIS_PROFILE={active_profile()}" if state.configured else ""
    if state.seed is not None:
        env += f" MINIMACHECK_SEED={state.seed}"
    command = f"{env} python -m pytest '{item.nodeid}'".strip()
    folder = failures_dir()
    path = folder / (re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[:150] + ".txt")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # the report text holds Hypothesis's falsifying example and its @reproduce_failure blob (print_blob=True)
        path.write_text(f"reproduce with:\n  {command}\n\n{report.longreprtext}\n")
        text = f"failing example saved to {path}\nreproduce with: {command}"
        try:
            art = _artifact(item, folder)
        except Exception as exc:  # noqa: BLE001 - the failure itself must stay visible
            art, text = None, text + f"\n(no counterexample file: {type(exc).__name__}: {exc})"
        if art:
            text += f"\ncounterexample saved to {art}; replay with: minimacheck replay {art}"
        report.sections.append(("minimacheck", text))
    except OSError as exc:  # a read-only checkout must not hide the failure itself
        report.sections.append(("minimacheck", f"could not save the failing example ({exc}); reproduce with: {command}"))


# ---------------------------------------------------------------- parametrize_with_claims
CHECKS = ("property", "pinned", "control", "sabotage", "forced-pass", "floor")


def claim_cases(ids=None) -> list[tuple]:
    """[(part, check-name)] for every part of the registered claims (or of the claims/parts in `ids`)."""
    from minimacheck import registry
    from minimacheck.contract import EXTERNAL_ID

    if ids is not None and all(EXTERNAL_ID.match(i.split("-")[0]) for i in ids):
        pairs = [(c, p) for c in registry.external().values() for p in c.parts]  # no need to import the built-ins
    else:
        pairs = registry.parts()
    out = []
    for claim, part in pairs:
        if ids is not None and claim.id not in ids and part.id not in ids:
            continue
        out.append((part, "property"))
        out += [(part, f"pinned-{n}") for n in part.pinned]
        out += [(part, f"control-{n}") for n in part.controls]
        out += [(part, f"sabotage-{n}") for n in part.sabotages]
        out.append((part, "forced-pass"))
        out += [(part, f"floor-{r}") for r in part.regimes]
    return out


def parametrize_with_claims(ids=None):
    """A pytest.mark.parametrize("part,check", ...) over claim_cases(ids), test ids `<part>-<check>`; run each case
    with run_check(part, check, claim_ledger)."""
    cases = claim_cases(ids)
    return pytest.mark.parametrize("part,check", [pytest.param(p, c, id=f"{p.id}-{c.replace('/', '-')}") for p, c in cases])


def run_check(part, check: str, book=None, *, floor_seed: int = 0) -> None:
    """Run one common check; raises AssertionError when it fails (the same rules as the project's own tests)."""
    from hypothesis import HealthCheck, given, settings

    from minimacheck.contract import Floor, Unreached, forced_pass, outcome_ok
    from minimacheck.draws import draw

    book = ledger.Ledger() if book is None else book

    def judge(rec, what):
        book.add(rec)
        assert rec.passed is not False, f"{what}: the claim FAILED: {rec.reason}; gap/tol {rec.headroom}"
        return rec

    if check == "property":
        @settings(suppress_health_check=[HealthCheck.too_slow])
        @given(part.strategy())
        def prop(params):
            rec = part.check(params)
            if hasattr(book, "params"):
                book.params[id(rec)] = params  # for the counterexample file
            judge(rec, f"{part.id} {params!r}")

        prop()
    elif check.startswith("pinned-"):
        rec = judge(part.check(part.pinned[check[7:]]), f"{part.id} {check}")
        assert rec.evidence, f"pinned case {check[7:]} decided nothing: {rec.reason}"
    elif check.startswith("control-"):
        rec = book.add(part.controls[check[8:]](part))
        assert rec.detected, f"{part.id} control {check[8:]} was NOT detected: {rec.reason}"
    elif check.startswith("sabotage-"):
        sab = part.sabotages[check[9:]]
        with sab.inject():
            records = sab.run(part)
        assert records and not all(outcome_ok(r) for r in records), f"sabotage {check[9:]} went unnoticed"
    elif check == "forced-pass":
        hollow = forced_pass(part)
        assert any(not hollow.controls[n](hollow).detected for n in hollow.controls), \
            f"{part.id}: with its check forced to pass, every control is still detected"
    elif check.startswith("floor-"):
        regime = check[6:]
        rule = part.regimes[regime]
        records = [book.add(part.check(p)) for p in draw(part.strategy(regime), rule.draws, floor_seed)]
        trained = [r for r in records if r.trained]
        assert trained and all(r.passed is not False for r in records)
        certified = sum(r.certified for r in trained)
        if isinstance(rule, Unreached):
            assert certified == 0, f"{part.id} {regime} is unreached but {certified} certified"
        else:
            assert isinstance(rule, Floor) and certified / len(trained) >= rule.fraction, \
                f"{part.id} {regime}: certified {certified}/{len(trained)} < floor {rule.fraction}"
    else:
        raise ValueError(f"unknown check {check!r}; known: {', '.join(CHECKS)}")
