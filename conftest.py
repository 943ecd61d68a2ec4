"""Suite-wide configuration: this project's numerics and seeds; the rest comes from minimacheck's pytest plugin.

The plugin (minimacheck.pytest_plugin, opt-in for other projects) brings the claim_ledger fixture, the claims
summary, failing-example capture (failures/*.txt and replayable counterexample files), --xslow, and the Hypothesis
profiles with MINIMACHECK_SEED; this project asks for the profiles (setup_hypothesis below) and keeps its own
numerics here: float64 by default, fixed thread counts, TF32 off, one seed fixture.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

pytest.register_assert_rewrite("minimacheck.pytest_plugin")  # before the import below: its asserts read well
from minimacheck import pytest_plugin  # noqa: E402

pytest_plugins = ["minimacheck.pytest_plugin"]

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

# ---------------------------------------------------------------- seeds and Hypothesis profiles
# MINIMACHECK_SEED=N seeds every Hypothesis property ('any': one N drawn once, inherited by xdist workers); the
# profile is HYPOTHESIS_PROFILE, else `ci` under CI, else `dev` (see minimacheck.pytest_plugin).
pytest_plugin.setup_hypothesis()
SEED = pytest_plugin.state.seed


@pytest.fixture(autouse=True)
def _seed_everything():
    """Seed numpy's legacy RNG, torch and `random` before each test (with MINIMACHECK_SEED, default 42)."""
    import random

    seed = 42 if SEED is None else SEED
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    yield
