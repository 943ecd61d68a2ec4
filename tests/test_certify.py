"""Tests of the certifier (networks/certify.py) on planted points with known answers.

- Rejects planted saddles: x^2 - y^2; the origin of a two-layer linear net (lambda_min = -sigma_1(X^T Y), exactly);
  W = 0 of linear nets with three and four weight matrices, where the Hessian is exactly zero and only the
  higher-order probe can reject; a cubic (x^2 + y^3) whose Hessian is PSD.
- Accepts planted strict minima (x^2 + 3y^2, convex quadratics with planted spectra), zero-loss minima, and
  degenerate minima (with strength 'probe').
- Finds a planted -1e-6 eigenvalue once it is beyond the resolution eps_H, densely and with Lanczos; the two
  eigensolvers agree on small cases (DENSE_LIMIT lowered through monkeypatch; Lanczos labelled 'probabilistic').
- NON_DIFFERENTIABLE on a ReLU kink, NOT_CONVERGED at a non-critical point, CRITICAL under
  need_second_order=False, and the typed record: every field present, Certificate.require fails loudly.
"""
from __future__ import annotations

import dataclasses
import importlib
import math

import numpy as np
import pytest
import torch

from networks import MLP, Certificate, Objective, Verdict, certify, minimize, numerical_rank, squared_loss
from networks.certify import MissingCertificateField

# `networks.certify` as an attribute is the *function* (networks/__init__ re-exports it over the submodule's name),
# so the module itself must be fetched from the import system to patch its DENSE_LIMIT.
certify_module = importlib.import_module("networks.certify")

EPS = float(np.finfo(np.float64).eps)


def planted_quadratic(eigs, seed=0, const=1.0, center=None, nonnegative=True):
    """L(x) = 1/2 (x - c)^T Q diag(eigs) Q^T (x - c) + const with a random orthogonal Q from default_rng(seed).
    Returns (objective, Q, center)."""
    rng = np.random.default_rng(seed)
    n = len(eigs)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = Q @ np.diag(eigs) @ Q.T
    A = torch.as_tensor(0.5 * (A + A.T))
    c = torch.zeros(n) if center is None else torch.as_tensor(center)
    obj = Objective(lambda x: 0.5 * (x - c) @ A @ (x - c) + const, n, nonnegative=nonnegative, name="planted quadratic")
    return obj, Q, c


def best_descent(obj, theta, w, scales=(1e-4, 1e-3, 1e-2, 1e-1, 1.0)):
    """min over t in +-scales of L(theta + t w) - L(theta)."""
    w = torch.as_tensor(w)
    base = obj.value(theta)
    return min(obj.value(theta + s * t * w) - base for t in scales for s in (1.0, -1.0))


def assert_saddle_with_witness(cert, obj, theta):
    assert cert.verdict is Verdict.SADDLE, cert.summary()
    assert not cert.certified and cert.critical
    assert cert.witness is not None and len(cert.witness) == obj.n_params
    drop = best_descent(obj, theta, cert.witness)
    assert drop < -cert.probe_tol, f"the witness does not decrease the loss: best change {drop:.3e}"


# ---------------------------------------------------------------- planted saddles
def test_rejects_x2_minus_y2():
    obj = Objective(lambda v: v[0] ** 2 - v[1] ** 2, 2, nonnegative=False, name="x^2 - y^2")
    theta = torch.zeros(2)
    cert = certify(obj, theta)
    assert_saddle_with_witness(cert, obj, theta)
    # Hessian diag(2, -2): exact in float64
    assert cert.lambda_min == -2.0 and cert.lambda_max == 2.0
    assert abs(cert.witness[0]) <= 1e-15 and abs(abs(cert.witness[1]) - 1.0) <= 1e-15
    assert "negative curvature" in cert.reason


@pytest.mark.parametrize("seed", [0, 1])
def test_rejects_origin_of_two_layer_linear_net(seed):
    """At W = 0, L(tA, tB) = L(0) - t^2 <X^T Y, A B> + O(t^4), so the Hessian is [[0, C], [C^T, 0]] with
    lambda_min = -sigma_1(X^T Y) (= -sigma_1(Y X^T) in the column convention of CLAIMS.md) exactly."""
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    model = MLP(3, (2,), 2, activation="linear", bias=False)
    obj = squared_loss(model, X, Y)
    theta = torch.zeros(model.n_params)
    cert = certify(obj, theta)
    assert_saddle_with_witness(cert, obj, theta)
    sigma1 = float(np.linalg.svd(X.T @ Y, compute_uv=False)[0])
    # dense eigvalsh is backward stable: |error| <= ~P eps |H|
    assert abs(cert.lambda_min + sigma1) <= 1e3 * model.n_params * EPS * sigma1
    assert abs(cert.lambda_max - sigma1) <= 1e3 * model.n_params * EPS * sigma1
    assert cert.grad_norm == 0.0 and cert.loss == pytest.approx(0.5 * np.sum(Y**2), rel=1e-14)


@pytest.mark.counterexample
@pytest.mark.parametrize("widths", [(2, 2), (2, 2, 2), (3, 1, 2)], ids=["three-matrices", "four-matrices", "four-bottleneck"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rejects_origin_of_deep_linear_net_only_by_probe(widths, seed):
    """With >= 3 weight matrices every term of L(tW) - L(0) has degree >= 3 in t, so the Hessian at W = 0 is
    exactly zero and no eigenvalue test can reject; the leading term -t^k <X^T Y, W_1...W_k> changes sign with the
    direction, so the perturbation probe must find the descent (CLAIMS.md / ENGINEERING.md section 1)."""
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    model = MLP(2, widths, 2, activation="linear", bias=False)
    obj = squared_loss(model, X, Y)
    theta = torch.zeros(model.n_params)
    H = obj.hessian(theta)
    assert int(torch.count_nonzero(H)) == 0, "the Hessian at W = 0 must be exactly zero"
    cert = certify(obj, theta)
    assert cert.lambda_min == 0.0 and cert.lambda_max == 0.0
    assert cert.null_dim == model.n_params
    assert_saddle_with_witness(cert, obj, theta)
    assert "probe" in cert.reason and "higher-order" in cert.reason
    assert cert.probe_min_change < -cert.probe_tol


def test_rejects_cubic_with_psd_hessian():
    """x^2 + y^3 at 0: Hessian diag(2, 0) is PSD, the point is not a minimum; only the probe sees it."""
    obj = Objective(lambda v: v[0] ** 2 + v[1] ** 3 + 1.0, 2, nonnegative=False, name="x^2 + y^3")
    theta = torch.zeros(2)
    cert = certify(obj, theta)
    assert cert.lambda_min == 0.0 and cert.lambda_max == 2.0 and cert.null_dim == 1
    assert_saddle_with_witness(cert, obj, theta)
    assert "probe" in cert.reason


# ---------------------------------------------------------------- planted minima
def test_accepts_x2_plus_3y2():
    theta = torch.zeros(2)
    obj = Objective(lambda v: v[0] ** 2 + 3 * v[1] ** 2, 2, name="x^2 + 3y^2")
    cert = certify(obj, theta)
    assert cert.certified and cert.strength == "zero-loss", cert.summary()
    assert cert.lambda_min == 2.0 and cert.lambda_max == 6.0 and cert.null_dim == 0 and cert.witness is None
    # shifted up, the zero-loss shortcut no longer applies: a strict minimum with no null direction
    obj1 = Objective(lambda v: v[0] ** 2 + 3 * v[1] ** 2 + 1.0, 2, name="x^2 + 3y^2 + 1")
    cert1 = certify(obj1, theta)
    assert cert1.certified and cert1.strength == "strict-mod-symmetry", cert1.summary()
    assert cert1.null_dim == 0 and cert1.null_explained is True and cert1.probe_min_change >= 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_accepts_planted_convex_quadratic(seed):
    eigs = np.array([1e-3, 0.5, 1.0, 2.0, 7.0, 30.0, 100.0])
    center = np.random.default_rng(seed + 100).standard_normal(len(eigs))
    obj, Q, c = planted_quadratic(eigs, seed=seed, const=3.0, center=center)
    cert = certify(obj, c)
    assert cert.certified and cert.strength == "strict-mod-symmetry", cert.summary()
    # eps_H = 1e-8 max(1, lmax) + 1e3 P eps lmax ~ 1e-6 < 1e-3: the smallest planted eigenvalue is resolved
    assert cert.hessian_resolution < eigs[0]
    tol = 1e3 * len(eigs) * EPS * eigs[-1]
    assert abs(cert.lambda_min - eigs[0]) <= tol and abs(cert.lambda_max - eigs[-1]) <= tol
    assert cert.null_dim == 0 and cert.loss == pytest.approx(3.0, abs=1e-14)


def test_accepts_degenerate_minimum_with_probe_strength():
    """x^2 + y^4 + 1: a minimum with a null Hessian direction that no symmetry explains; the probe is the
    evidence and the strength says so."""
    obj = Objective(lambda v: v[0] ** 2 + v[1] ** 4 + 1.0, 2, name="x^2 + y^4 + 1")
    cert = certify(obj, torch.zeros(2))
    assert cert.certified and cert.strength == "probe", cert.summary()
    assert cert.null_dim == 1 and cert.symmetry_dim == 0 and cert.null_explained is False
    assert "1 near-null directions, 0 from symmetries" in cert.reason


def test_accepts_zero_loss_minimum_of_relu_net():
    """A planted teacher: Y = f(theta*, X), so theta* is a global minimum with L = 0 exactly."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((6, 2))
    model = MLP(2, (4,), 2, activation="relu")
    theta = model.init(3)
    Y = model.forward(theta, torch.as_tensor(X)).detach().numpy()
    obj = squared_loss(model, X, Y)
    cert = certify(obj, theta)
    assert cert.certified and cert.strength == "zero-loss", cert.summary()
    assert cert.loss == 0.0 and cert.grad_norm == 0.0
    assert cert.margin > cert.margin_tol
    assert cert.lambda_min >= -cert.hessian_resolution


def test_accepts_trained_zero_loss_minimum():
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((5, 2)), rng.standard_normal((5, 1))
    model = MLP(2, (8,), 1, activation="tanh")
    obj = squared_loss(model, X, Y)
    res = minimize(obj, model.init(4))
    cert = certify(obj, res.theta)
    assert cert.certified and cert.strength == "zero-loss", cert.summary()
    assert cert.loss <= cert.probe_tol


# ---------------------------------------------------------------- planted -1e-6 eigenvalue, dense and Lanczos
@pytest.mark.parametrize("dense_limit", [None, 5], ids=["dense", "lanczos"])
def test_finds_planted_tiny_negative_eigenvalue(dense_limit, monkeypatch):
    """Spectrum {-1e-6, 0.5 .. 40}: lmax = 40 gives eps_H = 1e-8 * 40 + 1e3 P eps 40 ~ 4e-7 < 1e-6, so the
    planted eigenvalue is beyond resolution and must be found (with its eigenvector as the witness)."""
    if dense_limit is not None:
        monkeypatch.setattr(certify_module, "DENSE_LIMIT", dense_limit)
    n = 12
    eigs = np.r_[-1e-6, np.linspace(0.5, 40.0, n - 1)]
    obj, Q, c = planted_quadratic(eigs, seed=5, const=1.0)
    cert = certify(obj, c)
    assert cert.hessian_resolution < 1e-6, "test precondition: -1e-6 must be beyond eps_H"
    assert_saddle_with_witness(cert, obj, c)
    assert cert.hessian_method == ("dense eigvalsh" if dense_limit is None else "lanczos (probabilistic)")
    # dense: backward error ~ P eps lmax ~ 1e-13; Lanczos with tol 1e-10 relative: ~1e-10 lmax
    tol = 1e3 * n * EPS * 40 if dense_limit is None else 1e-9 * 40
    assert abs(cert.lambda_min + 1e-6) <= tol
    # the witness is the planted eigenvector (eigengap 0.5 >> error)
    assert abs(abs(float(np.dot(cert.witness, Q[:, 0]))) - 1.0) <= 1e-6


def test_tiny_negative_eigenvalue_within_resolution_is_counted_as_null():
    """With lmax = 1e3, eps_H ~ 1e-5 > 1e-6: the certifier cannot resolve the sign, so the direction must be
    counted as near-null; it may then not claim a strict minimum (the probe decides)."""
    eigs = np.r_[-1e-6, np.linspace(1.0, 1e3, 7)]
    obj, Q, c = planted_quadratic(eigs, seed=6, const=1.0)
    cert = certify(obj, c)
    assert cert.hessian_resolution > 1e-6
    assert cert.null_dim >= 1
    assert not (cert.certified and cert.strength == "strict-mod-symmetry"), cert.summary()


def _cases_for_cross_check():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((8, 3)), rng.standard_normal((8, 3))
    model = MLP(3, (2,), 3, activation="linear", bias=False)
    lin = squared_loss(model, X, Y)
    lin_min = minimize(lin, model.init(0)).theta
    strict, _, c1 = planted_quadratic(np.linspace(0.5, 40.0, 20), seed=1)
    saddle, _, c2 = planted_quadratic(np.r_[-0.3, np.linspace(0.5, 40.0, 19)], seed=2)
    origin = squared_loss(MLP(3, (2,), 3, activation="linear", bias=False), X, Y)
    # a degenerate minimum whose null space (10) is larger than the number of eigenpairs Lanczos asks for
    # (max(symmetry_dim + 6, 6) = 6): null_dim must still be counted in full
    degenerate, _, c3 = planted_quadratic(np.r_[np.zeros(10), np.linspace(1.0, 10.0, 10)], seed=3)
    return [("strict", strict, c1), ("saddle", saddle, c2), ("linear-net-minimum", lin, lin_min),
            ("linear-net-origin", origin, torch.zeros(12)), ("degenerate", degenerate, c3)]


@pytest.mark.parametrize("which", ["strict", "saddle", "linear-net-minimum", "linear-net-origin", "degenerate"])
def test_dense_and_lanczos_agree(which, monkeypatch):
    name, obj, theta = next(c for c in _cases_for_cross_check() if c[0] == which)
    dense = certify(obj, theta)
    monkeypatch.setattr(certify_module, "DENSE_LIMIT", 5)
    lanczos = certify(obj, theta)
    assert dense.hessian_method == "dense eigvalsh" and lanczos.hessian_method == "lanczos (probabilistic)"
    assert dense.verdict is lanczos.verdict, (dense.summary(), lanczos.summary())
    assert abs(dense.lambda_min - lanczos.lambda_min) <= max(dense.hessian_resolution, 1e-9 * dense.lambda_max)
    assert lanczos.lambda_max == pytest.approx(dense.lambda_max, rel=1e-5)
    assert dense.null_dim == lanczos.null_dim
    if dense.certified:
        assert "probabilistic" in lanczos.strength and "probabilistic" not in dense.strength
        assert lanczos.strength.startswith(dense.strength)


# ---------------------------------------------------------------- other verdicts
def test_non_differentiable_on_relu_kink():
    """Place a ReLU net exactly on a kink: sample 0 is x = (1, 0), unit 0 has weight 0 on x_1 and bias 0, so
    z^(1)_{0,0} = 1 * 0 + 0 * w + 0 = 0 exactly."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((5, 2))
    X[0] = [1.0, 0.0]
    Y = rng.standard_normal((5, 1))
    model = MLP(2, (3,), 1, activation="relu", bias=True)
    Ws, _ = model.unflatten(model.init(7))
    Ws = [W.clone() for W in Ws]
    Ws[0][0, 0] = 0.0
    Ws[0][2, 0] = 0.0  # bias row
    theta = model.flatten(Ws)
    obj = squared_loss(model, X, Y)
    cert = certify(obj, theta)
    assert cert.verdict is Verdict.NON_DIFFERENTIABLE, cert.summary()
    assert cert.margin == 0.0 and cert.margin_tol > 0
    assert "kink" in cert.reason
    assert cert.lambda_min is None and not cert.critical
    with pytest.raises(MissingCertificateField, match="lambda_min"):
        cert.require("lambda_min")


def test_not_converged_at_non_critical_point():
    rng = np.random.default_rng(8)
    X, Y = rng.standard_normal((6, 2)), rng.standard_normal((6, 1))
    model = MLP(2, (3,), 1, activation="tanh")
    obj = squared_loss(model, X, Y)
    cert = certify(obj, model.init(8))
    assert cert.verdict is Verdict.NOT_CONVERGED and not cert.critical
    assert cert.grad_norm > cert.grad_tol
    assert "gradient" in cert.reason and "tolerance" in cert.reason
    assert cert.lambda_min is None and cert.strength is None


def test_not_converged_on_non_finite_parameters():
    obj = Objective(lambda v: (v**2).sum(), 3)
    cert = certify(obj, torch.tensor([0.0, float("nan"), 1.0]))
    assert cert.verdict is Verdict.NOT_CONVERGED and "non-finite" in cert.reason


def test_certify_rejects_wrong_theta_shape():
    obj = Objective(lambda v: (v**2).sum(), 3)
    with pytest.raises(ValueError, match=r"theta has shape \(2,\), expected \(3,\)"):
        certify(obj, torch.zeros(2))


def test_does_not_certify_minimum_at_infinity():
    """Logistic loss on separable data has no minimum; the trainer's end point (|theta| ~ 160, gradient ~ 1e-9)
    must not be certified a local minimum: L(s theta) < L(theta) for every s > 1 (a radial probe at radii
    relative to |theta| sees it; the absolute radii 1e-4 .. 1e-2 change L by less than the probe tolerance)."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((20, 2))
    y = np.sign(Z @ np.array([1.0, -1.0]))
    Zt, yt = torch.as_tensor(Z), torch.as_tensor(y)
    obj = Objective(lambda w: torch.nn.functional.softplus(-yt * (Zt @ w)).sum(), 2, name="separable logistic")
    res = minimize(obj, torch.zeros(2))
    assert obj.value(2 * res.theta) < obj.value(res.theta)  # not a local minimum along the ray
    cert = certify(obj, res.theta)
    assert not cert.certified, cert.summary()


# ---------------------------------------------------------------- the typed record
def _linear_regression_minimum():
    rng = np.random.default_rng(9)
    X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    model = MLP(3, (), 2, activation="linear")
    obj = squared_loss(model, X, Y)
    Xa = np.hstack([X, np.ones((10, 1))])
    W, *_ = np.linalg.lstsq(Xa, Y, rcond=None)
    return obj, torch.as_tensor(W.ravel()), Xa


def test_critical_only_certificate_and_require():
    obj, theta, _ = _linear_regression_minimum()
    cert = certify(obj, theta, need_second_order=False)
    assert cert.verdict is Verdict.CRITICAL and cert.critical and not cert.certified
    assert "second order not examined" in cert.reason
    assert cert.lambda_min is None and cert.hessian_resolution is None and cert.strength is None
    assert cert.require("loss", "grad_norm", "jac_rank", "slack") is cert
    with pytest.raises(MissingCertificateField, match=r"lambda_min") as info:
        cert.require("grad_norm", "lambda_min", "null_dim")
    assert "null_dim" in str(info.value) and "grad_norm" not in str(info.value)
    assert issubclass(MissingCertificateField, AssertionError)  # a missing field fails a test, never skips it


_TYPES = {
    "loss": float, "grad_norm": float, "grad_norm_rel": float, "grad_tol": float, "n_params": int,
    "lambda_min": float, "lambda_max": float, "hessian_method": str, "hessian_resolution": float, "null_dim": int,
    "symmetry_dim": int, "null_explained": bool, "margin": float, "margin_tol": float, "probe_min_change": float,
    "probe_tol": float, "probe_radii": tuple, "jac_rank": int, "jac_sigma_min_plus": float, "jac_shape": tuple,
    "slack": float, "seconds": float, "dtype": str, "reason": str, "strength": str,
}


def _check_record(cert, allowed_none):
    names = {f.name for f in dataclasses.fields(Certificate)}
    assert set(_TYPES) | {"verdict", "witness", "verified"} == names, "the certificate's fields changed: update this test"
    assert isinstance(cert.verdict, Verdict)
    for name, typ in _TYPES.items():
        value = getattr(cert, name)
        if name in allowed_none:
            assert value is None, f"{name} should be None here, got {value!r}"
            continue
        assert value is not None, f"{name} is None"
        assert isinstance(value, typ) and not (typ is int and isinstance(value, bool)), f"{name}: {type(value)}"
        if typ is float:
            assert not math.isnan(value), f"{name} is NaN"
    d = cert.as_dict()
    assert set(d) == names - {"witness"} and d["verdict"] == cert.verdict.value
    assert cert.verdict.value in cert.summary()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cert.loss = 0.0


def test_certificate_fields_all_present_at_pl_minimum():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((6, 2))
    model = MLP(2, (4,), 2, activation="relu")
    theta = model.init(3)
    Y = model.forward(theta, torch.as_tensor(X)).detach().numpy()
    cert = certify(squared_loss(model, X, Y), theta)
    assert cert.certified
    _check_record(cert, allowed_none=set())
    assert cert.witness is None and cert.dtype == "float64" and cert.n_params == model.n_params


def test_certificate_fields_all_present_at_smooth_strict_minimum():
    obj, theta, Xa = _linear_regression_minimum()
    cert = certify(obj, theta)
    assert cert.certified and cert.strength == "strict-mod-symmetry"
    _check_record(cert, allowed_none={"margin", "margin_tol"})  # smooth net: no kinks, no margin
    # Jacobian numbers: J = I_k kron Xa up to row/column order, so rank 8 and sigma_min^+ = sigma_min(Xa)
    assert cert.jac_rank == 8 and cert.jac_shape == (20, 8)
    assert cert.jac_sigma_min_plus == pytest.approx(np.linalg.svd(Xa, compute_uv=False)[-1], rel=1e-10)
    assert cert.slack == pytest.approx(0.5 * (cert.grad_norm / cert.jac_sigma_min_plus) ** 2, rel=1e-12)


def test_saddle_record_has_witness_and_second_order_fields():
    obj = Objective(lambda v: v[0] ** 2 - v[1] ** 2 + 5.0, 2, nonnegative=False)
    cert = certify(obj, torch.zeros(2))
    assert cert.verdict is Verdict.SADDLE
    assert isinstance(cert.witness, tuple)
    cert.require("lambda_min", "lambda_max", "hessian_resolution", "null_dim", "probe_min_change", "witness")
    assert cert.probe_min_change < 0


# ---------------------------------------------------------------- numerical rank
def test_numerical_rank_planted_singular_values():
    rng = np.random.default_rng(10)
    U, _ = np.linalg.qr(rng.standard_normal((7, 7)))
    V, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    s = np.array([10.0, 1.0, 1e-3, 1e-20, 0.0])
    M = U[:, :5] @ np.diag(s) @ V.T
    rank, smin, gap = numerical_rank(M)
    # threshold max(shape) eps s_max ~ 1.6e-14: 1e-3 is kept, the 1e-20 (numerically ~1e-16 after rounding) is not
    assert rank == 3
    assert smin == pytest.approx(1e-3, rel=1e-9)
    assert gap >= 1e3
    assert numerical_rank(torch.as_tensor(M))[0] == 3
    assert numerical_rank(np.zeros((3, 2))) == (0, math.inf, math.inf)
    assert numerical_rank(np.eye(4))[:2] == (4, 1.0) and numerical_rank(np.eye(4))[2] == math.inf


def test_zero_loss_on_a_kink_is_a_global_minimum_only_on_request():
    """A nonnegative loss at ~0 is a global minimum even on a kink; but the claims are about DIFFERENTIABLE minima,
    so by default the certifier says NON_DIFFERENTIABLE, and only accept_kink_zero_loss=True (the bench) certifies."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((5, 2))
    X[0] = [1.0, 0.0]
    model = MLP(2, (3,), 1, activation="relu", bias=True)
    Ws, _ = model.unflatten(model.init(7))
    Ws = [W.clone() for W in Ws]
    Ws[0][0, 0] = 0.0
    Ws[0][2, 0] = 0.0  # z^(1)_{0,0} = 0: on a kink
    theta = model.flatten(Ws)
    Y = model.forward(theta, torch.as_tensor(X)).detach().numpy()  # targets the net fits exactly: zero loss
    obj = squared_loss(model, X, Y)
    default = certify(obj, theta)
    assert default.verdict is Verdict.NON_DIFFERENTIABLE and not default.differentiable, default.summary()
    opted = certify(obj, theta, accept_kink_zero_loss=True)
    assert opted.certified and opted.strength == "zero-loss" and not opted.differentiable, opted.summary()
    assert "kink" in opted.reason
