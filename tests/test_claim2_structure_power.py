"""Power tests for claim2's structure verification (verify_structure), fed points that violate the hypotheses:
- a declared 'linear' path whose units are in fact tanh (the net lacks linear_units): the gains vary over samples,
  so the sample-independent-gain check must refuse it (for PL paths the linear-piece check comes first, so only a
  smooth fake path reaches the gain check);
- a path with zero output weights (v0 = 0, a deep S2 net): sigma_min(C) = 0 < g_min must be refused."""
from __future__ import annotations

from dataclasses import replace

import pytest

from claims import claim2_ols as c2
from networks import MLP, squared_loss


def _at_start(inst):
    obj = squared_loss(inst.model, inst.X, inst.Y)
    return c2.Trained(inst, obj, inst.theta0, None, None, 0.0)


def test_claim2_fake_linear_path_is_refused_for_varying_gains():
    p = c2.Params("S2", m=16, d_x=2, d_y=1, widths=(3,), activation="tanh", seed=4)
    inst = c2.build_instance(p)
    fake = MLP(p.d_x, p.widths, p.d_y, activation="tanh")  # same parameters, but the 'path' unit is a tanh unit
    assert fake.n_params == inst.model.n_params
    Ws, R = fake.unflatten(inst.theta0)
    Ws = [W.clone() for W in Ws]
    Ws[0][-1, 0] = 0.0  # path unit off saturation: O(1) gains v tanh'(x w) that vary over the samples
    bad = replace(inst, model=fake, theta0=fake.flatten(Ws, R))
    sc = c2.verify_structure(_at_start(bad))
    assert not sc.ok and "vary" in sc.reason, sc.reason
    assert c2.verify_structure(_at_start(inst)).ok  # the genuine linear-unit path passes


@pytest.mark.parametrize("act", ["tanh", "leaky_relu"])
def test_claim2_zero_gain_path_is_refused(act):
    p = c2.Params("S2", m=16, d_x=2, d_y=1, widths=(3, 2), activation=act, seed=5, v0=0.0)
    sc = c2.verify_structure(_at_start(c2.build_instance(p)))
    assert not sc.ok and sc.sigma_C is not None and sc.sigma_C < c2.G_MIN, sc.reason
    assert "g_min" in sc.reason
