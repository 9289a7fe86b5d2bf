"""Targets, KPIs and climate budgets (issue 11):

klimainnkjop targets add --org ORGNR|--region [--unit CODE] [--category KEY] --kpi KEY [--kind level|cut]
                         [--baseline-year Y] --target-year Y --value V [--milestone YEAR=VALUE]...
                         [--decision-date D] [--case-number N]
klimainnkjop targets adopt --org ORGNR|--region --baseline-year Y [--target-year Y] [--template KEY ...]
klimainnkjop targets list [--format json|csv|table]
klimainnkjop targets templates [--format json|csv|table]
klimainnkjop kpis --org ORGNR|--region [--unit CODE] --period 2025|2025H1|2025Q3 [--format json|csv|table]
klimainnkjop kpis --definitions [--format json|csv|table]
klimainnkjop budgets set --org ORGNR [--unit CODE] --year Y [--tonnes T | --cut PERCENT]
klimainnkjop budgets status --org ORGNR [--unit CODE] --period 2025Q3 [--format json|table]
klimainnkjop population set MUNICIPALITY YEAR INHABITANTS --source TEXT
"""
from __future__ import annotations

import datetime as dt

from klimainnkjop.cli.output import EXIT_OK, emit
from klimainnkjop.core.actors import CLI

FORMATS = ["json", "csv", "table"]


def _subject(parser, unit: bool = True) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--org", default=None, help="organisation number")
    who.add_argument("--region", action="store_true", help="the whole region")
    if unit:
        parser.add_argument("--unit", default=None, help="a unit code of the organisation (with its sub-units)")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--decision-date: {text!r} is not a date; write YYYY-MM-DD") from None


def _milestone(text: str) -> dict:
    year, _, value = text.partition("=")
    try:
        return {"year": int(year), "value": float(value.replace(",", "."))}
    except ValueError:
        raise ValueError(f"--milestone: {text!r} is not YEAR=VALUE, e.g. 2027=15") from None


def add_parsers(sub) -> None:
    targets = sub.add_parser("targets", help="targets of the region, organisations, units and categories")
    targets.set_defaults(handler=cmd_targets)
    tsub = targets.add_subparsers(dest="targets_command", required=True)
    add = tsub.add_parser("add", help="set a target (an active one of the same KPI and subject steps aside)")
    _subject(add)
    add.add_argument("--category", default="", help="a category code (the target covers it and its sub-categories)")
    add.add_argument("--kpi", required=True, help="a KPI key (klimainnkjop kpis --definitions)")
    add.add_argument("--kind", choices=["level", "cut"], default="level",
                     help="level: the KPI's value to reach; cut: percent below the baseline year's value")
    add.add_argument("--baseline-year", type=int, default=None)
    add.add_argument("--target-year", type=int, required=True)
    add.add_argument("--value", type=float, required=True)
    add.add_argument("--milestone", action="append", default=[], type=_milestone, metavar="YEAR=VALUE",
                     help="a point on the way, in the same terms as --value (repeatable)")
    add.add_argument("--decision-date", type=_date, default=None, help="YYYY-MM-DD")
    add.add_argument("--case-number", default="", help="the decision's case number")
    adopt = tsub.add_parser("adopt", help="adopt the steering document's targets in one step")
    _subject(adopt, unit=False)
    adopt.add_argument("--baseline-year", type=int, required=True)
    adopt.add_argument("--target-year", type=int, default=None,
                       help="for the targets the steering document gives no year")
    adopt.add_argument("--template", action="append", default=None, help="only these templates (repeatable)")
    listing = tsub.add_parser("list", help="the active targets")
    listing.add_argument("--format", choices=FORMATS, default="table")
    templates = tsub.add_parser("templates", help="the steering document's targets, ready to adopt")
    templates.add_argument("--format", choices=FORMATS, default="table")

    kpis = sub.add_parser("kpis", help="every KPI for a period, against its target")
    kpis.set_defaults(handler=cmd_kpis)
    who = kpis.add_mutually_exclusive_group(required=True)
    who.add_argument("--org", default=None, help="organisation number")
    who.add_argument("--region", action="store_true", help="the whole region, consolidated")
    who.add_argument("--definitions", action="store_true", help="the KPI library: definitions, formulas, sources")
    kpis.add_argument("--unit", default=None, help="a unit code of the organisation (with its sub-units)")
    kpis.add_argument("--period", default=None, help="2025 (year), 2025H1, 2025T2, 2025Q3")
    kpis.add_argument("--format", choices=FORMATS, default="table")

    budgets = sub.add_parser("budgets", help="climate budgets in tonnes CO2e per organisation and unit")
    budgets.set_defaults(handler=cmd_budgets)
    bsub = budgets.add_subparsers(dest="budgets_command", required=True)
    bset = bsub.add_parser("set", help="set (or revise: a new version) the year's budget")
    bset.add_argument("--org", required=True)
    bset.add_argument("--unit", default=None)
    bset.add_argument("--year", type=int, required=True)
    amount = bset.add_mutually_exclusive_group()
    amount.add_argument("--tonnes", type=float, default=None)
    amount.add_argument("--cut", type=float, default=None,
                        help="propose the budget from the previous year's actual less this percentage")
    status = bsub.add_parser("status", help="actual against budget, forecast and the categories of a deviation")
    status.add_argument("--org", required=True)
    status.add_argument("--unit", default=None)
    status.add_argument("--period", required=True, help="2025 (year), 2025H1, 2025T2, 2025Q3")
    status.add_argument("--format", choices=FORMATS, default="table")

    population = sub.add_parser("population", help="inhabitants per municipality (shipped from SSB, editable)")
    population.set_defaults(handler=cmd_population)
    psub = population.add_subparsers(dest="population_command", required=True)
    pset = psub.add_parser("set", help="set a municipality's inhabitants on 1 January of a year")
    pset.add_argument("municipality", help="4-digit municipality number")
    pset.add_argument("year", type=int)
    pset.add_argument("inhabitants", type=int)
    pset.add_argument("--source", required=True)


def _org(args):
    from klimainnkjop.cli.output import find_org
    from klimainnkjop.core.errors import InvalidInput

    if getattr(args, "unit", None) and not args.org:
        raise InvalidInput("--unit: only with --org")
    return find_org(args.org) if args.org else None


def cmd_targets(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import kpis
    from klimainnkjop.services import targets

    if args.targets_command == "add":
        target = targets.do_set_target(
            organisation=_org(args), unit_code=args.unit or "", category=args.category, kpi=args.kpi, kind=args.kind,
            value=args.value, baseline_year=args.baseline_year, target_year=args.target_year,
            milestones=args.milestone, decision_date=args.decision_date, case_number=args.case_number, actor=CLI)
        print(f"target {target.pk}: {args.kpi} {args.kind} {args.value:g} in {args.target_year}")
        return EXIT_OK
    if args.targets_command == "adopt":
        adopted = targets.do_adopt_target_templates(
            organisation=_org(args), baseline_year=args.baseline_year, target_year=args.target_year,
            keys=args.template, actor=CLI)
        print(f"adopted {len(adopted)} target(s): {', '.join(t.template for t in adopted) or 'none new'}")
        return EXIT_OK
    if args.targets_command == "templates":
        rows = [{"key": t.key, "kpi": t.kpi, "kind": t.kind, "value": t.value, "target_year": t.target_year,
                 "quote": t.quote} for t in targets.TEMPLATES]
        emit(rows, args.format)
        return EXIT_OK
    rows = [kpis.target_dict(t) for t in kpis.targets(system_scope(), everything=True)]
    if args.format != "json":
        rows = [{k: v for k, v in r.items() if k != "milestones"} for r in rows]
    emit(rows, args.format)
    return EXIT_OK


def _period(text: str | None):
    from klimainnkjop.core.errors import InvalidInput
    from klimainnkjop.reports.periods import parse_period
    from klimainnkjop.selectors import dashboard

    if not text:
        raise InvalidInput("--period: required; write 2025 (year), 2025H1, 2025T2 or 2025Q3")
    parse_period(text)  # InvalidInput with the full explanation
    return dashboard.parse_period(text)


def cmd_kpis(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import kpis

    if args.definitions:
        rows = [{"key": k.key, "name": str(k.name), "definition": str(k.definition), "formula": k.formula,
                 "source": str(k.source), "unit": k.unit, "direction": k.direction, "data": k.data}
                for k in kpis.KPIS.values()]
        emit(rows, args.format)
        return EXIT_OK
    period = _period(args.period)
    org = _org(args)
    subject = kpis.Subject(org=org.orgnr if org else None, unit=args.unit or None)
    if subject.unit:
        from klimainnkjop.core.errors import InvalidInput
        from klimainnkjop.selectors import dashboard

        try:
            dashboard.unit_subtree(system_scope(), subject.org, subject.unit)
        except LookupError:
            raise InvalidInput(f"--unit: {subject.org} has no unit {subject.unit!r}") from None
    rows = kpis.follow_up(system_scope(), subject, period)
    columns = ["key", "name", "value", "unit", "target", "target_year", "expected_now", "status"]
    if args.format == "json":
        emit([], "json", document=[r.as_dict() for r in rows])
    else:
        emit([{c: getattr(r, c) for c in columns} | {"category": r.category} for r in rows], args.format)
    return EXIT_OK


def cmd_budgets(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.core.errors import InvalidInput
    from klimainnkjop.selectors import budgets as budget_selectors
    from klimainnkjop.services.budgets import do_set_budget

    org = _org(args)
    if args.budgets_command == "set":
        budget = do_set_budget(organisation=org, unit_code=args.unit or "", year=args.year, tonnes=args.tonnes,
                               cut_percent=args.cut or 0.0, actor=CLI)
        print(f"budget {org.orgnr}{f' unit {args.unit}' if args.unit else ''} {budget.year} version {budget.version}: "
              f"{budget.tonnes:.3f} t CO2e ({budget.profile})")
        return EXIT_OK
    period = _period(args.period)
    if args.unit:
        from klimainnkjop.selectors import dashboard

        try:
            dashboard.unit_subtree(system_scope(), org.orgnr, args.unit)
        except LookupError:
            raise InvalidInput(f"--unit: {org.orgnr} has no unit {args.unit!r}") from None
    status = budget_selectors.budget_status(system_scope(), orgnr=org.orgnr, unit_code=args.unit, period=period)
    if status is None:
        raise InvalidInput(f"--year: {org.orgnr}{f' unit {args.unit}' if args.unit else ''} has no budget for "
                           f"{period.year}; set one with `klimainnkjop budgets set`")
    if args.format == "json":
        emit([], "json", document=status.as_dict())
    else:
        emit([{k: v for k, v in status.as_dict().items() if k != "categories"}], args.format)
        if args.format == "table":
            print()
        emit(status.categories, args.format)
    return EXIT_OK


def cmd_population(args) -> int:
    from klimainnkjop.services.targets import do_set_population

    figure = do_set_population(municipality=args.municipality, year=args.year, inhabitants=args.inhabitants,
                               source=args.source, actor=CLI)
    print(f"population {figure.municipality} {figure.year}: {figure.inhabitants}")
    return EXIT_OK
