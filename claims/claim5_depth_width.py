"""claim5 — Empirical trend: the loss at certified local minima falls with depth and with width (CLAIMS.md, claim5).

Statement (the project's protocol, not a reproduction of the paper's): local-minimum values "tend to" approach the
global value as depth and width grow. An INSTANCE of this trend claim is a whole sweep (`Params`): a data set
(synthetic Gaussian X with a tanh-teacher target, or N(0, 1) targets unrelated to any net), one activation, a depth x
width grid, a seed set, the axis tested, the quantity and the cells in scope. `check(params)` trains every (cell,
seed) with networks.minimize, certifies it with networks.certify (minimacheck.sweep.run_one), and runs the trend test.

Quantity (`quantity`):
- 'l': l = L / (1/2 ||Y||^2) at certified local minima;
- 'excess': l - l_best, l_best the lowest certified l of the SAME cell over its seeds (the seeds are restarts on
  shared data). This separates the landscape from capacity: once P >= m d_y every cell can reach zero loss, and l
  alone mixes "the global optimum falls" with "local minima approach it"; the excess asks only the second.
Scope (`scope`): 'all' cells, or 'under': only under-parameterized cells (P < m d_y, minimacheck.sweep), where zero
loss is out of reach (claim1d) and the trend cannot come from cells that all interpolate.

Statistic (`trend_test`): a blocked Kendall statistic with a within-block permutation p-value
(scipy.stats.permutation_test, fixed random_state). Blocks are (seed, level of the other axis); the alternative is
that the quantity DEcreases with the level. Uncertified runs are counted and reported, never imputed: only the order
of the certified levels in a block enters, so missing cells leave the within-block null exact (conditional on which
cells certified). Values closer than RESOLUTION are ties (certified points are exact to claim1's tolerance, ~1e-10).

Verdict of an instance (one Record):
- certified=True ("a testable trend", Evidence.TREND) when >= MIN_BLOCKS blocks hold >= 2 certified levels AND the
  design can reach p < ALPHA at all: its p_floor = prod_b 1/c_b! (c_b certified levels in block b: the chance that
  every block falls in its best order) is below ALPHA. p_floor depends on the design (which runs certified), not on
  the values, so a flat sweep is testable and fails;
- passed = p < ALPHA (decreasing) on a testable trend, False when the trend is absent, None when not testable.
Floors (REGIMES, per activation x target) count the fraction of drawn sweeps whose trend is testable.

Measured (default synthetic data, tanh, depths 1-3 x widths 2-8, seeds 0-3, 2 attempts; before the sweep ran on
networks.find_minimum): l falls with width (p = 0.0013), with depth (p = 0.0037), and with width inside the
under-parameterized cells (p = 0.0035); with seeds 0-5: 1e-4, 3e-4, 4e-4. The EXCESS l - l_best shows NO trend for
tanh (width p = 0.86 / 0.50, depth p = 0.11 / 0.14 at 4 / 6 seeds; on find_minimum's sweep, 6 seeds: 0.19 / 0.50):
the certified minima of a cell mostly coincide with its best restart at every size, so on this grid the fall of l
is the fall of the cell's best value (capacity), not local minima approaching it. For leaky ReLU (certified on kinks
since networks.kinks and the smoothing homotopy) the excess does fall (report, 6 seeds: width p = 1e-4, depth
0.016). The strategy therefore
draws quantity 'l' only; 'excess' stays a Params option and a report diagnostic.

Built-in consistency (report mode and a test): at every certified point l equals claim1's value
1/2 ||P_N[Dbar] y||^2 / (1/2 ||Y||^2) within Lemma P's bracket (minimacheck.sweep.run_one).

Negative controls (each judged by the part's own check, so a check forced to pass misses them):
- deep LINEAR nets at a fixed bottleneck (claim6: every local minimum is global with the reduced-rank value), depth
  sweep: no trend, check must return passed False (a data set where bigger nets are provably not better);
- permuted cell labels: the same sweep with its level labels shuffled within each block: check must fail, and over
  SHUFFLES shuffles it may pass at most SHUFFLE_BOUND times (a binomial bound at rate ALPHA).
The old "reversed alternative" control (the same statistic with the sign flipped) is not independent evidence; it
is now a sabotage instead (the flipped statistic must make the pinned trend fail).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from unittest import mock

import numpy as np
import scipy.stats
from hypothesis import strategies as st

from minimacheck import datasets, sweep
from minimacheck.contract import Claim, Evidence, Floor, Kind, Part, Sabotage, Unreached, violation_detected
from minimacheck.ledger import Record

CLAIM_ID = "claim5"
STATEMENT = ("Over a blocked depth x width sweep, the normalized loss l = L/(1/2||Y||^2) at certified local minima "
             "(or its excess over the best restart of the cell) decreases with depth (at fixed width) and with width "
             "(at fixed depth): blocked permutation trend test, p < 0.01.")
ALPHA = 0.01
RESOLUTION = 1e-8
MIN_BLOCKS = 2  # blocks with >= 2 certified levels needed for a test
N_RESAMPLES = 9999
ACTIVATIONS = ("tanh", "leaky_relu", "linear")
TARGETS = ("teacher", "noise")
QUANTITIES = ("l", "excess")
SCOPES = ("all", "under")
AXES = ("depth", "width")


@dataclass(frozen=True)
class Params:
    """One sweep and the trend tested on it."""

    activation: str = "tanh"
    target: str = "teacher"  # 'teacher': tanh teacher + noise (datasets.synthetic); 'noise': N(0, 1) targets
    m: int = 60
    d_x: int = 4
    d_y: int = 1
    data_seed: int = 0
    depths: tuple = (1, 2, 3)
    widths: tuple = (2, 4, 8)
    seeds: tuple = (0, 1, 2, 3, 4, 5)
    axis: str = "width"
    quantity: str = "l"
    scope: str = "all"
    attempts: int = 2  # starts per (cell, seed) before a run counts as uncertified (sweep.SweepConfig)
    max_iter: int = 200  # the binding training limit (no wall clock decides a result)
    bias: bool = True
    shuffle: int | None = None  # permute level labels within each block (the permuted-cells control), never drawn

    def validate(self) -> Params:
        for name, allowed in (("activation", ACTIVATIONS), ("target", TARGETS), ("quantity", QUANTITIES),
                              ("scope", SCOPES), ("axis", AXES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"claim5: {name} must be one of {allowed}, got {getattr(self, name)!r}")
        for name in ("m", "d_x", "d_y"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise ValueError(f"claim5: {name} must be a positive integer, got {v!r}")
        if len(set(self.seeds)) < 2:
            raise ValueError(f"claim5: a blocked design needs >= 2 distinct seeds, got {self.seeds}")
        if len(set(getattr(self, self.axis + "s"))) < 2:
            levels = getattr(self, self.axis + "s")
            raise ValueError(f"claim5: the tested axis {self.axis} needs >= 2 levels, got {levels}")
        self.grid()  # SweepConfig validates depths, widths, attempts
        return self

    def grid(self) -> sweep.SweepConfig:
        return sweep.SweepConfig(depths=tuple(self.depths), widths=tuple(self.widths),
                                 activations=(self.activation,), seeds=tuple(self.seeds), attempts=self.attempts,
                                 max_iter=self.max_iter, bias=self.bias)

    def dataset(self) -> datasets.Dataset:
        if self.target == "teacher":
            return datasets.synthetic(m=self.m, d_x=self.d_x, d_y=self.d_y, seed=self.data_seed)
        return noise_data(self.m, self.d_x, self.d_y, self.data_seed)


def noise_data(m: int, d_x: int, d_y: int, seed: int) -> datasets.Dataset:
    """Gaussian X and N(0, 1) targets independent of X: no net, teacher or otherwise, explains them."""
    rng = np.random.default_rng([seed, 55])
    X, Y = rng.standard_normal((m, d_x)), rng.standard_normal((m, d_y))
    return datasets.Dataset("noise", X, Y, f"noise: Gaussian X, N(0,1) targets independent of X; m={m}, d_x={d_x}, "
                            f"d_y={d_y}, seed={seed}", dict(m=m, d_x=d_x, d_y=d_y, seed=seed))


# ---------------------------------------------------------------- runs (memoized: instances share cells)
_RUNS: dict = {}


def _key(p: Params, depth: int, width: int, seed: int) -> tuple:
    return (p.target, p.m, p.d_x, p.d_y, p.data_seed, p.activation, int(depth), int(width), int(seed), p.attempts,
            p.max_iter, p.bias)


def runs_of(p: Params, n_jobs: int = 1) -> list[dict]:
    """Every (cell, seed) run of p's grid, trained and certified once per process: draws, controls and pinned
    cases that share a data set, activation and training limits share the runs (a run depends only on those)."""
    p.validate()
    cells = [(d, w, s) for d in p.depths for w in p.widths for s in p.seeds]
    missing = [c for c in cells if _key(p, *c) not in _RUNS]
    if missing:
        ds, cfg = p.dataset(), p.grid()
        tasks = [(ds.X, ds.Y, ds.name, p.activation, d, w, s, cfg) for d, w, s in missing]
        if n_jobs > 1 and len(tasks) > 1:
            from joblib import Parallel, delayed

            rows = Parallel(n_jobs=n_jobs, batch_size=1)(delayed(sweep.run_one)(*t) for t in tasks)
        else:
            rows = [sweep.run_one(*t) for t in tasks]
        for c, row in zip(missing, rows, strict=True):
            _RUNS[_key(p, *c)] = row
    return [_RUNS[_key(p, *c)] for c in cells]


def cell_yields(runs: list[dict]) -> dict[str, str]:
    """{'H=d w=w': 'certified/total'} per cell."""
    out: dict = {}
    for r in runs:
        c = out.setdefault(f"H={r['depth']} w={r['width']}", [0, 0])
        c[0] += bool(r["certified"])
        c[1] += 1
    return {k: f"{a}/{b}" for k, (a, b) in out.items()}


def in_scope(runs: list[dict], scope: str) -> list[dict]:
    if scope == "all":
        return list(runs)
    return [r for r in runs if r["n_params"] < r["m"] * r["d_y"]]


def with_quantity(runs: list[dict], quantity: str) -> list[dict]:
    """Runs with 'value' = l, or l - l_best over the certified runs of the same cell (seeds as restarts)."""
    if quantity == "l":
        return [{**r, "value": r["l"]} for r in runs]
    best: dict = {}
    for r in runs:
        if r["certified"]:
            k = (r["activation"], r["depth"], r["width"])
            best[k] = min(best.get(k, math.inf), r["l"])
    return [{**r, "value": r["l"] - best[(r["activation"], r["depth"], r["width"])] if r["certified"] else math.nan}
            for r in runs]


# ---------------------------------------------------------------- the statistic
def trend_table(runs: list[dict], axis: str, activation: str | None = None, key: str = "l"):
    """(matrix blocks x levels of runs[key] with NaN for uncertified runs, levels, block keys). A block is
    (activation, seed, level of the other axis); blocks with fewer than two certified levels carry no information
    on a trend and are left out."""
    if axis not in AXES:
        raise ValueError(f"axis must be 'depth' or 'width', got {axis!r}")
    other = "width" if axis == "depth" else "depth"
    runs = [r for r in runs if activation is None or r["activation"] == activation]
    levels = sorted({r[axis] for r in runs})
    col = {lv: j for j, lv in enumerate(levels)}
    cells: dict = {}
    for r in runs:
        row = cells.setdefault((r["activation"], r["seed"], r[other]), np.full(len(levels), np.nan))
        if r["certified"]:
            row[col[r[axis]]] = r[key]
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
    """The smallest p-value the DESIGN allows: prod_b 1/c_b! over the c_b certified levels of block b (the chance
    that a within-block permutation puts every block in its best order). It depends on which runs certified, not on
    their values: a flat sweep is testable (and fails), a sweep with too few certified runs is not."""
    return float(math.exp(-sum(math.lgamma(int(np.isfinite(row).sum()) + 1) for row in q)))


def _permutation_p(q: np.ndarray, direction: str, n_resamples: int) -> tuple[float, float]:
    """(statistic, within-block permutation p-value) of the blocked Kendall statistic."""
    res = scipy.stats.permutation_test(
        tuple(q.T), concordance, permutation_type="samples", vectorized=True, n_resamples=n_resamples,
        alternative="greater" if direction == "decreasing" else "less", random_state=12345)
    return float(res.statistic), float(res.pvalue)


def trend_test(runs: list[dict], axis: str, *, activation: str | None = None, direction: str = "decreasing",
               permute_seed: int | None = None, n_resamples: int = N_RESAMPLES, key: str = "l") -> dict:
    """Within-block permutation test of the blocked Kendall statistic; alternative: runs[key] decreases (or
    increases) with `axis`. Page's L (scipy.stats.page_trend_test) on the complete blocks is reported beside it.
    permute_seed: shuffle each block's level labels first (the permuted-cells negative control)."""
    if direction not in ("decreasing", "increasing"):
        raise ValueError(f"direction must be 'decreasing' or 'increasing', got {direction!r}")
    table, levels, keys = trend_table(runs, axis, activation, key)
    q = np.round(table / RESOLUTION)  # ties below the resolution of a certified l
    if permute_seed is not None and q.size:
        rng = np.random.default_rng(permute_seed)
        q = np.array([rng.permutation(row) for row in q])
    complete = q[np.isfinite(q).all(axis=1)]
    out = dict(axis=axis, direction=direction, quantity=key, levels=levels, n_blocks=int(q.shape[0]),
               n_certified=int(np.isfinite(q).sum()), statistic=None, pvalue=None, applicable=False,
               page_L=None, page_p=None, page_blocks=int(complete.shape[0]),
               median={str(lv): (float(np.nanmedian(table[:, j])) if np.isfinite(table[:, j]).any() else None)
                       for j, lv in enumerate(levels)})
    out["median_l"] = out["median"]  # the report's name for it
    out["p_floor"] = p_floor(q)
    if q.shape[0] >= MIN_BLOCKS and len(levels) >= 2:
        stat, pv = _permutation_p(q, direction, n_resamples)
        out.update(statistic=stat, pvalue=pv, applicable=True)
    if complete.shape[0] >= 2 and len(levels) >= 3:
        pred = np.arange(len(levels), 0, -1) if direction == "decreasing" else np.arange(1, len(levels) + 1)
        pg = scipy.stats.page_trend_test(complete, predicted_ranks=pred)
        out.update(page_L=float(pg.statistic), page_p=float(pg.pvalue))
    return out


def testable(t: dict) -> bool:
    return bool(t["applicable"] and t["p_floor"] < ALPHA)


# ---------------------------------------------------------------- the instance space
def regime_of(p: Params) -> str:
    """'<activation>/<target>-target' (the deep-linear control's 'linear/...' is never drawn)."""
    return f"{p.activation}/{p.target}-target"


# The CI-sized instance space (the generated tests draw from it): the default synthetic data set (m = 60, d_x = 4,
# tanh teacher + noise), the 3 x 3 grid depths 1-3 x widths 2-8, 4 seeds; tested axis and scope drawn. Every draw of
# a regime shares its runs (runs_of), so the draws cost one grid. An unreached regime (none today) would get the small
# CI_GRID_UNREACHED. Larger grids are report options (GRIDS; `minimacheck report --grid full`).
CI_DATA = dict(m=60, d_x=4)
CI_GRID = dict(depths=(1, 2, 3), widths=(2, 4, 8), seeds=(0, 1, 2, 3), attempts=2, max_iter=400)
CI_GRID_UNREACHED = dict(depths=(1,), widths=(2, 8), seeds=(0, 1), attempts=1, max_iter=200)
# leaky ReLU (kink certificates, smoothing homotopy: 15/16 runs certified) on a smaller grid: its runs cost ~3x a
# tanh run's, and CI keeps -k claim5 under 90 s. Width 2 vs 8 at depths 1-2 makes the "all" scope testable (8 blocks:
# p_floor 2^-8); "under" has too few under-parameterized cells (P < 60: 1-2, 1-8, 2-2) to be testable.
CI_GRID_PL = dict(depths=(1, 2), widths=(2, 8), seeds=(0, 1, 2, 3), attempts=1, max_iter=200)
CI_GRIDS = {"tanh": CI_GRID, "leaky_relu": CI_GRID_PL}


@st.composite
def _params(draw, regime: str | None = None):
    if regime is None:
        regime = draw(st.sampled_from(sorted(REGIMES)))
    act, target = regime.split("/")
    target = target.removesuffix("-target")
    grid = CI_GRID_UNREACHED if isinstance(REGIMES[regime], Unreached) else CI_GRIDS[act]
    axis = "width" if len(grid["depths"]) < 2 else draw(st.sampled_from(AXES))
    return Params(activation=act, target=target, **CI_DATA, **grid, axis=axis,
                  scope=draw(st.sampled_from(SCOPES))).validate()


def strategy(regime: str | None = None):
    """Hypothesis strategy of claim5's instances (sweeps) in all regimes, or in one."""
    if regime is not None and regime not in REGIMES:
        raise ValueError(f"claim5: unknown regime {regime!r}; known: {sorted(REGIMES)}")
    return _params(regime)


# ---------------------------------------------------------------- the check
def evaluate(p: Params, runs: list[dict]) -> dict:
    """The trend test of p on its runs (scope, quantity, shuffle applied)."""
    scoped = with_quantity(in_scope(runs, p.scope), p.quantity)
    return trend_test(scoped, p.axis, permute_seed=p.shuffle, key="value")


def _record(p: Params, t: dict, runs: list[dict], name: str = "trend") -> Record:
    extra = dict(params=asdict(p), trend=t, yields=cell_yields(runs), n_runs=len(runs),
                 n_certified_runs=sum(bool(r["certified"]) for r in runs),
                 claim1_consistent=sum(bool(r.get("claim1_passed")) for r in runs if r["certified"]),
                 kink_minima=sum(bool(r["certified"]) and not r.get("differentiable", True) for r in runs))
    kw = dict(check=f"{name}-{p.axis}-{p.quantity}-{p.scope}", regime=regime_of(p), trained=True, extra=extra)
    if not t["applicable"]:
        return Record(CLAIM_ID, certified=False, passed=None, **kw,
                      reason=f"not testable: {t['n_blocks']} blocks with >= 2 certified levels over {t['levels']}; "
                             f"need >= {MIN_BLOCKS} (yields {extra['yields']})")
    if not testable(t):
        return Record(CLAIM_ID, certified=False, passed=None, **kw,
                      reason=f"not testable: even a perfect ordering of the {t['n_certified']} certified runs in "
                             f"{t['n_blocks']} blocks gives p >= {t['p_floor']:.3g} >= {ALPHA}")
    pv = t["pvalue"]
    med = ", ".join(f"{k}:{v:.3g}" for k, v in t["median"].items() if v is not None)
    return Record(CLAIM_ID, certified=True, passed=bool(pv < ALPHA), gap=pv, tol=ALPHA, **kw,
                  reason=f"blocked Kendall S={t['statistic']:.0f}, permutation p={pv:.3g} (floor {t['p_floor']:.2g}) "
                         f"over {t['n_blocks']} blocks ({t['n_certified']} certified runs); median {p.quantity} by "
                         f"{p.axis}: {med}")


def check(p: Params) -> Record:
    """Run (or reuse) the sweep of p and judge its trend."""
    runs = runs_of(p.validate())
    return _record(p, evaluate(p, runs), runs)


# ---------------------------------------------------------------- negative controls
# deep linear nets, d_y = 2 > bottleneck 1, no biases (claim6's setting): depths 1..4 at width 1
LINEAR_DATA = dict(m=30, d_x=4, d_y=2, seed=1)
LINEAR = Params(activation="linear", target="teacher", m=30, d_x=4, d_y=2, data_seed=1, depths=(1, 2, 3, 4),
                widths=(1,), seeds=(0, 1, 2, 3), axis="depth", attempts=2, bias=False)
LINEAR_GRID = LINEAR.grid()


def control_deep_linear(part) -> Record:
    """claim6: at a fixed bottleneck every local minimum of a deep linear net is global with the reduced-rank value,
    so l is the same at every depth: the part's check must find the trend testable and ABSENT (passed False)."""
    rec = part.check(LINEAR)
    ls = [r["l"] for r in runs_of(LINEAR) if r["certified"]]
    spread = max(ls) - min(ls) if ls else math.inf
    rec.extra["certified_l_spread"] = spread
    return violation_detected(replace(rec, check="control-deep-linear-bottleneck"), rec.certified, spread <= RESOLUTION)


SHUFFLES = 30  # label shuffles per permuted-cells control
SHUFFLE_BOUND = 3  # rejections allowed: P(Binomial(30, 0.01) >= 4) = 3.3e-4 (scipy.stats.binom.sf(3, 30, 0.01))


def control_permuted_cells(part, base: Params | None = None) -> Record:
    """The pinned tanh sweep with its level labels shuffled within each block: no trend by construction. The first
    shuffle must fail the part's check, and over SHUFFLES shuffles it may pass at most SHUFFLE_BOUND times."""
    base = base or PINNED["tanh-teacher-width"]
    recs = [part.check(replace(base, shuffle=k)) for k in range(SHUFFLES)]
    passes = sum(r.passed is True for r in recs)
    rec = recs[0]
    rec.extra.update(shuffles=SHUFFLES, shuffle_passes=passes, shuffle_bound=SHUFFLE_BOUND)
    return violation_detected(replace(rec, check="control-permuted-cells"), rec.certified, passes <= SHUFFLE_BOUND)


CONTROLS = {
    "deep-linear-bottleneck": control_deep_linear,
    "permuted-cells": control_permuted_cells,
}


# ---------------------------------------------------------------- sabotages (injected from outside)
def _sign_flipped(q, direction, n_resamples):
    """A broken statistic: the alternative reversed (tests for l INcreasing with size)."""
    return _genuine_p(q, "increasing" if direction == "decreasing" else "decreasing", n_resamples)


def _optimistic(q, direction, n_resamples):
    """A broken p-value: the design's p_floor reported whatever the data say (every testable trend 'passes')."""
    stat, _ = _genuine_p(q, direction, n_resamples)
    return stat, p_floor(q)


_genuine_p = _permutation_p
SABOTAGES = {
    "reversed-alternative": Sabotage(
        inject=lambda: mock.patch(f"{__name__}._permutation_p", _sign_flipped),
        run=lambda part: [part.check(PINNED["tanh-teacher-width"])],
        description="the statistic tests the reversed order: the pinned tanh width trend fails"),
    "p-value-at-the-floor": Sabotage(
        inject=lambda: mock.patch(f"{__name__}._permutation_p", _optimistic),
        run=lambda part: [control_deep_linear(part), control_permuted_cells(part)],
        description="p reported at the design's floor: the flat deep-linear sweep and shuffled cells 'pass'"),
}


PINNED = {
    "tanh-teacher-width": Params(activation="tanh", target="teacher", **CI_DATA, **CI_GRID, axis="width"),
    "tanh-teacher-depth": Params(activation="tanh", target="teacher", **CI_DATA, **CI_GRID, axis="depth"),
    "tanh-teacher-width-under": Params(activation="tanh", target="teacher", **CI_DATA, **CI_GRID, axis="width",
                                       scope="under"),
}

# Floors: the fraction of drawn sweeps whose trend is TESTABLE (certified=True: >= MIN_BLOCKS blocks with >= 2
# certified levels and p_floor < ALPHA), on the fixed draw (seed 0, 4 sweeps). tanh, measured 2026-11-29 with the
# sweep on networks.find_minimum (2 starts, the ridge homotopy, then 400 iterations, probe certificates of plateaus
# withdrawn; the homotopy runs in the under-parameterized cells only): 4/4 testable (3/4 before the ridge
# homotopy); 27 (width) and 28 (depth) certified runs enter the pinned trends: p = 0.0001 (width), 0.0001 (depth),
# 0.0008 (width, under). The floor stays at 3/4, the level measured without the
# homotopy. leaky ReLU (CI_GRID_PL, kink certificates and the smoothing homotopy of networks.find_minimum): 2/4
# draws testable; on the full CI_GRID it certifies 33/36 runs and all four trends pass (p = 0.0001 width, 0.0001
# depth, 0.0002 width/under, 0.003 depth/under, with 400 real-net iterations before PL_TRAIN_ITER: 2 min of CI,
# hence the smaller grid).
REGIMES = {
    "tanh/teacher-target": Floor(0.75, 4, "4/4 testable; pinned p = 0.0001 (depth), 0.0001 (width), 0.0008 "
                                          "(width, under)"),
    "leaky_relu/teacher-target": Floor(0.5, 4, "2/4 testable (scope 'all': p = 0.0078 = p_floor, depth and width, "
                                               "15/16 runs certified, most on kinks); scope 'under' is not (3 cells)"),
}


# ---------------------------------------------------------------- report mode (minimacheck report)
GRIDS = {
    # the default report: <= 5 min on 2 cores with the digits sweep beside it
    "default": sweep.SweepConfig(depths=(1, 2, 3), widths=(2, 4, 8), activations=("leaky_relu", "tanh"),
                                 seeds=(0, 1, 2, 3, 4, 5), attempts=2, max_iter=200),
    # the handbook's protocol: depths 1-4 x widths 2-32, tanh and leaky ReLU, >= 10 seeds (campaigns)
    "full": sweep.SweepConfig(depths=(1, 2, 3, 4), widths=(2, 4, 8, 16, 32), activations=("leaky_relu", "tanh"),
                              seeds=tuple(range(10)), attempts=2, max_iter=400),
}
DEFAULT_GRID = GRIDS["default"]
SYNTHETIC = dict(m=60, d_x=4, d_y=1, seed=0)


def sweep_records(result: sweep.SweepResult) -> list[Record]:
    """Trend records of one report sweep, per activation and axis: l over all cells and over the under-parameterized
    cells (positives). The excess l - l_best (landscape without capacity) is attached to the l record as a
    diagnostic (extra['excess_trend']): measured without a trend for tanh on the default grid, with one for leaky
    ReLU (see the module docstring)."""
    recs = []
    for act in sorted({r["activation"] for r in result.runs}):
        runs = [r for r in result.runs if r["activation"] == act]
        for axis in AXES:
            for scope in SCOPES:
                p = Params(activation=act, m=result.m, d_x=result.d_x, d_y=result.d_y, axis=axis, scope=scope)
                rec = _record(p, evaluate(p, runs), runs, name=f"trend[{result.dataset}/{act}]")
                ex = evaluate(replace(p, quantity="excess"), runs)
                rec.extra["excess_trend"] = dict(pvalue=ex["pvalue"], statistic=ex["statistic"], testable=testable(ex),
                                                 median=ex["median"])
                recs.append(rec)
    return recs


def run_records(result: sweep.SweepResult) -> list[Record]:
    """One consistency record per run (claim1's value equals l at certified points) and the trend records."""
    recs = []
    for r in result.runs:
        cell = f"{r['activation']} H={r['depth']} w={r['width']} seed={r['seed']}"
        name = f"loss-equals-projection[{result.dataset}]"
        if r["certified"] and not r.get("differentiable", True):
            recs.append(Record(CLAIM_ID, name, certified=False, extra=dict(l=r["l"]),
                               reason=f"{cell}: {r['evidence']}: a minimum on a kink has no gradient, Lemma P does not apply"))
        elif r["certified"]:
            recs.append(Record(CLAIM_ID, name, certified=True, passed=bool(r["claim1_passed"]), gap=r["claim1_gap"],
                               tol=r["claim1_tol"], reason=f"{cell}: {r['evidence']}",
                               extra=dict(l=r["l"], claim1_l=r["claim1_l"])))
        else:
            recs.append(Record(CLAIM_ID, name, certified=False, reason=f"{cell}: {r['verdict']}: {r['reason']}",
                               extra=dict(l=r["l"])))
    return recs + sweep_records(result)


def control_records(result: sweep.SweepResult, linear: sweep.SweepResult | None, seed: int = 0) -> list[Record]:
    """The controls on the report's sweeps, judged by the same check: the permuted-cells control on the synthetic
    sweep's tanh width trend, and the deep-linear control on the linear sweep."""
    recs = []
    for act in sorted({r["activation"] for r in result.runs}):
        runs = [r for r in result.runs if r["activation"] == act]
        p = Params(activation=act, m=result.m, d_x=result.d_x, d_y=result.d_y, axis="width")
        if not testable(evaluate(p, runs)):
            continue  # no testable trend to shuffle (e.g. leaky ReLU): the positive record says why
        shuffled = [_record(q, evaluate(q, runs), runs)
                    for q in (replace(p, shuffle=seed * 1000 + k) for k in range(SHUFFLES))]
        passes = sum(r.passed is True for r in shuffled)
        rec = shuffled[0]
        rec.extra.update(shuffle_passes=passes, shuffles=SHUFFLES)
        recs.append(violation_detected(replace(rec, check=f"control-permuted-cells[{result.dataset}/{act}]"),
                                       rec.certified, passes <= SHUFFLE_BOUND))
    if linear is not None:
        lp = replace(LINEAR, seeds=tuple(linear.config["seeds"]), depths=tuple(linear.config["depths"]))
        t = evaluate(lp, linear.runs)
        rec = _record(lp, t, linear.runs)
        ls = [r["l"] for r in linear.runs if r["certified"]]
        spread = (max(ls) - min(ls)) if ls else math.inf
        rec.extra["certified_l_spread"] = spread
        recs.append(violation_detected(replace(rec, check="control-deep-linear-bottleneck"), rec.certified,
                                       spread <= RESOLUTION))
    return recs


def linear_control(n_jobs: int = 1, progress: bool = False) -> sweep.SweepResult:
    ds = datasets.synthetic(**LINEAR_DATA)
    return sweep.run_sweep([ds], LINEAR_GRID, n_jobs=n_jobs, progress=progress, desc="deep-linear control")[0]


CLAIM = Claim(
    id=CLAIM_ID,
    title="Empirical trend: the loss at certified local minima falls with depth and width",
    source="K. Kawaguchi, J. Huang, L. P. Kaelbling, Effect of depth and width on local minima in deep learning, "
           "Neural Computation 31(7):1462-1498, 2019 (arXiv:1811.08150); the project's protocol (CLAIMS.md claim5)",
    statement=STATEMENT,
    hypotheses=(
        "squared loss 1/2||Yhat - Y||_F^2, linear output layer, leaky ReLU (0.1) or tanh hidden layers",
        "only certified runs enter (C-min, or zero loss on a kink); uncertified runs are counted",
        "data and seeds shared across cells (seeds are blocks, and restarts for the excess over the cell's best)",
        "a testable design: >= 2 blocks with >= 2 certified levels and p_floor < 0.01",
    ),
    evidence=Evidence.TREND,
    parts=(Part(id=CLAIM_ID, statement=STATEMENT, strategy=strategy, check=check, check_at=None, kind=Kind.TREND,
                regime_of=regime_of, regimes=REGIMES, pinned=PINNED, controls=CONTROLS, sabotages=SABOTAGES),),
)
