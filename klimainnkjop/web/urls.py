from django.contrib.auth import views as auth_views
from django.urls import path

from klimainnkjop.web import views

urlpatterns = [
    path("", views.region, name="region"),
    path("org/<str:orgnr>/", views.organisation, name="organisation"),
    path("logg-inn/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logg-ut/", auth_views.LogoutView.as_view(), name="logout"),
]
