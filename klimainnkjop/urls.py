from django.urls import include, path

urlpatterns = [
    path("", include("klimainnkjop.web.urls")),
]
