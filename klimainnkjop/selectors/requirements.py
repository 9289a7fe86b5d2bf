"""Reads of the requirement library (shared reference data of the region: no organisation scope)."""
from __future__ import annotations

from klimainnkjop.storage.models import Requirement, RequirementVersion

KINDS = Requirement.KINDS  # (kind, Norwegian label) for the faces


class NotFound(LookupError):
    pass


def requirements(*, kind: str | None = None, category: str | None = None, status: str | None = "active",
                 query: str | None = None) -> list[Requirement]:
    """The library, by id; `category` also finds the requirements of its ancestors (goods.food.beef finds those
    for goods.food and goods)."""
    items = Requirement.objects.all().order_by("code")
    if kind:
        items = items.filter(kind=kind)
    if status:
        items = items.filter(status=status)
    if query:
        items = items.filter(title__icontains=query) | items.filter(text__icontains=query)
    found = list(items.distinct())
    if category:
        parts = category.split(".")
        wanted = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
        found = [r for r in found if wanted & set(r.categories)]
    return found


def requirement(code: str) -> Requirement:
    found = Requirement.objects.filter(code=code).first()
    if found is None:
        raise NotFound(f"no requirement {code}")
    return found


def history(item: Requirement) -> list[RequirementVersion]:
    return list(item.versions.select_related("changed_by").order_by("-version"))


def categories() -> list:
    """The category tree (shared reference data), for choosing a case's category."""
    from klimainnkjop.storage.models import Category

    return list(Category.objects.order_by("code"))


def exists(code: str) -> bool:
    return Requirement.objects.filter(code=code).exists()
