"""claim5 — Empirical trend: the loss at certified local minima falls with depth and with width.

Statement (CLAIMS.md, claim5; the project's protocol, not a reproduction of the paper's): local-minimum values
"tend to" approach the global value as depth and width grow. Measured as l = L / (1/2 ||Y||^2) at CERTIFIED local
minima of the squared loss, over a depth x width grid (minimacheck.sweep), leaky ReLU (0.1) and tanh, data and seeds
shared across cells (blocked design).

Statistic (one obvious place: `trend_test`): a blocked Kendall trend statistic with a within-block permutation
p-value (scipy.stats.permutation_test, 10^4 resamples, fixed random_state). Blocks are (activation, seed, level of the
other axis); the alternative is that l DEcreases with the level. Uncertified runs are counted and reported, never
imputed: the statistic uses only the order of the certified levels inside a block, so missing cells leave the
within-block permutation null exact (conditional on which cells certified). Page's L (scipy.stats.page_trend_test)
on the complete blocks is reported beside it (it needs every level certified in a block). Values of l closer than RESOLUTION are ties: certified
points are exact to claim1's tolerance (tau_fp = 1e-10 (1 + L) plus the Lemma P slack, ~1e-18 at these gradients)
so 1e-8 is far above the numerical noise and far below any real difference between cells.

Assertion: p < ALPHA = 0.01 on each axis for a fixed, derandomized seed set on the default synthetic sweep.
Built-in consistency check (one record per run): at every certified point l equals claim1's value
1/2 ||P_N[Dbar] y||^2 / (1/2 ||Y||^2) within Lemma P's bracket (minimacheck.sweep.run_one).

Negative controls:
- permuted cell labels: the same statistic on labels permuted within each block must NOT fire;
- reversed alternative: the same data must NOT pass when the predicted order is reversed;
- deep LINEAR nets at a fixed bottleneck (claim6: every local minimum is global with the reduced-rank value), so a
  depth sweep must show no trend.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.stats

from minimacheck import datasets, sweep
from minimacheck.ledger import Record
from minimacheck.legacy import Claim, RunConfig

ALPHA = 0.01
RESOLUTION = 1e-8
MIN_BLOCKS = 2  # blocks with >= 2 certified levels needed for a test

# the default synthetic sweep (the data set and grid the assertion is made on)
SYNTHETIC = dict(m=60, d_x=4, d_y=1, seed=0)
DEFAULT_GRID = sweep.SweepConfig(depths=(1, 2, 3), widths=(2, 4, 8), activations=("leaky_relu", "tanh"),
                                 seeds=(0, 1, 2, 3, 4, 5), attempts=2, max_iter=200)
# deep linear control: d_y = 2 > bottleneck 1, no biases (claim6's setting); depths 1..4 at width 1
LINEAR_DATA = dict(m=30, d_x=4, d_y=2, seed=1)
LINEAR_GRID = sweep.SweepConfig(depths=(1, 2, 3, 4), widths=(1,), activations=("linear",), seeds=(0, 1, 2, 3),
                                attempts=2, bias=False)


# ---------------------------------------------------------------- the statistic
def trend_table(runs: list[dict], axis: str, activation: str | None = None):
    """(matrix blocks x levels of l with NaN for uncertified runs, levels, block keys). A block is
    (activation, seed, level of the other axis); blocks with fewer than two certified levels carry no information
    on a trend and are left out."""
    if axis not in ("depth", "width"):
        raise ValueError(f"axis must be 'depth' or 'width', got {axis!r}")
    other = "width" if axis == "depth" else "depth"
    runs = [r for r in runs if activation is None or r["activation"] == activation]
    levels = sorted({r[axis] for r in runs})
    col = {lv: j for j, lv in enumerate(levels)}
    cells: dict = {}
    for r in runs:
        row = cells.setdefault((r["activation"], r["seed"], r[other]), np.full(len(levels), np.nan))
        if r["certified"]:
            row[col[r[axis]]] = r["l"]
    keys = [k for k in sorted(cells) if np.isfinite(cells[k]).sum() >= 2]
    table = np.array([cells[k] for k in keys], dtype=np.float64).reshape(len(keys), len(levels))
    return table, levels, keys


def concordance(*columns, axis=-1):
    """Blocked Kendall statistic: sum over blocks and level pairs i < j (both certified) of sign(l_i - l_j), i.e.
    +1 when l is lower at the larger size. Only the ORDER of the certified levels in a block enters, so the
    within-block permutation null is the same whatever levels are missing (an exact conditional test)."""
    A = np.stack(columns, axis=0)
    s = 0.0
    for i in range(A.shape[0]):
        for j in range(i + 1, A.shape[0]):
            s = s + np.nan_to_num(np.sign(A[i] - A[j]), nan=0.0).sum(axis=axis)
    return s


def p_floor(q: np.ndarray) -> float:
    """The smallest p-value the data allow: the chance that a within-block permutation puts every block in its
    best order, prod_b (prod_v mult_v!) / c_b! over the c_b certified values of block b with multiplicities mult_v
    (tied values, e.g. cells all at zero loss, cannot show a trend)."""
    logp = 0.0
    for row in q:
        vals = row[np.isfinite(row)]
        _, mult = np.unique(vals, return_counts=True)
        logp += sum(math.lgamma(k + 1) for k in mult) - math.lgamma(len(vals) + 1)
    return float(math.exp(logp))


def trend_test(runs: list[dict], axis: str, *, activation: str | None = None, direction: str = "decreasing",
               permute_seed: int | None = None, n_resamples: int = 9999) -> dict:
    """Within-block permutation test (scipy.stats.permutation_test, permutation_type='samples': the levels of each
    block are permuted) of the blocked Kendall statistic; alternative: l decreases (or increases) with `axis`.
    Page's L (scipy.stats.page_trend_test) on the complete blocks is reported beside it.
    permute_seed: shuffle each block's level labels first (the label-shuffle negative control)."""
    if direction not in ("decreasing", "increasing"):
        raise ValueError(f"direction must be 'decreasing' or 'increasing', got {direction!r}")
    table, levels, keys = trend_table(runs, axis, activation)
    q = np.round(table / RESOLUTION)  # ties below the resolution of a certified l
    if permute_seed is not None and q.size:
        rng = np.random.default_rng(permute_seed)
        q = np.array([rng.permutation(row) for row in q])
    complete = q[np.isfinite(q).all(axis=1)]
    out = dict(axis=axis, direction=direction, levels=levels, n_blocks=int(q.shape[0]),
               n_certified=int(np.isfinite(q).sum()), statistic=None, pvalue=None, applicable=False,
               page_L=None, page_p=None, page_blocks=int(complete.shape[0]),
               median_l={str(lv): (float(np.nanmedian(table[:, j])) if np.isfinite(table[:, j]).any() else None)
                         for j, lv in enumerate(levels)})
    out["p_floor"] = p_floor(q)
    if q.shape[0] >= MIN_BLOCKS and len(levels) >= 2:
        res = scipy.stats.permutation_test(
            tuple(q.T), concordance, permutation_type="samples", vectorized=True, n_resamples=n_resamples,
            alternative="greater" if direction == "decreasing" else "less", random_state=12345)
        out.update(statistic=float(res.statistic), pvalue=float(res.pvalue), applicable=True)
    if complete.shape[0] >= 2 and len(levels) >= 3:
        pred = np.arange(len(levels), 0, -1) if direction == "decreasing" else np.arange(1, len(levels) + 1)
        pg = scipy.stats.page_trend_test(complete, predicted_ranks=pred)
        out.update(page_L=float(pg.statistic), page_p=float(pg.pvalue))
    return out


def permutation_rejection_rate(runs, axis, n_perm: int = 50, alpha: float = 0.05, seed: int = 0) -> float:
    """Fraction of within-block label shuffles on which the test rejects at alpha (should be about alpha or less)."""
    ps = [trend_test(runs, axis, permute_seed=seed * 100003 + i, n_resamples=999)["pvalue"] for i in range(n_perm)]
    ps = [p for p in ps if p is not None]
    return float(np.mean([p < alpha for p in ps])) if ps else float("nan")


# ---------------------------------------------------------------- records
def _trend_record(name: str, t: dict, kind: str = "positive") -> Record:
    p = t["pvalue"]
    extra = dict(t)
    if kind == "positive":
        if t["applicable"] and t["p_floor"] >= ALPHA:
            return Record("claim5", name, certified=False, passed=None, extra=extra,
                          reason=f"underpowered: even a perfect ordering of the {t['n_certified']} certified runs in "
                                 f"{t['n_blocks']} blocks gives p >= {t['p_floor']:.3g} >= {ALPHA}")
        if not t["applicable"]:
            return Record("claim5", name, certified=False, passed=None, extra=extra,
                          reason=f"not testable: {t['n_blocks']} blocks with >= 2 certified levels over {t['levels']}; "
                                 f"need >= {MIN_BLOCKS}")
        return Record("claim5", name, certified=True, passed=bool(p < ALPHA), gap=p, tol=ALPHA, extra=extra,
                      reason=f"blocked Kendall S={t['statistic']:.0f}, permutation p={p:.3g} over {t['n_blocks']} blocks "
                             f"({t['n_certified']} certified runs); median l by {t['axis']}: "
                             + ", ".join(f"{k}:{v:.3g}" for k, v in t["median_l"].items() if v is not None))
    # a control "detects" when the statistic correctly does NOT fire
    if not t["applicable"]:
        return Record("claim5", name, kind=kind, detected=False, extra=extra,
                      reason=f"control not testable: {t['n_blocks']} complete blocks")
    return Record("claim5", name, kind=kind, detected=bool(p >= ALPHA), gap=p, tol=ALPHA, extra=extra,
                  reason=f"p={p:.3g} (must be >= {ALPHA}: the statistic must not fire)")


def run_records(result: "sweep.SweepResult") -> list[Record]:
    """One consistency record per run (claim1's value equals l at certified points) and one trend record per axis."""
    recs = []
    for r in result.runs:
        cell = f"{r['activation']} H={r['depth']} w={r['width']} seed={r['seed']}"
        if r["certified"]:
            recs.append(Record("claim5", f"loss-equals-projection[{result.dataset}]", certified=True,
                               passed=bool(r["claim1_passed"]), gap=r["claim1_gap"], tol=r["claim1_tol"],
                               reason=f"{cell}: {r['evidence']}", extra=dict(l=r["l"], claim1_l=r["claim1_l"])))
        else:
            recs.append(Record("claim5", f"loss-equals-projection[{result.dataset}]", certified=False,
                               reason=f"{cell}: {r['verdict']}: {r['reason']}", extra=dict(l=r["l"])))
    for axis in ("depth", "width"):
        recs.append(_trend_record(f"trend-{axis}[{result.dataset}]", trend_test(result.runs, axis)))
    return recs


def control_records(result: "sweep.SweepResult", linear: "sweep.SweepResult | None", seed: int = 0) -> list[Record]:
    recs = []
    for axis in ("depth", "width"):
        recs.append(_trend_record(f"permuted-labels-{axis}[{result.dataset}]",
                                  trend_test(result.runs, axis, permute_seed=seed), kind="negative-control"))
        recs.append(_trend_record(f"reversed-alternative-{axis}[{result.dataset}]",
                                  trend_test(result.runs, axis, direction="increasing"), kind="negative-control"))
    if linear is not None:
        t = trend_test(linear.runs, "depth")
        rec = _trend_record("deep-linear-no-depth-trend", t, kind="negative-control")
        ls = [r["l"] for r in linear.certified()]
        rec.extra["certified_l_spread"] = (max(ls) - min(ls)) if ls else None
        recs.append(rec)
    return recs


def linear_control(n_jobs: int = 1, progress: bool = False) -> "sweep.SweepResult":
    ds = datasets.synthetic(**LINEAR_DATA)
    return sweep.run_sweep([ds], LINEAR_GRID, n_jobs=n_jobs, progress=progress, desc="deep-linear control")[0]


def run(cfg: RunConfig) -> list[Record]:
    """Report mode: the default synthetic sweep with cfg.n_instances seeds (at least 6) drawn from cfg.seed, plus
    the controls. `minimacheck report` runs its own (larger, multi-data-set) sweep instead."""
    n = max(6, int(cfg.n_instances))  # fewer seeds cannot reach p < 0.01 on this grid
    seeds = tuple(int(s) for s in cfg.rng(5).choice(10_000, size=n, replace=False))
    grid = sweep.SweepConfig(**{**DEFAULT_GRID.__dict__, "seeds": seeds})
    res = sweep.run_sweep([datasets.synthetic(**SYNTHETIC)], grid, n_jobs=sweep.default_jobs(), progress=False)[0]
    return run_records(res) + control_records(res, linear_control(n_jobs=sweep.default_jobs()), seed=cfg.seed)


CLAIM = Claim(
    id="claim5",
    title="Empirical trend: the loss at certified local minima falls with depth and width",
    source="K. Kawaguchi, J. Huang, L. P. Kaelbling, Effect of depth and width on local minima in deep learning, "
           "Neural Computation 31(7):1462-1498, 2019 (arXiv:1811.08150); the project's protocol (CLAIMS.md claim5)",
    statement="Over a blocked depth x width sweep, the normalized loss l = L/(1/2||Y||^2) at certified local minima "
              "decreases with depth (at fixed width) and with width (at fixed depth): blocked permutation trend test, p < 0.01.",
    hypotheses=(
        "squared loss 1/2||Yhat - Y||_F^2, linear output layer, leaky ReLU (0.1) or tanh hidden layers",
        "only certified runs enter (C-min, or zero loss on a kink); uncertified runs are counted",
        "data and seeds shared across cells (seeds are blocks); complete blocks only",
    ),
    negative_controls=(
        "within-block permuted depth/width labels: the statistic must not fire",
        "reversed alternative (l increasing with size) must not pass on the same data",
        "deep linear nets at a fixed bottleneck: no depth trend (claim6: all local minima share one value)",
    ),
    run=run,
)
