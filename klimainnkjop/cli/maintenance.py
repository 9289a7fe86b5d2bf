"""`klimainnkjop maintenance clean`: the leftovers of killed processes (services/maintenance.py). `serve` and
`worker` do the same when they start."""
from __future__ import annotations

import json
import sys

from klimainnkjop.cli.output import EXIT_OK
from klimainnkjop.core.actors import CLI


def add_parsers(sub) -> None:
    p = sub.add_parser("maintenance", help="housekeeping of the data directory and the database")
    p.set_defaults(handler=cmd_maintenance)
    actions = p.add_subparsers(dest="action", required=True)
    clean = actions.add_parser("clean", help="mark compute runs whose process is gone as failed; remove the files "
                                             "of imports and runs that never committed and the result files of "
                                             "old runs beyond KLIMAINNKJOP_KEEP_RUNS")
    clean.add_argument("--format", choices=["json", "table"], default="table")


def cmd_maintenance(args) -> int:
    from klimainnkjop.services.maintenance import do_clean_leftovers

    result = do_clean_leftovers(actor=CLI)
    if args.format == "json":
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return EXIT_OK
    for pk in result.runs_failed:
        print(f"compute run {pk}: interrupted, marked failed")
    for path in result.files_removed:
        print(f"removed {path}")
    for pk in result.runs_pruned:
        print(f"compute run {pk}: old, its result files removed (KLIMAINNKJOP_KEEP_RUNS)")
    if not result:
        print("nothing to clean")
    return EXIT_OK


def clean_at_start(who: str) -> None:
    """For `serve` and `worker`: clean before starting, saying what was done on standard error. A failure here is
    logged and does not stop the start."""
    from klimainnkjop.services.maintenance import do_clean_leftovers

    try:
        result = do_clean_leftovers(actor=who)
    except Exception as exc:  # noqa: BLE001 - housekeeping must not keep the service from starting
        print(f"klimainnkjop: cleaning leftovers failed: {exc}", file=sys.stderr)
        return
    if result.runs_failed:
        print(f"klimainnkjop: {len(result.runs_failed)} compute run(s) interrupted by an earlier stop are marked "
              "failed", file=sys.stderr)
    if result.files_removed:
        print(f"klimainnkjop: {len(result.files_removed)} file(s) of imports or runs that never finished removed",
              file=sys.stderr)
