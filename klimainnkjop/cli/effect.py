"""`klimainnkjop effect`: the change in kg CO2e between two periods split into volume (spending more or less, at
constant prices) and intensity (buying differently), by LMDI-I over categories (selectors/effect.py)."""
from __future__ import annotations

from klimainnkjop.cli.output import EXIT_OK, emit, find_org

FORMATS = ["json", "csv", "table"]


def add_parsers(sub) -> None:
    effect = sub.add_parser("effect", help="the change in kg CO2e between two periods: volume and intensity (LMDI)")
    effect.set_defaults(handler=cmd_effect)
    who = effect.add_mutually_exclusive_group(required=True)
    who.add_argument("--org", default=None)
    who.add_argument("--region", action="store_true")
    effect.add_argument("--unit", default=None, help="a unit of the organisation (with its sub-units)")
    effect.add_argument("--category", default=None, help="a category key (with the categories below it)")
    effect.add_argument("--from", required=True, dest="period_from", help="2024, 2025H1, 2025T2 or 2025Q3")
    effect.add_argument("--to", required=True, dest="period_to", help="2025, 2025H1, 2025T2 or 2025Q3")
    effect.add_argument("--format", choices=FORMATS, default="json")


def _period(text: str, option: str):
    from klimainnkjop.selectors.dashboard import PeriodError, parse_period

    try:
        return parse_period(text)
    except PeriodError:
        raise ValueError(f"{option}: {text!r} is not a period; write 2025 (year), 2025H1 (half-year), 2025T2 "
                         "(tertial) or 2025Q3 (quarter)") from None


def cmd_effect(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import effect as selectors
    from klimainnkjop.selectors.results import NoResults

    period_from, period_to = _period(args.period_from, "--from"), _period(args.period_to, "--to")
    if args.unit and args.region:
        raise ValueError("--unit: only with --org")
    org = find_org(args.org).orgnr if args.org else None
    try:
        split = selectors.effect_split(system_scope(), period_from=period_from, period_to=period_to, org=org,
                                       unit=args.unit, category=args.category)
    except LookupError as exc:
        option = "--unit" if args.unit and "unit" in str(exc) else "--category"
        raise ValueError(f"{option}: {exc.args[0] if exc.args else exc}") from None
    if split is None:
        raise NoResults()
    document = split.as_dict()
    emit(document["rows"], args.format, document)
    return EXIT_OK
