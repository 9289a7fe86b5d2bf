"""Organisation numbers: one rule (core/kostra.OrgNumber on python-stdnum), the check digit where we create."""
import pytest
from django.utils import translation

from klimainnkjop.core import values
from klimainnkjop.core.kostra import OrgNumber
from klimainnkjop.services.organisations import InvalidInput, do_create_organisation
from klimainnkjop.storage.models import Organisation
from klimainnkjop.web.forms import OrganisationForm


def test_a_number_with_spaces_or_letters_or_eight_digits_is_not_well_formed():
    assert OrgNumber.is_well_formed("974760673")
    for text in ("974 760 673", "97476067", "9747606730", "NO974760673", ""):
        assert not OrgNumber.is_well_formed(text) and not OrgNumber.is_valid(text)


def test_the_check_digit_is_the_one_brreg_publishes_and_one_digit_off_is_invalid():
    assert OrgNumber.is_valid("944117784")  # Kongsvinger kommune
    assert [d for d in "0123456789" if OrgNumber.is_valid("94411778" + d)] == ["4"]


@pytest.mark.django_db
def test_an_organisation_with_a_wrong_check_digit_is_refused_and_not_created():
    with pytest.raises(InvalidInput, match="orgnr: '944117785' .*check digit"):
        do_create_organisation(orgnr="944117785", name="Kongsvinger kommune", actor="test")
    with pytest.raises(InvalidInput, match="is not a 9-digit organisation number"):
        do_create_organisation(orgnr="94411778", name="Kongsvinger kommune", actor="test")
    assert not Organisation.objects.exists()
    assert do_create_organisation(orgnr="944 117 784", name="Kongsvinger kommune", actor="test").orgnr == "944117784"


@pytest.mark.django_db
def test_the_organisation_form_says_in_norwegian_that_the_check_digit_is_wrong():
    with translation.override("nb"):
        form = OrganisationForm(data={"orgnr": "944117785", "name": "Kongsvinger kommune", "kind": "kommune"})
        assert not form.is_valid()
        assert form.errors["orgnr"] == ["Skriv inn et gyldig organisasjonsnummer: ni siffer, det siste et kontrollsiffer."]
        assert OrganisationForm(data={"orgnr": "944117784", "name": "Kongsvinger kommune", "kind": "kommune"}).is_valid()


def test_numbers_read_from_other_systems_files_need_only_nine_digits():
    # Skatteetaten's SAF-T example and Brønnøysund's test data use numbers without a valid check digit
    assert values.parse_orgnr("NO 974 760 674 MVA") == "974760674"
    with pytest.raises(ValueError, match="not a 9-digit organisation number: '12345'"):
        values.parse_orgnr("12345")
