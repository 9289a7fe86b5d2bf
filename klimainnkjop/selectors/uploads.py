"""Reads for the upload pages (issue 16): an organisation's uploads and the profiles an upload may name. Each takes
an access.Scope and the organisation number (outside the scope: OutsideScope); whether the person may upload is
decided by the caller with access.can_import."""
from __future__ import annotations

from django.shortcuts import get_object_or_404

from klimainnkjop.access import Scope
from klimainnkjop.storage.models import MappingProfile, SupplierStatsProfile, Upload

PENDING = (Upload.STATUS_QUEUED, Upload.STATUS_RUNNING)
STATUS_MAPPING = Upload.STATUS_MAPPING
RECENT = 20


def uploads(scope: Scope, orgnr: str, *, limit: int = RECENT) -> list[Upload]:
    """The organisation's latest uploads, newest first."""
    scope.check(orgnr)
    return list(Upload.objects.filter(organisation__orgnr=orgnr).select_related("created_by")[:limit])


def upload(scope: Scope, orgnr: str, pk: int) -> Upload:
    """One upload of the organisation; 404 if there is none."""
    scope.check(orgnr)
    return get_object_or_404(Upload.objects.select_related("organisation", "created_by"),
                             organisation__orgnr=orgnr, pk=pk)


def ledger_profiles(scope: Scope, orgnr: str) -> list[str]:
    scope.check(orgnr)
    return list(MappingProfile.objects.filter(organisation__orgnr=orgnr).order_by("name")
                .values_list("name", flat=True))


def stats_profiles(scope: Scope, orgnr: str) -> list[str]:
    scope.check(orgnr)
    return list(SupplierStatsProfile.objects.filter(organisation__orgnr=orgnr).order_by("name")
                .values_list("name", flat=True))
