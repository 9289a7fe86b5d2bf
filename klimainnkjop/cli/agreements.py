"""Agreements, the requirement library and procurement cases: `agreements import|list|renewals|profile import`,
`requirements list`, `cases list|kpi|approval-rules|export` (`cases export ID --format docx|pdf -o FILE`: the tender
annex or the § 7-9 record)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from klimainnkjop.cli.output import EXIT_OK, emit, read_file
from klimainnkjop.core.actors import CLI

FORMATS = ["json", "csv", "table"]


def add_parsers(sub) -> None:
    agreements_parser = sub.add_parser("agreements", help="the agreement register")
    agreements_parser.set_defaults(handler=cmd_agreements)
    agreements = agreements_parser.add_subparsers(dest="agreements_command", required=True)
    imp = agreements.add_parser("import", help="an agreement list (CSV/XLSX); agreements are matched on number")
    imp.add_argument("file")
    imp.add_argument("--profile", default=None, help="a saved agreement-list profile (default: Norwegian headers)")
    lst = agreements.add_parser("list", help="agreements with their spend and kg CO2e from the account")
    lst.add_argument("--org", default=None, help="only agreements this organisation takes part in or owns")
    lst.add_argument("--year", type=int, default=None, help="spend and kg of this year (default: whole period)")
    lst.add_argument("--format", choices=FORMATS, default="table")
    renewals = agreements.add_parser("renewals", help="agreements ending or at an option date in the next months")
    renewals.add_argument("--months", type=int, default=24)
    renewals.add_argument("--today", default=None, help="YYYY-MM-DD (default: today)")
    renewals.add_argument("--format", choices=FORMATS, default="table")
    profile = agreements.add_parser("profile", help="agreement-list profiles").add_subparsers(
        dest="profile_command", required=True)
    profile_import = profile.add_parser("import", help="a JSON agreement-list profile")
    profile_import.add_argument("file")

    requirements_parser = sub.add_parser("requirements", help="the requirement library")
    requirements_parser.set_defaults(handler=cmd_requirements)
    requirements = requirements_parser.add_subparsers(dest="requirements_command", required=True)
    req_list = requirements.add_parser("list")
    req_list.add_argument("--kind", choices=["qualification", "specification", "award", "clause"], default=None)
    req_list.add_argument("--category", default=None, help="requirements for this category and its ancestors")
    req_list.add_argument("--format", choices=FORMATS, default="table")
    cases_parser = sub.add_parser("cases", help="procurement cases")
    cases_parser.set_defaults(handler=cmd_cases)
    cases = cases_parser.add_subparsers(dest="cases_command", required=True)
    cases_list = cases.add_parser("list")
    cases_list.add_argument("--org", default=None)
    cases_list.add_argument("--format", choices=FORMATS, default="table")
    kpi = cases.add_parser("kpi", help="share of procurements carried out with climate or environmental requirements")
    kpi.add_argument("--org", default=None)
    kpi.add_argument("--year", type=int, default=None, help="the year the cases were opened")
    kpi.add_argument("--by", default="", help="comma-separated: org, year, value_band")
    kpi.add_argument("--format", choices=FORMATS, default="table")
    rules = cases.add_parser("approval-rules", help="who assesses and who approves, by value and relevance")
    rules.add_argument("--org", default=None, help="an organisation's own rules (default: the region's)")
    rules.add_argument("--set", dest="set_file", default=None,
                       help="a JSON list of {min_value_nok, relevances, assess_role, approve_role} to put in place")
    rules.add_argument("--format", choices=FORMATS, default="table")
    export = cases.add_parser("export", help="a case's tender annex or § 7-9 record as DOCX or PDF")
    export.add_argument("id", type=int)
    export.add_argument("--document", choices=["annex", "record"], default="annex")
    export.add_argument("--format", choices=["docx", "pdf"], default=None,
                        help="default: from the output file's ending (.docx), else pdf")
    export.add_argument("--language", choices=["nb", "en"], default="nb", help="the document's language")
    export.add_argument("-o", "--output", required=True)


def cmd_cases(args) -> int:
    if args.cases_command == "export":
        return _export_case(args)
    if args.cases_command == "kpi":
        return _kpi(args)
    if args.cases_command == "approval-rules":
        return _approval_rules(args)
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import cases as selectors
    from klimainnkjop.services.cases import has_climate_requirements

    org = args.org.replace(" ", "") if args.org else None
    if org:
        from klimainnkjop.cli.output import find_org

        find_org(org)
    rows = [{"id": c.pk, "org": c.organisation.orgnr, "title": c.title, "state": c.state, "relevance": c.relevance,
             "ambition": c.ambition, "has_climate_requirements": has_climate_requirements(c)}
            for c in selectors.cases(system_scope(), org=org)]
    emit(_flat(rows, args.format), args.format)
    return EXIT_OK


def cmd_agreements(args) -> int:
    return {"import": _import, "list": _list, "renewals": _renewals,
            "profile": _profile}[args.agreements_command](args)


def _import(args) -> int:
    from klimainnkjop.services.agreements import do_import_agreements

    data, name = read_file(args.file)
    result = do_import_agreements(data=data, file_name=name, profile_name=args.profile, actor=CLI)
    print(f"{name}: {result.rows_read} agreements read: {result.created} new, {result.updated} updated, "
          f"{result.unchanged} unchanged")
    return EXIT_OK


def _list(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import agreements as selectors

    org = args.org.replace(" ", "") if args.org else None
    if org:
        from klimainnkjop.cli.output import find_org

        find_org(org)
    rows = [{"number": r["number"], "name": r["name"], "suppliers": r["suppliers"], "end": r["end"].isoformat(),
             "spend_nok": r["spend_nok"], "kg_co2e": r["kg_co2e"]}
            for r in selectors.ranked(system_scope(), org=org, year=args.year)]
    emit(_flat(rows, args.format), args.format)
    return EXIT_OK


def _renewals(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import agreements as selectors
    from klimainnkjop.services.organisations import InvalidInput

    try:
        today = dt.date.fromisoformat(args.today) if args.today else None
    except ValueError:
        raise InvalidInput(f"--today: {args.today!r} is not a date YYYY-MM-DD") from None
    if not 0 < args.months <= 120:
        raise InvalidInput("--months: a number of months from 1 to 120")
    rows = [{"number": r["number"], "name": r["name"], "suppliers": r["suppliers"], "date": r["date"].isoformat(),
             "event": r["event"], "options_left": r["options_left"], "final_end": r["final_end"].isoformat(),
             "year": r["year"], "spend_nok": r["spend_nok"], "kg_co2e": r["kg_co2e"],
             "measures": r["measures"] if args.format == "json" else [m["name"] for m in r["measures"]]}
            for r in selectors.renewals(system_scope(), months=args.months, today=today)]
    emit(_flat(rows, args.format), args.format)
    return EXIT_OK


def _profile(args) -> int:
    from klimainnkjop.services.agreements import do_save_agreement_profile
    from klimainnkjop.services.profiles import read_profile_file

    spec = read_profile_file(Path(args.file))
    saved = do_save_agreement_profile(spec=spec, actor=CLI, source=args.file)
    print(f"saved agreement-list profile {saved.name!r}")
    return EXIT_OK


def cmd_requirements(args) -> int:
    from klimainnkjop.selectors import requirements as selectors

    rows = [{"id": r.code, "kind": r.kind, "categories": list(r.categories), "title": r.title,
             "expected_effect": dict(r.expected_effect)}
            for r in selectors.requirements(kind=args.kind, category=args.category)]
    emit(_flat(rows, args.format), args.format)
    return EXIT_OK


def _flat(rows: list[dict], fmt: str) -> list[dict]:
    """Lists and objects as text for CSV and tables; JSON keeps them."""
    if fmt == "json":
        return rows
    import json

    return [{k: (", ".join(v) if isinstance(v, list) else json.dumps(v, ensure_ascii=False) if isinstance(v, dict)
                 else v) for k, v in r.items()} for r in rows]


def _export_case(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.reports import case_documents
    from klimainnkjop.selectors import cases as selectors
    from klimainnkjop.services.organisations import InvalidInput

    try:
        item = selectors.case(system_scope(), args.id)
    except selectors.NotFound:
        raise InvalidInput(f"ID: no procurement case {args.id}") from None
    fmt = args.format or ("docx" if str(args.output).lower().endswith(".docx") else "pdf")
    data = case_documents.render(item, args.document, fmt, language=args.language)
    Path(args.output).write_bytes(data)
    print(f"wrote {args.output} ({len(data)} bytes)")
    return EXIT_OK


def _kpi(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import cases as selectors
    from klimainnkjop.services.organisations import InvalidInput

    by = tuple(k.strip() for k in args.by.split(",") if k.strip())
    unknown = [k for k in by if k not in ("org", "year", "value_band")]
    if unknown:
        raise InvalidInput(f"--by: unknown key(s) {', '.join(unknown)}; choose among org, year, value_band")
    org = args.org.replace(" ", "") if args.org else None
    if org:
        from klimainnkjop.cli.output import find_org

        find_org(org)
    rows = selectors.climate_requirement_share(system_scope(), org=org, year=args.year, by=by)
    emit(rows, args.format)
    return EXIT_OK


def _approval_rules(args) -> int:
    import json

    from klimainnkjop.cli.output import find_org
    from klimainnkjop.services import cases as services
    from klimainnkjop.services.organisations import InvalidInput

    organisation = find_org(args.org) if args.org else None
    if args.set_file:
        try:
            rules = json.loads(Path(args.set_file).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"{args.set_file}: not a readable JSON list of rules ({exc})") from exc
        if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
            raise InvalidInput(f"{args.set_file}: a JSON list of rules (objects)")
        services.do_set_approval_rules(organisation=organisation, rules=rules, actor=CLI)
    rows = [{k: r[k] for k in ("min_value_nok", "relevances", "assess_role", "approve_role")}
            for r in services.approval_rules(organisation)]
    emit(_flat(rows, args.format), args.format)
    return EXIT_OK
