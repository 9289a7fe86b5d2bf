"""Audit actions in one naming style (verb_noun, snake case; core/audit_actions.py): stored entries renamed.

The mapping is written out here (a migration must not change when the code does); it equals
core/audit_actions.RENAMED, which tests/test_audit_actions.py checks. Reversible.
"""
from django.db import migrations

RENAMED = {
    "case_announce": "announce_case",
    "case_award": "award_case",
    "case_cancel": "cancel_case",
    "case_close": "close_case",
    "case_decide_ambition": "decide_case_ambition",
    "case_open": "open_case",
    "case_propose_ambition": "propose_case_ambition",
    "case_record_considerations": "record_case_considerations",
    "case_screen": "screen_case",
    "case_set_requirements": "set_case_requirements",
    "compute.failed": "fail_compute",
    "compute.interrupted": "interrupt_compute",
    "drop_import_failed": "fail_drop_import",
    "figures.publish": "publish_figures",
    "import_kostra_confirmed": "confirm_kostra_import",
    "leftovers.remove": "remove_leftovers",
    "report.generate": "generate_report",
    "report.interrupted": "interrupt_report",
    "report_schedule.add": "add_report_schedule",
    "report_schedule.remove": "remove_report_schedule",
    "report_schedule.run": "run_report_schedule",
    "sign_in_failed": "fail_sign_in",
    "upload.create": "create_upload",
    "upload.done": "complete_upload",
    "upload.expired": "expire_upload",
    "upload.failed": "fail_upload",
    "upload.map": "map_upload",
}


def _rename(mapping):
    def run(apps, schema_editor):
        entries = apps.get_model("klimainnkjop", "AuditEntry").objects.using(schema_editor.connection.alias)
        for old, new in mapping.items():
            entries.filter(action=old).update(action=new)
    return run


class Migration(migrations.Migration):
    dependencies = [("klimainnkjop", "0018_construction_projects")]

    operations = [
        migrations.RunPython(_rename(RENAMED), _rename({new: old for old, new in RENAMED.items()})),
    ]
