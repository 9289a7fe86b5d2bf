"""A procurement case's documents as tagged PDF (WeasyPrint, PDF/UA-1, language nb): the tender annex "Klima- og
miljøkrav" (the chosen requirements, how each is verified, the award criteria's weights) and the case's record of
climate and environmental considerations (anskaffelsesforskriften § 7-9) with its decision log."""
from __future__ import annotations

from pathlib import Path

from django.template import Context, Engine

from klimainnkjop.selectors import cases as case_selectors
from klimainnkjop.storage.models import ProcurementCase, Requirement

KINDS = dict(Requirement.KINDS)
STATES = {"opened": "Åpnet", "screened": "Screenet", "ambition_decided": "Ambisjon besluttet",
          "requirements_set": "Krav satt", "announced": "Kunngjort", "awarded": "Tildelt", "closed": "Avsluttet",
          "cancelled": "Avlyst"}
RELEVANCE = {"high": "Høy", "medium": "Middels", "low": "Lav", "": "–"}
AMBITION = {"basic": "Grunnleggende", "advanced": "Avansert", "leading": "Ledende", "": "–"}
TEMPLATES = Path(__file__).resolve().parent / "templates"  # case_annex.html, case_record.html
_engine = Engine(dirs=[str(TEMPLATES)], autoescape=True)
DOCUMENTS = ("annex", "record")


def _number(value: float, decimals: int = 0) -> str:
    return f"{value:,.{decimals}f}".replace(",", "\u00a0").replace(".", ",")


def _requirements(case: ProcurementCase) -> list[dict]:
    found = {r.code: r for r in Requirement.objects.filter(code__in=[c["code"] for c in case.requirements])}
    out = []
    for chosen in case.requirements:
        item = found.get(chosen["code"])
        if item is None:
            continue
        out.append({"code": item.code, "kind": KINDS.get(item.kind, item.kind), "title": item.title,
                    "text": item.text, "verification": item.verification,
                    "weight": _number(chosen["weight_percent"], 0) if chosen.get("weight_percent") else ""})
    return out


def _context(case: ProcurementCase) -> dict:
    requirements = _requirements(case)
    weights = sum(c.get("weight_percent") or 0 for c in case.requirements)
    return {"case": case, "requirements": requirements, "weights": _number(weights) if weights else "",
            "value": _number(case.estimated_value_ore / 100), "state": STATES.get(case.state, case.state),
            "relevance": RELEVANCE.get(case.relevance, case.relevance),
            "ambition": AMBITION.get(case.ambition, case.ambition), "events": case_selectors.events(case),
            "has_requirements": case_selectors.has_climate_requirements(case)}


def html(case: ProcurementCase, document: str) -> str:
    if document not in DOCUMENTS:
        raise ValueError(f"document: one of {', '.join(DOCUMENTS)}")
    template = _engine.get_template("case_annex.html" if document == "annex" else "case_record.html")
    return template.render(Context(_context(case)))


def pdf(case: ProcurementCase, document: str) -> bytes:
    import weasyprint

    return weasyprint.HTML(string=html(case, document)).write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=False)
