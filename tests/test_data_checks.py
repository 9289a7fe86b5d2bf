"""Data checks after every compute: a run whose results break one fails loudly and is not published."""
import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from klimainnkjop.access import system_scope
from klimainnkjop.engine import runner
from klimainnkjop.selectors.results import latest_run, totals
from klimainnkjop.services.compute import do_compute, run_dir
from klimainnkjop.storage.linestore import LINE_SCHEMA
from klimainnkjop.storage.models import AuditEntry, ComputeRun, ImportBatch
from tests.factories import food_engine_inputs, import_ledger, ledger_csv

ORG, OTHER = "944117784", "964950113"
CPI = {2023: 129.6, 2024: 133.6, 2026: 141.0}


def write_lines(path, rows: list[tuple[str, str, str, int]]):
    """(org, line_key, art, amount_ore) lines of March 2024 as one batch file."""
    defaults = {f.name: "" if pa.types.is_string(f.type) else None for f in LINE_SCHEMA}
    records = [{**defaults, "org": org, "line_key": key, "art": art, "account": art + "000", "amount_ore": amount,
                "batch": path.stem, "source": "ledger", "year": 2024, "month": 3, "posting_date": dt.date(2024, 3, 1),
                "vat_ore": 0, "currency": "NOK", "investment": False} for org, key, art, amount in rows]
    pq.write_table(pa.Table.from_pylist(records, schema=LINE_SCHEMA), path)
    return path


def inputs(*files) -> runner.EngineInputs:
    return food_engine_inputs(files, cpi=CPI, years=range(2023, 2025))


LINES = [(ORG, "k1", "115", 100_000), (ORG, "k2", "270", 50_000),  # food, and services without a factor
         (ORG, "k3", "010", 900_000), (OTHER, "k1", "115", 20_000)]  # wages; the same key in another organisation


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """A normal run's three result files, as tables."""
    tmp = tmp_path_factory.mktemp("good")
    out = tmp / "out"
    totals_ = runner.run(inputs(write_lines(tmp / "a.parquet", LINES)), out)
    return totals_, {name: pq.read_table(out / name)
                     for name in ("lines", "aggregates", "summary", "matches")}


def test_a_normal_run_passes_every_check_and_is_published(good_run):
    totals_, tables = good_run
    assert totals_.lines_in == 4 and totals_.lines_purchase == 3 and totals_.spend_ore == 170_000
    by_key = {(r["org"], r["line_key"]): r for r in tables["lines"].to_pylist()}
    assert by_key[(ORG, "k2")]["method"] is None and by_key[(ORG, "k2")]["exclusion"] == ""  # uncovered purchase


def check(tables: dict[str, pa.Table]) -> None:
    con = runner.connect()
    try:
        for view, name in (("stored", "lines"), ("stored_keys", "lines"), ("aggregated", "aggregates"),
                           ("rolled", "summary"), ("documents", "matches"), ("changed", "changes")):
            if name in tables:
                con.con.register(view, tables[name])
        runner.check_results(con.con)
    finally:
        con.disconnect()


def changed(table: pa.Table, where, **columns) -> pa.Table:
    """The table with the given columns set to new values in the rows `where(row)` is true of."""
    rows = table.to_pylist()
    return pa.Table.from_pylist([{**r, **columns} if where(r) else r for r in rows], schema=table.schema)


def test_the_checks_pass_on_the_files_of_a_normal_run(good_run):
    check(good_run[1])


def test_a_line_key_twice_in_an_organisation_fails_the_run_and_publishes_nothing(tmp_path):
    first = write_lines(tmp_path / "a.parquet", LINES)
    again = write_lines(tmp_path / "b.parquet", [(ORG, "k2", "270", 50_000)])
    with pytest.raises(runner.DataCheckFailed) as failed:
        runner.run(inputs(first, again), tmp_path / "out")
    assert failed.value.check == "unique_line_keys" and failed.value.keys == [(ORG, "k2", 2)]
    assert "unique_line_keys" in str(failed.value) and f"{ORG}, k2, 2" in str(failed.value)
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.tmp").exists()


@pytest.mark.parametrize("broken, why", [
    (dict(method=None), "a covered purchase without a method"),
    (dict(exclusion="wages"), "an excluded line with a method"),
    (dict(covered=False), "a line with a method that is not covered"),
    (dict(covered=None), "a line whose coverage is unknown"),
])
def test_a_line_whose_method_disagrees_with_its_coverage_fails_the_method_check(good_run, broken, why):
    tables = dict(good_run[1])
    tables["lines"] = changed(tables["lines"], lambda r: (r["org"], r["line_key"]) == (ORG, "k1"), **broken)
    with pytest.raises(runner.DataCheckFailed) as failed:
        check(tables)
    assert failed.value.check == "method_per_line", why
    assert [key[:2] for key in failed.value.keys] == [(ORG, "k1")]


def test_emissions_on_a_line_without_a_method_fail_the_method_check(good_run):
    tables = dict(good_run[1])
    tables["lines"] = changed(tables["lines"], lambda r: r["line_key"] == "k2", kg_co2e=1.0)
    with pytest.raises(runner.DataCheckFailed, match="method_per_line") as failed:
        check(tables)
    assert [key[:2] for key in failed.value.keys] == [(ORG, "k2")]


@pytest.mark.parametrize("table_name, broken", [
    ("aggregates", dict(spend_ore=1)),        # spend
    ("aggregates", dict(lines=7)),            # a count of lines
    ("summary", dict(kg_co2e=1e6)),           # kg
    ("summary", dict(kg_high=-1.0)),          # the range
    ("aggregates", dict(kg_co2e_market=1e6)),  # the market-based kg
    ("lines", dict(amount_ore=1)),            # a line that is not in the aggregates as it is
])
def test_parts_that_do_not_add_up_to_the_totals_fail_the_run(good_run, table_name, broken):
    tables = dict(good_run[1])
    tables[table_name] = changed(tables[table_name], lambda r: r["org"] == OTHER, **broken)
    with pytest.raises(runner.DataCheckFailed) as failed:
        check(tables)
    assert failed.value.check == "parts_add_up" and failed.value.keys == [(OTHER, 2024, 3)]


def test_a_summary_row_left_out_fails_the_run(good_run):
    tables = dict(good_run[1])
    tables["summary"] = tables["summary"].filter(pc.field("org") != OTHER)
    with pytest.raises(runner.DataCheckFailed, match="parts_add_up"):
        check(tables)


def test_kg_summed_in_another_order_is_not_a_difference(good_run):
    tables = dict(good_run[1])
    food = [r for r in tables["aggregates"].to_pylist() if r["org"] == ORG and r["method"] == "spend"][0]
    assert food["kg_co2e"] > 0
    tables["aggregates"] = changed(tables["aggregates"], lambda r: r == food, kg_co2e=food["kg_co2e"] * (1 + 1e-12))
    check(tables)
    tables["aggregates"] = changed(tables["aggregates"], lambda r: r["org"] == ORG and r["method"] == "spend",
                                   kg_co2e=food["kg_co2e"] * (1 + 1e-6))
    with pytest.raises(runner.DataCheckFailed, match="parts_add_up"):
        check(tables)


def test_a_compute_whose_results_fail_a_check_is_marked_failed_and_the_last_good_run_stays(org, reference):
    import_ledger(org, ledger_csv("01.03.2024;115000;2020;2100;999999999;Mat AS;1 000,00;Matvarer"))
    good = do_compute(actor="test")
    batch = ImportBatch.objects.with_scopes_disabled().get()
    batch.pk, batch.token, batch.file_sha256 = None, "copy", "0" * 64  # the same lines counted twice
    batch.save()
    with pytest.raises(runner.DataCheckFailed, match="unique_line_keys"):
        do_compute(actor="test")
    failed = ComputeRun.objects.exclude(pk=good.pk).get()
    assert failed.status == ComputeRun.STATUS_FAILED
    assert failed.error.startswith("failed: DataCheckFailed: data check 'unique_line_keys' failed")
    assert org.orgnr in failed.error
    folder = run_dir(failed)
    assert not folder.exists() and not folder.with_name(folder.name + ".tmp").exists()
    assert AuditEntry.objects.filter(action="fail_compute").count() == 1
    assert latest_run().run.pk == good.pk
    assert totals(system_scope())["rows"][0]["spend_nok"] == 1_000.0


def test_ledger_lines_replaced_by_an_invoice_the_matching_does_not_name_fail_the_run(tmp_path):
    """The matches (what `invoices match` reads) and the lines' invoice_detail exclusions are one outcome."""
    rows = [(ORG, "k1", "115", 100_000), (ORG, "k2", "115", 20_000)]
    ledger = pq.read_table(write_lines(tmp_path / "ledger.parquet", rows)).to_pylist()
    ledger[0].update(supplier_orgnr="999999999", invoice_no="F1")  # k1 is invoice F1 in the ledger
    invoice = {**ledger[0], "line_key": "e1", "source": "ehf", "art": "", "account": "", "batch": "ehf",
               "amount_ore": 100_050}  # within 1 NOK
    pq.write_table(pa.Table.from_pylist(ledger, schema=LINE_SCHEMA), tmp_path / "ledger.parquet")
    pq.write_table(pa.Table.from_pylist([invoice], schema=LINE_SCHEMA), tmp_path / "ehf.parquet")
    out = tmp_path / "out"
    runner.run(inputs(tmp_path / "ledger.parquet", tmp_path / "ehf.parquet"), out)
    tables = {name: pq.read_table(out / name) for name in ("lines", "aggregates", "summary", "matches")}
    matches = tables["matches"].to_pylist()
    assert [(m["invoice_no"], m["status"], m["ledger_line_keys"]) for m in matches] == [("F1", "matched", ["k1"])]
    exclusions = {r["line_key"]: r["exclusion"] for r in tables["lines"].to_pylist()}
    assert exclusions == {"k1": "invoice_detail", "k2": "", "e1": ""}
    tables["matches"] = changed(tables["matches"], lambda r: True, status="amount_differs")
    with pytest.raises(runner.DataCheckFailed) as failed:
        check(tables)
    assert failed.value.check == "matches_agree_with_lines" and failed.value.keys == [(ORG, "k1")]


def test_causes_of_a_change_that_do_not_add_up_fail_the_run(tmp_path, good_run):
    """changes.parquet (issue 16 item 4): the causes of every cell add up to its change, and its kg after is the
    lines' purchases."""
    out = tmp_path / "out"
    runner.run(inputs(write_lines(tmp_path / "a.parquet", LINES)), out)
    tables = dict(good_run[1])
    tables["changes"] = pq.read_table(out / "changes.parquet")
    check(tables)  # every line new: the run's own file passes
    broken = dict(tables, changes=changed(tables["changes"], lambda r: r["org"] == OTHER, method_kg=1.0))
    with pytest.raises(runner.DataCheckFailed) as failed:
        check(broken)
    assert failed.value.check == "changes_add_up" and failed.value.keys == [(OTHER, 2024, 3)]
    broken = dict(tables, changes=changed(tables["changes"], lambda r: r["org"] == OTHER, kg_after=1.0,
                                          new_lines_kg=1.0))
    with pytest.raises(runner.DataCheckFailed, match="changes_add_up"):
        check(broken)


def test_a_line_without_an_organisation_passes_the_checks_in_a_first_run_and_the_next(tmp_path):
    """The line store always writes an organisation; a file without one is still computed and checked like any
    other (the changes' check compared its cells with `=`, so a null organisation's cell never matched)."""
    lines = write_lines(tmp_path / "a.parquet", [(None, "k1", "115", 100_000), (ORG, "k2", "115", 5_000)])
    first = runner.run(inputs(lines), tmp_path / "run-1")
    again = runner.run(inputs(lines), tmp_path / "run-2", previous=(1, tmp_path / "run-1"))
    assert first.lines_purchase == again.lines_purchase == 2 and again.kg_co2e == pytest.approx(first.kg_co2e)
    changes = pq.read_table(tmp_path / "run-2" / "changes.parquet").to_pylist()
    assert {r["org"] for r in changes} == {None, ORG} and all(r["kg_before"] == r["kg_after"] for r in changes)
