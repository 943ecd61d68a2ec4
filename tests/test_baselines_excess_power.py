"""Power test for least_squares.check_point's excess test 1/2||Phi (R - R_svd)||^2 <= tau_fp: it is the only guard
that sees a sub-optimal solution moved along a tiny singular direction when ||Y|| is large. Phi has singular values
(1, 1, 1, 1, 1e-5), ||Y|| ~ 2e4: R = R* + 45 v_min raises the objective by 1e-7 (100 tau_fp), yet its scaled
normal-equation residual is ~1e-16 (below the backward-error tolerance) and the objective-vs-SVD-value comparison
allows ~1e-5 of rounding at this ||Y||^2. verify() must refuse it, naming the excess."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from baselines.certificate import BaselineError
from baselines.least_squares import least_squares, objective, verify


def test_verify_refuses_a_solution_moved_along_a_tiny_singular_direction():
    rng = np.random.default_rng(0)
    m, p = 20, 5
    U, _ = np.linalg.qr(rng.standard_normal((m, p)))
    V, _ = np.linalg.qr(rng.standard_normal((p, p)))
    Phi = U @ np.diag([1.0, 1.0, 1.0, 1.0, 1e-5]) @ V.T
    Y = U[:, :4] @ (1e4 * rng.standard_normal((4, 1))) + rng.standard_normal((m, 1))
    good = least_squares(Phi, Y, use_cvxpy=False)
    verify(good, Phi, Y, 0.0)  # the optimum verifies
    R = good.solution + 45.0 * V[:, [4]]
    bad = replace(good, solution=R, value=objective(Phi, Y, 0.0, R))  # honest value of a sub-optimal point
    assert bad.value - good.value > 50 * 1e-10 * (1 + good.value)
    with pytest.raises(BaselineError, match="excess"):
        verify(bad, Phi, Y, 0.0)
