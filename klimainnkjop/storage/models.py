"""Application data. Money is integer øre; emissions are float kg CO2e.

Spend lines are not here: they live as immutable Parquet files per import batch (linestore.py),
and ImportBatch is the ledger of which files count.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django_scopes import ScopedManager
from django_scopes.manager import DisabledQuerySet

from klimainnkjop.storage.encryption import EncryptedCharField


class RefusingQuerySet(DisabledQuerySet):
    """What an organisation-bound model's manager gives outside any scope: every public method of a query set raises
    ScopeError but `none()` and `using()`. django-scopes' own DisabledQuerySet lets `exists()`, `create()`,
    `bulk_create()`, `in_bulk()`, `contains()`, `exclude()`, `select_related()` and others through unfiltered (its
    list names what to refuse; this one names what to allow, so a method a new Django adds is refused too)."""


_ALLOWED_OUTSIDE_A_SCOPE = {"none", "using", "as_manager"}
for _name in dir(models.QuerySet):
    if _name.startswith("_") or _name in _ALLOWED_OUTSIDE_A_SCOPE:
        continue
    if callable(getattr(models.QuerySet, _name)):
        setattr(RefusingQuerySet, _name, DisabledQuerySet.error)
for _name in ("__iter__", "__aiter__", "__len__", "__bool__", "__getitem__", "__and__", "__or__", "__xor__"):
    setattr(RefusingQuerySet, _name, DisabledQuerySet.error)


def org_scoped(path: str = "organisation"):
    """The manager of an organisation-bound model: refuses a query unless a scope is active (django-scopes; every
    query method, RefusingQuerySet), and inside one filters by `path` to the scope's organisations
    (access.activate; the operator: access.operator)."""

    class OrgScopedManager(type(ScopedManager(organisation=path))):
        def get_queryset(self):
            query = super().get_queryset()
            if isinstance(query, DisabledQuerySet):
                return RefusingQuerySet(self.model, using=self._db, missing_scopes=query.missing_scopes)
            return query

    return OrgScopedManager()


class Region(models.Model):
    name = models.CharField(max_length=200, unique=True)

    def __str__(self) -> str:
        return self.name


class Organisation(models.Model):
    KIND_KOMMUNE = "kommune"
    KIND_IKS = "iks"
    KIND_CHOICES = [(KIND_KOMMUNE, "kommune"), (KIND_IKS, "IKS")]

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="organisations", null=True, blank=True)
    orgnr = models.CharField(max_length=9, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=KIND_CHOICES, default=KIND_KOMMUNE)
    kostra_region = models.CharField(max_length=4, blank=True, default="", db_index=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.orgnr})"


class Unit(models.Model):
    """A responsibility centre (ansvar) of an organisation; parent gives the hierarchy."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="units")
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200, blank=True, default="")
    parent = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children")

    class Meta:
        unique_together = [("organisation", "code")]
        ordering = ["code"]


class Supplier(models.Model):
    orgnr = models.CharField(max_length=9, unique=True)
    name = models.CharField(max_length=300)
    nace = models.CharField(max_length=10, blank=True, default="", help_text="main NACE Rev.2 code, e.g. 46.39")
    # From Enhetsregisteret (bulk file or open API); see services/suppliers.py.
    nace_secondary = models.JSONField(default=list, blank=True, help_text="naeringskode2, naeringskode3")
    nace_description = models.CharField(max_length=300, blank=True, default="")
    organisation_form = models.CharField(max_length=10, blank=True, default="", help_text="AS, ASA, ENK, KOMM, …")
    address = models.CharField(max_length=300, blank=True, default="", help_text="business address lines")
    postal_code = models.CharField(max_length=10, blank=True, default="")
    postal_place = models.CharField(max_length=100, blank=True, default="")
    municipality_number = models.CharField(max_length=4, blank=True, default="")
    register_status = models.CharField(max_length=20, blank=True, default="",
                                       help_text="'' unknown | active | deleted (410) | unknown_orgnr (404)")
    source = models.CharField(max_length=20, blank=True, default="", help_text="ledger | brreg-file | brreg-api | …")
    fetched_at = models.DateTimeField(null=True, blank=True, help_text="when the register data was read")

    class Meta:
        ordering = ["name"]


class Category(models.Model):
    code = models.CharField(max_length=60, unique=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    name_nb = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]


class CategoryMapping(models.Model):
    """A code of another scheme (KOSTRA art, CPV, UNSPSC, NACE) mapped to a category; longest prefix wins."""

    SCHEMES = [("kostra_art", "KOSTRA art"), ("cpv", "CPV"), ("unspsc", "UNSPSC"), ("nace", "NACE")]

    scheme = models.CharField(max_length=20, choices=SCHEMES)
    code = models.CharField(max_length=20)
    category = models.ForeignKey(Category, on_delete=models.PROTECT)
    note = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        unique_together = [("scheme", "code")]


class ClassificationRule(models.Model):
    """A rule that places lines in a category; rules are data and run inside the engine as joins.

    kind `line` is a manual override of one line (value = its natural key, organisation required);
    the others match every line with that supplier orgnr, account, item classification code, or a
    word of its text. Lower priority numbers win within a kind's level."""

    KINDS = [("line", "line"), ("supplier", "supplier"), ("account", "account"), ("item_code", "item code"),
             ("keyword", "keyword")]

    kind = models.CharField(max_length=10, choices=KINDS)
    value = models.CharField(max_length=200)
    organisation = models.ForeignKey("Organisation", on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="classification_rules")
    category = models.ForeignKey(Category, on_delete=models.PROTECT)
    priority = models.IntegerField(default=100)
    active = models.BooleanField(default=True)
    note = models.CharField(max_length=300, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "value"])]

    @property
    def label(self) -> str:
        return f"{'manual' if self.kind == 'line' else 'rule'}#{self.pk}"


class FactorSet(models.Model):
    """A versioned set of factors. Once published it never changes; a correction is a new version."""

    STATUS_DRAFT = "draft"
    STATUS_PUBLISHED = "published"
    ROLE_SPEND_DEFAULT = "spend-default"
    ROLE_SPEND_FALLBACK = "spend-fallback"
    ROLE_ACTIVITY = "activity"
    ROLE_MARKET = "market"  # the market-based figure beside the account (electricity's residual mix), never in it
    ROLES = [ROLE_SPEND_DEFAULT, ROLE_SPEND_FALLBACK, ROLE_ACTIVITY, ROLE_MARKET, ""]

    name = models.CharField(max_length=100)
    version = models.CharField(max_length=40)
    publisher = models.CharField(max_length=200)
    licence = models.CharField(max_length=200)
    attribution = models.TextField()
    gwp_basis = models.CharField(max_length=40, default="AR5 GWP100")
    description = models.TextField(blank=True, default="")
    role = models.CharField(max_length=20, blank=True, default="")
    status = models.CharField(max_length=10, default=STATUS_PUBLISHED)
    file_sha256 = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        unique_together = [("name", "version")]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"

    @property
    def label(self) -> str:
        return f"{self.name}:{self.version}"


class Factor(models.Model):
    """kg CO2e per unit of basis: per unit of money at a price year (spend) or per physical unit (activity)."""

    BASIS_SPEND = "spend"
    BASIS_ACTIVITY = "activity"

    factor_set = models.ForeignKey(FactorSet, on_delete=models.CASCADE, related_name="factors")
    category = models.ForeignKey(Category, on_delete=models.PROTECT)
    basis = models.CharField(max_length=10, default=BASIS_SPEND)
    unit = models.CharField(max_length=20, default="NOK", help_text="currency for spend, physical unit for activity")
    price_year = models.IntegerField(null=True, blank=True)
    price_type = models.CharField(max_length=10, blank=True, default="purchaser")
    value = models.FloatField(help_text="kg CO2e per unit of basis")
    low = models.FloatField()
    high = models.FloatField()
    region = models.CharField(max_length=10, default="NO")
    valid_from_year = models.IntegerField(default=1900)
    valid_to_year = models.IntegerField(default=9999, help_text="inclusive")
    quality = models.IntegerField(default=4)
    source_ref = models.CharField(max_length=300)
    note = models.TextField(blank=True, default="")

    class Meta:
        unique_together = [("factor_set", "category", "basis", "unit", "valid_from_year")]

    @property
    def currency(self) -> str:
        return self.unit if self.basis == self.BASIS_SPEND else ""


class SupplierFactor(models.Model):
    """A supplier's own, documented emission intensity (kg CO2e per NOK at a price year)."""

    supplier_orgnr = models.CharField(max_length=9, db_index=True)
    value = models.FloatField()
    low = models.FloatField()
    high = models.FloatField()
    currency = models.CharField(max_length=3, default="NOK")
    price_year = models.IntegerField()
    valid_from_year = models.IntegerField()
    valid_to_year = models.IntegerField()
    quality = models.IntegerField(default=2)
    evidence = models.TextField(help_text="what documents the figure (EPD, climate report, verified account)")
    created_at = models.DateTimeField(auto_now_add=True)


class PriceIndex(models.Model):
    """Consumer price index by year (for deflating spend to a factor's price year)."""

    year = models.IntegerField(unique=True)
    value = models.FloatField()
    source = models.CharField(max_length=300)


class ExchangeRate(models.Model):
    """Annual average NOK per unit of a currency."""

    year = models.IntegerField()
    currency = models.CharField(max_length=3)
    nok_per_unit = models.FloatField()
    source = models.CharField(max_length=300)

    class Meta:
        unique_together = [("year", "currency")]


class MappingProfile(models.Model):
    """How one organisation's ledger export maps onto line fields (stored as JSON)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="profiles")
    name = models.CharField(max_length=100)
    spec = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = org_scoped()

    class Meta:
        unique_together = [("organisation", "name")]
        ordering = ["name"]


class SupplierStatsProfile(models.Model):
    """How one framework supplier's periodic purchase report maps onto line fields (importers/supplier_stats.py).
    Kept apart from the ledger's MappingProfile so that `import ledger` still finds its one profile."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="supplier_stats_profiles")
    name = models.CharField(max_length=100)
    spec = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = org_scoped()

    class Meta:
        unique_together = [("organisation", "name")]
        ordering = ["name"]


class ImportBatch(models.Model):
    """One imported file. Only batches with status done count; their Parquet file holds the lines."""

    STATUS_DONE = "done"
    STATUS_EMPTY = "empty"
    STATUS_DELETED = "deleted"  # removed from what counts; the row, the Parquet file and the raw file are kept

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="batches")
    kind = models.CharField(max_length=20)  # ledger | kostra
    token = models.CharField(max_length=32, unique=True)  # names the Parquet file and the lines' `batch`
    file_name = models.CharField(max_length=500)
    file_sha256 = models.CharField(max_length=64)
    raw_sha256s = models.JSONField(default=list, blank=True,
                                   help_text="the archived raw files when they are not just file_sha256: the "
                                             "documents of an EHF batch (sorted)")
    profile_name = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(max_length=10, default=STATUS_DONE)
    rows_read = models.IntegerField(default=0)
    lines_added = models.IntegerField(default=0)
    lines_duplicate = models.IntegerField(default=0)
    amount_ore = models.BigIntegerField(default=0)
    parquet_path = models.CharField(max_length=500, blank=True, default="")
    errors = models.JSONField(default=list, blank=True)
    findings = models.JSONField(default=list, blank=True,
                                help_text="rules an imported document failed without being refused (EHF: PEPPOL and "
                                          "EN 16931 rules outside BR-CO): file, document, layer, rule, flag, message, "
                                          "location")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = org_scoped()

    class Meta:
        # A deleted batch steps aside, so the same file can be imported again after a deletion.
        constraints = [models.UniqueConstraint(fields=["organisation", "kind", "file_sha256"],
                                               condition=~models.Q(status="deleted"), name="batch_file_once")]
        ordering = ["-created_at"]


class ComputeRun(models.Model):
    """One computation of the account with one factor set. Results are Parquet files under results/."""

    STATUS_RUNNING = "running"
    STATUS_DONE = "done"
    STATUS_FAILED = "failed"  # the engine raised, or the process was killed (services/maintenance.py)
    STATUS_PRUNED = "pruned"  # an old run's result files removed by the keeping policy (services/compute.py)

    factor_set = models.ForeignKey(FactorSet, on_delete=models.PROTECT)
    status = models.CharField(max_length=10, default="done")
    lines_in = models.BigIntegerField(default=0)
    lines_purchase = models.BigIntegerField(default=0)
    spend_ore = models.BigIntegerField(default=0)
    kg_co2e = models.FloatField(default=0.0)
    kg_low = models.FloatField(default=0.0)
    kg_high = models.FloatField(default=0.0)
    factor_sets = models.JSONField(default=list, help_text="labels of every factor set used, chosen spend set first")
    result_dir = models.CharField(max_length=500)
    batch_ids = models.JSONField(default=list)
    pid = models.IntegerField(null=True, blank=True, help_text="the process that computes (computed) it")
    host = models.CharField(max_length=255, blank=True, default="", help_text="machine of that process")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]


class Membership(models.Model):
    """A person's role in an organisation (optionally limited to a unit). access.py decides what it allows."""

    ROLES = [
        ("region-admin", "Regionadministrator"),
        ("org-admin", "Organisasjonsadministrator"),
        ("purchaser", "Innkjøpsansvarlig"),
        ("finance", "Økonomi"),
        ("unit-leader", "Enhetsleder"),
        ("reader", "Leser"),
        ("auditor", "Revisor"),
    ]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=ROLES)
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, null=True, blank=True)

    class Meta:
        unique_together = [("user", "organisation", "role", "unit")]


class AuditEntry(models.Model):
    """Who changed what, when; before and after (written by services only)."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    actor_label = models.CharField(max_length=200, default="system")
    organisation = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=60)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]


class Invitation(models.Model):
    """An administrator's invitation of a person (by e-mail) to a role. The only way a sign-in through an
    external identity provider (OIDC) is given memberships: claims alone never grant a role."""

    email = models.EmailField()
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=20, choices=Membership.ROLES)
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, null=True, blank=True)
    token_sha256 = models.CharField(max_length=64, unique=True, help_text="of the link's secret token; never the token")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]


class ExternalIdentity(models.Model):
    """A person's identity at an OIDC provider: issuer + subject (stable, unlike e-mail)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identities")
    issuer = models.CharField(max_length=300)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="identity_once")]


class TotpDevice(models.Model):
    """A TOTP second factor (RFC 6238). Counts only once confirmed with a valid code."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device")
    secret = EncryptedCharField(max_length=255, help_text="base32, encrypted at rest (storage/encryption.py)")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(default=0, help_text="time step of the last accepted code (no replay)")
    created_at = models.DateTimeField(auto_now_add=True)


class LoginFailure(models.Model):
    """One failed password sign-in, per username and client address (for the lockout)."""

    username = models.CharField(max_length=150)
    ip = models.CharField(max_length=45, blank=True, default="")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["username", "ip", "created_at"])]


class Report(models.Model):
    """A generated report (PDF, XLSX or CSV), archived in the data directory with the run it used."""

    SCOPE_ORG = "org"
    SCOPE_UNIT = "unit"
    SCOPE_REGION = "region"
    STATUS_QUEUED = "queued"  # waiting for the worker (services/reports.do_request_report)
    STATUS_RUNNING = "running"
    STATUS_DONE = "done"
    STATUS_FAILED = "failed"

    scope_kind = models.CharField(max_length=10, default=SCOPE_ORG)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="reports")
    unit_code = models.CharField(max_length=40, blank=True, default="")
    period = models.CharField(max_length=10)  # 2025Q3, 2025H1, 2025T2, 2025
    format = models.CharField(max_length=5)  # pdf | xlsx | csv
    LAYOUT_STANDARD = "standard"
    LAYOUT_FUNDER = "funder"
    layout = models.CharField(max_length=20, default=LAYOUT_STANDARD,
                              help_text="standard | funder (the funder's progress/final report: results, "
                                        "activities, deviations)")
    texts = models.JSONField(default=dict, blank=True,
                             help_text="free text the author gives for the layout, e.g. activities, deviations")
    status = models.CharField(max_length=10, default=STATUS_RUNNING)
    progress = models.CharField(max_length=200, blank=True, default="")
    run = models.ForeignKey(ComputeRun, on_delete=models.PROTECT, null=True, blank=True, related_name="reports")
    factor_sets = models.JSONField(default=list)
    file_path = models.CharField(max_length=500, blank=True, default="", help_text="relative to the data dir")
    sha256 = models.CharField(max_length=64, blank=True, default="")
    error = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]


class ReportSchedule(models.Model):
    """A report made for every completed period: `klimainnkjop reports run-due` (from cron) makes the most
    recently completed quarter, half-year, tertial or year of each active schedule, once."""

    CADENCE_QUARTER = "quarter"
    CADENCE_HALF_YEAR = "half-year"
    CADENCE_TERTIAL = "tertial"
    CADENCE_YEAR = "year"
    CADENCES = (CADENCE_QUARTER, CADENCE_HALF_YEAR, CADENCE_TERTIAL, CADENCE_YEAR)

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="report_schedules", help_text="empty: the region, consolidated")
    unit_code = models.CharField(max_length=40, blank=True, default="")
    cadence = models.CharField(max_length=10)  # quarter | half-year | tertial | year
    format = models.CharField(max_length=5)  # pdf | xlsx | csv
    layout = models.CharField(max_length=20, default="standard")
    active = models.BooleanField(default=True)
    last_period = models.CharField(max_length=10, blank=True, default="",
                                   help_text="the last period made (or being made), e.g. 2026Q1")
    last_report = models.ForeignKey(Report, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    @property
    def scope_kind(self) -> str:
        if self.organisation_id is None:
            return Report.SCOPE_REGION
        return Report.SCOPE_UNIT if self.unit_code else Report.SCOPE_ORG


class Publication(models.Model):
    """An administrator's decision to show one year's figures of an organisation (or of the region, with
    organisation empty) on the public page and as open data."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="publications")
    year = models.IntegerField()
    run = models.ForeignKey(ComputeRun, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    figures = models.JSONField(default=dict, help_text="the published figures, as shown and as open data")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "-id"]


class ModelVersion(models.Model):
    """One trained version of the learned text model (klimainnkjop.ml). The model file (joblib) and its
    predictions (Parquet) are in the data directory; the newest version is the one the engine uses."""

    trained_at = models.DateTimeField()
    path = models.CharField(max_length=500, help_text="folder of model.joblib, meta.json and predictions.parquet")
    n_examples = models.IntegerField(default=0)
    n_corrections = models.IntegerField(default=0, help_text="of n_examples, from users' line corrections")
    accuracy = models.FloatField(default=0.0, help_text="on the held-out part of the shipped labelled set")
    macro_f1 = models.FloatField(default=0.0)
    metrics = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["-id"]


# --- Measures (tiltak): issue 10 -------------------------------------------------------------------------------

class Measure(models.Model):
    """A climate measure of the steering document: what changes in which purchases, what it costs, who owns it,
    and where it stands. Its expected effect is not stored: selectors/measures.py computes it from the account."""

    KIND_REUSE = 1          # reuse, circularity
    KIND_NEED = 2           # change of need or of the kind of purchase
    KIND_REQUIREMENTS = 3   # stricter product or service requirements, logistics included
    KIND_PROCUREMENT = 4    # new or stronger climate requirements in procurements
    KINDS = [(KIND_REUSE, "reuse"), (KIND_NEED, "need"), (KIND_REQUIREMENTS, "requirements"),
             (KIND_PROCUREMENT, "procurement")]

    MECHANISM_QUANTITY = "quantity"    # less quantity or spend in the categories by `percent`
    MECHANISM_SWITCH = "switch"        # `percent` of the categories' purchases switched to `to_category`'s factor
    MECHANISM_INTENSITY = "intensity"  # the categories' kg per NOK cut by `percent`
    MECHANISMS = [MECHANISM_QUANTITY, MECHANISM_SWITCH, MECHANISM_INTENSITY]

    STATUS_PROPOSED = "proposed"
    STATUS_RECOMMENDED = "recommended"
    STATUS_ADOPTED = "adopted"
    STATUS_IMPLEMENTED = "implemented"
    STATUS_VERIFIED = "verified"
    STATUSES = [STATUS_PROPOSED, STATUS_RECOMMENDED, STATUS_ADOPTED, STATUS_IMPLEMENTED, STATUS_VERIFIED]

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, default="")
    kind = models.PositiveSmallIntegerField(choices=KINDS)
    mechanism = models.CharField(max_length=20)
    percent = models.FloatField(help_text="quantity, intensity: the cut in %; switch: the share switched in %")
    categories = models.ManyToManyField(Category, related_name="+", help_text="the purchases it changes")
    to_category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    help_text="switch: the category whose factor replaces the categories' own")
    organisations = models.ManyToManyField(Organisation, blank=True, related_name="measures",
                                           help_text="empty: every organisation of the region")
    baseline_year = models.IntegerField(help_text="the year of the account the expected effect is computed from")
    cost_once_ore = models.BigIntegerField(default=0, help_text="one-off cost; negative for a saving")
    cost_yearly_ore = models.BigIntegerField(default=0, help_text="cost per year; negative for a saving")
    lifetime_years = models.PositiveSmallIntegerField(default=1)
    owner = models.CharField(max_length=200, blank=True, default="")
    effective_date = models.DateField(null=True, blank=True, help_text="from when it takes effect")
    agreement = models.CharField(max_length=200, blank=True, default="",
                                 help_text="the agreement it is bound to: effect from its renewal")
    agreement_renewal = models.DateField(null=True, blank=True)
    requirement = models.CharField(max_length=40, blank=True, default="",
                                   help_text="the code of a library requirement whose expected effect it uses")
    status = models.CharField(max_length=20, default=STATUS_PROPOSED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class MeasureStatusChange(models.Model):
    """One step of a measure's status history (adopted by an organisation: date and case number; implemented:
    date and agreement)."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="history")
    status = models.CharField(max_length=20)
    previous = models.CharField(max_length=20, blank=True, default="")
    organisation = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    date = models.DateField(null=True, blank=True)
    case_number = models.CharField(max_length=60, blank=True, default="")
    agreement = models.CharField(max_length=200, blank=True, default="")
    note = models.TextField(blank=True, default="")
    actor_label = models.CharField(max_length=200, default="system")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class MeasurePackage(models.Model):
    """An ambition package (e.g. Basis, Middels, Høy): measures applied in order, so that two measures on the
    same purchases are not added (the second works on what the first left)."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True, default="")
    baseline_year = models.IntegerField()
    measures = models.ManyToManyField(Measure, through="PackageMeasure", related_name="packages")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class PackageMeasure(models.Model):
    package = models.ForeignKey(MeasurePackage, on_delete=models.CASCADE, related_name="items")
    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]
        unique_together = [("package", "measure")]


class PackageAdoption(models.Model):
    """An organisation's decision to adopt a package; its latest adoption is what its trajectory uses."""

    package = models.ForeignKey(MeasurePackage, on_delete=models.PROTECT, related_name="adoptions")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="package_adoptions")
    adopted_on = models.DateField()
    case_number = models.CharField(max_length=60)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = org_scoped()

    class Meta:
        ordering = ["-adopted_on", "-id"]


# --- targets, climate budgets and population (issue 11) ----------------------------------------------------

class Target(models.Model):
    """A target for one KPI (selectors/kpis.py KPIS) of the region (organisation empty), an organisation, a unit
    or a category: a level to reach in target_year (`level`: tonnes, kg per NOK or a share in percent) or a cut
    in percent against the KPI's value in baseline_year (`cut`). A target is never edited: a change is a new row
    and the old one is set inactive (services/targets.py)."""

    KIND_LEVEL = "level"
    KIND_CUT = "cut"
    KINDS = (KIND_LEVEL, KIND_CUT)

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="targets", help_text="empty: the region")
    unit_code = models.CharField(max_length=40, blank=True, default="")
    category = models.CharField(max_length=60, blank=True, default="", help_text="a category code (and below)")
    kpi = models.CharField(max_length=60)
    kind = models.CharField(max_length=10, default=KIND_LEVEL)
    value = models.FloatField(null=True, blank=True,
                              help_text="the level in the KPI's unit, or the cut in percent; empty: to be set")
    baseline_year = models.IntegerField(null=True, blank=True)
    target_year = models.IntegerField()
    milestones = models.JSONField(default=list, blank=True, help_text="[{year, value}] in the same terms as value")
    decision_date = models.DateField(null=True, blank=True)
    case_number = models.CharField(max_length=60, blank=True, default="")
    template = models.CharField(max_length=60, blank=True, default="", help_text="the seed template it came from")
    note = models.TextField(blank=True, default="")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class ClimateBudget(models.Model):
    """A yearly budget in tonnes CO2e for an organisation or one of its units, spread over the months. Versioned:
    a revision is a new row with the next version; the original stays."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="climate_budgets")
    unit_code = models.CharField(max_length=40, blank=True, default="")
    year = models.IntegerField()
    version = models.IntegerField(default=1)
    tonnes = models.FloatField()
    monthly_tonnes = models.JSONField(default=list, help_text="12 values, January first, adding up to tonnes")
    profile = models.CharField(max_length=20, default="last-year", help_text="last-year | even | given")
    note = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = org_scoped()

    class Meta:
        unique_together = [("organisation", "unit_code", "year", "version")]
        ordering = ["organisation", "unit_code", "year", "-version"]


class PopulationFigure(models.Model):
    """An edited number of inhabitants of a municipality on 1 January of a year; it wins over the shipped SSB
    table (data/population.csv)."""

    municipality = models.CharField(max_length=4)
    year = models.IntegerField()
    inhabitants = models.IntegerField()
    source = models.CharField(max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        unique_together = [("municipality", "year")]


# --- framework agreements and the requirement library (issue 12; services/agreements.py, services/requirements.py)

class Agreement(models.Model):
    """A (framework) agreement of the region: its suppliers by orgnr, the organisations that buy through it, its
    period and extension options. Its actual spend and emissions come from the account (engine/agreements.py)."""

    number = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    suppliers = models.JSONField(default=list, help_text="supplier orgnrs (9 digits)")
    categories = models.JSONField(default=list, blank=True, help_text="category codes the agreement covers")
    participants = models.ManyToManyField(Organisation, related_name="agreements", blank=True)
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="owned_agreements", help_text="the organisation that manages it")
    contact = models.CharField(max_length=200, blank=True, default="", help_text="the person responsible")
    start = models.DateField()
    end = models.DateField(help_text="the current end: the next option date while options are left")
    options_used = models.IntegerField(default=0)
    options_left = models.IntegerField(default=0)
    option_months = models.IntegerField(default=12, help_text="length of one extension option")
    estimated_yearly_ore = models.BigIntegerField(default=0)
    note = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class AgreementProfile(models.Model):
    """How an agreement list (CSV/XLSX) maps onto agreement fields (importers/agreements.py), region-wide."""

    name = models.CharField(max_length=100, unique=True)
    spec = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]


class Requirement(models.Model):
    """A climate or environmental requirement template of the library: text, verification, legal note and the
    expected effect the measures' calculation uses ({"kind": "switch", "from": cat, "to": cat, "share": 0-1} or
    {"kind": "intensity_cut", "percent": p}). Edited by region administrators; each change is a new version."""

    KIND_QUALIFICATION = "qualification"
    KIND_SPECIFICATION = "specification"
    KIND_AWARD = "award"
    KIND_CLAUSE = "clause"
    KINDS = [(KIND_QUALIFICATION, "Kvalifikasjonskrav"), (KIND_SPECIFICATION, "Kravspesifikasjon"),
             (KIND_AWARD, "Tildelingskriterium"), (KIND_CLAUSE, "Kontraktsvilkår")]
    STATUS_ACTIVE = "active"
    STATUS_DRAFT = "draft"
    STATUS_RETIRED = "retired"
    STATUSES = [STATUS_DRAFT, STATUS_ACTIVE, STATUS_RETIRED]

    code = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=20, choices=KINDS)
    categories = models.JSONField(default=list)
    title = models.CharField(max_length=200)
    text = models.TextField()
    verification = models.TextField(blank=True, default="")
    legal_note = models.TextField(blank=True, default="")
    expected_effect = models.JSONField(default=dict, blank=True)
    min_value_nok = models.BigIntegerField(default=0, help_text="applies from this estimated value")
    guidance = models.CharField(max_length=500, blank=True, default="", help_text="the public guidance it builds on")
    version = models.IntegerField(default=1)
    status = models.CharField(max_length=10, default=STATUS_ACTIVE)
    shipped = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]


class RequirementVersion(models.Model):
    """A requirement as it was at each version (its history)."""

    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="versions")
    version = models.IntegerField()
    content = models.JSONField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        unique_together = [("requirement", "version")]
        ordering = ["requirement", "-version"]


class ProcurementCase(models.Model):
    """One procurement (or an agreement's renewal) walked through the routine: screening, ambition, requirements,
    the § 7-9 record, announcement, award (services/cases.py; each step a service with an audit entry and an
    entry in the case's decision log, CaseEvent)."""

    STATES = ["opened", "screened", "ambition_decided", "requirements_set", "announced", "awarded", "closed",
              "cancelled"]
    RELEVANCES = ["high", "medium", "low"]
    AMBITIONS = ["basic", "advanced", "leading"]

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT)
    estimated_value_ore = models.BigIntegerField(default=0)
    procedure = models.CharField(max_length=60, blank=True, default="")
    agreement = models.ForeignKey(Agreement, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases",
                                  help_text="the agreement this case renews")
    state = models.CharField(max_length=20, default="opened")
    relevance = models.CharField(max_length=10, blank=True, default="")
    screening = models.JSONField(default=dict, blank=True, help_text="the screening rule's inputs and result")
    assess_role = models.CharField(max_length=20, blank=True, default="")
    approve_role = models.CharField(max_length=20, blank=True, default="")
    ambition_proposed = models.CharField(max_length=10, blank=True, default="")
    ambition = models.CharField(max_length=10, blank=True, default="")
    requirements = models.JSONField(default=list, blank=True,
                                    help_text="[{code, kind, weight_percent}] chosen from the library")
    considerations = models.JSONField(default=dict, blank=True, help_text="the § 7-9 record")
    award = models.JSONField(default=dict, blank=True,
                             help_text="{supplier_orgnr, requirements (codes in the contract), climate_weight_percent}")
    measures = models.ManyToManyField(Measure, blank=True, related_name="cases",
                                      help_text="a renewal: the measures that target the agreement, brought in")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = org_scoped()

    class Meta:
        ordering = ["-id"]


class CaseEvent(models.Model):
    """The decision log of a case: who did which step, when and why."""

    case = models.ForeignKey(ProcurementCase, on_delete=models.CASCADE, related_name="events")
    step = models.CharField(max_length=30)
    state = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    actor_label = models.CharField(max_length=200, default="system")
    reason = models.TextField(blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = org_scoped("case__organisation")

    class Meta:
        ordering = ["id"]


class ApprovalRule(models.Model):
    """Who must assess and who approves a case's ambition, by value and climate relevance: the first rule (by
    position) whose minimum value and relevances fit. An organisation's own rules replace the region default
    (organisation empty)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="approval_rules")
    position = models.IntegerField(default=0)
    min_value_nok = models.BigIntegerField(default=0)
    relevances = models.JSONField(default=list, help_text="high, medium, low")
    assess_role = models.CharField(max_length=20)
    approve_role = models.CharField(max_length=20)

    class Meta:
        ordering = ["organisation_id", "position"]


class Upload(models.Model):
    """A file uploaded on the web (issue 16): kept while it waits for its mapping or for the background job, then
    the job's outcome — what was added, or every error by file, row and column (a failed file stores nothing)."""

    STATUS_MAPPING = "mapping"  # a ledger in a layout without a profile: waits for the mapping wizard
    STATUS_QUEUED = "queued"
    STATUS_RUNNING = "running"
    STATUS_DONE = "done"
    STATUS_FAILED = "failed"
    KINDS = ("ledger", "kostra", "saft", "ehf", "supplier-stats")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="uploads")
    kind = models.CharField(max_length=20)
    file_name = models.CharField(max_length=500)
    size = models.BigIntegerField(default=0)
    file_sha256 = models.CharField(max_length=64, blank=True, default="")
    stored_path = models.CharField(max_length=500, blank=True, default="")  # data dir relative, until processed
    profile_name = models.CharField(max_length=100, blank=True, default="")
    confirmed_other = models.BooleanField(default=False)  # KOSTRA of another organisation or region, confirmed
    status = models.CharField(max_length=10, default=STATUS_QUEUED)
    progress = models.CharField(max_length=200, blank=True, default="")
    result = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)  # RowError.as_dict() per error
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = org_scoped()

    class Meta:
        ordering = ["-created_at", "-id"]


# --- building and construction against FutureBuilt (issue 11 item 5; services/construction.py) ----------------

class ConstructionProject(models.Model):
    """A construction (investment) project of an organisation: its heated floor area (BRA), building type, phase and
    the reference it is measured against (kg CO2e per m² BRA; FutureBuilt: at least `target_cut_percent` below it).
    Its lines are the organisation's investment lines whose ledger project dimension equals `project_code`."""

    TYPES = ("school", "kindergarten", "nursing_home", "office", "housing", "sports", "culture", "health",
             "other")
    PHASES = ("planning", "design", "construction", "in_use")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="construction_projects")
    name = models.CharField(max_length=200)
    project_code = models.CharField(max_length=60, blank=True, default="",
                                    help_text="the ledger's project dimension of its investment lines")
    area_m2 = models.FloatField(help_text="heated floor area, BRA, m²")
    building_type = models.CharField(max_length=20, default="other")
    phase = models.CharField(max_length=20, default="planning")
    reference_kg_per_m2 = models.FloatField(help_text="the reference building's kg CO2e per m² BRA")
    reference_source = models.CharField(max_length=300, blank=True, default="")
    target_cut_percent = models.FloatField(default=50.0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = org_scoped()

    class Meta:
        ordering = ["organisation_id", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["organisation", "project_code"],
                                               condition=~models.Q(project_code=""),
                                               name="construction_project_code_once")]


class ClimateCalculation(models.Model):
    """An imported NS 3720 climate calculation of a project (a batch): kept whole; the newest active one of the
    project counts (an earlier one is set inactive, not deleted)."""

    project = models.ForeignKey(ConstructionProject, on_delete=models.CASCADE, related_name="calculations")
    file_name = models.CharField(max_length=500)
    file_sha256 = models.CharField(max_length=64)
    phase = models.CharField(max_length=20, default="design")
    rows = models.IntegerField(default=0)
    kg_co2e = models.FloatField(default=0.0)
    modules = models.JSONField(default=dict, blank=True, help_text="kg CO2e per module (A1-A3, A4, A5, ...)")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = org_scoped("project__organisation")

    class Meta:
        ordering = ["-id"]


class ClimateCalculationRow(models.Model):
    """One row of a calculation: a building part (NS 3451 code) and material with kg CO2e per module."""

    calculation = models.ForeignKey(ClimateCalculation, on_delete=models.CASCADE, related_name="parts")
    row_no = models.IntegerField()
    building_part = models.CharField(max_length=20)
    building_part_name = models.CharField(max_length=200, blank=True, default="")
    material = models.CharField(max_length=200, blank=True, default="")
    modules = models.JSONField(default=dict)
    kg_co2e = models.FloatField()

    objects = org_scoped("calculation__project__organisation")

    class Meta:
        ordering = ["calculation_id", "row_no"]


class ApiToken(models.Model):
    """A token of the JSON API (issue 16 item 8): acts for one organisation with its scopes (read, import). Only the
    SHA-256 of the secret is kept; the secret is shown once when the token is made (services/api_tokens.py)."""

    SCOPES = ("read", "import")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    scopes = models.JSONField(default=list, help_text="read, import")
    prefix = models.CharField(max_length=16, help_text="the first characters of the token, to recognise it")
    secret_sha256 = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = org_scoped()

    class Meta:
        ordering = ["organisation_id", "-created_at", "-id"]


# --- administration on the web (issue 16 item 9) -------------------------------------------------------------

class TrainingJob(models.Model):
    """A retraining of the text model asked for on the web: queued for the background worker
    (services/administration.train_text_model_job), its status and progress shown on the page, the version made."""

    STATUS_QUEUED = "queued"
    STATUS_RUNNING = "running"
    STATUS_DONE = "done"
    STATUS_FAILED = "failed"
    PENDING = (STATUS_QUEUED, STATUS_RUNNING)

    status = models.CharField(max_length=10, default=STATUS_QUEUED)
    progress = models.CharField(max_length=200, blank=True, default="")
    error = models.TextField(blank=True, default="")
    version = models.ForeignKey(ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
