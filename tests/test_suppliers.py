"""Suppliers from Enhetsregisteret: the bulk file (JSON/CSV, gzip, streamed), the open API client (cache,
404/410, time-outs) replaying constructed answers, refresh feeding the engine's classification."""
import datetime as dt
import gzip
import json
import shutil
import tracemalloc
import types
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from klimainnkjop.clients.brreg import ENV_BASE_URL, BrregClient, BrregError
from klimainnkjop.importers.brreg import iter_units
from klimainnkjop.importers.errors import ImportRejected
from klimainnkjop.services.compute import do_compute
from klimainnkjop.services.suppliers import do_import_supplier_register, do_refresh_suppliers
from klimainnkjop.storage.models import AuditEntry, Supplier
from tests.conftest import run_cli
from tests.factories import do_import_supplier_stats, do_save_supplier_stats_profile

BRREG = Path(__file__).resolve().parent / "data" / "brreg"
BASE = "https://brreg.test/enhetsregisteret/api"


def known(*orgnrs):
    for orgnr in orgnrs:
        Supplier.objects.create(orgnr=orgnr, name=f"Leverandør {orgnr}", source="ledger")


def replay(calls=None, fail=None):
    """A transport answering from tests/data/brreg/responses, counting the requests."""
    calls = calls if calls is not None else []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        orgnr = request.url.path.rsplit("/", 1)[-1]
        if fail and orgnr in fail:
            raise fail[orgnr](f"simulated for {orgnr}", request=request)
        file = BRREG / "responses" / f"{orgnr}.json"
        if not file.exists():
            return httpx.Response(404, json={"status": 404, "error": "Not Found"})
        recorded = json.loads(file.read_text(encoding="utf-8"))
        return httpx.Response(recorded["status"], json=recorded["body"], headers=recorded.get("headers"))

    return httpx.MockTransport(handler), calls


def client(transport, **kwargs):
    return BrregClient(base_url=BASE, transport=transport, **kwargs)


# ---------------------------------------------------------------- the bulk file


def test_the_json_file_updates_the_known_suppliers_nace_and_address_and_adds_no_others(db):
    known("910000001", "910000006")
    result = do_import_supplier_register(path=BRREG / "enheter_sample.json", actor="test")
    assert (result.units_read, result.updated, result.added, result.not_known) == (3, 2, 0, 1)
    fuel = Supplier.objects.get(orgnr="910000001")
    assert fuel.name == "FJELLDRIVSTOFF AS" and fuel.nace == "19.200" and fuel.nace_secondary == ["46.711"]
    assert fuel.organisation_form == "AS" and fuel.address == "Industrivegen 14"
    assert (fuel.postal_code, fuel.postal_place, fuel.municipality_number) == ("2212", "KONGSVINGER", "3401")
    assert fuel.source == "brreg-file" and fuel.fetched_at is not None and fuel.register_status == "active"
    club = Supplier.objects.get(orgnr="910000006")  # no business address: the postal address is used
    assert club.nace == "93.120" and club.address == "Postboks 44" and club.municipality_number == "3417"
    assert not Supplier.objects.filter(orgnr="910000005").exists()
    change = AuditEntry.objects.filter(action="update_supplier", object_id=str(fuel.pk)).get()
    assert change.before["nace"] == "" and change.after["nace"] == "19.200"
    assert AuditEntry.objects.filter(action="import_supplier_register").count() == 1


def test_the_gzipped_csv_variant_updates_the_same_fields_and_again_changes_nothing(db, tmp_path):
    known("910000001", "910000002")
    path = tmp_path / "enheter_alle.csv.gz"
    path.write_bytes(gzip.compress((BRREG / "enheter_sample.csv").read_bytes()))
    first = do_import_supplier_register(path=path, actor="test")
    assert (first.units_read, first.updated) == (3, 2)
    office = Supplier.objects.get(orgnr="910000002")
    assert office.nace == "47.620" and office.address == "Storgata 3, 2. etasje" and office.postal_code == "2208"
    again = do_import_supplier_register(path=path, actor="test")
    assert (again.updated, again.unchanged) == (0, 2)
    assert AuditEntry.objects.filter(action="update_supplier").count() == 2


def test_with_all_the_units_that_are_not_suppliers_yet_are_added(db, tmp_path):
    known("910000001")
    path = tmp_path / "enheter_alle.json.gz"
    path.write_bytes(gzip.compress((BRREG / "enheter_sample.json").read_bytes()))
    result = do_import_supplier_register(path=path, include_all=True, actor="test")
    assert (result.updated, result.added) == (1, 2)
    assert Supplier.objects.get(orgnr="910000005").nace == "10.890"


def _synthetic(path: Path, count: int) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("[\n")
        for i in range(count):
            unit = {"organisasjonsnummer": f"{920000000 + i}", "navn": f"SYNTETISK {i} AS",
                    "organisasjonsform": {"kode": "AS", "beskrivelse": "Aksjeselskap"},
                    "naeringskode1": {"kode": "47.110", "beskrivelse": "Butikkhandel med bredt vareutvalg"},
                    "forretningsadresse": {"adresse": [f"Gate {i}"], "postnummer": "0150", "poststed": "OSLO",
                                           "kommunenummer": "0301", "kommune": "OSLO", "landkode": "NO"},
                    "aktivitet": ["x" * 300]}
            fh.write(("," if i else "") + json.dumps(unit, ensure_ascii=False) + "\n")
        fh.write("]\n")


def test_a_large_file_is_streamed_so_memory_does_not_grow_with_it(db, tmp_path):
    count = 40_000
    path = tmp_path / "enheter_alle.json.gz"
    _synthetic(path, count)
    with gzip.open(path, "rb") as fh:
        uncompressed = sum(len(chunk) for chunk in iter(lambda: fh.read(1 << 20), b""))
    assert uncompressed > 20_000_000
    assert isinstance(iter_units(path), types.GeneratorType)
    known("920000007", f"{920000000 + count - 1}")
    tracemalloc.start()
    try:
        result = do_import_supplier_register(path=path, actor="test")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.units_read == count and result.updated == 2
    assert Supplier.objects.get(orgnr=f"{920000000 + count - 1}").nace == "47.110"
    assert peak < uncompressed / 4, f"peak {peak} bytes for a {uncompressed}-byte file"


def test_bad_rows_are_named_by_row_and_field_and_nothing_is_written(db, tmp_path):
    known("910000001")
    text = (BRREG / "enheter_sample.csv").read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace('"910000005"', '"91000000X"')
    text[3] = text[3].replace('"47.620"', '"forty-seven"').replace('"3401","Norge"', '"340","Norge"', 1)
    path = tmp_path / "enheter.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as refused:
        do_import_supplier_register(path=path, actor="test")
    found = {(e.row, e.column) for e in refused.value.errors}
    assert found == {(3, "organisasjonsnummer"), (4, "naeringskode1.kode"), (4, "forretningsadresse.kommunenummer")}
    assert "enheter.csv, row 3, column 'organisasjonsnummer'" in str(refused.value)
    assert Supplier.objects.get(orgnr="910000001").nace == ""
    assert not AuditEntry.objects.filter(action__in=["update_supplier", "import_supplier_register"]).exists()


def test_a_bad_unit_in_the_json_array_is_named_by_its_place_and_a_cut_off_file_is_refused(db, tmp_path):
    units = json.loads((BRREG / "enheter_sample.json").read_text(encoding="utf-8"))
    units[1]["forretningsadresse"]["postnummer"] = "22700"
    path = tmp_path / "enheter.json"
    path.write_text(json.dumps(units), encoding="utf-8")
    with pytest.raises(ImportRejected) as refused:
        do_import_supplier_register(path=path, actor="test")
    assert [(e.row, e.column) for e in refused.value.errors] == [(2, "forretningsadresse.postnummer")]
    path.write_text(json.dumps(units[:1])[:-1], encoding="utf-8")  # no closing bracket
    with pytest.raises(ImportRejected, match="ends without"):
        do_import_supplier_register(path=path, actor="test")


# ---------------------------------------------------------------- the API client


def test_the_client_caches_an_answer_so_a_second_lookup_makes_no_request(db):
    transport, calls = replay()
    with client(transport) as brreg:
        first = brreg.lookup("910000001")
        second = brreg.lookup("910000001")
    assert first.status == second.status == "found" and second.data["navn"] == "FJELLDRIVSTOFF AS"
    assert (first.from_cache, second.from_cache) == (False, True)
    assert calls == [f"{BASE}/enheter/910000001"]


def test_an_expired_cache_entry_is_fetched_again(db):
    transport, calls = replay()
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    clock = types.SimpleNamespace(now=now)
    with client(transport, cache_ttl=dt.timedelta(days=30), now=lambda: clock.now) as brreg:
        brreg.lookup("910000002")
        clock.now = now + dt.timedelta(days=29)
        assert brreg.lookup("910000002").from_cache
        clock.now = now + dt.timedelta(days=31)
        assert not brreg.lookup("910000002").from_cache
    assert len(calls) == 2


def test_an_unknown_number_and_a_deleted_unit_are_answers_not_errors_and_are_cached(db):
    transport, calls = replay()
    with client(transport) as brreg:
        unknown = brreg.lookup("910000004")
        deleted = brreg.lookup("910000003")
        assert brreg.lookup("910000003").from_cache
    assert unknown.status == "not_found" and unknown.data is None
    assert deleted.status == "deleted" and deleted.data["slettedato"] == "2023-05-17"
    assert len(calls) == 2


def test_a_timeout_and_a_server_error_are_clear_errors(db):
    transport, _ = replay(fail={"910000001": httpx.ReadTimeout, "910000002": httpx.ConnectError})
    with client(transport) as brreg:
        with pytest.raises(BrregError, match="910000001: Enhetsregisteret did not answer in time"):
            brreg.lookup("910000001")
        with pytest.raises(BrregError, match="910000002: cannot reach Enhetsregisteret"):
            brreg.lookup("910000002")
    broken = httpx.MockTransport(lambda request: httpx.Response(503, text="Service Unavailable"))
    with client(broken) as brreg, pytest.raises(BrregError, match="HTTP 503"):
        brreg.lookup("910000001")
    with client(broken) as brreg, pytest.raises(BrregError, match="not a 9-digit"):
        brreg.lookup("12345")


def test_a_real_timeout_against_a_silent_local_server_is_reported(db):
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        port = server.getsockname()[1]
        with BrregClient(base_url=f"http://127.0.0.1:{port}/api", timeout=0.3) as brreg:
            with pytest.raises(BrregError, match="did not answer in time"):
                brreg.lookup("910000001")
    finally:
        server.close()


def test_refresh_updates_found_suppliers_marks_unknown_and_deleted_ones_and_reports_failures(db):
    known("910000001", "910000002", "910000003", "910000004")
    transport, calls = replay(fail={"910000002": httpx.ReadTimeout})
    with client(transport) as brreg:
        result = do_refresh_suppliers(client=brreg, missing_only=True, actor="test")
    assert result.looked_up == 4 and result.updated == 3
    assert result.not_found == ["910000004"] and result.deleted == ["910000003"]
    assert len(result.failed) == 1 and result.failed[0].startswith("910000002: ")
    assert Supplier.objects.get(orgnr="910000001").nace == "19.200"
    assert Supplier.objects.get(orgnr="910000001").source == "brreg-api"
    assert Supplier.objects.get(orgnr="910000003").register_status == "deleted"
    assert Supplier.objects.get(orgnr="910000003").name == "Leverandør 910000003"
    assert Supplier.objects.get(orgnr="910000004").register_status == "unknown_orgnr"
    assert Supplier.objects.get(orgnr="910000002").nace == ""
    assert AuditEntry.objects.filter(action="update_supplier").count() == 3
    # --missing-only again: the found one has its NACE now and is not asked for
    transport, calls = replay()
    with client(transport) as brreg:
        again = do_refresh_suppliers(client=brreg, missing_only=True, actor="test")
    assert "910000001" not in " ".join(calls) and again.looked_up == 3


def test_refresh_fills_nace_so_the_engine_classifies_a_line_without_art_by_it(org, reference, data_dir):
    do_save_supplier_stats_profile(organisation=org, actor="test", spec={
        "name": "rapport", "columns": {"period": "Dato", "supplier_orgnr": "Leverandør", "product_name": "Vare",
                                       "amount": "Beløp"}})
    report = "Dato;Leverandør;Vare;Beløp\n15.03.2024;910000001;Smøreolje 5W-30;10 000,00\n"
    do_import_supplier_stats(organisation=org, data=report.encode(), file_name="rapport.csv", actor="test")

    def category():
        run = do_compute(actor="test")
        rows = pq.read_table(data_dir / run.result_dir / "lines").to_pylist()
        (line,) = [r for r in rows if r["source"] == "supplier_stats"]
        return line

    before = category()
    assert before["category"] is None and before["art"] == ""
    transport, _ = replay()
    with client(transport) as brreg:
        do_refresh_suppliers(client=brreg, missing_only=True, actor="test")
    after = category()
    assert after["category"] == "energy.fuel"  # nace_to_category.csv: 19.2 refined petroleum products
    assert after["classification_rule"] == "supplier:nace:19.2" and after["method"] == "spend"
    assert after["kg_co2e"] > 0


# ---------------------------------------------------------------- the command line


def cli(data_dir, *args):
    return run_cli("--data-dir", data_dir, *args)


@pytest.mark.django_db
def test_the_cli_imports_the_register_file_and_adds_a_supplier_factor_with_its_evidence(tmp_path):
    data = tmp_path / "cli"
    path = tmp_path / "enheter_alle.json"
    shutil.copy(BRREG / "enheter_sample.json", path)
    done = cli(data, "suppliers", "import", str(path), "--all")
    assert done.returncode == 0, done.stderr
    assert "3 units read" in done.stdout and "3 added" in done.stdout
    listed = cli(data, "suppliers", "list", "--format", "json")
    rows = {r["orgnr"]: r for r in json.loads(listed.stdout)}
    assert rows["910000001"]["nace"] == "19.200" and rows["910000006"]["municipality_number"] == "3417"
    added = cli(data, "suppliers", "factor", "add", "910000001", "0.012", "--price-year", "2024", "--from", "2024",
                "--to", "2026", "--evidence", "Klimaregnskap 2024, verifisert")
    assert added.returncode == 0, added.stderr
    assert "valid 2024–2026" in added.stdout
    refused = cli(data, "suppliers", "factor", "add", "910000001", "0.012", "--price-year", "2024", "--from",
                  "2024", "--to", "2026", "--evidence", " ")
    assert refused.returncode == 2 and "evidence" in refused.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text('"organisasjonsnummer","navn"\n"123","X"\n', encoding="utf-8")
    rejected = cli(data, "suppliers", "import", str(bad))
    assert rejected.returncode == 2 and "bad.csv, row 2, column 'organisasjonsnummer'" in rejected.stderr


def test_with_all_a_file_larger_than_one_chunk_is_added_in_chunks_and_a_repeated_unit_once(db, tmp_path,
                                                                                           monkeypatch):
    import klimainnkjop.services.suppliers as suppliers

    monkeypatch.setattr(suppliers, "CREATE_CHUNK", 2)
    units = json.loads((BRREG / "enheter_sample.json").read_text(encoding="utf-8"))
    path = tmp_path / "enheter.json"
    path.write_text(json.dumps(units + [units[1]]), encoding="utf-8")
    do_import_supplier_register(path=path, include_all=True, actor="test")
    assert sorted(Supplier.objects.values_list("orgnr", flat=True)) == ["910000001", "910000005", "910000006"]


@pytest.mark.django_db
def test_the_cli_refresh_asks_a_local_stand_in_for_the_api_and_fills_nace(tmp_path, monkeypatch):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    asked = []

    class Replay(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            orgnr = self.path.rsplit("/", 1)[-1]
            asked.append(orgnr)
            file = BRREG / "responses" / f"{orgnr}.json"
            recorded = json.loads(file.read_text(encoding="utf-8")) if file.exists() else {"status": 404, "body": {}}
            body = json.dumps(recorded["body"]).encode()
            self.send_response(recorded["status"])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        data = tmp_path / "cli"
        path = tmp_path / "enheter.csv"
        path.write_text('"organisasjonsnummer","navn"\n"910000001","X"\n"910000004","Y"\n', encoding="utf-8")
        assert cli(data, "suppliers", "import", str(path), "--all").returncode == 0
        monkeypatch.setenv(ENV_BASE_URL, f"http://127.0.0.1:{server.server_address[1]}/enhetsregisteret/api")
        done = cli(data, "suppliers", "refresh", "--missing-only")
        assert done.returncode == 0, done.stderr
        assert "2 suppliers looked up (2 requests): 2 updated" in done.stdout and "1 unknown numbers" in done.stdout
        again = cli(data, "suppliers", "refresh")
        assert "(0 requests)" in again.stdout  # both answers come from the cache
        rows = {r["orgnr"]: r for r in json.loads(cli(data, "suppliers", "list", "--format", "json").stdout)}
        assert rows["910000001"]["nace"] == "19.200" and rows["910000004"]["register_status"] == "unknown_orgnr"
        assert sorted(asked) == ["910000001", "910000004"]
    finally:
        server.shutdown()
        server.server_close()
