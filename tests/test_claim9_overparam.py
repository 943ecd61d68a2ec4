"""claim9 (over-parameterization family): claim-specific tests. The property test, pinned cases, controls,
sabotages, forced pass and per-regime floors of every sub-claim are generated in tests/test_common.py. Each test name
carries its sub-claim id, so `pytest -k claim9c` selects one sub-claim."""
from __future__ import annotations

import math

import numpy as np
import pytest

from claims.claim9_overparam import eigen, gdgf, gram, ntk, quadratic, sparsity
from claims.claim9_overparam.common import sphere
from minimacheck import registry


def test_claim9_registry_loads_the_package():
    claim = registry.load_builtin("claim9_overparam")
    assert claim.id == "claim9" and [p.id for p in claim.parts][:4] == ["claim9a", "claim9b", "claim9c", "claim9d"]
    assert claim.evidence.name == "EXECUTED"


# ---------------------------------------------------------------- 9a
def test_claim9a_planted_sdp_is_optimal_in_closed_form():
    """The planted instance's SDP value equals 1/2||r||^2 (KKT: G* >= 0, G* M* = 0) to the solver's slack."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    y, M_star, value = quadratic.planted_sdp(X, rng)
    base = quadratic.symmetric_ls(X, y, psd=True)
    assert abs(base.value - value) <= base.slack_solver + 1e-10 * (1 + value)
    assert np.linalg.eigvalsh(M_star)[0] >= -1e-12


def test_claim9a_bound_uses_the_hypothesis_sigma_d():
    """k_+ < d has no d-th singular value: the full-rank route is unavailable (inf) and the rank-deficient route
    takes sigma_d = 0; with k_+ >= d the full-rank route is finite."""
    W = np.random.default_rng(1).standard_normal((2, 4))
    assert quadratic._sigma_d(W, 4) == 0.0
    assert quadratic._sigma_d(np.vstack([W, W + 1, W - 1]), 4) > 0


def test_claim9a_rank_bound_control_matches_handbook_values():
    rec = quadratic.control_rank_bound(quadratic.PART)
    assert rec.detected
    assert math.isclose(rec.extra["loss"], 9.9277, abs_tol=1e-3)
    assert math.isclose(rec.extra["g_star"], 8.9301, abs_tol=1e-3)


def test_claim9a_bad_input_raises():
    with pytest.raises(ValueError, match="signs"):
        quadratic.Params(3, 10, 3, 3, 0, signs="nope").validate()
    with pytest.raises(ValueError, match="planted"):
        quadratic.Params(3, 4, 3, 0, 0, signs="psd", target="planted").validate()
    with pytest.raises(ValueError, match="unknown regime"):
        quadratic.strategy("nonsense")


# ---------------------------------------------------------------- 9b
def test_claim9b_gram_is_half_the_first_ntk_term():
    """Du's H^inf is half the first term of the two-layer NTK (CLAIMS.md claim9c)."""
    X = sphere(6, 4, np.random.default_rng(2))
    rho = np.clip(X @ X.T, -1, 1)
    assert np.allclose(gram.gram_inf(X), 0.5 * rho * ntk.sigma_dot(rho), atol=1e-15)


def test_claim9b_antipodal_gram_is_singular():
    X = sphere(4, 3, np.random.default_rng(3))
    lam = np.linalg.eigvalsh(gram.gram_inf(np.vstack([X, -X])))
    assert lam[0] <= 1e-12 * lam[-1]


def test_claim9b_figure_data_has_the_bound():
    fig = gram.residual_vs_step(gram.Params(n=5, d=4, m=1000, seed=0, steps=50))
    assert fig["residual"].shape == fig["bound"].shape == (51,)
    assert np.all(fig["residual"] <= fig["bound"] + gram.FP_SLACK)


@pytest.mark.xslow
def test_claim9b_handbook_size():
    """The handbook's n = 20, d = 5, m = 20,000 (several seconds)."""
    for labels in gram.LABELS:
        rec = gram.check(gram.Params(n=20, d=5, m=20_000, seed=0, labels=labels, m_mc=200_000))
        assert rec.passed is not False, rec.reason


def test_claim9b_bad_input_raises():
    with pytest.raises(ValueError, match="even"):
        gram.Params(n=4, d=3, m=101, seed=0).validate()


# ---------------------------------------------------------------- 9c
def test_claim9c_two_layer_kernel_closed_form():
    """Theta^(1) = x^T x' (pi - arccos rho)/pi + ||x|| ||x'|| (sqrt(1 - rho^2) + (pi - arccos rho) rho)/pi."""
    X = sphere(5, 3, np.random.default_rng(4), radius=2.0)
    n = np.linalg.norm(X, axis=1)
    rho = np.clip(X @ X.T / np.outer(n, n), -1, 1)
    expected = X @ X.T * (np.pi - np.arccos(rho)) / np.pi + np.outer(n, n) * (
        np.sqrt(1 - rho**2) + (np.pi - np.arccos(rho)) * rho) / np.pi
    assert np.allclose(ntk.ntk(X, 1), expected, rtol=1e-12, atol=1e-12)


def test_claim9c_error_falls_with_width():
    """The figure's data: the relative NTK error at width 1024 is below the one at width 64 (3 inits each)."""
    fig = ntk.ntk_error_vs_width(depth=2, widths=(64, 1024), n=4, d=4)
    assert fig["error"][1] < fig["error"][0] and np.all(fig["error"] <= fig["tol"])


def test_claim9c_bad_input_raises():
    with pytest.raises(ValueError, match="kind"):
        ntk.Params("nope", 0).validate()


# ---------------------------------------------------------------- 9d
def test_claim9d_series_coefficients_sum_to_the_kernel():
    c = eigen.kappa_coefficients()
    assert c.min() >= 0
    for rho in (-0.7, 0.0, 0.5, 0.9):
        kappa = rho + (2 * rho * np.arcsin(rho) + np.sqrt(1 - rho**2)) / np.pi
        assert math.isclose(float(np.sum(c * rho ** np.arange(c.size))), kappa, rel_tol=1e-9, abs_tol=1e-12)
    X = sphere(7, 5, np.random.default_rng(5), radius=math.sqrt(5))
    rho = np.clip(X @ X.T / 5, -1, 1)
    kappa = rho + (2 * rho * np.arcsin(rho) + np.sqrt(1 - rho**2)) / np.pi
    # at rho = 1 - 1e-16 (the diagonal) sqrt(1 - rho^2) ~ 1.5e-8 turns rounding into ~1e-8 absolute
    assert np.allclose(ntk.ntk(X, 1), 5 * kappa, rtol=1e-12, atol=1e-7)


def test_claim9d_bad_input_raises():
    with pytest.raises(ValueError, match="4N"):
        eigen.Params("wide", 50, 10, (100,), 0).validate()


# ---------------------------------------------------------------- 9e
def test_claim9e_balancedness_identity_holds_off_critical_points_for_leaky_only():
    """mu(||w_i||^2 - a_i^2) = <grad_{w_i} C, w_i> - a_i d_{a_i} C at ANY theta for a homogeneous sigma (so it is
    asserted with a floating-point tolerance), and not for tanh."""
    import torch

    for act, holds in (("leaky_relu", True), ("tanh", False)):
        p = sparsity.Params(N=5, d=3, k=7, mu=1e-2, seed=3, activation=act)
        rng = np.random.default_rng(3)
        X, y = rng.standard_normal((5, 3)), rng.standard_normal(5)
        model = sparsity.MLP(3, (7,), 1, act, bias=False)
        inst = sparsity.Instance(p, model, X, y, model.init(4))
        b = sparsity.balancedness(inst, inst.theta)
        assert (b["identity_err"] <= sparsity.IDENTITY_TOL * b["scale"]) is holds, b
        assert torch.isfinite(inst.theta).all()


def test_claim9e_dead_unit_bound_dominates_sampled_directions():
    """S <= max over slope patterns of ||X^T (s * r)|| upper-bounds |r^T sigma(X u)| on sampled unit u."""
    inst = sparsity.build(sparsity.PINNED["teacher-n5-width8"])
    W, a = sparsity.split(inst, inst.theta)
    r = sparsity.sigma(inst, inst.X @ W) @ a - inst.y
    U = np.random.default_rng(0).standard_normal((inst.X.shape[1], 2000))
    U /= np.linalg.norm(U, axis=0)
    sampled = float(np.abs(r @ sparsity.sigma(inst, inst.X @ U)).max())
    assert sampled <= sparsity.dead_unit_bound(inst, inst.theta) + 1e-12


# ---------------------------------------------------------------- 9f
def test_claim9f_gradient_matches_finite_differences():
    p = gdgf.Params(d=3, depth=3, eta=0.02, seed=0)
    theta, Phi = gdgf.problem(p)
    g = gdgf.grad(theta, Phi)
    e = np.random.default_rng(0).standard_normal(theta.size)
    fd = (gdgf.loss(theta + 1e-6 * e, Phi) - gdgf.loss(theta - 1e-6 * e, Phi)) / 2e-6
    assert math.isclose(float(g @ e), fd, rel_tol=1e-6, abs_tol=1e-10)


def test_claim9f_balanced_init_and_determinant_sign():
    p = gdgf.Params(d=4, depth=3, eta=0.02, seed=3)
    theta, Phi = gdgf.problem(p)
    Ws = gdgf._factors(theta, 4)
    for j in range(len(Ws) - 1):  # balancedness W_{j+1}^T W_{j+1} = W_j W_j^T
        assert np.allclose(Ws[j + 1].T @ Ws[j + 1], Ws[j] @ Ws[j].T, atol=1e-14)
    assert np.sign(np.linalg.det(Phi)) == np.sign(np.linalg.det(gdgf._product(Ws)))


def test_claim9f_figure_data_is_first_order():
    fig = gdgf.gd_gf_deviation_vs_eta(gdgf.Params(d=3, depth=2, eta=0.02, seed=0), etas=(0.04, 0.02))
    assert np.all(fig["deviation"] <= fig["bound"])
    assert 1.7 <= fig["deviation"][0] / fig["deviation"][1] <= 2.3


def test_claim9d_narrow_relu_layers_can_have_a_dead_sample():
    """Why 'sublinear' draws widths >= 16: at widths (7, 7) a sample with every last-layer unit off zeroes a
    Jacobian row although P > N (the handbook's statement is for smooth sigma / wide enough layers)."""
    p = eigen.Params("sublinear", 40, 17, (7, 7), seed=40)
    rec = eigen.check(p)
    assert p.n_params > p.N and rec.passed is False and abs(rec.extra["lambda_min"]) <= 1e-10 * rec.extra["lambda_max"]
