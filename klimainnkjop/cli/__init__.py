"""The command line: `klimainnkjop [--data-dir DIR] COMMAND ...`.

Exit codes: 0 success, 2 bad input (the message names file, row and field; nothing was written), 1 otherwise.
Each command group lives in its own module with `register(sub) -> {command: handler}`.
"""
from __future__ import annotations

import argparse
import os
import sys

from klimainnkjop.cli.output import EXIT_BAD_INPUT, EXIT_ERROR

GROUPS = ["klimainnkjop.cli.data", "klimainnkjop.cli.users", "klimainnkjop.cli.invoices", "klimainnkjop.cli.categories",
          "klimainnkjop.cli.suppliers"]
GROUPS += ["klimainnkjop.cli.reports"]  # report, publish
GROUPS += ["klimainnkjop.cli.classify"]  # the learned text model
GROUPS += ["klimainnkjop.cli.maintenance"]  # leftovers of killed processes
GROUPS += ["klimainnkjop.cli.measures"]  # measures, packages, trajectory
GROUPS += ["klimainnkjop.cli.dropfolders"]  # imports from drop folders, watch
GROUPS += ["klimainnkjop.cli.targets"]  # targets, kpis, budgets, population (issue 11)
GROUPS += ["klimainnkjop.cli.agreements"]  # agreements, renewals, the requirement library (issue 12)
GROUPS += ["klimainnkjop.cli.effect"]  # measured effect: volume and intensity (LMDI)
GROUPS += ["klimainnkjop.cli.documents"]  # the baseline report and the council case documents (issue 13)
GROUPS += ["klimainnkjop.cli.runs"]  # what changed between computations, and why (issue 16 item 4)


def _setup(data_dir: str | None) -> None:
    from klimainnkjop.paths import ENV_VAR

    if data_dir:
        os.environ[ENV_VAR] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klimainnkjop.settings")
    import django

    django.setup()
    _migrate()
    from klimainnkjop.services.reference import do_load_reference_data
    from klimainnkjop.selectors import factors as factor_selectors

    if not factor_selectors.factor_sets().exists():
        do_load_reference_data(actor="cli")


_migrated: set[str] = set()  # databases whose migrations were checked by this process


def _migrate() -> None:
    """Brings the database up to date, checked once per process and database."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    key = f"{connection.vendor}:{connection.settings_dict['NAME']}"
    if key in _migrated:
        return
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", verbosity=0, interactive=False)
    _migrated.add(key)


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    import importlib

    parser = argparse.ArgumentParser(prog="klimainnkjop", description="Klimagassregnskap for offentlige innkjøp")
    parser.add_argument("--data-dir", default=None,
                        help="where everything a run writes is kept (default ./var; env KLIMAINNKJOP_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)
    handlers: dict = {}
    for module in GROUPS:
        handlers.update(importlib.import_module(module).register(sub))
    return parser, handlers


def main(argv: list[str] | None = None) -> int:
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    try:
        _setup(args.data_dir)
        return handlers[args.command](args)
    except BaseException as exc:  # noqa: BLE001 - mapped to exit codes below
        from klimainnkjop.importers.errors import is_reader_panic

        if is_reader_panic(exc):  # a Rust panic in the spreadsheet reader: a hostile cell, i.e. bad input
            where = getattr(args, "file", None) or ", ".join(getattr(args, "paths", None) or []) or "input"
            print(f"klimainnkjop: {where}: the file cannot be read ({exc})", file=sys.stderr)
            return EXIT_BAD_INPUT
        if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit and the like go on as they are
            raise
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
        import traceback

        traceback.print_exc()
        return EXIT_ERROR




if __name__ == "__main__":
    sys.exit(main())
