from __future__ import annotations

from klimainnkjop.access import Scope
from klimainnkjop.storage.models import ImportBatch, Organisation


def organisations(scope: Scope):
    return scope.organisations().order_by("name")


def organisation(scope: Scope, orgnr: str) -> Organisation:
    scope.check(orgnr)
    return Organisation.objects.get(orgnr=orgnr)


def import_batches(scope: Scope, orgnr: str):
    scope.check(orgnr)
    return ImportBatch.objects.filter(organisation__orgnr=orgnr).order_by("-created_at")
