from django.contrib.auth import views as auth_views
from django.urls import include, path

from django.conf import settings

from klimainnkjop.web import views, views_account, views_admin, views_factors, views_lines
from klimainnkjop.web import views_review

urlpatterns = [
    path("", views.region, name="region"),
    path("org/<str:orgnr>/", views.organisation, name="organisation"),
    path("org/<str:orgnr>/enhet/<str:unit>/", views.unit, name="unit"),  # a unit and its sub-units
    path("org/<str:orgnr>/linjer/", views_lines.lines, name="lines"),  # drill-down (views_lines.py)
    path("faktorer/", views_factors.factor_library, name="factors"),
    path("faktorer/<int:pk>/", views_factors.factor_detail, name="factor"),
    path("metode/", views_factors.method, name="method"),
    path("sammenligning/", views_factors.comparison, name="comparison"),
    path("logg-inn/", views_account.SignInView.as_view(), name="login"),  # LoginForm + lockout message, then TOTP
    path("logg-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    # administration, the audit log (views_admin.py)
    path("organisasjoner/", views_admin.organisations, name="admin_organisations"),
    path("organisasjoner/ny/", views_admin.organisation_new, name="admin_organisation_new"),
    path("org/<str:orgnr>/endre/", views_admin.organisation_edit, name="admin_organisation_edit"),
    path("org/<str:orgnr>/enheter/", views_admin.units, name="admin_units"),
    path("org/<str:orgnr>/enheter/<int:pk>/endre/", views_admin.unit_edit, name="admin_unit_edit"),
    path("org/<str:orgnr>/personer/", views_admin.people, name="admin_people"),
    path("org/<str:orgnr>/personer/<int:pk>/fjern/", views_admin.membership_remove, name="admin_membership_remove"),
    path("org/<str:orgnr>/invitasjoner/", views_admin.invitations, name="admin_invitations"),
    path("org/<str:orgnr>/invitasjoner/<int:pk>/trekk-tilbake/", views_admin.invitation_revoke,
         name="admin_invitation_revoke"),
    path("org/<str:orgnr>/importer/", views_admin.imports, name="admin_imports"),
    path("org/<str:orgnr>/importer/<int:pk>/", views_admin.import_detail, name="admin_import"),
    path("org/<str:orgnr>/importer/<int:pk>/slett/", views_admin.import_delete, name="admin_import_delete"),
    path("revisjonslogg/", views_admin.audit_region, name="audit"),
    path("org/<str:orgnr>/revisjonslogg/", views_admin.audit_organisation, name="org_audit"),
    # sign-in second factor, own account, invitation links (views_account.py)
    path("logg-inn/totp/", views_account.login_totp, name="login_totp"),
    path("meg/", views_account.account, name="account"),
    path("meg/totp/ny/", views_account.totp_start, name="account_totp_start"),
    path("meg/totp/bekreft/", views_account.totp_confirm, name="account_totp_confirm"),
    path("meg/totp/fjern/", views_account.totp_disable, name="account_totp_disable"),
    path("invitasjon/<str:token>/", views_account.invitation, name="invitation"),
]

# reports, publishing, the public page and open data (views_reports.py, views_public.py)
from klimainnkjop.web import views_public, views_reports  # noqa: E402

urlpatterns += [
    path("rapporter/", views_reports.reports, name="reports"),
    path("rapporter/<int:pk>/last-ned/", views_reports.download, name="report_download"),
    path("rapporter/status/", views_reports.report_status, name="report_status"),  # the archive list, polled
    path("rapporter/planer/", views_reports.schedule_add, name="report_schedule_add"),
    path("rapporter/planer/<int:pk>/slett/", views_reports.schedule_remove, name="report_schedule_remove"),
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
if settings.KLIMAINNKJOP_OIDC_ENABLED:  # OpenID Connect (Entra ID, ID-porten): README "Sign-in"
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))

from klimainnkjop.web import views_measures  # noqa: E402

urlpatterns += [  # measures (tiltak), ambition packages, the abatement curve and the trajectory (views_measures.py)
    path("tiltak/", views_measures.measures, name="measures"),
    path("tiltak/<int:pk>/", views_measures.measure, name="measure"),
    path("tiltak/<int:pk>/status/", views_measures.measure_status, name="measure_status"),
    path("tiltak/pakker/", views_measures.packages, name="measure_packages"),
    path("tiltak/pakker/<int:pk>/vedta/", views_measures.package_adopt, name="measure_package_adopt"),
    path("tiltak/kurve/", views_measures.curve, name="measure_curve"),
    path("tiltak/bane/", views_measures.trajectory, name="measure_trajectory"),
]

from klimainnkjop.web import views_targets  # noqa: E402

urlpatterns += [  # climate budgets (issue 11; the KPI section of the dashboards is views.kpi_panel)
    path("org/<str:orgnr>/klimabudsjett/", views_targets.budgets, name="budgets"),
    path("mal/", views_targets.targets, name="targets"),
]

# agreements, the renewal pipeline and the requirement library (views_agreements.py, issue 12)
from klimainnkjop.web import views_agreements  # noqa: E402

urlpatterns += [
    path("avtaler/", views_agreements.agreements, name="agreements"),
    path("avtaler/fornyelser/", views_agreements.renewals, name="agreement_renewals"),
    path("avtaler/ny/", views_agreements.agreement_new, name="agreement_new"),
    path("avtaler/<int:pk>/", views_agreements.agreement, name="agreement"),
    path("avtaler/<int:pk>/endre/", views_agreements.agreement_edit, name="agreement_edit"),
    path("kravbibliotek/", views_agreements.requirement_library, name="requirements"),
    path("kravbibliotek/ny/", views_agreements.requirement_new, name="requirement_new"),
    path("kravbibliotek/<str:code>/", views_agreements.requirement, name="requirement"),
    path("kravbibliotek/<str:code>/endre/", views_agreements.requirement_edit, name="requirement_edit"),
]

# procurement cases (views_cases.py, issue 12)
from klimainnkjop.web import views_cases  # noqa: E402

urlpatterns += [
    path("saker/", views_cases.cases, name="cases"),
    path("saker/ny/", views_cases.case_new, name="case_new"),
    path("saker/sjekkliste/", views_cases.checklist, name="case_checklist"),
    path("saker/<int:pk>/", views_cases.case, name="case"),
    path("saker/<int:pk>/steg/", views_cases.case_step, name="case_step"),
    path("saker/<int:pk>/vedlegg.pdf", views_cases.case_annex, name="case_annex"),
    path("saker/<int:pk>/protokoll.pdf", views_cases.case_record, name="case_record"),
    path("saker/<int:pk>/vedlegg.docx", views_cases.case_annex, {"fmt": "docx"}, name="case_annex_docx"),
    path("saker/<int:pk>/protokoll.docx", views_cases.case_record, {"fmt": "docx"}, name="case_record_docx"),
]

from klimainnkjop.web import views_effect  # noqa: E402

urlpatterns += [  # measured effect: volume and intensity between two periods, LMDI (views_effect.py)
    path("tiltak/effekt/", views_effect.effect, name="measure_effect"),
]

# uploads on the web and the mapping wizard (views_uploads.py, issue 16 items 1, 2 and 5)
from klimainnkjop.web import views_uploads  # noqa: E402

urlpatterns += [
    path("org/<str:orgnr>/last-opp/", views_uploads.upload, name="upload"),
    path("org/<str:orgnr>/last-opp/<int:pk>/", views_uploads.upload_result, name="upload_result"),
    path("org/<str:orgnr>/last-opp/<int:pk>/status/", views_uploads.upload_status, name="upload_status"),
    path("org/<str:orgnr>/last-opp/<int:pk>/kolonner/", views_uploads.upload_mapping, name="upload_mapping"),
]

from klimainnkjop.web import views_documents  # noqa: E402

urlpatterns += [  # the baseline report and the council case documents (issue 13)
    path("dokumenter/", views_documents.documents, name="documents"),
    path("dokumenter/publiser/", views_documents.publish, name="documents_publish"),
    path("dokumenter/vedtak/", views_documents.decision, name="documents_decision"),
    path("offentlig/kartlegging/<int:year>.pdf", views_documents.published_baseline, name="public_baseline"),
]

from klimainnkjop.web import views_construction  # noqa: E402

urlpatterns += [  # construction projects against FutureBuilt (issue 11 item 5)
    path("org/<str:orgnr>/bygg/", views_construction.projects, name="construction"),
    path("org/<str:orgnr>/bygg/<int:pk>/", views_construction.project, name="construction_project"),
]

from klimainnkjop.web import views_api_tokens  # noqa: E402

urlpatterns += [  # the organisation's tokens of the JSON API (issue 16 item 8; the API itself: klimainnkjop/api)
    path("org/<str:orgnr>/api-nokler/", views_api_tokens.api_tokens, name="admin_api_tokens"),
    path("org/<str:orgnr>/api-nokler/<int:pk>/trekk-tilbake/", views_api_tokens.api_token_revoke,
         name="admin_api_token_revoke"),
]

# the region administrators' area: publishing, supplier factors, exchange rates, retraining (issue 16 item 9)
from klimainnkjop.web import views_administration  # noqa: E402

urlpatterns += [
    path("administrasjon/", views_administration.index, name="administration"),
    path("administrasjon/publiser/", views_administration.publish, name="administration_publish"),
    path("administrasjon/leverandorfaktorer/", views_administration.supplier_factors,
         name="administration_supplier_factors"),
    path("administrasjon/valutakurser/", views_administration.exchange_rates, name="administration_rates"),
    path("administrasjon/klassifisering/", views_administration.training, name="administration_training"),
    path("administrasjon/klassifisering/start/", views_administration.training_start,
         name="administration_training_start"),
    path("administrasjon/klassifisering/status/", views_administration.training_status,
         name="administration_training_status"),
]

from klimainnkjop.web import views_help  # noqa: E402

urlpatterns += [  # the user guide, for anyone (issue 18 item 6)
    path("hjelp/", views_help.guide, name="help"),
]
