"""`minimacheck yields`: the certified yield of every regime of every (sub-)claim, on trained instances drawn from
the regime's strategy with a seed, next to the regime's floor (or its Unreached reason). What the generated floor
tests assert, at a size you choose: the numbers a closing note or a campaign reports."""
from __future__ import annotations

import collections

from minimacheck.contract import Floor
from minimacheck.draws import draw


def regime_yields(part, n: int | None, seed: int) -> list[dict]:
    """n draws per regime (None: the regime's own floor draws, what the floor test counts)."""
    rows = []
    for regime, rule in part.regimes.items():
        k = rule.draws if n is None else n
        records = [part.check(p) for p in draw(part.strategy(regime), k, seed)]
        trained = [r for r in records if r.trained]
        reasons = collections.Counter(r.reason.split(";")[0][:70] for r in trained if not r.certified)
        rows.append(dict(part=part.id, regime=regime, certified=sum(r.certified for r in trained), trained=len(trained),
                         failed=sum(r.passed is False for r in records), unresolved=sum(r.unresolved for r in records),
                         floor=rule.fraction if isinstance(rule, Floor) else None, floor_draws=rule.draws,
                         note=rule.measured if isinstance(rule, Floor) else f"unreached: {rule.reason}",
                         reasons=dict(reasons)))
    return rows


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("yields", help="certified yield per regime of each claim, next to its floor")
    p.add_argument("claims", nargs="*", help="claim ids (default: all registered)")
    p.add_argument("-n", type=int, default=None,
                   help="instances drawn per regime (default: each regime's floor draws, what the floor tests count); "
                        "a floor is judged only at its own draws, other sizes are reported")
    p.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0: the floor tests' draw)")
    p.set_defaults(func=_cmd_yields)


def _cmd_yields(args) -> int:
    from minimacheck.cli import EXIT_FAIL, EXIT_OK, UsageError, _claims_or_usage
    from minimacheck.registry import discover

    if args.n is not None and args.n < 1:
        raise UsageError(f"-n must be >= 1, got {args.n}")
    claims = _claims_or_usage(args.claims or list(discover()))
    bad = False
    print(f"{'part':<9} {'regime':<42} {'certified/trained':>17} {'floor':>6}  note / uncertified reasons")
    for claim in claims:
        for part in claim.parts:
            for row in regime_yields(part, args.n, args.seed):
                frac = row["certified"] / row["trained"] if row["trained"] else 0.0
                judged = args.n is None or args.n == row["floor_draws"]
                below = judged and row["floor"] is not None and frac < row["floor"]
                bad |= below or row["failed"] > 0
                floor = "-" if row["floor"] is None else f"{row['floor']:.2f}"
                flag = "BELOW FLOOR; " if below else ("" if judged else f"(floor set at {row['floor_draws']} draws) ")
                print(f"{row['part']:<9} {row['regime']:<42} {row['certified']:>8}/{row['trained']:<8} {floor:>6}  "
                      f"{flag}{row['note']}; {row['reasons'] or ''}")
    return EXIT_FAIL if bad else EXIT_OK
