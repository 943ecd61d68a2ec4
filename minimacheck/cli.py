"""The `minimacheck` command (also `python -m claims`)."""
from __future__ import annotations

import argparse
import sys


def _cmd_list(args) -> int:
    from minimacheck.registry import discover

    for cid, c in discover().items():
        print(f"{cid:<8} {c.title}")
        print(f"{'':<8} source: {c.source}")
        if args.verbose:
            print(f"{'':<8} statement: {c.statement}")
            for h in c.hypotheses:
                print(f"{'':<8} hypothesis: {h}")
            for n in c.negative_controls:
                print(f"{'':<8} negative control: {n}")
    return 0


def _cmd_check(args) -> int:
    from minimacheck.ledger import summary_lines
    from minimacheck.registry import RunConfig, get

    claim = get(args.claim)
    records = claim.run(RunConfig(n_instances=args.n, seed=args.seed, time_budget=args.budget))
    for r in records:
        hr = f"{r.headroom:.3g}" if r.headroom is not None else "-"
        state = {True: "pass", False: "FAIL", None: "-"}[r.passed] if r.kind == "positive" else ("caught" if r.detected else "MISSED")
        print(f"{r.claim:<8} {r.kind:<17} {r.check:<34} certified={str(r.certified):<5} {state:<6} gap/tol={hr:<9} {r.reason}")
    print()
    for line in summary_lines(records):
        print(line)
    bad = any(r.passed is False for r in records) or any(r.kind != "positive" and not r.detected for r in records)
    return 1 if bad else 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="minimacheck", description=__doc__.split("\n")[0] + " Checks loss-landscape theorems numerically.")
    sub = p.add_subparsers(dest="cmd", required=True)
    pl = sub.add_parser("list", help="print the claim registry")
    pl.add_argument("-v", "--verbose", action="store_true", help="also print statements, hypotheses and controls")
    pl.set_defaults(func=_cmd_list)
    pc = sub.add_parser("check", help="run one claim in report mode and print its verdicts")
    pc.add_argument("claim", help="claim id, e.g. claim2")
    pc.add_argument("-n", type=int, default=6, help="positive instances to draw (default 6)")
    pc.add_argument("--seed", type=int, default=0, help="seed that draws the instances (default 0)")
    pc.add_argument("--budget", type=float, default=20.0, help="training time budget per instance in seconds")
    pc.set_defaults(func=_cmd_check)
    # the report (main job) and the trainer benchmark live in their own modules; each adds its sub-command
    from minimacheck import bench, report

    report.add_parser(sub)
    bench.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
