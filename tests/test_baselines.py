"""Tests of the certified classical baselines (baselines/): planted optima, closed form vs cvxpy, sabotage refused,
bad input rejected. Hypothesis draws shapes and a seed; numpy builds the arrays from the seed."""
from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from baselines import (
    BaselineError,
    kernel_ridge,
    logistic_regression,
    nystrom_features,
    ols,
    polynomial_features,
    random_fourier_features,
    rbf_kernel,
    softmax_regression,
    symmetric_ls,
    verify,
)
from baselines.certificate import LS_AGREEMENT
from baselines.least_squares import kkt_tolerance, least_squares, objective
from baselines.matrix_ls import vech_features
from baselines.reduced_rank import reduced_rank
from minimacheck.tolerance import slack_solver, tau_fp

seeds = st.integers(0, 2**16)


# ---------------------------------------------------------------- instance builders
def planted_least_squares(m, p, dy, rank, seed):
    """Y = Phi R* + E with Phi^T E = 0 (E in the orthogonal complement of col Phi): min value = 1/2 ||E||^2."""
    rng = np.random.default_rng(seed)
    Phi = rng.normal(size=(m, rank)) @ rng.normal(size=(rank, p))
    U = np.linalg.svd(Phi)[0]
    E = U[:, rank:] @ rng.normal(size=(m - rank, dy))
    R_star = rng.normal(size=(p, dy))
    return Phi, Phi @ R_star + E, 0.5 * float(np.sum(E * E))


def planted_sdp(d, n, k, seed, noise=True):
    """The handbook's 'Planted SDP' recipe: M* >= 0 of rank k, G* >= 0 with G* M* = 0, the minimum-norm r with
    sum_i r_i x_i x_i^T = G*, y = <M*, x_i x_i^T> - r (+ e with sum_i e_i x_i x_i^T = 0). Value 1/2 ||r - e||^2."""
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.normal(size=(d, d)))[0]
    M_star = (Q[:, :k] * rng.uniform(0.5, 2.0, k)) @ Q[:, :k].T
    G_star = (Q[:, k:] * rng.uniform(0.5, 2.0, d - k)) @ Q[:, k:].T
    X = rng.normal(size=(n, d))
    j, l = np.triu_indices(d)
    A_adj = (X[:, j] * X[:, l]).T  # r -> upper triangle of sum_i r_i x_i x_i^T
    r = np.linalg.lstsq(A_adj, G_star[j, l], rcond=None)[0]
    assert np.abs(A_adj @ r - G_star[j, l]).max() < 1e-12
    e = np.zeros(n)
    if noise:
        F = vech_features(X)
        U = np.linalg.svd(F)[0]
        e = U[:, F.shape[1]:] @ rng.normal(size=n - F.shape[1])
    y = np.einsum("ij,jk,ik->i", X, M_star, X) - r + e
    return X, y, M_star, 0.5 * float(np.sum((r - e) ** 2))


def all_labels_data(m0, p, K, seed):
    """Every distinct input carries every label (plus one extra random label), so the optimum is attained."""
    rng = np.random.default_rng(seed)
    Z0 = rng.normal(size=(m0, p))
    labels = np.concatenate([np.r_[np.arange(K), rng.integers(K)] for _ in range(m0)])
    return np.repeat(Z0, K + 1, axis=0), np.eye(K)[labels]


def softmax_np(Q):
    Q = Q - Q.max(axis=1, keepdims=True)
    P = np.exp(Q)
    return P / P.sum(axis=1, keepdims=True)


def mean_ce(Z, Y, W):
    Q = Z @ W
    mx = Q.max(axis=1)
    return float(np.mean(mx + np.log(np.exp(Q - mx[:, None]).sum(1)) - np.sum(Y * Q, 1)))


# ---------------------------------------------------------------- least squares
@pytest.mark.cvxpy
@given(m=st.integers(3, 40), p=st.integers(1, 8), dy=st.integers(1, 3), deficiency=st.integers(0, 2), seed=seeds)
@example(m=5, p=5, dy=1, deficiency=0, seed=0)  # square: interpolation, value 0
def test_least_squares_planted_optimum(m, p, dy, deficiency, seed):
    rank = max(1, min(p, m) - deficiency)
    Phi, Y, planted = planted_least_squares(m, p, dy, rank, seed)
    cert = least_squares(Phi, Y)
    assert abs(cert.value - planted) <= tau_fp(planted)
    assert cert.agreement <= LS_AGREEMENT and cert.slack_solver == 0.0 and cert.status == "optimal"
    assert cert.kkt_residual <= kkt_tolerance(Phi.shape + Y.shape[1:])
    cert.require("value", "cvxpy_value", "agreement", "kkt_residual")
    assert verify(cert, Phi, Y, 0.0) <= kkt_tolerance(Phi.shape + Y.shape[1:])


@pytest.mark.cvxpy
@given(m=st.integers(2, 25), p=st.integers(1, 30), dy=st.integers(1, 3), log_lam=st.integers(-3, 1), seed=seeds)
@example(m=4, p=30, dy=2, log_lam=-3, seed=1)  # p > m: the dual Cholesky path
def test_ridge_closed_form_matches_cvxpy(m, p, dy, log_lam, seed):
    rng = np.random.default_rng(seed)
    Phi, Y, lam = rng.normal(size=(m, p)), rng.normal(size=(m, dy)), 10.0 ** log_lam
    cert = least_squares(Phi, Y, lam)
    assert cert.agreement <= LS_AGREEMENT
    # independent closed form: value = lam/2 tr(Y^T (Phi Phi^T + lam I)^-1 Y)
    dual = 0.5 * lam * float(np.sum(Y * np.linalg.solve(Phi @ Phi.T + lam * np.eye(m), Y)))
    assert abs(cert.value - dual) <= (tau_fp(dual) + 1e2 * m * np.finfo(float).eps * (1 + abs(dual))
                                      * np.linalg.cond(Phi @ Phi.T + lam * np.eye(m)))
    verify(cert, Phi, Y, lam)


def test_kernel_ridge_matches_primal_on_nystrom_features():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(25, 3)), rng.normal(size=(25, 2))
    Phi, K = nystrom_features(X, X, 0.4), rbf_kernel(X, X, 0.4)
    for lam in (1e-3, 0.1, 2.0):
        dual = kernel_ridge(K, Y, lam)
        primal = least_squares(Phi, Y, lam, use_cvxpy=False)
        assert abs(dual.value - primal.value) <= dual.details["value_error_bound"]
        assert np.allclose(K @ dual.solution, Phi @ primal.solution, atol=1e-7)


@pytest.mark.cvxpy
def test_ols_intercept_equals_centred_regression():
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(30, 3)) + 5.0, rng.normal(size=(30, 2)) - 2.0
    cert = ols(X, Y, intercept=True)
    centred = least_squares(X - X.mean(0), Y - Y.mean(0), use_cvxpy=False)
    assert abs(cert.value - centred.value) <= 1e-10 * (1 + centred.value)
    assert cert.solution.shape == (4, 2)
    assert ols(X, Y).value > cert.value  # the intercept matters for shifted data


def test_one_dimensional_targets_keep_their_shape():
    rng = np.random.default_rng(5)
    Phi, y = rng.normal(size=(10, 3)), rng.normal(size=10)
    cert = least_squares(Phi, y, use_cvxpy=False)
    assert cert.solution.shape == (3,)
    assert cert.value == pytest.approx(objective(Phi, y[:, None], 0.0, cert.solution[:, None]), rel=1e-15)
    verify(cert, Phi, y, 0.0)


@pytest.mark.cvxpy
@pytest.mark.parametrize("log_cond", [3, 5, 8, 12])
def test_ill_conditioned_design_is_certified_or_refused_never_wrong(log_cond):
    """cvxpy (Clarabel) agrees to 1e-8 up to cond(Phi) ~ 1e6 and misses by ~1e-2 beyond ~1e7 while still reporting
    OPTIMAL: the agreement check must refuse those, and the closed form alone (use_cvxpy=False) stays certified."""
    rng = np.random.default_rng(log_cond)
    U, V = np.linalg.qr(rng.normal(size=(40, 6)))[0], np.linalg.qr(rng.normal(size=(6, 6)))[0]
    Phi = U @ np.diag(np.logspace(0, -log_cond, 6)) @ V.T
    Y = rng.normal(size=(40, 2))
    E = Y - U @ (U.T @ Y)
    planted = 0.5 * float(np.sum(E * E))
    for use_cvxpy in (False, True):
        try:
            cert = least_squares(Phi, Y, use_cvxpy=use_cvxpy)
        except BaselineError as exc:
            assert log_cond >= 7, f"refused a well-conditioned design: {exc}"
            continue
        assert abs(cert.value - planted) <= tau_fp(planted)
        assert not use_cvxpy or cert.agreement <= LS_AGREEMENT
    if log_cond >= 12:  # ||R|| ~ 1e11: Phi R - Y rounds at ~1e-5, so even the closed form must be refused
        with pytest.raises(BaselineError, match="not resolvable"):
            least_squares(Phi, Y, use_cvxpy=False)


# ---------------------------------------------------------------- least squares sabotage: must be refused
@pytest.mark.cvxpy
def test_least_squares_refuses_cvxpy_iteration_limit():
    Phi, Y, _ = planted_least_squares(30, 6, 2, 6, seed=7)
    for opts in ({"max_iters": 2}, {"max_iter": 3}, {"solver": "SCS", "max_iters": 2}):
        with pytest.raises(BaselineError, match="not OPTIMAL"):
            least_squares(Phi, Y, solver_opts=opts)
    with pytest.raises(BaselineError, match="unrecognized|failed"):  # a bad option is a solver failure, not a pass
        least_squares(Phi, Y, solver_opts={"no_such_option": 1})


@pytest.mark.cvxpy
def test_least_squares_refuses_disagreeing_cvxpy_value(monkeypatch):
    import baselines.least_squares as ls

    Phi, Y, planted = planted_least_squares(30, 6, 2, 6, seed=7)
    for offset, match in ((1e-6 * (1 + planted), "disagree"), (-1e-6, "beats")):
        monkeypatch.setattr(ls, "_cvxpy_value", lambda *a, o=offset: (planted + o, "optimal", "CLARABEL"))
        with pytest.raises(BaselineError, match=match):
            least_squares(Phi, Y)


def test_verify_refuses_truncated_and_perturbed_solutions():
    Phi, Y, _ = planted_least_squares(30, 6, 2, 6, seed=8)
    cert = least_squares(Phi, Y, use_cvxpy=False)
    U, s, Vt = np.linalg.svd(Phi, full_matrices=False)
    truncated = Vt[:-1].T @ ((U[:, :-1].T @ Y) / s[:-1, None])  # lstsq that drops the last singular value
    for bad in (truncated, cert.solution * (1 + 1e-6), cert.solution + 1e-8):
        forged = dataclasses.replace(cert, solution=bad, value=objective(Phi, Y, 0.0, bad))
        with pytest.raises(BaselineError, match="residual|excess"):
            verify(forged, Phi, Y, 0.0)
    with pytest.raises(BaselineError, match="value"):  # value not the objective at the solution
        verify(dataclasses.replace(cert, value=cert.value - 1e-6), Phi, Y, 0.0)
    with pytest.raises(BaselineError, match="residual|excess"):  # an rcond that drops a real singular value
        least_squares(Phi, Y, rcond=0.99 * s[-1] / s[0] + 1e-3, use_cvxpy=False)


def test_verify_detects_wrong_lam():
    rng = np.random.default_rng(9)
    Phi, Y = rng.normal(size=(20, 5)), rng.normal(size=(20, 2))
    cert = least_squares(Phi, Y, 0.1, use_cvxpy=False)
    verify(cert, Phi, Y, 0.1)
    for wrong in (0.0, 0.1 * (1 + 1e-6), 0.2):
        with pytest.raises(BaselineError):
            verify(cert, Phi, Y, wrong)


def test_certificate_require_refuses_missing_fields():
    Phi, Y, _ = planted_least_squares(10, 3, 1, 3, seed=10)
    cert = least_squares(Phi, Y, use_cvxpy=False)
    cert.require("value", "kkt_residual")
    with pytest.raises(BaselineError, match="cvxpy_value"):
        cert.require("cvxpy_value")
    with pytest.raises(ValueError, match="no field"):
        cert.require("not_a_field")


# ---------------------------------------------------------------- reduced rank
def _als_value(X, Y, r, seed, iters=400):
    """Brute force: alternating least squares on B = A C^T from a random start (upper bound on L*)."""
    rng = np.random.default_rng(seed)
    C = np.linalg.qr(rng.normal(size=(Y.shape[1], r)))[0]
    for _ in range(iters):
        A = np.linalg.lstsq(X, Y @ C, rcond=None)[0]
        C, Rq = np.linalg.qr(np.linalg.lstsq(X @ A, Y, rcond=None)[0].T)
    A = np.linalg.lstsq(X, Y @ C, rcond=None)[0]
    return 0.5 * float(np.sum((X @ A @ C.T - Y) ** 2))


@given(dx=st.integers(2, 6), dy=st.integers(1, 6), extra=st.integers(2, 20), seed=seeds, data=st.data())
def test_reduced_rank_matches_brute_force_and_both_closed_forms(dx, dy, extra, seed, data):
    r = data.draw(st.integers(0, min(dx, dy)), label="rank")
    rng = np.random.default_rng(seed)
    m = dx + extra
    X = rng.normal(size=(m, dx))
    # well separated singular values of the signal keep ALS fast (ratio <= 1/2 between neighbours)
    B0 = np.linalg.qr(rng.normal(size=(dx, dx)))[0][:, :min(dx, dy)] * 2.0 ** -np.arange(min(dx, dy)) * 8
    B0 = B0 @ np.linalg.qr(rng.normal(size=(dy, dy)))[0][:min(dx, dy)]
    Y = X @ B0 + 0.01 * rng.normal(size=(m, dy))
    cert = reduced_rank(X, Y, r)
    assert cert.agreement <= 1e-10 + 1e2 * dy * np.finfo(float).eps * np.sum(Y * Y) / (1 + cert.value)
    assert np.linalg.matrix_rank(cert.solution, tol=1e-9 * max(1.0, np.linalg.norm(cert.solution))) <= r
    if r == 0:
        assert cert.value == pytest.approx(0.5 * np.sum(Y * Y), rel=1e-14)
        return
    als = _als_value(X, Y, r, seed)
    assert als >= cert.value - tau_fp(cert.value)  # brute force never beats the closed form ...
    assert als - cert.value <= 1e-8 * (1 + cert.value)  # ... and reaches it
    for _ in range(5):  # random rank-r matrices never beat it either
        B = rng.normal(size=(dx, r)) @ rng.normal(size=(r, dy))
        assert 0.5 * np.sum((X @ B - Y) ** 2) >= cert.value - tau_fp(cert.value)
    if r >= min(dx, dy):
        assert abs(cert.value - cert.details["ols_value"]) <= tau_fp(cert.value) + 1e2 * dy * np.finfo(float).eps * np.sum(Y * Y)


def test_reduced_rank_critical_values_are_subset_sums():
    """The eigenvalues in the certificate give every critical value 1/2(||Y||^2 - sum_S lambda); the minimum is the
    top-r subset, i.e. the certified value."""
    rng = np.random.default_rng(11)
    X, Y = rng.normal(size=(30, 5)), rng.normal(size=(30, 4))
    cert = reduced_rank(X, Y, 2)
    lam = cert.details["eigenvalues"]
    values = [0.5 * (np.sum(Y * Y) - lam[list(S)].sum()) for S in itertools.combinations(range(4), 2)]
    assert min(values) == pytest.approx(cert.value, rel=1e-12)


# ---------------------------------------------------------------- symmetric / PSD matrix least squares
@pytest.mark.cvxpy
@given(d=st.integers(2, 5), n_extra=st.integers(-3, 15), seed=seeds)
def test_symmetric_ls_closed_form_matches_cvxpy(d, n_extra, seed):
    n = max(2, d * (d + 1) // 2 + n_extra)
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(n, d)), rng.normal(size=n)
    cert = symmetric_ls(X, y)
    assert cert.agreement <= LS_AGREEMENT and cert.slack_solver == 0.0
    G = X.T @ ((np.einsum("ij,jk,ik->i", X, cert.solution, X) - y)[:, None] * X)
    assert np.linalg.norm(G) <= 1e-9 * (1 + np.linalg.norm(X) ** 2 * np.linalg.norm(y))  # KKT: G = 0
    if n <= d * (d + 1) // 2:  # generic under-determined: zero loss
        assert cert.value <= 1e-20 * (1 + np.sum(y * y))


@pytest.mark.cvxpy
@given(d=st.integers(2, 5), k=st.integers(0, 4), n_extra=st.integers(1, 12), seed=seeds)
@example(d=4, k=2, n_extra=5, seed=0)
@example(d=2, k=1, n_extra=1, seed=122)  # ill-conditioned A: M* recovered only to ~5e-4 (value exact)
def test_psd_ls_planted_optimum(d, k, n_extra, seed):
    k = min(k, d - 1)
    X, y, M_star, planted = planted_sdp(d, d * (d + 1) // 2 + n_extra, k, seed)
    cert = symmetric_ls(X, y, psd=True)
    assert cert.slack_solver == slack_solver(cert.value, True)
    assert -tau_fp(planted) <= cert.value - planted <= cert.slack_solver  # feasible point: never below g*
    assert cert.kkt_residual <= cert.slack_solver
    assert np.linalg.eigvalsh(cert.solution)[0] >= 0.0 - 1e-15
    # Distance to M*: g(M) - g* >= <G*, M> + 1/2 ||A(M - M*)||^2 >= 1/2 sigma_min(A)^2 ||M - M*||_F^2 (G* M* = 0,
    # G*, M >= 0), with sigma_min(A) of x -> x^T M x in an orthonormal basis of symmetric matrices.
    j, l = np.triu_indices(d)
    A = X[:, j] * X[:, l] * np.where(j == l, 1.0, np.sqrt(2.0))
    sigma = np.linalg.svd(A, compute_uv=False)[-1]
    excess = max(cert.value - planted, 0.0) + tau_fp(planted)
    assert np.linalg.norm(cert.solution - M_star) <= np.sqrt(2 * excess) / sigma
    assert cert.value >= cert.details["symmetric_value"] - tau_fp(cert.value)


@pytest.mark.cvxpy
def test_psd_ls_equals_symmetric_ls_when_unconstrained_optimum_is_psd():
    rng = np.random.default_rng(12)
    d, n = 3, 20
    X = rng.normal(size=(n, d))
    M_star = np.diag([1.0, 2.0, 3.0])
    F = vech_features(X)
    e = np.linalg.svd(F)[0][:, F.shape[1]:] @ rng.normal(size=n - F.shape[1])
    y = np.einsum("ij,jk,ik->i", X, M_star, X) + e
    cert = symmetric_ls(X, y, psd=True)
    assert cert.closed_form_value == pytest.approx(0.5 * e @ e, rel=1e-10)
    assert abs(cert.value - cert.closed_form_value) <= cert.slack_solver


@pytest.mark.cvxpy
def test_psd_ls_refuses_cvxpy_iteration_limit():
    X, y, _, _ = planted_sdp(4, 15, 2, seed=13)
    with pytest.raises(BaselineError, match="not OPTIMAL"):
        symmetric_ls(X, y, psd=True, solver_opts={"max_iters": 2})
    with pytest.raises(BaselineError, match="not OPTIMAL"):
        symmetric_ls(X, y, solver_opts={"max_iters": 2})


# ---------------------------------------------------------------- classification
@pytest.mark.cvxpy
@given(m=st.integers(4, 30), p=st.integers(1, 4), K=st.integers(2, 4), lam_on=st.booleans(), seed=seeds)
def test_softmax_planted_soft_label_optimum(m, p, K, lam_on, seed):
    """Y = softmax(Z W*) makes W* stationary for lam = 0 (Z^T (P - Y) = 0); the value is the mean entropy."""
    rng = np.random.default_rng(seed)
    Z, W_star = rng.normal(size=(m, p)), rng.normal(size=(p, K))
    Y = softmax_np(Z @ W_star)
    lam = 0.05 if lam_on else 0.0
    cert = softmax_regression(Z, Y, lam)
    if lam == 0.0:
        planted = mean_ce(Z, Y, W_star)
        assert -tau_fp(planted) <= cert.value - planted <= cert.slack_solver
    assert cert.details["newton_value"] <= cert.value + tau_fp(cert.value)
    assert cert.value - cert.details["newton_value"] <= cert.slack_solver
    assert cert.details["newton_grad_norm"] <= 1e-10
    assert cert.status == "optimal" and cert.solver.startswith("CLARABEL")


@pytest.mark.cvxpy
@given(m0=st.integers(2, 8), p=st.integers(1, 4), K=st.integers(2, 3), seed=seeds)
def test_every_input_every_label_is_attained_and_matches_frequencies(m0, p, K, seed):
    Z, Y = all_labels_data(m0, p, K, seed)
    cert = softmax_regression(Z, Y)
    # the mean loss over duplicates equals the loss on distinct inputs with label frequencies as soft labels
    Zu, Yf = Z[:: K + 1], Y.reshape(m0, K + 1, K).mean(axis=1)
    freq = softmax_regression(Zu, Yf)
    assert abs(cert.value - freq.value) <= cert.slack_solver + freq.slack_solver
    if K == 2:
        lg = logistic_regression(Z, Y[:, 1])
        assert abs(lg.value - cert.value) <= lg.slack_solver + cert.slack_solver
        w = lg.details["newton_solution"]
        t = Z @ w
        assert np.linalg.norm(Z.T @ (1 / (1 + np.exp(-t)) - Y[:, 1])) / len(t) <= 1e-10


@pytest.mark.cvxpy
def test_separable_data_is_a_minimum_at_infinity():
    rng = np.random.default_rng(14)
    Z = rng.normal(size=(20, 3))
    y = (Z[:, 0] > 0).astype(float)
    with pytest.raises(BaselineError, match="minimum at infinity"):
        logistic_regression(Z, y)
    with pytest.raises(BaselineError, match="minimum at infinity"):
        softmax_regression(Z, np.eye(2)[y.astype(int)])
    one_label = np.eye(3)[np.zeros(20, dtype=int)]  # a single label everywhere, with an intercept: unattained
    with pytest.raises(BaselineError, match="minimum at infinity"):
        softmax_regression(np.hstack([Z, np.ones((20, 1))]), one_label)
    assert logistic_regression(Z, y, lam=0.01).value > 0  # regularization restores attainment


@pytest.mark.cvxpy
def test_classification_refuses_cvxpy_iteration_limit():
    Z, Y = all_labels_data(5, 2, 3, seed=15)
    with pytest.raises(BaselineError, match="not OPTIMAL"):
        softmax_regression(Z, Y, solver_opts={"max_iters": 2})
    with pytest.raises(BaselineError, match="not OPTIMAL"):
        logistic_regression(Z[:, :2], (Y[:, 0] > 0).astype(float) * 0 + Y[:, 1], solver_opts={"max_iters": 2})


@pytest.mark.cvxpy
def test_classification_detects_a_solver_point_for_the_wrong_lam(monkeypatch):
    """Sabotage: cvxpy is handed the problem with a wrong lam; the Newton polish of the right objective exposes it."""
    import baselines.classification as cl

    Z, Y = all_labels_data(6, 2, 3, seed=18)
    honest = cl._problem
    monkeypatch.setattr(cl, "_problem", lambda Z, Y, lam, logistic: honest(Z, Y, lam + 0.05, logistic))
    with pytest.raises(BaselineError, match="Newton|Lemma C"):
        softmax_regression(Z, Y, 0.01)
    with pytest.raises(BaselineError, match="Newton|Lemma C"):
        logistic_regression(Z, Y[:, 1], 0.0)


@pytest.mark.cvxpy
def test_psd_ls_refuses_a_perturbed_solver_point(monkeypatch):
    import baselines.matrix_ls as ml

    X, y, M_star, _ = planted_sdp(4, 20, 2, seed=19)
    honest = ml._cvxpy

    def sabotaged(*args):
        value, status, solver, M, reported = honest(*args)
        M = M + 1e-3 * np.eye(M.shape[0])  # feasible but sub-optimal: <G, M> > 0
        return ml.quad_objective(X, y, M)[0], status, solver, M, ml.quad_objective(X, y, M)[0]

    monkeypatch.setattr(ml, "_cvxpy", sabotaged)
    with pytest.raises(BaselineError, match="KKT bound"):
        symmetric_ls(X, y, psd=True)


# ---------------------------------------------------------------- features
@given(m=st.integers(1, 12), d=st.integers(1, 4), q=st.integers(0, 3), seed=seeds)
def test_polynomial_features_match_sklearn(m, d, q, seed):
    from sklearn.preprocessing import PolynomialFeatures

    X = np.random.default_rng(seed).normal(size=(m, d))
    ours = polynomial_features(X, q)
    assert ours.shape == (m, math.comb(d + q, q))
    ref = PolynomialFeatures(q).fit_transform(X)
    assert ref.shape == ours.shape
    # same set of columns (orders may differ): every reference column is one of ours
    for col in ref.T:
        assert np.min(np.abs(ours - col[:, None]).max(axis=0)) <= 1e-12 * (1 + np.abs(col).max())


def test_nystrom_features_reproduce_the_kernel_on_the_data():
    rng = np.random.default_rng(16)
    X = rng.normal(size=(30, 3))
    for gamma in (0.1, 1.0):
        Phi = nystrom_features(X, X, gamma)
        K = rbf_kernel(X, X, gamma)
        assert np.abs(Phi @ Phi.T - K).max() <= 1e-9
    S = X[:7]  # fewer landmarks: exact on the landmarks themselves
    Phi = nystrom_features(X, S, 0.5)
    assert np.abs(Phi[:7] @ Phi[:7].T - rbf_kernel(S, S, 0.5)).max() <= 1e-9


def test_random_fourier_features_approximate_the_kernel():
    rng = np.random.default_rng(17)
    X = rng.normal(size=(15, 2))
    Phi = random_fourier_features(X, 20000, 0.5, seed=3)
    assert np.abs(Phi @ Phi.T - rbf_kernel(X, X, 0.5)).max() <= 0.05  # Monte Carlo error ~ 1/sqrt(p)
    assert np.array_equal(Phi, random_fourier_features(X, 20000, 0.5, seed=3))
    assert not np.array_equal(Phi, random_fourier_features(X, 20000, 0.5, seed=4))


# ---------------------------------------------------------------- bad input: ValueError naming the problem
_ok = np.ones((4, 2)) + np.arange(8).reshape(4, 2) ** 2
_nan = _ok.copy()
_nan[1, 1] = np.nan
_inf = _ok.copy()
_inf[0, 0] = np.inf


@pytest.mark.parametrize("call, match", [
    (lambda: least_squares(_nan, _ok), "NaN or inf"),
    (lambda: least_squares(_ok, _inf), "NaN or inf"),
    (lambda: least_squares(_ok, np.ones((5, 1))), "shape mismatch"),
    (lambda: least_squares(np.zeros((0, 2)), np.zeros((0, 1))), "empty"),
    (lambda: least_squares(_ok, _ok, -1.0), "lam"),
    (lambda: least_squares(_ok, _ok, float("nan")), "lam"),
    (lambda: least_squares(_ok, _ok, rcond=1.5), "rcond"),
    (lambda: least_squares(np.ones((2, 2, 2)), _ok), "ndim"),
    (lambda: least_squares([["a", "b"]], _ok), "numeric"),
    (lambda: kernel_ridge(np.eye(4), _ok, 0.0), "lam"),
    (lambda: kernel_ridge(np.ones((4, 3)), _ok, 1.0), "square"),
    (lambda: kernel_ridge(np.triu(np.ones((4, 4))), _ok, 1.0), "symmetric"),
    (lambda: kernel_ridge(-np.eye(4), _ok, 1.0), "positive semidefinite"),
    (lambda: reduced_rank(_ok, _ok, 3), "rank"),
    (lambda: reduced_rank(_ok, _ok, -1), "rank"),
    (lambda: reduced_rank(_ok, _ok, 1.5), "rank"),
    (lambda: reduced_rank(_ok, _ok[:3], 1), "shape mismatch"),
    (lambda: symmetric_ls(_ok, np.ones(3)), "shape mismatch"),
    (lambda: symmetric_ls(_ok, np.ones((4, 2))), "vector"),
    (lambda: symmetric_ls(_nan, np.ones(4)), "NaN or inf"),
    (lambda: logistic_regression(_ok, np.array([0, 1, 2, 0.0])), r"\[0, 1\]"),
    (lambda: logistic_regression(_ok, np.ones(4), lam=-0.1), "lam"),
    (lambda: softmax_regression(_ok, np.ones((4, 2))), "sum to 1"),
    (lambda: softmax_regression(_ok, np.ones((4, 1))), "2 classes"),
    (lambda: softmax_regression(_ok, np.eye(2)[[0, 1, 0]]), "shape mismatch"),
    (lambda: polynomial_features(_ok, -1), "degree"),
    (lambda: polynomial_features(_ok, 2.0), "degree"),
    (lambda: random_fourier_features(_ok, 0, 1.0, 0), "p"),
    (lambda: random_fourier_features(_ok, 5, -1.0, 0), "gamma"),
    (lambda: nystrom_features(_ok, np.ones((3, 3)), 1.0), "shape mismatch"),
    (lambda: nystrom_features(_inf, _ok, 1.0), "NaN or inf"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
