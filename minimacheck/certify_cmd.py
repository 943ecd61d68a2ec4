"""`minimacheck certify DATA.npz --model SPEC|MODEL.pt`: certify a user's net on a user's data.

- DATA.npz holds arrays X and Y, one row per sample (a 1-D Y is one output column).
- SPEC is `ACTIVATION@WIDTHS`, e.g. `tanh@6,4` or `leaky_relu:0.5@8`: a fully connected net d_in -> WIDTHS -> d_out
  with a bias in every layer (d_in and d_out from the data).
- MODEL.pt is a saved `torch.nn.Sequential` of `Linear` layers (with biases) and one supported activation between
  them; it is read with `torch.load(weights_only=True)` under `torch.serialization.safe_globals` of exactly the
  supported classes (a model file never runs code) and converted exactly, weights included, to `networks.MLP`.
- The flat layout of a parameter vector (`--theta THETA.npy`, `theta` in the JSON): for each layer l in order,
  W^(l) of shape (d_{l-1} + 1) x d_l, row-major, its last row the bias.

A given point (`--theta`, or MODEL.pt's weights) is certified as it is, without training, unless `--starts K`:
then K starts are trained, the given point first. Without a given point, K random starts (default 8). Training
and certification are networks.find_minimum(..., allow_kinks=True) in float64; iteration limits decide, `--budget`
(seconds) is only a safety net that skips the remaining starts.

Exit codes: 0 some start (or the given point) is certified, 1 none is, 2 bad input (one-line error).
"""
from __future__ import annotations

import math
import pathlib
import re
import sys

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
DEFAULT_STARTS = 8


class BadInput(ValueError):
    """Bad input: printed on one line, exit code 2."""


# ---------------------------------------------------------------- inputs
def load_data(path) -> tuple:
    import numpy as np

    path = pathlib.Path(path)
    if not path.exists():
        raise BadInput(f"data file {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("X", "Y") if k not in z.files]
            if missing:
                raise BadInput(f"{path} lacks array(s) {', '.join(missing)} (it has {', '.join(z.files) or 'none'})")
            X, Y = np.asarray(z["X"]), np.asarray(z["Y"])
    except BadInput:
        raise
    except Exception as e:  # noqa: BLE001 - not an npz, pickled objects, ...
        raise BadInput(f"cannot read {path} as an .npz of arrays X and Y: {e}") from None
    if Y.ndim == 1:
        Y = Y[:, None]
    if X.ndim != 2 or Y.ndim != 2:
        raise BadInput(f"X and Y must be 2-D (rows are samples); got X {X.shape}, Y {Y.shape}")
    if X.shape[0] != Y.shape[0]:
        raise BadInput(f"X has {X.shape[0]} rows but Y has {Y.shape[0]}: rows are samples")
    if X.shape[0] == 0:
        raise BadInput("the data set is empty")
    if not (np.issubdtype(X.dtype, np.number) and np.issubdtype(Y.dtype, np.number)):
        raise BadInput(f"X and Y must be numeric, got {X.dtype} and {Y.dtype}")
    X, Y = X.astype(np.float64), Y.astype(np.float64)
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise BadInput("X or Y contains NaN or inf")
    return X, Y


SPEC = re.compile(r"^(?P<act>[a-z_]+(?::[-+0-9.eE]+)?)@(?P<widths>\d+(?:,\d+)*)$")


def parse_spec(spec: str, d_in: int, d_out: int):
    from networks import MLP, activations

    m = SPEC.match(spec.strip())
    if not m:
        raise BadInput(f"cannot parse model spec {spec!r}: expected ACTIVATION@WIDTHS, e.g. tanh@6,4 or leaky_relu:0.5@8")
    try:
        activations.get(m["act"])
    except ValueError as e:
        raise BadInput(f"model spec {spec!r}: {e}") from None
    widths = tuple(int(w) for w in m["widths"].split(","))
    if any(w < 1 for w in widths):
        raise BadInput(f"model spec {spec!r}: widths must be >= 1")
    return MLP(d_in, widths, d_out, activation=m["act"], bias=True)


def _supported():
    from torch import nn

    return {nn.Tanh: lambda l: "tanh", nn.ReLU: lambda l: "relu", nn.Sigmoid: lambda l: "sigmoid",
            nn.LeakyReLU: lambda l: f"leaky_relu:{float(l.negative_slope):g}", nn.Softplus: _softplus,
            nn.Identity: lambda l: "linear"}


def _softplus(layer):
    if float(layer.beta) != 1.0:
        raise BadInput(f"unsupported layer Softplus(beta={layer.beta}): only beta=1 maps to networks' softplus")
    return "softplus"


def load_model(path):
    """(MLP, theta) from a saved nn.Sequential; BadInput for anything that is not exactly representable."""
    import pickle

    import torch
    from torch import nn

    from networks import MLP

    path = pathlib.Path(path)
    if not path.exists():
        raise BadInput(f"model file {path} does not exist")
    acts = _supported()
    allowed = [nn.Sequential, nn.Linear, *acts]
    try:
        with torch.serialization.safe_globals(allowed):
            obj = torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as e:
        g = re.search(r"GLOBAL ([\w.]+)", str(e))
        what = g.group(1) if g else str(e).splitlines()[0]
        raise BadInput(f"unsupported layer or object in {path.name}: {what} (supported: Sequential of Linear and "
                       f"{', '.join(a.__name__ for a in acts)})") from None
    except Exception as e:  # noqa: BLE001
        raise BadInput(f"cannot load {path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    if not isinstance(obj, nn.Sequential):
        raise BadInput(f"{path.name} holds a {type(obj).__name__}, expected a saved torch.nn.Sequential")
    layers = [l for l in obj if not isinstance(l, nn.Identity)]
    linears = [l for l in layers if isinstance(l, nn.Linear)]
    names = []
    for i, l in enumerate(layers):
        want_linear = i % 2 == 0
        if isinstance(l, nn.Linear) != want_linear:
            raise BadInput(f"layer {i} ({type(l).__name__}): expected Linear and activation layers alternating, "
                           "starting and ending with Linear")
        if not want_linear:
            if type(l) not in acts:
                raise BadInput(f"unsupported layer {type(l).__name__}")
            names.append(acts[type(l)](l))
        elif l.bias is None:
            raise BadInput(f"layer {i} is Linear(bias=False): the flat model has a bias in every layer")
    if len(linears) < 2 or len(layers) % 2 == 0:
        raise BadInput("the Sequential must be Linear, activation, ..., Linear with at least one hidden layer and a "
                       "linear output layer")
    if len(set(names)) != 1:
        raise BadInput(f"every hidden layer must use the same activation, got {names}")
    for a, b in zip(linears, linears[1:]):
        if a.out_features != b.in_features:
            raise BadInput(f"Linear layers do not chain: {a.out_features} outputs feed {b.in_features} inputs")
    model = MLP(linears[0].in_features, tuple(l.out_features for l in linears[:-1]), linears[-1].out_features,
                activation=names[0], bias=True)
    Ws = [torch.cat([l.weight.detach().T, l.bias.detach()[None, :]]).to(torch.float64) for l in linears]
    return model, model.flatten(Ws)


def to_sequential(model, theta):
    """The inverse conversion (for tests and users): networks.MLP + theta -> torch.nn.Sequential."""
    import torch
    from torch import nn

    inv = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "softplus": nn.Softplus}
    Ws, _ = model.unflatten(torch.as_tensor(theta, dtype=torch.float64))
    layers = []
    for l, W in enumerate(Ws):
        lin = nn.Linear(W.shape[0] - 1, W.shape[1]).to(torch.float64)
        with torch.no_grad():
            lin.weight.copy_(W[:-1].T)
            lin.bias.copy_(W[-1])
        layers.append(lin)
        if l < len(Ws) - 1:
            a = model.activation
            layers.append(nn.LeakyReLU(float(a.split(":")[1]) if ":" in a else 0.1) if a.startswith("leaky_relu") else inv[a]())
    return nn.Sequential(*layers)


def load_theta(path, n_params: int):
    import numpy as np

    path = pathlib.Path(path)
    if not path.exists():
        raise BadInput(f"theta file {path} does not exist")
    try:
        theta = np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001
        raise BadInput(f"cannot read {path} as a .npy array: {e}") from None
    theta = np.asarray(theta, dtype=np.float64).reshape(-1) if np.issubdtype(np.asarray(theta).dtype, np.number) else None
    if theta is None:
        raise BadInput(f"{path} is not a numeric array")
    if theta.size != n_params:
        raise BadInput(f"theta has {theta.size} entries, the model has {n_params} parameters (flat layout: per layer "
                       "(d_in+1) x d_out row-major, bias last row)")
    if not np.isfinite(theta).all():
        raise BadInput("theta contains NaN or inf")
    return theta


# ---------------------------------------------------------------- running
def start_dict(index: int, cert, theta, *, trained: bool, iterations=None, verification=None, reason="") -> dict:
    return {"index": index, "verdict": cert.verdict.value, "verdict_code": cert.verdict.name,
            "certified": cert.certified, "strength": cert.strength, "loss": cert.loss, "grad_norm": cert.grad_norm,
            "differentiable": cert.differentiable, "lambda_min": cert.lambda_min, "margin": cert.margin,
            "reason": cert.reason, "trained": trained, "iterations": iterations, "train_reason": reason,
            "theta": [float(t) for t in theta], "verified": verification,
            "certificate": {k: v for k, v in cert.as_dict().items() if k not in ("verified",)}}


def _verify(model, X, Y, cert, theta) -> dict:
    import time

    from networks.verify import verify_certificate

    t0 = time.perf_counter()
    try:
        v = verify_certificate(model, X, Y, cert, theta=theta)
        d = v.as_dict()
    except Exception as e:  # noqa: BLE001 - an attempt that raises is a failed attempt, with its reason
        d = {"ok": False, "radius": None, "loss_lo": None, "loss_hi": None, "method": "-",
             "seconds": time.perf_counter() - t0, "reason": f"{type(e).__name__}: {e}"}
    return {k: d.get(k) for k in ("ok", "radius", "loss_lo", "loss_hi", "method", "seconds", "reason")}


def run(X, Y, model, theta=None, *, starts: int | None = None, seed: int = 0, max_iter: int = 400,
        budget: float | None = None, verify: bool = False) -> dict:
    """The certificates as a JSON-ready dict {'starts': [...], 'best': ... or None, 'model': ..., 'data': ...}."""
    import numpy as np
    import torch

    from networks import certify, find_minimum_mlp, squared_loss

    if theta is not None and starts is None:
        obj = squared_loss(model, X, Y)
        th = torch.as_tensor(np.asarray(theta, dtype=np.float64))
        cert = certify(obj, th, allow_kinks=True)
        starts_out = [start_dict(0, cert, th, trained=False)]
        thetas, certs = [th], [cert]
    else:
        res = find_minimum_mlp(model, X, Y, starts=DEFAULT_STARTS if starts is None else starts, seed=seed,
                               max_iter=max_iter, allow_kinks=True, time_budget=budget,
                               theta0=None if theta is None else np.asarray(theta, dtype=np.float64))
        starts_out, thetas, certs = [], [], []
        for s in res.starts:
            starts_out.append(start_dict(s.index, s.certificate, s.train.theta, trained=True,
                                         iterations=s.train.iterations, reason=s.train.reason))
            thetas.append(s.train.theta)
            certs.append(s.certificate)
    if verify:
        for d, th, cert in zip(starts_out, thetas, certs):
            if d["certified"]:
                d["verified"] = _verify(model, X, Y, cert, th)
    certified = [d for d in starts_out if d["certified"]]
    best = min(certified, key=lambda d: d["loss"]) if certified else None
    return {"starts": starts_out, "best": best,
            "model": {"d_in": model.d_in, "widths": list(model.widths), "d_out": model.d_out,
                      "activation": model.activation, "n_params": model.n_params, "bias": True,
                      "layout": "per layer W^(l) (d_{l-1}+1) x d_l row-major, bias last row"},
            "data": {"m": int(X.shape[0]), "d_x": int(X.shape[1]), "d_y": int(Y.shape[1])},
            "settings": {"starts": starts, "seed": seed, "max_iter": max_iter, "budget": budget, "verify": verify,
                         "loss": "1/2 ||Yhat - Y||_F^2 (no 1/m)"}}


def _fmt(x):
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.6g}"


def cmd(args) -> int:
    from minimacheck import provenance

    try:
        X, Y = load_data(args.data)
        if args.model.endswith((".pt", ".pth")) or pathlib.Path(args.model).is_file():
            model, theta = load_model(args.model)
            if model.d_in != X.shape[1] or model.d_out != Y.shape[1]:
                raise BadInput(f"the model maps {model.d_in} -> {model.d_out}, the data have d_x={X.shape[1]}, "
                               f"d_y={Y.shape[1]}")
        else:
            model, theta = parse_spec(args.model, X.shape[1], Y.shape[1]), None
        if args.theta is not None:
            theta = load_theta(args.theta, model.n_params)
        if args.starts is not None and args.starts < 1:
            raise BadInput(f"--starts must be >= 1, got {args.starts}")
        if args.max_iter < 1:
            raise BadInput(f"--max-iter must be >= 1, got {args.max_iter}")
        theta = None if theta is None else [float(t) for t in theta]
    except BadInput as e:
        print(f"minimacheck certify: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    out = run(X, Y, model, theta, starts=args.starts, seed=args.seed, max_iter=args.max_iter, budget=args.budget,
              verify=args.verify)
    print(f"model {model.activation}@{','.join(map(str, model.widths))}: {model.d_in} -> {model.d_out}, "
          f"P = {model.n_params}; data m = {X.shape[0]}")
    for d in out["starts"]:
        v = d["verified"]
        ver = "" if v is None else (f"; verified: {'ok' if v['ok'] else 'no'} "
                                    f"({v['method']}{', ' + v['reason'] if v['reason'] else ''})")
        print(f"start {d['index']}: {d['verdict']} [{d['strength'] or '-'}] L={_fmt(d['loss'])} |g|={_fmt(d['grad_norm'])}"
              f"{'' if d['differentiable'] else ' (kink)'}{' ' + d['reason'] if d['reason'] else ''}{ver}")
    b = out["best"]
    print(f"best: start {b['index']}, L={_fmt(b['loss'])}" if b else "best: none certified")
    if args.json:
        pathlib.Path(args.json).write_text(provenance.dumps({**provenance.stamp(), **out}, indent=1))
        print(f"wrote {args.json}")
    return EXIT_OK if b is not None else EXIT_FAIL


def add_parser(sub) -> None:
    p = sub.add_parser("certify", help="certify your net on your data (train from starts, or a given point as it is)",
                       description=__doc__.split("\n\n")[0].replace("`", ""))
    p.add_argument("data", help="an .npz with arrays X and Y (rows are samples)")
    p.add_argument("--model", required=True, help="ACTIVATION@WIDTHS (e.g. tanh@6,4, leaky_relu:0.5@8) or MODEL.pt "
                                                  "(a saved torch.nn.Sequential)")
    p.add_argument("--theta", help="THETA.npy: a point in the flat layout to certify (see the README)")
    p.add_argument("--starts", type=int, default=None, help=f"train from K starts (default {DEFAULT_STARTS} without a "
                                                            "given point; with one, the point is certified as it is)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random starts (default 0)")
    p.add_argument("--max-iter", type=int, default=400, dest="max_iter", help="iterations per start (default 400)")
    p.add_argument("--budget", type=float, default=None, help="wall-clock safety net in seconds (skips later starts)")
    p.add_argument("--json", metavar="OUT", help="write the certificates as JSON")
    p.add_argument("--verify", action="store_true", help="attempt a ball-arithmetic proof of every certified start")
    p.set_defaults(func=cmd)
