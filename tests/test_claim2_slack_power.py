"""Power test for claim2's tolerance tau = tau_fp + slack_cert + slack_solver: the certificate slack must be IN it.
At certificates with the default gradient tolerance (1e-9) the slack is ~1e-20 and invisible, so dropping it from
the tolerance survives every other test. Here the tight linear instance is stopped after 5 LM iterations (measured
||grad||/(1+L) = 1.2e-4) and certified C-crit at a gradient tolerance of twice that: L - L_OLS = 5e-9 is ~20 tau_fp,
yet within Lemma P's slack (7e-8). The check must pass it (with the slack) and the slack must be what lets it pass."""
from __future__ import annotations

from claims import claim2_ols as c2
from minimacheck import tolerance
from networks import certify, minimize, squared_loss


def test_claim2_tolerance_includes_certificate_slack():
    inst = c2.build_instance(c2.TIGHT)
    obj = squared_loss(inst.model, inst.X, inst.Y)
    res = minimize(obj, inst.theta0, max_iter=5)
    loose = certify(obj, res.theta, need_second_order=False)
    cert = certify(obj, res.theta, need_second_order=False, rel_grad_tol=2 * loose.grad_norm_rel)
    assert cert.critical, cert.summary()
    rec = c2.check(inst, tr=c2.Trained(inst, obj, res.theta, cert, res, 0.0))
    assert rec.certified, rec.reason
    tau_fp = tolerance.tau_fp(rec.extra["L_ols"])
    assert rec.gap > 10 * tau_fp, f"instance drifted: L - L_OLS = {rec.gap:.3g} is not beyond tau_fp"
    assert rec.extra["slack_cert"] >= rec.gap, "Lemma P's slack must cover the gap at this point"
    assert rec.passed, rec.reason
