"""The `minimacheck` command (also `python -m minimacheck`).

Start-up: `minimacheck --help` and `--version` import neither torch nor the claims. Each sub-command imports what it
needs when it runs; the report and bench parsers (whose modules import torch) are built only when asked for.
"""
from __future__ import annotations

import argparse
import sys

from minimacheck import __version__

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
HEAVY = {"report": ("minimacheck.report", "run every claim in report mode plus the depth/width sweeps; write a report folder"),
         "bench": ("minimacheck.bench", "trainer benchmark: certification yield and time per certified minimum")}


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


def parse_shard(text: str | None):
    """'i/n' -> (i, n) with 0 <= i < n; None -> None."""
    if text is None:
        return None
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard must be i/n (e.g. 0/4), got {text!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise UsageError(f"--shard i/n needs 0 <= i < n, got {text!r}")
    return i, n


def _cmd_check(args) -> int:
    from minimacheck import junit
    from minimacheck.ledger import summarize, summary_lines
    from minimacheck.shard import run_claim_items

    (claim,) = _claims_or_usage([args.claim])
    if args.n < 0:
        raise UsageError(f"-n must be >= 0, got {args.n}")
    shard = parse_shard(args.shard)
    records, artifacts = run_claim_items(claim, args.n, args.seed, shard=shard, artifacts_dir=args.artifacts)
    for r in records:
        hr = f"{r.headroom:.3g}" if r.headroom is not None else "-"
        state = ({True: "pass", False: "FAIL", None: "-"}[r.passed] if r.kind == "positive"
                 else ("caught" if r.detected else "MISSED"))
        print(f"{r.part:<8} {r.kind:<17} {r.check:<34} certified={str(r.certified):<5} {state:<6} gap/tol={hr:<9} {r.reason}")
    print()
    for line in summary_lines(records, by="part") + [""] + summary_lines(records):
        print(line)
    for path in artifacts:
        print(f"counterexample saved to {path}; replay with: minimacheck replay {path}")
    if args.junit_xml:
        junit.write(args.junit_xml, records, suite=f"minimacheck check {claim.id}")
    verdict = summarize(records)[claim.id].verdict if records else "NO EVIDENCE"
    where = "" if shard is None else f" [shard {shard[0]}/{shard[1]}]"
    print(f"\n{claim.id}{where}: {verdict} (evidence: {claim.evidence.value})")
    return EXIT_OK if verdict == "PASS" else EXIT_FAIL


def _cmd_replay(args) -> int:
    from minimacheck import artifacts

    try:
        return artifacts.replay_cmd(args.file)
    except artifacts.BadArtifact as e:
        raise UsageError(str(e)) from None


def _cmd_data(args) -> int:
    from minimacheck import datasets

    try:
        return datasets.data_cmd(args.action, args.names)
    except ValueError as e:
        raise UsageError(str(e)) from None


def _requested(argv) -> str | None:
    for a in argv:
        if not a.startswith("-"):
            return a
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="minimacheck", description="Checks loss-landscape theorems numerically.",
        epilog="exit codes: 0 every claim passes with evidence; 1 a claim fails or has no evidence; 2 usage error")
    p.add_argument("--version", action="version", version=f"minimacheck {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)
    pl = sub.add_parser("list", help="print the claim registry (built-in and installed external claims)")
    pl.add_argument("-v", "--verbose", action="store_true", help="also print statements, hypotheses and controls")
    pl.set_defaults(func=_cmd_list)
    pc = sub.add_parser("check", help="run one claim in report mode and print its verdicts")
    pc.add_argument("claim", help="claim id, e.g. claim2 or mypkg.myclaim")
    pc.add_argument("-n", type=int, default=6, help="positive instances to draw per (sub-)claim (default 6)")
    pc.add_argument("--seed", type=int, default=0, help="seed that draws the instances from the claim's strategy (default 0)")
    pc.add_argument("--shard", metavar="i/n", help="run only work items k with k mod n == i (the union of the n "
                                                   "shards is the unsharded run)")
    pc.add_argument("--junit-xml", metavar="PATH", dest="junit_xml", help="write a JUnit XML file (one testcase per record)")
    pc.add_argument("--artifacts", metavar="DIR", default="failures",
                    help="folder for replayable counterexample files (default failures/)")
    pc.set_defaults(func=_cmd_check)
    from minimacheck import certify_cmd

    certify_cmd.add_parser(sub)
    pr = sub.add_parser("replay", help="re-run a saved counterexample: exit 1 while the violation stands, 0 when not")
    pr.add_argument("file", help="a counterexample file written by a failing test, check or report")
    pr.set_defaults(func=_cmd_replay)
    pd = sub.add_parser("data", help="download (fetch) or check (verify) the optional image data sets")
    pd.add_argument("action", choices=("fetch", "verify"))
    pd.add_argument("names", nargs="*", help="data sets (default: mnist cifar10 svhn)")
    pd.set_defaults(func=_cmd_data)
    from minimacheck import yields

    yields.add_parser(sub)
    # the report (main job) and the trainer benchmark import torch: their parsers are built only when asked for
    wanted = _requested(argv if argv is not None else sys.argv[1:])
    for name, (module, help_text) in HEAVY.items():
        if wanted == name:
            import importlib

            importlib.import_module(module).add_parser(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        print(f"minimacheck {args.cmd}: error: {e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
