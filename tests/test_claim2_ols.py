"""claim2-specific tests (the property, pinned, control, sabotage, forced-pass and floor tests are generated for
every part in tests/test_common.py): bad input, the instance space, and power tests of the shared structured
comparison (claims/structures.py): the certificate slack is IN the tolerance, an oversized slack is unresolved, the
structure verification refuses fake and zero-gain paths, and the dead-ReLU control needs L > L_OLS."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from claims import claim2_ols as c2
from claims import structures as S
from minimacheck import tolerance
from minimacheck.draws import draw
from networks import MLP, certify, minimize, squared_loss


def test_claim2_bad_params_raise():
    with pytest.raises(ValueError, match="piecewise-linear"):
        c2.Params("S1", activation="tanh")
    with pytest.raises(ValueError, match="scalar-output"):
        c2.Params("S2", d_y=2)
    with pytest.raises(ValueError, match="n_paths"):
        c2.Params("S4", d_y=3, n_paths=2, widths=(3,))
    with pytest.raises(ValueError, match="unknown structure"):
        c2.Params("S9")
    with pytest.raises(ValueError, match="start"):
        c2.Params("S3", start="planted")
    with pytest.raises(ValueError, match="unknown regime"):
        c2.strategy("S9")


def test_claim2_strategy_spans_depth_three_starts_and_targets():
    """The strategy is THE instance space: it reaches depth 3, random starts and random targets."""
    ps = draw(c2.strategy(), 60, seed_value=1)
    assert max(len(p.widths) for p in ps) == 3
    assert {(p.start, p.target) for p in ps} == set(c2.START_TARGETS)
    assert {c2.regime_of(p) for p in ps} == set(c2.REGIMES)


def _early_stop(p: c2.Params, iters: int, factor: float):
    """The tight linear net stopped after `iters` iterations and certified C-crit at `factor` x its gradient."""
    net = c2.make_net(p)
    obj = squared_loss(net.model, net.X, net.Y)
    res = minimize(obj, net.theta0, max_iter=iters)
    loose = certify(obj, res.theta, need_second_order=False)
    cert = certify(obj, res.theta, need_second_order=False, rel_grad_tol=factor * loose.grad_norm_rel)
    assert cert.critical, cert.summary()
    return S.Trained(net, obj, res.theta, cert)


def _compare(tr, extra):
    return S.compare_with_ols(tr, extra, baseline=S.ols_baseline, verify=S.verify_ols, holds=S.no_worse,
                              hypotheses=True, second_order=False)


def test_claim2_tolerance_includes_certificate_slack():
    """At default certificates the slack is ~1e-20 and invisible. The tight linear instance stopped after 5
    iterations has L - L_OLS beyond tau_fp yet within Lemma P's slack: the check must pass it because of the slack."""
    extra = {}
    out = _compare(_early_stop(c2.TIGHT, 5, 2.0), extra)
    assert out.certified and out.passed, out.reason
    assert out.gap > 10 * tolerance.tau_fp(extra["L_ols"]), f"instance drifted: L - L_OLS = {out.gap:.3g}"
    assert extra["slack_cert"] >= out.gap, "Lemma P's slack must cover the gap at this point"
    assert extra["slack_over_scale"] <= S.SLACK_SCALE_BOUND


def test_claim2_oversized_slack_is_unresolved_never_passed():
    """Three iterations and a certificate at 2x its (large) gradient: the slack exceeds 1e-2 of the compared values,
    so the instance is certified but unresolved (passed None), with slack_over_scale reported."""
    extra = {}
    out = _compare(_early_stop(c2.TIGHT, 3, 2.0), extra)
    assert out.certified and out.passed is None, out.reason
    assert out.reason.startswith("unresolved:")
    assert extra["slack_over_scale"] > S.SLACK_SCALE_BOUND
    assert S.unresolved_reason(float("inf")).startswith("unresolved: non-finite")


def _at_start(net):
    return S.Trained(net, squared_loss(net.model, net.X, net.Y), net.theta0, None)


def test_claim2_fake_linear_path_is_refused_for_varying_gains():
    """A declared linear path whose unit is in fact tanh (no linear_units): its gains vary over samples."""
    p = c2.Params("S2", m=16, d_x=2, d_y=1, widths=(3,), activation="tanh", seed=4)
    net = c2.make_net(p)
    fake = MLP(p.d_x, p.widths, p.d_y, activation="tanh")
    assert fake.n_params == net.model.n_params
    Ws, R = fake.unflatten(net.theta0)
    Ws = [W.clone() for W in Ws]
    Ws[0][-1, 0] = 0.0  # path unit off saturation: O(1) gains v tanh'(x w) that vary over the samples
    sc = S.verify_structure(_at_start(replace(net, model=fake, theta0=fake.flatten(Ws, R))))
    assert not sc.ok and "vary" in sc.reason, sc.reason
    assert S.verify_structure(_at_start(net)).ok  # the genuine linear-unit path passes


@pytest.mark.parametrize("act", ["tanh", "leaky_relu"])
def test_claim2_zero_gain_path_is_refused(act):
    p = c2.Params("S2", m=16, d_x=2, d_y=1, widths=(3, 2), activation=act, seed=5, v0=0.0)
    sc = S.verify_structure(_at_start(c2.make_net(p)))
    assert not sc.ok and sc.sigma_C is not None and sc.sigma_C < S.G_MIN, sc.reason
    assert "g_min" in sc.reason


def test_claim2_dead_relu_control_needs_a_gap(monkeypatch):
    """With targets orthogonal to [X, 1] (plus a constant) OLS can do no better than the mean, so L_OLS equals the
    plateau value: the control must NOT report a violation (its detection needs L > L_OLS, not only a plateau)."""
    real = c2.make_net

    def orthogonal_targets(p):
        net = real(p)
        Q, _ = np.linalg.qr(np.hstack([net.X, np.ones((p.m, 1))]))
        return replace(net, Y=net.Y - Q @ (Q.T @ net.Y) + 3.0)

    monkeypatch.setattr(c2, "make_net", orthogonal_targets)
    rec = c2.control_dead_relu(c2.CLAIM.parts[0])
    assert rec.passed is True and not rec.detected, rec.reason
