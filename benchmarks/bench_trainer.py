"""Time per certified minimum of the trainer and certifier, this tree vs a frozen baseline, in ONE process.

    python3 benchmarks/bench_trainer.py                      # this tree vs scipy least_squares(trf) -> trust-exact
    python3 benchmarks/bench_trainer.py --baseline 95d0da2   # ... and vs the networks/ package of that git commit

The baseline is `git archive <ref> networks` unpacked into a temporary directory as the package `networks_base`
(imports rewritten), so the old and the new code run on the same instances, interleaved (the order alternates from
one instance to the next), single-threaded (torch and BLAS). Timings on a shared machine are noisy: compare the
ratios printed for the same instance, not absolute seconds across runs.

Cases (fixed seeds), each run as `find_minimum` (K starts, escape detection, certification; charged = its whole wall
time, training + certification) and as scipy least_squares(trf) -> trust-exact from the same K starts (per-start
budget --budget, end points certified, certification not charged):
- smooth tanh nets, m = 1000 (P = 289; two hidden layers P = 889) and m = 800 (P = 481), teacher targets (a random
  MLP(d, (4,), 1) + 0.1 noise) and one random-target instance. Some starts escape to minima at infinity
  (saturating tanh units): find_minimum stops them at the first check where ||theta|| grows and the ray descends.
- a leaky-ReLU net with m = 40 (P = 31 < m), 8 starts, allow_kinks=True (the issue's slow case).
"""
from __future__ import annotations

import argparse
import importlib
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def load_baseline(ref: str):
    """Import the networks/ package of git ref `ref` as `networks_base`."""
    tmp = tempfile.mkdtemp(prefix="networks_base_")
    tar = subprocess.run(["git", "-C", ROOT, "archive", ref, "networks"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", tmp], input=tar, check=True)
    src, dst = os.path.join(tmp, "networks"), os.path.join(tmp, "networks_base")
    os.rename(src, dst)
    for name in os.listdir(dst):
        if name.endswith(".py"):
            p = os.path.join(dst, name)
            text = open(p).read()
            text = re.sub(r"\bfrom networks([. ])", r"from networks_base\1", text)
            text = re.sub(r"\bimport networks\b", "import networks_base", text)
            open(p, "w").write(text)
    sys.path.insert(0, tmp)
    return importlib.import_module("networks_base")


def smooth_case(net, d, widths, m, target, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, d))
    if target == "teacher":
        teacher = net.MLP(d, (4,), 1, activation="tanh")
        Y = teacher.forward(teacher.init(seed + 100).double(), torch.as_tensor(X)).numpy() + 0.1 * rng.standard_normal((m, 1))
    else:
        Y = rng.standard_normal((m, 1))
    model = net.MLP(d, widths, 1, activation="tanh")
    return net.squared_loss(model, X, Y), model.init(seed).double()


def run_fm(net, obj, init, starts, seed, **kw):
    t0 = time.perf_counter()
    out = net.find_minimum(obj, init, starts=starts, seed=seed, **kw)
    return dict(total_s=time.perf_counter() - t0, certified=out.n_certified, starts=len(out.starts),
                escapes=len(out.escapes), verdicts=",".join(s.certificate.verdict.name[:4] for s in out.starts))


def run_scipy(net, obj, init, starts, seed, budget):
    from minimacheck import bench

    total, cert = 0.0, 0
    for i in range(starts):
        th0 = torch.as_tensor(np.asarray(init(np.random.default_rng([seed, i])), dtype=np.float64))
        r = bench.run_scipy_trf(obj, th0, budget)
        total += r.seconds
        cert += net.certify(obj, r.theta, allow_kinks=True).certified
    return dict(total_s=total, certified=cert, starts=starts, escapes=0, verdicts="")


def leaky_case(net, seed):
    rng = np.random.default_rng(seed)
    m, d = 40, 3
    X, Y = rng.standard_normal((m, d)), rng.standard_normal((m, 1))
    model = net.MLP(d, (6,), 1, activation="leaky_relu")
    return net.squared_loss(model, X, Y), model


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline", metavar="REF", help="git ref whose networks/ package is the 'old' method")
    ap.add_argument("--budget", type=float, default=10.0, help="scipy: seconds per start (default 10)")
    ap.add_argument("--case-budget", type=float, default=120.0,
                    help="find_minimum's time_budget per case (remaining starts are skipped; default 120 s)")
    ap.add_argument("--quick", action="store_true", help="a 2-start P = 289 case and a 4-start leaky case only")
    ap.add_argument("--no-scipy", action="store_true")
    ap.add_argument("--fixed-only", action="store_true", help="only the fixed-work section (60 iterations + certify)")
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    import networks

    impls = {"new": networks}
    if args.baseline:
        impls["old"] = load_baseline(args.baseline)
    cases = [("tanh m=1000 (24,) teacher", 10, (24,), 1000, "teacher", 0, 4),
             ("tanh m=1000 (24,) random", 10, (24,), 1000, "random", 1, 4),
             ("tanh m=800 (40,) teacher", 10, (40,), 800, "teacher", 2, 4),
             ("tanh m=1000 (24,24) teacher", 10, (24, 24), 1000, "teacher", 3, 2),
             ("leaky m=40 (6,) random", 3, (6,), 40, "leaky", 0, 8)]
    if args.quick:
        cases = [cases[0][:-1] + (2,), cases[-1][:-1] + (4,)]
    rows = []
    with threadpool_limits(limits=1):
        # warm-up: torch.func's first call imports ~850 modules (seconds); pay it outside the timings
        for net in impls.values():
            obj, th = smooth_case(net, 3, (4,), 20, "teacher", 0)
            net.certify(obj, net.minimize(obj, th, max_iter=5).theta)
            torch.func.hessian(obj.fun)(th)
            obj, model = leaky_case(net, 1)
            net.find_minimum(obj, starts=1, max_iter=5)
        # fixed work, the profile: 60 minimize iterations from MLP.init, then certify at the end point
        print("fixed work: minimize(max_iter=60) and certify at its end point (tanh, m = 1000, random targets)")
        fixed = []
        for k, widths in enumerate([(24,), (24, 24)] if not args.quick else [(24,)]):
            res = {}
            for meth in (list(impls) if k % 2 == 0 else list(impls)[::-1]):
                net = impls[meth]
                obj, th0 = smooth_case(net, 10, widths, 1000, "random", 5)
                t0 = time.perf_counter()
                r = net.minimize(obj, th0, max_iter=60)
                t1 = time.perf_counter()
                c = net.certify(obj, r.theta)
                t2 = time.perf_counter()
                H0 = time.perf_counter()
                obj.hessian(r.theta)
                t3 = time.perf_counter()
                res[meth] = (t1 - t0, t2 - t1, t3 - H0)
                print(f"  MLP(10,{widths},1) P={obj.n_params:<4} {meth:<4} 60 its {t1 - t0:6.2f}s  certify {t2 - t1:6.2f}s "
                      f"({c.verdict.name})  one Hessian {t3 - H0:6.2f}s  L={r.loss:.6g}", flush=True)
            fixed.append((widths, res))
        for k, (name, d, widths, m, target, seed, starts) in enumerate([] if args.fixed_only else cases):
            order = list(impls) + ([] if args.no_scipy else ["scipy"])
            order = order[k % len(order):] + order[: k % len(order)]
            res = {}
            for meth in order:
                net = impls.get(meth, networks)
                if target == "leaky":
                    obj, _ = leaky_case(net, seed)
                else:
                    obj, _ = smooth_case(net, d, widths, m, target, seed)
                from networks.multistart import mlp_init

                init = mlp_init(networks.MLP(d, widths, 1, activation="leaky_relu" if target == "leaky" else "tanh"))
                if meth == "scipy":
                    res[meth] = run_scipy(networks, obj, init, starts, seed, args.budget)
                else:
                    res[meth] = run_fm(net, obj, init, starts, seed, allow_kinks=True, time_budget=args.case_budget)
                r = res[meth]
                print(f"{name:<28} P={obj.n_params:<4} {meth:<5} {r['certified']}/{r['starts']} certified, "
                      f"escapes {r['escapes']}, total {r['total_s']:7.2f}s  [{r['verdicts']}]", flush=True)
            rows.append((name, res))
    print()
    if "old" in impls:
        for widths, res in fixed:
            (a, b, c), (a0, b0, c0) = res["new"], res["old"]
            print(f"MLP(10,{widths},1) m=1000: 60 iterations old/new {a0 / a:5.2f}x, certify old/new {b0 / b:5.2f}x, "
                  f"Hessian old/new {c0 / c:5.2f}x")
        print()
    print(f"{'case':<28} {'s/cert new':>10} {'s/cert old':>10} {'old/new':>8} {'s/cert scipy':>12} {'scipy/new':>9}")

    def per_cert(r):
        if r is None:
            return float("nan")
        return r["total_s"] / r["certified"] if r["certified"] else float("inf")

    for name, res in rows:
        new, old, sp = per_cert(res["new"]), per_cert(res.get("old")), per_cert(res.get("scipy"))
        print(f"{name:<28} {new:10.2f} {old:10.2f} {old / new:8.2f} {sp:12.2f} {sp / new:9.2f}")
    print("(s/cert: total seconds over all starts / certified minima; inf: none certified; ratios > 1: new is faster;\n"
          " scipy: optimization time only, certification not charged)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
