"""Data commands: demo, organisations, profiles, imports, rates, factors, compute, totals, serve."""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from klimainnkjop.cli import invoices, suppliers
from klimainnkjop.cli.output import EXIT_OK, emit, find_org, print_overlaps, read_file
from klimainnkjop.core.actors import CLI


def add_parsers(sub) -> None:
    demo = sub.add_parser("demo", help="generate and import the demo region, then compute")
    demo.set_defaults(handler=cmd_demo)
    demo.add_argument("--scale", type=float, default=1.0)
    demo.add_argument("--seed", type=int, default=2021)
    demo.add_argument("--if-empty", action="store_true", help="do nothing when the demo region is already loaded")

    org_parser = sub.add_parser("org", help="organisations")
    org_parser.set_defaults(handler=cmd_org)
    org = org_parser.add_subparsers(dest="org_command", required=True)
    org_add = org.add_parser("add")
    org_add.add_argument("orgnr")
    org_add.add_argument("name")
    org_add.add_argument("--kind", choices=["kommune", "iks"], default="kommune")
    org_add.add_argument("--kostra-region", default="")
    org_add.add_argument("--region", default=None, help="name of the region (purchasing cooperation)")
    org_list = org.add_parser("list")
    org_list.add_argument("--format", choices=["json", "csv", "table"], default="table")

    profile_parser = sub.add_parser("profile", help="column-mapping profiles")
    profile_parser.set_defaults(handler=cmd_profile)
    profile = profile_parser.add_subparsers(dest="profile_command", required=True)
    profile_import = profile.add_parser("import")
    profile_import.add_argument("file")
    profile_import.add_argument("--org", required=True)

    # every kind of `import`, here in one place; a kind's handler may live in its group's module
    imp = sub.add_parser("import", help="import data").add_subparsers(dest="import_command", required=True)
    ledger = imp.add_parser("ledger")
    ledger.set_defaults(handler=cmd_import)
    ledger.add_argument("file")
    ledger.add_argument("--org", required=True)
    ledger.add_argument("--profile", default=None)
    ledger.add_argument("--replace", action="store_true",
                        help="the file was imported before (e.g. with another profile): read it again and replace "
                             "the earlier batch")
    kostra = imp.add_parser("kostra")
    kostra.set_defaults(handler=cmd_import)
    kostra.add_argument("file")
    kostra.add_argument("--org", default=None)
    kostra.add_argument("--force", action="store_true",
                        help="import even if the file names another orgnr or KOSTRA region than --org (audited)")
    ehf = imp.add_parser("ehf", help="EHF / PEPPOL BIS Billing 3.0 invoices and credit notes (files, folders, zips)")
    ehf.set_defaults(handler=invoices.cmd_import_ehf)
    ehf.add_argument("paths", nargs="+", metavar="PATH")
    ehf.add_argument("--org", default=None, help="the buyer organisation (default: from the buyer's orgnr)")
    ehf.add_argument("--force", action="store_true",
                     help="import even if an invoice's buyer is another organisation of the region (audited)")
    saft = imp.add_parser("saft", help="a SAF-T Financial file")
    saft.set_defaults(handler=invoices.cmd_import_saft)
    saft.add_argument("file")
    saft.add_argument("--org", default=None, help="the organisation (default: from the file's company orgnr)")
    saft.add_argument("--force", action="store_true",
                      help="import even if the file's company registration number is not --org's (audited)")
    stats = imp.add_parser(
        "supplier-stats", help="a framework supplier's purchase statistics (CSV/XLSX) through a saved profile")
    stats.set_defaults(handler=suppliers.cmd_import_stats)
    stats.add_argument("file")
    stats.add_argument("--org", required=True, help="the customer; rows of other customers are skipped")
    stats.add_argument("--profile", default=None, help="a supplier-statistics profile (suppliers profile import)")

    rate_parser = sub.add_parser("rate", help="exchange rates")
    rate_parser.set_defaults(handler=cmd_rate)
    rate = rate_parser.add_subparsers(dest="rate_command", required=True)
    rate_set = rate.add_parser("set")
    rate_set.add_argument("year", type=int)
    rate_set.add_argument("currency")
    rate_set.add_argument("nok_per_unit", type=float)
    rate_set.add_argument("--source", default="entered by user")

    factors_parser = sub.add_parser("factors", help="the factor library")
    factors_parser.set_defaults(handler=cmd_factors)
    factors = factors_parser.add_subparsers(dest="factors_command", required=True)
    factors_list = factors.add_parser("list")
    factors_list.add_argument("--set", default=None, help="NAME or NAME:VERSION")
    factors_list.add_argument("--format", choices=["json", "csv", "table"], default="table")
    factors_import = factors.add_parser("import")
    factors_import.add_argument("file")

    compute = sub.add_parser("compute", help="compute the climate account")
    compute.set_defaults(handler=cmd_compute)
    compute.add_argument("--factor-set", default=None)

    totals = sub.add_parser("totals", help="print totals")
    totals.set_defaults(handler=cmd_totals)
    totals.add_argument("--org", default=None)
    totals.add_argument("--year", type=int, default=None)
    totals.add_argument("--by", default="")
    totals.add_argument("--format", choices=["json", "csv", "table"], default="table")

    serve = sub.add_parser("serve", help="serve the web app")
    serve.set_defaults(handler=cmd_serve)
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--no-worker", action="store_true",
                       help="do not start the report worker (run `klimainnkjop worker` as its own service instead)")


def cmd_demo(args) -> int:
    from klimainnkjop.demo.load import do_load_demo

    result = do_load_demo(scale=args.scale, seed=args.seed, if_empty=args.if_empty, actor=CLI,
                          progress=lambda msg: print(msg, flush=True))
    print(result.summary())
    return EXIT_OK


def cmd_org(args) -> int:
    from klimainnkjop.services.organisations import do_create_organisation, organisation_dict
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import organisations as org_selectors

    if args.org_command == "add":
        org = do_create_organisation(orgnr=args.orgnr, name=args.name, kind=args.kind,
                                     kostra_region=args.kostra_region, region_name=args.region, actor=CLI)
        print(f"added {org.name} ({org.orgnr})")
        return EXIT_OK
    rows = [organisation_dict(o) for o in org_selectors.organisations(system_scope())]
    emit(rows, args.format)
    return EXIT_OK


def cmd_profile(args) -> int:
    from klimainnkjop.services.profiles import do_save_profile, read_profile_file

    spec = read_profile_file(Path(args.file))
    saved = do_save_profile(organisation=find_org(args.org), spec=spec, actor=CLI, source=args.file)
    print(f"saved profile {saved.name!r} for {saved.organisation.orgnr}")
    return EXIT_OK


def cmd_import(args) -> int:
    from klimainnkjop.services.imports import do_import_ledger

    data, name = read_file(args.file)
    if args.import_command == "ledger":
        result = do_import_ledger(organisation=find_org(args.org), data=data, file_name=name, profile_name=args.profile,
                                  replace=args.replace, actor=CLI)
    else:
        from klimainnkjop.services.uploads import do_import_kostra_checked  # refuses another org's file

        result = do_import_kostra_checked(data=data, file_name=name,
                                          organisation=find_org(args.org) if args.org else None,
                                          confirm_other=args.force, actor=CLI)
    if result.already_imported:
        again = " (with profile {!r}); nothing added. To read it again with another profile, add --replace".format(
            result.previous_profile) if result.previous_profile else "; nothing added"
        print(f"{name}: already imported (batch {result.batch.pk}){again}")
    else:
        replaced = f", replacing batch {result.replaced.pk}" if result.replaced else ""
        print(f"{name}: {result.rows_read} rows read, {result.lines_added} lines added, "
              f"{result.lines_duplicate} already present{replaced}")
        print_overlaps(result.batch)
    for warning in result.warnings:  # not an error: the import is done, but its lines may count as nothing
        print(warning)
    return EXIT_OK


def cmd_rate(args) -> int:
    from klimainnkjop.services.reference import do_set_exchange_rate

    do_set_exchange_rate(year=args.year, currency=args.currency, nok_per_unit=args.nok_per_unit, source=args.source,
                         actor=CLI)
    print(f"{args.currency.upper()} {args.year}: {args.nok_per_unit} NOK")
    return EXIT_OK


def cmd_factors(args) -> int:
    if args.factors_command == "import":
        from klimainnkjop.services.factors import do_import_factor_set

        data, name = read_file(args.file)
        factor_set, created = do_import_factor_set(data=data, file_name=name, actor=CLI)
        verb = "imported" if created else "already imported"
        print(f"{name}: {verb} {factor_set.name} {factor_set.version} ({factor_set.factors.count()} factors, "
              f"{factor_set.status})")
        return EXIT_OK
    from klimainnkjop.selectors.factors import factor_row, factor_sets, factors
    from klimainnkjop.services.organisations import InvalidInput

    rows = [factor_row(f) for f in factors(set_name=args.set)]
    if args.set and not rows:
        known = ", ".join(fs.label for fs in factor_sets()) or "none"
        raise InvalidInput(f"--set: no factor set {args.set!r} (known: {known})")
    if args.format == "table":
        rows = [{k: r[k] for k in ("set", "version", "key", "basis", "unit", "price_year", "value", "low", "high",
                                   "quality", "source_ref")} for r in rows]
    emit(rows, args.format)
    return EXIT_OK


def cmd_compute(args) -> int:
    from klimainnkjop.services.compute import do_compute

    run = do_compute(factor_set_name=args.factor_set, actor=CLI)
    def grouped(value: float, decimals: int = 0) -> str:
        return f"{value:,.{decimals}f}".replace(",", " ")

    # the run's totals are every organisation's own account over all years: a purchase from another member counts
    # in the buyer's account, so they exceed the region's consolidated figures (`totals`, the pages)
    print(f"run {run.pk} with {', '.join(run.factor_sets)}: {grouped(run.lines_in)} lines; all years, the "
          f"organisations' own accounts added up (not consolidated): {grouped(run.lines_purchase)} purchases, "
          f"{grouped(run.spend_ore / 100)} NOK, {grouped(run.kg_co2e / 1000, 1)} t CO2e "
          f"({grouped(run.kg_low / 1000, 1)}–{grouped(run.kg_high / 1000, 1)})")
    return EXIT_OK


def cmd_totals(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.results import totals

    by = [k.strip() for k in args.by.split(",") if k.strip()]
    if args.org:
        find_org(args.org)
    document = totals(system_scope(), org=args.org, year=args.year, by=by)
    rows = [{k: v for k, v in r.items() if k != "covered_spend_nok"} for r in document["rows"]]
    document = {"factor_set": document["factor_set"], "factor_sets": document["factor_sets"],
                "consolidated": document["consolidated"], "rows": rows}
    emit(rows, args.format, document)
    return EXIT_OK


def cmd_serve(args) -> int:
    from django.conf import settings

    from klimainnkjop.cli.reports import start_worker, stop_worker
    from klimainnkjop.web.server import serve

    # SIGTERM (a service manager's stop) ends the server through the `finally` below (gunicorn's master stops its
    # workers and raises SystemExit), so that the report worker child is stopped too instead of being left running
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    from klimainnkjop.cli.maintenance import clean_at_start

    clean_at_start("serve")  # runs and imports left unfinished by a kill (services/maintenance.py)
    worker = None if args.no_worker else start_worker()
    server_pid = os.getpid()
    print(f"Klimainnkjøp: http://{args.host}:{args.port}/ ({settings.KLIMAINNKJOP_WEB_WORKERS} processes × "
          f"{settings.KLIMAINNKJOP_WEB_THREADS} threads)", flush=True)
    try:
        serve(host=args.host, port=args.port)
    finally:
        if os.getpid() == server_pid:  # not in gunicorn's forked workers, whose exit passes here too
            stop_worker(worker)
    return EXIT_OK


