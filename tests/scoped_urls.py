"""The product's URLs and two test-only views that "forgot" their filter (tests/test_scopes.py): they list every
mapping profile with `MappingProfile.objects.all()`, one on the web and one under /api/."""
from django.http import JsonResponse
from django.urls import path

from klimainnkjop.urls import urlpatterns as product_urlpatterns


def forgotten_filter(request):
    from klimainnkjop.storage.models import MappingProfile

    return JsonResponse({"profiles": sorted(f"{p.organisation.orgnr}/{p.name}" for p in MappingProfile.objects.all())})


urlpatterns = [path("api/test-forgotten-filter/", forgotten_filter),
               path("test-forgotten-filter/", forgotten_filter)] + product_urlpatterns
