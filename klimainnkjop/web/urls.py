from django.contrib.auth import views as auth_views
from django.urls import include, path

from klimainnkjop.web import views
from klimainnkjop.web.forms import LoginForm

urlpatterns = [
    path("", views.region, name="region"),
    path("org/<str:orgnr>/", views.organisation, name="organisation"),
    path("logg-inn/", auth_views.LoginView.as_view(template_name="web/login.html", authentication_form=LoginForm),
         name="login"),
    path("logg-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
]
