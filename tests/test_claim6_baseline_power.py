"""Power tests for claim6a's inequality -tau_fp <= L - L* <= slack + tau_fp (bottleneck p = 2 < d_y = 4, where the
upper side is the 1e-7 (1 + L*) policy tolerance). A wrong baseline is normally caught first by the independent
plant cross-check (L* vs 1/2(||Y||^2 - sum lambda)), which could mask a dropped lower side or an inflated policy
tolerance. Here the baseline AND the planted eigenvalues are shifted consistently (a wrong baseline the plant check
cannot see), so only the inequality itself can catch it:
- L* reported 1% too HIGH: the net beats the global optimum by 0.01 L*, the lower side must fail it;
- L* reported 1% too LOW: L - L* = 0.01 L* >> 1e-7 (1 + L*), the policy upper side must fail it."""
from __future__ import annotations

from dataclasses import replace

import pytest

from claims import claim6_deep_linear as c6


@pytest.mark.parametrize("factor", [1.01, 0.99], ids=["baseline-high", "baseline-low"])
def test_claim6a_consistently_wrong_baseline_fails(factor):
    pt = c6.build_a(c6.PINNED_A["handbook-bottleneck"])
    honest = c6.check_at_a(pt)
    assert honest.certified and honest.passed, honest.reason
    lam = pt.linear.lambdas.copy()
    lam[0] -= 2 * (factor - 1) * pt.L_star  # planted 1/2(||Y||^2 - sum lambda_{1..r}) moves with the baseline
    wrong = replace(pt, L_star=factor * pt.L_star, linear=replace(pt.linear, lambdas=lam))
    rec = c6.check_at_a(wrong)
    assert rec.certified and rec.extra["plant_ok"], rec.reason  # the plant check is fooled on purpose ...
    assert rec.passed is False, rec.reason  # ... the inequality must not be
