"""Incremental compute (issue 20 item 4): a run recomputes only the partitions (organisation x year) whose inputs
changed and links the other partitions' line results from the previous run; what it gives equals a compute of
everything."""
import dataclasses
import datetime as dt
import json
import re
import shutil
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from klimainnkjop.engine import partitions, pipeline, reader, runner
from klimainnkjop.storage.linestore import LINE_SCHEMA
from tests.factories import food_engine_inputs

ORG, OTHER, SUPPLIER = "944117784", "964950113", "999999999"
CPI = {2022: 125.0, 2023: 129.6, 2024: 133.6, 2026: 141.0}


def write_lines(path, rows: list[tuple], source: str = "ledger", **columns):
    """(org, line_key, art, amount_ore, year, month[, invoice_no]) lines as one batch file (a year of None: a line
    without a year or date); `columns`: values of other columns for every line."""
    defaults = {f.name: "" if pa.types.is_string(f.type) else None for f in LINE_SCHEMA}
    records = []
    for org, key, art, amount, year, month, *invoice in rows:
        records.append({**defaults, "org": org, "line_key": key, "art": art, "account": art + "000" if art else "",
                        "amount_ore": amount, "batch": path.stem, "source": source, "year": year, "month": month,
                        "posting_date": dt.date(year, month, 1) if year else None, "vat_ore": 0,
                        "currency": "NOK", "investment": False, "supplier_orgnr": SUPPLIER if invoice else "",
                        "invoice_no": invoice[0] if invoice else "", **columns})
    pq.write_table(pa.Table.from_pylist(records, schema=LINE_SCHEMA), path)
    return path


def inputs(*files, food_factor: float = 0.02) -> runner.EngineInputs:
    return food_engine_inputs(files, cpi=CPI, years=range(2020, 2027), food_factor=food_factor)


def fingerprint(folder) -> dict:
    return json.loads((folder / partitions.FINGERPRINT).read_text(encoding="utf-8"))


def recomputed(folder) -> list[tuple]:
    """The partitions (org, year) a run computed, in order."""
    return [tuple(key) for key in fingerprint(folder)["recomputed"]]


def links(folder) -> list[list[tuple]]:
    return [[tuple(key) for key in link] for link in fingerprint(folder)["links"]]


def rows(folder, name: str) -> list[tuple]:
    """A result's rows in a fixed order."""
    return sorted(duckdb.connect().execute(f"SELECT * FROM {partitions.parquet(reader.result_source(folder, name))}")
                  .fetchall(), key=repr)


def assert_same_results(a, b, changes: bool = False):
    """`changes`: the two runs were made after the same previous run, so their changes.parquet agree too."""
    assert partitions.results_differ(a, b, partitions.RESULTS + (("changes",) if changes else ())) is None


@pytest.fixture
def two_years(tmp_path):
    """A first run over 2023 and 2024 ledger lines of two organisations, and a new batch of one more month."""
    first = write_lines(tmp_path / "a.parquet", [
        (ORG, "a1", "115", 100_000, 2023, 3), (ORG, "a2", "270", 50_000, 2023, 4),
        (OTHER, "a3", "115", 70_000, 2023, 5), (ORG, "a4", "115", 20_000, 2024, 1),
        (OTHER, "a5", "115", 10_000, 2024, 2)])
    month = write_lines(tmp_path / "b.parquet", [(ORG, "b1", "115", 30_000, 2024, 12),
                                                 (ORG, "b2", "270", 40_000, 2024, 12)])
    base = tmp_path / "run-1"
    runner.run(inputs(first), base)
    return tmp_path, first, month, base


EVERY = [(ORG, 2023), (OTHER, 2023), (ORG, 2024), (OTHER, 2024)]  # the partitions of `two_years`, in order


def test_a_run_writes_its_line_results_as_a_file_per_organisation_and_year(two_years):
    _, _, _, base = two_years
    assert sorted(p.name for p in (base / partitions.LINES).iterdir()) == [
        f"2023_{ORG}_0.parquet", f"2023_{OTHER}_0.parquet", f"2024_{ORG}_0.parquet", f"2024_{OTHER}_0.parquet"]
    assert {(r["org"], r["year"]) for r in pq.read_table(base / "lines" / f"2023_{ORG}_0.parquet").to_pylist()} \
        == {(ORG, 2023)}
    assert recomputed(base) == EVERY and fingerprint(base)["reused_from"] is None


def test_one_more_month_recomputes_its_organisations_year_only_and_links_the_rest(two_years):
    tmp, first, month, base = two_years
    after = tmp / "run-2"
    runner.run(inputs(first, month), after, previous=(1, base))
    assert recomputed(after) == [(ORG, 2024)] and fingerprint(after)["reused_from"] == 1
    for name in (f"2023_{ORG}_0.parquet", f"2024_{OTHER}_0.parquet"):  # the other organisation's year too
        kept = after / "lines" / name
        assert kept.stat().st_ino == (base / "lines" / name).stat().st_ino  # linked, not written again
    full = tmp / "full"
    runner.run(inputs(first, month), full, previous=(1, base), reuse=False)
    assert recomputed(full) == EVERY
    assert_same_results(after, full, changes=True)
    assert {r[0] for r in rows(after, "lines")} >= {"b1", "b2"}


def test_the_other_results_are_a_file_per_organisation_and_only_the_changed_organisations_are_written(two_years):
    tmp, first, month, base = two_years
    for name in partitions.BY_ORG:
        names = sorted(p.name for p in (base / name).iterdir())
        assert names == ([partitions.EMPTY] if name == partitions.MATCHES  # no invoice document in these lines
                         else sorted([f"{ORG}_0.parquet", f"{OTHER}_0.parquet"])), name
    assert {r["org"] for r in pq.read_table(base / "aggregates" / f"{OTHER}_0.parquet").to_pylist()} == {OTHER}
    after = tmp / "run-2"
    runner.run(inputs(first, month), after, previous=(1, base))
    for name in partitions.BY_PART:
        kept, written = after / name / f"{OTHER}_0.parquet", after / name / f"{ORG}_0.parquet"
        assert kept.stat().st_ino == (base / name / kept.name).stat().st_ino, name  # linked, not written again
        assert written.stat().st_ino != (base / name / written.name).stat().st_ino, name
    # the written organisation's file holds its linked year's rows (2023) and the computed year's
    assert {(r["org"], r["year"]) for r in pq.read_table(after / "summary" / f"{ORG}_0.parquet").to_pylist()} \
        == {(ORG, 2023), (ORG, 2024)}
    # a read of one organisation opens its own files only; one without files reads every file (the caller filters)
    source = partitions.result_source(after, "aggregates", ORG)
    assert source == [str(after / "aggregates" / f"{ORG}_0.parquet")]
    assert {r[0] for r in duckdb.connect().execute(f"SELECT org FROM {partitions.parquet(source)}").fetchall()} == {ORG}
    assert partitions.result_source(after, "aggregates", "123456789") == sorted(
        str(p) for p in (after / "aggregates").glob("*.parquet"))


def test_a_run_made_before_the_results_were_split_by_organisation_is_read_and_not_linked_from(two_years):
    tmp, first, month, base = two_years
    old = tmp / "old"
    shutil.copytree(base, old)
    for name in partitions.BY_ORG:  # the layout of one file per result
        pq.write_table(pq.read_table(old / name), old / f"{name}.parquet")
        shutil.rmtree(old / name)
    assert partitions.result_source(old, "summary") == str(old / "summary.parquet")
    assert partitions.result_source(old, "summary", ORG) == str(old / "summary.parquet")
    assert partitions.has_result(old, "summary") and not partitions.has_result(old, "nothing")
    assert not partitions.reusable(old)
    after = tmp / "run-2"
    runner.run(inputs(first, month), after, previous=(1, old))
    assert recomputed(after) == EVERY
    full = tmp / "full"
    runner.run(inputs(first, month), full, previous=(1, base), reuse=False)
    assert_same_results(after, full)


def test_the_linked_year_survives_the_previous_run_being_pruned(two_years):
    tmp, first, month, base = two_years
    after = tmp / "run-2"
    runner.run(inputs(first, month), after, previous=(1, base))
    expected = {name: rows(after, name) for name in ("lines", *partitions.BY_ORG)}
    for name in expected:
        for path in (base / name).iterdir():
            path.unlink()
    assert {name: rows(after, name) for name in expected} == expected


def test_nothing_new_recomputes_nothing_and_changes_nothing(two_years):
    tmp, first, _, base = two_years
    again = tmp / "run-2"
    runner.run(inputs(first), again, previous=(1, base))
    assert recomputed(again) == []
    assert_same_results(again, base)
    changes = pq.read_table(again / "changes.parquet").to_pylist()
    assert changes and all(r["kg_before"] == r["kg_after"] for r in changes)
    # the linked years' changes (from their aggregates, pipeline.unchanged) are what comparing their lines gives
    full = tmp / "full"
    runner.run(inputs(first), full, previous=(1, base), reuse=False)
    assert_same_results(again, full, changes=True)
    assert sum(r["other_lines"] for r in changes) == 5 and all(r["new_lines_lines"] == 0 for r in changes)


def test_a_changed_factor_recomputes_every_year(two_years):
    tmp, first, month, base = two_years
    after = tmp / "run-2"
    runner.run(inputs(first, food_factor=0.03), after, previous=(1, base))
    assert recomputed(after) == EVERY
    food = [r for r in pq.read_table(after / "lines").to_pylist() if r["line_key"] == "a1"][0]
    assert food["factor_value"] == 0.03


def test_a_removed_batch_recomputes_the_years_it_held(tmp_path):
    first = write_lines(tmp_path / "a.parquet", [(ORG, "a1", "115", 100_000, 2023, 3)])
    second = write_lines(tmp_path / "b.parquet", [(ORG, "b1", "115", 100_000, 2024, 3)])
    base = tmp_path / "run-1"
    runner.run(inputs(first, second), base)
    after = tmp_path / "run-2"
    runner.run(inputs(first), after, previous=(1, base))
    # 2024 has no lines left to compute, and none of the previous run's are linked
    assert recomputed(after) == [] and fingerprint(after)["reused_from"] == 1
    assert [r[0] for r in rows(after, "lines")] == ["a1"]
    assert not list((after / "lines").glob("2024_*.parquet"))
    full = tmp_path / "full"
    runner.run(inputs(first), full, previous=(1, base), reuse=False)
    assert_same_results(after, full, changes=True)
    removed = [r for r in pq.read_table(after / "changes.parquet").to_pylist() if r["year"] == 2024]
    assert [(r["kg_after"], r["removed_lines_lines"]) for r in removed] == [(0.0, 1)]


def test_an_override_of_one_line_recomputes_that_lines_year_only(two_years):
    tmp, first, _, base = two_years
    overrides = pa.table({"org": [ORG], "line_key": ["a4"], "category": ["services.other"], "rule": ["line#1"]})
    after = tmp / "run-2"
    runner.run(dataclasses.replace(inputs(first), overrides=overrides), after, previous=(1, base))
    assert recomputed(after) == [(ORG, 2024)]  # a4 is a line of ORG's 2024
    full = tmp / "full"
    runner.run(dataclasses.replace(inputs(first), overrides=overrides), full, previous=(1, base), reuse=False)
    assert_same_results(after, full, changes=True)
    moved = [r for r in pq.read_table(after / "lines").to_pylist() if r["line_key"] == "a4"][0]
    assert moved["category"] == "services.other"


def test_an_invoice_document_spanning_two_years_recomputes_both(tmp_path):
    """Invoice F1 is booked in the ledger in December 2023 and sent as EHF in January 2024: a new batch of 2024
    can change whether F1 matches, and so the 2023 ledger line's exclusion."""
    ledger = write_lines(tmp_path / "ledger.parquet", [(ORG, "l1", "115", 100_000, 2023, 12, "F1"),
                                                       (ORG, "l2", "115", 5_000, 2022, 6)])
    ehf = write_lines(tmp_path / "ehf.parquet", [(ORG, "e1", "", 100_000, 2024, 1, "F1")], source="ehf")
    base = tmp_path / "run-1"
    runner.run(inputs(ledger, ehf), base)
    assert links(base) == [[(ORG, 2023), (ORG, 2024)]]
    more = write_lines(tmp_path / "more.parquet", [(ORG, "m1", "115", 1_000, 2024, 5)])
    after = tmp_path / "run-2"
    runner.run(inputs(ledger, ehf, more), after, previous=(1, base))
    assert recomputed(after) == [(ORG, 2023), (ORG, 2024)]
    full = tmp_path / "full"
    runner.run(inputs(ledger, ehf, more), full, previous=(1, base), reuse=False)
    assert_same_results(after, full, changes=True)
    exclusions = {r["line_key"]: r["exclusion"] for r in pq.read_table(after / "lines").to_pylist()}
    assert exclusions["l1"] == "invoice_detail" and exclusions["e1"] == ""


def test_the_partitions_to_compute_follow_the_links_both_ways():
    def fp(files, links=(), reference="r"):
        return partitions.Fingerprint(reference=reference, files=[(f, [(o, y) for y in ys]) for f, o, ys in files],
                                      links=[list(link) for link in links])

    o21, o22, o23, o24 = ((ORG, y) for y in (2021, 2022, 2023, 2024))
    before = fp([("a", ORG, [2021]), ("b", ORG, [2022, 2023]), ("c", ORG, [2024]), ("x", OTHER, [2024])],
                links=[(o22, o24)])
    # d adds to ORG's 2024, which an invoice ties to 2022 (not to 2023, which lies between); OTHER's 2024 stays
    assert partitions.parts_to_compute(
        fp([("a", ORG, [2021]), ("b", ORG, [2022, 2023]), ("c", ORG, [2024]), ("d", ORG, [2024]),
            ("x", OTHER, [2024])]), before) == ({o22, o24}, {o21, o23, (OTHER, 2024)})
    assert partitions.parts_to_compute(fp([("a", ORG, [2021]), ("b", ORG, [2022, 2023]), ("c", ORG, [2024])]),
                                       before) == (set(), {o21, o22, o23, o24})
    assert partitions.parts_to_compute(fp([("a", ORG, [2021])], reference="other"), before) == ({o21}, set())
    assert partitions.parts_to_compute(fp([("a", ORG, [2021])]), None) == ({o21}, set())
    # a file given twice (the same batch registered twice) is a change of its partitions
    assert partitions.parts_to_compute(fp([("a", ORG, [2021]), ("a", ORG, [2021])]), fp([("a", ORG, [2021])])) \
        == ({o21}, set())
    # forced (a year whose sellers changed), with what its links tie to it
    assert partitions.parts_to_compute(before, before, force={o22}) == ({o22, o24}, {o21, o23, (OTHER, 2024)})


def test_each_organisations_lines_lie_together_as_the_line_files_give_them(tmp_path):
    """No sort of the results: the lines keep the line files' grouping by organisation (left joins with small tables,
    a partitioned write), so a read of one organisation skips the others' row groups. DuckDB's threads may hand the
    files' row groups over in another order; shuffled lines would change organisation at almost every line."""
    files = [write_lines(tmp_path / f"{org}.parquet", [(org, f"{org}-{i}", "115", 1_000 + i, 2024, 1 + i % 12)
                                                       for i in range(5_000)]) for org in (ORG, OTHER)]
    out = tmp_path / "out"
    runner.run(inputs(*files), out)
    orgs = pq.read_table(out / "lines", columns=["org"]).column("org").to_pylist()
    assert sorted(orgs) == sorted([ORG] * 5_000 + [OTHER] * 5_000)
    assert sum(a != b for a, b in zip(orgs, orgs[1:])) <= 5


def test_an_account_without_lines_has_an_empty_line_result_with_its_columns(tmp_path):
    out = tmp_path / "out"
    totals = runner.run(inputs(), out)
    assert totals.lines_in == 0
    table = pq.read_table(out / "lines")
    assert table.num_rows == 0 and "kg_co2e" in table.column_names


def test_a_run_made_before_the_split_by_year_is_still_read(tmp_path):
    out = tmp_path / "out"
    runner.run(inputs(write_lines(tmp_path / "a.parquet", [(ORG, "a1", "115", 100_000, 2023, 3)])), out)
    old = tmp_path / "old"
    old.mkdir()
    pq.write_table(pq.read_table(out / "lines"), old / "lines.parquet")
    assert partitions.lines_source(old) == str(old / "lines.parquet")
    assert reader.lines_table(old).count().to_pyarrow().as_py() == 1
    assert partitions.read_fingerprint(old) is None  # so the next run recomputes every year


def test_the_compute_service_reuses_the_previous_run_unless_told_not_to(org, reference, monkeypatch):
    from klimainnkjop.services.compute import do_compute
    from klimainnkjop.storage import linestore
    from tests.factories import import_ledger, ledger_csv

    import_ledger(org, ledger_csv("01.03.2023;115000;2020;2100;999999999;Mat AS;1 000,00;Matvarer"))
    first = do_compute(actor="test")
    import_ledger(org, ledger_csv("01.03.2024;115000;2020;2100;999999999;Mat AS;2 000,00;Matvarer"))
    second = do_compute(actor="test")
    assert recomputed(linestore.absolute(second.result_dir)) == [(org.orgnr, 2024)]
    assert fingerprint(linestore.absolute(second.result_dir))["reused_from"] == first.pk
    monkeypatch.setenv(partitions.ENV_INCREMENTAL, "0")
    third = do_compute(actor="test")
    assert recomputed(linestore.absolute(third.result_dir)) == [(org.orgnr, 2023), (org.orgnr, 2024)]
    assert_same_results(linestore.absolute(second.result_dir), linestore.absolute(third.result_dir))


def test_a_year_computed_alone_from_files_without_a_column_others_have_reads_it_as_null(tmp_path):
    """An EHF batch file has columns (document_type, ...) a ledger file lacks: the years computed again read only
    their files, which must still give the columns the plan was made for."""
    ledger_2023 = write_lines(tmp_path / "a.parquet", [(ORG, "a1", "115", 100_000, 2023, 3)])
    ehf = tmp_path / "ehf.parquet"
    table = pq.read_table(write_lines(ehf, [(ORG, "e1", "115", 5_000, 2023, 4, "F9")], source="ehf"))
    pq.write_table(table.append_column("document_type", pa.array(["invoice"])), ehf)
    base = tmp_path / "run-1"
    runner.run(inputs(ledger_2023, ehf), base)
    month = write_lines(tmp_path / "b.parquet", [(ORG, "b1", "115", 30_000, 2024, 12)])
    after = tmp_path / "run-2"
    runner.run(inputs(ledger_2023, ehf, month), after, previous=(1, base))
    assert recomputed(after) == [(ORG, 2024)]
    full = tmp_path / "full"
    runner.run(inputs(ledger_2023, ehf, month), full, previous=(1, base), reuse=False)
    assert_same_results(after, full, changes=True)


def test_a_ledger_document_across_a_computed_and_a_linked_year_keeps_one_row_of_all_its_lines(tmp_path):
    """A document of ledger lines alone (no invoice) ties no years: its lines of 2023 are linked while 2024 is
    computed again, yet its row of the matches is made again over the lines of both years."""
    ledger = write_lines(tmp_path / "ledger.parquet", [(ORG, "l1", "115", 100_000, 2023, 12, "D1"),
                                                       (ORG, "l2", "115", 5_000, 2024, 1, "D1"),
                                                       (ORG, "l3", "115", 7_000, 2023, 6, "D2")])
    base = tmp_path / "run-1"
    runner.run(inputs(ledger), base)
    more = write_lines(tmp_path / "more.parquet", [(ORG, "m1", "115", 1_000, 2024, 5, "D1")])
    after = tmp_path / "run-2"
    runner.run(inputs(ledger, more), after, previous=(1, base))
    assert recomputed(after) == [(ORG, 2024)]
    full = tmp_path / "full"
    runner.run(inputs(ledger, more), full, previous=(1, base), reuse=False)
    assert_same_results(after, full, changes=True)
    documents = {r["invoice_no"]: r for r in pq.read_table(after / "matches").to_pylist()}
    assert (documents["D1"]["ledger_lines"], documents["D1"]["ledger_ore"]) == (3, 106_000)
    assert documents["D2"]["ledger_lines"] == 1  # a document of the linked year only: the previous run's row
    # and when the computed year's lines of a document go, its row is made again from what is left
    lines_2023 = write_lines(tmp_path / "y2023.parquet", [(ORG, "l1", "115", 100_000, 2023, 12, "D1"),
                                                          (ORG, "l3", "115", 7_000, 2023, 6, "D2")])
    first = tmp_path / "first"
    runner.run(inputs(lines_2023, more), first)
    dropped = tmp_path / "dropped"
    runner.run(inputs(lines_2023), dropped, previous=(1, first))
    assert recomputed(dropped) == [] and fingerprint(dropped)["reused_from"] == 1
    documents = {r["invoice_no"]: r for r in pq.read_table(dropped / "matches").to_pylist()}
    assert documents["D1"]["ledger_lines"] == 1 and documents["D1"]["ledger_ore"] == 100_000


def test_a_first_runs_changes_from_its_aggregates_equal_comparing_its_lines_with_none(two_years):
    """Without a previous run every line is new: the runner makes the changes from the aggregates' cells
    (pipeline.all_new) instead of joining every line with nothing (pipeline.changes); the two agree."""
    _, _, _, base = two_years
    con = duckdb.connect()
    lines = partitions.parquet(reader.result_source(base, 'lines'))
    con.execute(f"CREATE VIEW now AS SELECT * FROM {lines}")
    con.execute("CREATE VIEW nothing AS SELECT * FROM now WHERE false")
    backend = ibis.duckdb.from_connection(con)
    joined = backend.execute(pipeline.changes(backend.table("nothing"), backend.table("now"))).to_dict("records")
    written = pq.read_table(base / "changes.parquet").to_pylist()
    key = pipeline.CHANGE_KEYS

    def by_cell(rows):
        return {tuple(r[k] for k in key): r for r in rows}

    assert by_cell(written).keys() == by_cell(joined).keys() and written
    for cell, row in by_cell(written).items():
        for column, value in by_cell(joined)[cell].items():
            same = row[column] == pytest.approx(value, rel=1e-9, abs=1e-9) if isinstance(value, float) \
                else row[column] == value
            assert same, column
    assert pq.read_table(base / "changes.parquet").schema.field("method_kg").type == "double"
    assert all(r["kg_before"] == 0 and r["new_lines_kg"] == r["kg_after"] for r in written)


def incremental_equals_full(tmp_path, engine_inputs, previous, name="run-2"):
    """Runs `engine_inputs` after the run `previous` incrementally and in full; asserts the same results, changes
    included. Returns the incremental run's folder."""
    after, full = tmp_path / name, tmp_path / f"{name}-full"
    runner.run(engine_inputs, after, previous=(1, previous))
    runner.run(engine_inputs, full, previous=(1, previous), reuse=False)
    assert_same_results(after, full, changes=True)
    return after


def test_a_construction_calculation_is_shared_over_the_projects_lines_of_every_year(tmp_path):
    calculations = pa.table({"org": [ORG], "project": ["P1"], "kg_co2e": [1_000.0], "ref": ["calc"]})
    project = {"investment": True, "project": "P1"}
    first = write_lines(tmp_path / "a.parquet", [(ORG, "a1", "115", 100_000, 2023, 3)], **project)
    base = tmp_path / "run-1"
    runner.run(dataclasses.replace(inputs(first), calculations=calculations), base)
    # one more line of 2024 and one without a year (its kg, the calculation's share, in a cell of a null year and
    # month: the data check changes_add_up joins those cells too)
    more = write_lines(tmp_path / "b.parquet", [(ORG, "b1", "115", 300_000, 2024, 3),
                                                (ORG, "u1", "115", 100_000, None, None)], **project)
    after = incremental_equals_full(tmp_path, dataclasses.replace(inputs(first, more), calculations=calculations),
                                    base)
    assert recomputed(after) == [(ORG, 2023), (ORG, 2024), (ORG, None)]
    kg = {r["line_key"]: r["kg_co2e"] for r in pq.read_table(after / "lines").to_pylist()}
    assert kg == pytest.approx({"a1": 200.0, "b1": 600.0, "u1": 200.0})


def test_a_line_without_a_year_beside_a_linked_year(two_years):
    """The lines without a year are computed in every run: their rows of the aggregates, summary and changes are
    among the rows made now (the data checks read those), whatever year is linked."""
    tmp, first, _, base = two_years
    undated = write_lines(tmp / "undated.parquet", [(ORG, "u1", "115", 10_000, None, None)])
    after = incremental_equals_full(tmp, inputs(first, undated), base)
    assert recomputed(after) == [(ORG, None)] and fingerprint(after)["reused_from"] == 1
    again = incremental_equals_full(tmp, inputs(first, undated), after, name="run-3")
    assert recomputed(again) == [(ORG, None)]


def test_an_invoice_without_a_year_matching_a_ledger_line_of_a_year(tmp_path):
    ledger = write_lines(tmp_path / "ledger.parquet", [(ORG, "l1", "115", 100_000, 2023, 12, "F1"),
                                                       (ORG, "l2", "115", 5_000, 2024, 6)])
    base = tmp_path / "run-1"
    other = write_lines(tmp_path / "other.parquet", [(ORG, "e0", "", 1_000, 2024, 1, "F0")], source="ehf")
    runner.run(inputs(ledger, other), base)
    ehf = write_lines(tmp_path / "ehf.parquet", [(ORG, "e1", "", 100_000, None, None, "F1")], source="ehf")
    after = incremental_equals_full(tmp_path, inputs(ledger, other, ehf), base)
    exclusions = {r["line_key"]: r["exclusion"] for r in pq.read_table(after / "lines").to_pylist()}
    assert exclusions["l1"] == "invoice_detail"


def test_a_ledger_line_without_a_year_matching_an_invoice_of_a_year(tmp_path):
    ehf = write_lines(tmp_path / "ehf.parquet", [(ORG, "e1", "", 100_000, 2023, 12, "F1")], source="ehf")
    ledger = write_lines(tmp_path / "ledger.parquet", [(ORG, "l2", "115", 5_000, 2023, 6)])
    base = tmp_path / "run-1"
    runner.run(inputs(ehf, ledger), base)
    undated = write_lines(tmp_path / "undated.parquet", [(ORG, "l1", "115", 100_000, None, None, "F1")])
    after = incremental_equals_full(tmp_path, inputs(ehf, ledger, undated), base)
    exclusions = {r["line_key"]: r["exclusion"] for r in pq.read_table(after / "lines").to_pylist()}
    assert exclusions["l1"] == "invoice_detail"
    assert links(after) == [[(ORG, 2023), (ORG, None)]] and recomputed(after) == [(ORG, 2023), (ORG, None)]
    # the link is read back from the fingerprint and kept: a later batch of 2024 recomputes 2023 with the null year
    more = write_lines(tmp_path / "more.parquet", [(ORG, "m1", "115", 1_000, 2024, 5)])
    again = incremental_equals_full(tmp_path, inputs(ehf, ledger, undated, more), after, name="run-3")
    assert links(again) == [[(ORG, 2023), (ORG, None)]]
    assert recomputed(again) == [(ORG, 2023), (ORG, 2024), (ORG, None)]


def test_null_and_empty_invoice_numbers_are_two_documents(tmp_path):
    """An invoice without a number (null) and one with an empty number are two documents of the matching; the
    incremental run takes both together (coalesced) and must still give two rows."""
    first = write_lines(tmp_path / "a.parquet", [(ORG, "e1", "", 1_000, 2023, 3, None),
                                                 (ORG, "e2", "", 2_000, 2023, 4, "")], source="ehf")
    ledger = write_lines(tmp_path / "l.parquet", [(ORG, "l1", "115", 1_000, 2023, 3, None),
                                                  (ORG, "l2", "115", 7_000, 2024, 3)])
    # an invoice without a supplier in an EHF file with a column the others lack (document_type), then another of
    # the same number in a computed year: no link, one document over the linked and the computed year
    typed = tmp_path / "t.parquet"
    table = pq.read_table(write_lines(typed, [(ORG, "e6", "", 6_000, 2023, 6, "F5")], source="ehf",
                                      supplier_orgnr=None))
    pq.write_table(table.append_column("document_type", pa.array(["invoice"])), typed)
    base = tmp_path / "run-1"
    runner.run(inputs(first, ledger, typed), base)
    more = write_lines(tmp_path / "b.parquet", [(ORG, "e3", "", 3_000, 2024, 3, None),
                                                (ORG, "e4", "", 4_000, 2024, 4, "")], source="ehf")
    nosupplier = write_lines(tmp_path / "c.parquet", [(ORG, "e5", "", 5_000, 2024, 5, "F5")], source="ehf",
                             supplier_orgnr=None)
    after = incremental_equals_full(tmp_path, inputs(first, ledger, typed, more, nosupplier), base)
    assert recomputed(after) == [(ORG, 2024)] and fingerprint(after)["reused_from"] == 1
    documents = {(r["supplier_orgnr"], r["invoice_no"]): r for r in pq.read_table(after / "matches")
                 .to_pylist()}
    assert {k: r["invoice_lines"] for k, r in documents.items()} == {(SUPPLIER, None): 2, (SUPPLIER, ""): 2,
                                                                      (None, "F5"): 2}
    assert documents[(None, "F5")]["document_type"] == "invoice"


def test_a_document_with_lines_in_three_years(tmp_path):
    y2022 = write_lines(tmp_path / "a.parquet", [(ORG, "l1", "115", 40_000, 2022, 12, "F1"),
                                                 (ORG, "x1", "115", 1_000, 2022, 1)])
    y2023 = write_lines(tmp_path / "b.parquet", [(ORG, "l2", "115", 60_000, 2023, 1, "F1"),
                                                 (ORG, "x2", "115", 1_000, 2023, 1)])
    ehf = write_lines(tmp_path / "e.parquet", [(ORG, "e1", "", 100_000, 2024, 2, "F1")], source="ehf")
    base = tmp_path / "run-1"
    runner.run(inputs(y2022, y2023, ehf), base)
    assert links(base) == [[(ORG, 2022), (ORG, 2023), (ORG, 2024)]]
    more = write_lines(tmp_path / "m.parquet", [(ORG, "l3", "115", 5_000, 2022, 11, "F1")])
    after = incremental_equals_full(tmp_path, inputs(y2022, y2023, ehf, more), base)
    assert recomputed(after) == [(ORG, 2022), (ORG, 2023), (ORG, 2024)]
    # an invoice-only document over three years
    inv = [write_lines(tmp_path / f"i{y}.parquet", [(ORG, f"i{y}", "", 1_000, y, 1, "G1")], source="ehf")
           for y in (2022, 2023, 2024)]
    base2 = tmp_path / "run-b"
    runner.run(inputs(y2022, *inv[:2]), base2)
    incremental_equals_full(tmp_path, inputs(y2022, *inv), base2, name="run-b2")


def test_links_are_carried_over_two_runs(tmp_path):
    ledger = write_lines(tmp_path / "ledger.parquet", [(ORG, "l1", "115", 100_000, 2023, 12, "F1"),
                                                       (ORG, "l2", "115", 5_000, 2023, 6)])
    ehf = write_lines(tmp_path / "ehf.parquet", [(ORG, "e1", "", 100_000, 2024, 1, "F1")], source="ehf")
    other = write_lines(tmp_path / "other.parquet", [(ORG, "e2", "", 1_000, 2025, 1, "F2")], source="ehf")
    run1 = tmp_path / "run-1"
    runner.run(inputs(ledger, ehf), run1)
    run2 = incremental_equals_full(tmp_path, inputs(ledger, ehf, other), run1, name="run-2")
    assert recomputed(run2) == [(ORG, 2025)] and links(run2) == [[(ORG, 2023), (ORG, 2024)]]
    run3 = incremental_equals_full(tmp_path, inputs(ledger, other), run2, name="run-3")
    assert recomputed(run3) == [(ORG, 2023)]
    exclusions = {r["line_key"]: r["exclusion"] for r in pq.read_table(run3 / "lines").to_pylist()}
    assert exclusions["l1"] == ""


def test_an_invoice_moving_to_another_year(tmp_path):
    """The EHF of a document booked in 2023 is replaced by one of 2025 (another amount): 2023 follows both the
    link of the previous run and this run's; 2022 stays linked."""
    ledger = write_lines(tmp_path / "ledger.parquet", [(ORG, "l1", "115", 100_000, 2023, 12, "F1"),
                                                       (ORG, "l2", "115", 5_000, 2025, 6)])
    y2022 = write_lines(tmp_path / "y2022.parquet", [(ORG, "x1", "115", 5_000, 2022, 6)])
    ehf = write_lines(tmp_path / "ehf.parquet", [(ORG, "e1", "", 100_000, 2024, 1, "F1")], source="ehf")
    run1 = tmp_path / "run-1"
    runner.run(inputs(ledger, y2022, ehf), run1)
    moved = write_lines(tmp_path / "moved.parquet", [(ORG, "e1b", "", 90_000, 2025, 1, "F1")], source="ehf")
    after = incremental_equals_full(tmp_path, inputs(ledger, y2022, moved), run1)
    assert recomputed(after) == [(ORG, 2023), (ORG, 2025)] and fingerprint(after)["reused_from"] == 1


def test_an_empty_account_after_one_with_lines_and_back(tmp_path):
    first = write_lines(tmp_path / "a.parquet", [(ORG, "a1", "115", 100_000, 2023, 3, "F1")])
    base = tmp_path / "run-1"
    runner.run(inputs(first), base)
    empty = incremental_equals_full(tmp_path, inputs(), base, name="empty")
    incremental_equals_full(tmp_path, inputs(first), empty, name="again")


def test_a_removed_batch_of_a_year_with_other_lines_and_a_removed_override(tmp_path):
    """2024 keeps a line of another batch; the document D1 of the linked 2023 and of 2024 is made again."""
    first = write_lines(tmp_path / "a.parquet", [(ORG, "a1", "115", 100_000, 2023, 3, "D1"),
                                                 (ORG, "a2", "115", 100_000, 2024, 3, "D1")])
    second = write_lines(tmp_path / "b.parquet", [(ORG, "b1", "115", 100_000, 2024, 4, "D1"),
                                                  (ORG, "b2", "270", 1_000, 2024, 4)])
    overrides = pa.table({"org": [ORG], "line_key": ["b2"], "category": ["goods.food"], "rule": ["line#1"]})
    base = tmp_path / "run-1"
    runner.run(dataclasses.replace(inputs(first, second), overrides=overrides), base)
    after = incremental_equals_full(tmp_path, inputs(first), base)
    assert recomputed(after) == [(ORG, 2024)]
    assert [r["ledger_lines"] for r in pq.read_table(after / "matches").to_pylist()] == [2]  # a1, a2


def test_invoices_arriving_in_one_year_and_leaving_again(tmp_path):
    """The previous run had no invoice lines (its plan left the matching out) and this run's first EHF batch names
    a document of the computed year only; then the batch goes again."""
    ledger = write_lines(tmp_path / "l.parquet", [(ORG, "l1", "115", 100_000, 2023, 3, "D1"),
                                                  (ORG, "l2", "115", 50_000, 2024, 3, "D2"),
                                                  (ORG, "l3", "270", 50_000, 2024, 4, "D3")])
    kostra = write_lines(tmp_path / "k.parquet", [(OTHER, "k1", "115", 100_000, 2023, 1),
                                                  (ORG, "k2", "115", 100_000, 2024, 1)], source="kostra")
    run1 = tmp_path / "run-1"
    runner.run(inputs(ledger, kostra), run1)
    ehf = write_lines(tmp_path / "e.parquet", [(ORG, "e2", "", 50_000, 2024, 3, "D2"),
                                               (OTHER, "e3", "", 5_000, 2024, 5, "X1")], source="ehf")
    run2 = incremental_equals_full(tmp_path, inputs(ledger, kostra, ehf), run1, name="run-2")
    assert recomputed(run2) == [(ORG, 2024), (OTHER, 2024)]
    run3 = incremental_equals_full(tmp_path, inputs(ledger, kostra), run2, name="run-3")
    assert recomputed(run3) == [(ORG, 2024)]  # OTHER's 2024 held the EHF line only: gone, nothing to compute


def test_a_previous_run_missing_a_line_file_of_a_partition_recomputes_everything(two_years):
    """A file of the previous run gone (removed while the run was pruned, say): nothing is linked."""
    tmp, first, month, base = two_years
    (base / "lines" / f"2023_{ORG}_0.parquet").unlink()
    after = incremental_equals_full(tmp, inputs(first, month), base)
    assert recomputed(after) == EVERY


def test_a_previous_run_missing_one_of_a_partitions_line_files_recomputes_everything(two_years):
    """The fingerprint lists each partition's line files: one of two gone is noticed as well as all of them."""
    tmp, first, month, base = two_years
    assert fingerprint(base)["outputs"] == {f"{y}_{o}": [f"{y}_{o}_0.parquet"] for o, y in EVERY}
    recorded = fingerprint(base)
    recorded["outputs"][f"2023_{ORG}"].append(f"2023_{ORG}_1.parquet")  # as if written as two files
    (base / partitions.FINGERPRINT).write_text(json.dumps(recorded), encoding="utf-8")
    after = incremental_equals_full(tmp, inputs(first, month), base)
    assert recomputed(after) == EVERY


THIRD = "938801363"


def test_purchases_between_members_follow_the_other_members_partitions(tmp_path):
    """The intra-region rule looks across organisations: ORG's purchase on art 350 (from another municipality, no
    supplier) is between members only when another municipality of the region has purchases that year. OTHER's
    first lines of 2024 change ORG's linked 2024 too; a third municipality's change nothing more (one other is
    enough); and when they go again, ORG's 2024 follows."""
    def region(*files):
        return dataclasses.replace(
            inputs(*files),
            art_classes=runner.art_class_table({"115": "goods.food", "270": "services.other",
                                                "350": "services.other"}),
            members=pa.table({"orgnr": [ORG, OTHER, THIRD]}),
            member_kinds=pa.table({"orgnr": [ORG, OTHER, THIRD], "kind": ["kommune"] * 3}))

    def between_members(folder) -> bool:
        return [r["intra_region"] for r in pq.read_table(folder / "lines").to_pylist() if r["line_key"] == "k1"][0]

    first = write_lines(tmp_path / "a.parquet", [(ORG, "k1", "350", 100_000, 2024, 3),
                                                 (ORG, "k0", "115", 1_000, 2023, 3),
                                                 (OTHER, "o1", "115", 5_000, 2023, 4)])
    run1 = tmp_path / "run-1"
    runner.run(region(first), run1)
    assert not between_members(run1) and fingerprint(run1)["sellers"] == {"2023": {"kommune": 2},
                                                                          "2024": {"kommune": 1}}
    other = write_lines(tmp_path / "b.parquet", [(OTHER, "o2", "115", 5_000, 2024, 5)])
    run2 = incremental_equals_full(tmp_path, region(first, other), run1, name="run-2")
    assert recomputed(run2) == [(ORG, 2024), (OTHER, 2024)] and between_members(run2)
    assert fingerprint(run2)["sellers"]["2024"] == {"kommune": 2}
    third = write_lines(tmp_path / "c.parquet", [(THIRD, "t1", "115", 5_000, 2024, 6)])
    run3 = incremental_equals_full(tmp_path, region(first, other, third), run2, name="run-3")
    assert recomputed(run3) == [(THIRD, 2024)] and between_members(run3)
    run4 = incremental_equals_full(tmp_path, region(first, third), run3, name="run-4")
    assert recomputed(run4) == [] and between_members(run4)  # OTHER's 2024 gone; THIRD still buys
    run5 = incremental_equals_full(tmp_path, region(first), run4, name="run-5")
    assert recomputed(run5) == [(ORG, 2024)] and not between_members(run5)


def test_a_partition_name_is_safe_in_a_file_name_for_any_organisation():
    assert partitions.part_name((ORG, 2024)) == f"2024_{ORG}" and partitions.part_name((ORG, None)) == f"none_{ORG}"
    odd = [partitions.part_name((org, 2024)) for org in ("a/b", "x_y", "", None, "../..")]
    assert len(set(odd)) == 5 and all(re.fullmatch(r"2024_x[0-9a-f]{16}", name) for name in odd)


def test_an_organisation_number_with_other_characters_is_partitioned_and_linked(tmp_path):
    odd = "org/1 x_y"
    first = write_lines(tmp_path / "a.parquet", [(odd, "a1", "115", 100_000, 2023, 3), (ORG, "a2", "115", 1_000,
                                                                                         2023, 4)])
    run1 = tmp_path / "run-1"
    runner.run(inputs(first), run1)
    assert {p.name for p in (run1 / "lines").iterdir()} == {f"{partitions.part_name((odd, 2023))}_0.parquet",
                                                            f"2023_{ORG}_0.parquet"}
    more = write_lines(tmp_path / "b.parquet", [(ORG, "b1", "115", 2_000, 2023, 5)])
    run2 = incremental_equals_full(tmp_path, inputs(first, more), run1)
    assert recomputed(run2) == [(ORG, 2023)]


def test_a_partitions_filter_holds_for_its_rows_only_and_is_never_null():
    """The SQL that picks the rows of partitions (the previous run's rows kept, the rows made now): null years and
    organisations, quotes in a name, and its negation (NOT of a null would drop a row)."""
    con = duckdb.connect()
    every = [(ORG, 2023), (ORG, None), (OTHER, 2023), (None, 2023), ("o'q", 2024)]
    con.execute("CREATE TABLE t (org VARCHAR, year INTEGER)")
    con.executemany("INSERT INTO t VALUES (?, ?)", every)

    def picked(sql: str) -> list[tuple]:
        return sorted(con.execute(f"SELECT org, year FROM t WHERE {sql}").fetchall(), key=repr)

    assert picked(partitions.in_parts({(ORG, None), ("o'q", 2024)})) == sorted([(ORG, None), ("o'q", 2024)], key=repr)
    assert picked(partitions.in_parts({(None, 2023)})) == [(None, 2023)]
    assert picked(f"NOT {partitions.in_parts({(ORG, 2023)})}") == sorted(every[1:], key=repr)
    assert picked(partitions.in_parts(set())) == []
    linked, changed = {(ORG, 2023), (OTHER, 2023), (None, 2023)}, {(ORG, None), ("o'q", 2024)}
    assert partitions.kept_rows(linked, changed).startswith("NOT")  # the shorter list written out
    assert picked(partitions.kept_rows(linked, changed)) == picked(partitions.in_parts(linked)) \
        == sorted(linked, key=repr)


def test_a_read_of_one_organisations_lines_opens_its_own_files_only(two_years):
    _, _, _, base = two_years
    source = partitions.lines_source(base, ORG)
    assert source and all(Path(p).name.split("_")[1] == ORG for p in source)
    orgs = {r[0] for r in duckdb.connect().execute(f"SELECT org FROM {partitions.parquet(source)}").fetchall()}
    assert orgs == {ORG}
    assert reader.lines_table(base, ORG).count().to_pyarrow().as_py() == 3  # a1, a2, a4
    # an organisation without lines in the run: every file, which the caller filters to none
    assert partitions.lines_source(base, "123456789") == partitions.lines_source(base)
    assert partitions.lines_source(base, "a/b") == partitions.lines_source(base)


def test_a_line_key_of_a_linked_year_again_in_a_computed_one_fails_the_check_as_a_full_run_does(tmp_path):
    """A key is unique per organisation over all its years: a computed partition's keys are checked against the
    organisation's linked partitions too (the check read only the lines computed now)."""
    first = write_lines(tmp_path / "a.parquet", [(ORG, "a1", "115", 10_000, 2023, 3),
                                                 (OTHER, "o1", "115", 10_000, 2024, 3)])
    base = tmp_path / "run-1"
    runner.run(inputs(first), base)
    again = write_lines(tmp_path / "b.parquet", [(ORG, "a1", "115", 10_000, 2024, 3)])
    for reuse in (True, False):
        with pytest.raises(runner.DataCheckFailed) as failed:
            runner.run(inputs(first, again), tmp_path / f"run-{reuse}", previous=(1, base), reuse=reuse)
        assert failed.value.check == "unique_line_keys" and failed.value.keys == [(ORG, "a1", 2)]
    # another organisation's key may be the same
    other = write_lines(tmp_path / "c.parquet", [(OTHER, "a1", "115", 10_000, 2024, 5)])
    after = incremental_equals_full(tmp_path, inputs(first, other), base, name="run-other")
    assert recomputed(after) == [(OTHER, 2024)]


def test_a_previous_fingerprint_without_the_partitions_with_purchases_is_not_reused(tmp_path):
    """A fingerprint written without `active` and `sellers` (damaged, or by other code) is no base to link from:
    the partitions computed now would count no purchases of the linked ones."""
    first = write_lines(tmp_path / "a.parquet", [(ORG, "a1", "115", 10_000, 2023, 3)])
    base = tmp_path / "run-1"
    runner.run(inputs(first), base)
    recorded = fingerprint(base)
    del recorded["active"], recorded["sellers"]
    (base / partitions.FINGERPRINT).write_text(json.dumps(recorded), encoding="utf-8")
    assert partitions.read_fingerprint(base) is None
    more = write_lines(tmp_path / "b.parquet", [(ORG, "b1", "115", 10_000, 2024, 3)])
    after = incremental_equals_full(tmp_path, inputs(first, more), base)
    assert recomputed(after) == [(ORG, 2023), (ORG, 2024)] and fingerprint(after)["reused_from"] is None


def test_a_results_files_that_type_a_column_otherwise_are_read_by_name_without_losing_a_value(tmp_path):
    """An organisation's files linked from an earlier run beside files written now: a column may be typed otherwise
    (a typed null of another plan variant), and the columns may lie in another order."""
    folder = tmp_path / "run" / "summary"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"org": [ORG], "kg_co2e": pa.array([1], pa.int64())}), folder / f"{ORG}_0.parquet")
    pq.write_table(pa.table({"kg_co2e": [3.5], "org": [OTHER]}), folder / f"{OTHER}_0.parquet")
    table = reader.result_table(partitions.result_source(tmp_path / "run", "summary"))
    assert sorted(table.to_pyarrow().to_pylist(), key=repr) == [{"org": ORG, "kg_co2e": 1.0},
                                                                 {"org": OTHER, "kg_co2e": 3.5}]


def test_an_organisation_named_as_duckdbs_null_partition_is_filed_under_its_own_name_and_its_gone_lines_leave_no_rows(
        tmp_path):
    """DuckDB writes the text `__HIVE_DEFAULT_PARTITION__` quoted (`%5F_HIVE...`), a null unquoted: the text read as
    null filed the organisation's results under the token of null, so that a run in which its lines were gone linked
    its old file as another organisation's."""
    odd = partitions.HIVE_NULL
    first = write_lines(tmp_path / "a.parquet", [(ORG, "a1", "115", 1_000, 2023, 4)])
    gone = write_lines(tmp_path / "b.parquet", [(odd, "b1", "115", 100_000, 2023, 3)])
    base = tmp_path / "run-1"
    runner.run(inputs(first, gone), base)
    assert f"{partitions.org_token(odd)}_0.parquet" in {p.name for p in (base / "summary").iterdir()}
    assert f"{partitions.part_name((odd, 2023))}_0.parquet" in {p.name for p in (base / "lines").iterdir()}
    after = incremental_equals_full(tmp_path, inputs(first), base)
    assert recomputed(after) == [] and {r[0] for r in rows(after, "summary")} == {ORG}


@pytest.mark.parametrize("org", [OTHER, ORG])
def test_a_previous_run_missing_an_organisations_result_file_recomputes_everything(two_years, org):
    """A result file of the previous run gone (removed by hand, say): a linked organisation's (OTHER's) file
    linked would lose its rows, a written one's (ORG's) its linked year's rows, and no check sees either."""
    tmp, first, month, base = two_years
    (base / "aggregates" / f"{org}_0.parquet").unlink()
    after = incremental_equals_full(tmp, inputs(first, month), base)
    assert recomputed(after) == EVERY
    # the fingerprint lists each result's files
    assert fingerprint(after)["results"]["aggregates"] == sorted([f"{ORG}_0.parquet", f"{OTHER}_0.parquet"])


def test_the_previous_runs_files_of_the_organisations_written_again_are_read_by_name(two_years):
    """The kept rows of every organisation written anew are read from its files of the previous run, which may
    type a column otherwise (a typed null of another plan variant; here made by hand): read by name, not cast to
    the first file's types (OTHER's kg read as ORG's integer type lost their decimals)."""
    tmp, first, _, base = two_years
    path = base / "summary" / f"{ORG}_0.parquet"
    table = pq.read_table(path)
    index = table.schema.get_field_index("kg_co2e")
    pq.write_table(table.set_column(index, "kg_co2e", pa.array(  # ORG's file first, its kg typed as integers
        [round(v) for v in table.column("kg_co2e").to_pylist()], pa.int64())), path)
    kept = {(r["org"], r["year"], r["month"], r["exclusion"]): r["kg_co2e"]
            for r in pq.read_table(base / "summary" / f"{OTHER}_0.parquet").to_pylist() if r["year"] == 2023}
    assert any(v != round(v) for v in kept.values())
    more = write_lines(tmp / "b.parquet", [(ORG, "b1", "115", 30_000, 2024, 12), (OTHER, "b2", "115", 40_000, 2024, 12)])
    after = tmp / "run-2"
    runner.run(inputs(first, more), after, previous=(1, base))
    assert recomputed(after) == [(ORG, 2024), (OTHER, 2024)]
    assert {(r["org"], r["year"], r["month"], r["exclusion"]): r["kg_co2e"]
            for r in pq.read_table(after / "summary" / f"{OTHER}_0.parquet").to_pylist() if r["year"] == 2023} == kept


def test_a_line_without_an_organisation_is_the_same_line_in_the_next_run(tmp_path):
    """The changes compare the lines of two runs by organisation and key: a line without an organisation (a
    hand-made file) counted as new in every full run, while the incremental run's linked year said unchanged."""
    first = write_lines(tmp_path / "a.parquet", [(None, "n1", "115", 100_000, 2023, 3), (ORG, "o1", "115", 7_000,
                                                                                         2023, 5)])
    base = tmp_path / "run-1"
    runner.run(inputs(first), base)
    more = write_lines(tmp_path / "b.parquet", [(ORG, "o2", "115", 10_000, 2024, 1)])
    after = incremental_equals_full(tmp_path, inputs(first, more), base)
    assert recomputed(after) == [(ORG, 2024)]
    unchanged = [r for r in pq.read_table(tmp_path / "run-2-full" / "changes.parquet").to_pylist() if r["org"] is None]
    assert [(r["new_lines_lines"], r["other_lines"]) for r in unchanged] == [(0, 1)]


def test_a_data_folder_named_like_a_hive_partition_gives_the_results_no_column_of_it(tmp_path):
    """DuckDB takes a folder `key=value` in a path for a hive partition and adds a column `key` by default: the
    engine's reads turn that off, so a data directory such as /srv/site=kongsvinger/ computes as any other."""
    root = tmp_path / "site=kongsvinger"
    root.mkdir()
    first = write_lines(root / "a.parquet", [(ORG, "a1", "115", 100_000, 2023, 3), (OTHER, "a2", "115", 7_000,
                                                                                        2024, 2)])
    more = write_lines(root / "b.parquet", [(ORG, "b1", "115", 2_000, 2023, 5)])
    run1 = root / "run-1"
    runner.run(inputs(first), run1)
    run2 = incremental_equals_full(root, inputs(first, more), run1)
    assert recomputed(run2) == [(ORG, 2023)]
    con = duckdb.connect()
    for name in (*partitions.RESULTS, "changes"):
        described = [c for c, _t in partitions.columns(con, partitions.parquet(partitions.result_source(run2, name)))]
        assert "site" not in described, name
        assert "site" not in reader.result_table(partitions.result_source(run2, name)).columns, name
    assert "site" not in reader.lines_table(run2).columns


def test_a_data_folder_with_glob_characters_in_its_name_reads_its_own_results(tmp_path):
    """The result files are listed by the engine, not given to DuckDB as a glob: DuckDB reads `[1]` in a path as a
    pattern, so the results of /srv/data[1]/ were read from /srv/data1/ (or not found), and `*` matched siblings."""
    for name, decoy in (("data[1]", "data1"), ("data*", "data-other")):
        root, other = tmp_path / name, tmp_path / decoy
        root.mkdir()
        other.mkdir()
        first = write_lines(root / "a.parquet", [(ORG, "a1", "115", 100_000, 2023, 3)])
        runner.run(inputs(first), root / "run-1")
        runner.run(inputs(write_lines(other / "a.parquet", [(OTHER, "o1", "115", 5_000, 2024, 1)])), other / "run-1")
        more = write_lines(root / "b.parquet", [(ORG, "b1", "115", 2_000, 2024, 5)])
        run2 = incremental_equals_full(root, inputs(first, more), root / "run-1")
        assert recomputed(run2) == [(ORG, 2024)]
        for result in (*partitions.RESULTS, "changes"):
            orgs = reader.result_table(partitions.result_source(run2, result)).org.to_pyarrow().to_pylist()
            assert set(orgs) <= {ORG}, (name, result, set(orgs))
        assert set(reader.lines_table(run2, ORG).org.to_pyarrow().to_pylist()) == {ORG}
        assert set(reader.lines_table(run2).org.to_pyarrow().to_pylist()) == {ORG}
        shutil.rmtree(other)
