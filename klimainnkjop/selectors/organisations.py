from __future__ import annotations

from klimainnkjop.access import OutsideScope, Scope, in_scope
from klimainnkjop.storage.models import ImportBatch, Organisation


KIND_KOMMUNE, KIND_IKS = Organisation.KIND_KOMMUNE, Organisation.KIND_IKS  # the kinds, for the faces' forms
NotFound = Organisation.DoesNotExist  # raised by organisation() for an orgnr that names none


@in_scope
def organisations(scope: Scope):
    return scope.organisations().order_by("name")


@in_scope
def organisation(scope: Scope, orgnr: str) -> Organisation:
    scope.check(orgnr)
    return Organisation.objects.get(orgnr=orgnr)


def orgnr_taken(orgnr: str) -> bool:
    """Whether an organisation has this number, whoever may see it: for adding an organisation (a region
    administrator's form), where a number must be new in the whole database."""
    return Organisation.objects.filter(orgnr=orgnr).exists()


@in_scope
def import_batches(scope: Scope, orgnr: str):
    """The organisation's imports (files of the whole organisation: not for a scope of some of its units)."""
    scope.check(orgnr)
    if scope.unit_filter(orgnr) is not None:
        raise OutsideScope(f"the imports of {orgnr} are the whole organisation's")
    return ImportBatch.objects.filter(organisation__orgnr=orgnr).order_by("-created_at")
