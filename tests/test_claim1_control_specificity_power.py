"""Specificity of claim1's negative controls: a control must say `detected=False` when fed an instance where the
claim HOLDS. Otherwise a detection that is constant True (the mutation `detected = True`) passes every control test.
Here control_tanh_output is run with its instance builder swapped for the compliant LINEAR-output instance."""
from __future__ import annotations

from claims import claim1_exact_loss as c1


def test_claim1_tanh_output_control_is_not_detected_on_a_linear_output(monkeypatch):
    real = c1._smooth_planted

    def linear_output(seed, activation="tanh", **kw):
        kw["output_activation"] = "linear"
        return real(seed, activation=activation, **kw)

    monkeypatch.setattr(c1, "_smooth_planted", linear_output)
    rec = c1.control_tanh_output()
    assert rec.certified, rec.reason  # the compliant instance is a certified critical point ...
    assert not rec.detected, rec.reason  # ... where claim1a holds, so nothing may be "detected"


def test_claim1_tanh_output_control_detects_the_real_violation():
    rec = c1.control_tanh_output()
    assert rec.detected and rec.gap > 1.0, rec.reason
