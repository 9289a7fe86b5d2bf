"""Small builders for tests: a profile and a ledger file through the real services."""
from __future__ import annotations

from klimainnkjop.services.imports import do_import_ledger
from klimainnkjop.services.profiles import do_save_profile

VISMA = {
    "name": "visma",
    "columns": {
        "posting_date": "Dato", "account": "Konto", "function": "Funksjon", "unit": "Ansvar",
        "supplier_orgnr": "Orgnr", "supplier_name": "Leverandør", "amount": "Beløp", "description": "Tekst",
    },
}
HEADER = "Dato;Konto;Funksjon;Ansvar;Orgnr;Leverandør;Beløp;Tekst\n"


def ledger_csv(*rows: str, header: str = HEADER) -> str:
    return header + "".join(r + "\n" for r in rows)


def import_ledger(org, text: str, *, name: str = "ledger.csv", encoding: str = "utf-8", profile: dict | None = None):
    spec = profile or VISMA
    do_save_profile(organisation=org, spec=spec, actor="test")
    return do_import_ledger(organisation=org, data=text.encode(encoding), file_name=name,
                            profile_name=spec["name"], actor="test")
