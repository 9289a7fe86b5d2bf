from django.urls import include, path

from klimainnkjop.api.v1 import api as api_v1

urlpatterns = [
    path("api/v1/", api_v1.urls),  # the JSON API (issue 16 item 8), its OpenAPI document at /api/v1/openapi.json
    path("", include("klimainnkjop.web.urls")),
]
