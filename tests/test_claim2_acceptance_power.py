"""Power test for claim2's acceptance in check() itself (not check_tight, whose own |gap| <= tol test masks a
loosened check() threshold): on the tight linear instance an unverified OLS baseline 1% too low must give a
certified, NOT passed record (L - 0.99 L_OLS = 0.01 L_OLS >> tau)."""
from __future__ import annotations

from claims import claim2_ols as c2


def test_claim2_check_fails_against_a_one_percent_low_baseline():
    inst = c2.build_instance(c2.TIGHT)
    low = c2.sabotaged_ols(c2.ols_baseline(inst.X, inst.Y), 0.99)
    rec = c2.check(inst, baseline=low, verify_baseline=False)
    assert rec.certified, rec.reason
    assert rec.gap > 1e3 * rec.tol
    assert rec.passed is False, rec.reason
