"""Drop folders (services/dropfolders.py): `imports run-due` for cron, `imports layout` to make the folders,
and `watch`, a long-running service like `worker` that runs the due imports every --interval seconds."""
from __future__ import annotations

import json
import signal
import sys
import time

from klimainnkjop.cli.output import EXIT_BAD_INPUT, EXIT_OK
from klimainnkjop.core.actors import CLI, DROPFOLDER


def add_parsers(sub) -> None:
    p = sub.add_parser("imports", help="imports from drop folders (per organisation and source)")
    p.set_defaults(handler=cmd_imports)
    actions = p.add_subparsers(dest="imports_command", required=True)
    due = actions.add_parser("run-due", help="import every file waiting in the drop folders once, then compute")
    due.add_argument("--settle", type=float, default=10.0,
                     help="seconds a file must be unchanged before it is imported (default 10)")
    due.add_argument("--no-compute", action="store_true", help="do not compute after importing")
    due.add_argument("--format", choices=["json", "table"], default="table")
    layout = actions.add_parser("layout", help="create the drop folders of every organisation (or the given ones)")
    layout.add_argument("orgnrs", nargs="*", metavar="ORGNR")
    watch = sub.add_parser("watch", help="run `imports run-due` every --interval seconds until stopped")
    watch.set_defaults(handler=cmd_watch)
    watch.add_argument("--interval", type=float, default=60.0)
    watch.add_argument("--settle", type=float, default=10.0)


def _print(run, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(run.as_dict(), ensure_ascii=False, indent=2))
        return
    for o in run.outcomes:
        what = {"imported": f"imported, {o.lines_added} lines added", "already_imported": "already imported",
                "failed": f"FAILED: {o.message}"}[o.status]
        print(f"{o.file}: {what} → {o.moved_to}")
    for name in run.waiting:
        print(f"{name}: still being written; next run")
    if run.computed_run:
        print(f"computed (run {run.computed_run})")
    if not run.outcomes and not run.waiting:
        print("nothing to import")


def cmd_imports(args) -> int:
    from klimainnkjop.services import dropfolders

    if args.imports_command == "layout":
        from klimainnkjop.access import system_scope
        from klimainnkjop.selectors.organisations import organisations

        orgnrs = args.orgnrs or [o.orgnr for o in organisations(system_scope())]
        known = {o.orgnr for o in organisations(system_scope())}
        unknown = [n for n in orgnrs if n not in known]
        if unknown:
            print(f"klimainnkjop: no organisation {', '.join(unknown)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        root = dropfolders.ensure_layout(orgnrs)
        print(f"drop folders of {len(orgnrs)} organisation(s) in {root}")
        return EXIT_OK
    run = dropfolders.do_import_due_files(actor=CLI, settle=args.settle, compute=not args.no_compute)
    _print(run, args.format)
    return EXIT_OK


def cmd_watch(args) -> int:
    from klimainnkjop.services import dropfolders

    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    print(f"klimainnkjop: watching {dropfolders.drop_dir()} every {args.interval:g} s", file=sys.stderr, flush=True)
    try:
        while True:
            run = dropfolders.do_import_due_files(actor=DROPFOLDER, settle=args.settle)
            if run.outcomes:
                _print(run, "table")
                sys.stdout.flush()
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return EXIT_OK
