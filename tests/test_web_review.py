"""The review queue and the line explanation: who may change, what a change does, what a line page says."""
import re

import pytest
from django.contrib.auth import get_user_model

from klimainnkjop.access import system_scope
from klimainnkjop.selectors.lines import lines
from klimainnkjop.services import training
from klimainnkjop.services.compute import do_compute
from klimainnkjop.storage.models import ClassificationRule, Membership
from tests.factories import import_ledger, ledger_csv


@pytest.fixture
def account(org, other_org, reference):
    import_ledger(org, ledger_csv("01.03.2024;120000;2020;2100;999999999;Zorblax AS;9 000,00;Zorblax kvartalspakke mars",
                                  "01.06.2024;120000;2020;2100;999999999;Zorblax AS;9 000,00;Zorblax kvartalspakke juni",
                                  "01.06.2024;120000;2020;2100;888888888;Annen AS;500,00;Diverse småting"))
    do_compute(actor="test")
    users = get_user_model().objects

    def person(name, organisation, role):
        user = users.create_user(username=name, password="a-long-test-password")
        Membership.objects.create(user=user, organisation=organisation, role=role)
        return user

    return {"purchaser_own": person("kongsvinger-purchaser", org, "purchaser"),
            "reader_own": person("kongsvinger-reader", org, "reader"),
            "reader_other": person("grue-reader", other_org, "reader"),
            "org": org, "keys": {r["description"]: r["line_key"] for r in lines(system_scope(), org=org.orgnr)}}


def zorblax_keys(account):
    return [k for text, k in account["keys"].items() if text.startswith("Zorblax")]


def test_a_purchaser_sees_the_queue_with_text_supplier_rule_and_confidence(client, account):
    client.force_login(account["purchaser_own"])
    page = client.get(f"/org/{account['org'].orgnr}/gjennomgang/").content.decode()
    assert "Zorblax kvartalspakke mars" in page and "Zorblax AS" in page
    assert "KOSTRA-art 120" in page or "KOSTRA art 120" in page
    assert page.count('type="checkbox" name="lines"') == 3 and 'name="csrfmiddlewaretoken"' in page
    assert "<script" not in page and "style=" not in page


def test_a_correction_through_the_review_page_teaches_the_model_after_retrain(client, account):
    org = account["org"]
    first = training.do_train_text_model(actor="test")
    similar = ["Zorblax kvartalspakke september"]
    assert training.predict_texts(similar, first)[0] != ["goods.textiles"]
    client.force_login(account["purchaser_own"])
    response = client.post(f"/org/{org.orgnr}/gjennomgang/",
                           {"lines": zorblax_keys(account), "category": "goods.textiles", "make_rule": ""})
    assert response.status_code == 302
    assert set(ClassificationRule.objects.filter(kind="line", active=True).values_list("value", flat=True)) == set(
        zorblax_keys(account))
    assert {e.text for e in training.correction_examples()} == {"Zorblax kvartalspakke mars",
                                                                "Zorblax kvartalspakke juni"}
    second = training.do_train_text_model(actor="test")
    assert training.predict_texts(similar, second)[0] == ["goods.textiles"]
    do_compute(actor="test")
    moved = {r["description"]: r for r in lines(system_scope(), org=org.orgnr)}
    assert moved["Zorblax kvartalspakke juni"]["category"] == "goods.textiles"
    assert moved["Zorblax kvartalspakke juni"]["classification_rule"].startswith("manual#")


def test_make_a_rule_of_it_adds_a_supplier_or_keyword_rule_of_the_organisation(client, account):
    org = account["org"]
    client.force_login(account["purchaser_own"])
    url = f"/org/{org.orgnr}/gjennomgang/"
    assert client.post(url, {"lines": zorblax_keys(account), "category": "goods.textiles",
                             "make_rule": "supplier"}).status_code == 302
    rule = ClassificationRule.objects.get(kind="supplier")
    assert (rule.value, rule.organisation, rule.category.code) == ("999999999", org, "goods.textiles")
    assert client.post(url, {"lines": [account["keys"]["Diverse småting"]], "category": "goods.office",
                             "make_rule": "keyword", "keyword": "Småting"}).status_code == 302
    assert ClassificationRule.objects.get(kind="keyword").value == "småting"
    mixed = client.post(url, {"lines": list(account["keys"].values()), "category": "goods.office",
                              "make_rule": "supplier"})
    assert mixed.status_code == 400
    assert "samme leverandør" in mixed.content.decode() or "one and the same supplier" in mixed.content.decode()


def test_a_reader_sees_the_queue_but_may_not_change_it_and_another_organisations_reader_sees_nothing(client,
                                                                                                     account):
    org = account["org"]
    key = zorblax_keys(account)[0]
    client.force_login(account["reader_own"])
    page = client.get(f"/org/{org.orgnr}/gjennomgang/")
    assert page.status_code == 200 and 'name="lines"' not in page.content.decode()
    assert client.post(f"/org/{org.orgnr}/gjennomgang/", {"lines": [key], "category": "goods.office"}
                       ).status_code == 403
    assert not ClassificationRule.objects.filter(kind="line").exists()
    assert client.get(f"/org/{org.orgnr}/linje/{key}/").status_code == 200
    client.force_login(account["reader_other"])
    assert client.get(f"/org/{org.orgnr}/gjennomgang/").status_code == 404
    assert client.get(f"/org/{org.orgnr}/linje/{key}/").status_code == 404
    assert client.post(f"/org/{org.orgnr}/gjennomgang/", {"lines": [key], "category": "goods.office"}
                       ).status_code == 404


def test_the_line_page_explains_category_rule_confidence_method_and_links_the_factor(client, account):
    org = account["org"]
    key = zorblax_keys(account)[0]
    row = next(r for r in lines(system_scope(), org=org.orgnr) if r["line_key"] == key)
    client.force_login(account["reader_own"])
    page = client.get(f"/org/{org.orgnr}/linje/{key}/").content.decode()
    assert "Zorblax kvartalspakke" in page and "goods.consumables" in page
    assert "120" in page and "50" in page  # the KOSTRA art decided, with confidence 50 %
    pk = int(row["factor_ref"].rsplit("#", 1)[1])
    assert re.search(rf'href="/faktorer/{pk}/"', page)
    assert client.get(f"/faktorer/{pk}/").status_code == 200
    assert client.get(f"/org/{org.orgnr}/linje/not-a-line/").status_code == 404
