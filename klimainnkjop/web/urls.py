from django.contrib.auth import views as auth_views
from django.urls import include, path

from klimainnkjop.web import views, views_factors
from klimainnkjop.web import views_review
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

# reports, publishing, the public page and open data (views_reports.py, views_public.py)
from klimainnkjop.web import views_public, views_reports  # noqa: E402

urlpatterns += [
    path("rapporter/", views_reports.reports, name="reports"),
    path("rapporter/<int:pk>/last-ned/", views_reports.download, name="report_download"),
    path("org/<str:orgnr>/publiser/", views_reports.publish, name="publish"),
    path("offentlig/", views_public.public_region, name="public_region"),
    path("offentlig/data.csv", views_public.region_csv, name="public_region_csv"),
    path("offentlig/data.json", views_public.region_json, name="public_region_json"),
    path("offentlig/<str:orgnr>/", views_public.public_organisation, name="public_organisation"),
    path("offentlig/<str:orgnr>/data.csv", views_public.organisation_csv, name="public_organisation_csv"),
    path("offentlig/<str:orgnr>/data.json", views_public.organisation_json, name="public_organisation_json"),
]

urlpatterns += [  # the review queue and the explanation of one line (views_review.py)
    path("org/<str:orgnr>/gjennomgang/", views_review.review, name="review"),
    path("org/<str:orgnr>/linje/<str:line_key>/", views_review.line, name="line"),
]
