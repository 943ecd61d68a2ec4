"""`minimacheck certify` on a user's net and data; CLI start-up without torch."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from minimacheck import certify_cmd, cli
from networks import MLP, find_minimum_mlp

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def _strict(text):
    def bad(c):
        raise ValueError(f"non-finite number {c} in JSON")
    return json.loads(text, parse_constant=bad)


def _data(tmp_path, m=48, d_x=2, seed=0):
    """Y from a tanh teacher 2 -> 3 -> 1 plus small noise; returns (path, X, Y, teacher theta)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, d_x))
    model = MLP(d_x, (3,), 1, "tanh")
    teacher = torch.as_tensor(0.8 * rng.standard_normal(model.n_params))
    Y = model.forward(teacher, torch.as_tensor(X)).numpy() + 0.02 * rng.standard_normal((m, 1))
    path = tmp_path / "data.npz"
    np.savez(path, X=X, Y=Y)
    return path, X, Y, teacher


def test_saved_sequential_gives_the_api_certificate(tmp_path, capsys):
    path, X, Y, teacher = _data(tmp_path)
    # the user's net: a Sequential near the teacher (as if trained), float32 weights
    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    W1, W2 = teacher[:9].reshape(3, 3), teacher[9:].reshape(4, 1)
    with torch.no_grad():
        net[0].weight.copy_(W1[:2].T), net[0].bias.copy_(W1[2]), net[2].weight.copy_(W2[:3].T), net[2].bias.copy_(W2[3])
    torch.save(net, tmp_path / "net.pt")
    model, theta = certify_cmd.load_model(tmp_path / "net.pt")
    assert model == MLP(2, (3,), 1, "tanh")
    with torch.no_grad():  # the conversion is exact: the same function (float32 weights are exact in float64)
        ref = net.to(torch.float64)(torch.as_tensor(X)).numpy()
    assert np.allclose(model.forward(theta, torch.as_tensor(X)).numpy(), ref, rtol=1e-13, atol=1e-13)

    out = tmp_path / "out.json"
    code = cli.main(["certify", str(path), "--model", str(tmp_path / "net.pt"), "--starts", "2", "--max-iter", "60",
                     "--json", str(out)])
    doc = _strict(out.read_text())
    api = find_minimum_mlp(model, X, Y, starts=2, seed=0, max_iter=60, allow_kinks=True, theta0=theta.numpy())
    assert code == 0
    assert len(doc["starts"]) == 2 and doc["schema_version"] >= 1 and "versions" in doc
    for d, s in zip(doc["starts"], api.starts):
        c = s.certificate
        assert (d["verdict"], d["verdict_code"], d["differentiable"]) == (c.verdict.value, c.verdict.name, c.differentiable)
        assert d["loss"] == c.loss and d["grad_norm"] == c.grad_norm
        assert d["theta"] == s.train.theta.tolist()
        assert d["verified"] is None
        assert d["loss"] == pytest.approx(
            0.5 * float(((model.forward(s.train.theta, torch.as_tensor(X)).numpy() - Y) ** 2).sum()), rel=1e-12)
    assert api.best is not None, [s.certificate.summary() for s in api.starts]
    if api.best is not None:
        assert doc["best"]["theta"] == api.best.train.theta.tolist()
        # the best point, given back with --theta, is certified as it is; --verify attempts its proof
        np.save(tmp_path / "best.npy", np.array(doc["best"]["theta"]))
        out2 = tmp_path / "out2.json"
        assert cli.main(["certify", str(path), "--model", "tanh@3", "--theta", str(tmp_path / "best.npy"), "--verify",
                         "--json", str(out2)]) == 0
        (start,) = _strict(out2.read_text())["starts"]
        assert start["trained"] is False and start["verdict_code"] == "CERTIFIED_MINIMUM"
        assert set(start["verified"]) == {"ok", "radius", "loss_lo", "loss_hi", "method", "seconds", "reason"}
    assert "best:" in capsys.readouterr().out


def test_planted_saddle_theta_is_a_saddle_and_exits_1(tmp_path, capsys):
    """theta with zero hidden weights and output weights, output bias = mean(Y): a critical point whose Hessian has
    the cross term X^T r != 0 between the two layers: a saddle. Certified as it is, under float32 torch too."""
    path, X, Y, _ = _data(tmp_path)
    model = MLP(2, (3,), 1, "tanh")
    W1 = np.zeros((3, 3))
    W2 = np.zeros((4, 1))
    W2[-1, 0] = Y.mean()
    np.save(tmp_path / "saddle.npy", np.concatenate([W1.ravel(), W2.ravel()]))
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        code = cli.main(["certify", str(path), "--model", "tanh@3", "--theta", str(tmp_path / "saddle.npy"),
                         "--json", str(tmp_path / "s.json")])
    finally:
        torch.set_default_dtype(old)
    assert code == 1
    (start,) = _strict((tmp_path / "s.json").read_text())["starts"]
    assert start["verdict_code"] == "SADDLE" and start["verdict"] == "critical point, not a minimum"
    assert _strict((tmp_path / "s.json").read_text())["best"] is None
    assert model.n_params == len(start["theta"])


def _bad(tmp_path, name, **arrays):
    p = tmp_path / name
    np.savez(p, **arrays)
    return str(p)


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    good, X, Y, _ = _data(tmp_path)
    np.save(tmp_path / "short.npy", np.zeros(5))
    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout(), torch.nn.Linear(3, 1))
    torch.save(net, tmp_path / "dropout.pt")
    Xn = X.copy()
    Xn[0, 0] = np.nan
    cases = {
        "lacks array(s) Y": [_bad(tmp_path, "noy.npz", X=X), "--model", "tanh@3"],
        "rows": [_bad(tmp_path, "rows.npz", X=X, Y=Y[:-1]), "--model", "tanh@3"],
        "NaN": [_bad(tmp_path, "nan.npz", X=Xn, Y=Y), "--model", "tanh@3"],
        "unsupported layer": [str(good), "--model", str(tmp_path / "dropout.pt")],
        "cannot parse model spec": [str(good), "--model", "tanh-3"],
        "unknown activation": [str(good), "--model", "swish@3"],
        "theta has 5 entries": [str(good), "--model", "tanh@3", "--theta", str(tmp_path / "short.npy")],
        "does not exist": [str(tmp_path / "nope.npz"), "--model", "tanh@3"],
    }
    for message, argv in cases.items():
        assert cli.main(["certify", *argv]) == 2, message
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, (message, err)
    assert "Dropout" in str(pytest.raises(certify_cmd.BadInput, certify_cmd.load_model, tmp_path / "dropout.pt").value)


def test_leaky_relu_spec_and_sequential_round_trip(tmp_path):
    model = certify_cmd.parse_spec("leaky_relu:0.5@4,2", 3, 2)
    assert model == MLP(3, (4, 2), 2, "leaky_relu:0.5")
    theta = torch.as_tensor(np.random.default_rng(1).standard_normal(model.n_params))
    torch.save(certify_cmd.to_sequential(model, theta), tmp_path / "n.pt")
    back, theta2 = certify_cmd.load_model(tmp_path / "n.pt")
    assert back == model and torch.equal(theta, theta2)


def test_help_and_version_do_not_import_torch():
    code = ("import sys, contextlib, io\n"
            "from minimacheck import cli\n"
            "for argv in (['--help'], ['--version'], ['certify', '--help']):\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        try:\n"
            "            cli.main(argv)\n"
            "        except SystemExit:\n"
            "            pass\n"
            "print('torch' in sys.modules, 'claims' in sys.modules, 'numpy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "False"], out.stdout
