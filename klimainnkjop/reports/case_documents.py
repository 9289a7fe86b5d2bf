"""A procurement case's documents (issue 12): the tender annex "Klima- og miljøkrav" (the chosen requirements, how
each is verified, the award criteria's weights) and the case's record of climate and environmental considerations
(anskaffelsesforskriften § 7-9) with its decision log.

Each is built as one list of blocks (reports/documents.py), laid out by the same writers as the baseline report:
DOCX with python-docx (reports/documents_docx.py, editable in Word and LibreOffice) and tagged PDF (WeasyPrint,
reports/documents_pdf.py), so the two formats cannot disagree. The texts go through gettext (English source strings,
bokmål in django.po); `language` picks the language of the document (default the active one).
"""
from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _, gettext_lazy, pgettext

from klimainnkjop.reports.documents import Bullets, Document, Heading, Para, TableBlock
from klimainnkjop.selectors import cases as case_selectors
from klimainnkjop.storage.models import ProcurementCase, Requirement

DOCUMENTS = ("annex", "record")
FORMATS = ("docx", "pdf")
CONTENT_TYPES = {"pdf": "application/pdf",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
FILE_NAMES = {"annex": "klima-og-miljokrav", "record": "protokoll"}
KINDS = {"qualification": gettext_lazy("Qualification requirement"),
         "specification": gettext_lazy("Technical specification"),
         "award": gettext_lazy("Award criterion"), "clause": gettext_lazy("Contract clause")}
STATES = {"opened": gettext_lazy("Opened"), "screened": gettext_lazy("Screened"),
          "ambition_decided": gettext_lazy("Ambition decided"), "requirements_set": gettext_lazy("Requirements set"),
          "announced": gettext_lazy("Announced"), "awarded": gettext_lazy("Awarded"),
          "closed": gettext_lazy("Closed"), "cancelled": gettext_lazy("Cancelled")}
STEPS = {"open": gettext_lazy("Opened"), "screen": gettext_lazy("Screened"),
         "propose_ambition": gettext_lazy("Ambition proposed"), "decide_ambition": gettext_lazy("Ambition decided"),
         "set_requirements": gettext_lazy("Requirements set"),
         "record_considerations": gettext_lazy("Considerations recorded"), "announce": gettext_lazy("Announced"),
         "award": gettext_lazy("Awarded"), "close": gettext_lazy("Closed"), "cancel": gettext_lazy("Cancelled")}
RELEVANCE = {"high": gettext_lazy("High"), "medium": gettext_lazy("Medium"), "low": gettext_lazy("Low")}
AMBITION = {"basic": gettext_lazy("Basic"), "advanced": gettext_lazy("Advanced"),
            "leading": gettext_lazy("Leading")}


def _number(value: float, decimals: int = 0) -> str:
    return f"{value:,.{decimals}f}".replace(",", "\u00a0").replace(".", ",")


def _percent(value) -> str:
    return f"{_number(float(value), 0 if float(value) == int(value) else 1)}\u00a0%"


def _label(labels: dict, key: str) -> str:
    return str(labels[key]) if key in labels else (key or "–")


def requirements(case: ProcurementCase) -> list[dict]:
    """The case's chosen requirements in the order chosen, with the library's text and verification."""
    found = {r.code: r for r in Requirement.objects.filter(code__in=[c["code"] for c in case.requirements])}
    out = []
    for chosen in case.requirements:
        item = found.get(chosen["code"])
        if item is None:
            continue
        weight = chosen.get("weight_percent")
        out.append({"code": item.code, "kind": _label(KINDS, item.kind), "title": item.title, "text": item.text,
                    "verification": item.verification, "legal_note": item.legal_note,
                    "weight": _percent(weight) if weight else ""})
    return out


def _annex(case: ProcurementCase) -> Document:
    chosen = requirements(case)
    weights = sum(c.get("weight_percent") or 0 for c in case.requirements)
    doc = Document("case_annex", _("Annex: Climate and environmental requirements"),
                   _("Procurement: %(title)s (%(org)s, case %(pk)s).") % {
                       "title": case.title, "org": case.organisation.name, "pk": case.pk},
                   subject=case.organisation.name, orgnr=case.organisation.orgnr)
    doc.figures = {"requirements": [c["code"] for c in chosen], "award_weight_percent": weights}
    if not chosen:
        doc.add(Para(_("The case has no requirements from the requirement library.")))
        return doc
    doc.add(TableBlock(_("The requirements of the procurement"),
                       [_("Code"), _("Requirement"), _("Kind"), _("Weight")],
                       [[c["code"], c["title"], c["kind"], c["weight"] or "–"] for c in chosen],
                       [False, False, False, True]))
    if weights:
        doc.add(Para(_("The award criteria for climate and environment weigh %(weight)s in all.")
                     % {"weight": _percent(weights)}, "lead"))
    for c in chosen:
        doc.add(Heading(2, f"{c['code']} {c['title']}"),
                Para(f"{_('Kind')}: {c['kind']}" + (f". {_('Weight')}: {c['weight']}" if c["weight"] else "")),
                Heading(3, _("Requirement")), Para(c["text"]),
                Heading(3, _("Documentation and verification")), Para(c["verification"] or "–"))
        if c["legal_note"]:
            doc.add(Para(c["legal_note"], "note"))
    return doc


def _record(case: ProcurementCase) -> Document:
    chosen = requirements(case)
    considered = case.considerations or {}
    doc = Document("case_record", _("Record of climate and environmental considerations"),
                   f"{case.title} ({case.organisation.name}, {_('case')} {case.pk})",
                   subject=case.organisation.name, orgnr=case.organisation.orgnr)
    rule = (case.screening or {}).get("rule", "")
    facts = [
        [_("Procurement"), f"{case.title} ({_('case')} {case.pk})"],
        [_("Contracting authority"), f"{case.organisation.name} ({case.organisation.orgnr})"],
        [_("Category"), f"{case.category.name_nb} ({case.category.code})"],
        [_("Estimated value"), f"{_number(case.estimated_value_ore / 100)} kr"],
        [_("Procedure"), case.procedure or "–"],
        [_("State"), _label(STATES, case.state)],
        [_("Climate relevance"), _label(RELEVANCE, case.relevance) + (f" ({rule})" if rule else "")],
        [_("Ambition level"), _label(AMBITION, case.ambition)],
    ]
    doc.add(TableBlock(_("The procurement"), [_("Item"), _("Value")], facts, [False, False]))
    doc.add(Heading(1, _("How climate and environment were taken into account")))
    if considered.get("option"):
        weight = considered.get("weight_percent")
        doc.add(Para(considered.get("label", considered["option"])
                     + (f": {_percent(weight)} {_('weight')}" if weight else "") + "."))
        if considered.get("description"):
            doc.add(Para(considered["description"]))
        if considered.get("reason"):
            doc.add(Para(f"{pgettext('case record', 'Reason')}: {considered['reason']}"))
        doc.add(Para(_("Regulation: %(regulation)s (rule set %(version)s).") % {
            "regulation": considered.get("regulation", ""), "version": considered.get("rule_version", "")}, "note"))
    else:
        doc.add(Para(_("Not recorded yet.")))
    doc.add(Para(_("Climate or environmental requirements in the procurement: %(answer)s.") % {
        "answer": _("yes") if case_selectors.has_climate_requirements(case) else _("no")}))
    if chosen:
        doc.add(Heading(1, _("Requirements from the requirement library")),
                Bullets([f"{c['code']} {c['title']} ({c['kind']}" + (f", {c['weight']}" if c["weight"] else "") + ")"
                         for c in chosen]))
    award = case.award or {}
    if award.get("supplier_orgnr"):
        weight = award.get("climate_weight_percent")
        doc.add(Heading(1, pgettext("case record", "Award")),
                Para(_("Supplier %(supplier)s; requirements in the contract: %(codes)s") % {
                    "supplier": award["supplier_orgnr"], "codes": ", ".join(award.get("requirements") or [])
                    or _("none")} + (f"; {_('climate weight')} {_percent(weight)}" if weight else "") + "."))
    events = case_selectors.events(case)
    doc.add(Heading(1, _("Decision log")),
            TableBlock(_("Who did what, when and why"), [_("When"), _("Step"), _("Who"), _("Why")],
                       [[f"{e.created_at:%d.%m.%Y %H:%M}", _label(STEPS, e.step), e.actor_label, e.reason or "–"]
                        for e in events], [False, False, False, False]))
    return doc


def document(case: ProcurementCase, which: str, *, language: str | None = None) -> Document:
    """The annex or the record of a case, as blocks, in `language` (nb or en; default the active language)."""
    if which not in DOCUMENTS:
        raise ValueError(f"document: one of {', '.join(DOCUMENTS)}")
    language = language or translation.get_language() or "nb"
    with translation.override(language):
        doc = _annex(case) if which == "annex" else _record(case)
    doc.language = language
    return doc


def render(case: ProcurementCase, which: str, fmt: str, *, language: str | None = None) -> bytes:
    """The annex or the record as DOCX or PDF bytes."""
    doc = document(case, which, language=language)
    if fmt == "docx":
        from klimainnkjop.reports import documents_docx
        return documents_docx.write(doc)
    if fmt == "pdf":
        from klimainnkjop.reports import documents_pdf
        return documents_pdf.write(doc)
    raise ValueError(f"--format: one of {', '.join(FORMATS)}")


def pdf(case: ProcurementCase, which: str, *, language: str | None = None) -> bytes:
    return render(case, which, "pdf", language=language)


def docx(case: ProcurementCase, which: str, *, language: str | None = None) -> bytes:
    return render(case, which, "docx", language=language)
