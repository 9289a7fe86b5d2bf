"""The JSON API under /api/v1/ (issue 16 item 8): per-organisation tokens with scopes, the same reads as the CLI
(totals, KPIs, lines), the same imports as the web and the CLI (a file, or a JSON batch of ledger lines, all or
nothing), 401/403/422/429 in one error shape, and the token page for organisation administrators. The schema itself
is exercised by schemathesis in tests/test_api_schemathesis.py."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import types

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_scopes import scopes_disabled

from klimainnkjop.api import ratelimit
from klimainnkjop.services import api_tokens
from klimainnkjop.services.api_tokens import do_revoke_api_token
from klimainnkjop.storage.models import ApiToken, AuditEntry, ImportBatch
from tests.conftest import run_cli
from tests.factories import (GRUE, KONGSVINGER, KONGSVINGER_CSV, KONGSVINGER_KG, WEB_PROFILE, as_operator,
                             do_save_profile, kg, kostra_file, make_user, record)

do_create_api_token = as_operator(api_tokens.do_create_api_token)  # as the command line makes one

API = "/api/v1/organisations"


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def read_token(region_data):
    org, _ = region_data
    return do_create_api_token(organisation=org, name="BI-verktøy", scopes="read", actor="test")


@pytest.fixture
def import_token(reference, org):
    return do_create_api_token(organisation=org, name="ERP", scopes=["import"], actor="test")


# ---------------------------------------------------------------- tokens

def test_a_token_is_shown_once_stored_only_as_its_sha256_and_its_making_and_revoking_are_audited(reference, org):
    token, secret = do_create_api_token(organisation=org, name="ERP", scopes="import,read", actor="test")
    assert secret.startswith("kik_") and len(secret) > 40
    stored = ApiToken.objects.with_scopes_disabled().get()
    assert stored.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.scopes == ["read", "import"] and stored.prefix == secret[:12]
    assert secret not in json.dumps(list(ApiToken.objects.with_scopes_disabled().values()), default=str)
    assert secret not in json.dumps(list(AuditEntry.objects.values("before", "after")), default=str)
    made = AuditEntry.objects.get(action="create_api_token")
    assert made.organisation == org and made.after["scopes"] == ["read", "import"]
    with scopes_disabled():  # the test acts as the operator
        do_revoke_api_token(token=token, actor="test")
        do_revoke_api_token(token=token, actor="test")  # twice: one audit row
    assert AuditEntry.objects.filter(action="revoke_api_token").count() == 1


def test_an_unknown_scope_is_refused_by_name(reference, org):
    from klimainnkjop.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="scope: write"):
        do_create_api_token(organisation=org, name="x", scopes="read,write", actor="test")
    assert not ApiToken.objects.with_scopes_disabled().exists()


def test_the_cli_adds_lists_and_revokes_a_token_and_a_revoked_token_is_refused(client, region_data):
    added = run_cli("api", "token", "add", "--org", KONGSVINGER, "--name", "Power BI", "--scope", "read")
    assert added.returncode == 0, added.stderr
    secret = added.stdout.split(": ", 1)[1].split()[0]
    assert secret.startswith("kik_")
    assert client.get(f"{API}/{KONGSVINGER}/totals", **bearer(secret)).status_code == 200
    listed = run_cli("api", "token", "list", "--org", KONGSVINGER, "--format", "json")
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["scopes"], r["revoked_at"]) for r in rows] == [("Power BI", "read", None)]
    assert rows[0]["last_used_at"] is not None and secret not in listed.stdout
    revoked = run_cli("api", "token", "revoke", str(rows[0]["id"]))
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    refused = client.get(f"{API}/{KONGSVINGER}/totals", **bearer(secret))
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert run_cli("api", "token", "add", "--org", KONGSVINGER, "--name", "x", "--scope", "all").returncode == 2


def test_no_token_a_wrong_token_and_an_expired_token_get_401_in_the_error_shape(client, read_token):
    token, secret = read_token
    for headers in ({}, bearer("kik_not-a-token"), {"HTTP_AUTHORIZATION": f"Token {secret}"}):
        response = client.get(f"{API}/{KONGSVINGER}/totals", **headers)
        assert response.status_code == 401
        assert set(response.json()) == {"detail", "errors"}
    ApiToken.objects.with_scopes_disabled().filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get(f"{API}/{KONGSVINGER}/totals", **bearer(secret)).status_code == 401


def test_a_token_reads_only_its_own_organisation_and_only_with_its_scopes(client, read_token, import_token):
    _, read = read_token
    _, imports = import_token
    other = client.get(f"{API}/{GRUE}/totals", **bearer(read))
    assert other.status_code == 403 and KONGSVINGER in other.json()["detail"] and GRUE in other.json()["detail"]
    assert client.get(f"{API}/999999999/lines", **bearer(read)).status_code == 403  # unknown: no hint it exists
    no_read = client.get(f"{API}/{KONGSVINGER}/totals", **bearer(imports))
    assert no_read.status_code == 403 and "'read'" in no_read.json()["detail"]
    no_import = client.post(f"{API}/{KONGSVINGER}/lines", data={"lines": [{"posting_date": "2024-01-01",
                                                                         "amount": 1}]},
                            content_type="application/json", **bearer(read))
    assert no_import.status_code == 403 and "'import'" in no_import.json()["detail"]


def test_a_signed_in_session_is_no_token(client, region_data):
    org, _ = region_data
    client.force_login(make_user("kongsvinger-admin", org, "org-admin"))
    assert client.get(f"{API}/{KONGSVINGER}/totals").status_code == 401


def test_a_request_sets_the_tokens_last_use_without_an_audit_row(client, read_token):
    token, secret = read_token
    entries = AuditEntry.objects.count()
    assert token.last_used_at is None
    client.get(f"{API}/{KONGSVINGER}/totals", **bearer(secret))
    assert ApiToken.objects.with_scopes_disabled().get(pk=token.pk).last_used_at is not None
    assert AuditEntry.objects.count() == entries


# ---------------------------------------------------------------- reads

def test_totals_by_category_are_the_hand_computed_ones_and_the_clis(client, read_token):
    _, secret = read_token
    response = client.get(f"{API}/{KONGSVINGER}/totals?year=2024&group_by=category", **bearer(secret))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["organisation"] == KONGSVINGER and body["group_by"] == ["category"] and not body["consolidated"]
    rows = {r["category"]: r for r in body["rows"]}
    assert sorted(rows) == ["construction.new_buildings", "energy.electricity", "goods.office"]  # wages are left out
    assert rows["goods.office"]["spend_nok"] == 123_456.0 and rows["goods.office"]["lines"] == 1
    assert rows["energy.electricity"]["spend_nok"] == 250_000.0
    assert rows["goods.office"]["kg_co2e"] == pytest.approx(kg(123_456, "goods.office", 2024), rel=1e-9)
    assert sum(r["kg_co2e"] for r in body["rows"]) == pytest.approx(KONGSVINGER_KG, rel=1e-9)
    assert rows["goods.office"]["year"] is None  # a key not grouped by
    cli = run_cli("totals", "--org", KONGSVINGER, "--year", "2024", "--by", "category", "--format", "json")
    cli_rows = json.loads(cli.stdout)["rows"]
    assert [{k: r[k] for k in c} for r, c in zip(body["rows"], cli_rows)] == cli_rows


def test_totals_without_grouping_and_a_bad_key_named(client, read_token):
    _, secret = read_token
    whole = client.get(f"{API}/{KONGSVINGER}/totals", **bearer(secret)).json()
    assert [r["spend_nok"] for r in whole["rows"]] == [1_373_456.0]
    bad = client.get(f"{API}/{KONGSVINGER}/totals?group_by=category,colour", **bearer(secret))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["column"] == "group_by" and "colour" in bad.json()["detail"]


def test_kpis_of_a_period_and_a_bad_period_named(client, read_token):
    _, secret = read_token
    body = client.get(f"{API}/{KONGSVINGER}/kpis?period=2024", **bearer(secret)).json()
    values = {k["key"]: k["value"] for k in body["kpis"]}
    assert body["period"] == "2024" and values["tonnes_co2e"] == pytest.approx(KONGSVINGER_KG / 1000, rel=1e-9)
    bad = client.get(f"{API}/{KONGSVINGER}/kpis?period=2024Q5", **bearer(secret))
    assert bad.status_code == 422 and bad.json()["errors"][0]["column"] == "period"


def test_lines_come_a_page_at_a_time_largest_emissions_first(client, read_token):
    _, secret = read_token
    first = client.get(f"{API}/{KONGSVINGER}/lines?year=2024&limit=2", **bearer(secret)).json()
    second = client.get(f"{API}/{KONGSVINGER}/lines?year=2024&limit=2&offset=2", **bearer(secret)).json()
    assert first["total"] == 4 and len(first["lines"]) == 2 and len(second["lines"]) == 2  # wages too, excluded
    keys = [line["line_key"] for line in first["lines"] + second["lines"]]
    assert len(set(keys)) == 4
    assert [line["amount_ore"] for line in first["lines"]] == [100_000_000, 25_000_000]  # construction, electricity
    assert second["lines"][1]["exclusion"] != "" and second["lines"][1]["kg_co2e"] in (0, None)
    assert client.get(f"{API}/{KONGSVINGER}/lines?limit=0", **bearer(secret)).status_code == 422


def test_nothing_computed_is_a_404_saying_so(client, reference, org):
    _, secret = do_create_api_token(organisation=org, name="x", scopes="read", actor="test")
    response = client.get(f"{API}/{KONGSVINGER}/totals", **bearer(secret))
    assert response.status_code == 404 and "nothing computed" in response.json()["detail"]


# ---------------------------------------------------------------- imports

LINES = [
    {"posting_date": "2024-03-15", "amount": "1234.50", "account": "10000", "supplier_orgnr": "982463718",
     "supplier_name": "Kontorgiganten AS", "description": "Papir", "voucher": "A1", "line_id": "1"},
    {"posting_date": "2024-06-20", "amount": 2000, "art": "180", "unit": "1200", "voucher": "A1", "line_id": "2"},
]


def _post_lines(client, secret, lines):
    return client.post(f"{API}/{KONGSVINGER}/lines", data={"lines": lines}, content_type="application/json",
                       **bearer(secret))


def test_a_batch_of_lines_is_imported_as_a_ledger_audited_with_the_token_and_only_once(client, import_token):
    token, secret = import_token
    response = _post_lines(client, secret, LINES)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["lines_added"], body["rows_read"], body["already_imported"]) == (2, 2, False)
    batch = ImportBatch.objects.with_scopes_disabled().get(pk=body["batch"])
    assert batch.kind == "ledger" and batch.amount_ore == 123_450 + 200_000 and batch.organisation.orgnr == KONGSVINGER
    entry = AuditEntry.objects.get(action="import_ledger")
    assert entry.actor_label == f"api-token:{token.pk}:ERP" and entry.organisation.orgnr == KONGSVINGER
    again = _post_lines(client, secret, LINES)
    assert again.status_code == 200 and again.json()["already_imported"] and again.json()["lines_added"] == 0
    assert ImportBatch.objects.with_scopes_disabled().count() == 1


def test_a_batch_with_one_bad_line_stores_nothing_and_names_the_line_and_field(client, import_token):
    _, secret = import_token
    bad = [LINES[0], {**LINES[1], "amount": "to tusen"}, {**LINES[1], "posting_date": "2024-13-01", "line_id": "3"}]
    response = _post_lines(client, secret, bad)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["file"], e["row"], e["column"]) for e in errors] == [("lines", 2, "amount"), ("lines", 3, "posting_date")]
    assert "to tusen" in errors[0]["reason"]
    assert not ImportBatch.objects.with_scopes_disabled().exists()


def test_a_batch_of_the_wrong_shape_is_a_422_naming_the_line_and_field(client, import_token):
    _, secret = import_token
    response = _post_lines(client, secret, [LINES[0], {"posting_date": "2024-01-01", "amount": 1, "colour": "red"}])
    assert response.status_code == 422
    assert [(e["file"], e["row"], e["column"]) for e in response.json()["errors"]] == [("lines", 2, "colour")]
    assert _post_lines(client, secret, []).status_code == 422
    assert not ImportBatch.objects.with_scopes_disabled().exists()


def test_a_file_is_imported_through_the_uploads_dispatch_and_a_bad_file_named_by_row_and_column(client, import_token,
                                                                                              org):
    _, secret = import_token
    do_save_profile(organisation=org, spec=WEB_PROFILE, actor="test")
    upload = SimpleUploadedFile("hovedbok-2024.csv", KONGSVINGER_CSV.encode())
    response = client.post(f"{API}/{KONGSVINGER}/imports", data={"file": upload, "kind": "ledger",
                                                                 "profile": "visma"}, **bearer(secret))
    assert response.status_code == 201, response.content
    assert (response.json()["rows_read"], response.json()["lines_added"]) == (4, 4)
    assert ImportBatch.objects.with_scopes_disabled().get().file_name == "hovedbok-2024.csv"

    broken = KONGSVINGER_CSV.replace("20.06.2024", "31.02.2024")
    response = client.post(f"{API}/{KONGSVINGER}/imports", data={
        "file": SimpleUploadedFile("feil.csv", broken.encode()), "kind": "ledger", "profile": "visma"},
        **bearer(secret))
    assert response.status_code == 422
    assert [(e["file"], e["row"], e["column"]) for e in response.json()["errors"]] == [("feil.csv", 3, "Bilagsdato")]
    unknown = client.post(f"{API}/{KONGSVINGER}/imports", data={
        "file": SimpleUploadedFile("b.csv", KONGSVINGER_CSV.replace("Papir", "Papp").encode()), "kind": "ledger",
        "profile": "sap"},
        **bearer(secret))
    assert unknown.status_code == 422 and "no profile named 'sap'" in unknown.json()["detail"]
    assert unknown["Content-Language"] == "en"  # the API speaks English (api/language.py), the pages bokmål
    nul = client.post(f"{API}/{KONGSVINGER}/imports", data={
        "file": SimpleUploadedFile("b.csv", KONGSVINGER_CSV.encode()), "kind": "ledger", "profile": "vi\x00sma"},
        **bearer(secret))
    assert nul.status_code == 422 and nul.json()["errors"][0]["column"] == "profile"
    assert ImportBatch.objects.with_scopes_disabled().count() == 1


def test_a_kostra_file_of_another_organisation_is_refused_unless_confirmed(client, import_token, other_org):
    _, secret = import_token
    data = kostra_file(record(region="042300", orgnr=GRUE, art="115", kr=1000))
    refused = client.post(f"{API}/{KONGSVINGER}/imports", data={
        "file": SimpleUploadedFile("grue.txt", data), "kind": "kostra"}, **bearer(secret))
    assert refused.status_code == 422
    assert [e["column"] for e in refused.json()["errors"]] == ["region", "orgnr"]
    confirmed = client.post(f"{API}/{KONGSVINGER}/imports", data={
        "file": SimpleUploadedFile("grue.txt", data), "kind": "kostra", "confirm_other": "true"}, **bearer(secret))
    assert confirmed.status_code == 201 and confirmed.json()["lines_added"] == 1
    assert AuditEntry.objects.get(action="confirm_kostra_import").actor_label.startswith("api-token:")


# ---------------------------------------------------------------- rate limit

def test_over_the_rate_a_token_gets_429_with_retry_after(client, read_token, settings, monkeypatch):
    _, secret = read_token
    settings.KLIMAINNKJOP_API_RATE_PER_MINUTE = 3
    # every request in the same fixed window, 30 s before its end (four real requests could straddle a minute)
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: 1_800_000_030.0))
    statuses = [client.get(f"{API}/{KONGSVINGER}/totals", **bearer(secret)).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    limited = client.get(f"{API}/{KONGSVINGER}/totals", **bearer(secret))
    assert limited.status_code == 429 and 1 <= int(limited["Retry-After"]) <= 60
    assert "3 requests a minute" in limited.json()["detail"]
    _, other = do_create_api_token(organisation=read_token[0].organisation, name="y", scopes="read", actor="test")
    assert client.get(f"{API}/{KONGSVINGER}/totals", **bearer(other)).status_code == 200  # per token


def test_the_openapi_document_names_the_endpoints_the_bearer_scheme_and_the_error_shape(client, db):
    document = client.get("/api/v1/openapi.json").json()
    assert document["info"]["version"] == "1"
    assert set(document["paths"]) == {f"/api/v1/organisations/{{orgnr}}/{p}"
                                      for p in ("totals", "kpis", "lines", "imports")}
    assert {"get", "post"} == set(document["paths"]["/api/v1/organisations/{orgnr}/lines"])
    assert document["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    for path in document["paths"].values():
        for operation in path.values():
            for status in ("401", "403", "422", "429"):
                assert operation["responses"][status]["content"]["application/json"]["schema"]["$ref"] \
                    .endswith("/ErrorOut")


# ---------------------------------------------------------------- the token page

def test_an_organisation_admin_makes_a_token_sees_it_once_and_revokes_it(client, reference, org):
    client.force_login(make_user("kongsvinger-admin", org, "org-admin"))
    page = client.post(f"/org/{KONGSVINGER}/api-nokler/", {"name": "ERP", "read": "on", "import_files": "on"})
    assert page.status_code == 200
    token = ApiToken.objects.with_scopes_disabled().get()
    html = page.content.decode()
    secret = html.split('id="api-token-secret" type="text" readonly value="', 1)[1].split('"', 1)[0]
    assert hashlib.sha256(secret.encode()).hexdigest() == token.secret_sha256 and token.scopes == ["read", "import"]
    assert AuditEntry.objects.get(action="create_api_token").actor_label == "kongsvinger-admin"
    listing = client.get(f"/org/{KONGSVINGER}/api-nokler/").content.decode()
    assert secret not in listing and token.prefix in listing
    revoked = client.post(f"/org/{KONGSVINGER}/api-nokler/{token.pk}/trekk-tilbake/")
    assert revoked.status_code == 302 and ApiToken.objects.with_scopes_disabled().get().revoked_at is not None


def test_a_token_without_any_scope_is_a_form_error(client, reference, org):
    client.force_login(make_user("kongsvinger-admin", org, "org-admin"))
    page = client.post(f"/org/{KONGSVINGER}/api-nokler/", {"name": "ERP"})
    assert page.status_code == 400 and not ApiToken.objects.with_scopes_disabled().exists()


def test_an_admin_of_another_organisation_cannot_revoke_a_token(client, reference, org, other_org):
    token, _ = do_create_api_token(organisation=org, name="ERP", scopes="read", actor="test")
    client.force_login(make_user("grue-admin", other_org, "org-admin"))
    assert client.post(f"/org/{KONGSVINGER}/api-nokler/{token.pk}/trekk-tilbake/").status_code == 404
    assert client.post(f"/org/{GRUE}/api-nokler/{token.pk}/trekk-tilbake/").status_code == 404
    assert ApiToken.objects.with_scopes_disabled().get().revoked_at is None
