"""Measures (tiltak), ambition packages and the trajectory to a target year."""
from __future__ import annotations

import datetime as dt

from klimainnkjop.cli.output import EXIT_OK, emit, find_org, read_file
from klimainnkjop.core.actors import CLI

FORMATS = ["json", "csv", "table"]


def add_parsers(sub) -> None:
    measures_parser = sub.add_parser("measures", help="measures (tiltak) and their expected effect")
    measures_parser.set_defaults(handler=cmd_measures)
    measures = measures_parser.add_subparsers(dest="measures_command", required=True)
    imp = measures.add_parser("import", help="a CSV, XLSX or JSON file of measures, one per row")
    imp.add_argument("file")
    listing = measures.add_parser("list")
    listing.add_argument("--org", default=None, help="only measures for this organisation, on its purchases")
    listing.add_argument("--format", choices=FORMATS, default="table")
    status = measures.add_parser("status", help="change a measure's status (the history keeps every change)")
    status.add_argument("id", type=int)
    status.add_argument("status", choices=["proposed", "recommended", "adopted", "implemented", "verified"])
    status.add_argument("--date", default=None, help="YYYY-MM-DD (adopted, implemented)")
    status.add_argument("--org", default=None, help="the organisation that adopted it")
    status.add_argument("--case", default="", help="case number of the decision (adopted)")
    status.add_argument("--agreement", default="", help="the agreement it is part of (implemented)")

    packages_parser = sub.add_parser("packages", help="ambition packages of measures")
    packages_parser.set_defaults(handler=cmd_packages)
    packages = packages_parser.add_subparsers(dest="packages_command", required=True)
    plist = packages.add_parser("list")
    plist.add_argument("--format", choices=FORMATS, default="json")
    add = packages.add_parser("add", help="a package of measures, applied in the order given")
    add.add_argument("name")
    add.add_argument("--measures", required=True, help="measure ids, comma-separated, in order")
    add.add_argument("--baseline-year", type=int, required=True)
    add.add_argument("--description", default="")
    adopt = packages.add_parser("adopt", help="an organisation adopts a package")
    adopt.add_argument("name")
    adopt.add_argument("--org", required=True)
    adopt.add_argument("--date", required=True, help="YYYY-MM-DD of the decision")
    adopt.add_argument("--case", required=True, help="case number of the decision")

    trajectory = sub.add_parser("trajectory", help="expected emissions per year: business as usual and with the "
                                                   "package")
    trajectory.set_defaults(handler=cmd_trajectory)
    who = trajectory.add_mutually_exclusive_group(required=True)
    who.add_argument("--org", default=None)
    who.add_argument("--region", action="store_true")
    trajectory.add_argument("--to", type=int, required=True, dest="to_year")
    trajectory.add_argument("--package", default=None, help="default: each organisation's adopted package")
    trajectory.add_argument("--from", type=int, default=None, dest="from_year", help="baseline year")
    trajectory.add_argument("--growth", type=float, default=0.0, help="growth of spend in %% a year (default 0)")
    trajectory.add_argument("--format", choices=FORMATS, default="json")


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None


def cmd_measures(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import measures as selectors
    from klimainnkjop.services import measures as services

    scope = system_scope()
    if args.measures_command == "import":
        data, name = read_file(args.file)
        stored = services.do_import_measures(data=data, file_name=name, actor=CLI)
        print(f"{len(stored)} measure(s) imported: {', '.join(str(m.pk) for m in stored)}")
    elif args.measures_command == "list":
        org = find_org(args.org).orgnr if args.org else None
        rows = selectors.measure_rows(scope, org=org)
        if args.format != "json":
            rows = [{k: (", ".join(v) if isinstance(v, list) else v) for k, v in r.items()} for r in rows]
        emit(rows, args.format)
    else:
        try:
            measure = selectors.measure(scope, args.id)
        except selectors.NotFound:
            raise ValueError(f"id: no measure {args.id}") from None
        organisation = find_org(args.org) if args.org else None
        services.do_change_measure_status(measure=measure, status=args.status, date=_date(args.date, "--date"),
                                          organisation=organisation, case_number=args.case,
                                          agreement=args.agreement, actor=CLI)
        print(f"measure {measure.pk}: {args.status}")
    return EXIT_OK


def cmd_packages(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import measures as selectors
    from klimainnkjop.services import measures as services

    scope = system_scope()
    if args.packages_command == "list":
        rows = selectors.package_rows(scope)
        if args.format != "json":
            rows = [{**r, "measures": ", ".join(r["measures"]),
                     "adopted_by": ", ".join(f"{a['orgnr']} {a['adopted_on']} ({a['case_number']})"
                                             for a in r["adopted_by"])} for r in rows]
        emit(rows, args.format)
    elif args.packages_command == "add":
        ids = [t.strip() for t in args.measures.split(",") if t.strip()]
        chosen = []
        for text in ids:
            try:
                chosen.append(selectors.measure(scope, int(text)))
            except (ValueError, selectors.NotFound):
                raise ValueError(f"--measures: no measure {text!r}") from None
        package = services.do_create_package(name=args.name, measures=chosen, baseline_year=args.baseline_year,
                                             description=args.description, actor=CLI)
        print(f"package {package.name}: {len(chosen)} measure(s)")
    else:
        try:
            package = selectors.package(scope, args.name)
        except selectors.PackageNotFound:
            raise ValueError(f"name: no package {args.name!r}") from None
        services.do_adopt_package(package=package, organisation=find_org(args.org),
                                  adopted_on=_date(args.date, "--date"), case_number=args.case, actor=CLI)
        print(f"{args.org} adopted {package.name}")
    return EXIT_OK


def cmd_trajectory(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import measures as selectors

    org = find_org(args.org).orgnr if args.org else None
    if args.package:
        try:
            selectors.package(system_scope(), args.package)
        except selectors.PackageNotFound:
            raise ValueError(f"--package: no package {args.package!r}") from None
    from klimainnkjop.selectors import kpis

    document = selectors.trajectory(system_scope(), to_year=args.to_year, org=org, package_name=args.package,
                                    baseline_year=args.from_year, growth_percent=args.growth)
    # the target for the whole subject's tonnes, as its straight path (scenario "target"), where one is set
    path = kpis.tonnes_target_path(system_scope(), org=org, years=sorted({r["year"] for r in document["rows"]}))
    document["rows"] += [{**dict.fromkeys(document["rows"][0]), **r} for r in path or []]
    emit(document["rows"], args.format, document)
    return EXIT_OK
