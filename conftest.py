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

# ---------------------------------------------------------------- Hypothesis profiles
_common = dict(deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=8, **_common)
# `ci` extends Hypothesis's built-in ci profile: derandomized, no database, too_slow suppressed.
settings.register_profile(
    "ci",
    parent=settings.get_profile("ci"),
    max_examples=12,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
    **_common,
)
settings.register_profile(
    "thorough",
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
    **_common,
)
settings.register_profile(
    "mutation",
    max_examples=4,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
    **_common,
)
_profile = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(_profile)

# ---------------------------------------------------------------- seeds
_SEED_ENV = "MINIMACHECK_SEED"


def _seeds_from_env() -> list[int]:
    """MINIMACHECK_SEED: an int (default 42), a range 'a-b', or 'any' (a fresh random seed, printed)."""
    raw = os.environ.get(_SEED_ENV, "42").strip()
    if raw == "any":
        return [int(np.random.SeedSequence().entropy % 2**31)]
    if "-" in raw:
        lo, hi = (int(s) for s in raw.split("-", 1))
        return list(range(lo, hi + 1))
    return [int(raw)]


def pytest_generate_tests(metafunc):
    if "global_random_seed" in metafunc.fixturenames:
        metafunc.parametrize("global_random_seed", _seeds_from_env(), ids=lambda s: f"seed{s}")


@pytest.fixture(autouse=True)
def _seed_everything(request):
    """Seed numpy's legacy RNG, torch and `random` before each test; tests that want a seed take global_random_seed."""
    import random

    seed = request.node.callspec.params.get("global_random_seed", 42) if hasattr(request.node, "callspec") else 42
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    yield


# ---------------------------------------------------------------- options and markers
def pytest_addoption(parser):
    parser.addoption("--xslow", action="store_true", default=False, help="run tests marked xslow (or MINIMACHECK_XSLOW=1)")


def _active_profile() -> str:
    # --hypothesis-profile (Hypothesis's pytest plugin) may have replaced the environment's choice
    return settings.get_current_profile_name()


def pytest_report_header(config):
    return [f"minimacheck: hypothesis profile={_active_profile()}, seeds={_seeds_from_env()}, torch threads={torch.get_num_threads()}"]


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

    env = f"HYPOTHESIS_PROFILE={_active_profile()} MINIMACHECK_SEED={os.environ.get(_SEED_ENV, '42')}"
    command = f"{env} python -m pytest '{item.nodeid}'"
    path = pathlib.Path(_FAILURES_DIR) / (re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[:150] + ".txt")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # the report text holds Hypothesis's falsifying example and its @reproduce_failure blob (print_blob=True)
        path.write_text(f"reproduce with:\n  {command}\n\n{report.longreprtext}\n")
        report.sections.append(("minimacheck", f"failing example saved to {path}\nreproduce with: {command}"))
    except OSError as exc:  # a read-only checkout must not hide the failure itself
        report.sections.append(("minimacheck", f"could not save the failing example ({exc}); reproduce with: {command}"))
