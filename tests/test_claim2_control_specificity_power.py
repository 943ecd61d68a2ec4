"""Specificity of claim2's dead-ReLU control: its `detected` must need L > L_OLS, not only a certified plateau.
With targets orthogonal to the inputs (X~^T (y - ybar) = 0 after centring) OLS can do no better than the mean, so
L_OLS = 1/2||y - ybar||^2 = the plateau value, and the control must NOT report a violation."""
from __future__ import annotations

import numpy as np

from claims import claim2_ols as c2


def test_claim2_dead_relu_control_not_detected_when_ols_equals_the_plateau(monkeypatch):
    real = c2.make_data

    def orthogonal_targets(m, d_x, d_y, seed):
        X, Y = real(m, d_x, d_y, seed)
        Xt = np.hstack([X, np.ones((m, 1))])
        Q, _ = np.linalg.qr(Xt)
        return X, Y - Q @ (Q.T @ Y) + 3.0  # no linear signal left; a constant offset keeps ybar != 0

    monkeypatch.setattr(c2, "make_data", orthogonal_targets)
    rec = c2.control_dead_relu()
    assert rec.certified, rec.reason  # still a certified plateau ...
    assert not rec.detected, rec.reason  # ... but not a violation: L = L_OLS within tau


def test_claim2_dead_relu_control_detects_on_its_real_data():
    rec = c2.control_dead_relu()
    assert rec.detected and rec.gap > rec.tol, rec.reason
