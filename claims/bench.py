"""draft"""
from __future__ import annotations

import math
import time

import numpy as np
import scipy.optimize as so
import torch

import networks
from networks.train import default_grad_tol

REL_GRAD_TOL = 1e-9


class _Stop(Exception):
    pass


class _Tracker:
    """Wraps an objective for an external optimizer: stops it when a point meets the gradient tolerance
    (the same rule as networks.minimize: ||grad|| <= 1e-9 (1 + L)) or when the deadline passes."""

    def __init__(self, obj, deadline):
        self.obj, self.deadline = obj, deadline
        self.best_theta, self.best_loss = None, math.inf
        self.hit = None
        self.nfev = 0

    def fun_and_grad(self, x):
        if time.perf_counter() > self.deadline:
            raise _Stop("time")
        t = torch.as_tensor(x, dtype=torch.float64)
        v, g = self.obj.value_and_grad(t)
        v = float(v)
        self.nfev += 1
        if math.isfinite(v) and v < self.best_loss:
            self.best_loss, self.best_theta = v, t.clone()
        if math.isfinite(v) and float(g.norm()) <= default_grad_tol(v, REL_GRAD_TOL):
            self.hit = t.clone()
            raise _Stop("converged")
        return v, g.numpy().copy()

    def hessp(self, x, p):
        if time.perf_counter() > self.deadline:
            raise _Stop("time")
        return self.obj.hvp(torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(p, dtype=torch.float64)).numpy().copy()

    def result(self, theta_last):
        return self.hit if self.hit is not None else (self.best_theta if self.best_theta is not None else theta_last)


def run_scipy(obj, theta0, budget):
    t0 = time.perf_counter()
    tr = _Tracker(obj, t0 + budget)
    x = theta0.numpy().copy()
    stage = "lbfgsb"
    try:
        r = so.minimize(tr.fun_and_grad, x, jac=True, method="L-BFGS-B",
                        options=dict(maxiter=10**7, maxfun=10**7, maxcor=20, ftol=1e-15, gtol=1e-14))
        x = tr.best_theta.numpy().copy()
        stage = "trust-krylov"
        f = lambda z: tr.fun_and_grad(z)
        r = so.minimize(f, x, jac=True, hessp=tr.hessp, method="trust-krylov",
                        options=dict(maxiter=10**6, gtol=1e-300))
        stage = "done:" + str(r.message)
    except _Stop as e:
        stage = f"{stage}:{e}"
    return tr.result(torch.as_tensor(x)), time.perf_counter() - t0, stage, tr.nfev


def run_adam(obj, theta0, budget, lr=1e-2):
    t0 = time.perf_counter()
    deadline = t0 + budget
    p = theta0.clone().requires_grad_(True)
    opt = torch.optim.Adam([p], lr=lr)
    it = 0
    status = "time"
    best = (math.inf, theta0.clone())
    while time.perf_counter() < deadline:
        opt.zero_grad(set_to_none=True)
        L = obj.fun(p)
        L.backward()
        v = float(L)
        if not math.isfinite(v):
            status = "nonfinite"
            break
        if v < best[0]:
            best = (v, p.detach().clone())
        if float(p.grad.norm()) <= default_grad_tol(v, REL_GRAD_TOL):
            status = "converged"
            best = (v, p.detach().clone())
            break
        opt.step()
        it += 1
    return best[1], time.perf_counter() - t0, status, it
