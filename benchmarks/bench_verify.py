"""Timings of networks.verify on teacher-student tanh MLPs (d_in 20, width w, d_out 3; P = 24 w + 3; m = 100
samples, so the 300 residuals outnumber the parameters), and on the Safran-Shamir k = d = 8 spurious minimum (P = 64).

Run: OMP_NUM_THREADS=1 python benchmarks/bench_verify.py [--widths 1 2 4 8]
Cost model: Hessian enclosure O(m * w * P^2) (per-sample Gram products of pre-activation tangents), Krawczyk and
congruence products O(P^3); the ratio column divides by the previous row, to compare with (P ratio)^3.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from networks import MLP, certify, minimize, squared_loss
from networks import verify as V


def tanh_case(width: int, seed: int = 0, m: int = 100):
    rng = np.random.default_rng(seed)
    model = MLP(20, (width,), 3, activation="tanh")
    X = rng.standard_normal((m, 20)) * (2 / np.sqrt(20))
    teacher = torch.as_tensor(rng.standard_normal(model.n_params) / 2)
    Y = model.forward(teacher, torch.as_tensor(X)).numpy() + 0.01 * rng.standard_normal((m, 3))
    obj = squared_loss(model, X, Y)
    theta = minimize(obj, teacher, max_iter=300).theta
    return model, X, Y, obj, theta


def main(widths) -> None:
    torch.set_num_threads(1)
    print(f"{'case':<28}{'P':>5}{'m':>5}{'cert':>30}{'verify s':>10}{'ratio':>8}{'P^3 ratio':>10}  result")
    prev = None
    for w in widths:
        model, X, Y, obj, theta = tanh_case(w)
        cert = certify(obj, theta)
        t = time.perf_counter()
        v = V.verify_point(model, X, Y, theta)
        dt = time.perf_counter() - t
        P = model.n_params
        ratio = f"{dt / prev[1]:.1f}" if prev else "-"
        p3 = f"{(P / prev[0]) ** 3:.1f}" if prev else "-"
        res = f"ok r={v.radius:.1e} L in [{v.loss_lo:.12g}, {v.loss_hi:.12g}]" if v.ok else v.reason
        print(f"{'tanh MLP 20-' + str(w) + '-3':<28}{P:>5}{X.shape[0]:>5}"
              f"{cert.verdict.value[:18] + ' ' + str(cert.strength)[:11]:>30}{dt:>10.2f}{ratio:>8}{p3:>10}  {res}")
        prev = (P, dt)
    from claims.counterexamples import ss_objective, ss_run

    run = ss_run(9)
    t = time.perf_counter()
    v = V.verify_certificate(ss_objective(8, 8), None, None, run.theta)
    print(f"{'Safran-Shamir k=d=8 seed 9':<28}{64:>5}{'-':>5}{run.outcome:>30}{time.perf_counter() - t:>10.2f}{'-':>8}{'-':>10}  "
          f"{'ok' if v.ok else v.reason} L in [{v.loss_lo!r}, {v.loss_hi!r}] lambda_min >= {v.lambda_min_lo:.4g}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--widths", type=int, nargs="+", default=[1, 2, 4, 8])
    main(ap.parse_args().widths)
