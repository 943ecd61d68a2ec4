"""`minimacheck report`: every registered claim in report mode, plus the depth/width sweeps of claim5.

Writes a folder with
- summary.md: the verdict table per claim (minimacheck.ledger.summarize), per-claim timings, errors, and the sweep's
  yield and trend tables;
- loss_vs_depth.png, loss_vs_width.png: l = L/(1/2||Y||^2) at certified local minima, one panel per data set and
  activation, seeds as spread, claim1's value 1/2||P_N[Dbar]y||^2/(1/2||Y||^2) beside each point, l_OLS, the zero
  and constant predictors, and claim1d's threshold P >= m d_y;
- results.json: every number (config, records, every sweep run, timings, errors).

A claim whose run raises gets an ERROR verdict; the report goes on and exits non-zero at the end. The same --seed
gives the same numbers (single-threaded torch per worker; results keyed by cell, not by completion order).
"""
from __future__ import annotations

import math
import pathlib
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from minimacheck import datasets, sweep
from minimacheck.ledger import Record, summarize

# ---------------------------------------------------------------- configuration
DEFAULT_DATA = ("synthetic", "digits")
DATA_DEFAULTS = {  # m, d_x per data set (d_y: 1 for synthetic, 10 for the image sets)
    "synthetic": dict(m=60, d_x=4),
    "digits": dict(m=50, d_x=8),
    "mnist": dict(m=100, d_x=16),
    "cifar10": dict(m=100, d_x=16),
    "svhn": dict(m=100, d_x=16),
}


@dataclass
class ReportConfig:
    out: str = "minimacheck-report"
    seed: int = 0
    quick: bool = False
    data: tuple[str, ...] = DEFAULT_DATA
    depths: tuple[int, ...] | None = None
    widths: tuple[int, ...] | None = None
    activations: tuple[str, ...] | None = None
    n_seeds: int | None = None
    subsample: int | None = None
    jobs: int = field(default_factory=sweep.default_jobs)
    claims: tuple[str, ...] | None = None  # None: every registered claim; () none
    n_instances: int | None = None
    progress: bool = True
    verify: bool = True  # ball-arithmetic proofs of the sweep's strict minima and the pinned counterexamples
    sweep_grid: str = "default"  # claim5's grid: 'default' (<= 5 min on 2 cores) or 'full' (the handbook's, campaigns)
    shard: tuple[int, int] | None = None  # (i, n): this shard's work items only (minimacheck.shard)
    artifacts: str | None = "failures"  # folder for replayable counterexample files

    def grid(self, dataset: str = "synthetic") -> sweep.SweepConfig:
        """claim5's grid (claims.claim5_depth_width.GRIDS[sweep_grid]) on the synthetic set; with the default grid
        the image sets (10 outputs, all under-parameterized) get 4 seeds, 2 starts and 500 iterations for smooth nets
        (piecewise-linear ones train through the smoothing homotopy and networks.multistart.PL_TRAIN_ITER real-net
        iterations; the kink rounds certify their minima)."""
        from claims.claim5_depth_width import GRIDS

        if self.sweep_grid not in GRIDS:
            raise ValueError(f"--grid must be one of {sorted(GRIDS)}, got {self.sweep_grid!r}")
        base = asdict(GRIDS[self.sweep_grid])
        n_default = len(base["seeds"])
        if dataset != "synthetic" and self.sweep_grid == "default":
            # tanh nets on 10 outputs saturate: most runs creep towards minima at infinity (networks.multistart:
            # plateau_check withdraws their probe certificates); finite minima certified within 150-500 iterations
            base.update(attempts=2, max_iter=500)
            n_default = 4
        if self.quick:
            # the smallest grid on which claim5's trend is testable: the CI grid (claims.claim5_depth_width.CI_GRID,
            # 4 seeds, 2 attempts) on the synthetic set; with 2 seeds every certified run of a block can sit at zero
            # loss (ties), and the smoke test would report a trend failure that says nothing about the landscape
            synthetic = dataset == "synthetic"
            base.update(depths=(1, 2, 3), widths=(2, 4, 8), activations=("tanh",), attempts=2 if synthetic else 1,
                        max_iter=200 if synthetic else 100)
            n_default = 4 if synthetic else 2
        n = self.n_seeds if self.n_seeds is not None else n_default
        if n < 1:
            raise ValueError(f"--seeds must be >= 1, got {n}")
        base["seeds"] = tuple(range(1000 * self.seed, 1000 * self.seed + n))
        for name in ("depths", "widths", "activations"):
            if getattr(self, name):
                base[name] = tuple(getattr(self, name))
        return sweep.SweepConfig(**{**base, "verify": self.verify})

    def instances(self) -> int:
        return self.n_instances if self.n_instances is not None else (1 if self.quick else 3)


def load_data(name: str, cfg: ReportConfig) -> datasets.Dataset:
    kw = dict(DATA_DEFAULTS.get(name, {}))
    # --quick keeps the synthetic set at its default size (m = 60, the data claim5's CI checks use): at m = 30 most cells
    # interpolate and the depth trend is measured between zero-loss runs and unconverged deep ones
    if cfg.quick and name != "synthetic":
        kw.update(m=30, d_x=min(kw.get("d_x", 8), 6))
    if cfg.subsample is not None:
        kw["m"] = cfg.subsample
    kw["seed"] = cfg.seed
    return datasets.load(name, **kw)


# ---------------------------------------------------------------- other claims
def registered_claims() -> dict:
    """{claim id: Claim, or the error text of a module that failed to import} (a broken module must not stop the
    report). External claims (entry points) come after the built-ins."""
    from minimacheck import registry

    out: dict = {}
    for name in registry.builtin_modules():
        cid = f"claim{registry.CLAIM_MODULE.match(name).group(1)}"
        try:
            out[cid] = registry.load_builtin(name)
        except Exception:  # noqa: BLE001 - reported as an ERROR verdict
            out[cid] = f"import of claims.{name} failed:\n{traceback.format_exc()}"
    try:
        out.update(registry.external())
    except Exception:  # noqa: BLE001
        out["external claims"] = f"loading the entry points failed:\n{traceback.format_exc()}"
    return out


def run_claim(claim, n: int, seed: int, shard=None, artifacts=None, verify: bool = False) -> dict:
    """Run one claim's report mode (its strategy's seeded draws, pinned cases and controls); never raises: an
    exception becomes {'error': traceback}."""
    import torch

    from minimacheck.shard import run_claim_items

    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    try:
        records, _ = run_claim_items(claim, n, seed, shard=shard, artifacts_dir=artifacts, verify=verify)
        return dict(id=claim.id, records=[r.to_dict() for r in records], error=None, seconds=time.perf_counter() - t0)
    except Exception:  # noqa: BLE001 - the report records an ERROR verdict and goes on
        return dict(id=claim.id, records=[], error=traceback.format_exc(), seconds=time.perf_counter() - t0)


def unknown_claims(wanted) -> list[str]:
    """Ids in `wanted` that no module or entry point registers (claim5 runs as sweeps and counts as known)."""
    known = set(registered_claims()) | {"claim5"}
    return [c for c in (wanted or ()) if c not in known]


def run_other_claims(cfg: ReportConfig, log=print) -> dict[str, dict]:
    from joblib import Parallel, delayed

    reg = registered_claims()
    wanted = [cid for cid in reg if cid != "claim5" and (cfg.claims is None or cid in cfg.claims)]
    out: dict[str, dict] = {}
    runnable = []
    for cid in wanted:
        if isinstance(reg[cid], str):
            out[cid] = dict(id=cid, records=[], error=reg[cid], seconds=0.0)
        else:
            runnable.append(reg[cid])
    n = cfg.instances()
    gen = Parallel(n_jobs=min(cfg.jobs, max(1, len(runnable))), return_as="generator", batch_size=1)(
        delayed(run_claim)(c, n, cfg.seed, cfg.shard, cfg.artifacts, cfg.verify) for c in runnable)
    if cfg.progress and runnable:
        from tqdm import tqdm

        gen = tqdm(gen, total=len(runnable), desc="claims", unit="claim", dynamic_ncols=True)
    for res in gen:
        out[res["id"]] = res
        state = "ERROR" if res["error"] else f"{len(res['records'])} records"
        line = f"  {res['id']:<8} {res['seconds']:7.1f} s  {state}"
        if cfg.progress:
            from tqdm import tqdm

            tqdm.write(line)
        else:
            log(line)
    return dict(sorted(out.items(), key=lambda kv: _claim_order(kv[0])))


def _claim_order(cid: str):
    return (0, int(cid[5:]), cid) if cid[5:].isdigit() else (1, 0, cid)


# ---------------------------------------------------------------- the report
def build(cfg: ReportConfig, log=print) -> dict:
    """Run everything and write the report folder; returns the results dict (also written as results.json)."""
    from claims import claim5_depth_width as c5

    t_start = time.perf_counter()
    out = pathlib.Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    log(f"minimacheck report -> {out}  (seed {cfg.seed}, jobs {cfg.jobs}{', quick' if cfg.quick else ''})")

    log("other claims (report mode):")
    t0 = time.perf_counter()
    claim_runs = run_other_claims(cfg, log)
    t_claims = time.perf_counter() - t0

    log("depth/width sweep:")
    t0 = time.perf_counter()
    errors: dict[str, str] = {cid: r["error"] for cid, r in claim_runs.items() if r["error"]}
    data = []
    for name in cfg.data:
        try:
            data.append(load_data(name, cfg))
        except Exception as e:  # noqa: BLE001 - e.g. DatasetUnavailable offline: recorded, the report goes on
            errors[f"claim5 data set {name}"] = f"{type(e).__name__}: {e}"
            log(f"  data set {name}: ERROR {e}")
    grids = {ds.name: cfg.grid(ds.name) for ds in data}
    sweeps = [sweep.run_sweep([ds], grids[ds.name], n_jobs=cfg.jobs, progress=cfg.progress, desc=f"sweep {ds.name}",
                              shard=cfg.shard)[0] for ds in data]
    lin_grid = replace(c5.LINEAR_GRID, verify=cfg.verify)  # the control needs its full grid to be testable, --quick too
    lin = sweep.run_sweep([datasets.synthetic(**c5.LINEAR_DATA)], lin_grid, n_jobs=cfg.jobs, progress=cfg.progress,
                          desc="deep-linear control", shard=cfg.shard)[0]
    t_sweep = time.perf_counter() - t0
    c5_records: list[Record] = []
    for s in sweeps:
        c5_records += c5.run_records(s)
    if sweeps:
        c5_records += c5.control_records(sweeps[0], lin, seed=cfg.seed)
    if not data:
        errors.setdefault("claim5", "no data set could be loaded")

    records = [Record.from_dict(d) for r in claim_runs.values() for d in r["records"]] + c5_records
    summ = summarize(records)
    ids = list(claim_runs) + ["claim5"]
    verdicts = {}
    for cid in sorted(set(ids), key=_claim_order):
        if claim_runs.get(cid, {}).get("error"):
            verdicts[cid] = "ERROR"
        elif cid in summ:
            verdicts[cid] = summ[cid].verdict
        else:
            verdicts[cid] = "NO EVIDENCE"
    if any(k.startswith("claim5 ") for k in errors) and verdicts.get("claim5") == "PASS":
        verdicts["claim5"] = "ERROR"

    proofs_pinned = []
    if cfg.verify and (cfg.shard is None or cfg.shard[0] == 0):  # the pinned proofs belong to shard 0
        from minimacheck import proofs

        t0 = time.perf_counter()
        try:
            proofs_pinned = proofs.pinned(seeds=None if not cfg.quick else (9,))
        except Exception:  # noqa: BLE001 - recorded as an error, the report goes on
            errors["proofs"] = traceback.format_exc()
        log(f"proofs of the pinned counterexamples: {time.perf_counter() - t0:.0f} s")

    figures = []
    if sweeps:
        for axis in ("depth", "width"):
            path = out / f"loss_vs_{axis}.png"
            plot_axis(sweeps, axis, path)
            figures.append(path.name)
    figure_data = {}
    if (cfg.claims is None or "claim9" in cfg.claims) and (cfg.shard is None or cfg.shard[0] == 0):
        from minimacheck.figures import claim9_figures

        try:
            figure_data = claim9_figures(out, quick=cfg.quick)
            figures += list(figure_data)
        except Exception:  # noqa: BLE001 - recorded as an error, the report goes on
            errors["claim9 figures"] = traceback.format_exc()

    results = dict(
        config={**asdict(cfg), "grids": {k: asdict(g) for k, g in grids.items()}, "linear_grid": asdict(lin_grid)},
        verdicts=verdicts,
        summary={cid: {**asdict(s), "verdict": s.verdict} for cid, s in summ.items()},
        timings=dict(claims={cid: r["seconds"] for cid, r in claim_runs.items()}, other_claims_total=t_claims,
                     sweep=t_sweep, total=time.perf_counter() - t_start),
        errors=errors,
        records=[r.to_dict() for r in records],
        sweeps=[s.to_dict() for s in sweeps],
        linear_control=lin.to_dict(),
        trend={s.dataset: {axis: c5.trend_test(s.runs, axis) for axis in ("depth", "width")} for s in sweeps},
        figures=figures,
        versions=_versions(),
        proofs=dict(sweep=proof_summary(sweeps), claims=claim_proof_summary(records), pinned=proofs_pinned),
        figure_data=figure_data,
    )
    results["timings"]["total"] = time.perf_counter() - t_start
    from minimacheck import provenance  # schema version, git commit, versions, solvers, device; strict JSON

    results = {**provenance.stamp(), "shard": list(cfg.shard) if cfg.shard else None, **results}
    (out / "results.json").write_text(provenance.dumps(results, indent=1))
    (out / "summary.md").write_text(summary_markdown(results, summ, sweeps, lin))
    log(f"wrote {out / 'summary.md'}, {out / 'results.json'}, {', '.join(figures)}  "
        f"({results['timings']['total']:.0f} s: claims {t_claims:.0f} s, sweeps {t_sweep:.0f} s)")
    return results


def exit_code(results: dict) -> int:
    """0: every claim passes with evidence; 1: a claim fails, errs or has no evidence ("no evidence" is not a pass)."""
    return 0 if all(v == "PASS" for v in results["verdicts"].values()) and not results["errors"] else 1


def _versions() -> dict:
    import importlib.metadata as md

    out = {"python": sys.version.split()[0]}
    for p in ("numpy", "scipy", "torch", "scikit-learn", "matplotlib", "joblib"):
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            out[p] = None
    return out


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return x if math.isfinite(x) else str(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


# ---------------------------------------------------------------- summary.md
def _fmt(x, spec=".3g"):
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def summary_markdown(results: dict, summ: dict, sweeps, lin) -> str:
    L = ["# minimacheck report", ""]
    cfg = results["config"]
    L.append(f"seed {cfg['seed']}, jobs {cfg['jobs']}{', quick' if cfg['quick'] else ''}; total "
             f"{results['timings']['total']:.0f} s (other claims {results['timings']['other_claims_total']:.0f} s, "
             f"sweeps {results['timings']['sweep']:.0f} s)")
    L += ["", "## Verdicts", "",
          "| claim | instances | certified | passed | failed | unresolved | worst headroom (gap/tol) | negative controls "
          "caught | verdict | seconds |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for cid, v in results["verdicts"].items():
        s = summ.get(cid)
        secs = results["timings"]["claims"].get(cid, results["timings"]["sweep"] if cid == "claim5" else None)
        if s is None:
            L.append(f"| {cid} | - | - | - | - | - | - | - | **{v}** | {_fmt(secs, '.1f')} |")
        else:
            worst = _fmt(s.worst_headroom) if s.worst_headroom > -math.inf else "-"
            L.append(f"| {cid} | {s.drawn} | {s.certified} | {s.passed} | {s.failed} | {s.unresolved} | {worst} | "
                     f"{s.controls_detected}/{s.controls} | **{v}** | {_fmt(secs, '.1f')} |")
    by_part = summarize([Record.from_dict(r) for r in results["records"]], by="part")
    subs = {k: v for k, v in by_part.items() if k not in results["verdicts"]}
    if subs:
        L += ["", "Sub-claims:", "", "| sub-claim | instances | certified | passed | failed | unresolved | worst headroom "
              "| controls caught | verdict |", "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
        for k, t in subs.items():
            worst = _fmt(t.worst_headroom) if t.worst_headroom > -math.inf else "-"
            L.append(f"| {k} | {t.drawn} | {t.certified} | {t.passed} | {t.failed} | {t.unresolved} | {worst} | "
                     f"{t.controls_detected}/{t.controls} | {t.verdict} |")
    if results["errors"]:
        L += ["", "## Errors", ""]
        for k, e in results["errors"].items():
            L += [f"### {k}", "", "```", e.strip()[-3000:], "```", ""]
    L += ["", "## claim5: depth/width sweeps", ""]
    for s in sweeps:
        L += [f"### {s.dataset}", "", f"{s.description}. l_OLS = {_fmt(s.l_ols, '.4g')}, constant predictor l = "
              f"{s.l_constant:.4g}, zero predictor l = 1; m d_y = {s.m * s.d_y}. Sweep {s.seconds:.0f} s of compute.", ""]
        grid = s.config
        for act, cells in s.yield_table().items():
            head = "| depth \\ width | " + " | ".join(str(w) for w in grid["widths"]) + " |"
            L += [f"**{act}**: certified/total runs (runs certified on a kink in brackets) and median l over certified "
                  f"runs (claim1d threshold P >= m d_y marked *)", "", head,
                  "|---|" + "---:|" * len(grid["widths"])]
            for d in grid["depths"]:
                row = []
                for w in grid["widths"]:
                    c, n = cells.get((d, w), (0, 0))
                    mine = [r for r in s.runs
                            if r["activation"] == act and r["depth"] == d and r["width"] == w and r["certified"]]
                    ls = [r["l"] for r in mine]
                    kinks = sum(not r.get("differentiable", True) for r in mine)
                    star = "*" if sweep.threshold_reached(s.d_x, s.d_y, s.m, d, w) else ""
                    row.append(f"{c}/{n}{f' ({kinks})' if kinks else ''} {_fmt(float(np.median(ls)) if ls else None)}{star}")
                L.append(f"| {d} | " + " | ".join(row) + " |")
            L.append("")
        verdicts = {}
        for r in s.runs:
            if not r["certified"]:
                verdicts[r["verdict"]] = verdicts.get(r["verdict"], 0) + 1
        L.append("Uncertified runs (left out of the statistic): "
                 + (", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())) or "none"))
        ev = {}
        for r in s.certified():
            ev[r["evidence"]] = ev.get(r["evidence"], 0) + 1
        L.append("Evidence of certified runs: " + (", ".join(f"{k} {v}" for k, v in sorted(ev.items())) or "none"))
        starts = sum(r["attempts"] for r in s.runs)
        L.append(f"Starts run: {starts} for {len(s.runs)} runs (networks.find_minimum, at most "
                 f"{grid['attempts']} per run, stopped at the first certified one); escapes to a minimum at infinity "
                 f"detected: {sum(r.get('escapes', 0) for r in s.runs)}")
        c1 = [r for r in s.certified() if r["claim1_gap"] is not None]
        worst = max((r["claim1_gap"] / r["claim1_tol"] for r in c1), default=None)
        L.append(f"claim1 consistency (l equals 1/2||P_N[Dbar]y||^2/(1/2||Y||^2) within Lemma P's bracket): "
                 f"{sum(bool(r['claim1_passed']) for r in c1)}/{len(c1)} differentiable certified points, worst "
                 f"excess/tau_fp {_fmt(worst)} (kink minima have no gradient: Lemma P does not apply to "
                 f"{len(s.certified()) - len(c1)})")
        L.append("")
        for axis, t in results["trend"][s.dataset].items():
            L.append(f"- trend with {axis} (blocked Kendall S, within-block permutation p; blocks = activation x seed x "
                     f"other axis): S = {_fmt(t['statistic'], '.0f')}, p = {_fmt(t['pvalue'])} over {t['n_blocks']} blocks "
                     f"({t['n_certified']} certified runs); Page's L on {t['page_blocks']} complete blocks: "
                     f"p = {_fmt(t['page_p'])}; median l: "
                     + ", ".join(f"{k}: {_fmt(v)}" for k, v in t["median_l"].items()))
        L.append("")
    trend = [r for r in results["records"] if r["claim"] == "claim5" and r["check"].startswith("trend")]
    L.append(f"Trend assertion (p < 0.01, decreasing): {sum(r['passed'] is True for r in trend)} passed, "
             f"{sum(r['passed'] is False for r in trend)} failed, {sum(not r['certified'] for r in trend)} not testable "
             f"of {len(trend)} ("
             + "; ".join(f"{r['check']}: {'pass' if r['passed'] else 'FAIL' if r['passed'] is False else r['reason']}"
                         for r in trend) + ")")
    L += ["", "### negative controls", ""]
    for r in results["records"]:
        if r["claim"] == "claim5" and r["kind"] != "positive":
            L.append(f"- {r['check']}: {'caught' if r['detected'] else 'MISSED'} ({r['reason']})")
    L.append(f"- deep-linear control: {len(lin.certified())}/{len(lin.runs)} runs certified, {lin.description}")
    L += proofs_markdown(results.get("proofs"))
    L += ["", "Figures: " + ", ".join(f"![{f}]({f})" for f in results["figures"]), ""]
    return "\n".join(L)


def proof_summary(sweeps) -> dict:
    """Per data set: strict-mod-symmetry certified runs with P <= VERIFY_MAX_PARAMS, how many were proven, and
    the failures with their reasons."""
    out = {}
    for s in sweeps:
        tried = [r for r in s.runs if r.get("verified")]
        out[s.dataset] = dict(attempted=len(tried), verified=sum(bool(r["verified"]["ok"]) for r in tried),
                              failures=[dict(activation=r["activation"], depth=r["depth"], width=r["width"],
                                             seed=r["seed"], n_params=r["n_params"], reason=r["verified"]["reason"])
                                        for r in tried if not r["verified"]["ok"]],
                              seconds=sum(r["verified"]["seconds"] or 0.0 for r in tried))
    return out


def claim_proof_summary(records) -> dict:
    """Per sub-claim: its certified strict minima (P <= 200) proven or not, with the failures' reasons."""
    out: dict = {}
    for r in records:
        v = r.extra.get("verified") if r.kind == "positive" else None
        if not v:
            continue
        row = out.setdefault(r.part, dict(attempted=0, verified=0, failures=[], seconds=0.0))
        row["attempted"] += 1
        row["verified"] += bool(v["ok"])
        row["seconds"] += v["seconds"] or 0.0
        if not v["ok"]:
            row["failures"].append(dict(check=r.check, reason=v["reason"]))
    return out


def proofs_markdown(proofs: dict | None) -> list[str]:
    if not proofs:
        return []
    L = ["", "## Proofs (ball arithmetic, networks.verify)", "",
         "Certified strict minima (strength strict-mod-symmetry, P <= 200) of the sweeps, re-proven by a Krawczyk test "
         "in python-flint's ball arithmetic: a box that holds a unique critical point with a positive definite Hessian "
         "(modulo the symmetries, on a gauge slice), and an enclosure of its loss.", "",
         "| sweep data set / claim | attempted | verified | failures (reason) | seconds |", "|---|---:|---:|---|---:|"]
    for ds, row in proofs["sweep"].items():
        fails = "; ".join(f"{f['activation']} {f['depth']}x{f['width']} seed {f['seed']}: {f['reason']}"
                          for f in row["failures"]) or "-"
        L.append(f"| {ds} | {row['attempted']} | {row['verified']} | {fails} | {row['seconds']:.1f} |")
    for part, row in proofs.get("claims", {}).items():
        fails = "; ".join(sorted({f["reason"] for f in row["failures"]})) or "-"
        L.append(f"| {part} instances | {row['attempted']} | {row['verified']} | {fails} | {row['seconds']:.1f} |")
    if proofs["pinned"]:
        L += ["", "Pinned counterexamples (a strict local minimum PROVEN worse than the global or convex value when "
              "the comparison says 'proven >'):", "",
              "| case | verified | loss enclosure | radius | compared with | comparison |", "|---|---|---|---:|---|---|"]
        for r in proofs["pinned"]:
            enc = f"[{r['loss_lo']!r}, {r['loss_hi']!r}]" if r["ok"] else r["reason"]
            rad = f"{r['radius']:.1e}" if r["radius"] is not None else "-"
            L.append(f"| {r['case']} | {r['ok']} | {enc} | {rad} | {r['versus']} | {r['comparison']} |")
    return L


# ---------------------------------------------------------------- figures
def plot_axis(sweeps, axis: str, path) -> None:
    """One panel per (data set, activation): l at certified minima against `axis`, one colour per level of the
    other axis, seeds as dots, medians as lines, claim1's value as crosses beside the dots."""
    from minimacheck.figures import pyplot, save

    plt = pyplot()

    other = "width" if axis == "depth" else "depth"
    acts = sorted({r["activation"] for s in sweeps for r in s.runs})
    fig, axes = plt.subplots(len(acts), len(sweeps), figsize=(4.6 * len(sweeps), 3.6 * len(acts)), squeeze=False)
    for j, s in enumerate(sweeps):
        levels = s.config[axis + "s"]
        others = s.config[other + "s"]
        xpos = {lv: i for i, lv in enumerate(levels)}
        cmap = plt.get_cmap("viridis")
        for i, act in enumerate(acts):
            ax = axes[i][j]
            runs = [r for r in s.runs if r["activation"] == act]
            n_cert = sum(r["certified"] for r in runs)
            for k, ov in enumerate(others):
                col = cmap(k / max(1, len(others) - 1))
                off = (k - (len(others) - 1) / 2) * 0.08
                pts = [r for r in runs if r[other] == ov and r["certified"]]
                xs = [xpos[r[axis]] + off for r in pts]
                ax.scatter(xs, [r["l"] for r in pts], s=12, color=col, alpha=0.7, zorder=3)
                ax.scatter([x + 0.03 for x in xs], [r["claim1_l"] for r in pts], s=14, marker="x", color=col, alpha=0.6, zorder=3)
                med = [(xpos[lv] + off, float(np.median([r["l"] for r in pts if r[axis] == lv]))) for lv in levels
                       if any(r[axis] == lv for r in pts)]
                if med:
                    ax.plot(*zip(*med), color=col, lw=1.2, label=f"{other} {ov}")
                thr = [lv for lv in levels
                       if sweep.threshold_reached(s.d_x, s.d_y, s.m, *((lv, ov) if axis == "depth" else (ov, lv)))]
                if thr:
                    ax.axvline(xpos[thr[0]] + off, color=col, ls=":", lw=1)
            ax.axhline(1.0, color="k", ls=":", lw=0.8, label="zero predictor")
            ax.axhline(s.l_constant, color="0.5", ls="-.", lw=0.8, label="constant predictor")
            if s.l_ols is not None:
                ax.axhline(s.l_ols, color="tab:red", ls="--", lw=0.9, label="OLS")
            ax.set_yscale("symlog", linthresh=1e-3)
            ax.set_ylim(-1e-4, 1.2)
            ax.set_xticks(range(len(levels)), [str(lv) for lv in levels])
            ax.set_xlabel(axis)
            ax.set_ylabel("l = L / (1/2 ||Y||^2)")
            ax.set_title(f"{s.dataset}, {act}: {n_cert}/{len(runs)} certified", fontsize=9)
            if i == 0 and j == 0:
                ax.legend(fontsize=6, loc="upper right")
    fig.suptitle(f"normalized loss at certified minima vs {axis} (dots: seeds; x: claim1 value 1/2||P_N[Dbar]y||^2; "
                 f"dotted verticals: P >= m d_y)", fontsize=9)
    save(fig, path)


# ---------------------------------------------------------------- CLI
def _ints(text: str) -> tuple[int, ...]:
    try:
        vals = tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise ValueError(f"expected a comma-separated list of integers, got {text!r}") from None
    if not vals or any(v < 1 for v in vals):
        raise ValueError(f"expected positive integers, got {text!r}")
    return vals


def _names(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def add_parser(subparsers) -> None:
    import argparse

    def ints(t):
        try:
            return _ints(t)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    p = subparsers.add_parser("report", help="run every claim's report mode and the depth/width sweeps; write a report folder")
    p.add_argument("--out", default="minimacheck-report", help="output folder (default ./minimacheck-report)")
    p.add_argument("--seed", type=int, default=0, help="seed for data, sweeps and claim instances (default 0)")
    p.add_argument("--quick", action="store_true", help="a tiny configuration (smoke test, ~1 min)")
    p.add_argument("--data", type=_names, default=DEFAULT_DATA,
                   help=f"comma-separated data sets from {','.join(datasets.NAMES)} (default synthetic,digits)")
    p.add_argument("--grid", choices=("default", "full"), default="default", dest="sweep_grid",
                   help="claim5's sweep grid: default (depths 1-3 x widths 2-8, 6 seeds, <= 5 min on 2 cores) or full "
                        "(the handbook's depths 1-4 x widths 2-32, 10 seeds: campaigns)")
    p.add_argument("--depths", type=ints, default=None, help="comma-separated depths (default: the grid's)")
    p.add_argument("--widths", type=ints, default=None, help="comma-separated widths (default 2,4,8)")
    p.add_argument("--activations", type=_names, default=None, help="default leaky_relu,tanh")
    p.add_argument("--seeds", type=int, default=None, dest="n_seeds",
                   help="seeds (blocks) per cell (default 6 on synthetic, 4 on image sets; 2 with --quick)")
    p.add_argument("--subsample", type=int, default=None, help="m, samples per data set (default per data set)")
    p.add_argument("--jobs", type=int, default=sweep.default_jobs(), help="parallel workers (joblib; default: all cores)")
    p.add_argument("--claims", type=_names, default=None, help="restrict the other claims to these ids ('none': skip them)")
    p.add_argument("-n", "--n-instances", type=int, default=None, dest="n_instances",
                   help="positive instances per other claim (default 3; 1 with --quick)")
    p.add_argument("--no-progress", action="store_false", dest="progress", help="no progress bars")
    p.add_argument("--no-verify", action="store_false", dest="verify",
                   help="skip the ball-arithmetic proofs of strict minima and pinned counterexamples")
    p.add_argument("--shard", metavar="i/n", help="run only work items k with k mod n == i (claim instances, pinned "
                   "cases, controls, sweep cells); the n shards together are the unsharded run")
    p.add_argument("--backend", choices=("loky", "dask"), default="loky", help="joblib backend of the sweeps: dask "
                   "runs them on a dask.distributed cluster (--scheduler, else a local one)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler address, e.g. tcp://host:8786")
    p.add_argument("--junit-xml", metavar="PATH", dest="junit_xml", help="also write a JUnit XML file")
    p.add_argument("--artifacts", metavar="DIR", default="failures", help="folder for counterexample files (default failures/)")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args) -> int:
    from minimacheck.cli import UsageError
    from minimacheck.cli import parse_shard as cli_shard

    claims_sel = args.claims
    if claims_sel is not None and tuple(c.lower() for c in claims_sel) == ("none",):
        claims_sel = ()
    unknown = unknown_claims(claims_sel)
    if unknown:
        known = [c for c in registered_claims() if not c.startswith("external")] + ["claim5"]
        raise UsageError(f"unknown claim(s) {', '.join(map(repr, unknown))}; registered: "
                         f"{', '.join(sorted(set(known), key=_claim_order))}")
    for name in args.data:
        if name.lower().replace("-", "") not in datasets.NAMES:
            raise UsageError(f"unknown data set {name!r}; known: {', '.join(datasets.NAMES)}")
    if args.jobs < 1:
        raise UsageError("--jobs must be >= 1")
    cfg = ReportConfig(out=args.out, seed=args.seed, quick=args.quick, data=tuple(args.data), depths=args.depths,
                       widths=args.widths, activations=args.activations, n_seeds=args.n_seeds, subsample=args.subsample,
                       jobs=args.jobs, claims=claims_sel, n_instances=args.n_instances,
                       progress=args.progress, sweep_grid=args.sweep_grid, verify=args.verify, shard=cli_shard(args.shard),
                       artifacts=args.artifacts)
    from minimacheck import shard

    with shard.backend(args.backend, address=args.scheduler):
        results = build(cfg)
    shard.report_extras(results, cfg, args.junit_xml)
    for cid, v in results["verdicts"].items():
        print(f"  {cid:<8} {v}")
    return exit_code(results) if not cfg.shard or cfg.shard[1] == 1 else shard.exit_code(results)
