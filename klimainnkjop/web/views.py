from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse

from klimainnkjop.access import OutsideScope, scope_for
from klimainnkjop.selectors import organisations as org_selectors


@login_required
def region(request):
    return HttpResponse("region")


@login_required
def organisation(request, orgnr):
    try:
        org_selectors.organisation(scope_for(request.user), orgnr)
    except (OutsideScope, Exception):
        raise Http404
    return HttpResponse("org")
