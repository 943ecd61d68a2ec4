"""Ball-arithmetic proofs in the report (networks.verify): the sweep's strict minima and the pinned counterexamples.

- Sweep runs: every certified run whose strength is strict-mod-symmetry and whose net has at most
  VERIFY_MAX_PARAMS parameters is handed to `networks.verify.verify_point` (the cost grows like P^3: ~1.4 s at
  P = 195 on one core); the run's `verified` field holds the result (ok, radius, loss enclosure, method, reason).
- Pinned counterexamples that are strict minima: the Safran-Shamir spurious minima (claim6's control; k = d = 8,
  the pinned seeds) and claim9a's binding-rank control (v = (+1, -1): strict modulo the O(1,1) boosts, verified on
  a slice). Each enclosure is compared with the global value (0 for Safran-Shamir) or the convex value (claim9a's
  symmetric least squares, enclosed rigorously): "proven >" means the counterexample is PROVEN to be a local minimum
  worse than the global one.
"""
from __future__ import annotations

import math

VERIFY_MAX_PARAMS = 200


def _plain(v) -> dict:
    fields = ("ok", "radius", "loss_lo", "loss_hi", "method", "seconds", "reason", "n_params")
    out = {f: getattr(v, f) for f in fields}
    for f in ("radius", "loss_lo", "loss_hi", "seconds"):
        if out[f] is not None:
            out[f] = float(out[f]) if math.isfinite(float(out[f])) else None
    return out


def verify_run(model, X, Y, theta, cert) -> dict | None:
    """The verification of a sweep run, or None when not attempted (not strict-mod-symmetry, or too large)."""
    if not cert.certified or cert.strength != "strict-mod-symmetry" or model.n_params > VERIFY_MAX_PARAMS:
        return None
    from networks.verify import verify_point

    try:
        return _plain(verify_point(model, X, Y, theta))
    except ValueError as exc:  # a model the verifier does not take: recorded, never a pass
        return dict(ok=False, radius=None, loss_lo=None, loss_hi=None, method="-", seconds=0.0,
                    reason=f"not verifiable: {exc}", n_params=model.n_params)


def _squared_loss_problem(instance):
    """(model, X, Y) of a claim instance whose objective is 1/2 ||model(X) - Y||^2, read from the attribute names the
    claim modules use (model / net / net.model, X / linear.X, y / Y); None when the instance has none."""
    import numpy as np

    def first(obj, *names):
        for n in names:
            v = getattr(obj, n, None)
            if v is not None:
                return v
        return None

    holder = first(instance, "linear") or instance
    model = first(instance, "model", "net")
    model = getattr(model, "model", model)
    X, Y = first(holder, "X"), first(holder, "Y", "y")
    if model is None or X is None or Y is None or not hasattr(model, "n_params"):
        return None
    Y = np.asarray(Y, dtype=np.float64)
    return model, np.asarray(X, dtype=np.float64), (Y[:, None] if Y.ndim == 1 else Y)


def verify_record(record, captured) -> dict | None:
    """Prove a claim's certified strict minimum (strength strict-mod-symmetry, P <= VERIFY_MAX_PARAMS) at the point
    its check judged. The ball model is the squared loss of the instance's net; the certified loss must equal it
    (verify_point's objective check), so a claim with another objective (regularized, cross-entropy, an extra
    neuron) is refused as "not verifiable", never proven for the wrong function. None: not attempted."""
    extra = record.extra or {}
    if record.kind != "positive" or not record.certified or extra.get("strength") != "strict-mod-symmetry":
        return None
    if captured is None:
        return dict(ok=False, radius=None, loss_lo=None, loss_hi=None, method="-", seconds=0.0, n_params=None,
                    reason="not verifiable: the check's instance and point were not captured")
    instance, theta = captured
    problem = _squared_loss_problem(instance)
    loss = extra.get("loss", extra.get("L"))  # claim modules record the certified loss as "loss" or "L"
    if problem is None or loss is None:
        return dict(ok=False, radius=None, loss_lo=None, loss_hi=None, method="-", seconds=0.0, n_params=None,
                    reason="not verifiable: the instance is not a squared-loss net (no model/X/Y) or records no loss")
    model, X, Y = problem
    if model.n_params > VERIFY_MAX_PARAMS:
        return None
    from networks.verify import verify_point

    try:
        return _plain(verify_point(model, X, Y, theta, check_objective=lambda th: float(loss)))
    except ValueError as exc:
        return dict(ok=False, radius=None, loss_lo=None, loss_hi=None, method="-", seconds=0.0,
                    n_params=model.n_params, reason=f"not verifiable: {exc}")


def safran_shamir(seeds=None) -> list[dict]:
    """Prove the pinned Safran-Shamir spurious minima strict, and worse than the global value 0."""
    from claims import counterexamples as ce
    from networks.verify import SafranShamir, compare, verify_point

    rows = []
    for seed in ce.SS_SPURIOUS_SEEDS_K8 if seeds is None else seeds:
        run = ce.ss_run(seed)
        v = verify_point(SafranShamir(ce.SS_K, ce.SS_K), None, None, run.theta)
        rows.append(dict(case=f"Safran-Shamir k=8 seed {seed}", outcome=run.outcome, **_plain(v),
                         versus="global value 0", comparison=compare(v, (0.0, 0.0)) if v.ok else "not separated"))
    return rows


def symmetric_ls_upper_bound(X, y):
    """An arb ball containing g(M_hat) = 1/2 sum_i (x_i^T M_hat x_i - y_i)^2 for the float least-squares solution
    M_hat over symmetric M, evaluated in ball arithmetic on the exact data: g(M_hat) >= min_M g(M), so its upper end
    is a rigorous upper bound on the convex value (no rounding of the features x_i x_j enters)."""
    import flint
    import numpy as np

    d = X.shape[1]
    iu = [(i, j) for i in range(d) for j in range(i, d)]
    feats = np.array([[X[r, i] * X[r, j] * (1.0 if i == j else 2.0) for i, j in iu] for r in range(X.shape[0])])
    beta = np.linalg.lstsq(feats, y, rcond=None)[0]
    M = np.zeros((d, d))
    for (i, j), b in zip(iu, beta):
        M[i, j] = M[j, i] = b
    total = flint.arb(0)
    for r in range(X.shape[0]):
        x = [flint.arb(float(v)) for v in X[r]]
        f = sum((flint.arb(float(M[i, j])) * x[i] * x[j] for i in range(d) for j in range(d)), flint.arb(0))
        total += (f - flint.arb(float(y[r]))) ** 2
    return total / 2


def quadratic_rank_bound(seed: int = 0) -> dict:
    """claim9a's binding-rank control: the certified minimum of v = (+1, -1), proven strict on the O(1,1) slice and
    compared with an upper bound on the symmetric least-squares value (the convex relaxation)."""
    from dataclasses import replace

    from claims.claim9_overparam import quadratic as q
    from networks.verify import compare, verify_point

    inst = q.build(replace(q.RANK_BOUND, seed=seed))
    v = verify_point(inst.net, inst.X, inst.y[:, None], inst.theta)
    upper = symmetric_ls_upper_bound(inst.X, inst.y)
    return dict(case=f"claim9a v=(+1,-1) seed {seed}", outcome="certified", **_plain(v),
                versus="min over symmetric M (ball upper bound)", comparison=compare(v, upper) if v.ok else "not separated")


def pinned(seeds=None) -> list[dict]:
    return safran_shamir(seeds) + [quadratic_rank_bound()]
