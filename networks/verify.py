"""Computer-assisted proofs of strict local minima in ball arithmetic (python-flint `arb`, `arb_mat`).

A `Certificate` is strong float64 evidence; `verify_point` / `verify_certificate` turn it into a proof:
1. polish theta-hat by a few Newton steps whose gradient is evaluated in arb (prec bits), round the result to
   float64: that float vector is the box centre c (exact);
2. enclose, in balls, the gradient g(c) and the Hessian H over the box B = c + [-r, r]^n (on a gauge slice:
   c + N [-r, r]^n with N an orthonormal basis of the complement of the symmetry tangents);
3. Krawczyk: K = -C g(c) + (I - C H(B)) [-r, r]^n strictly inside [-r, r]^n (C ~ H(c)^-1 in float) proves that
   B holds exactly one critical point theta* (of L, or of L restricted to the slice);
4. positive definiteness of every matrix in H(B): V^T H(B) V is strictly diagonally dominant with a positive
   diagonal, V the float eigenvectors of H(c) (a congruence, so Sylvester's law of inertia transfers it to H;
   dominance also proves V nonsingular). So theta* is a strict local minimum (modulo the symmetry on a slice);
5. the loss at theta* lies in L(c) + g(c).U + 1/2 U^T H(B) U (Taylor with Lagrange remainder) intersected with
   the naive enclosure L(B).

Every number inside the enclosure is a ball; floats enter only as exact inputs (data, c, C, N, V), which need
no accuracy for soundness. Cost model: the Hessian enclosure is O(m * width * P^2) ball multiply-adds (per
sample Gram products of pre-activation tangents); the Krawczyk and congruence products are O(P^3). Measured on one
core (benchmarks/bench_verify.py, tanh MLPs, m = 100): P = 27: 0.07 s, 51: 0.15 s, 99: 0.3 s, 195: 1.4 s,
291: 5.7 s; the growth is ~P^3, so P ~ 500 takes ~30 s and the method stops being practical there.

Supported: squared loss 1/2 ||Yhat - Y||^2 of `networks.MLP` (any depth, biases, masks, linear units, skip;
linear output), `QuadraticNet`, and the Safran-Shamir population loss (`SafranShamir`). Refused with a reason
starting "not verifiable:": non-linear outputs, other objectives, kinks inside the box, degenerate symmetry orbits
(rank-deficient tangents: no transversal slice), and points whose (slice) Hessian has a near-null space or
negative curvature. Continuous symmetries verified on a slice theta + span(tangents)^perp: positive rescaling of
homogeneous units, bias translations of linear units, GL(d) of every hidden layer of a linear net, O(p,q) of quadratic
nets.

`networks/__init__.py` does not import this module (flint stays optional and lazy): `from networks import verify`.
"""
from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from flint import arb, arb_mat, ctx

from networks import activations
from networks.models import MLP, QuadraticNet, check_data

DEFAULT_PREC = 128
RADIUS_FACTORS = (1e2, 1e4, 1e6)  # r = factor * ||C g(c)||_inf (with a floor), tried in this order
POLISH_STEPS = 3
NULL_REL = 1e-9  # |lambda| <= NULL_REL * max(1, lambda_max) in float: a near-null direction, not strict


@dataclass(frozen=True)
class Verification:
    """Outcome of a ball-arithmetic proof. ok=True means: the box (centre `center`, inf-norm half-width `radius`
    in the coordinates `method` names) holds exactly one critical point theta*, the Hessian is positive definite on
    the whole box (a strict local minimum; on a gauge slice strict modulo `symmetry`), and L(theta*) is in
    [loss_lo, loss_hi]."""

    ok: bool
    radius: float | None
    loss_lo: float | None
    loss_hi: float | None
    method: str
    seconds: float
    n_params: int
    reason: str = ""
    lambda_min_lo: float | None = None  # proven lower bound of lambda_min over the box (slice Hessian on a slice)
    center: tuple | None = None  # the box centre in theta coordinates (float64, exact)
    shift: float | None = None  # ||center - theta_hat||_inf: how far polishing moved the input point
    symmetry: str | None = None  # the continuous symmetry the slice removes (None: full theta)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class SafranShamir:
    """Spec of the Safran-Shamir population loss (claims.counterexamples.ss_objective): k students, d inputs,
    teacher rows V (identity by default)."""

    k: int
    d: int
    V: tuple | None = None


class _Refused(Exception):
    """The enclosure cannot be built here (kink in the box, parallel pair, ...): a 'not verifiable' outcome."""


@contextmanager
def _precision(bits: int):
    old = ctx.prec
    ctx.prec = int(bits)
    try:
        yield
    finally:
        ctx.prec = old


# ------------------------------------------------------------------------------------------------ ball helpers
def _to_mat(A: np.ndarray) -> arb_mat:
    """Float array (exact binary values) or object array of arb -> arb_mat."""
    A = np.asarray(A)
    if A.ndim == 1:
        A = A[:, None]
    rows = A.tolist()
    return arb_mat([[x if isinstance(x, arb) else arb(float(x)) for x in row] for row in rows])


def _to_obj(M: arb_mat) -> np.ndarray:
    return np.array(M.tolist(), dtype=object).reshape(M.nrows(), M.ncols())


def _lo(x: arb) -> float:
    """A float <= every point of x (outward rounding checked in arb)."""
    f = float(x.lower().mid())
    while not arb(f) <= x:
        f = float(np.nextafter(f, -np.inf))
    return f


def _hi(x: arb) -> float:
    f = float(x.upper().mid())
    while not arb(f) >= x:
        f = float(np.nextafter(f, np.inf))
    return f


def _diag(v) -> arb_mat:
    n = len(v)
    D = arb_mat(n, n)
    for i, x in enumerate(v):
        D[i, i] = x
    return D


def _mids(M: arb_mat) -> np.ndarray:
    return np.array([float(x.mid()) for x in M.entries()]).reshape(M.nrows(), M.ncols())


# ------------------------------------------------------------------------------------------------ activations
def _activation(name: str):
    """Ball versions of (sigma, sigma', sigma''). PL activations need the sign of z certain: a ball containing
    0 is a kink inside the box (the pattern would change), so it is refused."""
    act = activations.get(name)
    if name == "tanh":
        def f(z):
            t = z.tanh()
            d = 1 - t * t
            return t, d, -2 * t * d
    elif name == "sigmoid":
        def f(z):
            s = 1 / (1 + (-z).exp())
            d = s * (1 - s)
            return s, d, d * (1 - 2 * s)
    elif name == "softplus":
        # the mathematical softplus log(1 + e^z); torch switches to z above z = 20 (an e^-20 difference)
        def f(z):
            s = 1 / (1 + (-z).exp())
            return z.exp().log1p() if z < 20 else z + (-z).exp().log1p(), s, s * (1 - s)
    elif name == "quadratic":
        def f(z):
            return z * z, 2 * z, arb(2)
    elif name == "linear":
        def f(z):
            return z, arb(1), arb(0)
    elif act.piecewise_linear:
        slope = {"relu": 0.0, "abs": -1.0}.get(name)
        if slope is None:  # leaky_relu:<slope>, parsed exactly as activations.get does
            slope = float(act.name.split(":", 1)[1])

        def f(z):
            if z > 0:
                return z, arb(1), arb(0)
            if z < 0:
                return slope * z, arb(slope), arb(0)
            raise _Refused(f"a pre-activation enclosure {z.str(5)} contains the kink 0 (pattern not constant on the box)")
    else:
        raise _Refused(f"activation {name!r} has no ball implementation")
    return f


# ------------------------------------------------------------------------------------------------ problems
class _MLPLoss:
    """1/2 ||Yhat - Y||_F^2 of an MLP, value, gradient (J^T r) and Hessian
    J^T J + sum_l Tz_l^T diag(adj(h_l) sigma''(z_l)) Tz_l + sum_l (B_l + B_l^T), where Tz are the pre-activation
    tangents (forward mode) and B_l the bilinear term adj(z_l) x dh_(l-1) of z_l = [h_(l-1), 1] W_l."""

    def __init__(self, model: MLP, X, Y, S=None):
        X, Y = check_data(X, Y)
        if X.shape[1] != model.d_in or Y.shape[1] != model.d_out:
            raise ValueError(f"data shapes {tuple(X.shape)}, {tuple(Y.shape)} do not fit {model!r}")
        self.model, self.n_params = model, model.n_params
        self.unsupported = None
        if model.output_activation != "linear":
            self.unsupported = f"not verifiable: output activation {model.output_activation!r} (only linear outputs)"
        if model.activation == "linear" and model.widths:
            # GL(d_l) of every hidden layer (W_l -> A W_l, W_(l+1) -> W_(l+1) A^-1): verified on the slice
            # theta + span(tangents)^perp, as the rescaling symmetry is; the tangents come from the model
            self.symmetry = "GL(d) of every hidden layer of a linear net"
        elif activations.get(model.activation).homogeneity:
            self.symmetry = "positive rescaling of homogeneous units"
        else:
            self.symmetry = None
        if any(model.linear_units):
            self.symmetry = (self.symmetry + " and " if self.symmetry else "") + "bias translations of linear units"
        full = -np.ones(model._n_full, dtype=np.int64)
        full[model._free.numpy()] = np.arange(model.n_params)
        self.idx, i = [], 0
        for r, c in model.weight_shapes:
            self.idx.append(full[i : i + r * c].reshape(r, c))
            i += r * c
        self.idx_R = full[i:].reshape(model.skip_dim, model.d_out) if model.skip_dim else None
        self.Xn, self.Yn = X.numpy(), Y.numpy()
        self.Sn = None
        if model.skip_dim:
            self.Sn = self.Xn if S is None else np.asarray(S, dtype=np.float64)
        self.act = None if (self.unsupported or not model.widths) else _activation(model.activation)

    def tangents(self, theta: np.ndarray) -> np.ndarray:
        return self.model.symmetry_tangents(torch.as_tensor(theta)).numpy()

    def _weights(self, th: list) -> list:
        """W^(l) as ball matrices; masked entries are exact zeros (not parameters)."""
        return [_to_mat(np.array([th[p] if p >= 0 else arb(0) for p in idx.ravel()], dtype=object).reshape(idx.shape))
                for idx in self.idx]

    def _tangent(self, hb: arb_mat, i: int, Wt: arb_mat | None, Th_i, idx: np.ndarray) -> arb_mat:
        """d z_i / d theta (n x P) for z_i = hb_i W: W^T dh_i plus hb_i placed at W's own parameter columns."""
        n = idx.shape[1]
        T = Wt * Th_i if Th_i is not None else arb_mat(n, self.n_params)
        for k in range(idx.shape[0]):
            hk = hb[i, k]
            for j in range(n):
                p = idx[k, j]
                if p >= 0:
                    T[j, p] = hk  # column p is a parameter of this layer: W^T dh is exactly 0 there
        return T

    def evaluate(self, th: list, hessian: bool):
        model = self.model
        Ws = self._weights(th)
        m = self.Xn.shape[0]
        h, Th, cache = _to_mat(self.Xn), None, []
        for l, W in enumerate(Ws):
            n_prev = h.ncols()
            hb = _to_mat(np.hstack([_to_obj(h), np.full((m, 1), arb(1), dtype=object)])) if model.bias else h
            z = hb * W
            Wt = _to_mat(_to_obj(W)[:n_prev].T) if Th is not None else None
            Tz = [self._tangent(hb, i, Wt, None if Th is None else Th[i], self.idx[l]) for i in range(m)]
            if l == model.depth:
                cache.append((Th, Tz, None, None, W))
                out = z
                break
            zo = _to_obj(z)
            s, ds, dds = (np.empty(zo.shape, dtype=object) for _ in range(3))
            for (i, j), zij in np.ndenumerate(zo):
                if j in model.linear_units[l]:
                    s[i, j], ds[i, j], dds[i, j] = zij, arb(1), arb(0)
                else:
                    s[i, j], ds[i, j], dds[i, j] = self.act(zij)
            cache.append((Th, Tz, ds, dds, W))
            h = _to_mat(s)
            Th = [_diag(ds[i]) * Tz[i] for i in range(m)]
        if model.skip_dim:
            Rm = _to_mat(np.array([th[p] for p in self.idx_R.ravel()], dtype=object).reshape(self.idx_R.shape))
            out = out + _to_mat(self.Sn) * Rm
            for i in range(m):
                for c in range(model.skip_dim):
                    for k in range(model.d_out):
                        Tz[i][k, self.idx_R[c, k]] = arb(float(self.Sn[i, c]))
        r = out - _to_mat(self.Yn)
        rows = [row for i in range(m) for row in Tz[i].tolist()]  # rows (i, k): matches r's row-major order
        J = arb_mat(rows)
        rv = _to_mat(_to_obj(r).reshape(-1))
        L = (rv.transpose() * rv)[0, 0] / 2
        g = J.transpose() * rv
        if not hessian:
            return L, g, None
        return L, g, J.transpose() * J + self._curvature(cache, _to_obj(r))

    def _curvature(self, cache, a_z: np.ndarray) -> arb_mat:
        """sum_i r_i nabla^2 yhat_i by reverse-mode adjoints over the forward tangents (all in balls)."""
        P, m = self.n_params, a_z.shape[0]
        H = arb_mat(P, P)
        for l in range(len(cache) - 1, -1, -1):
            Th_in, Tz, ds, dds, W = cache[l]
            if ds is not None:  # hidden layer: a_z holds adj(h_l) here
                a_h = a_z
                w = a_h * dds
                if any(not x.is_zero() for x in w.ravel()):
                    for i in range(m):
                        H += Tz[i].transpose() * (_diag(w[i]) * Tz[i])
                a_z = a_h * ds
            idx = self.idx[l]
            if Th_in is not None:
                n_prev = Th_in[0].nrows()
                B = arb_mat(P, P)
                for i in range(m):
                    S = arb_mat(P, n_prev)
                    for k in range(n_prev):
                        for j in range(idx.shape[1]):
                            if idx[k, j] >= 0:
                                S[idx[k, j], k] = a_z[i, j]
                    B += S * Th_in[i]
                H += B + B.transpose()
                Wtop = _to_obj(W)[:n_prev]
                a_z = _to_obj(_to_mat(a_z) * _to_mat(Wtop.T))  # adj(h_(l-1)) = adj(z_l) W_top^T
        return H


class _QuadLoss:
    """1/2 sum_i (sum_l v_l (w_l.x_i)^2 - y_i)^2: J = 2 v_l z_il x_ij; curvature blockdiag_l 2 v_l X^T diag(r) X."""

    def __init__(self, model: QuadraticNet, X, Y):
        X, Y = check_data(X, Y)
        if X.shape[1] != model.d_in or Y.shape[1] != 1:
            raise ValueError(f"data shapes {tuple(X.shape)}, {tuple(Y.shape)} do not fit {model!r}")
        self.model, self.n_params, self.unsupported = model, model.n_params, None
        self.symmetry = "O(p,q) of the output signs v" if model.width > 1 else None
        self.Xn, self.yn = X.numpy(), Y.numpy()[:, 0]

    def tangents(self, theta: np.ndarray) -> np.ndarray:
        return self.model.symmetry_tangents(torch.as_tensor(theta)).numpy()

    def evaluate(self, th: list, hessian: bool):
        k, d = self.model.width, self.model.d_in
        v = self.model.signs
        W = _to_mat(np.array(th, dtype=object).reshape(k, d))
        X = _to_mat(self.Xn)
        Z = _to_obj(X * W.transpose())  # m x k
        f = (Z * Z) @ np.array([arb(s) for s in v], dtype=object)
        r = f - np.array([arb(float(y)) for y in self.yn], dtype=object)
        Jo = np.empty((len(r), k * d), dtype=object)
        for l in range(k):
            Jo[:, l * d : (l + 1) * d] = (2 * v[l]) * Z[:, l : l + 1] * np.vectorize(arb, otypes=[object])(self.Xn)
        J, rv = _to_mat(Jo), _to_mat(r)
        L = (rv.transpose() * rv)[0, 0] / 2
        g = J.transpose() * rv
        if not hessian:
            return L, g, None
        H = J.transpose() * J
        G = X.transpose() * _to_mat(_to_obj(X) * r[:, None])  # X^T diag(r) X
        for l in range(k):
            for a in range(d):
                for b in range(d):
                    H[l * d + a, l * d + b] += 2 * v[l] * G[a, b]
        return L, g, H


class _SSLoss:
    """Safran-Shamir F(W) = 1/2 sum_ij g(w_i, w_j) - sum_ij g(w_i, v_j) + const with closed-form gradient and
    Hessian blocks of g(u, v) = (|u||v| sin t + (pi - t) u.v) / 2 pi (t = acos of a ball):
    d2g/du2 = |v| / (2 pi |u|) (n n^T / sin t + sin t (I - u^ u^T)), n = v^ - cos t u^,
    d2g/du dv = ((pi - t) I + sin t u^ v^T + n m^T / sin t) / 2 pi, m = u^ - cos t v^."""

    def __init__(self, spec: SafranShamir):
        if spec.k < 1 or spec.d < 1:
            raise ValueError(f"Safran-Shamir loss needs k, d >= 1, got k={spec.k}, d={spec.d}")
        self.k, self.d = spec.k, spec.d
        self.Vn = np.eye(spec.k, spec.d) if spec.V is None else np.asarray(spec.V, dtype=np.float64)
        self.n_params, self.unsupported, self.symmetry = spec.k * spec.d, None, None

    def tangents(self, theta: np.ndarray) -> np.ndarray:
        return np.zeros((self.n_params, 0))  # the permutation symmetries are discrete

    @staticmethod
    def _pair(u, v, need_h: bool):
        two_pi = 2 * arb.pi()
        nu, nv = sum(x * x for x in u).sqrt(), sum(x * x for x in v).sqrt()
        dot = sum(a * b for a, b in zip(u, v))
        c = dot / (nu * nv)
        if not (c < 1 and c > -1):
            raise _Refused(f"a student/teacher pair is (nearly) parallel on the box: cos t = {c.str(5)}")
        t = c.acos()
        s = (1 - c * c).sqrt()
        val = (nu * nv * s + (arb.pi() - t) * dot) / two_pi
        uh, vh = u / nu, v / nv
        gu = (nv * s * uh + (arb.pi() - t) * v) / two_pi
        gv = (nu * s * vh + (arb.pi() - t) * u) / two_pi
        if not need_h:
            return val, gu, gv, None
        I = np.identity(len(u), dtype=object) * arb(1)
        n, mm = vh - c * uh, uh - c * vh
        Huu = (nv / (two_pi * nu)) * (np.outer(n, n) / s + s * (I - np.outer(uh, uh)))
        Hvv = (nu / (two_pi * nv)) * (np.outer(mm, mm) / s + s * (I - np.outer(vh, vh)))
        Huv = ((arb.pi() - t) * I + s * np.outer(uh, vh) + np.outer(n, mm) / s) / two_pi
        return val, gu, gv, (Huu, Huv, Hvv)

    def evaluate(self, th: list, hessian: bool):
        k, d = self.k, self.d
        W = np.array(th, dtype=object).reshape(k, d)
        V = np.vectorize(arb, otypes=[object])(self.Vn)
        G = np.full((k, d), arb(0), dtype=object)
        H = np.full((k * d, k * d), arb(0), dtype=object)
        L = arb(0)
        for i in range(k):  # g(w_i, w_i) = |w_i|^2 / 2 exactly: 1/2 of it per diagonal term of 1/2 sum_ij
            L += sum(x * x for x in W[i]) / 4
            G[i] += W[i] / 2
            for a in range(d):
                H[i * d + a, i * d + a] += arb(1) / 2
        for i in range(k):
            bi = slice(i * d, (i + 1) * d)
            for j in range(i + 1, k):  # each unordered student pair once (1/2 sum_ij counts it twice)
                bj = slice(j * d, (j + 1) * d)
                val, gu, gv, Hs = self._pair(W[i], W[j], hessian)
                L += val
                G[i] += gu
                G[j] += gv
                if hessian:
                    H[bi, bi] += Hs[0]
                    H[bi, bj] += Hs[1]
                    H[bj, bi] += Hs[1].T
                    H[bj, bj] += Hs[2]
            for j in range(V.shape[0]):
                val, gu, _, Hs = self._pair(W[i], V[j], hessian)
                L -= val
                G[i] -= gu
                if hessian:
                    H[bi, bi] -= Hs[0]
        for i in range(V.shape[0]):  # the constant 1/2 sum_ij g(v_i, v_j)
            L += sum(x * x for x in V[i]) / 4
            for j in range(i + 1, V.shape[0]):
                L += self._pair(V[i], V[j], False)[0]
        return L, _to_mat(G.reshape(-1)), (_to_mat(H) if hessian else None)


_SS_NAME = re.compile(r"^Safran-Shamir population loss k=(\d+) d=(\d+)$")


def _problem(obj_or_model, X, Y, skip_input=None):
    if isinstance(obj_or_model, MLP):
        return _MLPLoss(obj_or_model, X, Y, skip_input)
    if isinstance(obj_or_model, QuadraticNet):
        return _QuadLoss(obj_or_model, X, Y)
    if isinstance(obj_or_model, SafranShamir):
        return _SSLoss(obj_or_model)
    name = getattr(obj_or_model, "name", None)
    if isinstance(name, str) and _SS_NAME.match(name):
        k, d = map(int, _SS_NAME.match(name).groups())
        # the name does not record a custom teacher: checked against the objective's value in verify_point
        return _SSLoss(SafranShamir(k, d))
    raise ValueError(f"verify: unsupported model/objective {type(obj_or_model).__name__}: pass an MLP, QuadraticNet "
                     "or SafranShamir spec (a squared-loss Objective does not carry its data)")


# ------------------------------------------------------------------------------------------------ the proof
def _balls(center: np.ndarray, N: np.ndarray | None, r: float) -> list:
    """theta-box c + N [-r, r]^n as a list of balls (N = None: the axis box)."""
    if N is None:
        return [arb(float(x), r) for x in center]
    U = _to_mat(np.array([arb(0, r)] * N.shape[1], dtype=object))
    T = _to_mat(center) + _to_mat(N) * U
    return [T[i, 0] for i in range(T.nrows())]


def _reduce(g: arb_mat, H: arb_mat | None, N: np.ndarray | None):
    if N is None:
        return g, H
    Nm = _to_mat(N)
    return Nm.transpose() * g, (None if H is None else Nm.transpose() * H * Nm)


@dataclass(frozen=True)
class _Proof:
    krawczyk: bool
    pd: bool
    lam_lo: arb | None
    loss: arb | None
    why: str


def _prove(problem, center: np.ndarray, N, C: np.ndarray, V: np.ndarray, r: float) -> _Proof:
    """Krawczyk + congruence/Gershgorin PD test + loss enclosure on the box of half-width r (slice coordinates)."""
    n = C.shape[0]
    Lc, gc, _ = problem.evaluate([arb(float(x)) for x in center], hessian=False)
    gr, _ = _reduce(gc, None, N)
    try:
        LB, _, HB = problem.evaluate(_balls(center, N, r), hessian=True)
    except _Refused as e:
        return _Proof(False, False, None, None, f"not verifiable: {e}")
    _, HR = _reduce(gc, HB, N)
    U = _to_mat(np.array([arb(0, r)] * n, dtype=object))
    Cm = _to_mat(C)
    I = arb_mat(n, n)
    for i in range(n):
        I[i, i] = arb(1)
    K = -(Cm * gr) + (I - Cm * HR) * U
    inside = all(K[i, 0].abs_upper() < arb(r) for i in range(n))
    # positive definiteness of every matrix in HR: V^T HR V strictly diagonally dominant with positive diagonal
    Vm = _to_mat(V)
    M = Vm.transpose() * HR * Vm
    mu = None
    for i in range(n):
        off = sum((M[i, j].abs_upper() for j in range(n) if j != i), arb(0))
        lo = M[i, i] - off
        mu = lo if mu is None else mu.min(lo)
    pd = bool(mu > 0)
    # ||V||_2^2 = ||V^T V||_2 <= ||V^T V||_inf (max absolute row sum), so lambda_min(HR) >= mu / that
    G = Vm.transpose() * Vm
    vnorm2 = max((sum((G[i, j].abs_upper() for j in range(n)), arb(0)) for i in range(n)), key=lambda x: x.upper())
    lam_lo = mu / vnorm2 if pd else None
    taylor = Lc + (gr.transpose() * U)[0, 0] + (U.transpose() * HR * U)[0, 0] / 2
    loss = taylor.intersection(LB)
    why = "" if inside and pd else ("Krawczyk: K(X) not inside X" if not inside else "") + \
        ("" if pd else ("; " if not inside else "") + "Hessian enclosure not provably positive definite")
    return _Proof(inside, pd, lam_lo, loss, why)


def _complement(T: np.ndarray, P: int):
    """Orthonormal basis of span(T)^perp, or a refusal when the tangents are rank-deficient (the group action is
    not locally free, so a slice would not be transversal everywhere near theta)."""
    if T.shape[1] == 0:
        return None, None
    U, s, _ = np.linalg.svd(T, full_matrices=True)
    if s[0] == 0.0:  # every tangent vanishes (e.g. W = 0 of a linear net): the orbit collapses to the point
        return None, "not verifiable: symmetry tangents are rank-deficient (all vanish): degenerate orbit, no slice"
    if s[-1] <= 1e-8 * s[0]:
        return None, ("not verifiable: symmetry tangents are rank-deficient "
                      f"(sigma_min/sigma_max = {s[-1] / s[0]:.1e}): degenerate orbit, no slice")
    return U[:, T.shape[1]:], None


def _polish(problem, theta: np.ndarray, N, C: np.ndarray, steps: int) -> np.ndarray:
    """Newton-like steps x <- x - N C N^T g(x) with g in arb; the iterate is kept as exact float midpoints."""
    x = [arb(float(v)) for v in theta]
    Cm = _to_mat(C)
    Nm = None if N is None else _to_mat(N)
    for _ in range(steps):
        _, g, _ = problem.evaluate(x, hessian=False)
        step = Cm * (g if Nm is None else Nm.transpose() * g)
        if Nm is not None:
            step = Nm * step
        x = [(x[i] - step[i, 0]).mid() for i in range(len(x))]
    return np.array([float(v) for v in x])


def verify_point(problem_or_model, X, Y, theta, *, prec: int = DEFAULT_PREC, radii: Sequence[float] | None = None,
                 max_shift: float | None = None, polish_steps: int = POLISH_STEPS, skip_input=None,
                 check_objective=None) -> Verification:
    """Prove (or fail to prove) a strict local minimum near theta. See the module docstring for the method."""
    t0 = time.perf_counter()
    problem = problem_or_model if hasattr(problem_or_model, "evaluate") else _problem(problem_or_model, X, Y, skip_input)
    P = problem.n_params
    theta = np.asarray(torch.as_tensor(theta, dtype=torch.float64).detach().cpu(), dtype=np.float64).reshape(-1)
    if theta.shape != (P,):
        raise ValueError(f"theta has {theta.size} entries, the model has {P} parameters")
    if not np.all(np.isfinite(theta)):
        raise ValueError("theta contains NaN or inf")
    if prec < 53:
        raise ValueError(f"prec must be >= 53 bits, got {prec}")

    def done(ok, reason, method="-", **kw):
        return Verification(ok=ok, reason=reason, method=method, seconds=time.perf_counter() - t0, n_params=P,
                            **{"radius": None, "loss_lo": None, "loss_hi": None, **kw})

    if problem.unsupported:
        return done(False, problem.unsupported)
    with _precision(prec):
        try:
            return _verify(problem, theta, prec, radii, max_shift, polish_steps, check_objective, done)
        except _Refused as e:
            return done(False, f"not verifiable: {e}")


def _verify(problem, theta, prec, radii, max_shift, polish_steps, check_objective, done):
    P = problem.n_params
    if check_objective is not None:
        L_float = float(check_objective(torch.as_tensor(theta)))
        L_ball = problem.evaluate([arb(float(x)) for x in theta], hessian=False)[0]
        if not abs(float(L_ball.mid()) - L_float) <= 1e-8 * (1 + abs(L_float)):
            return done(False, f"not verifiable: the objective ({L_float:.12g}) differs from the ball model "
                               f"({float(L_ball.mid()):.12g})")
    N, why = _complement(problem.tangents(theta), P)
    if why:
        return done(False, why)
    sym = problem.symmetry if N is not None else None
    where = "full theta" if N is None else f"slice: theta + span(symmetry tangents)^perp ({sym})"
    method = f"krawczyk arb prec={prec}, {where}"
    _, _, H0 = problem.evaluate([arb(float(x)) for x in theta], hessian=True)
    Hr = _mids(H0) if N is None else N.T @ _mids(H0) @ N
    Hr = 0.5 * (Hr + Hr.T)
    w, V = np.linalg.eigh(Hr)
    lmax = float(np.abs(w).max()) if w.size else 0.0
    tol = NULL_REL * max(1.0, lmax)
    if w[0] < -tol:
        return done(False, f"not verifiable: not a minimum (float lambda_min = {w[0]:.3e} < 0)", method)
    if w[0] <= tol:
        k = int((np.abs(w) <= tol).sum())
        return done(False, f"not verifiable: not strict ({k} near-null Hessian directions"
                           f"{' beyond the symmetry slice' if N is not None else ''}; float lambda_min = {w[0]:.2e})", method)
    C = V @ np.diag(1.0 / w) @ V.T
    center = _polish(problem, theta, N, C, polish_steps)
    shift = float(np.abs(center - theta).max())
    limit = max_shift if max_shift is not None else 1e-6 * (1.0 + float(np.abs(theta).max()))
    if shift > limit:
        return done(False, f"not verified: polishing moved theta by {shift:.2e} > {limit:.1e} (not near a critical point)",
                    method, shift=shift)
    _, gc, _ = problem.evaluate([arb(float(x)) for x in center], hessian=False)
    gr, _ = _reduce(gc, None, N)
    step = _to_mat(C) * gr
    rho = max(_hi(step[i, 0].abs_upper()) for i in range(step.nrows()))
    floor = 2.0 ** (-prec + 40) * (1.0 + float(np.abs(center).max()))
    tries = list(radii) if radii is not None else [max(f * rho, floor) for f in RADIUS_FACTORS]
    why = ""
    for r in tries:
        pr = _prove(problem, center, N, C, V, float(r))
        if pr.why.startswith("not verifiable"):
            return done(False, pr.why, method, shift=shift, center=tuple(center.tolist()))
        if pr.krawczyk and pr.pd:
            return done(True, "", method, radius=float(r), loss_lo=_lo(pr.loss), loss_hi=_hi(pr.loss),
                        lambda_min_lo=_lo(pr.lam_lo), center=tuple(center.tolist()), shift=shift, symmetry=sym)
        why = f"r={r:.1e}: {pr.why}"
    return done(False, f"not verified at radii {', '.join(f'{r:.1e}' for r in tries)} (last {why})", method,
                shift=shift, center=tuple(center.tolist()))


def verify_certificate(obj_or_model, X, Y, cert_or_theta, *, theta=None, **kw) -> Verification:
    """Verify a certified point. `obj_or_model`: an MLP or QuadraticNet (with data X, Y), a SafranShamir spec, or
    the Safran-Shamir Objective of claims.counterexamples (X, Y ignored). `cert_or_theta`: a parameter vector, or
    a Certificate together with theta=... (a certificate records numbers, not the point). A certificate that is
    not a certified minimum is not verified."""
    from networks.certify import Certificate

    if isinstance(cert_or_theta, Certificate):
        if theta is None:
            raise ValueError("verify_certificate: a Certificate does not hold theta: pass theta=...")
        if not cert_or_theta.certified:
            return Verification(False, None, None, None, "-", 0.0, cert_or_theta.n_params,
                                reason=f"not verifiable: the certificate's verdict is {cert_or_theta.verdict.value!r}")
        point = theta
    else:
        point = cert_or_theta
    if hasattr(obj_or_model, "fun") and _SS_NAME.match(getattr(obj_or_model, "name", "") or ""):
        kw.setdefault("check_objective", obj_or_model.fun)
    return verify_point(obj_or_model, X, Y, point, **kw)


def with_verification(cert, v: Verification):
    """The certificate with its `verified` field set (certificates are frozen)."""
    return dataclasses.replace(cert, verified=v)


# ------------------------------------------------------------------------------------------------ comparisons
@dataclass(frozen=True)
class LSEnclosure:
    """Rigorous least squares min_beta 1/2 ||M beta - y||^2: beta in the balls [beta_lo, beta_hi], value in
    [value_lo, value_hi]."""

    beta_lo: tuple
    beta_hi: tuple
    value_lo: float
    value_hi: float
    method: str


def least_squares(M, y, *, prec: int = DEFAULT_PREC) -> LSEnclosure:
    """Enclose the normal-equation solution M^T M beta = M^T y (arb_mat.solve: a ball containing the exact
    solution, or an error when M^T M is not provably invertible) and the optimal value at that ball."""
    M = np.asarray(M, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if M.ndim != 2 or M.shape[0] != y.size:
        raise ValueError(f"least_squares: M must be 2-D with one row per entry of y, got {M.shape} and {y.shape}")
    if not (np.all(np.isfinite(M)) and np.all(np.isfinite(y))):
        raise ValueError("least_squares: M or y contains NaN or inf")
    with _precision(prec):
        Mm, ym = _to_mat(M), _to_mat(y)
        try:
            beta = (Mm.transpose() * Mm).solve(Mm.transpose() * ym)
        except ZeroDivisionError:
            raise ValueError("least_squares: M is not provably of full column rank (M^T M singular in ball arithmetic)") from None
        r = Mm * beta - ym
        val = (r.transpose() * r)[0, 0] / 2
        b = [beta[i, 0] for i in range(beta.nrows())]
        return LSEnclosure(tuple(_lo(x) for x in b), tuple(_hi(x) for x in b), _lo(val), _hi(val),
                           f"normal equations, arb_mat.solve prec={prec}")


def _interval(e) -> tuple[float, float]:
    if isinstance(e, Verification):
        if not e.ok:
            raise ValueError(f"compare: the verification failed ({e.reason}); no enclosure to compare")
        return e.loss_lo, e.loss_hi
    if isinstance(e, LSEnclosure):
        return e.value_lo, e.value_hi
    if isinstance(e, arb):
        return _lo(e), _hi(e)
    lo, hi = (float(v) for v in e)
    if not lo <= hi:
        raise ValueError(f"compare: an enclosure needs lo <= hi, got ({lo}, {hi})")
    return lo, hi


def compare(loss_enclosure, baseline_enclosure) -> str:
    """'proven <' / 'proven >' when the enclosures are disjoint, else 'not separated'. Accepts Verification,
    LSEnclosure, arb, or (lo, hi)."""
    a, b = _interval(loss_enclosure), _interval(baseline_enclosure)
    if a[1] < b[0]:
        return "proven <"
    if a[0] > b[1]:
        return "proven >"
    return "not separated"
