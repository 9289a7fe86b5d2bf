from django.contrib.auth import views as auth_views
from django.urls import include, path

from klimainnkjop.web import views, views_factors
from klimainnkjop.web.forms import LoginForm

urlpatterns = [
    path("", views.region, name="region"),
    path("org/<str:orgnr>/", views.organisation, name="organisation"),
    path("faktorer/", views_factors.factor_library, name="factors"),
    path("faktorer/<int:pk>/", views_factors.factor_detail, name="factor"),
    path("metode/", views_factors.method, name="method"),
    path("sammenligning/", views_factors.comparison, name="comparison"),
    path("logg-inn/", auth_views.LoginView.as_view(template_name="web/login.html", authentication_form=LoginForm),
         name="login"),
    path("logg-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
]
