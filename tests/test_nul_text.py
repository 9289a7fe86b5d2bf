"""A NUL character in a file's text: PostgreSQL's text refuses it, so the names an import keeps in the database
(suppliers, units) are kept without it (the ledger import failed there with a raw database error)."""
from klimainnkjop.storage.models import Supplier, Unit
from tests.factories import WEB_HEADER, WEB_PROFILE, import_ledger


def test_a_nul_in_a_supplier_or_unit_name_is_left_out_of_the_name_kept(org):
    text = WEB_HEADER + "15.03.2024;10000;11\x0000;982463718;Kontor\x00giganten AS;100,00;Pa\x00pir;1;1;1\n"
    result = import_ledger(org, text, "nul.csv", profile=WEB_PROFILE)
    assert result.lines_added == 1
    assert Supplier.objects.get(orgnr="982463718").name == "Kontorgiganten AS"
    assert Unit.objects.filter(organisation=org, code="1100").exists()


def test_a_nul_in_an_agreements_name_is_left_out(reference, org, other_org):
    from klimainnkjop.services.agreements import do_import_agreements
    from klimainnkjop.storage.models import Agreement
    from tests.test_agreements import KONGSVINGER, OFFICE, agreement_list

    data = agreement_list(("2023-101", "Kontor\x00rekvisita", OFFICE, "goods.office", KONGSVINGER, KONGSVINGER,
                           "01.03.2024", "31.08.2025", "0", "0", "150 000"))
    do_import_agreements(data=data.encode(), file_name="avtaler.csv", actor="test")
    assert Agreement.objects.get(number="2023-101").name == "Kontorrekvisita"


def test_a_nul_in_a_measures_name_is_left_out(reference):
    from klimainnkjop.services.measures import do_import_measures
    from klimainnkjop.storage.models import Measure

    data = ("name;kind;mechanism;percent;categories;baseline_year\n"
            "Gjen\x00bruk av møbler;1;quantity;15;goods.office;2024\n").encode()
    do_import_measures(data=data, file_name="tiltak.csv", actor="test")
    assert Measure.objects.get().name == "Gjenbruk av møbler"
