"""The audit log's actions: one list, one naming style.

Every audit entry's action is a member of `Action`, named verb_noun in snake case (`import_ledger`,
`generate_report`, `fail_compute`). `Action` is a StrEnum, so a member is stored and compared as its text. To add
an action, add a line here (services/audit.record_audit refuses an unknown action where
KLIMAINNKJOP_STRICT_AUDIT_ACTIONS is on, as in the tests; elsewhere it logs a warning and records it).

Entries written before this list had other names (dotted `report.generate`, `case_award`, `upload.done`); migration
0020 renamed them (RENAMED: old → new).
"""
from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    # organisations, units, people
    CREATE_ORGANISATION = "create_organisation"
    UPDATE_ORGANISATION = "update_organisation"
    CREATE_UNITS = "create_units"
    UPDATE_UNIT = "update_unit"
    CREATE_USER = "create_user"
    ACTIVATE_USER = "activate_user"
    DEACTIVATE_USER = "deactivate_user"
    ADD_MEMBERSHIP = "add_membership"
    REMOVE_MEMBERSHIP = "remove_membership"
    SET_PASSWORD = "set_password"  # noqa: S105 - an audit action's name, not a password
    REMOVE_PASSWORD = "remove_password"  # noqa: S105 - an audit action's name, not a password
    CREATE_INVITATION = "create_invitation"
    REVOKE_INVITATION = "revoke_invitation"
    ACCEPT_INVITATION = "accept_invitation"
    # sign-in (session actions: selectors.audit.SESSION_ACTIONS) and the second factor
    SIGN_IN = "sign_in"
    SIGN_IN_EXTERNAL = "sign_in_external"
    SIGN_OUT = "sign_out"
    FAIL_SIGN_IN = "fail_sign_in"
    LOCK_OUT = "lock_out"
    LINK_IDENTITY = "link_identity"
    START_TOTP = "start_totp"
    CONFIRM_TOTP = "confirm_totp"
    DISABLE_TOTP = "disable_totp"
    # imports
    IMPORT_LEDGER = "import_ledger"
    IMPORT_KOSTRA = "import_kostra"
    IMPORT_EHF = "import_ehf"
    IMPORT_SAFT = "import_saft"
    IMPORT_SUPPLIER_STATS = "import_supplier_stats"
    CONFIRM_KOSTRA_IMPORT = "confirm_kostra_import"
    REPLACE_IMPORT = "replace_import"
    DELETE_IMPORT = "delete_import"
    FAIL_DROP_IMPORT = "fail_drop_import"
    SAVE_PROFILE = "save_profile"
    SAVE_SUPPLIER_STATS_PROFILE = "save_supplier_stats_profile"
    CREATE_UPLOAD = "create_upload"
    MAP_UPLOAD = "map_upload"
    COMPLETE_UPLOAD = "complete_upload"
    FAIL_UPLOAD = "fail_upload"
    EXPIRE_UPLOAD = "expire_upload"
    # reference data, classification, suppliers
    LOAD_REFERENCE_DATA = "load_reference_data"
    SET_EXCHANGE_RATE = "set_exchange_rate"
    IMPORT_FACTOR_SET = "import_factor_set"
    PUBLISH_FACTOR_SET = "publish_factor_set"
    ADD_CATEGORY = "add_category"
    SET_CATEGORY_MAPPING = "set_category_mapping"
    ADD_SUPPLIER_FACTOR = "add_supplier_factor"
    ADD_CLASSIFICATION_RULE = "add_classification_rule"
    DEACTIVATE_CLASSIFICATION_RULE = "deactivate_classification_rule"
    OVERRIDE_LINE_CATEGORIES = "override_line_categories"
    TRAIN_TEXT_MODEL = "train_text_model"
    IMPORT_SUPPLIER_REGISTER = "import_supplier_register"
    UPDATE_SUPPLIER = "update_supplier"
    # computing and the data directory
    COMPUTE = "compute"
    FAIL_COMPUTE = "fail_compute"
    INTERRUPT_COMPUTE = "interrupt_compute"
    REMOVE_LEFTOVERS = "remove_leftovers"
    PRUNE_COMPUTE_RUNS = "prune_compute_runs"
    # reports, publication, documents
    GENERATE_REPORT = "generate_report"
    INTERRUPT_REPORT = "interrupt_report"
    ADD_REPORT_SCHEDULE = "add_report_schedule"
    REMOVE_REPORT_SCHEDULE = "remove_report_schedule"
    RUN_REPORT_SCHEDULE = "run_report_schedule"
    PUBLISH_FIGURES = "publish_figures"
    GENERATE_DOCUMENT = "generate_document"
    SAVE_DOCUMENT_TEXTS = "save_document_texts"
    PUBLISH_DOCUMENT = "publish_document"
    RECORD_DECISION = "record_decision"
    # measures, targets, budgets
    CREATE_MEASURE = "create_measure"
    IMPORT_MEASURES = "import_measures"
    CHANGE_MEASURE_STATUS = "change_measure_status"
    CREATE_PACKAGE = "create_package"
    ADOPT_PACKAGE = "adopt_package"
    SET_TARGET = "set_target"
    RETIRE_TARGET = "retire_target"
    SET_POPULATION = "set_population"
    SET_CLIMATE_BUDGET = "set_climate_budget"
    # agreements, requirements, procurement cases (a case's steps: CASE_STEP_ACTIONS)
    IMPORT_AGREEMENT = "import_agreement"
    CREATE_AGREEMENT = "create_agreement"
    UPDATE_AGREEMENT = "update_agreement"
    DELETE_AGREEMENT = "delete_agreement"
    SAVE_AGREEMENT_PROFILE = "save_agreement_profile"
    CREATE_REQUIREMENT = "create_requirement"
    CHANGE_REQUIREMENT = "change_requirement"
    SET_APPROVAL_RULES = "set_approval_rules"
    OPEN_CASE = "open_case"
    SCREEN_CASE = "screen_case"
    PROPOSE_CASE_AMBITION = "propose_case_ambition"
    DECIDE_CASE_AMBITION = "decide_case_ambition"
    SET_CASE_REQUIREMENTS = "set_case_requirements"
    RECORD_CASE_CONSIDERATIONS = "record_case_considerations"
    ANNOUNCE_CASE = "announce_case"
    AWARD_CASE = "award_case"
    CLOSE_CASE = "close_case"
    CANCEL_CASE = "cancel_case"
    # construction projects against FutureBuilt (issue 11 item 5)
    ADD_CONSTRUCTION_PROJECT = "add_construction_project"
    UPDATE_CONSTRUCTION_PROJECT = "update_construction_project"
    IMPORT_CLIMATE_CALCULATION = "import_climate_calculation"
    # administration on the web (issue 16 items 5 and 9)
    CONFIRM_SAFT_IMPORT = "confirm_saft_import"
    CONFIRM_EHF_IMPORT = "confirm_ehf_import"
    REQUEST_TEXT_MODEL_TRAINING = "request_text_model_training"
    COMPLETE_TEXT_MODEL_TRAINING = "complete_text_model_training"
    FAIL_TEXT_MODEL_TRAINING = "fail_text_model_training"
    # the JSON API's tokens (issue 16 item 8)
    CREATE_API_TOKEN = "create_api_token"  # noqa: S105 - an audit action's name
    REVOKE_API_TOKEN = "revoke_api_token"  # noqa: S105 - an audit action's name


KNOWN: frozenset[str] = frozenset(a.value for a in Action)

# an import batch's kind (ImportBatch.kind) → the action of its import
IMPORT_ACTIONS: dict[str, Action] = {
    "ledger": Action.IMPORT_LEDGER, "kostra": Action.IMPORT_KOSTRA, "ehf": Action.IMPORT_EHF,
    "saft": Action.IMPORT_SAFT, "supplier_stats": Action.IMPORT_SUPPLIER_STATS,
}

# a procurement case's step (CaseEvent.step) → the action of its audit entry
CASE_STEP_ACTIONS: dict[str, Action] = {
    "open": Action.OPEN_CASE, "screen": Action.SCREEN_CASE, "propose_ambition": Action.PROPOSE_CASE_AMBITION,
    "decide_ambition": Action.DECIDE_CASE_AMBITION, "set_requirements": Action.SET_CASE_REQUIREMENTS,
    "record_considerations": Action.RECORD_CASE_CONSIDERATIONS, "announce": Action.ANNOUNCE_CASE,
    "award": Action.AWARD_CASE, "close": Action.CLOSE_CASE, "cancel": Action.CANCEL_CASE,
}

# names of entries written before this list → their action now (storage migration 0020 renamed the stored rows)
RENAMED: dict[str, str] = {
    "compute.failed": "fail_compute", "compute.interrupted": "interrupt_compute",
    "leftovers.remove": "remove_leftovers", "upload.create": "create_upload", "upload.map": "map_upload",
    "upload.done": "complete_upload", "upload.failed": "fail_upload", "upload.expired": "expire_upload",
    "report.generate": "generate_report", "report.interrupted": "interrupt_report",
    "report_schedule.add": "add_report_schedule", "report_schedule.remove": "remove_report_schedule",
    "report_schedule.run": "run_report_schedule", "figures.publish": "publish_figures",
    "sign_in_failed": "fail_sign_in", "drop_import_failed": "fail_drop_import",
    "import_kostra_confirmed": "confirm_kostra_import",
    **{f"case_{step}": action.value for step, action in CASE_STEP_ACTIONS.items()},
}
