"""Suppliers: `suppliers import|refresh|list|profile|factor`, and the handler of `import supplier-stats` (whose
parser is in the `import` group of cli/data.py)."""
from __future__ import annotations

import sys
from pathlib import Path

from klimainnkjop.cli.output import EXIT_ERROR, EXIT_OK, emit, find_org, read_file
from klimainnkjop.core.actors import CLI


def add_parsers(sub) -> None:
    suppliers_parser = sub.add_parser("suppliers", help="suppliers and Enhetsregisteret")
    suppliers_parser.set_defaults(handler=cmd_suppliers)
    suppliers = suppliers_parser.add_subparsers(dest="suppliers_command", required=True)
    imp = suppliers.add_parser("import", help="Enhetsregisteret's units file (enheter: JSON or CSV, gzip or not)")
    imp.add_argument("file")
    imp.add_argument("--all", action="store_true", help="also add the units that are not yet suppliers")
    refresh = suppliers.add_parser("refresh", help="look suppliers up in Enhetsregisteret's open API (cached)")
    refresh.add_argument("--missing-only", action="store_true", help="only suppliers without a NACE code")
    refresh.add_argument("--orgnr", action="append", default=None, help="only this supplier (repeatable)")
    refresh.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    refresh.add_argument("--cache-days", type=float, default=30.0, help="reuse answers younger than this")
    refresh.add_argument("--base-url", default=None, help="the API's base URL (env KLIMAINNKJOP_BRREG_URL)")
    lst = suppliers.add_parser("list")
    lst.add_argument("--missing-nace", action="store_true")
    lst.add_argument("--format", choices=["json", "csv", "table"], default="table")
    profile = suppliers.add_parser("profile", help="supplier-statistics profiles").add_subparsers(
        dest="profile_command", required=True)
    profile_import = profile.add_parser("import", help="a JSON supplier-statistics profile")
    profile_import.add_argument("file")
    profile_import.add_argument("--org", required=True)
    factor = suppliers.add_parser("factor", help="supplier-specific factors").add_subparsers(
        dest="factor_command", required=True)
    add = factor.add_parser("add", help="a supplier's documented kg CO2e per NOK")
    add.add_argument("orgnr")
    add.add_argument("value", type=float, help="kg CO2e per unit of currency at the price year")
    add.add_argument("--price-year", type=int, required=True)
    add.add_argument("--from", dest="valid_from", type=int, required=True, help="first year it is valid")
    add.add_argument("--to", dest="valid_to", type=int, required=True, help="last year it is valid")
    add.add_argument("--evidence", required=True, help="what documents the figure (EPD, climate report, …)")
    add.add_argument("--low", type=float, default=None)
    add.add_argument("--high", type=float, default=None)
    add.add_argument("--currency", default="NOK")
    add.add_argument("--quality", type=int, default=2)


def cmd_import_stats(args) -> int:
    from klimainnkjop.services.suppliers import do_import_supplier_stats

    data, name = read_file(args.file)
    result = do_import_supplier_stats(organisation=find_org(args.org), data=data, file_name=name,
                                      profile_name=args.profile, actor=CLI)
    if result.already_imported:
        print(f"{name}: already imported (batch {result.batch.pk}); nothing added")
    else:
        print(f"{name}: {result.rows_read} rows read, {result.lines_added} lines added, "
              f"{result.lines_duplicate} already present, {result.rows_other_customer} rows of other customers skipped")
    return EXIT_OK


def cmd_suppliers(args) -> int:
    return {"import": _import, "refresh": _refresh, "list": _list, "profile": _profile,
            "factor": _factor}[args.suppliers_command](args)


def _import(args) -> int:
    from klimainnkjop.services.suppliers import do_import_supplier_register

    result = do_import_supplier_register(path=Path(args.file), include_all=args.all, actor=CLI)
    print(f"{Path(args.file).name}: {result.units_read} units read; {result.updated} suppliers updated, "
          f"{result.unchanged} unchanged, {result.added} added"
          + ("" if args.all else f", {result.not_known} units not suppliers (use --all to add them)"))
    return EXIT_OK


def _refresh(args) -> int:
    import datetime as dt

    from klimainnkjop.clients.brreg import BrregClient
    from klimainnkjop.services.suppliers import do_refresh_suppliers

    with BrregClient(base_url=args.base_url, timeout=args.timeout,
                     cache_ttl=dt.timedelta(days=args.cache_days)) as client:
        result = do_refresh_suppliers(client=client, missing_only=args.missing_only, orgnrs=args.orgnr, actor=CLI)
    for failure in result.failed:
        print(f"klimainnkjop: {failure}", file=sys.stderr)
    print(f"{result.looked_up} suppliers looked up ({result.requests} requests): {result.updated} updated, "
          f"{result.unchanged} unchanged, {len(result.not_found)} unknown numbers, {len(result.deleted)} deleted, "
          f"{len(result.failed)} failed")
    return EXIT_ERROR if result.failed else EXIT_OK


def _list(args) -> int:
    from klimainnkjop.services.suppliers import supplier_dict
    from klimainnkjop.selectors import suppliers as supplier_selectors

    suppliers = supplier_selectors.suppliers(missing_nace=args.missing_nace)
    rows = [supplier_dict(s) for s in suppliers]
    if args.format != "json":
        rows = [{k: (", ".join(v) if isinstance(v, list) else v) for k, v in r.items()} for r in rows]
    emit(rows, args.format)
    return EXIT_OK


def _profile(args) -> int:
    from klimainnkjop.services.suppliers import do_save_supplier_stats_profile, read_stats_profile_file

    spec = read_stats_profile_file(Path(args.file))
    saved = do_save_supplier_stats_profile(organisation=find_org(args.org), spec=spec, actor=CLI, source=args.file)
    print(f"saved supplier-statistics profile {saved.name!r} for {saved.organisation.orgnr}")
    return EXIT_OK


def _factor(args) -> int:
    from klimainnkjop.core.values import parse_orgnr
    from klimainnkjop.services.factors import do_add_supplier_factor

    factor = do_add_supplier_factor(
        supplier_orgnr=parse_orgnr(args.orgnr), value=args.value, price_year=args.price_year,
        valid_from_year=args.valid_from, valid_to_year=args.valid_to, evidence=args.evidence, low=args.low,
        high=args.high, currency=args.currency.upper(), quality=args.quality, actor=CLI)
    print(f"supplier factor {factor.pk}: {factor.supplier_orgnr} {factor.value} kg CO2e/{factor.currency} "
          f"({factor.price_year} prices), valid {factor.valid_from_year}–{factor.valid_to_year}")
    return EXIT_OK
