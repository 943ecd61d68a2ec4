"""Tests of the kink certificate (networks/kinks.py, certify(..., allow_kinks=True)) on points with known answers.

- Planted kink points on relu, leaky_relu and |z|, one and two hidden layers: two samples +-(1, 0) sit on the kink of
  every unit; the other samples come in mirror pairs (a, b), (-a, b) so the gradient along the kink direction
  vanishes. A negative kink target makes the kink convex (a minimum), a positive one concave (a saddle).
- Every CERTIFIED verdict is re-checked by an independent numpy forward pass: no lower loss at thousands of random
  small perturbations (which visit every adjacent piece); every SADDLE witness lowers that numpy loss.
- The default certify is unchanged on kink points (NON_DIFFERENTIABLE), the kink certificate reports
  differentiable=False, too many kink entries give NON_DIFFERENTIABLE with k in the reason, and trained points
  (polished along their kinks) agree with the brute-force check.
"""
from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

from networks import MLP, Verdict, analyze_kink, certify, find_minimum_mlp, polish_on_kinks, squared_loss

kinks_module = importlib.import_module("networks.kinks")
ACTS = ("relu", "leaky_relu", "abs")


def np_loss(model: MLP, X, Y, theta) -> float:
    """1/2 ||Yhat - Y||^2 by a plain numpy forward pass (independent of the torch code under test)."""
    theta = np.asarray(theta, dtype=np.float64)
    full = np.zeros(model._n_full)
    full[model._free.numpy()] = theta
    Ws, i = [], 0
    for r, c in model.weight_shapes:
        Ws.append(full[i:i + r * c].reshape(r, c))
        i += r * c
    slope = {"relu": 0.0, "abs": -1.0}.get(model.activation, 0.1)
    h = np.asarray(X, dtype=np.float64)
    for W in Ws[:-1]:
        z = (np.hstack([h, np.ones((h.shape[0], 1))]) if model.bias else h) @ W
        h = np.where(z >= 0, z, slope * z)
    out = (np.hstack([h, np.ones((h.shape[0], 1))]) if model.bias else h) @ Ws[-1]
    return 0.5 * float(((out - np.asarray(Y)) ** 2).sum())


def assert_no_lower_point(model, X, Y, theta, n_dirs=3000, radii=(1e-2, 1e-3, 1e-5), seed=0):
    """Brute force: random perturbations in every direction (hence into every adjacent piece) never go lower."""
    rng = np.random.default_rng(seed)
    theta = np.asarray(theta, dtype=np.float64)
    base = np_loss(model, X, Y, theta)
    D = rng.standard_normal((n_dirs, theta.size))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    worst = min(np_loss(model, X, Y, theta + r * d) - base for d in D for r in radii)
    assert worst >= -1e-11 * (1 + base), f"a perturbation lowers the loss by {worst:.3e}"


def local_radii(model, X, theta, cert, n=3):
    """Radii of the neighbourhood a local certificate speaks about: below the distance at which the nearest OFF-kink
    pre-activation reaches its own kink, to first order (its margin / the largest ||dz/dtheta||; halved). Beyond it the
    point may sit next to another piece that goes lower (e.g. |z|'s concave kinks), which does not contradict local
    optimality (measured: an |z| kink minimum with the next kink at |z| = 7.4e-3 has no lower point at radius 1e-3
    in 3,000 directions, and one 0.054 lower at 1e-2)."""
    X = torch.as_tensor(X, dtype=torch.float64)
    z = model.kink_preactivations(theta, X)
    off = z.abs() > (cert.margin_tol if cert.margin_tol is not None else 0.0)
    if not bool(off.any()):
        return (1e-2, 1e-3, 1e-5)
    Jz = torch.func.jacrev(lambda t: model.kink_preactivations(t, X))(theta)
    r = 0.5 * float(z.abs()[off].min()) / float(Jz.norm(dim=1).max())
    return tuple(min(r, 1e-2) * 10.0 ** -k for k in range(n))


def assert_witness_descends(model, X, Y, theta, cert):
    assert cert.verdict is Verdict.SADDLE and cert.witness is not None, cert.summary()
    base = np_loss(model, X, Y, theta)
    after = np_loss(model, X, Y, np.asarray(theta) + np.asarray(cert.witness))
    assert after < base - 1e-11 * (1 + base), f"witness does not descend: {after - base:.3e}"


def planted(act: str, y_kink: float, deep: bool):
    """Samples +-(1, 0) on the kink (w = (0, 1)), mirror pairs elsewhere; v is the least-squares output weight."""
    rest = np.array([[0.5, 1.0], [-0.5, 1.0], [1.0, 2.0], [-1.0, 2.0], [0.3, 0.5], [-0.3, 0.5]])
    y_rest = np.array([1.0, 1.0, 1.5, 1.5, 0.9, 0.9])
    X = np.vstack([[[1.0, 0.0], [-1.0, 0.0]], rest])
    Y = np.concatenate([[y_kink, y_kink], y_rest])[:, None]
    v = float(y_rest @ rest[:, 1] / (rest[:, 1] @ rest[:, 1]))
    if deep:
        return MLP(2, (1, 1), 1, act, bias=False), X, Y, torch.tensor([0.0, 1.0, 1.0, v], dtype=torch.float64)
    return MLP(2, (1,), 1, act, bias=False), X, Y, torch.tensor([0.0, 1.0, v], dtype=torch.float64)


@pytest.mark.parametrize("deep", [False, True], ids=["one-layer", "two-layer"])
@pytest.mark.parametrize("act", ACTS)
def test_planted_kink_minimum_is_certified_and_survives_brute_force(act, deep):
    model, X, Y, theta = planted(act, -1.0, deep)
    obj = squared_loss(model, X, Y)
    cert = certify(obj, theta, allow_kinks=True)
    assert cert.verdict is Verdict.CERTIFIED_MINIMUM, cert.summary()
    assert cert.strength.startswith("kink-pieces (k=4)" if deep else "kink-ysj"), cert.strength
    assert not cert.differentiable
    assert_no_lower_point(model, X, Y, theta.numpy())


@pytest.mark.parametrize("deep", [False, True], ids=["one-layer", "two-layer"])
@pytest.mark.parametrize("act", ACTS)
def test_planted_kink_saddle_has_a_verified_witness(act, deep):
    model, X, Y, theta = planted(act, 1.0, deep)
    cert = certify(squared_loss(model, X, Y), theta, allow_kinks=True)
    assert_witness_descends(model, X, Y, theta.numpy(), cert)


@pytest.mark.parametrize("act", ACTS)
def test_default_certify_still_rejects_kink_points(act):
    model, X, Y, theta = planted(act, -1.0, False)
    cert = certify(squared_loss(model, X, Y), theta)
    assert cert.verdict is Verdict.NON_DIFFERENTIABLE and not cert.certified and not cert.differentiable


def test_too_many_kink_entries_is_non_differentiable_with_k(monkeypatch):
    monkeypatch.setattr(kinks_module, "KINK_LIMIT", 3)
    model, X, Y, theta = planted("leaky_relu", -1.0, True)
    cert = certify(squared_loss(model, X, Y), theta, allow_kinks=True)
    assert cert.verdict is Verdict.NON_DIFFERENTIABLE and "k=4" in cert.reason, cert.summary()


def test_kink_analysis_needs_piecewise_data():
    model, X, Y, theta = planted("relu", -1.0, False)
    obj = squared_loss(model, X, Y, l2={torch.arange(3): 1e-3})
    assert obj.piecewise is None
    with pytest.raises(ValueError, match="piecewise data"):
        analyze_kink(obj, theta, grad_tol=1e-9, loss_tol=1e-11, margin_tol=1e-7)
    assert certify(obj, theta, allow_kinks=True).verdict is Verdict.NON_DIFFERENTIABLE


def test_polish_converges_along_the_kink_manifold():
    """A point moved off the planted minimum along the kink manifold (w_2, v) is brought back to stationarity."""
    model, X, Y, theta = planted("abs", -1.0, False)
    obj = squared_loss(model, X, Y)
    start = theta + torch.tensor([0.0, 0.3, -0.2], dtype=torch.float64)
    pol = polish_on_kinks(obj, start)
    assert pol.converged and pol.k == 2 and pol.constraint_norm <= 1e-14, pol
    assert certify(obj, pol.theta, allow_kinks=True).certified


@pytest.mark.parametrize("act,widths", [("leaky_relu", (2,)), ("abs", (2,)), ("relu", (2, 2))])
def test_trained_kink_verdicts_agree_with_brute_force(act, widths):
    """Small under-parameterized nets: every certified start survives random perturbations (numpy forward), and
    its loss is the one the numpy forward pass computes."""
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((12, 2)), rng.standard_normal((12, 1))
    model = MLP(2, widths, 1, act)
    res = find_minimum_mlp(model, X, Y, starts=2, seed=1, max_iter=100)
    assert res.n_certified >= 1, [s.certificate.summary() for s in res.starts]
    for s in res.starts:
        if s.certificate.certified:
            th = s.train.theta.numpy()
            assert abs(np_loss(model, X, Y, th) - s.certificate.loss) <= 1e-10 * (1 + s.certificate.loss)
            assert_no_lower_point(model, X, Y, th, n_dirs=1000, radii=local_radii(model, X, s.train.theta, s.certificate))
