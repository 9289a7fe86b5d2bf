"""The engine's compiled plans kept across processes (engine.runner.ENV_PLAN_CACHE)."""
import datetime as dt
import os
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from klimainnkjop.engine import pipeline, runner
from klimainnkjop.storage.linestore import LINE_SCHEMA

CPI = {2024: 133.6, 2026: 141.0}


def _inputs(tmp_path) -> runner.EngineInputs:
    defaults = {f.name: "" if pa.types.is_string(f.type) else None for f in LINE_SCHEMA}
    rows = [{**defaults, "org": "944117784", "line_key": f"k{i}", "art": art, "account": art + "000",
             "amount_ore": amount, "batch": "b", "source": "ledger", "year": 2024, "month": 3,
             "posting_date": dt.date(2024, 3, 1), "vat_ore": 0, "currency": "NOK", "investment": False}
            for i, (art, amount) in enumerate([("115", 100_000), ("010", 50_000)])]
    path = tmp_path / "lines.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=LINE_SCHEMA), path)
    factors = [{"category": "goods.food", "value": 0.02, "low": 0.01, "high": 0.04, "price_year": 2026,
                "currency": "NOK", "ref": "food", "quality": 4, "tier": 1, "valid_from": 2000, "valid_to": 2030}]
    return runner.EngineInputs(
        line_files=[path], art_classes=runner.art_class_table({"115": "goods.food"}),
        ancestors=runner.ancestor_table({"goods.food": None}),
        spend_factors=runner.expand_years(factors, range(2024, 2025), runner.SPEND_SCHEMA),
        prices=pa.table({"year": pa.array(list(CPI), pa.int32()), "cpi": pa.array(list(CPI.values()))}),
        rates=pa.table({"year": pa.array(list(CPI), pa.int32()), "currency": ["NOK"] * 2, "nok_per_unit": [1.0] * 2}))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "plans"
    monkeypatch.setenv(runner.ENV_PLAN_CACHE, str(folder))
    monkeypatch.setattr(runner, "_PLANS", {})  # as a new process starts
    return folder


def test_a_plan_compiled_in_one_process_is_read_by_the_next_which_builds_nothing_and_gets_the_same_results(
        tmp_path, cache, monkeypatch):
    inputs = _inputs(tmp_path)
    first = runner.run(inputs, tmp_path / "first")
    assert len(list(cache.glob("*/*/plan.json"))) >= 9  # every plan of a run
    monkeypatch.setattr(runner, "_PLANS", {})

    def no_build(*args, **kwargs):
        raise AssertionError("the plan was built again")
    monkeypatch.setattr(pipeline, "line_results", no_build)
    monkeypatch.setattr(pipeline, "reconcile_sources", no_build)
    second = runner.run(inputs, tmp_path / "second")
    assert second == first and second.lines_purchase == 1
    assert pq.read_table(tmp_path / "second" / "lines").equals(
        pq.read_table(tmp_path / "first" / "lines"))


def test_a_damaged_plan_in_the_cache_is_compiled_afresh(tmp_path, cache, monkeypatch):
    inputs = _inputs(tmp_path)
    first = runner.run(inputs, tmp_path / "first")
    for plan in cache.glob("*/*/plan.json"):
        plan.write_text("{not json", encoding="utf-8")
    monkeypatch.setattr(runner, "_PLANS", {})
    assert runner.run(inputs, tmp_path / "second") == first


def test_another_engine_or_line_schema_is_another_key_in_the_cache(cache):
    key = ("lines", pipeline.Present(), ("reconciled", None))
    assert runner._cached_plan_folder(key) == runner._cached_plan_folder(key)
    runner._code_version.cache_clear()
    try:
        original = runner._code_version()
        runner._code_version.cache_clear()
        schema = runner.INVOICE_LINE_SCHEMA
        runner.INVOICE_LINE_SCHEMA = schema.append(pa.field("new_column", pa.string()))
        try:
            assert runner._code_version() != original
        finally:
            runner.INVOICE_LINE_SCHEMA = schema
    finally:
        runner._code_version.cache_clear()


def test_the_plans_of_other_code_versions_left_alone_for_an_hour_are_pruned(tmp_path):
    root = tmp_path / "plans"
    for name in ("current", "old", "recent"):
        (root / name / "abc").mkdir(parents=True)
        (root / name / "abc" / "plan.json").write_text("{}", encoding="utf-8")
    two_hours_ago = time.time() - 7200
    for name in ("current", "old"):
        os.utime(root / name, (two_hours_ago, two_hours_ago))
    assert runner.prune_plan_cache(root, "current") == [root / "old"]
    assert sorted(p.name for p in root.iterdir()) == ["current", "recent"]
    assert runner.prune_plan_cache(tmp_path / "missing", "current") == []


def test_a_run_prunes_the_cache_of_old_versions_once_per_process(tmp_path, cache, monkeypatch):
    stale = cache / "0123456789abcdef" / "abc"
    stale.mkdir(parents=True)
    os.utime(stale.parent, (time.time() - 7200, time.time() - 7200))
    runner._prune_once.cache_clear()
    runner.run(_inputs(tmp_path), tmp_path / "out")
    assert not stale.parent.exists()
    assert [p.name for p in cache.iterdir()] == [runner._code_version()[:16]]


def test_the_plan_cache_lies_in_the_data_folder_unless_named_or_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("KLIMAINNKJOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv(runner.ENV_PLAN_CACHE)
    assert runner.plan_cache_root() == (tmp_path / "data" / "cache" / "plans").resolve()
    monkeypatch.setenv(runner.ENV_PLAN_CACHE, "off")
    assert runner.plan_cache_root() is None
    assert runner._cached_plan_folder(("lines", None)) is None
    monkeypatch.setenv(runner.ENV_PLAN_CACHE, str(tmp_path / "plans"))
    assert runner.plan_cache_root() == tmp_path / "plans"
