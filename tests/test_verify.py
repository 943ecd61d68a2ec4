"""Soundness of networks.verify: proofs where they must succeed, refusals where they must not, and enclosures that
contain an independent high-precision (mpmath, 50 digits) evaluation at random points of the box — while a
sabotaged enclosure (rounding dropped, curvature term left out) is caught by the same check."""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch
from flint import arb

from claims.counterexamples import SS_SPURIOUS_SEEDS_K8, ss_objective, ss_run, ysj_instance
from networks import MLP, certify, minimize, squared_loss
from networks import verify as V
from networks.models import QuadraticNet
from networks.tolerance import tau_fp

mpmath.mp.dps = 50
MP_ACTS = {"tanh": mpmath.tanh, "leaky_relu": lambda z: z if z >= 0 else z / 10}


# ------------------------------------------------------------------------------------------- mpmath references
def mp_mlp_loss(model: MLP, X, Y, theta) -> mpmath.mpf:
    """Independent forward pass in mpmath (no shared code with networks.verify): 1/2 ||Yhat - Y||^2."""
    Ws, _ = model.unflatten(torch.zeros(model.n_params, dtype=torch.float64))
    full = model.full(torch.arange(1, model.n_params + 1, dtype=torch.float64)).numpy().astype(int) - 1
    th = [mpmath.mpf(t) if not isinstance(t, mpmath.mpf) else t for t in theta]
    Wmp, i = [], 0
    for r, c in model.weight_shapes:
        Wmp.append([[th[full[i + a * c + b]] if full[i + a * c + b] >= 0 else mpmath.mpf(0) for b in range(c)] for a in range(r)])
        i += r * c
    act = MP_ACTS[model.activation]
    total = mpmath.mpf(0)
    for x, y in zip(np.asarray(X), np.asarray(Y)):
        h = [mpmath.mpf(float(v)) for v in x]
        for l, W in enumerate(Wmp):
            hb = h + [mpmath.mpf(1)] if model.bias else h
            z = [mpmath.fsum(hb[k] * W[k][j] for k in range(len(hb))) for j in range(len(W[0]))]
            h = z if l == len(Wmp) - 1 else [act(v) for v in z]
        total += mpmath.fsum((h[k] - mpmath.mpf(float(y[k]))) ** 2 for k in range(len(h)))
    return total / 2


def mp_ss_loss(k, d, theta) -> mpmath.mpf:
    W = [[mpmath.mpf(theta[i * d + j]) for j in range(d)] for i in range(k)]
    Vt = [[mpmath.mpf(1 if i == j else 0) for j in range(d)] for i in range(k)]

    def g(u, v):
        nu, nv = mpmath.sqrt(mpmath.fsum(a * a for a in u)), mpmath.sqrt(mpmath.fsum(a * a for a in v))
        c = mpmath.fsum(a * b for a, b in zip(u, v)) / (nu * nv)
        c = max(min(c, mpmath.mpf(1)), mpmath.mpf(-1))
        t = mpmath.acos(c)
        return nu * nv / (2 * mpmath.pi) * (mpmath.sin(t) + (mpmath.pi - t) * c)

    return (mpmath.fsum(g(a, b) for a in W for b in W) / 2 - mpmath.fsum(g(a, b) for a in W for b in Vt)
            + mpmath.fsum(g(a, b) for a in Vt for b in Vt) / 2)


def mp_derivatives(f, x, h1=mpmath.mpf("1e-15"), h2=mpmath.mpf("1e-12")):  # noqa: B008 -- mpf is immutable
    """Gradient (central differences, error ~1e-30) and Hessian (second differences, error ~1e-24) of f at x."""
    x = [mpmath.mpf(v) for v in x]
    P = len(x)

    def at(*moves):
        y = list(x)
        for i, s in moves:
            y[i] += s
        return f(y)

    g = [(at((i, h1)) - at((i, -h1))) / (2 * h1) for i in range(P)]
    H = [[None] * P for _ in range(P)]
    for i in range(P):
        for j in range(i, P):
            v = (at((i, h2), (j, h2)) - at((i, h2), (j, -h2)) - at((i, -h2), (j, h2)) + at((i, -h2), (j, -h2))) / (4 * h2 * h2)
            H[i][j] = H[j][i] = v
    return f(x), g, H


def contains(ball: arb, value: mpmath.mpf, slack: float) -> bool:
    """value (an mpmath number with error <= slack) lies in the ball."""
    mid, rad = mpmath.mpf(ball.mid().str(60, radius=False)), mpmath.mpf(ball.rad().str(10, radius=False))
    return abs(value - mid) <= rad + slack


def enclosure_misses(problem, mp_loss, center, r, n_points=3, seed=0) -> list[str]:
    """Points of the box c + [-r, r]^P where the enclosures of L, grad L, Hessian miss the mpmath reference."""
    misses = []
    with V._precision(128):
        L, g, H = problem.evaluate([arb(float(c), r) for c in center], hessian=True)
    rng = np.random.default_rng(seed)
    for q in range(n_points):
        u = rng.uniform(-1, 1, len(center))
        pt = [mpmath.mpf(float(c)) + mpmath.mpf(float(ui)) * mpmath.mpf(r) for c, ui in zip(center, u)]
        Lr, gr, Hr = mp_derivatives(mp_loss, pt)
        if not contains(L, Lr, 1e-40):
            misses.append(f"point {q}: loss")
        misses += [f"point {q}: grad[{i}]" for i in range(len(gr)) if not contains(g[i, 0], gr[i], 1e-28)]
        misses += [f"point {q}: H[{i},{j}]" for i in range(len(gr)) for j in range(len(gr))
                   if not contains(H[i, j], Hr[i][j], 1e-22)]
    return misses


# ------------------------------------------------------------------------------------------- fixtures
def planted_tanh(seed=3):
    """Teacher-student tanh net with noise: a non-zero-loss strict minimum near the teacher (P = 9, m = 30)."""
    rng = np.random.default_rng(seed)
    model = MLP(2, (2,), 1, activation="tanh")
    X = rng.standard_normal((30, 2))
    teacher = torch.as_tensor(rng.standard_normal(model.n_params))
    Y = model.forward(teacher, torch.as_tensor(X)).numpy() + 0.05 * rng.standard_normal((30, 1))
    obj = squared_loss(model, X, Y)
    theta = minimize(obj, teacher, max_iter=100).theta
    return model, X, Y, obj, theta


@pytest.fixture(scope="module")
def tanh_min():
    model, X, Y, obj, theta = planted_tanh()
    cert = certify(obj, theta)
    assert cert.certified and cert.strength == "strict-mod-symmetry" and cert.loss > 1e-3, cert.summary()
    return model, X, Y, obj, theta, cert


# ------------------------------------------------------------------------------------------- proofs
def test_planted_tanh_minimum_verifies(tanh_min):
    model, X, Y, obj, theta, cert = tanh_min
    v = V.verify_certificate(model, X, Y, cert, theta=theta)
    assert v.ok, v.reason
    assert v.method == "krawczyk arb prec=128, full theta" and v.symmetry is None and v.n_params == model.n_params
    assert 0 < v.radius < 1e-8 and v.lambda_min_lo > 0 and v.lambda_min_lo <= cert.lambda_min * (1 + 1e-6)
    tiny = 1e-12 * (1 + cert.loss)
    assert v.loss_lo - tiny <= cert.loss <= v.loss_hi + tiny
    # the centre is in the box and theta* is the minimum there, so L(centre) >= L(theta*) >= loss_lo exactly
    L_center = mp_mlp_loss(model, X, Y, v.center)
    assert L_center >= v.loss_lo and L_center - mpmath.mpf(v.loss_hi) < 1e-20
    c2 = V.with_verification(cert, v)
    assert c2.verified is v and cert.verified is None and c2.as_dict()["verified"]["ok"] is True


def test_planted_saddle_never_verifies():
    """f = (w.x)^2 at w = 0: a non-degenerate saddle (Hessian -2 sum_i y_i x_i x_i^T is indefinite)."""
    rng = np.random.default_rng(1)
    model = QuadraticNet(2, (1.0,))
    X, y = rng.standard_normal((8, 2)), rng.standard_normal((8, 1))
    theta = np.zeros(2)
    v = V.verify_point(model, X, y, theta)
    assert not v.ok and v.reason.startswith("not verifiable: not a minimum"), v.reason
    # bypass the float screen: at every radius the proof would try (and a few larger ones), PD must fail
    problem = V._problem(model, X, y)
    with V._precision(128):
        _, _, H = problem.evaluate([arb(0), arb(0)], hessian=True)
        w, Vec = np.linalg.eigh(V._mids(H))
        C = Vec @ np.diag(1 / w) @ Vec.T
        for r in [1e-14 * f for f in V.RADIUS_FACTORS] + [1e-6, 1e-2, 1.0]:
            pr = V._prove(problem, theta, None, C, Vec, r)
            assert not pr.pd, f"saddle proven PD at r={r}"


def test_origin_of_two_layer_linear_net_not_verified():
    rng = np.random.default_rng(2)
    model = MLP(3, (2,), 1, activation="linear", bias=False)
    v = V.verify_point(model, rng.standard_normal((6, 3)), rng.standard_normal((6, 1)), np.zeros(model.n_params))
    assert not v.ok and v.reason.startswith("not verifiable:"), v.reason  # a saddle: all GL tangents vanish at 0


def test_deep_linear_net_verifies_on_the_gl_slice():
    """GL(d) of each hidden layer: the minimum is strict modulo the symmetry, proven on theta + span(tangents)^perp."""
    rng = np.random.default_rng(3)
    model = MLP(2, (2, 2), 1, activation="linear")
    X, Y = rng.standard_normal((10, 2)), rng.standard_normal((10, 1))
    obj = squared_loss(model, X, Y)
    theta = minimize(obj, model.init(0).double(), max_iter=100).theta
    v = V.verify_point(model, X, Y, theta)
    assert v.ok and "slice" in v.method and v.symmetry.startswith("GL(d)"), v.reason
    assert v.loss_lo - tau_fp(v.loss_lo) <= obj.value(theta) <= v.loss_hi + tau_fp(v.loss_hi)


def test_symmetry_without_a_slice_reports_not_verifiable():
    """A hidden layer wider than the input: the GL(3) orbit is degenerate (rank-deficient tangents), so no slice is
    transversal there; the certified minimum must be reported 'not verifiable', never 'verified'."""
    rng = np.random.default_rng(3)
    model = MLP(2, (3,), 1, activation="linear", bias=False)
    X, Y = rng.standard_normal((10, 2)), rng.standard_normal((10, 1))
    obj = squared_loss(model, X, Y)
    theta = minimize(obj, model.init(0).double(), max_iter=100).theta
    assert certify(obj, theta).certified
    v = V.verify_point(model, X, Y, theta)
    assert not v.ok and v.reason.startswith("not verifiable: symmetry tangents are rank-deficient"), v.reason


def _newton_mp(model, X, Y, theta, H, steps=3):
    """Critical point to ~1e-30 by Newton in mpmath (gradient by central differences, fixed float Hessian)."""
    Hinv = mpmath.matrix(np.linalg.inv(H).tolist())
    x = [mpmath.mpf(float(t)) for t in theta]
    f = lambda p: mp_mlp_loss(model, X, Y, p)  # noqa: E731
    h = mpmath.mpf("1e-20")
    for _ in range(steps):
        g = mpmath.matrix([(f(x[:i] + [x[i] + h] + x[i + 1:]) - f(x[:i] + [x[i] - h] + x[i + 1:])) / (2 * h)
                           for i in range(len(x))])
        x = [a - b for a, b in zip(x, Hinv * g)]
    return x


def test_non_critical_point_is_refused_or_box_holds_true_critical_point(tanh_min):
    model, X, Y, obj, theta, _ = tanh_min
    d = torch.as_tensor(np.random.default_rng(4).standard_normal(model.n_params))
    bad = theta + 1e-4 * d / d.norm()
    assert 1e-6 < float(obj.grad(bad).norm()) < 1e-1
    v = V.verify_point(model, X, Y, bad)
    assert not v.ok and "polishing moved" in v.reason
    v = V.verify_point(model, X, Y, bad, max_shift=1.0)  # allowed to move: the box must hold the true point
    if v.ok:
        star = _newton_mp(model, X, Y, bad.numpy(), obj.hessian(bad).numpy(), steps=4)
        assert max(abs(s - mpmath.mpf(c)) for s, c in zip(star, v.center)) <= v.radius


def test_enclosures_contain_mpmath_reference_and_sabotage_is_caught(tanh_min):
    model, X, Y, obj, theta, _ = tanh_min
    real = V._problem(model, X, Y)
    f = lambda p: mp_mlp_loss(model, X, Y, p)  # noqa: E731
    c = theta.numpy()
    assert enclosure_misses(real, f, c, 1e-18) == []
    assert enclosure_misses(real, f, c, 1e-6, n_points=1) == []  # a wide box too

    class FloatWrapped(V._MLPLoss):
        """Rounding dropped: float64 (torch) values at the box centre wrapped as exact balls."""

        def evaluate(self, th, hessian):
            t = torch.as_tensor([float(x.mid()) for x in th])
            L, g, H = obj.value(t), obj.grad(t).numpy(), obj.hessian(t).numpy()
            return arb(L), V._to_mat(g), V._to_mat(H)

    class GaussNewtonOnly(V._MLPLoss):
        """The residual-curvature term sum_i r_i nabla^2 yhat_i left out."""

        def _curvature(self, cache, a_z):
            return V.arb_mat(self.n_params, self.n_params)

    assert enclosure_misses(FloatWrapped(model, X, Y), f, c, 1e-18), "float64 wrapped as exact balls not caught"
    assert any("H[" in m for m in enclosure_misses(GaussNewtonOnly(model, X, Y), f, c, 1e-18)), "missing curvature not caught"


def test_safran_shamir_enclosures_contain_mpmath_reference():
    rng = np.random.default_rng(5)
    theta = rng.standard_normal(9)
    problem = V._problem(V.SafranShamir(3, 3), None, None)
    assert enclosure_misses(problem, lambda p: mp_ss_loss(3, 3, p), theta, 1e-18, n_points=1) == []


@pytest.mark.counterexample
def test_safran_shamir_spurious_minimum_is_proven_strict_and_not_global():
    seed = SS_SPURIOUS_SEEDS_K8[0]
    run = ss_run(seed)
    assert run.outcome == "spurious", run.outcome
    v = V.verify_certificate(ss_objective(8, 8), None, None, run.certificate, theta=run.theta)
    assert v.ok, v.reason
    assert v.method == "krawczyk arb prec=128, full theta" and v.n_params == 64
    assert v.loss_lo > 0 and abs(v.loss_lo - 0.021508) < 1e-6 and v.loss_hi - v.loss_lo < 1e-15
    assert v.lambda_min_lo > 1e-2
    assert V.compare(v, (0.0, 0.0)) == "proven >"  # strictly above the global value 0: provably spurious


@pytest.mark.counterexample
def test_ysj_minimum_is_not_strict():
    inst = ysj_instance()
    v = V.verify_point(inst.model, inst.X, inst.Y, inst.theta)
    assert not v.ok and v.reason.startswith("not verifiable: not strict"), v.reason


def test_leaky_relu_minimum_verifies_on_rescaling_slice():
    rng = np.random.default_rng(6)
    model = MLP(2, (2,), 1, activation="leaky_relu")
    X = rng.standard_normal((30, 2))
    teacher = torch.as_tensor(rng.standard_normal(model.n_params))
    Y = model.forward(teacher, torch.as_tensor(X)).numpy() + 0.05 * rng.standard_normal((30, 1))
    obj = squared_loss(model, X, Y)
    theta = minimize(obj, teacher, max_iter=100).theta
    cert = certify(obj, theta)
    # deterministic fixture (seeded data, iteration-limited training): it reaches a strict PL minimum
    assert cert.certified and cert.strength == "strict-mod-symmetry", cert.summary()
    v = V.verify_certificate(model, X, Y, cert, theta=theta)
    assert v.ok, v.reason
    assert "slice" in v.method and v.symmetry.startswith("positive rescaling")
    assert V.verify_point(model, X, Y, theta, radii=[1e3]).reason.startswith("not verifiable:")  # kinks in a huge box


def test_quadratic_net_plus_minus_minimum_verifies_on_o11_slice():
    """claim9a's v = (+1, -1) control: strict only modulo the O(1,1) boosts W -> Q W."""
    rng = np.random.default_rng(0)
    model = QuadraticNet(2, (1.0, -1.0))
    X = rng.standard_normal((20, 2))
    teacher = torch.as_tensor(rng.standard_normal(4))
    Y = model.forward(teacher, torch.as_tensor(X)).numpy() + 0.05 * rng.standard_normal((20, 1))
    obj = squared_loss(model, X, Y)
    theta = minimize(obj, teacher, max_iter=100).theta
    cert = certify(obj, theta)
    assert cert.certified and cert.strength == "strict-mod-symmetry", cert.summary()
    v = V.verify_certificate(model, X, Y, cert, theta=theta)
    assert v.ok and "slice" in v.method and v.symmetry.startswith("O(p,q)"), v.reason
    assert v.loss_lo - 1e-12 <= cert.loss <= v.loss_hi + 1e-12


# ------------------------------------------------------------------------------------------- least squares, compare
def test_least_squares_enclosure_contains_mpmath_solution():
    rng = np.random.default_rng(7)
    M, y = rng.standard_normal((12, 4)), rng.standard_normal(12)
    e = V.least_squares(M, y)
    Mm, ym = mpmath.matrix(M.tolist()), mpmath.matrix(y.tolist())
    beta = mpmath.lu_solve(Mm.T * Mm, Mm.T * ym)
    val = mpmath.fsum((v) ** 2 for v in (Mm * beta - ym)) / 2
    assert all(lo <= b <= hi for lo, b, hi in zip(e.beta_lo, beta, e.beta_hi))
    assert e.value_lo <= val <= e.value_hi and e.value_hi - e.value_lo < 1e-14
    assert V.compare(e, (e.value_hi + 1e-9, e.value_hi + 1)) == "proven <" and V.compare(e, e) == "not separated"
    with pytest.raises(ValueError, match="full column rank"):
        V.least_squares(np.hstack([M, M[:, :1]]), y)


def test_bad_input_raises_value_error():
    model = MLP(2, (2,), 1)
    X, Y = np.zeros((3, 2)), np.zeros((3, 1))
    with pytest.raises(ValueError, match="parameters"):
        V.verify_point(model, X, Y, np.zeros(model.n_params + 1))
    with pytest.raises(ValueError, match="NaN"):
        V.verify_point(model, X, Y, np.full(model.n_params, math.nan))
    with pytest.raises(ValueError, match="unsupported"):
        V.verify_point(squared_loss(model, X, Y), X, Y, np.zeros(model.n_params))
    with pytest.raises(ValueError, match="lo <= hi"):
        V.compare((1.0, 0.0), (0.0, 0.0))
