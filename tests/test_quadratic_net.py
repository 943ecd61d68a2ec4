"""QuadraticNet (one hidden layer, quadratic activation, fixed output signs) against dense references.

The mixed-sign net represents every symmetric matrix M = W^T diag(v) W once v has d entries of each sign, so its
certified minima must reach the symmetric-matrix least-squares optimum computed by baselines.matrix_ls."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from budget import at_most
from hypothesis import given
from hypothesis import strategies as st

from baselines.matrix_ls import symmetric_ls
from minimacheck.tolerance import tau_fp
from networks import certify, minimize, squared_loss
from networks.models import QuadraticNet


@given(d=st.integers(2, 5), k=st.integers(1, 6), m=st.integers(3, 30), seed=st.integers(0, 2**31 - 1))
def test_quadratic_net_jacobian_matrix_form_and_symmetries(d, k, m, seed):
    rng = np.random.default_rng(seed)
    signs = tuple(rng.choice([-1.0, 1.0], size=k))
    net = QuadraticNet(d, signs)
    theta = net.init(seed % 1000)
    X = torch.as_tensor(rng.standard_normal((m, d)))
    J = torch.func.jacrev(lambda t: net.forward(t, X).reshape(-1))(theta)
    assert torch.allclose(net.output_jacobian(theta, X), J, atol=1e-12, rtol=0)
    M = net.matrix(theta)
    assert torch.allclose(net.forward(theta, X)[:, 0], torch.einsum("ij,jk,ik->i", X, M, X), atol=1e-10, rtol=1e-12)
    T = net.symmetry_tangents(theta)
    if T.shape[1]:
        assert float((J @ T).abs().max()) <= 1e-10 * (1 + float(J.abs().max()) * float(T.abs().max()))


@at_most(4)
@given(d=st.integers(2, 4), seed=st.integers(0, 10_000))
def test_mixed_sign_quadratic_net_reaches_symmetric_least_squares(d, seed):
    rng = np.random.default_rng(seed)
    m = d * (d + 1) // 2 + 6  # more equations than unknowns: the optimum is not zero
    X, y = rng.standard_normal((m, d)), rng.standard_normal(m)
    net = QuadraticNet(d, (1.0,) * d + (-1.0,) * d)
    obj = squared_loss(net, X, y[:, None])
    res = minimize(obj, net.init(seed), max_iter=300)
    cert = certify(obj, res.theta)
    assert cert.certified, cert.summary()
    base = symmetric_ls(X, y)
    # Lemma P with J the output Jacobian: L <= L* + slack; and L >= L* - tau_fp since L* is the global optimum
    gap = cert.loss - base.value
    assert -tau_fp(base.value) - base.slack_solver <= gap <= cert.slack + tau_fp(base.value) + base.slack_solver


@pytest.mark.parametrize("signs, match", [((), "at least one hidden unit"), ((1.0, 0.5), r"\+1 or -1")])
def test_quadratic_net_rejects_bad_signs(signs, match):
    with pytest.raises(ValueError, match=match):
        QuadraticNet(3, signs)
