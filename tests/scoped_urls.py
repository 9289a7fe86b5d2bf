"""The product's URLs and two test-only views that "forgot" their filter (tests/test_scopes.py): they list every
API token with `ApiToken.objects.all()`, one on the web and one under /api/."""
from django.http import JsonResponse
from django.urls import path

from klimainnkjop.urls import urlpatterns as product_urlpatterns


def forgotten_filter(request):
    from klimainnkjop.storage.models import ApiToken

    return JsonResponse({"tokens": sorted(f"{t.organisation.orgnr}/{t.name}" for t in ApiToken.objects.all())})


urlpatterns = [path("api/test-forgotten-filter/", forgotten_filter),
               path("test-forgotten-filter/", forgotten_filter)] + product_urlpatterns
