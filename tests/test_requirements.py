"""The requirement library: the shipped starter library (loaded with the reference data), its content rules,
versions and audit of a change, and `requirements list`."""
import json
from collections import Counter

import pytest

from klimainnkjop.selectors import requirements as selectors
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.services.requirements import LIBRARY_FILE, do_load_requirement_library, do_save_requirement
from klimainnkjop.storage.models import AuditEntry, Category, Requirement
from tests.conftest import run_cli
from tests.factories import DATA

MAIN_CATEGORIES = ["energy.fuel", "goods.food", "construction", "goods.building_materials.concrete",
                   "goods.it_equipment", "goods.furniture", "goods.cleaning_products", "goods.textiles",
                   "goods.office"]


def test_the_starter_library_has_forty_requirements_of_all_four_kinds_for_the_main_categories(reference):
    shipped = list(Requirement.objects.filter(shipped=True))
    assert len(shipped) == len(json.loads(LIBRARY_FILE.read_text(encoding="utf-8"))) >= 40
    assert set(Counter(r.kind for r in shipped)) == {"qualification", "specification", "award", "clause"}
    for category in MAIN_CATEGORIES:  # at least one requirement for the category itself (not only "goods")
        assert any(category in r.categories for r in shipped), category


def test_every_shipped_requirement_is_complete_and_names_guidance_listed_in_sources(reference):
    known = set(Category.objects.values_list("code", flat=True))
    sources = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    for item in Requirement.objects.filter(shipped=True):
        assert set(item.categories) <= known and item.categories, item.code
        assert item.title and item.text and item.verification and item.legal_note, item.code
        assert item.expected_effect["kind"] in {"switch", "intensity_cut", "none"}, item.code
        if item.expected_effect["kind"] == "switch":
            assert {item.expected_effect["from"], item.expected_effect["to"]} <= known
            assert 0 < item.expected_effect["share"] <= 1
        if item.expected_effect["kind"] == "intensity_cut":
            assert 0 < item.expected_effect["percent"] <= 100
        assert item.guidance, item.code
        for source in item.guidance.split("; "):
            assert source.split(": ")[0].split(" (")[0] in sources, (item.code, source)
    assert do_load_requirement_library(actor="test") == 0  # loading again adds nothing


def test_a_category_finds_the_requirements_of_its_ancestors(reference):
    found = {r.code for r in selectors.requirements(category="goods.food.beef")}
    assert {"MAT-01", "MAT-03", "GEN-01"} <= found  # goods.food and every category ("goods")
    assert "MAT-05" not in found  # fish only
    assert all(r.kind == "award" for r in selectors.requirements(kind="award"))


def test_a_change_is_a_new_version_with_the_old_one_kept_and_audited(reference):
    item = selectors.requirement("TRA-01")
    values = {k: getattr(item, k) for k in ("kind", "categories", "title", "text", "verification", "legal_note",
                                           "expected_effect", "min_value_nok", "guidance", "status")}
    changed = do_save_requirement(code="TRA-01", values={**values, "expected_effect": {
        "kind": "switch", "from": "energy.fuel.diesel", "to": "energy.fuel.hvo", "share": 0.8}}, actor="test")
    assert changed.version == 2
    assert [v.version for v in selectors.history(changed)] == [2, 1]
    assert selectors.history(changed)[1].content["expected_effect"]["share"] == 1.0
    entry = AuditEntry.objects.filter(action="change_requirement").first()
    assert entry.before["version"] == 1 and entry.after["expected_effect"]["share"] == 0.8
    assert do_save_requirement(code="TRA-01", values={**values, "expected_effect": changed.expected_effect},
                               actor="test").version == 2  # nothing changed: no new version
    with pytest.raises(InvalidInput, match="percent"):
        do_save_requirement(code="NY-01", values={**values, "expected_effect": {"kind": "intensity_cut",
                                                                              "percent": 150}}, actor="test")
    with pytest.raises(InvalidInput, match="kind"):
        do_save_requirement(code="NY-01", values={**values, "kind": "wish"}, actor="test")


def test_the_cli_lists_the_library_as_json(reference):
    result = run_cli("requirements", "list", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == Requirement.objects.filter(status="active").count()
    hvo = next(r for r in rows if r["id"] == "TRA-01")
    assert hvo == {"id": "TRA-01", "kind": "specification", "categories": ["energy.fuel"],
                   "title": "Fornybar diesel (HVO100) i stedet for fossil diesel",
                   "expected_effect": {"kind": "switch", "from": "energy.fuel.diesel", "to": "energy.fuel.hvo",
                                       "share": 1.0}}
    concrete = json.loads(run_cli("requirements", "list", "--category", "goods.building_materials.concrete",
                                  "--kind", "specification", "--format", "json").stdout)
    assert "BYG-01" in {r["id"] for r in concrete}


def test_a_region_administrator_edits_a_requirement_on_the_web_and_its_history_shows_both_versions(reference, client,
                                                                                                  org):
    from tests.factories import make_user

    client.force_login(make_user("reader", org, "reader"))
    assert client.get("/kravbibliotek/MAT-01/endre/").status_code == 403
    admin = make_user("admin", org, "region-admin")
    client.force_login(admin)
    form = {"code": "MAT-01", "kind": "award", "categories": "goods.food", "title": "Plantebasert først",
            "text": "Ny tekst.", "verification": "Meny.", "legal_note": "Se § 7-9.", "effect": "switch",
            "switch_from": "goods.food.beef", "switch_to": "goods.food.legumes", "share": "40",
            "min_value_nok": "100000", "guidance": "DFØ, Kriterieveiviseren", "status": "active"}
    assert client.post("/kravbibliotek/MAT-01/endre/", {**form, "share": ""}).status_code == 400
    response = client.post("/kravbibliotek/MAT-01/endre/", form)
    assert response.status_code == 302
    item = selectors.requirement("MAT-01")
    assert (item.version, item.title, item.expected_effect["share"]) == (2, "Plantebasert først", 0.4)
    html = client.get("/kravbibliotek/MAT-01/").content.decode()
    assert "Plantebasert først" in html and "Plantebaserte måltider og mindre rødt kjøtt" in html  # both versions
    assert AuditEntry.objects.filter(action="change_requirement", actor=admin).exists()
    created = client.post("/kravbibliotek/ny/", {**form, "code": "MAT-07", "effect": "intensity_cut",
                                                 "percent": "5"})
    assert created.status_code == 302 and selectors.requirement("MAT-07").expected_effect == {
        "kind": "intensity_cut", "percent": 5.0}
