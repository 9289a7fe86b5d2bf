"""`klimainnkjop runs changes`: what changed between two computations and why (issue 16 item 4), per organisation
and category, split into new lines, removed lines, reclassified lines, method changes, new factors and other."""
from __future__ import annotations

from klimainnkjop.cli.output import EXIT_OK, emit, find_org

FORMATS = ["json", "csv", "table"]


def add_parsers(sub) -> None:
    runs = sub.add_parser("runs", help="computations: what changed since the one before")
    runs.set_defaults(handler=cmd_runs)
    actions = runs.add_subparsers(dest="action", required=True)
    changes = actions.add_parser("changes", help="the difference from the previous computation, by cause")
    changes.add_argument("--run", type=int, default=None, help="the computation (default: the latest)")
    changes.add_argument("--against", type=int, default=None,
                         help="compare with this computation (default: the one before --run)")
    changes.add_argument("--org", default=None, help="one organisation (default: the region, consolidated)")
    changes.add_argument("--year", type=int, default=None)
    changes.add_argument("--by", default="org,category", help="org,year,month,unit,category,investment (or '')")
    changes.add_argument("--format", choices=FORMATS, default="json")


def cmd_runs(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import changes as selectors
    from klimainnkjop.selectors.results import NoResults

    def run(number: int | None, option: str):
        if number is None:
            return None
        try:
            return selectors.finished_run(number)
        except LookupError as exc:
            raise ValueError(f"{option}: {exc}") from None

    this, base = run(args.run, "--run"), run(args.against, "--against")
    org = find_org(args.org).orgnr if args.org else None
    by = [k.strip() for k in args.by.split(",") if k.strip()]
    result = selectors.run_changes(system_scope(), run=this, base=base, org=org, year=args.year, by=by)
    if result is None:
        raise NoResults()
    emit(result.rows if by else [result.total], args.format, result.as_dict())
    return EXIT_OK
