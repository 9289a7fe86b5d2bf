"""Labels of the codes a person sees (web/labels.py, issue 18 item 1): every audit action the code writes has one,
the audit log's before/after reads as a list, plurals and the imports' names in bokmål."""
from __future__ import annotations

import pytest
from django.utils import translation

from klimainnkjop.web import labels


def test_every_audit_action_the_code_writes_has_a_label_in_bokmal():
    """Every action of core/audit_actions.Action (the one list record_audit accepts) has a bokmål label."""
    from klimainnkjop.core.audit_actions import KNOWN

    assert {"sign_in", "compute", "publish_figures", "override_line_categories", "open_case"} <= KNOWN
    with translation.override("nb"):
        unlabelled = sorted(a for a in KNOWN if labels.audit_action_label(a) == a)
        assert not unlabelled
        assert labels.audit_action_label("override_line_categories") == "Kategori for linjer rettet"
        assert labels.audit_action_label("import_ledger") == "Importert: Regnskapsuttrekk"
        assert labels.audit_action_label("propose_case_ambition") == "Ambisjonsnivå foreslått"


def test_before_and_after_read_as_fields_with_labels_dates_years_yes_no_and_category_names():
    before = {"status": "proposed", "baseline_year": 2024, "effective_date": None, "to_category": "energy.fuel"}
    after = {"status": "adopted", "baseline_year": 2024, "effective_date": "2025-01-01", "proposed": True,
             "to_category": "energy.fuel.hvo", "cost_yearly_ore": -1_000_000}
    names = {"energy.fuel.hvo": "HVO", "energy.fuel": "Drivstoff"}
    with translation.override("nb"):
        rows = {r["field"]: r for r in labels.changes(before, after, names)}
    assert rows["Status"] == {"field": "Status", "before": "Foreslått", "after": "Vedtatt", "changed": True}
    assert rows["Basisår"]["after"] == "2024" and not rows["Basisår"]["changed"]
    assert rows["Virkningsdato"]["before"] == "–" and rows["Virkningsdato"]["after"] == "01.01.2025"
    assert rows["Foreslått"]["before"] == "" and rows["Foreslått"]["after"] == "ja"
    assert rows["Byttet til kategori"]["before"] == "Drivstoff" and rows["Byttet til kategori"]["after"] == "HVO"
    assert rows["Årlig kostnad, øre"]["after"] == "-1\u00a0000\u00a0000"
    with translation.override("en"):
        assert {r["field"] for r in labels.changes({"status": "done"}, None)} == {"Status"}
        assert labels.changes({"status": "done"}, None)[0]["before"] == "Done"


def test_an_import_of_several_invoices_is_named_with_the_right_plural():
    with translation.override("nb"):
        assert labels.batch_name("34 documents: D2026010001.xml …") == "34 dokumenter: D2026010001.xml …"
        assert labels.batch_name("1 documents: D1.xml") == "1 dokument: D1.xml"
        assert labels.batch_name("kongsvinger-2026.csv") == "kongsvinger-2026.csv"
        assert labels.source_label("ledger") == "Regnskapsuttrekk"
        assert labels.exclusion_label("invoice_detail") == "Erstattet av faktura- eller leverandørrapportlinjer"


@pytest.mark.parametrize("count,expected", [(1, "1 linje flyttet til Papir."), (2, "2 linjer flyttet til Papir.")])
def test_moved_lines_are_counted_in_the_singular_and_the_plural(count, expected):
    from django.utils.translation import ngettext

    with translation.override("nb"):
        text = ngettext("%(count)s line moved to %(category)s. The change counts from the next computation and "
                        "teaches the text model at its next training.",
                        "%(count)s lines moved to %(category)s. The change counts from the next computation and "
                        "teaches the text model at its next training.", count) % {"count": count,
                                                                                     "category": "Papir"}
    assert text.startswith(expected)


def test_the_shipped_factor_sets_descriptions_are_in_bokmal_and_another_description_is_left_as_written():
    shipped = labels.FACTOR_SET_DESCRIPTIONS[0]
    with translation.override("nb"):
        assert labels.factor_set_description(shipped).startswith("Aktivitetsfaktorer")
        assert labels.factor_set_description("Egne faktorer") == "Egne faktorer"
    with translation.override("en"):
        assert labels.factor_set_description(shipped) == shipped


def test_the_screening_rule_is_a_sentence_with_norwegian_numbers():
    screening = {"intensity_kg_per_nok": 0.08595, "expected_tonnes": 3523.79, "high_tonnes": 20, "medium_tonnes": 2}
    with translation.override("nb"):
        text = labels.screening_rule(screening)
    value = 3523.79 * 1000 / 0.08595  # the value the service multiplied
    assert text.startswith(f"Forventede tonn = verdi {round(value):,} kr".replace(",", "\u00a0"))
    assert "0,08595 kg per krone" in text and "= 3\u00a0523,79 t; høy fra 20 t, middels fra 2 t." in text


@pytest.mark.django_db
def test_the_fields_of_an_imports_and_a_compute_runs_audit_records_have_labels_in_bokmal(reference, org):
    """The audit log showed an import's record with English field names (Lines added, Sha256, Errors, ...)."""
    from klimainnkjop.services.compute import do_compute
    from klimainnkjop.storage.models import AuditEntry
    from tests.factories import import_ledger, ledger_csv

    import_ledger(org, ledger_csv("01.03.2024;115000;2020;2100;999999999;Mat AS;-1 234,50;Matvarer"))
    do_compute(actor="test")
    keys = {k for e in AuditEntry.objects.all() for side in (e.before, e.after) if isinstance(side, dict)
            for k in side}
    assert {"lines_added", "rows_read", "batches"} & keys
    with translation.override("nb"):
        unlabelled = sorted(k for k in keys if k not in labels.FIELD_LABELS)
    assert not unlabelled
    with translation.override("nb"):
        assert (labels.field_label("lines_added"), labels.field_label("sha256")) == ("Linjer lagt til",
                                                                                  "SHA-256-sjekksum")


def test_an_overlap_names_an_import_of_several_invoices_in_words():
    from django.template.loader import render_to_string

    overlap = {"year": 2025, "other_file": "12 documents: D2025030001.xml …", "other_batch": 7,
               "rule": "ledger_meets_invoices"}
    with translation.override("nb"):
        text = render_to_string("web/_overlap.html", {"o": overlap})
    assert "2025: 12 dokumenter: D2025030001.xml … (import 7)" in text and "documents" not in text
