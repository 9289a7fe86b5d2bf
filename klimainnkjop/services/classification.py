"""Classification decisions: user rules and manual overrides. Each becomes data the engine joins in."""
from __future__ import annotations


from django.db import transaction
from django.utils.translation import gettext

from klimainnkjop.services.audit import record_audit
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.storage.models import Category, ClassificationRule, Organisation
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike, as_actor


def _rule_dict(rule: ClassificationRule) -> dict:
    return {"kind": rule.kind, "value": rule.value, "category": rule.category.code, "priority": rule.priority,
            "organisation": rule.organisation.orgnr if rule.organisation else None, "active": rule.active}


def _category(code: str) -> Category:
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise InvalidInput.at("category", gettext("no category %(code)r"), code=code)
    return category


def do_add_classification_rule(*, kind: str, value: str, category_code: str, organisation: Organisation | None = None,
                               priority: int = 100, note: str = "", actor: ActorLike = None) -> ClassificationRule:
    if kind not in dict(ClassificationRule.KINDS) or kind == "line":
        raise InvalidInput.at("kind", gettext("%(kind)r must be supplier, account, item_code or keyword"), kind=kind)
    value = value.strip().lower() if kind == "keyword" else value.strip()
    if not value or (kind == "keyword" and not value.isalnum()):
        raise InvalidInput.at("value", gettext("a keyword is one word (letters and digits)") if kind == "keyword"
                              else gettext("must not be empty"))
    with transaction.atomic():
        rule = ClassificationRule.objects.create(
            kind=kind, value=value, category=_category(category_code), organisation=organisation, priority=priority,
            note=note, created_by=as_actor(actor).user)
        record_audit(actor=actor, action=Action.ADD_CLASSIFICATION_RULE, obj=rule, organisation=organisation,
                     after=_rule_dict(rule))
    return rule


def do_override_line_categories(*, organisation: Organisation, line_keys: list[str], category_code: str,
                                note: str = "", actor: ActorLike = None) -> int:
    """Manual override of one or many lines (bulk re-classification). Replaces earlier overrides."""
    category = _category(category_code)
    keys = sorted({k.strip() for k in line_keys if k.strip()})
    if not keys:
        raise InvalidInput.at("lines", gettext("choose at least one line"))
    with transaction.atomic():
        previous = {r.value: r.category.code for r in ClassificationRule.objects.filter(
            kind="line", organisation=organisation, value__in=keys, active=True).select_related("category")}
        ClassificationRule.objects.filter(kind="line", organisation=organisation, value__in=keys).update(active=False)
        ClassificationRule.objects.bulk_create([
            ClassificationRule(kind="line", value=k, organisation=organisation, category=category, priority=0,
                               note=note, created_by=as_actor(actor).user)
            for k in keys])
        record_audit(actor=actor, action=Action.OVERRIDE_LINE_CATEGORIES, object_type="ClassificationRule",
                     object_id=str(len(keys)), organisation=organisation,
                     before={"lines": previous} if previous else None,
                     after={"lines": keys[:500], "category": category_code, "count": len(keys)})
    return len(keys)


def do_deactivate_classification_rule(*, rule: ClassificationRule, actor: ActorLike = None) -> ClassificationRule:
    with transaction.atomic():
        before = _rule_dict(rule)
        rule.active = False
        rule.save(update_fields=["active"])
        record_audit(actor=actor, action=Action.DEACTIVATE_CLASSIFICATION_RULE, obj=rule,
                     organisation=rule.organisation, before=before, after=_rule_dict(rule))
    return rule
