"""Display labels with English msgids (translated to bokmål in locale/nb)."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

EXCLUSION_LABELS = {
    "wages": _("Wages"),
    "transfer": _("Transfers (incl. VAT)"),
    "financial": _("Financial items"),
    "income": _("Income"),
    "internal": _("Internal purchases"),
    "asset_transfer": _("Land and existing buildings"),
    "unknown_art": _("Unknown art"),
}

OPERATING = _("Operating")
INVESTMENT = _("Investment")


def exclusion_label(reason: str) -> str:
    return str(EXCLUSION_LABELS.get(reason, reason))
