"""The baseline report and the council case documents (issue 13):

klimainnkjop document baseline --region|--org ORGNR --year YYYY [--package NAME] --format docx|pdf [--language nb|en]
    -o FILE
klimainnkjop document saksfremlegg --org ORGNR|--all --package NAME --format docx|pdf [--language nb|en] -o FILE
    (--all: a zip)
klimainnkjop document texts [--set FILE.json]      (show or set the case document's shared texts)
klimainnkjop document decision --org ORGNR --package NAME --date YYYY-MM-DD --body TEXT --case NUMBER
    [--target-template KEY]... [--baseline-year Y] [--target-year Y]
"""
from __future__ import annotations

import datetime as dt
import json
import sys

from klimainnkjop.cli.output import EXIT_OK
from klimainnkjop.core.actors import CLI


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--date: {text!r} is not a date; write YYYY-MM-DD") from None


def add_parsers(sub) -> None:
    document_parser = sub.add_parser("document", help="the baseline report and the council case documents")
    document_parser.set_defaults(handler=cmd_document)
    document = document_parser.add_subparsers(dest="document_command", required=True)
    base = document.add_parser("baseline", help="the baseline report (kartleggingsrapport)")
    who = base.add_mutually_exclusive_group(required=True)
    who.add_argument("--org", default=None, help="organisation number")
    who.add_argument("--region", action="store_true", help="the whole region, consolidated")
    base.add_argument("--year", type=int, required=True, help="the baseline year")
    base.add_argument("--package", default=None, help="the package recommended (default: the one that cuts most)")
    base.add_argument("--format", choices=["docx", "pdf"], required=True)
    base.add_argument("--language", choices=["nb", "en"], default="nb", help="the text's language (default bokmål)")
    base.add_argument("-o", "--output", required=True)

    case = document.add_parser("saksfremlegg", help="the council case document, per organisation")
    whom = case.add_mutually_exclusive_group(required=True)
    whom.add_argument("--org", default=None, help="organisation number")
    whom.add_argument("--all", action="store_true", help="every organisation, in one zip")
    case.add_argument("--package", required=True, help="the package the case proposes")
    case.add_argument("--format", choices=["docx", "pdf"], required=True)
    case.add_argument("--language", choices=["nb", "en"], default="nb",
                      help="the text's language (default bokmål; English uses the English shared texts)")
    case.add_argument("-o", "--output", required=True)

    texts = document.add_parser("texts", help="show (JSON) or set the case document's shared texts")
    texts.add_argument("--set", default=None, help="a JSON file of sections; a section left out is kept")

    decision = document.add_parser("decision", help="record an organisation's decision on the case")
    decision.add_argument("--org", required=True)
    decision.add_argument("--package", required=True)
    decision.add_argument("--date", type=_date, required=True)
    decision.add_argument("--body", required=True, help="who decided, e.g. kommunestyret")
    decision.add_argument("--case", required=True, help="the case number")
    decision.add_argument("--target-template", action="append", default=[], help="a target template adopted")
    decision.add_argument("--baseline-year", type=int, default=None)
    decision.add_argument("--target-year", type=int, default=None)


def cmd_document(args) -> int:
    return {"baseline": _baseline, "saksfremlegg": _saksfremlegg, "texts": _texts,
            "decision": _decision}[args.document_command](args)


def _baseline(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.cli.output import find_org
    from klimainnkjop.services.documents import do_generate_baseline

    orgnr = find_org(args.org).orgnr if args.org else None
    doc, content = do_generate_baseline(system_scope(), year=args.year, orgnr=orgnr, fmt=args.format,
                                        package_name=args.package, language=args.language, actor=CLI)
    with open(args.output, "wb") as out:
        out.write(content)
    print(f"baseline {orgnr or 'region'} {args.year}: {args.output} (run {doc.run_id}, recommended package "
          f"{doc.figures.get('package') or '–'})")
    return EXIT_OK


def _saksfremlegg(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.cli.output import find_org
    from klimainnkjop.services.documents import do_generate_saksfremlegg

    orgnr = find_org(args.org).orgnr if args.org else None
    name, content = do_generate_saksfremlegg(system_scope(), package_name=args.package, fmt=args.format,
                                             orgnr=orgnr, every=args.all, language=args.language, actor=CLI)
    with open(args.output, "wb") as out:
        out.write(content)
    print(f"saksfremlegg {orgnr or 'all'}: {args.output} ({name})")
    return EXIT_OK


def _texts(args) -> int:
    from klimainnkjop.reports.documents import document_texts
    from klimainnkjop.services.documents import do_save_document_texts
    from klimainnkjop.services.organisations import InvalidInput

    if args.set:
        try:
            texts = json.loads(open(args.set, encoding="utf-8").read())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"--set: cannot read {args.set} as JSON ({exc})") from None
        current = do_save_document_texts(texts=texts, actor=CLI)
    else:
        current = document_texts()
    json.dump(current, sys.stdout, ensure_ascii=False, indent=2)
    print()
    return EXIT_OK


def _decision(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.cli.output import find_org
    from klimainnkjop.services.documents import do_record_decision

    result = do_record_decision(system_scope(), organisation=find_org(args.org), decided_on=args.date,
                                body=args.body, case_number=args.case, package_name=args.package,
                                target_templates=args.target_template, baseline_year=args.baseline_year,
                                target_year=args.target_year, actor=CLI)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    print()
    return EXIT_OK
