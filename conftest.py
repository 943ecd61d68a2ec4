"""Suite-wide configuration: numerics, Hypothesis profiles, seeds, markers and the claims summary.

Everything that makes a run reproducible lives here, in one place (as in numpy's and scipy's conftest):
float64 by default, fixed thread counts, derandomized Hypothesis under CI, one seed fixture.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, settings
from hypothesis import core as hypothesis_core

from minimacheck import ledger

# ---------------------------------------------------------------- numerics
# Certificates are computed in float64 on the CPU; a fixed thread count keeps reductions deterministic and stops
# pytest-xdist workers from oversubscribing the cores.
torch.set_default_dtype(torch.float64)
torch.set_num_threads(int(os.environ.get("MINIMACHECK_THREADS", "1")))
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
# BLAS threads too (numpy/scipy): threaded OpenBLAS slowed scipy's L-BFGS-B about 5x on the shared 2-core machine
from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(int(os.environ.get("MINIMACHECK_THREADS", "1")))

# ---------------------------------------------------------------- seeds
# MINIMACHECK_SEED=N seeds every Hypothesis property: the same N gives the same examples, a different N different
# ones. `any` draws one N, once, in the controller; it is written back to the environment, so pytest-xdist workers
# (started after this file is imported) inherit the same N. The reproduce command of a saved failure carries N.
_SEED_ENV = "MINIMACHECK_SEED"


def _seed_from_env() -> int | None:
    raw = os.environ.get(_SEED_ENV, "").strip()
    if not raw:
        return None
    if raw == "any":
        raw = str(int(np.random.SeedSequence().entropy % 2**31))
        os.environ[_SEED_ENV] = raw
    try:
        return int(raw)
    except ValueError:
        raise pytest.UsageError(f"{_SEED_ENV} must be an integer or 'any', got {raw!r}") from None


SEED = _seed_from_env()

# ---------------------------------------------------------------- Hypothesis profiles
_common = dict(deadline=None, print_blob=True)
_quiet = [HealthCheck.too_slow, HealthCheck.differing_executors]
settings.register_profile("dev", max_examples=8, **_common)
# `ci` extends Hypothesis's built-in ci profile: reproducible, no database, too_slow suppressed. Its examples come
# from the seed (MINIMACHECK_SEED, default 42), not from the test's name, so a different seed explores differently.
settings.register_profile("ci", parent=settings.get_profile("ci"), max_examples=12, derandomize=False, database=None,
                          suppress_health_check=_quiet, **_common)
settings.register_profile("thorough", max_examples=200, suppress_health_check=_quiet, **_common)
settings.register_profile("mutation", max_examples=4, derandomize=False, database=None,
                          phases=[Phase.explicit, Phase.generate], suppress_health_check=_quiet, **_common)
_profile = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(_profile)
if SEED is None and _profile in ("ci", "mutation"):
    SEED = 42  # reproducible profiles are always seeded
if SEED is not None:
    # Hypothesis's global seed (what --hypothesis-seed sets); with a seed, no database replays other examples
    hypothesis_core.global_force_seed = SEED
    settings.register_profile(f"{_profile}-seeded", parent=settings.get_profile(_profile), derandomize=False, database=None)
    settings.load_profile(f"{_profile}-seeded")


@pytest.fixture(autouse=True)
def _seed_everything():
    """Seed numpy's legacy RNG, torch and `random` before each test (with MINIMACHECK_SEED, default 42)."""
    import random

    seed = 42 if SEED is None else SEED
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    yield


# ---------------------------------------------------------------- options and markers
def pytest_addoption(parser):
    parser.addoption("--xslow", action="store_true", default=False, help="run tests marked xslow (or MINIMACHECK_XSLOW=1)")


def _active_profile() -> str:
    # --hypothesis-profile (Hypothesis's pytest plugin) may have replaced the environment's choice
    return settings.get_current_profile_name().removesuffix("-seeded")


def pytest_report_header(config):
    seed = "random (set MINIMACHECK_SEED=N to reproduce)" if SEED is None else SEED
    return [f"minimacheck: hypothesis profile={_active_profile()}, MINIMACHECK_SEED={seed}, "
            f"torch threads={torch.get_num_threads()}"]


def pytest_collection_modifyitems(config, items):
    if config.getoption("--xslow") or os.environ.get("MINIMACHECK_XSLOW") == "1":
        return
    skip = pytest.mark.skip(reason="xslow: opt in with --xslow or MINIMACHECK_XSLOW=1")
    for item in items:
        if "xslow" in item.keywords:
            item.add_marker(skip)


# ---------------------------------------------------------------- claims summary (xdist-safe)
@pytest.fixture
def claim_ledger(request):
    """A per-test ledger of claim instances; the records travel to the controller in the test report."""
    book = ledger.Ledger()
    yield book
    request.node.user_properties.append(("minimacheck_records", [r.to_dict() for r in book.records]))


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


# ---------------------------------------------------------------- nothing is lost: save failing examples
_FAILURES_DIR = os.environ.get("MINIMACHECK_FAILURES", "failures")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    import pathlib
    import re

    env = f"HYPOTHESIS_PROFILE={_active_profile()}" + ("" if SEED is None else f" MINIMACHECK_SEED={SEED}")
    command = f"{env} python -m pytest '{item.nodeid}'"
    path = pathlib.Path(_FAILURES_DIR) / (re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[:150] + ".txt")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # the report text holds Hypothesis's falsifying example and its @reproduce_failure blob (print_blob=True)
        path.write_text(f"reproduce with:\n  {command}\n\n{report.longreprtext}\n")
        report.sections.append(("minimacheck", f"failing example saved to {path}\nreproduce with: {command}"))
    except OSError as exc:  # a read-only checkout must not hide the failure itself
        report.sections.append(("minimacheck", f"could not save the failing example ({exc}); reproduce with: {command}"))
