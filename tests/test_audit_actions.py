"""Typed actors and audit actions (issue 17 item 3): an Actor is a person or a named system actor; every audit
action is a member of core/audit_actions.Action, named verb_noun in snake case; stored entries of the old names are
renamed by migration 0020."""
import ast
import importlib
import logging
import re
import types
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from klimainnkjop.core import actors
from klimainnkjop.core.actors import CLI, Actor, as_actor
from klimainnkjop.core.audit_actions import CASE_STEP_ACTIONS, IMPORT_ACTIONS, KNOWN, RENAMED, Action
from klimainnkjop.services.audit import UnknownAuditAction, record_audit
from klimainnkjop.services.users import do_create_user
from klimainnkjop.storage.models import AuditEntry

PACKAGE = Path(__file__).resolve().parent.parent / "klimainnkjop"
MIGRATION = importlib.import_module("klimainnkjop.storage.migrations.0020_audit_action_names")


# --- actors ------------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_signed_in_user_is_a_person_named_by_username_and_linked_in_the_entry():
    kari = do_create_user(email="kari@kongsvinger.kommune.no", actor=CLI)
    actor = as_actor(kari)
    assert actor.is_person and actor.user is kari and actor.label == "kari@kongsvinger.kommune.no"
    entry = record_audit(actor=actor, action=Action.SET_PASSWORD, obj=kari)
    assert (entry.actor, entry.actor_label, entry.action) == (kari, "kari@kongsvinger.kommune.no", "set_password")
    assert as_actor(actor) is actor


@pytest.mark.parametrize("value, label", [("cli", "cli"), ("test", "test"), (None, "system"), ("", "system"),
                                          (CLI, "cli"), (actors.SCHEDULER, "scheduler")])
def test_a_name_or_none_is_a_system_actor_with_no_person(value, label):
    actor = as_actor(value)
    assert not actor.is_person and actor.user is None and actor.label == label == str(actor)


def test_someone_not_signed_in_is_the_anonymous_system_actor():
    assert as_actor(AnonymousUser()) == actors.ANONYMOUS


@pytest.mark.parametrize("fields", [{}, {"user": object(), "name": "cli"}])
def test_an_actor_is_either_a_person_or_a_named_system_actor(fields):
    with pytest.raises(ValueError, match="either a person or a named system actor"):
        Actor(**fields)


def test_the_products_system_actors_are_named_in_one_list():
    constants = {value.name for value in vars(actors).values() if isinstance(value, Actor)}
    assert constants <= set(actors.SYSTEM_ACTORS)
    assert {"cli", "scheduler", "worker", "dropfolder", "autocompute", "api"} <= constants


@pytest.mark.django_db
def test_a_system_actor_s_entry_has_its_name_and_no_person():
    entry = record_audit(actor="cli", action=Action.COMPUTE, object_type="ComputeRun", object_id="1")
    assert (entry.actor, entry.actor_label) == (None, "cli")


# --- actions -----------------------------------------------------------------------------------------------------

def test_every_action_is_named_verb_noun_in_snake_case():
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", name) for name in KNOWN), sorted(KNOWN)
    assert len(KNOWN) == len(Action)


def _action_arguments():
    """(file, line, expression) of every `action=` keyword of a call in the package (not argparse's)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "action" and not (isinstance(keyword.value, ast.Constant) and keyword.value.value
                                                        in ("store_true", "store_false", "append", "count")):
                        yield path.relative_to(PACKAGE.parent), node.lineno, keyword.value


def _allowed(expression) -> bool:
    """Action.X, IMPORT_ACTIONS[...], CASE_STEP_ACTIONS[...], a conditional of those, or a variable passed on."""
    if isinstance(expression, ast.Attribute) and expression.attr == "value":  # a query's Action.X.value
        return _allowed(expression.value)
    if isinstance(expression, ast.Attribute):
        return isinstance(expression.value, ast.Name) and expression.value.id == "Action" \
            and expression.attr in Action.__members__
    if isinstance(expression, ast.Subscript):
        return isinstance(expression.value, ast.Name) and expression.value.id in ("IMPORT_ACTIONS", "CASE_STEP_ACTIONS")
    if isinstance(expression, ast.IfExp):
        return _allowed(expression.body) and _allowed(expression.orelse)
    return isinstance(expression, ast.Name) and expression.id == "action"


def test_every_action_a_service_writes_is_one_of_the_constants():
    found = list(_action_arguments())
    assert len(found) > 80  # the scan sees the services' record_audit calls
    wrong = [f"{path}:{line}: {ast.unparse(expression)}" for path, line, expression in found
             if not _allowed(expression)]
    assert not wrong, wrong


def test_the_dynamic_actions_cover_every_import_kind_and_case_step():
    from klimainnkjop.services.cases import NEXT

    assert set(IMPORT_ACTIONS) == {"ledger", "kostra", "ehf", "saft", "supplier_stats"}
    steps = set(CASE_STEP_ACTIONS)
    assert {"open", "cancel", "screen", "announce", "award", "close"} <= steps and set(NEXT) - {
        "propose", "decide", "requirements", "considerations"} <= steps
    assert set(IMPORT_ACTIONS.values()) | set(CASE_STEP_ACTIONS.values()) <= set(Action)


@pytest.mark.django_db
def test_an_unknown_action_is_refused_where_strict_and_recorded_with_a_warning_elsewhere(settings, caplog):
    count = AuditEntry.objects.count()
    with pytest.raises(UnknownAuditAction, match="'report.generate' is not in core/audit_actions.Action"):
        record_audit(actor="test", action="report.generate", object_type="Report")
    assert AuditEntry.objects.count() == count
    settings.KLIMAINNKJOP_STRICT_AUDIT_ACTIONS = False
    with caplog.at_level(logging.WARNING, logger="klimainnkjop.services.audit"):
        entry = record_audit(actor="test", action="brand_new_thing", object_type="X")
    assert entry.action == "brand_new_thing" and "brand_new_thing" in caplog.text


# --- the old names, renamed -------------------------------------------------------------------------------------

def test_the_old_names_are_not_actions_and_each_new_one_is():
    assert not set(RENAMED) & KNOWN
    assert set(RENAMED.values()) <= KNOWN
    assert MIGRATION.RENAMED == RENAMED  # the migration's own copy of the mapping


@pytest.mark.django_db
def test_the_migration_renames_stored_entries_of_the_old_names_and_back():
    AuditEntry.objects.all().delete()
    for old in ("report.generate", "case_award", "sign_in_failed", "upload.done"):
        AuditEntry.objects.create(actor_label="cli", action=old, object_type="X", object_id="1")
    AuditEntry.objects.create(actor_label="cli", action="import_ledger", object_type="X", object_id="2")
    editor = types.SimpleNamespace(connection=connection)
    MIGRATION._rename(MIGRATION.RENAMED)(django_apps, editor)
    assert sorted(AuditEntry.objects.values_list("action", flat=True)) == [
        "award_case", "complete_upload", "fail_sign_in", "generate_report", "import_ledger"]
    MIGRATION._rename({new: old for old, new in MIGRATION.RENAMED.items()})(django_apps, editor)
    assert sorted(AuditEntry.objects.values_list("action", flat=True)) == [
        "case_award", "import_ledger", "report.generate", "sign_in_failed", "upload.done"]
