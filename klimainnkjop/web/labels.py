"""Display labels with English msgids (translated to bokmål in locale/nb): every code a person can see on a page, in
an export or in the audit log has a label here (sources, exclusions, methods, statuses, audit actions), so a page
never prints "ledger", "invoice_detail" or "pending" (tests/test_words.py walks every page)."""
from __future__ import annotations

import datetime as dt
import re

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext, gettext_noop, ngettext, pgettext_lazy

from klimainnkjop.core.audit_actions import RENAMED

EXCLUSION_LABELS = {
    "wages": _("Wages"),
    "transfer": _("Transfers (incl. VAT)"),
    "financial": _("Financial items"),
    "income": _("Income"),
    "internal": _("Internal purchases"),
    "asset_transfer": _("Land and existing buildings"),
    "unknown_art": _("Unknown art"),
    "invoice_detail": _("Replaced by invoice or supplier-report lines"),
}

OPERATING = _("Operating")
INVESTMENT = _("Investment")

# where a line came from (ImportBatch.kind, a line's source)
SOURCE_LABELS = {
    "ledger": _("Ledger export"),
    "kostra": _("KOSTRA file"),
    "ehf": _("E-invoices (EHF)"),
    "saft": _("SAF-T Financial"),
    "supplier_stats": _("Supplier statistics"),
    "line": _("Single line"),
}

METHOD_LABELS = {
    "supplier": _("Supplier-specific"),
    "activity": _("Activity-based"),
    "spend": _("Spend-based"),
}

# statuses of a report, an upload, an import
STATUS_LABELS = {
    "pending": pgettext_lazy("job status", "Queued"),
    "queued": pgettext_lazy("job status", "Queued"),
    "running": pgettext_lazy("job status", "Being made"),
    "done": pgettext_lazy("job status", "Done"),
    "failed": pgettext_lazy("job status", "Failed"),
    "pruned": pgettext_lazy("job status", "Files removed"),
    "active": pgettext_lazy("requirement status", "Active"),
    "draft": pgettext_lazy("requirement status", "Draft"),
    "retired": pgettext_lazy("requirement status", "Retired"),
}

CASE_STEP_LABELS = {
    "open": _("Case opened"),
    "screen": _("Climate relevance screened"),
    "propose_ambition": _("Ambition level proposed"),
    "decide_ambition": _("Ambition level decided"),
    "set_requirements": _("Requirements chosen"),
    "record_considerations": _("§ 7-9 record made"),
    "announce": _("Competition announced"),
    "award": _("Contract awarded"),
    "close": _("Case closed"),
    "cancel": _("Case cancelled"),
}

AUDIT_ACTION_LABELS = {
    "accept_invitation": _("Invitation accepted"),
    "activate_user": _("User activated"),
    "add_category": _("Category added"),
    "add_classification_rule": _("Classification rule added"),
    "add_membership": _("Membership added"),
    "add_supplier_factor": _("Supplier factor added"),
    "adopt_package": _("Package adopted"),
    "append": _("Lines added"),
    "change_measure_status": _("Measure status changed"),
    "compute": _("Account computed"),
    "compute.failed": _("Computation failed"),
    "compute.interrupted": _("Computation interrupted"),
    "prune_compute_runs": _("Old computations' files removed"),
    "confirm_totp": _("Second factor confirmed"),
    "create_agreement": _("Agreement created"),
    "create_invitation": _("Invitation created"),
    "create_measure": _("Measure created"),
    "create_organisation": _("Organisation created"),
    "create_package": _("Package created"),
    "create_requirement": _("Requirement created"),
    "create_units": _("Units created"),
    "create_user": _("User created"),
    "deactivate_classification_rule": _("Classification rule deactivated"),
    "delete_agreement": _("Agreement deleted"),
    "delete_import": _("Import deleted"),
    "disable_totp": _("Second factor removed"),
    "drop_import_failed": _("Drop-folder import refused"),
    "figures.publish": _("Figures published"),
    "generate_document": _("Document made"),
    "import_agreement": _("Agreement imported"),
    "import_factor_set": _("Factor set imported"),
    "import_kostra_confirmed": _("KOSTRA file imported despite another organisation number"),
    "import_measures": _("Measures imported"),
    "import_supplier_register": _("Supplier register imported"),
    "import_supplier_stats": _("Supplier statistics imported"),
    "leftovers.remove": _("Leftovers removed"),
    "link_identity": _("External sign-in linked"),
    "load_reference_data": _("Reference data loaded"),
    "lock_out": _("Sign-in locked"),
    "override_line_categories": _("Line categories corrected"),
    "publish_document": _("Document published"),
    "publish_factor_set": _("Factor set published"),
    "record_decision": _("Decision recorded"),
    "remove_membership": _("Membership removed"),
    "remove_password": _("Password removed"),
    "replace_import": _("Import replaced"),
    "report.generate": _("Report made"),
    "report.interrupted": _("Report interrupted"),
    "report_schedule.add": _("Report schedule added"),
    "report_schedule.remove": _("Report schedule removed"),
    "report_schedule.run": _("Scheduled report made"),
    "retire_target": _("Target retired"),
    "revoke_invitation": _("Invitation revoked"),
    "save_agreement_profile": _("Agreement-list profile saved"),
    "save_document_texts": _("Document texts saved"),
    "save_profile": _("Column-mapping profile saved"),
    "save_supplier_stats_profile": _("Supplier-statistics profile saved"),
    "set_approval_rules": _("Approval rules set"),
    "set_category_mapping": _("Category mapping set"),
    "set_climate_budget": _("Climate budget set"),
    "set_exchange_rate": _("Exchange rate set"),
    "set_password": _("Password set"),
    "set_population": _("Population set"),
    "set_target": _("Target set"),
    "sign_in": _("Signed in"),
    "sign_in_external": _("Signed in through an external provider"),
    "sign_in_failed": _("Sign-in failed"),
    "sign_out": _("Signed out"),
    "start_totp": _("Second factor started"),
    "train_text_model": _("Text model trained"),
    "update_organisation": _("Organisation changed"),
    "update_supplier": _("Supplier changed"),
    "update_unit": _("Unit changed"),
    "upload.create": _("File uploaded"),
    "upload.done": _("Uploaded file imported"),
    "upload.expired": _("Uploaded file expired"),
    "upload.map": _("Columns of an upload mapped"),
}
AUDIT_ACTION_LABELS.update({f"case_{step}": label for step, label in CASE_STEP_LABELS.items()})
AUDIT_ACTION_LABELS.update({
    "add_construction_project": _("Construction project added"),
    "update_construction_project": _("Construction project changed"),
    "import_climate_calculation": _("Climate calculation (NS 3720) imported"),
    "change_requirement": _("Requirement changed"),
    "update_agreement": _("Agreement changed"),
    "deactivate_user": _("User deactivated"),
    "fail_upload": _("Uploaded file refused"),
    "confirm_saft_import": _("SAF-T file imported although it names another company"),
    "confirm_ehf_import": _("Invoice imported although its buyer is another organisation"),
    "request_text_model_training": _("Retraining of the text model requested"),
    "complete_text_model_training": _("Retraining of the text model done"),
    "fail_text_model_training": _("Retraining of the text model failed"),
    "create_api_token": _("API key made"),
    "revoke_api_token": _("API key revoked"),
})
# entries written before the actions had one naming style were renamed (core/audit_actions.RENAMED): the label of the
# old name serves the new one
AUDIT_ACTION_LABELS.update({new: AUDIT_ACTION_LABELS[old] for old, new in RENAMED.items()
                            if old in AUDIT_ACTION_LABELS and new not in AUDIT_ACTION_LABELS})

# the fields of an audit entry's before/after and the values of codes among them
FIELD_LABELS = {
    "agreement": _("Agreement"), "ambition": _("Ambition level"), "ambition_proposed": _("Proposed ambition level"),
    "award": _("Award"), "case_number": _("Case number"), "category": _("Category"), "categories": _("Categories"),
    "considerations": _("Climate and environment considerations"), "date": _("Date"),
    "decision_date": _("Decision date"),
    "description": _("Description"), "kind": _("Kind"), "kpi": _("Indicator"), "lifetime_years": _("Lifetime, years"),
    "mechanism": _("Mechanism"), "name": _("Name"), "organisation": _("Organisation"), "package": _("Package"),
    "percent": _("Percent"), "relevance": _("Climate relevance"), "requirements": _("Requirements"),
    "state": _("State"), "status": _("Status"), "title": _("Title"), "to_category": _("Switched to category"),
    "method": _("Sign-in method"), "username": _("User name"), "ip": _("IP address"), "role": _("Role"),
    "unit": _("Unit"), "year": _("Year"), "tonnes": _("Tonnes CO2e"), "proposed": _("Proposed"),
    "profile": _("Profile"), "file_name": _("File"), "rows": _("Rows"), "lines": _("Lines"), "reason": _("Reason"),
    "supplier_orgnr": _("Supplier (organisation number)"), "weight_percent": _("Weight, %"),
    "climate_weight_percent": _("Climate weight, %"), "code": _("Code"), "orgnr": _("Organisation number"),
    "email": _("E-mail"), "cost_once_ore": _("One-off cost, øre"), "cost_yearly_ore": _("Yearly cost, øre"),
    "effective_date": _("Effective date"), "agreement_renewal": _("Renewal of the agreement"), "owner": _("Owner"),
    "organisations": _("Organisations"), "requirement": _("Requirement"), "participants": _("Participants"),
    "suppliers": _("Suppliers"), "start": _("Start"), "end": _("End"), "number": _("Number"),
    "milestones": _("Milestones"), "subject": _("Subject"), "months": _("Months"), "period": _("Period"),
    "target_year": _("Target year"), "baseline_year": _("Baseline year"), "value": _("Value"),
    # a publication's figures (services/reports.do_publish_figures)
    "run": _("Compute run"), "total": _("Sum"), "spend_nok": _("Spend, NOK"), "kg_co2e": _("kg CO2e"),
    "kg_co2e_low": _("kg CO2e, low"), "kg_co2e_high": _("kg CO2e, high"),
    "kg_co2e_market": _("kg CO2e, market-based"),
    "kg_co2e_investment": _("kg CO2e, investments"), "kg_co2e_operating": _("kg CO2e, operations"),
    # the records of imports, compute runs, profiles, agreements, cases, users and tokens
    "active": _("Active"),
    "adopted_on": _("Adopted on"), "already_imported": _("Already imported"), "amount": _("Amount"),
    "amount_includes_vat": _("Amount includes VAT"), "area_m2": _("Area, m²"), "art": _("KOSTRA art"),
    "account": _("Account"), "batch": _("Import"), "batches": _("Imports"), "building_type": _("Building type"),
    "codes": _("Codes"), "contact": _("Contact"), "created": _("Created"), "currency": _("Currency"),
    "customer_orgnr": _("Customer (organisation number)"), "cut_percent": _("Cut, %"), "date_format": _("Date format"),
    "delimiter": _("Delimiter"), "documents": _("Documents"), "documents_duplicate": _("Documents already imported"),
    "encoding": _("Character encoding"), "errors": _("Errors"), "errors_count": _("Number of errors"),
    "estimated_value_nok": _("Estimated value, NOK"), "estimated_yearly_nok": _("Estimated yearly value, NOK"),
    "expected_effect": _("Expected effect"), "expires_at": _("Expires"), "factor_sets": _("Factor sets"),
    "factors": _("Factors"), "file": _("File"), "findings": _("Findings"), "format": _("Format"),
    "function": _("KOSTRA function"), "guidance": _("Guidance"),
    "has_climate_requirements": _("Has climate requirements"), "has_password": _("Has a password"),
    "header_row": _("Header row"), "invoice_no": _("Invoice number"), "is_active": _("Active"),
    "kostra_region": _("KOSTRA region"), "label": _("Label"), "layout": _("Layout"), "legal_note": _("Legal note"),
    "licence": _("Licence"), "line_id": _("Line id"), "lines_added": _("Lines added"),
    "lines_duplicate": _("Lines already imported"), "lines_in": _("Lines in"), "locked_out": _("Locked out"),
    "measures": _("Measures"), "min_value_nok": _("Minimum value, NOK"), "modules": _("Modules"),
    "nok_per_unit": _("NOK per unit"), "note": _("Note"), "option": _("Option"),
    "option_months": _("Months per option"), "options_left": _("Options left"), "options_used": _("Options used"),
    "org": _("Organisation"), "overlaps": _("Overlaps"), "parent": _("Part of"), "phase": _("Phase"),
    "posting_date": _("Posting date"), "prefix": _("Prefix"), "procedure": _("Procedure"), "project": _("Project"),
    "project_code": _("Project code"), "quantity": _("Quantity"), "quantity_unit": _("Quantity unit"),
    "regulation": _("Regulation"), "replaced": _("Replaced"), "result": _("Result"), "revoked_at": _("Revoked"),
    "rows_other_customer": _("Rows of another customer"), "rows_read": _("Rows read"),
    "rule_version": _("Rule version"), "scope": _("Scope"), "scopes": _("Permissions"),
    "sha256": _("SHA-256 checksum"), "share": _("Share"), "sheet": _("Sheet"), "size": _("Size, bytes"),
    "source": _("Source"), "supplier_name": _("Supplier"), "target_cut_percent": _("Target cut, %"),
    "template": _("Template"), "text": _("Text"), "texts": _("Texts"), "unit_name": _("Unit name"), "user": _("User"),
    "values": _("Values"), "vat": _("VAT"), "verification": _("Verification"), "version": _("Version"),
    "voucher": _("Voucher"), "warnings": _("Warnings"),
    "columns": _("Columns"), "id": _("Identifier"),
}
VALUE_LABELS: dict[str, object] = {
    "opened": _("Opened"), "screened": _("Screened"), "ambition_decided": _("Ambition decided"),
    "requirements_set": _("Requirements set"), "announced": _("Announced"), "awarded": _("Awarded"),
    "closed": _("Closed"), "cancelled": _("Cancelled"),
    "proposed": _("Proposed"), "recommended": _("Recommended"), "adopted": _("Adopted"),
    "implemented": _("Implemented"), "verified": _("Verified"),
    "quantity": _("Less quantity or spend"), "switch": _("Switch to another factor"),
    "intensity": _("Lower emission intensity"),
    "high": _("High"), "medium": _("Medium"), "low": _("Low"),
    "basic": _("Basic"), "advanced": _("Advanced"), "leading": _("Leading"),
    "password": _("Password"), "level": _("Level"), "cut": _("Cut"),
    "qualification": _("Qualification requirement"), "specification": _("Technical specification"),
    "award": _("Award criterion"), "clause": _("Contract clause"),
    **SOURCE_LABELS, **STATUS_LABELS,
}
YES, NO = _("yes"), _("no")


def exclusion_label(reason: str) -> str:
    return str(EXCLUSION_LABELS.get(reason, reason))


def source_label(source: str) -> str:
    """A line source's or an upload kind's label (an upload's kind is spelt with a hyphen: "supplier-stats")."""
    return str(SOURCE_LABELS.get(source, SOURCE_LABELS.get(source.replace("-", "_"), source)))


def method_label(method: str) -> str:
    return str(METHOD_LABELS.get(method, method))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def case_step_label(step: str) -> str:
    return str(CASE_STEP_LABELS.get(step, step))


def audit_action_label(action: str) -> str:
    if action.startswith("import_") and action[len("import_"):] in SOURCE_LABELS:
        return str(_("Imported: %(source)s") % {"source": source_label(action[len("import_"):])})
    return str(AUDIT_ACTION_LABELS.get(action, action))


def field_label(key: str) -> str:
    label = FIELD_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ").capitalize()


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def value_text(value, names: dict[str, str] | None = None) -> str:
    """One value of an audit entry as a person reads it: codes by their label, yes/no, dates as 30.11.2026, lists
    joined, nested records as "field: value" pairs."""
    if value is None or value == "" or value == [] or value == {}:
        return "–"
    if isinstance(value, bool):
        return str(YES if value else NO)
    if isinstance(value, (int, float)):
        from klimainnkjop.web import formatting

        if isinstance(value, int) and abs(value) < 10_000:
            return str(value)  # a year, a count, a kind: 2024, not "2 024"
        return formatting.number(value, 0 if float(value).is_integer() else 2)
    if isinstance(value, str):
        if _ISO_DATE.match(value):
            return dt.date.fromisoformat(value).strftime("%d.%m.%Y")
        label = VALUE_LABELS.get(value)
        if label is None and names:
            label = names.get(value)
        return str(label) if label is not None else value
    if isinstance(value, list):
        return ", ".join(value_text(v, names) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)}: {value_text(v, names)}" for k, v in sorted(value.items()))
    return str(value)


def changes(before, after, names: dict[str, str] | None = None) -> list[dict]:
    """An audit entry's before and after as rows a person reads: field label, value before, value after, and
    whether it changed. A record of one side only lists that side's fields. `names`: category codes → names."""
    before = before if isinstance(before, dict) else ({} if before is None else {"value": before})
    after = after if isinstance(after, dict) else ({} if after is None else {"value": after})
    rows = []
    for key in sorted(set(before) | set(after), key=lambda k: str(field_label(k))):
        old, new = before.get(key), after.get(key)
        rows.append({"field": field_label(key), "before": value_text(old, names) if key in before else "",
                     "after": value_text(new, names) if key in after else "", "changed": key in before and key in after
                     and old != new})
    return rows


PRICE_TYPE_LABELS = {"purchaser": _("Purchaser price"), "basic": _("Basic price"), "producer": _("Producer price")}


def price_type_label(code: str) -> str:
    return str(PRICE_TYPE_LABELS.get(code, code))


_DOCUMENTS = re.compile(r"^(\d+) documents: (.*)$")


def batch_name(file_name: str) -> str:
    """The name of an import; an import of several e-invoices is stored as "34 documents: D2026010001.xml …"
    (services/invoices.py) and shown in the reader's language with the right plural."""
    match = _DOCUMENTS.match(file_name)
    if not match:
        return file_name
    count = int(match.group(1))
    return ngettext("%(count)d document: %(first)s", "%(count)d documents: %(first)s", count) % {
        "count": count, "first": match.group(2)}


# The shipped factor sets' descriptions (data/factor_sets/*.csv, `# description:`): English in the files, bokmål in
# django.po. A set imported with another description shows it as written.
FACTOR_SET_DESCRIPTIONS = (
    gettext_noop('Activity factors (kg CO2e per litre, kWh, km, passenger_km, tonne_km, night, tonne) from the DESNZ '
                 '2025 flat file: direct + well-to-tank (WTT) where both exist, air travel with radiative forcing, '
                 'materials cradle to gate, waste disposal per DESNZ boundaries, Norwegian electricity '
                 '(location-based) and district heating from the DFØ 2026 table, derived by '
                 'scripts/derive_desnz_2025_activity.py'),
    gettext_noop('Norwegian public-sector spend factors (DFØ 2022 factors, CPI-adjusted to 2026M08 by the source, kg '
                 'CO2e per NOK, purchaser price) bridged to KOSTRA art codes and taxonomy categories, '
                 'data/public/dfo/2026/factors.csv @ c1573658, derived by scripts/derive_dfo_klimaintensiteter.py'),
    gettext_noop('US EEIO spend factors with margins (purchaser price) per NAICS 2017, bridged to NACE Rev. 2 and the '
                 'category taxonomy (mean weighted by correspondence share), converted from kg CO2e per 2022 USD to '
                 'kg CO2e per 2022 NOK at 9.6245 NOK/USD, non-Norwegian fallback for categories the default set '
                 'lacks, derived by scripts/derive_epa_useeio_nok.py'),
    gettext_noop("Norway's location-based emission factor for electricity used, per year 2019-2023, from NVE's "
                 'published figures (raw/nve-electricity/nve-excerpts.txt), derived by '
                 'scripts/derive_nve_electricity_location.py'),
    gettext_noop('Life-cycle emissions of food products, kg CO2e per kg product (Total_emissions: land use change, '
                 'feed, farm, processing, transport, packaging, retail), global mean of Poore & Nemecek (2018), '
                 'sub-categories with several products take the simple mean, derived by '
                 'scripts/derive_poore_nemecek_2018_food.py'),
    gettext_noop('A hand-picked DFØ spend factor per KOSTRA purchase category, shipped with the walking skeleton. '
                 'Superseded by dfo-klimaintensiteter.'),
    gettext_noop("Norway's market-based (residual mix) emission factor for electricity, the years with a published "
                 "figure (2015, 2016, 2020), from raw/nve-electricity/nve-excerpts.txt, derived by "
                 "scripts/derive_nve_electricity_market.py, reported beside the location-based account, not used to "
                 "compute it"),
    gettext_noop("Norway's market-based (residual mix) emission factor for electricity, the years with a published "
                 "figure (2015, 2016, 2020), from raw/nve-electricity/nve-excerpts.txt, derived by "
                 "scripts/derive_nve_electricity_market.py, the market-based figure reported beside the "
                 "location-based account, never in its total"),
)


def factor_set_description(description: str) -> str:
    return gettext(description) if description in FACTOR_SET_DESCRIPTIONS else description


def screening_rule(screening: dict) -> str:
    """A case's screening (services/cases.do_screen_case keeps its inputs) as a sentence in the reader's language."""
    from klimainnkjop.web import formatting

    if not screening:
        return ""
    numbers = {"high": formatting.number(screening.get("high_tonnes"), 0),
               "medium": formatting.number(screening.get("medium_tonnes"), 0)}
    if screening.get("expected_tonnes") is None:
        return gettext("No purchases in the category in the account: medium relevance.")
    value = screening["expected_tonnes"] * 1000 / screening["intensity_kg_per_nok"] if screening.get(
        "intensity_kg_per_nok") else 0
    return gettext("Expected tonnes = value %(value)s kr × %(intensity)s kg per krone / 1000 = %(tonnes)s t; "
                   "high from %(high)s t, medium from %(medium)s t.") % {
        "value": formatting.number(value, 0), "intensity": formatting.number(screening["intensity_kg_per_nok"], 5),
        "tonnes": formatting.number(screening["expected_tonnes"], 2), **numbers}
