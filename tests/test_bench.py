"""`minimacheck bench`: the accounting (time per certified minimum over all starts), instance yields, the same starts
for every method, and the --json output of a quick run.

No timing asserts: the machine is shared, so only structure and accounting are checked.
"""
from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest
import torch

from minimacheck import bench

REQUIRED_KEYS = ("instances", "starts", "certified", "yield_per_start", "instance_yield_teacher", "instance_yield_random",
                 "escapes", "time_per_certified_project", "time_per_certified_scipy", "time_per_certified_scipy_trf",
                 "time_per_certified_adam", "speedup_vs_scipy", "speedup_vs_scipy_trf", "speedup_vs_adam",
                 "speedup_vs_scipy_lower", "speedup_vs_scipy_trf_lower", "speedup_vs_best_scipy", "best_scipy", "acceptance")


# ---------------------------------------------------------------- accounting, without training
def test_time_per_certified_divides_total_time_by_certified_minima():
    assert bench.time_per_certified(8.0, 4) == 2.0
    assert bench.time_per_certified(8.0, 0) is None  # nothing certified: no finite time per certified minimum


@pytest.mark.parametrize("total,cert", [(-1.0, 1), (math.nan, 1), (1.0, -1)])
def test_time_per_certified_rejects_bad_input(total, cert):
    with pytest.raises(ValueError):
        bench.time_per_certified(total, cert)


def _irec(group, target, under, seed, method, total_s, certified, starts=4, escapes=0):
    return dict(group=group, target=target, activation="tanh", under=under, m=10, P=41, seed=seed, method=method,
                total_s=total_s, starts=starts, certified=certified, any_certified=certified > 0, escapes=escapes, cert_s=0.0)


def test_summary_instance_yield_time_per_certified_and_speedups():
    groups = (bench.Group("t", "tanh", "teacher", 40, 2, (4,), 1.0, n=3, starts=4),
              bench.Group("r", "tanh", "random", 40, 2, (4,), 1.0, n=2, starts=4),
              bench.Group("o", "tanh", "teacher", 4, 2, (8,), 1.0, n=1, starts=4))
    assert groups[0].under and groups[1].under and not groups[2].under
    ir = []
    # project: teacher instances 2/4, 0/4, 1/4 certified (instance yield 2/3); random 1/4, 0/4 with 3 escapes
    ir += [_irec("t", "teacher", True, 0, "project", 2.0, 2), _irec("t", "teacher", True, 1, "project", 2.0, 0),
           _irec("t", "teacher", True, 2, "project", 2.0, 1), _irec("r", "random", True, 0, "project", 1.0, 1),
           _irec("r", "random", True, 1, "project", 1.0, 0, escapes=3), _irec("o", "teacher", False, 0, "project", 5.0, 4)]
    # scipy: 1 certified minimum in 16 s on the under-parameterized groups
    ir += [_irec("t", "teacher", True, s, "scipy", 4.0, int(s == 0)) for s in range(3)]
    ir += [_irec("r", "random", True, s, "scipy", 2.0, 0) for s in range(2)] + [_irec("o", "teacher", False, 0, "scipy", 1.0, 4)]
    # scipy-trf certifies nothing
    ir += [_irec(g, t, u, s, "scipy-trf", 3.0, 0) for g, t, u, s in
           (("t", "teacher", True, 0), ("t", "teacher", True, 1), ("t", "teacher", True, 2), ("r", "random", True, 0),
            ("r", "random", True, 1), ("o", "teacher", False, 0))]
    out = bench.summarize(ir, [], groups)
    assert out["instances"] == 6 and out["starts"] == 24 and out["certified"] == 8
    assert out["instance_yield_teacher"] == pytest.approx(3 / 4)  # t: 2 of 3, o: 1 of 1
    assert out["instance_yield_random"] == pytest.approx(1 / 2)
    assert out["escapes"] == 3
    # under-parameterized groups only: project 8 s / 4 certified = 2 s; scipy 16 s / 1 = 16 s
    assert out["time_per_certified_project"] == pytest.approx(2.0)
    assert out["time_per_certified_scipy"] == pytest.approx(16.0)
    assert out["speedup_vs_scipy"] == pytest.approx(8.0)
    assert out["time_per_certified_scipy_trf"] is None and out["speedup_vs_scipy_trf"] is None
    assert out["speedup_vs_scipy_trf_lower"] == pytest.approx(15.0 / 2.0)  # 15 s total as if one were certified
    assert out["best_scipy"] == "scipy-trf" and out["speedup_vs_best_scipy"] == pytest.approx(7.5)
    assert out["acceptance"]["yield_ok"] is False and out["acceptance"]["speedup_ok"] is False
    t = out["groups"]["t"]["methods"]["project"]
    assert (t["certified"], t["starts"], t["instances_certified"]) == (3, 12, 2)
    assert t["time_per_certified"] == pytest.approx(2.0) and t["yield_per_start"] == pytest.approx(3 / 12)
    assert out["groups"]["t"]["speedup_vs_scipy"] == pytest.approx((12.0 / 1) / 2.0)


def test_bad_bench_input_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown method"):
        bench.run_bench(bench.QUICK_GROUPS, methods=("project", "sgd"), warm_up=False)
    with pytest.raises(ValueError, match="budget"):
        bench.run_bench(bench.QUICK_GROUPS, budget=0.0, warm_up=False)
    with pytest.raises(ValueError, match="target"):
        bench.Group("g", "tanh", "labels", 10, 2, (4,), 1.0)
    with pytest.raises(ValueError, match="rank"):
        bench.Group("g", "tanh", "teacher", 10, 2, (4,), 1.0, rank=3)


def test_instance_set_covers_the_claims_shapes_and_starts_match_find_minimum():
    from networks.multistart import mlp_init

    g = bench.DEFAULT_GROUPS[0]
    a, b = bench.build_instance(g, 0), bench.build_instance(g, 0)
    assert all(torch.equal(x, y) for x, y in zip(a.starts, b.starts)) and a.obj.value(a.starts[0]) == b.obj.value(b.starts[0])
    assert len(a.starts) == g.starts <= 8
    # the bench's start i is find_minimum's start i
    for i, th in enumerate(a.starts):
        assert torch.equal(th, torch.as_tensor(mlp_init(a.model)(np.random.default_rng([a.fm_seed, i]))))
    groups = bench.DEFAULT_GROUPS
    under = [g for g in groups if g.under]
    assert any(len(g.widths) == 2 for g in under) and any(len(g.widths) == 3 for g in under)
    assert any(g.d_out == 3 for g in under) and any(g.rank is not None for g in under)
    assert any(g.activation == "leaky_relu" for g in under)
    assert {g.target for g in under} == {"teacher", "random"}
    rd = next(g for g in groups if g.rank is not None)
    X = bench.build_instance(rd, 0).obj.piecewise  # smooth net: no piecewise data
    assert X is None
    inst = bench.build_instance(rd, 0)
    J = inst.obj.jacobian(inst.starts[0])
    assert J.shape == (rd.m * rd.d_out, rd.n_params)


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
    assert quick_json["instances"] == n and quick_json["starts"] == sum(g.n * g.starts for g in bench.QUICK_GROUPS)
    assert 0 <= quick_json["certified"] <= quick_json["starts"]
    for k in ("instance_yield_teacher", "instance_yield_random", "yield_per_start"):
        assert isinstance(quick_json[k], float) and 0.0 <= quick_json[k] <= 1.0
    assert isinstance(quick_json["escapes"], int) and quick_json["escapes"] >= 0
    for k in ("speedup_vs_scipy_lower", "speedup_vs_scipy_trf_lower", "speedup_vs_adam_lower"):
        assert quick_json[k] is None or quick_json[k] > 0


def test_quick_bench_reports_every_group_and_method(quick_json):
    assert set(quick_json["groups"]) == {g.name for g in bench.QUICK_GROUPS}
    for name, g in quick_json["groups"].items():
        assert set(g["methods"]) == set(bench.METHODS), name
        for _meth, s in g["methods"].items():
            assert 0.0 <= s["instance_yield"] <= 1.0 and 0.0 <= s["yield_per_start"] <= 1.0
            assert s["certified"] <= s["starts"] and s["instances_certified"] <= s["instances"]
            assert sum(s["verdicts"].values()) == s["starts"]
            if s["certified"]:
                assert s["time_per_certified"] == pytest.approx(s["total_s"] / s["certified"])


def test_quick_bench_every_method_ran_the_same_starts(quick_json):
    recs = quick_json["records"]
    starts = sum(g.n * g.starts for g in bench.QUICK_GROUPS)
    assert len(recs) == starts * len(bench.METHODS)
    keys = {m: sorted((r["group"], r["seed"], r["start"]) for r in recs if r["method"] == m) for m in bench.METHODS}
    assert all(keys[m] == keys["project"] for m in bench.METHODS)
    for r in recs:
        assert r["certified"] == (r["verdict"] == "CERTIFIED_MINIMUM")
