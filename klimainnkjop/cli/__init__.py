"""The command line: `klimainnkjop [--data-dir DIR] COMMAND ...`.

Exit codes: 0 success, 2 bad input (the message names file, row and field; nothing was written), 1 otherwise.
Each command group lives in its own module, listed in GROUPS, with `add_parsers(sub)`: it adds its commands to the
top-level sub-parsers and names each command's handler with argparse's own `set_defaults(handler=...)` (the kinds
of `import` are all in cli/data.py). `main` parses, sets Django up once (the migration check included) and calls
`args.handler(args)`.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys

from klimainnkjop.cli.output import EXIT_BAD_INPUT, EXIT_ERROR
from klimainnkjop.core.actors import CLI

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
GROUPS += ["klimainnkjop.cli.construction"]  # construction projects against FutureBuilt (issue 11 item 5)
GROUPS += ["klimainnkjop.cli.api"]  # the JSON API's tokens (issue 16 item 8)
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
        do_load_reference_data(actor=CLI)


def _migrate() -> None:
    """Brings the database up to date."""
    from django.db import connection

    _migrate_database(connection.vendor, connection.settings_dict["NAME"])


@functools.cache
def _migrate_database(vendor: str, name: str) -> None:
    """Checked once per process and database: in-process callers (the tests' run_cli, `demo` calling other
    commands) pay for the migration graph once."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", verbosity=0, interactive=False)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: every group's parsers, each command with its handler (`args.handler`)."""
    import importlib

    parser = argparse.ArgumentParser(prog="klimainnkjop", description="Klimagassregnskap for offentlige innkjøp")
    parser.add_argument("--data-dir", default=None,
                        help="where everything a run writes is kept (default ./var; env KLIMAINNKJOP_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in GROUPS:
        module = importlib.import_module(name)
        if hasattr(module, "add_parsers"):
            module.add_parsers(sub)
        else:  # a group written for the former `register(sub) -> {command: handler}`: convert it to add_parsers
            for command, handler in module.register(sub).items():
                sub.choices[command].set_defaults(handler=handler)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _setup(args.data_dir)
        from klimainnkjop import access

        from django.utils import translation

        # the operator's face: every organisation, no scope filter (README: Design); its messages in English
        with access.operator(), translation.override("en"):
            return args.handler(args)
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
