"""The product's URLs and test-only views that "forgot" their filter (tests/test_scopes.py): they list every API
token with `ApiToken.objects.all()`, one on the web, one under /api/ and one streamed after the view returned."""
from django.http import JsonResponse, StreamingHttpResponse
from django.urls import path

from klimainnkjop.urls import urlpatterns as product_urlpatterns


def forgotten_filter(request):
    from klimainnkjop.storage.models import ApiToken

    return JsonResponse({"tokens": sorted(f"{t.organisation.orgnr}/{t.name}" for t in ApiToken.objects.all())})


def streamed_forgotten_filter(request):
    """Streams the token names after the view has returned, as the lines' CSV export does (access.streamed)."""
    from klimainnkjop.access import streamed
    from klimainnkjop.storage.models import ApiToken

    def rows():
        yield "tokens:\n"
        for token in ApiToken.objects.order_by("name"):  # evaluated only when the server iterates the response
            yield f"{token.organisation.orgnr}/{token.name}\n"

    return StreamingHttpResponse(streamed(rows()), content_type="text/plain")


urlpatterns = [path("api/test-forgotten-filter/", forgotten_filter),
               path("test-forgotten-filter/", forgotten_filter),
               path("test-streamed-forgotten-filter/", streamed_forgotten_filter)] + product_urlpatterns
