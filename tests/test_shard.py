"""Campaigns beyond one machine: --shard i/n (the union of the shards is exactly the unsharded run) for check and
report, and the sweeps on a dask.distributed cluster through joblib's backend switch (the same numbers)."""
from __future__ import annotations

import json

import pytest
from ext_claim_fixtures import forget_modules, make_test_claims

from minimacheck import cli, shard

pytestmark = pytest.mark.meta


@pytest.fixture
def test_claims(tmp_path, monkeypatch):
    for p in make_test_claims(tmp_path / "dist"):
        monkeypatch.syspath_prepend(p)
    forget_modules("mc_testclaim")
    from minimacheck import registry

    yield registry.external()
    forget_modules("mc_testclaim")


def _strict(text):
    def bad(c):
        raise ValueError(f"non-finite number {c} in JSON")
    return json.loads(text, parse_constant=bad)


@pytest.mark.parametrize("n_shards", [1, 2, 3, 5])
def test_check_shards_partition_the_run(test_claims, n_shards):
    claims = [test_claims["mc_testclaim.ok"], test_claims["mc_testclaim.wrong"]]
    whole = [r.to_dict() for c in claims for r in shard.run_claim_items(c, 4, 7)[0]]
    parts = [[r.to_dict() for c in claims for r in shard.run_claim_items(c, 4, 7, shard=(i, n_shards))[0]]
             for i in range(n_shards)]
    keys = [[r["extra"]["work_item"] for r in p] for p in parts]
    assert sum(len(k) for k in keys) == len(whole)  # every item once
    assert sorted(x for k in keys for x in k) == sorted(r["extra"]["work_item"] for r in whole)
    key = lambda r: (r["claim"], r["extra"]["work_item"])  # noqa: E731
    assert sorted((r for p in parts for r in p), key=key) == sorted(whole, key=key)


def test_check_shard_option(test_claims, capsys):
    assert cli.main(["check", "mc_testclaim.ok", "-n", "3", "--shard", "1/2"]) == 0
    assert "[shard 1/2]" in capsys.readouterr().out
    assert cli.main(["check", "mc_testclaim.ok", "--shard", "2/2"]) == 2
    assert cli.main(["check", "mc_testclaim.ok", "--shard", "x"]) == 2


def _timeless(run: dict) -> dict:
    """A sweep run without its wall-clock fields (its own and its proof's), which no two runs share."""
    out = {k: v for k, v in run.items() if k != "seconds"}
    if isinstance(out.get("verified"), dict):
        out["verified"] = {k: v for k, v in out["verified"].items() if k != "seconds"}
    return out


def test_report_shards_cover_every_claim_once(test_claims, tmp_path):
    """Every work item of the report (claim instances, pinned cases, controls, sweep cells) runs in exactly one
    shard, and the records equal the unsharded run's; results.json is strict JSON with provenance."""
    base = ["report", "--claims", "mc_testclaim.ok", "-n", "3", "--data", "synthetic", "--quick", "--depths", "1",
            "--widths", "1", "--activations", "tanh", "--seeds", "2", "--subsample", "12", "--jobs", "1", "--no-progress"]
    runs = {}
    for tag, extra in {"all": [], "s0": ["--shard", "0/2"], "s1": ["--shard", "1/2"]}.items():
        out = tmp_path / tag
        code = cli.main(base + ["--out", str(out), *extra, "--junit-xml", str(out / "junit.xml")])
        assert code in (0, 1)
        runs[tag] = _strict((out / "results.json").read_text())
        assert (out / "junit.xml").exists()
    doc = runs["all"]
    for key in ("schema_version", "git_commit", "versions", "solvers", "device"):
        assert key in doc, key
    assert doc["shard"] is None and runs["s0"]["shard"] == [0, 2]

    def claim_items(r):
        return sorted(x["extra"]["work_item"] for x in r["records"] if x["claim"] == "mc_testclaim.ok")

    def cells(r):
        rows = [run for s in r["sweeps"] for run in s["runs"]] + r["linear_control"]["runs"]
        return sorted(json.dumps(_timeless(run), sort_keys=True) for run in rows)

    assert claim_items(runs["s0"]) and claim_items(runs["s1"])
    assert sorted(claim_items(runs["s0"]) + claim_items(runs["s1"])) == claim_items(runs["all"])
    assert not set(claim_items(runs["s0"])) & set(claim_items(runs["s1"]))
    assert cells(runs["s0"]) and cells(runs["s1"])
    assert sorted(cells(runs["s0"]) + cells(runs["s1"])) == cells(runs["all"])


def test_dask_sweep_equals_the_default_backend():
    """joblib.parallel_config(backend="dask") inside a dask.distributed Client on an in-process LocalCluster:
    the same numbers as the default backend. (Two single-thread workers: with one, joblib would run the tasks
    in the calling thread and dask would not be exercised.)"""
    get_worker = pytest.importorskip("dask.distributed").get_worker
    from minimacheck import datasets, sweep

    ds = datasets.synthetic(m=10, d_x=2, seed=0)
    cfg = sweep.SweepConfig(depths=(1,), widths=(1, 2), activations=("tanh",), seeds=(0,), attempts=1, max_iter=20)
    ref = sweep.run_sweep([ds], cfg, n_jobs=1, progress=False)[0]
    with shard.backend("dask", n_workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        from joblib import Parallel, delayed

        where = Parallel(n_jobs=2)(delayed(lambda: get_worker().address)() for _ in range(2))
        assert all(w.startswith("inproc://") for w in where)  # really on the dask workers
        got = sweep.run_sweep([ds], cfg, n_jobs=2, progress=False)[0]
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(got.runs) == strip(ref.runs)
