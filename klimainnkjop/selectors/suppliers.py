"""Reads of the supplier register (shared reference data from Enhetsregisteret: no organisation scope)."""
from __future__ import annotations

from klimainnkjop.storage.models import Supplier


def suppliers(*, missing_nace: bool = False):
    """Suppliers by orgnr; `missing_nace`: only those without a NACE code."""
    query = Supplier.objects.order_by("orgnr")
    return query.filter(nace="") if missing_nace else query
