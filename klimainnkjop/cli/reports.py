"""Report and publication commands:

klimainnkjop report --org ORGNR [--unit CODE] | --region --period 2025Q3|2025H1|2025T2|2025 --format pdf|xlsx|csv -o FILE
klimainnkjop publish --org ORGNR | --region --year YYYY
klimainnkjop reports schedule add --org ORGNR [--unit CODE] | --region --cadence quarter|half-year|tertial|year --format pdf|xlsx|csv
klimainnkjop reports schedule list [--format table|json|csv]
klimainnkjop reports schedule remove ID
klimainnkjop reports run-due [--today YYYY-MM-DD] [--queue]   (for cron: makes each schedule's last completed period once)
klimainnkjop worker [--batch]   (makes the reports queued from the web; `serve` starts one unless --no-worker)
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys

from klimainnkjop.cli.output import EXIT_BAD_INPUT, EXIT_ERROR, EXIT_OK, emit
from klimainnkjop.core.actors import CLI

CADENCES = ["quarter", "half-year", "tertial", "year"]
FUNDER_TEXT_FILES = {"activities": "activities", "deviations": "deviations", "experiences": "experiences",
                     "next-steps": "next_steps"}  # --NAME-file -> the report's text field


def add_parsers(sub) -> None:
    report = sub.add_parser("report", help="a periodic report (PDF, Excel or CSV), archived in the data directory")
    report.set_defaults(handler=cmd_report)
    who = report.add_mutually_exclusive_group(required=True)
    who.add_argument("--org", default=None, help="organisation number")
    who.add_argument("--region", action="store_true", help="the whole region, consolidated")
    report.add_argument("--unit", default=None, help="a unit code of the organisation (with its sub-units)")
    report.add_argument("--period", required=True, help="2025Q3 (quarter), 2025H1 (half-year), 2025T2 (tertial), 2025")
    report.add_argument("--format", choices=["pdf", "xlsx", "csv"], required=True)
    report.add_argument("-o", "--output", required=True, help="where to write a copy of the report")
    report.add_argument("--layout", choices=["standard", "funder"], default="standard",
                        help="funder: the funder's progress report (results, activities, deviations)")
    report.add_argument("--final", action="store_true", help="funder layout: the final report (Sluttrapport)")
    report.add_argument("--baseline-year", default=None, help="funder layout: the year to compare with "
                                                              "(default: the first year with figures)")
    report.add_argument("--project", default=None, help="funder layout: the project's name")
    for name in FUNDER_TEXT_FILES:
        report.add_argument(f"--{name}-file", default=None, help=f"funder layout: a UTF-8 text file, {name}")

    publish = sub.add_parser("publish", help="publish one year's figures on the public page and as open data")
    publish.set_defaults(handler=cmd_publish)
    target = publish.add_mutually_exclusive_group(required=True)
    target.add_argument("--org", default=None)
    target.add_argument("--region", action="store_true")
    publish.add_argument("--year", type=int, required=True)

    reports_parser = sub.add_parser("reports", help="report schedules and running the due ones")
    reports_parser.set_defaults(handler=cmd_reports)
    reports = reports_parser.add_subparsers(dest="reports_command", required=True)
    schedule = reports.add_parser("schedule", help="reports made for every completed period").add_subparsers(
        dest="schedule_command", required=True)
    add = schedule.add_parser("add", help="add a schedule")
    subject = add.add_mutually_exclusive_group(required=True)
    subject.add_argument("--org", default=None, help="organisation number")
    subject.add_argument("--region", action="store_true", help="the whole region, consolidated")
    add.add_argument("--unit", default=None, help="a unit code of the organisation")
    add.add_argument("--cadence", choices=CADENCES, required=True)
    add.add_argument("--format", choices=["pdf", "xlsx", "csv"], required=True)
    listing = schedule.add_parser("list", help="list the schedules")
    listing.add_argument("--format", choices=["json", "csv", "table"], default="table")
    remove = schedule.add_parser("remove", help="remove a schedule (its reports stay archived)")
    remove.add_argument("id", type=int)
    due = reports.add_parser("run-due", help="make each schedule's most recently completed period, once (for cron)")
    due.add_argument("--today", type=_date, default=None, help="YYYY-MM-DD (default: today)")
    due.add_argument("--queue", action="store_true", help="hand the reports to the worker instead of making them here")

    worker = sub.add_parser("worker", help="the background worker that makes the reports asked for on the web")
    worker.set_defaults(handler=cmd_worker)
    worker.add_argument("--batch", action="store_true", help="make the queued reports, then stop")
    worker.add_argument("--interval", type=float, default=1.0, help="seconds between looks at an empty queue")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--today: {text!r} is not a date; write YYYY-MM-DD") from None


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
    texts = {"kind": "final" if args.final else None, "baseline_year": args.baseline_year, "project": args.project}
    for name, key in FUNDER_TEXT_FILES.items():  # paragraphs are separated by an empty line
        path = getattr(args, f"{name.replace('-', '_')}_file")
        try:
            texts[key] = open(path, encoding="utf-8").read() if path else None
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"--{name}-file: cannot read {path} as UTF-8 text ({exc})") from None
    texts = {key: value for key, value in texts.items() if value is not None}
    report = do_generate_report(system_scope(), scope_kind=kind, orgnr=orgnr, unit_code=args.unit,
                                period=args.period, fmt=args.format, actor=CLI, layout=args.layout, texts=texts)
    shutil.copyfile(report_path(report), args.output)
    print(f"report {report.pk}: {args.output} (run {report.run_id}, {', '.join(report.factor_sets)}, "
          f"sha256 {report.sha256})")
    return EXIT_OK


def cmd_publish(args) -> int:
    from klimainnkjop.cli.output import find_org
    from klimainnkjop.services.reports import do_publish_figures

    orgnr = find_org(args.org).orgnr if args.org else None
    publication = do_publish_figures(year=args.year, orgnr=orgnr, actor=CLI)
    total = publication.figures["total"]
    print(f"published {orgnr or 'region'} {args.year}: {total['kg_co2e'] / 1000:.1f} t CO2e, "
          f"{total['spend_nok']:.2f} NOK (run {publication.run_id})")
    return EXIT_OK


def cmd_reports(args) -> int:
    if args.reports_command == "run-due":
        return _run_due(args)
    return {"add": _schedule_add, "list": _schedule_list, "remove": _schedule_remove}[args.schedule_command](args)


def _schedule_add(args) -> int:
    from klimainnkjop.cli.output import find_org
    from klimainnkjop.services.reports import do_add_report_schedule

    orgnr = find_org(args.org).orgnr if args.org else None
    schedule = do_add_report_schedule(orgnr=orgnr, unit_code=args.unit, cadence=args.cadence, fmt=args.format,
                                      actor=CLI)
    print(f"schedule {schedule.pk}: {orgnr or 'region'}{f' unit {args.unit}' if args.unit else ''}, "
          f"{schedule.cadence}, {schedule.format}")
    return EXIT_OK


def _schedule_list(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import reports as report_selectors

    rows = [{"id": s.pk, "subject": s.organisation.orgnr if s.organisation_id else "region",
             "unit": s.unit_code or None, "cadence": s.cadence, "format": s.format, "layout": s.layout,
             "active": s.active, "last_period": s.last_period or None, "last_report": s.last_report_id}
            for s in report_selectors.schedules(system_scope())]
    emit(rows, args.format)
    return EXIT_OK


def _schedule_remove(args) -> int:
    from klimainnkjop.services.reports import do_remove_report_schedule

    do_remove_report_schedule(schedule_id=args.id, actor=CLI)
    print(f"removed schedule {args.id}")
    return EXIT_OK


def _run_due(args) -> int:
    from klimainnkjop.services.reports import do_run_due_schedules

    runs = do_run_due_schedules(today=args.today, queue=args.queue, actor=CLI)
    for run in runs:
        r = run.report
        outcome = f"failed: {run.error}" if run.error else (f"{r.status}, {r.file_path}, sha256 {r.sha256}"
                                                           if r.status == "done" else r.status)
        print(f"schedule {run.schedule.pk}: report {r.pk} {r.period} {r.format}: {outcome}")
    if not runs:
        print("nothing due")
    return EXIT_ERROR if any(run.error for run in runs) else EXIT_OK


def cmd_worker(args) -> int:
    from django.conf import settings
    from django.core.management import call_command

    if settings.KLIMAINNKJOP_TASKS != "database":
        print("klimainnkjop: KLIMAINNKJOP_TASKS=immediate makes reports in the web request; no worker is needed",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    from klimainnkjop.services.reports import do_fail_interrupted_reports

    if interrupted := do_fail_interrupted_reports():
        print(f"klimainnkjop: {interrupted} report(s) interrupted by an earlier stop are marked failed",
              file=sys.stderr)
    from klimainnkjop.cli.maintenance import clean_at_start

    clean_at_start("worker")
    from django.conf import settings
    from django.utils import translation

    # the jobs write what the web shows later (an upload's errors, a report's progress): in the site's language,
    # not the CLI's English
    with translation.override(settings.LANGUAGE_CODE):
        call_command("db_worker", batch=args.batch, interval=args.interval, reload=False, startup_delay=False,
                     verbosity=1)
    return EXIT_OK


def start_worker() -> subprocess.Popen | None:
    """For `serve`: the worker as a child process with the same data directory and database (the environment),
    unless jobs run inline (KLIMAINNKJOP_TASKS=immediate)."""
    from django.conf import settings

    if settings.KLIMAINNKJOP_TASKS != "database":
        return None
    process = subprocess.Popen([sys.executable, "-m", "klimainnkjop.cli", "worker"], env=os.environ.copy())
    print(f"Klimainnkjøp: report worker started (process {process.pid})", flush=True)
    return process


def stop_worker(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
