"""The depth x width sweep behind claim5 and `minimacheck report`.

Design (CLAIMS.md, claim5 protocol): for each data set, activation, depth H and width w, train the net
d_x -> (w,)*H -> d_y from seed s with networks.find_minimum (up to `attempts` starts, stopped at the first certified
one; start i is drawn from (seed, i) only, never from the cell, so data and starts are shared across cells: seed s
is one block of a blocked design). Piecewise-linear nets get the kink certificates (networks.kinks; `kinks`,
`kink_rounds`, `polish_iter`, `pl_train_iter`), which the claims about differentiable minima never use.

Evidence per run (`evidence` field):
- 'C-min dense [...]' / 'C-min lanczos (probabilistic) [...]': certify's CERTIFIED_MINIMUM (dense Hessian spectrum
  when P <= networks.certify.DENSE_LIMIT, else Lanczos), with its strength; probe-strength certificates that
  networks.multistart.plateau_check refutes (a plateau on the way to a minimum at infinity) are withdrawn;
- 'C-min on a kink [kink-ysj, ...]' / '[kink-pieces (k=..), ...]': a local minimum on activation kinks;
- 'zero loss on a kink': a piecewise-linear net on a kink whose loss is below the certifier's probe tolerance. The
  loss is >= 0 everywhere, so such a point is a global minimum although it is not differentiable;
- otherwise the run is uncertified and its verdict (SADDLE, NOT_CONVERGED, NON_DIFFERENTIABLE) is reported and
  counted, and the run is left out of every statistic. `escapes` counts the starts stopped as minima at infinity.

At each certified differentiable point the claim1 quantity 1/2 ||P_N[Dbar] y||^2 (Dbar the output Jacobian, P_N the projector on
the complement of its column space) is computed and compared with L: Lemma P (CLAIMS.md section 0) gives
-tau_fp <= L - 1/2||P_N y||^2 <= 1/2 (||grad L|| / sigma_min^+(Dbar))^2 + tau_fp. This is the sweep's built-in
consistency check.

Work fans out across cores through joblib (n_jobs); each worker uses one torch thread, so results do not depend on
the number of jobs.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from minimacheck import tolerance


@dataclass(frozen=True)
class SweepConfig:
    depths: tuple[int, ...] = (1, 2, 3)
    widths: tuple[int, ...] = (1, 2, 4, 8)
    activations: tuple[str, ...] = ("leaky_relu", "tanh")
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    attempts: int = 2  # starting points per (cell, seed) before the run counts as uncertified
    max_iter: int = 200  # the binding limit: iteration counts do not depend on machine load, so runs reproduce
    time_budget: float = 60.0  # seconds per attempt: a safety net only (if it binds, results depend on load)
    kinks: bool = True  # certify piecewise-linear nets' minima on kinks (networks.kinks; opt-in for the claims)
    kink_rounds: int = 2  # polish/certify rounds at kinks per start (networks.find_minimum)
    polish_iter: int = 30  # iterations of each polish along the kinks
    pl_train_iter: int | None = None  # PL nets: real-net iterations after the smoothing homotopy (None: find_minimum's)
    bias: bool = True  # networks have biases (the deep-linear control turns them off)
    device: str = "auto"  # 'auto': CUDA when available, else the CPU
    verify: bool = False  # prove strict minima (P <= minimacheck.proofs.VERIFY_MAX_PARAMS) in ball arithmetic

    def __post_init__(self):
        for name in ("depths", "widths", "seeds"):
            vals = getattr(self, name)
            if not vals:
                raise ValueError(f"sweep: {name} is empty")
        if any(int(d) != d or d < 1 for d in self.depths):
            raise ValueError(f"sweep: depths must be positive integers, got {self.depths}")
        if any(int(w) != w or w < 1 for w in self.widths):
            raise ValueError(f"sweep: widths must be positive integers, got {self.widths}")
        if self.attempts < 1:
            raise ValueError(f"sweep: attempts must be >= 1, got {self.attempts}")


def n_params(d_x: int, d_y: int, depth: int, width: int, bias: bool = True) -> int:
    dims = [d_x] + [width] * depth + [d_y]
    return sum((dims[i] + int(bias)) * dims[i + 1] for i in range(len(dims) - 1))


def threshold_reached(d_x: int, d_y: int, m: int, depth: int, width: int, bias: bool = True) -> bool:
    """claim1d: full rank of Dbar (m d_y) needs at least m d_y columns, i.e. P = sum (d_{l-1} + bias) d_l >= m d_y."""
    return n_params(d_x, d_y, depth, width, bias) >= m * d_y


def projection_value(J: np.ndarray, y: np.ndarray) -> tuple[float, int, float, float]:
    """(1/2 ||P_N[J] y||^2, rank, sigma_min^+, rank gap) with the handbook's numerical rank."""
    from claims.projections import basis

    b = basis(J)
    resid = b.project_out(np.asarray(y, dtype=np.float64))
    return 0.5 * float(resid @ resid), b.rank, b.sigma_min_plus, b.gap


def _evidence(cert) -> str | None:
    """The kind of evidence a certificate gives (None: uncertified)."""
    if not cert.certified:
        return None
    if cert.strength == "zero-loss" and not cert.differentiable:
        return "zero loss on a kink"
    if cert.strength and cert.strength.startswith("kink-"):
        return f"C-min on a kink [{cert.strength}]"
    kind = "dense" if cert.hessian_method == "dense eigvalsh" else "lanczos (probabilistic)"
    return f"C-min {kind} [{cert.strength}]"


def run_one(X: np.ndarray, Y: np.ndarray, dataset: str, activation: str, depth: int, width: int, seed: int,
            cfg: SweepConfig) -> dict:
    """Train and certify one (cell, seed) with networks.find_minimum; returns a flat dict of numbers (JSON-ready)."""
    import torch

    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    from networks import MLP, squared_loss
    from networks.multistart import PL_TRAIN_ITER, find_minimum, mlp_init

    m, d_x = X.shape
    d_y = Y.shape[1]
    zero = 0.5 * float((Y**2).sum())
    model = MLP(d_x, (int(width),) * int(depth), d_y, activation=activation, bias=cfg.bias)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if cfg.device == "auto" else cfg.device
    obj = squared_loss(model, X, Y, device=device)
    t0 = time.perf_counter()
    # start i of block `seed` is mlp_init(model)(default_rng([seed, i])) in every cell; kink certificates (opt-in)
    # certify the piecewise-linear nets' minima, which sit on kinks when P < m; a zero loss on a kink is a global minimum
    found = find_minimum(obj, mlp_init(model), starts=cfg.attempts, seed=int(seed), max_iter=cfg.max_iter,
                         pl_train_iter=PL_TRAIN_ITER if cfg.pl_train_iter is None else cfg.pl_train_iter,
                         allow_kinks=cfg.kinks, kink_rounds=cfg.kink_rounds, polish_iter=cfg.polish_iter, until_certified=1,
                         time_budget=cfg.time_budget * cfg.attempts, certify_kwargs=dict(accept_kink_zero_loss=True))
    start = found.best or min(found.starts, key=lambda r: (not math.isfinite(r.train.loss), r.train.loss))
    res, cert = start.train, start.certificate
    evidence = _evidence(cert)
    row = dict(
        dataset=dataset, activation=activation, depth=int(depth), width=int(width), seed=int(seed),
        attempts=len(found.starts), n_params=model.n_params, m=int(m), d_x=int(d_x), d_y=int(d_y),
        threshold_reached=bool(model.n_params >= m * d_y), verdict=cert.verdict.name, certified=evidence is not None,
        evidence=evidence or "", reason=cert.reason if evidence is None else "", loss=float(res.loss),
        l=float(res.loss) / zero, grad_norm=float(cert.grad_norm), lambda_min=cert.lambda_min, margin=cert.margin,
        iterations=int(res.iterations), train_reason=res.reason, escapes=len(found.escapes),
        differentiable=bool(cert.differentiable),
        claim1_l=None, claim1_gap=None, claim1_tol=None, claim1_passed=None, jac_rank=None, rank_frac=None,
        rank_gap=None, verified=None,
    )
    if evidence is not None and cert.differentiable:  # Lemma P needs a gradient: not at kinks
        theta = res.theta
        J = model.output_jacobian(theta, torch.as_tensor(X).to(theta.device)).cpu().numpy()
        y = Y.T.reshape(-1)  # vec: columns stacked, the row order of output_jacobian
        c1, r, smin, gap = projection_value(J, y)
        L = float(obj.value(theta))
        # Lemma P: -tau_fp <= L - c1 <= slack + tau_fp, slack = 1/2 (||grad|| / sigma_min^+)^2 (minimacheck.tolerance)
        slack = tolerance.lemma_p_slack(float(cert.grad_norm), smin) if r else math.inf
        tau = tolerance.tau_fp(L)
        excess = max(L - c1 - slack, c1 - L)  # <= 0 inside the bracket
        row.update(claim1_l=c1 / zero, claim1_gap=excess, claim1_tol=tau, claim1_passed=bool(excess <= tau),
                   claim1_slack=slack, jac_rank=int(r), rank_frac=r / (m * d_y), rank_gap=gap)
    if cfg.verify and evidence is not None:
        from minimacheck.proofs import verify_run

        row["verified"] = verify_run(model, X, Y, res.theta, cert)
    row["seconds"] = time.perf_counter() - t0
    return row


@dataclass
class SweepResult:
    dataset: str
    description: str
    m: int
    d_x: int
    d_y: int
    zero_loss: float
    l_ols: float | None
    l_constant: float
    config: dict
    runs: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def certified(self, activation: str | None = None) -> list[dict]:
        return [r for r in self.runs if r["certified"] and (activation is None or r["activation"] == activation)]

    def yield_table(self) -> dict:
        """{activation: {(depth, width): (certified, total)}}."""
        out: dict = {}
        for r in self.runs:
            cell = out.setdefault(r["activation"], {}).setdefault((r["depth"], r["width"]), [0, 0])
            cell[0] += bool(r["certified"])
            cell[1] += 1
        return out

    def to_dict(self) -> dict:
        return asdict(self)


def ols_loss(X: np.ndarray, Y: np.ndarray, intercept: bool = True) -> float:
    """min_R 1/2 ||[X 1] R - Y||^2 from the baselines package (closed form, cvxpy cross-checked)."""
    from baselines.least_squares import ols

    return float(ols(X, Y, intercept=intercept).value)


def tasks_for(dataset, cfg: SweepConfig) -> list[tuple]:
    return [(dataset.X, dataset.Y, dataset.name, a, d, w, s, cfg)
            for a in cfg.activations for d in cfg.depths for w in cfg.widths for s in cfg.seeds]


def run_sweep(datasets, cfg: SweepConfig, *, n_jobs: int = 1, progress: bool = True, desc: str = "sweep",
              shard: tuple[int, int] | None = None) -> list[SweepResult]:
    """Run the grid for each data set; one joblib task per (data set, activation, depth, width, seed).
    shard=(i, n): only task k with k mod n == i (minimacheck.shard); the n shards together are the whole grid."""
    from joblib import Parallel, delayed

    tasks = [t for ds in datasets for t in tasks_for(ds, cfg)]
    tasks = [t for k, t in enumerate(tasks) if shard is None or k % shard[1] == shard[0]]
    # largest nets first (longest-processing-time order): the last tasks are short, so no core idles at the end;
    # each run depends only on its own task, so the order changes no result
    tasks.sort(key=lambda t: -n_params(t[0].shape[1], t[1].shape[1], t[4], t[5], cfg.bias) * t[1].shape[1])
    par = Parallel(n_jobs=n_jobs, return_as="generator", batch_size=1)
    gen = par(delayed(run_one)(*t) for t in tasks)
    rows = []
    if progress:
        from tqdm import tqdm

        gen = tqdm(gen, total=len(tasks), desc=desc, unit="net", dynamic_ncols=True)
    for row in gen:
        rows.append(row)
    results = []
    for ds in datasets:
        mine = [r for r in rows if r["dataset"] == ds.name]
        try:
            l_ols = ols_loss(ds.X, ds.Y) / ds.zero_loss
        except ImportError:  # baselines not installed: report it, never make a number up
            l_ols = None
        Yc = ds.Y - ds.Y.mean(axis=0)
        results.append(SweepResult(
            dataset=ds.name, description=ds.description, m=ds.m, d_x=ds.d_x, d_y=ds.d_y, zero_loss=ds.zero_loss,
            l_ols=l_ols, l_constant=0.5 * float((Yc**2).sum()) / ds.zero_loss,
            config=asdict(cfg), runs=mine, seconds=sum(r["seconds"] for r in mine),
        ))
    return results


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)
