"""Load the demo region through the real services: organisations, profiles, imports, compute, users.

The generator (generate.py) writes the files; this module only calls services, except for the Django
demo users and their memberships, which no service creates yet.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from klimainnkjop import paths
from klimainnkjop.demo import region as R
from klimainnkjop.demo.generate import Manifest, generate
from klimainnkjop.access import operator
from klimainnkjop.core.actors import ActorLike

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "klima-demo-2026"  # noqa: S105 - the made-up demo data's sign-in, not a secret
READER_USERNAME = "leser-grue"
READER_PASSWORD = DEMO_PASSWORD
# username, password, organisation key, role
DEMO_USERS = (
    (DEMO_USERNAME, DEMO_PASSWORD, "kongsvinger", "region-admin"),
    (READER_USERNAME, READER_PASSWORD, "grue", "reader"),
)


def _nb_number(value: float, decimals: int = 0) -> str:
    text = f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",")
    return text


@dataclass
class DemoResult:
    loaded: bool                       # False: the demo was there already (if_empty) and nothing was imported
    directory: Path | None = None
    organisations: int = 0
    files: int = 0
    rows_read: int = 0
    lines_added: int = 0
    lines_duplicate: int = 0
    already_imported: int = 0
    invoices_read: int = 0             # EHF documents
    invoices_added: int = 0
    invoices_duplicate: int = 0
    invoice_lines_added: int = 0
    stats_imports: int = 0             # supplier statistics: one report imported for one organisation
    stats_reports: int = 0             # distinct report files
    stats_lines_added: int = 0
    stats_already_imported: int = 0
    measures: int = 0                  # the demo's measures (tiltak) and ambition packages (demo/measures.py)
    packages: int = 0
    run_id: int | None = None
    targets: int = 0                   # targets set (issue 11), the seed's adopted for the region
    budgets: int = 0                   # climate budgets of Kongsvinger and its units
    year: int | None = None            # the last full year, which spend_nok and kg_co2e describe
    publications: int = 0              # figures published on the public page (the region's and organisations')
    spend_nok: float = 0.0
    kg_co2e: float = 0.0
    seconds: float = 0.0
    manifest: Manifest | None = None
    users: list[tuple[str, str, str]] = field(default_factory=list)  # username, password, what

    def summary(self) -> str:
        out = []
        if self.loaded:
            out.append(f"Demoregionen {R.REGION_NAME} er lastet inn på {_nb_number(self.seconds, 1)} s: "
                       f"{self.organisations} organisasjoner, {self.files} filer, "
                       f"{_nb_number(self.lines_added)} nye linjer"
                       + (f" ({_nb_number(self.lines_duplicate)} dubletter)" if self.lines_duplicate else "")
                       + (f", {self.already_imported} filer var importert fra før" if self.already_imported else "")
                       + ".")
            if self.invoices_read:
                out.append(f"E-fakturaer (EHF): {_nb_number(self.invoices_read)} dokumenter validert, "
                           f"{_nb_number(self.invoices_added)} importert med {_nb_number(self.invoice_lines_added)} "
                           "linjer"
                           + (f", {_nb_number(self.invoices_duplicate)} var importert fra før"
                              if self.invoices_duplicate else "") + ".")
            if self.stats_imports:
                out.append(f"Innkjøpsstatistikk fra leverandører: {self.stats_reports} kvartalsrapporter importert "
                           f"{self.stats_imports} ganger (én gang per kunde) med "
                           f"{_nb_number(self.stats_lines_added)} nye linjer"
                           + (f", {self.stats_already_imported} var importert fra før"
                              if self.stats_already_imported else "") + ".")
            if self.year:
                out.append(f"Beregning {self.run_id}, {self.year} for hele regionen: innkjøp for "
                           f"{_nb_number(self.spend_nok / 1e6, 1)} mill. kr, {_nb_number(self.kg_co2e / 1000)} tonn "
                           "CO2e.")
            if self.measures:
                out.append(f"Tiltak: {self.measures} tiltak og {self.packages} ambisjonspakker (klimainnkjop measures "
                           "list).")
            if self.publications:
                out.append(f"Offentlig side: {self.publications} publiserte årstall for regionen og organisasjonene "
                           "(/offentlig/).")
            if self.directory is not None:
                out.append(f"Demofilene ligger i {self.directory}")
        else:
            out.append(f"Demoregionen er allerede lastet inn ({self.organisations} organisasjoner); ingenting ble "
                       "importert.")
        for username, password, what in self.users:
            out.append(f"Innlogging: {username} / {password}  ({what})")
        return "\n".join(out)


def demo_directory() -> Path:
    return paths.data_dir() / "demo"


@operator()  # the operator's loader of the whole region (the CLI's `demo`, `make run`): no organisation filter
def do_load_demo(*, scale: float = 1.0, seed: int = 2021, if_empty: bool = False, actor: ActorLike = None,
                 progress: Callable[[str], None] | None = None, today: dt.date | None = None) -> DemoResult:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.results import totals
    from klimainnkjop.services.compute import do_compute
    from klimainnkjop.services.imports import do_import_kostra, do_import_ledger
    from klimainnkjop.services.invoices import do_import_ehf
    from klimainnkjop.services.organisations import do_create_organisation
    from klimainnkjop.services.profiles import do_save_profile
    from klimainnkjop.services.suppliers import do_import_supplier_stats, do_save_supplier_stats_profile
    from klimainnkjop.services.reference import do_load_reference_data
    from klimainnkjop.storage.models import Organisation

    say = progress or (lambda message: None)
    started = time.perf_counter()
    if if_empty and Organisation.objects.exists():
        users = ensure_demo_users()
        return DemoResult(loaded=False, organisations=Organisation.objects.count(), users=users,
                          seconds=time.perf_counter() - started)

    do_load_reference_data(actor=actor)
    directory = demo_directory()
    say(f"Genererer demoregionen {R.REGION_NAME} (skala {scale:g}, frø {seed}) i {directory}")
    manifest = generate(directory, scale=scale, seed=seed, today=today or dt.date.today())

    organisations: dict[str, Organisation] = {}
    for entry in manifest.organisations:
        org = Organisation.objects.filter(orgnr=entry.orgnr).first()
        if org is None:
            org = do_create_organisation(orgnr=entry.orgnr, name=entry.name, kind=entry.kind,
                                         kostra_region=entry.kostra_region, region_name=R.REGION_NAME, actor=actor)
        organisations[entry.key] = org
        do_save_profile(organisation=org, spec=manifest.profiles[entry.key], actor=actor,
                        source=f"demo profile {entry.profile}")

    result = DemoResult(loaded=True, directory=directory, organisations=len(organisations), manifest=manifest)
    for kostra in manifest.kostra_files:
        org = organisations[kostra["org_key"]]
        say(f"Importerer KOSTRA {kostra['year']} for {org.name}")
        _count(result, do_import_kostra(data=(directory / kostra["path"]).read_bytes(),
                                        file_name=Path(kostra["path"]).name, organisation=org, actor=actor))
    total = len(manifest.files)
    for number, entry in enumerate(manifest.files, start=1):
        org = organisations[entry.org_key]
        say(f"Importerer {org.name} {entry.year} ({number}/{total})")
        _count(result, do_import_ledger(organisation=org, data=(directory / entry.path).read_bytes(),
                                        file_name=Path(entry.path).name, profile_name=entry.profile, actor=actor))
    total = len(manifest.invoice_files)
    for number, entry in enumerate(manifest.invoice_files, start=1):
        org = organisations[entry["org_key"]]
        documents = [(Path(path).name, (directory / path).read_bytes()) for path in entry["documents"]]
        say(f"Importerer e-fakturaer (EHF) for {org.name} {entry['year']}: {len(documents)} dokumenter "
            f"({number}/{total})")
        imported = do_import_ehf(documents=documents, organisation=org, actor=actor)
        result.invoices_read += imported.documents_read
        result.invoices_added += imported.documents_added
        result.invoices_duplicate += imported.documents_duplicate
        result.invoice_lines_added += imported.lines_added
    # Supplier statistics: each customer keeps the supplier's mapping profile and imports the supplier's
    # quarterly report (which covers all its framework customers) for itself.
    customers = {(entry["supplier"], key) for entry in manifest.stats_files for key in entry["customers"]}
    for supplier_key, org_key in sorted(customers):
        spec = manifest.stats_profiles[supplier_key]
        do_save_supplier_stats_profile(organisation=organisations[org_key], spec=spec, actor=actor,
                                       source=f"demo supplier-statistics profile {spec['name']}")
    total = len(manifest.stats_files)
    for number, entry in enumerate(manifest.stats_files, start=1):
        data = (directory / entry["path"]).read_bytes()
        say(f"Importerer innkjøpsstatistikk {Path(entry['path']).name} for {len(entry['customers'])} kunder "
            f"({number}/{total})")
        result.stats_reports += 1
        for org_key in entry["customers"]:
            imported = do_import_supplier_stats(organisation=organisations[org_key], data=data,
                                                file_name=Path(entry["path"]).name, profile_name=entry["profile"],
                                                actor=actor)
            result.stats_imports += 1
            result.stats_lines_added += imported.lines_added
            result.stats_already_imported += int(imported.already_imported)
    from klimainnkjop.demo.agreements import do_load_demo_agreements  # the region's agreements (issue 12)

    say(f"Registrerer {do_load_demo_agreements(actor=actor)} avtaler")
    from klimainnkjop.demo.construction import load_demo_construction  # FutureBuilt (issue 11 item 5)

    say(f"Registrerer {load_demo_construction(organisations, directory, scale, actor=actor)} byggeprosjekter")
    say("Beregner klimagassregnskapet")
    run = do_compute(actor=actor)
    result.run_id = run.pk
    from klimainnkjop.demo.cases import do_load_demo_cases  # procurement cases, screened against the account

    say(f"Registrerer {do_load_demo_cases(actor=actor)} anskaffelsessaker")
    result.year = manifest.today.year - 1
    say("Setter mål og klimabudsjetter")
    from klimainnkjop.demo.targets import load_targets_and_budgets

    made = load_targets_and_budgets(organisations, manifest.today.year, actor=actor)
    result.targets, result.budgets = made["targets"], made["budgets"]
    region_year = totals(system_scope(), year=result.year)["rows"]
    if region_year:
        result.spend_nok, result.kg_co2e = region_year[0]["spend_nok"], region_year[0]["kg_co2e"]
    from klimainnkjop.demo.measures import load_demo_measures

    say("Legger inn tiltak og ambisjonspakker")
    loaded = load_demo_measures(actor=actor)
    result.measures, result.packages = loaded["measures"], loaded["packages"]
    say("Publiserer regionens og organisasjonenes tall på den offentlige siden")
    result.publications = publish_demo_figures(last_year=result.year, actor=actor)
    result.users = ensure_demo_users()
    result.seconds = time.perf_counter() - started
    return result


def publish_demo_figures(*, last_year: int, actor: ActorLike = None) -> int:
    """The public page on by default for the demo (issue 18 item 4): every whole year with figures up to `last_year`
    (the current year is still running) published for each organisation with figures in it, and for the region where
    every organisation has figures (2019, Kongsvinger's KOSTRA year alone, would be a partial region year), through
    the administrators' service (services/administration.do_publish_region_figures). Returns the count."""
    from klimainnkjop.storage.models import Organisation
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.results import totals
    from klimainnkjop.services.administration import do_publish_region_figures

    by_year: dict[int, list[str]] = {}
    for row in totals(system_scope(), by=["org", "year"], consolidated=False)["rows"]:
        if row["year"] and row["year"] <= last_year and row["kg_co2e"]:
            by_year.setdefault(int(row["year"]), []).append(row["org"])
    published = 0
    members = set(Organisation.objects.values_list("orgnr", flat=True))
    for year, orgnrs in sorted(by_year.items()):
        published += len(do_publish_region_figures(year=year, region=set(orgnrs) >= members, orgnrs=sorted(orgnrs),
                                                   actor=actor))
    return published


def _count(result: DemoResult, imported) -> None:
    result.files += 1
    result.rows_read += imported.rows_read
    result.lines_added += imported.lines_added
    result.lines_duplicate += imported.lines_duplicate
    result.already_imported += int(imported.already_imported)


def ensure_demo_users() -> list[tuple[str, str, str]]:
    """Create the demo users (if missing) and their memberships (if their organisation exists).

    An existing user keeps its password: the summary then shows the demo password, which is only right
    if nobody changed it.
    """
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from klimainnkjop.storage.models import Membership, Organisation

    User = get_user_model()
    shown = []
    with transaction.atomic():
        for username, password, org_key, role in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(username=username, password=password)
            org = Organisation.objects.filter(orgnr=R.ORGS_BY_KEY[org_key].orgnr).first()
            if org is not None:
                Membership.objects.get_or_create(user=user, organisation=org, role=role, unit=None)
            label = dict(Membership.ROLES).get(role, role)
            shown.append((username, password, f"{label.lower()}, {org.name if org else R.ORGS_BY_KEY[org_key].name}"))
    return shown
