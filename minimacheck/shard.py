"""Work items for campaigns beyond one machine: `check --shard i/n`, `report --shard i/n`, and the sweep backend.

The work of a run is a deterministic list of items (claim, part, kind, key): for each part, its positive instances
0..n-1 (drawn once from the part's strategy with the run's seed, minimacheck.draws), its pinned
cases and its negative controls, in that order; the report adds its sweep cells. Item k belongs to shard k mod n,
so the union of the n shards is exactly the unsharded run, item for item and record for record.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from minimacheck.contract import Claim, Part
from minimacheck.draws import draw
from minimacheck.ledger import Record


@dataclass(frozen=True)
class Item:
    claim: str
    part: str
    kind: str  # 'positive' | 'pinned' | 'control'
    key: Any  # instance index (positive) or name (pinned, control)
    index: int  # position in the run's item list: item k goes to shard k mod n

    @property
    def id(self) -> str:
        return f"{self.part}:{self.kind}:{self.key}"


def mine(index: int, shard: tuple[int, int] | None) -> bool:
    return shard is None or index % shard[1] == shard[0]


def items(claims: list[Claim], n: int) -> list[Item]:
    out: list[Item] = []
    for c in claims:
        for p in c.parts:
            keys = [("positive", i) for i in range(n)] + [("pinned", k) for k in p.pinned] + \
                   [("control", k) for k in p.controls]
            for kind, key in keys:
                out.append(Item(c.id, p.id, kind, key, len(out)))
    return out


def run_item(part: Part, item: Item, params=None, *, artifacts_dir=None, verify: bool = False
             ) -> tuple[Record, str | None]:
    """Run one item; on a failure (failed positive, missed control) write a replayable artifact when asked; with
    verify, a certified strict minimum is proven in ball arithmetic (minimacheck.proofs.verify_record, extra
    'verified'). Returns (record, artifact path or None)."""
    from minimacheck import artifacts
    from minimacheck.contract import outcome_ok

    with artifacts.capture(part) as seen:
        if item.kind == "control":
            rec = part.controls[item.key](part)
        else:
            if params is None:
                params = part.pinned[item.key]
            rec = part.check(params)
    if verify:
        from minimacheck.proofs import verify_record

        proof = verify_record(rec, seen.find(rec))
        if proof is not None:
            rec.extra["verified"] = proof
    path = None
    if artifacts_dir is not None and not outcome_ok(rec):
        path = str(artifacts.save(artifacts_dir, part, rec, kind=item.kind, name=item.key, params=params,
                                  captured=seen.find(rec)))
    return rec, path


def run_claim_items(claim: Claim, n: int, seed: int, *, shard=None, artifacts_dir=None,
                    controls: bool = True, verify: bool = False) -> tuple[list[Record], list[str]]:
    """The claim's records (those of this shard), in the unsharded run's order, and the artifacts written."""
    records, paths = [], []
    all_items = items([claim], n)
    by_part = {p.id: p for p in claim.parts}
    drawn: dict[str, list] = {}
    for it in all_items:
        if not mine(it.index, shard) or (it.kind == "control" and not controls):
            continue
        part = by_part[it.part]
        params = None
        if it.kind == "positive":
            if it.part not in drawn:
                drawn[it.part] = draw(part.strategy(), n, seed)
            if it.key >= len(drawn[it.part]):
                continue  # the strategy's space is smaller than n
            params = drawn[it.part][it.key]
        rec, path = run_item(part, it, params, artifacts_dir=artifacts_dir, verify=verify)
        rec.extra.setdefault("work_item", it.id)
        if path:
            rec.extra["artifact"] = path
            paths.append(path)
        records.append(rec)
    return records, paths


def sweep_tasks_of_shard(tasks: list, shard) -> list:
    """The sweep tasks (one per data set, activation, depth, width, seed) of this shard, in order."""
    return [t for k, t in enumerate(tasks) if mine(k, shard)]


# ---------------------------------------------------------------- backends
@contextlib.contextmanager
def backend(name: str | None, *, address: str | None = None, n_workers: int | None = None):
    """joblib's backend switch for the sweeps. 'dask': joblib.parallel_config(backend="dask") inside a
    dask.distributed.Client (of `address`, e.g. tcp://scheduler:8786, or a local cluster); None/'loky': as is."""
    if name in (None, "", "loky", "default"):
        yield None
        return
    if name != "dask":
        raise ValueError(f"unknown backend {name!r}; known: loky (default), dask")
    import joblib
    from dask.distributed import Client, LocalCluster

    if address:
        client = Client(address)
        cluster = None
    else:
        cluster = LocalCluster(n_workers=n_workers or 1, threads_per_worker=1, processes=False)
        client = Client(cluster)
    try:
        with joblib.parallel_config(backend="dask"):
            yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ---------------------------------------------------------------- report hooks
def report_extras(results: dict, cfg, junit_path=None) -> None:
    """After `minimacheck report`: JUnit XML and the list of counterexample files written by the workers."""
    import pathlib

    from minimacheck import junit
    from minimacheck.ledger import Record

    records = [Record.from_dict(d) for d in results.get("records", [])]
    if junit_path:
        junit.write(junit_path, records, suite="minimacheck report", errors=results.get("errors"))
    if cfg.artifacts and pathlib.Path(cfg.artifacts).is_dir():
        for r in records:
            if r.extra.get("artifact"):
                print(f"counterexample saved to {r.extra['artifact']}; replay with: minimacheck replay {r.extra['artifact']}")


def exit_code(results: dict) -> int:
    """A shard's exit code: 1 on a failed positive, a missed control or an error among ITS records; claim5's trend
    records need every sweep cell, so they are judged on the merged (unsharded) run only."""
    from minimacheck.contract import outcome_ok
    from minimacheck.ledger import Record

    recs = [Record.from_dict(d) for d in results.get("records", [])]
    bad = [r for r in recs if r.claim != "claim5" and not outcome_ok(r)]
    errors = {k: v for k, v in results.get("errors", {}).items() if not k.startswith("claim5")}
    return 1 if bad or errors else 0
