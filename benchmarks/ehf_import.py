"""EHF import throughput (issue 20 item 2): invoices read and validated per CPU second, the code before this work and
the product now, against a plain lxml parse of the same documents, in the same run; CPU seconds beside wall time.

    .venv/bin/python benchmarks/ehf_import.py                      # 2,000 invoices
    .venv/bin/python benchmarks/ehf_import.py --documents 500 --before 0d68487

Documents: the PEPPOL examples in tests/data/ehf that pass validation, each copied with its own document id
(cbc:ID), so every document has its own bytes and SHA-256. Every case runs in a process of its own (so each pays
its own start-up and compilation, reported apart, and its CPU is its own and its children's):
- baseline: lxml parse of each document (the hardened parser of importers/xmlsafe.py, nothing else);
- before: `importers.ehf.parse_document` of the code at `--before` (git archive of that commit), document by
  document, after one document has compiled the validators;
- product, one process: `importers.ehf.parse_documents(docs, workers=1)` after the same warm-up;
- product, process pool: `parse_documents(docs)` with one worker per core, each worker's start and compilation
  included (that is what a batch import pays);
- product, verdicts cached: the same batch again in the process that validated it (an import repeated, or a
  folder whose documents were seen before).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tarfile
import io
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "data" / "ehf"


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def generate(folder: Path, count: int) -> None:
    """`count` documents from the examples that pass validation, each with a document id of its own."""
    sys.path.insert(0, str(ROOT))
    from klimainnkjop.importers.ehf import InvalidDocument, parse_document

    good = []
    for path in sorted(EXAMPLES.glob("*.xml")):
        data = path.read_bytes()
        try:
            parse_document(data, path.name)
        except InvalidDocument:
            continue
        good.append((path.stem, data))
    folder.mkdir(parents=True, exist_ok=True)
    # the document id: the first cbc:ID after the CustomizationID (comments may come between)
    pattern = re.compile(rb"(</cbc:CustomizationID>.*?)<cbc:ID>([^<]*)</cbc:ID>", re.S)
    for i in range(count):
        stem, data = good[i % len(good)]
        new, n = pattern.subn(lambda m: m.group(1) + b"<cbc:ID>" + m.group(2) + b"-B%d</cbc:ID>" % i, data, count=1)
        if n != 1:
            raise SystemExit(f"{stem}: no document id found")
        (folder / f"{i:06d}-{stem}.xml").write_bytes(new)


def run_case(case: str, docs: Path, code_root: Path) -> dict:
    """In this process: one case over the documents in `docs`, with the package at `code_root`."""
    sys.path.insert(0, str(code_root))
    documents = [(p.name, p.read_bytes()) for p in sorted(docs.glob("*.xml"))]
    out: dict = {"documents": len(documents), "compile_wall": 0.0, "compile_cpu": 0.0}
    if case == "lxml":
        from lxml import etree

        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        wall, before = time.perf_counter(), cpu()
        ok = sum(1 for _, data in documents if etree.fromstring(data, parser) is not None)
    else:
        from klimainnkjop.importers import ehf

        wall, before = time.perf_counter(), cpu()
        if case != "pool":  # the first document compiles the validators (the pool's workers compile their own)
            ehf.parse_document(documents[0][1], documents[0][0])
            if hasattr(ehf, "forget_verdicts"):
                ehf.forget_verdicts()
        out["compile_wall"], out["compile_cpu"] = time.perf_counter() - wall, cpu() - before
        if case == "cached":
            ehf.parse_documents(documents, workers=1)
        wall, before = time.perf_counter(), cpu()
        if case == "before":
            ok = 0
            for name, data in documents:
                try:
                    ehf.parse_document(data, name)
                    ok += 1
                except ehf.InvalidDocument:
                    pass
        else:
            results = ehf.parse_documents(documents, workers=1 if case in ("serial", "cached") else None)
            ok = sum(1 for r in results if not isinstance(r, list))
            out["workers"] = 1 if case in ("serial", "cached") else ehf.pool_workers()
    out["wall"], out["cpu"], out["ok"] = time.perf_counter() - wall, cpu() - before, ok
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--before", default="e0f24ae",
                        help="the commit whose code is 'before' (default: before importers/rule_stylesheets.py)")
    parser.add_argument("--tmp", type=Path)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--docs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(args.case, args.docs, args.code)))
        return 0

    tmp = Path(args.tmp or tempfile.mkdtemp(prefix="bench-ehf-"))
    docs = tmp / f"docs-{args.documents}"
    if not docs.exists():
        generate(docs, args.documents)
    before_root = tmp / f"before-{args.before}"
    if not before_root.exists():
        archive = subprocess.run(["git", "archive", args.before, "klimainnkjop"], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        tarfile.open(fileobj=io.BytesIO(archive)).extractall(before_root)
    print(f"{docs}: {args.documents:,} documents, {sum(p.stat().st_size for p in docs.glob('*.xml')) / 1e6:.1f} MB; "
          f"load average {os.getloadavg()[0]:.1f}; cores {os.cpu_count()}", flush=True)

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    cases = [("lxml", "baseline: lxml parse of each document", ROOT),
             ("before", f"before ({args.before}): parse_document one by one", before_root),
             ("serial", "product: parse_documents, one process", ROOT),
             ("pool", "product: parse_documents, process pool (workers' start and compile included)", ROOT),
             ("cached", "product: the same batch again, verdicts cached by SHA-256", ROOT),
             ("lxml", "baseline again", ROOT)]
    rows = []
    for case, label, code in cases:
        done = subprocess.run([sys.executable, __file__, "--case", case, "--docs", str(docs), "--code", str(code)],
                              env=env, capture_output=True, text=True)
        if done.returncode:
            print(done.stderr, file=sys.stderr)
            return 1
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["label"], result["case"] = label, case
        rows.append(result)
        print(f"  {label}: {result['wall']:.2f} s wall, {result['cpu']:.2f} s CPU", flush=True)

    base = min((r for r in rows if r["case"] == "lxml"), key=lambda r: r["cpu"])
    before = next(r for r in rows if r["case"] == "before")
    print("\n| case | documents (valid) | compile wall / CPU s | wall s | CPU s | documents per CPU s | per wall s "
          "| vs before (CPU) |\n|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        per_cpu = r["documents"] / r["cpu"] if r["cpu"] else float("inf")
        print(f"| {r['label']} | {r['documents']:,} ({r['ok']:,}) | {r['compile_wall']:.2f} / {r['compile_cpu']:.2f} "
              f"| {r['wall']:.2f} | {r['cpu']:.2f} | {per_cpu:,.0f} | {r['documents'] / r['wall']:,.0f} "
              f"| {before['cpu'] / r['cpu'] if r['cpu'] else float('inf'):.1f}x |")
    print(f"\nlxml baseline {base['documents'] / base['cpu']:,.0f} documents per CPU s; load average "
          f"{os.getloadavg()[0]:.1f} after the run")
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "ehf_import.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
