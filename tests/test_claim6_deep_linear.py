"""claim6-specific tests (Kawaguchi 2016, deep linear nets). The property over each part's strategy, the pinned
cases, the controls (YSJ, Safran-Shamir, orthogonal targets), the sabotages and the per-regime floors are generated
by tests/test_common.py from claims/claim6_deep_linear.CLAIM; here: the generator, bad input, exact facts of the
constructions (YSJ, Safran-Shamir, W = 0 and the naive certificate) and power tests of 6a's inequality.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from budget import at_most
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from claims import claim6_deep_linear as c6
from claims import counterexamples as ce
from networks import Verdict


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Tiny dense problems: threaded BLAS only thrashes on a shared machine (measured 5x slower L-BFGS-B steps)."""
    with threadpool_limits(1):
        yield


SUPPRESS = list(settings().suppress_health_check) + [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


# ------------------------------------------------------------------------------------------ generator
@given(d_x=st.integers(2, 6), data=st.data(), seed=st.integers(0, 2**31 - 1), log10_cond=st.integers(0, 6))
def test_claim6_generator_meets_hypotheses(d_x, data, seed, log10_cond):
    """The constructive generator never leaves the hypotheses (no assume loops): cond <= 1e6, eigengap >= 1e-3,
    X^T Y full rank, and Sigma's eigenvalues are the planted ones (1e-10 relative)."""
    d_y = data.draw(st.integers(1, d_x))
    m = data.draw(st.integers(d_x + 2, 40))
    inst = c6.build_instance(m, d_x, d_y, seed, log10_cond)
    ok, why, nums = c6.hypotheses_hold(inst)
    assert ok, why
    lam = np.array(nums["lambdas"])
    assert np.allclose(lam, inst.lambdas, rtol=1e-10, atol=1e-10 * lam[0])


def test_claim6_generator_rejects_bad_input():
    with pytest.raises(ValueError, match="d_y <= d_x"):
        c6.build_instance(10, 2, 3, 0)
    with pytest.raises(ValueError, match="m > d_x"):
        c6.build_instance(3, 3, 1, 0)
    with pytest.raises(ValueError, match="log10_cond"):
        c6.build_instance(10, 3, 1, 0, log10_cond=7)


def test_claim6_params_reject_bad_input():
    with pytest.raises(ValueError, match="d_y <= d_x"):
        c6.ParamsA(m=10, d_x=2, d_y=3, widths=(2,), log10_cond=0, seed=0).validate()
    with pytest.raises(ValueError, match="widths"):
        c6.ParamsA(m=10, d_x=3, d_y=2, widths=(0, 2), log10_cond=0, seed=0).validate()
    with pytest.raises(ValueError, match="p < d_y"):
        c6.ParamsB(m=10, d_x=3, d_y=2, p=2, H=1, seed=0).validate()
    with pytest.raises(ValueError, match="start"):
        c6.ParamsC(m=10, d_x=3, d_y=2, widths=(2,), seed=0, start="teacher").validate()
    with pytest.raises(ValueError, match="unknown regime"):
        c6.strategy_a("wide")
    with pytest.raises(ValueError, match="W = 0"):
        inst = c6.build_instance(10, 3, 2, 0)
        pt = c6.origin_point(inst, (2,), None)
        c6.check_at_c(pt, torch.ones(pt.model.n_params))


def test_claim6b_neither_convex_nor_concave():
    """L has Hessian eigenvalues of both signs at W = 0 (H = 1): L is neither convex nor concave."""
    inst = c6.build_instance(20, 4, 3, 11)
    model = c6.linear_model(4, (2,), 3)
    obj = c6.squared_loss(model, inst.X, inst.Y)
    w = torch.linalg.eigvalsh(obj.hessian(torch.zeros(model.n_params)))
    assert float(w[0]) < 0 < float(w[-1])


@pytest.mark.counterexample
@pytest.mark.parametrize("widths", [(3, 3), (2, 2, 2)], ids=["H2", "H3"])
def test_claim6c_naive_certificate_accepts_the_origin(widths):
    """Certificate misuse: 'grad = 0 and Hessian PSD' accepts W = 0 of a linear net with >= 3 factors, although the
    direction V descends (by sigma_1^2 / (2 ||X r||^2)) and 6c's check (the real certifier's probe) says SADDLE."""
    inst = c6.build_instance(20, 4, 3, 7)
    pt = c6.origin_point(inst, widths, None)
    assert c6.naive_second_order_certificate(pt.obj, pt.theta)
    rec = c6.check_at_c(pt)
    assert rec.passed and rec.extra["verdict"] == Verdict.SADDLE.value, rec.reason
    assert rec.extra["decrease"] > c6.tau_fp(rec.extra["L_dir"])
    assert pt.obj.value(pt.theta) - rec.extra["L_dir"] == pytest.approx(rec.extra["decrease"], rel=1e-9)


def test_claim6a_ols_gap_is_the_dropped_eigenvalues():
    """The OLS-for-RRR sabotage's size: at the pinned bottleneck the certified minimum sits exactly
    1/2 (lambda_3 + lambda_4) above OLS, far above the policy tolerance (the check sees the rank constraint)."""
    p = c6.PINNED_A["handbook-bottleneck"]
    pt = c6.build_a(p)
    rec = c6.check_at_a(pt)
    assert rec.certified and rec.passed, rec.reason
    ols = float(c6.rrr_value(pt.linear, pt.linear.d_y).value)
    wrong_gap = rec.extra["L"] - ols
    assert wrong_gap > 1e6 * rec.tol
    assert wrong_gap == pytest.approx(0.5 * float(pt.linear.lambdas[2:].sum()), rel=1e-9)


# ------------------------------------------------------------------------------------------ nonlinear constructions
@settings(suppress_health_check=SUPPRESS)
@given(slope=st.sampled_from([0.1, 0.5, 0.0]), width=st.integers(2, 5), seed=st.integers(0, 1000))
def test_claim6_ysj_construction_is_critical_and_affine(slope, width, seed):
    """The construction (any slope s_- != 1, width >= 2): gradient ~ 0, loss = affine least squares (tau_fp), every
    pre-activation >= the margin, and the certifier's verdict is a minimum."""
    inst = ce.ysj_instance(width=width, slope=slope, seed=seed)
    obj = inst.objective()
    L, g = obj.value_and_grad(inst.theta)
    assert abs(float(L) - inst.affine_value) <= c6.tau_fp(inst.affine_value)
    assert float(g.norm()) <= 1e-9 * (1 + float(L))
    assert inst.min_preactivation() >= ce.YSJ_MARGIN - 1e-9
    cert = c6.certify(obj, inst.theta)
    assert cert.verdict is Verdict.CERTIFIED_MINIMUM, cert.summary()


def test_claim6_ysj_rejects_bad_input():
    with pytest.raises(ValueError, match="width >= 2"):
        ce.ysj_instance(width=1)
    with pytest.raises(ValueError, match="slope"):
        ce.ysj_instance(slope=1.0)


def test_claim6_safran_shamir_formula():
    """The closed-form population loss: analytic gradient = autodiff gradient, F(V) = 0, and a Monte Carlo estimate
    of 1/2 E[(sum relu(w_i.x) - sum relu(v_i.x))^2] within 6 standard errors."""
    k = d = 4
    rng = np.random.default_rng(3)
    w = rng.standard_normal(k * d) / 2
    F, g = ce.ss_value_grad_np(w, k, d)
    obj = ce.ss_objective(k, d)
    assert obj.value(torch.as_tensor(w)) == pytest.approx(F, rel=1e-12)
    assert np.abs(obj.grad(torch.as_tensor(w)).numpy() - g).max() <= 1e-12 * (1 + np.abs(g).max())
    assert ce.ss_value_grad_np(np.eye(k).ravel(), k, d)[0] == pytest.approx(0.0, abs=1e-14)
    Z = rng.standard_normal((200_000, d))
    W = w.reshape(k, d)
    diff = np.maximum(Z @ W.T, 0).sum(1) - np.maximum(Z, 0).sum(1)
    q = 0.5 * diff ** 2
    assert abs(q.mean() - F) <= 6 * q.std() / math.sqrt(len(q))


@at_most(3, suppress_health_check=SUPPRESS)
@given(seed=st.integers(0, 39))
@example(seed=ce.SS_SPURIOUS_SEEDS_K8[1])
def test_claim6_safran_shamir_runs(seed):
    """The handbook protocol (k = d = 8): every run ends either at the global value (F <= 1e-6) or at a certified
    spurious minimum (|grad F| <= 1e-10, lambda_min >= 1e-4, F > 1e-6); the pinned seeds are spurious."""
    run = ce.ss_run(seed)
    if seed in ce.SS_SPURIOUS_SEEDS_K8:
        assert run.outcome == "spurious", run
    if run.outcome == "spurious":
        c = run.certificate
        assert c.certified and c.lambda_min >= ce.SS_LAMBDA_MIN and c.grad_norm <= ce.SS_GRAD_TOL
        assert run.loss > ce.SS_SPURIOUS_VALUE
    else:
        assert run.outcome in ("global", "uncertified")


@pytest.mark.slow
@pytest.mark.counterexample
def test_claim6_safran_shamir_scan_40_seeds():
    """The handbook protocol over seeds 0..39 (k = d = 8; ~6 s with one BLAS thread): the spurious seeds are exactly
    the pinned ones, each a certified strict minimum at F = 0.021508 (handbook value), every other run global."""
    spurious = []
    for seed in range(40):
        run = ce.ss_run(seed)
        if run.outcome == "spurious":
            spurious.append(seed)
            assert run.loss == pytest.approx(0.021508, abs=1e-6)
        else:
            assert run.outcome == "global", run
    assert tuple(spurious) == ce.SS_SPURIOUS_SEEDS_K8
