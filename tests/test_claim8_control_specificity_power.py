"""Specificity of claim8's affine-neuron control: `detected` must need L(theta) > per-input optimum + tol, not only a
certified minimum of L~. With the per-input optimum patched to lie ABOVE L(theta) (so the minimum is not bad) the
control must NOT report a detection."""
from __future__ import annotations

from claims import claim8_exp_neuron as c8


def test_claim8_affine_control_not_detected_when_the_minimum_is_not_bad(monkeypatch):
    real = c8.per_input_optimum
    monkeypatch.setattr(c8, "per_input_optimum", lambda X, Y: (1e6,) + tuple(real(X, Y))[1:])
    rec = c8.control_affine_neuron()
    assert rec.certified, rec.reason  # L~ is still a certified minimum ...
    assert not rec.detected, rec.reason  # ... but L(theta) is not above the (patched) optimum


def test_claim8_affine_control_detects_on_the_real_optimum():
    rec = c8.control_affine_neuron()
    assert rec.detected and rec.gap > rec.tol, rec.reason
