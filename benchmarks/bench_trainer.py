"""Time per certified minimum of the trainer and certifier, this tree vs a frozen baseline, in ONE process.

    python3 benchmarks/bench_trainer.py                      # this tree vs scipy least_squares(trf) -> trust-exact
    python3 benchmarks/bench_trainer.py --baseline 95d0da2   # ... and vs the networks/ package of that git commit

The baseline is `git archive <ref> networks` unpacked into a temporary directory as the package `networks_base`
(imports rewritten), so the old and the new code run on the same instances, interleaved (the order alternates from
one instance to the next), single-threaded (torch and BLAS). Timings on a shared machine are noisy: compare the
ratios printed for the same instance, not absolute seconds across runs.

Cases (fixed seeds):
- smooth nets, one start each: `minimize` from MLP.init, then `certify`; charged = training + certification time
  (both changed). tanh, m = 1000 (P = 289, one and two hidden layers P = 889) and m = 800 (P = 481), teacher
  targets (a random MLP(d, (4,), 1) + 0.1 noise) and one random-target instance.
- find_minimum on a leaky-ReLU net with m = 40 (P < m), 8 starts, allow_kinks=True (the issue's slow case).
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


def run_smooth(net, obj, th0, budget):
    t0 = time.perf_counter()
    res = net.minimize(obj, th0, time_budget=budget, max_iter=10**6)
    t1 = time.perf_counter()
    cert = net.certify(obj, res.theta)
    t2 = time.perf_counter()
    return dict(train_s=t1 - t0, cert_s=t2 - t1, total_s=t2 - t0, certified=cert.certified, verdict=cert.verdict.name,
                loss=cert.loss, its=res.iterations)


def run_scipy(net, obj, th0, budget):
    from minimacheck import bench

    t0 = time.perf_counter()
    r = bench.run_scipy_trf(obj, th0, budget)
    t1 = time.perf_counter()
    cert = net.certify(obj, r.theta)
    t2 = time.perf_counter()
    return dict(train_s=t1 - t0, cert_s=t2 - t1, total_s=t2 - t0, certified=cert.certified, verdict=cert.verdict.name,
                loss=cert.loss, its=r.iterations)


def run_find_minimum(net, seed, starts):
    rng = np.random.default_rng(seed)
    m, d = 40, 3
    X, Y = rng.standard_normal((m, d)), rng.standard_normal((m, 1))
    model = net.MLP(d, (6,), 1, activation="leaky_relu")
    t0 = time.perf_counter()
    out = net.find_minimum_mlp(model, X, Y, starts=starts, seed=seed, allow_kinks=True)
    return dict(total_s=time.perf_counter() - t0, certified=out.n_certified, starts=len(out.starts),
                verdicts=",".join(s.certificate.verdict.name[:4] for s in out.starts))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline", metavar="REF", help="git ref whose networks/ package is the 'old' method")
    ap.add_argument("--budget", type=float, default=20.0, help="seconds per smooth training run (default 20)")
    ap.add_argument("--quick", action="store_true", help="the two P = 289 cases and a 4-start find_minimum only")
    ap.add_argument("--no-scipy", action="store_true")
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    import networks

    impls = {"new": networks}
    if args.baseline:
        impls["old"] = load_baseline(args.baseline)
    cases = [("tanh m=1000 (24,) teacher", 10, (24,), 1000, "teacher", 0),
             ("tanh m=1000 (24,) random", 10, (24,), 1000, "random", 1),
             ("tanh m=800 (40,) teacher", 10, (40,), 800, "teacher", 2),
             ("tanh m=1000 (24,24) teacher", 10, (24, 24), 1000, "teacher", 3)]
    if args.quick:
        cases = cases[:2]
    rows = []
    with threadpool_limits(limits=1):
        # warm-up: torch.func's first call imports ~850 modules (seconds); pay it outside the timings
        for net in impls.values():
            obj, th = smooth_case(net, 3, (4,), 20, "teacher", 0)
            net.certify(obj, net.minimize(obj, th, max_iter=5).theta)
            torch.func.hessian(obj.fun)(th)
        for k, (name, d, widths, m, target, seed) in enumerate(cases):
            order = list(impls) + ([] if args.no_scipy else ["scipy"])
            order = order[k % len(order):] + order[: k % len(order)]
            res = {}
            for meth in order:
                net = impls.get(meth, networks)
                obj, th0 = smooth_case(net, d, widths, m, target, seed)
                res[meth] = run_smooth(net, obj, th0, args.budget) if meth != "scipy" else run_scipy(networks, obj, th0, args.budget)
                r = res[meth]
                print(f"{name:<30} P={obj.n_params:<5} {meth:<5} {'C' if r['certified'] else '-'} train {r['train_s']:7.2f}s "
                      f"cert {r['cert_s']:6.2f}s total {r['total_s']:7.2f}s  {r['verdict']:<18} L={r['loss']:.6g} its={r['its']}", flush=True)
            rows.append((name, res))
        fm = {}
        starts = 4 if args.quick else 8
        for k, meth in enumerate(list(impls)[::-1] if len(impls) > 1 else list(impls)):
            fm[meth] = run_find_minimum(impls[meth], 0, starts)
            r = fm[meth]
            print(f"{'find_minimum leaky m=40 (6,)':<30} P=31    {meth:<5} {r['certified']}/{r['starts']} certified, "
                  f"total {r['total_s']:7.2f}s  [{r['verdicts']}]", flush=True)
    print()
    print(f"{'case':<30} {'s/cert new':>10} {'s/cert old':>10} {'old/new':>8} {'s/cert scipy':>12} {'scipy/new':>9}")

    def per_cert(r):
        return r["total_s"] / r["certified"] if r and r["certified"] else float("inf")

    for name, res in rows:
        new, old, sp = per_cert(res["new"]), per_cert(res.get("old")), per_cert(res.get("scipy"))
        print(f"{name:<30} {new:10.2f} {old if 'old' in res else float('nan'):10.2f} {old / new if 'old' in res else float('nan'):8.2f} "
              f"{sp if 'scipy' in res else float('nan'):12.2f} {sp / new if 'scipy' in res else float('nan'):9.2f}")
    new = per_cert(fm["new"])
    old = per_cert(fm.get("old"))
    print(f"{'find_minimum leaky m=40':<30} {new:10.2f} {old:10.2f} {old / new if 'old' in fm else float('nan'):8.2f}")
    print("(s/cert: total seconds / certified minima; inf: none certified within the budget; ratios > 1: new is faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
