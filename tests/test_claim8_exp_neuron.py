"""claim8 (Liang et al. 2018; Kawaguchi & Kaelbling 2020): one exponential neuron per output with an l2 penalty
removes every bad local minimum; failure mode on non-realizable data; negative controls (affine neuron, lam = 0,
non-realizable data).

Hypothesis draws the structure (seeds, input dimension, duplicated inputs, neuron draws); numpy builds the arrays.
Tolerances and their derivations live in claims/claim8_exp_neuron.py.
"""
from __future__ import annotations


import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings, target
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from threadpoolctl import threadpool_limits

from claims import claim8_exp_neuron as c8
from claims import counterexamples as ce
from networks import MLP, Verdict


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Tiny dense problems: threaded BLAS only thrashes on a shared machine."""
    with threadpool_limits(1):
        yield


SUPPRESS = list(settings().suppress_health_check) + [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def _record_and_assert(claim_ledger, rec):
    claim_ledger.add(rec)
    if rec.certified:
        assert rec.passed, f"{rec.check}: gap {rec.gap!r} > tol {rec.tol!r}: {rec.reason}; {rec.extra}"
    if rec.headroom is not None and rec.certified and currently_in_test_context():
        target(float(rec.headroom), label="gap/tol")
    return rec


# ------------------------------------------------------------------------------------------ derived identity
@given(seed=st.integers(0, 2**31 - 1), d_x=st.integers(1, 3), d_y=st.integers(1, 2),
       lam=st.sampled_from([1e-3, 1e-2, 1.0]))
def test_claim8_a_identity_holds_everywhere(seed, d_x, d_y, lam):
    """lam a_k^2 = a_k dL~/da_k - dL~/db_k at ANY point (the identity behind the |a| bound), to float64 rounding;
    the bound |a| <= |g_a|/lam + sqrt(|g_b|/lam) holds; and L(theta) = L~ - lam/2||a||^2 - sum g_b + ||a o e||^2/(2m)
    (the identity behind the realizable check's slack)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (7, d_x))
    Y = rng.standard_normal((7, d_y))
    model = MLP(d_x, (3,), d_y, activation="tanh")
    obj, lay = c8.augmented_objective(model, X, Y, lam)
    p = torch.as_tensor(rng.standard_normal(lay.n_params) * 0.5)
    g = obj.grad(p).numpy()
    a = p[lay.a].numpy()
    ga, gb = g[lay.a], g[lay.b]
    scale = np.abs(a * ga) + np.abs(gb) + lam * a * a
    assert np.all(np.abs(lam * a * a - (a * ga - gb)) <= 1e-12 * (1 + scale))
    assert np.all(np.abs(a) <= c8.a_bound(ga, gb, lam) * (1 + 1e-12) + 1e-15)
    # exact: L(theta) = L~ - lam/2 ||a||^2 - sum_k g_b,k + ||a o e||^2 / (2m)
    theta, _, W, b = lay.split(p)
    E = np.exp(X @ W.numpy().T + b.numpy())
    lhs = c8.base_loss(model, theta, X, Y)
    rhs = obj.value(p) - 0.5 * lam * float(a @ a) - float(gb.sum()) + float(np.sum((E * a) ** 2)) / (2 * len(X))
    assert abs(lhs - rhs) <= 1e-12 * (1 + abs(lhs) + float(np.sum((E * a) ** 2)))


def test_claim8_objective_rejects_bad_input():
    model = MLP(2, (3,), 1)
    X, Y = np.zeros((4, 2)), np.zeros((4, 1))
    with pytest.raises(ValueError, match="neuron"):
        c8.augmented_objective(model, X, Y, 0.1, "relu")
    with pytest.raises(ValueError, match="lam"):
        c8.augmented_objective(model, X, Y, -1.0)
    with pytest.raises(ValueError, match="do not fit"):
        c8.augmented_objective(model, np.zeros((4, 3)), Y, 0.1)
    with pytest.raises(ValueError, match="n_dup"):
        c8.realizable_data(12, 2, 0, n_dup=6)


# ------------------------------------------------------------------------------------------ escape
@settings(suppress_health_check=SUPPRESS, max_examples=6)
@given(seed=st.integers(0, 2**31 - 1), ysj_seed=st.integers(0, 50), width=st.integers(2, 6))
@example(seed=0, ysj_seed=0, width=6)
def test_claim8_escape_from_certified_bad_minimum(seed, ysj_seed, width, claim_ledger):
    """At the certified YSJ minimum (a bad minimum of L), the exponential neuron with a = 0 and 8 random (w, b) has
    max |dL~/da| >= 1e-6 of its Cauchy-Schwarz maximum: the point is not even critical for L~."""
    rec = _record_and_assert(claim_ledger, c8.check_escape_from_bad_minimum(seed=seed, ysj_seed=ysj_seed, width=width))
    assert rec.certified, "the YSJ construction must certify (it is the starting point)"


# ------------------------------------------------------------------------------------------ realizable
@settings(suppress_health_check=SUPPRESS, max_examples=8)
@given(seed=st.integers(0, 2**20), d_x=st.integers(1, 3), n_dup=st.integers(0, 3))
@example(seed=0, d_x=2, n_dup=0)  # the handbook's setting: n = 12, width 30, lam = 1e-2, distinct inputs
@example(seed=2, d_x=3, n_dup=2)  # duplicated inputs: the per-input optimum is the group mean, L_opt > 0
def test_claim8_realizable_minima_are_global(seed, d_x, n_dup, claim_ledger):
    """tanh net (n = 12, width 30, lam = 1e-2) trained to C-min on L~: |a| within its certified bound and
    L(theta) at the per-input optimum (policy tolerance 1e-8 L(0)). Uncertified runs are recorded, not passed."""
    _record_and_assert(claim_ledger, c8.check_realizable(seed, "tanh", d_x=d_x, n_dup=n_dup, time_budget=30.0))


@pytest.mark.slow
def test_claim8_realizable_certified_fraction_floor(claim_ledger):
    """Fixed seeds (tanh, with and without duplicated inputs): at least 80% certify."""
    for seed in range(6):
        _record_and_assert(claim_ledger, c8.check_realizable(seed, "tanh", d_x=1 + seed % 3, n_dup=seed % 3, time_budget=30.0))
    claim_ledger.assert_certified_fraction(0.8)


def test_claim8_realizable_relu_pinned(claim_ledger):
    """A ReLU net (the handbook's other activation) at a pinned seed where the trainer reaches a differentiable
    certified minimum. ReLU runs mostly end ON KINKS (NON_DIFFERENTIABLE, measured 1/8 certified), so only this
    pinned case is asserted to certify; the yield is reported by the report mode."""
    rec = _record_and_assert(claim_ledger, c8.check_realizable(0, "relu", d_x=2, n_dup=0, time_budget=30.0))
    assert rec.certified, rec.reason


# ------------------------------------------------------------------------------------------ failure mode
@pytest.fixture(scope="module")
def non_realizable_run():
    return c8.run_non_realizable(seed=1)


def test_claim8_failure_mode_no_minimum(non_realizable_run, claim_ledger):
    """Width-1 tanh, 12 non-realizable points: L~ has no local minimum. Within 3 x 50 iterations the trainer never
    converges, nothing certifies, and the parameters drift (the trainer reports divergence)."""
    rec = _record_and_assert(claim_ledger, c8.check_non_realizable(out=non_realizable_run))
    assert rec.passed, rec.reason
    hist = non_realizable_run["history"]
    assert all(h["verdict"] != Verdict.CERTIFIED_MINIMUM.value for h in hist)
    assert any(h["reason"].startswith("diverging") for h in hist), [h["reason"] for h in hist]
    # L(theta) stays far above the per-input optimum: f alone never fits the data
    assert min(h["L_theta"] for h in hist) > 10 * non_realizable_run["L_opt"] + 1e-3


@pytest.mark.counterexample
def test_claim8_control_non_realizable_has_no_global_minimum(non_realizable_run, claim_ledger):
    """Negative control: 'a local minimum exists and is global' must fail on non-realizable data."""
    rec = claim_ledger.add(c8.control_non_realizable(out=non_realizable_run))
    assert rec.detected, rec.reason


# ------------------------------------------------------------------------------------------ negative controls
@pytest.mark.counterexample
def test_claim8_control_affine_neuron_keeps_the_bad_minimum(claim_ledger):
    """An affine neuron instead of the exponential: dL~/da = 0 at the YSJ minimum (residual orthogonal to affine
    functions), the bad minimum stays a certified minimum of L~, and L(theta) is far above the per-input optimum."""
    rec = claim_ledger.add(c8.control_affine_neuron())
    assert rec.detected, rec.reason
    assert abs(rec.extra["dLda"]) <= 1e-12
    assert rec.extra["verdict"] == Verdict.CERTIFIED_MINIMUM.value


@pytest.mark.counterexample
def test_claim8_control_lambda_zero(claim_ledger):
    """lam = 0: a certified zero-loss minimum of L~ with a = 1 != 0, where theta alone is not optimal for L."""
    rec = claim_ledger.add(c8.control_lambda_zero())
    assert rec.detected, rec.reason
    assert rec.extra["strength"] == "zero-loss"


@pytest.mark.counterexample
def test_claim8_exp_neuron_at_ysj_is_not_a_minimum_affine_is(claim_ledger):
    """The same YSJ point, two neurons: the certifier says NOT_CONVERGED with the exponential neuron and
    CERTIFIED_MINIMUM with the affine one (the difference the claim rests on)."""
    inst = ce.ysj_instance()
    rng = np.random.default_rng(5)
    w, b = rng.standard_normal((1, 2)), rng.standard_normal(1)
    verdicts = {}
    for neuron in c8.NEURONS:
        obj, lay = c8.augmented_objective(inst.model, inst.X, inst.Y, c8.LAM, neuron)
        verdicts[neuron] = c8.certify(obj, lay.join(inst.theta, [0.0], w, b)).verdict
    assert verdicts == {"exp": Verdict.NOT_CONVERGED, "affine": Verdict.CERTIFIED_MINIMUM}


@pytest.mark.slow
def test_claim8_report_mode_runs():
    """Report mode: escape, a realizable instance, the failure mode and every negative control."""
    recs = c8.CLAIM.run(c8.RunConfig(n_instances=1, seed=0, time_budget=30.0))
    assert all(r.passed is not False for r in recs), [r.reason for r in recs if r.passed is False]
    assert all(r.detected for r in recs if r.kind != "positive"), [r.reason for r in recs if r.kind != "positive"]
