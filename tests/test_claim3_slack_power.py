"""Power test for claim3a's tolerance tau = tau_fp + 1/2 g^T Q^+ g + slack_solver: the quadratic slack must be IN it.
At default certificates the slack is ~1e-19 and dropping it survives every other test. The tight instance (linear
net + polynomial features, lam = mu = 0) stopped after 2 iterations and certified C-crit at twice its gradient
(measured ||grad||/(1+L) = 2.8e-3): there 1/2 g^T Q^+ g is EXACTLY L - L_Phi (q is quadratic), = 1.02e-6, thousands of
tau_fp. The check must pass with headroom ~1 - tau_fp/gap, and the slack must be what lets it pass."""
from __future__ import annotations

from claims import claim3_basis as c3
from minimacheck import tolerance
from networks import certify, minimize


def test_claim3_tolerance_includes_the_quadratic_slack():
    inst = c3.build_instance(c3.TIGHT)
    obj = c3.objective(inst)
    res = minimize(obj, inst.theta0, max_iter=2)
    loose = certify(obj, res.theta, need_second_order=False)
    cert = certify(obj, res.theta, need_second_order=False, rel_grad_tol=2 * loose.grad_norm_rel)
    assert cert.critical, cert.summary()
    rec = c3.check_feature_skip(inst, tr=c3.Trained(inst, obj, res.theta, cert, res, 0.0))
    assert rec.certified, rec.reason
    assert rec.gap > 100 * tolerance.tau_fp(rec.extra["L_phi"]), f"instance drifted: gap {rec.gap:.3g}"
    # the slack is exact here: L - L_Phi = 1/2 g^T Q^+ g up to rounding
    assert abs(rec.extra["slack_cert"] - rec.gap) <= 1e-6 * rec.gap + tolerance.tau_fp(rec.extra["L_phi"])
    assert rec.passed, rec.reason
