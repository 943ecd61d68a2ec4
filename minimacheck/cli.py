"""The `minimacheck` command (also `python -m claims`)."""
from __future__ import annotations

import argparse
import sys

from minimacheck import __version__


EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input: printed as one line, exit code 2."""


def _cmd_list(args) -> int:
    from minimacheck.registry import discover

    for cid, c in discover().items():
        print(f"{cid:<8} {c.title}")
        print(f"{'':<8} source: {c.source}")
        print(f"{'':<8} evidence: {c.evidence.value}")
        if args.verbose:
            print(f"{'':<8} statement: {c.statement}")
            for h in c.hypotheses:
                print(f"{'':<8} hypothesis: {h}")
            for part in c.parts:
                if part.id != c.id:
                    print(f"{'':<8} sub-claim {part.id}: {part.statement}")
            for n in c.negative_controls:
                print(f"{'':<8} negative control: {n}")
    return EXIT_OK


def _claims_or_usage(ids):
    from minimacheck.registry import UnknownClaim, get

    try:
        return [get(c) for c in ids]
    except UnknownClaim as e:
        raise UsageError(str(e)) from None


def _cmd_check(args) -> int:
    from minimacheck.ledger import summarize, summary_lines
    from minimacheck.runner import run_claim

    (claim,) = _claims_or_usage([args.claim])
    if args.n < 0:
        raise UsageError(f"-n must be >= 0, got {args.n}")
    records = run_claim(claim, args.n, args.seed)
    for r in records:
        hr = f"{r.headroom:.3g}" if r.headroom is not None else "-"
        state = {True: "pass", False: "FAIL", None: "-"}[r.passed] if r.kind == "positive" else ("caught" if r.detected else "MISSED")
        print(f"{r.part:<8} {r.kind:<17} {r.check:<34} certified={str(r.certified):<5} {state:<6} gap/tol={hr:<9} {r.reason}")
    print()
    for line in summary_lines(records, by="part") + [""] + summary_lines(records):
        print(line)
    verdict = summarize(records)[claim.id].verdict if records else "NO EVIDENCE"
    print(f"\n{claim.id}: {verdict} (evidence: {claim.evidence.value})")
    return EXIT_OK if verdict == "PASS" else EXIT_FAIL


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="minimacheck", description="Checks loss-landscape theorems numerically.",
        epilog="exit codes: 0 every claim passes with evidence; 1 a claim fails or has no evidence; 2 usage error")
    p.add_argument("--version", action="version", version=f"minimacheck {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)
    pl = sub.add_parser("list", help="print the claim registry")
    pl.add_argument("-v", "--verbose", action="store_true", help="also print statements, hypotheses and controls")
    pl.set_defaults(func=_cmd_list)
    pc = sub.add_parser("check", help="run one claim in report mode and print its verdicts")
    pc.add_argument("claim", help="claim id, e.g. claim2")
    pc.add_argument("-n", type=int, default=6, help="positive instances to draw per (sub-)claim (default 6)")
    pc.add_argument("--seed", type=int, default=0, help="seed that draws the instances from the claim's strategy (default 0)")
    pc.set_defaults(func=_cmd_check)
    # the report (main job) and the trainer benchmark live in their own modules; each adds its sub-command
    from minimacheck import bench, report

    report.add_parser(sub)
    bench.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        print(f"minimacheck {args.cmd}: error: {e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
