"""Who may make or see a report of which subject: decided once, in access.check_report_subject."""
import pytest

from klimainnkjop.access import OutsideScope, Scope, check_report_subject

REGION_WIDE = Scope(orgnrs=None, label="region-admin")
ONE_ORG = Scope(orgnrs=frozenset({"111111111"}), label="reader")
UNIT_LEADER = Scope(orgnrs=frozenset({"111111111"}), units={"111111111": frozenset({"10", "11"})}, label="leader")


def test_a_region_report_is_for_region_wide_scopes_only():
    check_report_subject(REGION_WIDE, scope_kind="region", orgnr=None, unit_code=None)
    with pytest.raises(PermissionError, match="region administrators"):
        check_report_subject(ONE_ORG, scope_kind="region", orgnr=None, unit_code=None)


def test_an_organisation_report_needs_the_organisation_in_scope():
    check_report_subject(ONE_ORG, scope_kind="org", orgnr="111111111", unit_code=None)
    with pytest.raises(OutsideScope):
        check_report_subject(ONE_ORG, scope_kind="org", orgnr="222222222", unit_code=None)


def test_a_unit_leader_gets_reports_of_their_own_units_and_no_organisation_report():
    check_report_subject(UNIT_LEADER, scope_kind="unit", orgnr="111111111", unit_code="11")
    with pytest.raises(PermissionError, match="outside what leader may see"):
        check_report_subject(UNIT_LEADER, scope_kind="unit", orgnr="111111111", unit_code="20")
    with pytest.raises(PermissionError, match="covers every unit"):
        check_report_subject(UNIT_LEADER, scope_kind="org", orgnr="111111111", unit_code=None)
