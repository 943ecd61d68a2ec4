"""Power test for claim3c's lower side LS(h~) - tau_fp <= L (Yhat lies in col(h~), so a net BELOW the last-layer
least-squares value means the baseline is wrong). Without it a too-high baseline passes. A certified (zero-loss)
3c instance is checked with phi_baseline patched to report LS + 1: the check must fail and say so."""
from __future__ import annotations

from dataclasses import replace

from claims import claim3_basis as c3

CERTIFIES = c3.Params("3c", "rff", "lt", m=10, d_x=2, d_y=1, widths=(3,), activation="tanh", seed=1)  # 0.6 s


def test_claim3_own_features_refuses_a_too_high_baseline(monkeypatch):
    honest = c3.check_own_features(c3.build_instance(CERTIFIES))
    assert honest.certified and honest.passed, honest.reason
    real = c3.phi_baseline
    monkeypatch.setattr(c3, "phi_baseline", lambda *a, **kw: replace(real(*a, **kw), value=float(real(*a, **kw).value) + 1.0))
    rec = c3.check_own_features(c3.build_instance(CERTIFIES))
    assert rec.certified, rec.reason
    assert rec.passed is False and "baseline wrong" in rec.reason, rec.reason
