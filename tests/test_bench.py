"""`minimacheck bench`: the accounting (uncertified = full budget), the summary, and the --json output of a quick run.

No timing asserts: the machine is shared, so only structure and accounting are checked.
"""
from __future__ import annotations

import argparse
import json
import math

import pytest

from minimacheck import bench

REQUIRED_KEYS = ("instances", "certified", "yield", "yield_random", "median_s_project", "median_s_scipy",
                 "speedup_vs_scipy", "median_s_adam", "speedup_vs_adam")


# ---------------------------------------------------------------- accounting, without training
def test_charged_seconds_certified_counts_its_time():
    assert bench.charged_seconds(0.25, True, 10.0) == 0.25


def test_charged_seconds_uncertified_counts_full_budget_however_early_it_stopped():
    # a method that gives up after 0.01 s without a certificate must not look fast
    assert bench.charged_seconds(0.01, False, 10.0) == 10.0
    assert bench.charged_seconds(12.0, False, 10.0) == 10.0


def test_charged_seconds_certified_overrun_is_capped_at_budget():
    assert bench.charged_seconds(10.4, True, 10.0) == 10.0


@pytest.mark.parametrize("seconds,budget", [(1.0, 0.0), (1.0, -1.0), (-1.0, 5.0), (math.nan, 5.0)])
def test_charged_seconds_rejects_bad_input(seconds, budget):
    with pytest.raises(ValueError):
        bench.charged_seconds(seconds, True, budget)


def _rec(group, target, seed, method, seconds, certified, budget=10.0):
    return dict(group=group, target=target, activation="tanh", m=10, P=41, seed=seed, method=method, budget_s=budget,
                seconds=seconds, charged_s=bench.charged_seconds(seconds, certified, budget), certified=certified,
                verdict="CERTIFIED_MINIMUM" if certified else "NOT_CONVERGED", strength=None, loss=0.0, grad_norm=0.0,
                status="", iterations=1, cert_s=0.0, cert_reason="")


def test_summary_charges_uncertified_instances_at_the_budget_and_splits_yields():
    groups = (bench.Group("t", "tanh", "teacher", 10, 2, 8, 10.0, n=3), bench.Group("r", "tanh", "random", 10, 2, 8, 10.0, n=2))
    recs = []
    # project: certifies 2 of 3 teacher instances fast (0.1 s) and gives up early (0.05 s) on the third;
    # it certifies 1 of 2 random instances at 0.2 s
    recs += [_rec("t", "teacher", 0, "project", 0.1, True), _rec("t", "teacher", 1, "project", 0.1, True),
             _rec("t", "teacher", 2, "project", 0.05, False),
             _rec("r", "random", 0, "project", 0.2, True), _rec("r", "random", 1, "project", 0.05, False)]
    # scipy: certifies only the easy instance (0.3 s) and fails quickly elsewhere: every failure costs 10 s
    recs += [_rec("t", "teacher", 0, "scipy", 0.3, True)] + [
        _rec(g, t, s, "scipy", 0.01, False) for g, t, s in (("t", "teacher", 1), ("t", "teacher", 2), ("r", "random", 0), ("r", "random", 1))]
    # adam: certifies nothing
    recs += [_rec(g, t, s, "adam", 10.0, False) for g, t, s in
             (("t", "teacher", 0), ("t", "teacher", 1), ("t", "teacher", 2), ("r", "random", 0), ("r", "random", 1))]
    out = bench.summarize(recs, groups)
    assert out["instances"] == 5
    assert out["certified"] == 3
    assert out["yield"] == pytest.approx(2 / 3)
    assert out["yield_random"] == pytest.approx(1 / 2)
    # project charged times: 0.1, 0.1, 10, 0.2, 10 -> median 0.2
    assert out["median_s_project"] == pytest.approx(0.2)
    # scipy charged times: 0.3, 10, 10, 10, 10 -> median 10, although its failures took 0.01 s
    assert out["median_s_scipy"] == pytest.approx(10.0)
    assert out["speedup_vs_scipy"] == pytest.approx(50.0)
    assert out["median_s_adam"] == pytest.approx(10.0)
    assert out["groups"]["t"]["methods"]["scipy"]["yield"] == pytest.approx(1 / 3)
    assert out["groups"]["t"]["methods"]["scipy"]["median_s"] == pytest.approx(10.0)
    assert out["methods"]["project"]["median_s_teacher"] == pytest.approx(0.1)
    assert out["acceptance"]["yield_ok"] is False


def test_bad_bench_input_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown method"):
        bench.run_bench(bench.QUICK_GROUPS, methods=("project", "sgd"), warm_up=False)
    with pytest.raises(ValueError, match="budget"):
        bench.run_bench(bench.QUICK_GROUPS, budget=0.0, warm_up=False)
    with pytest.raises(ValueError, match="target"):
        bench.Group("g", "tanh", "labels", 10, 2, 4, 1.0)


def test_instance_builder_is_deterministic_and_teacher_groups_are_overparameterized():
    import torch

    g = bench.DEFAULT_GROUPS[0]
    obj1, th1 = bench.build_instance(g, 0)
    obj2, th2 = bench.build_instance(g, 0)
    assert torch.equal(th1, th2) and obj1.value(th1) == obj2.value(th2)
    assert bench.build_instance(g, 1)[1].ne(th1).any()
    for grp in bench.DEFAULT_GROUPS:
        if grp.target == "teacher":
            assert grp.n_params >= 2 * grp.m, grp.name  # the documented design: P >= 2m
    Ps = [grp.n_params for grp in bench.DEFAULT_GROUPS]
    ms = [grp.m for grp in bench.DEFAULT_GROUPS]
    assert min(Ps) >= 50 and max(Ps) <= 2000 and min(ms) == 20 and max(ms) == 500
    acts = {grp.activation for grp in bench.DEFAULT_GROUPS}
    assert acts == {"tanh", "softplus", "leaky_relu", "relu"}


# ---------------------------------------------------------------- one quick run through the sub-command
@pytest.fixture(scope="module")
def quick_json(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "out" / "bench.json"
    parser = argparse.ArgumentParser()
    bench.add_parser(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(["bench", "--quick", "--json", str(path)])
    assert args.func(args) == 0
    return json.loads(path.read_text())


def test_quick_bench_json_has_the_required_keys_and_types(quick_json):
    for k in REQUIRED_KEYS:
        assert k in quick_json, k
    n = sum(g.n for g in bench.QUICK_GROUPS)
    assert quick_json["instances"] == n and isinstance(quick_json["certified"], int)
    assert 0 <= quick_json["certified"] <= n
    for k in ("yield", "yield_random"):
        assert isinstance(quick_json[k], float) and 0.0 <= quick_json[k] <= 1.0
    for k in ("median_s_project", "median_s_scipy", "median_s_adam", "speedup_vs_scipy", "speedup_vs_adam"):
        assert isinstance(quick_json[k], float) and quick_json[k] > 0, k
    assert quick_json["speedup_vs_scipy"] == pytest.approx(quick_json["median_s_scipy"] / quick_json["median_s_project"])


def test_quick_bench_reports_every_group_and_method_with_yields_in_range(quick_json):
    assert set(quick_json["groups"]) == {g.name for g in bench.QUICK_GROUPS}
    for name, g in quick_json["groups"].items():
        assert set(g["methods"]) == set(bench.METHODS), name
        for meth, s in g["methods"].items():
            assert 0.0 <= s["yield"] <= 1.0
            assert s["certified"] <= s["instances"]
            assert sum(s["verdicts"].values()) == s["instances"]
            assert 0 < s["median_s"] <= g["budget_s"]


def test_quick_bench_records_charge_uncertified_runs_the_full_budget(quick_json):
    recs = quick_json["records"]
    assert len(recs) == quick_json["instances"] * len(bench.METHODS)
    for r in recs:
        assert r["certified"] == (r["verdict"] == "CERTIFIED_MINIMUM")
        if r["certified"]:
            assert r["charged_s"] == pytest.approx(min(r["seconds"], r["budget_s"]))
        else:
            assert r["charged_s"] == r["budget_s"]
    # every method got the same instances (same group and seed set)
    keys = {m: sorted((r["group"], r["seed"]) for r in recs if r["method"] == m) for m in bench.METHODS}
    assert keys["project"] == keys["scipy"] == keys["adam"]
