"""The command line: `klimainnkjop [--data-dir DIR] COMMAND ...`.

Exit codes: 0 success, 2 bad input (the message names file, row and field; nothing was written), 1 otherwise.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2


def _setup(data_dir: str | None) -> None:
    from klimainnkjop.paths import ENV_VAR

    if data_dir:
        os.environ[ENV_VAR] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klimainnkjop.settings")
    import django

    django.setup()
    _migrate()
    from klimainnkjop.services.reference import do_load_reference_data
    from klimainnkjop.storage.models import FactorSet

    if not FactorSet.objects.exists():
        do_load_reference_data(actor="cli")


def _migrate() -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", verbosity=0, interactive=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="klimainnkjop", description="Klimagassregnskap for offentlige innkjøp")
    parser.add_argument("--data-dir", default=None,
                        help="where everything a run writes is kept (default ./var; env KLIMAINNKJOP_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate and import the demo region, then compute")
    demo.add_argument("--scale", type=float, default=1.0)
    demo.add_argument("--seed", type=int, default=2021)
    demo.add_argument("--if-empty", action="store_true", help="do nothing when the demo region is already loaded")

    org = sub.add_parser("org", help="organisations").add_subparsers(dest="org_command", required=True)
    org_add = org.add_parser("add")
    org_add.add_argument("orgnr")
    org_add.add_argument("name")
    org_add.add_argument("--kind", choices=["kommune", "iks"], default="kommune")
    org_add.add_argument("--kostra-region", default="")
    org_add.add_argument("--region", default=None, help="name of the region (purchasing cooperation)")
    org_list = org.add_parser("list")
    org_list.add_argument("--format", choices=["json", "csv", "table"], default="table")

    profile = sub.add_parser("profile", help="column-mapping profiles").add_subparsers(dest="profile_command",
                                                                                       required=True)
    profile_import = profile.add_parser("import")
    profile_import.add_argument("file")
    profile_import.add_argument("--org", required=True)

    imp = sub.add_parser("import", help="import data").add_subparsers(dest="import_command", required=True)
    ledger = imp.add_parser("ledger")
    ledger.add_argument("file")
    ledger.add_argument("--org", required=True)
    ledger.add_argument("--profile", default=None)
    kostra = imp.add_parser("kostra")
    kostra.add_argument("file")
    kostra.add_argument("--org", default=None)

    rate = sub.add_parser("rate", help="exchange rates").add_subparsers(dest="rate_command", required=True)
    rate_set = rate.add_parser("set")
    rate_set.add_argument("year", type=int)
    rate_set.add_argument("currency")
    rate_set.add_argument("nok_per_unit", type=float)
    rate_set.add_argument("--source", default="entered by user")

    factors = sub.add_parser("factors", help="the factor library").add_subparsers(dest="factors_command",
                                                                                  required=True)
    factors_list = factors.add_parser("list")
    factors_list.add_argument("--set", default=None, help="NAME or NAME:VERSION")
    factors_list.add_argument("--format", choices=["json", "csv", "table"], default="table")
    factors_import = factors.add_parser("import")
    factors_import.add_argument("file")

    compute = sub.add_parser("compute", help="compute the climate account")
    compute.add_argument("--factor-set", default=None)

    totals = sub.add_parser("totals", help="print totals")
    totals.add_argument("--org", default=None)
    totals.add_argument("--year", type=int, default=None)
    totals.add_argument("--by", default="")
    totals.add_argument("--format", choices=["json", "csv", "table"], default="table")

    serve = sub.add_parser("serve", help="serve the web app")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--host", default="127.0.0.1")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _setup(args.data_dir)
        return COMMANDS[args.command](args)
    except Exception as exc:  # noqa: BLE001 - mapped to exit codes below
        from klimainnkjop.access import OutsideScope
        from klimainnkjop.importers.errors import ImportRejected
        from klimainnkjop.services.organisations import InvalidInput

        from klimainnkjop.selectors.results import NoResults

        if isinstance(exc, (ImportRejected, InvalidInput, OutsideScope, ValueError, FileNotFoundError)):
            print(f"klimainnkjop: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        if isinstance(exc, NoResults):
            print(f"klimainnkjop: {exc}", file=sys.stderr)
            return EXIT_ERROR
        if isinstance(exc, KeyboardInterrupt):
            raise
        import traceback

        traceback.print_exc()
        return EXIT_ERROR


def _read_file(path: str) -> tuple[bytes, str]:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return p.read_bytes(), p.name


def _org(orgnr: str):
    from klimainnkjop.services.organisations import InvalidInput
    from klimainnkjop.storage.models import Organisation

    org = Organisation.objects.filter(orgnr=orgnr.replace(" ", "")).first()
    if org is None:
        raise InvalidInput(f"--org: no organisation with orgnr {orgnr}; add it with `klimainnkjop org add`")
    return org


def _emit(rows: list[dict], fmt: str, document: dict | None = None) -> None:
    if fmt == "json":
        print(json.dumps(document if document is not None else rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        print("(no rows)")
        return
    columns = list(rows[0])
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        print(out.getvalue(), end="")
        return
    cells = [[_fmt_cell(r[c]) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in cells:
        print("  ".join(v.rjust(w) if _numeric(v) else v.ljust(w) for v, w in zip(row, widths)))


def _fmt_cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}".replace(",", " ")
    return str(value)


def _numeric(text: str) -> bool:
    return text.replace(" ", "").replace(".", "").replace("-", "").isdigit()


def cmd_demo(args) -> int:
    from klimainnkjop.demo.load import do_load_demo

    result = do_load_demo(scale=args.scale, seed=args.seed, if_empty=args.if_empty, actor="cli",
                          progress=lambda msg: print(msg, flush=True))
    print(result.summary())
    return EXIT_OK


def cmd_org(args) -> int:
    from klimainnkjop.services.organisations import do_create_organisation, organisation_dict
    from klimainnkjop.storage.models import Organisation

    if args.org_command == "add":
        org = do_create_organisation(orgnr=args.orgnr, name=args.name, kind=args.kind,
                                     kostra_region=args.kostra_region, region_name=args.region, actor="cli")
        print(f"added {org.name} ({org.orgnr})")
        return EXIT_OK
    rows = [organisation_dict(o) for o in Organisation.objects.order_by("name")]
    _emit(rows, args.format)
    return EXIT_OK


def cmd_profile(args) -> int:
    from klimainnkjop.services.profiles import do_save_profile, read_profile_file

    spec = read_profile_file(Path(args.file))
    saved = do_save_profile(organisation=_org(args.org), spec=spec, actor="cli", source=args.file)
    print(f"saved profile {saved.name!r} for {saved.organisation.orgnr}")
    return EXIT_OK


def cmd_import(args) -> int:
    from klimainnkjop.services.imports import do_import_kostra, do_import_ledger

    data, name = _read_file(args.file)
    if args.import_command == "ledger":
        result = do_import_ledger(organisation=_org(args.org), data=data, file_name=name, profile_name=args.profile,
                                  actor="cli")
    else:
        result = do_import_kostra(data=data, file_name=name, organisation=_org(args.org) if args.org else None,
                                  actor="cli")
    if result.already_imported:
        print(f"{name}: already imported (batch {result.batch.pk}); nothing added")
    else:
        print(f"{name}: {result.rows_read} rows read, {result.lines_added} lines added, "
              f"{result.lines_duplicate} already present")
    return EXIT_OK


def cmd_rate(args) -> int:
    from klimainnkjop.services.reference import do_set_exchange_rate

    do_set_exchange_rate(year=args.year, currency=args.currency, nok_per_unit=args.nok_per_unit, source=args.source,
                         actor="cli")
    print(f"{args.currency.upper()} {args.year}: {args.nok_per_unit} NOK")
    return EXIT_OK


def cmd_factors(args) -> int:
    if args.factors_command == "import":
        from klimainnkjop.services.factors import do_import_factor_set

        data, name = _read_file(args.file)
        factor_set, created = do_import_factor_set(data=data, file_name=name, actor="cli")
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
    _emit(rows, args.format)
    return EXIT_OK


def cmd_compute(args) -> int:
    from klimainnkjop.services.compute import do_compute

    run = do_compute(factor_set_name=args.factor_set, actor="cli")
    print(f"run {run.pk} with {', '.join(run.factor_sets)}: {run.lines_in} lines, "
          f"{run.lines_purchase} purchases, {run.spend_ore / 100:,.0f} NOK, {run.kg_co2e / 1000:,.1f} t CO2e "
          f"({run.kg_low / 1000:,.1f}–{run.kg_high / 1000:,.1f})".replace(",", " "))
    return EXIT_OK


def cmd_totals(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.results import totals

    by = [k.strip() for k in args.by.split(",") if k.strip()]
    if args.org:
        _org(args.org)
    document = totals(system_scope(), org=args.org, year=args.year, by=by)
    rows = [{k: v for k, v in r.items() if k != "covered_spend_nok"} for r in document["rows"]]
    document = {"factor_set": document["factor_set"], "factor_sets": document["factor_sets"],
                "consolidated": document["consolidated"], "rows": rows}
    _emit(rows, args.format, document)
    return EXIT_OK


def cmd_serve(args) -> int:
    from django.contrib.staticfiles.handlers import StaticFilesHandler  # noqa: F401
    from waitress import serve

    from klimainnkjop.wsgi import application

    print(f"Klimainnkjøp: http://{args.host}:{args.port}/", flush=True)
    serve(application, host=args.host, port=args.port, threads=8)
    return EXIT_OK


COMMANDS = {
    "demo": cmd_demo, "org": cmd_org, "profile": cmd_profile, "import": cmd_import, "rate": cmd_rate,
    "compute": cmd_compute, "totals": cmd_totals, "serve": cmd_serve, "factors": cmd_factors,
}

if __name__ == "__main__":
    sys.exit(main())
