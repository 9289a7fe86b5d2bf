"""Report and publication commands:

klimainnkjop report --org ORGNR [--unit CODE] | --region --period 2025Q3|2025H1|2025T2|2025 --format pdf|xlsx|csv -o FILE
klimainnkjop publish --org ORGNR | --region --year YYYY
"""
from __future__ import annotations

import shutil

from klimainnkjop.cli.output import EXIT_OK


def register(sub) -> dict:
    report = sub.add_parser("report", help="a periodic report (PDF, Excel or CSV), archived in the data directory")
    who = report.add_mutually_exclusive_group(required=True)
    who.add_argument("--org", default=None, help="organisation number")
    who.add_argument("--region", action="store_true", help="the whole region, consolidated")
    report.add_argument("--unit", default=None, help="a unit code of the organisation (with its sub-units)")
    report.add_argument("--period", required=True, help="2025Q3 (quarter), 2025H1 (half-year), 2025T2 (tertial), 2025")
    report.add_argument("--format", choices=["pdf", "xlsx", "csv"], required=True)
    report.add_argument("-o", "--output", required=True, help="where to write a copy of the report")

    publish = sub.add_parser("publish", help="publish one year's figures on the public page and as open data")
    target = publish.add_mutually_exclusive_group(required=True)
    target.add_argument("--org", default=None)
    target.add_argument("--region", action="store_true")
    publish.add_argument("--year", type=int, required=True)
    return {"report": cmd_report, "publish": cmd_publish}


def cmd_report(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.cli.output import find_org
    from klimainnkjop.reports.periods import parse_period
    from klimainnkjop.services.organisations import InvalidInput
    from klimainnkjop.services.reports import do_generate_report, report_path

    parse_period(args.period)  # a bad period fails before anything is written
    if args.unit and args.region:
        raise InvalidInput("--unit: only with --org")
    orgnr = find_org(args.org).orgnr if args.org else None
    kind = "region" if args.region else ("unit" if args.unit else "org")
    report = do_generate_report(system_scope(), scope_kind=kind, orgnr=orgnr, unit_code=args.unit,
                                period=args.period, fmt=args.format, actor="cli")
    shutil.copyfile(report_path(report), args.output)
    print(f"report {report.pk}: {args.output} (run {report.run_id}, {', '.join(report.factor_sets)}, "
          f"sha256 {report.sha256})")
    return EXIT_OK


def cmd_publish(args) -> int:
    from klimainnkjop.cli.output import find_org
    from klimainnkjop.services.reports import do_publish_figures

    orgnr = find_org(args.org).orgnr if args.org else None
    publication = do_publish_figures(year=args.year, orgnr=orgnr, actor="cli")
    total = publication.figures["total"]
    print(f"published {orgnr or 'region'} {args.year}: {total['kg_co2e'] / 1000:.1f} t CO2e, "
          f"{total['spend_nok']:.2f} NOK (run {publication.run_id})")
    return EXIT_OK
