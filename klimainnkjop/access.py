"""The one place where permissions are decided.

A Scope says which organisations (and, for unit leaders, which units) a person may see. Every selector
takes a Scope; asking for an organisation outside it raises OutsideScope instead of returning data.
"""
from __future__ import annotations

from dataclasses import dataclass

from klimainnkjop.storage.models import Membership, Organisation, Unit

REGION_WIDE_ROLES = {"region-admin"}


class OutsideScope(PermissionError):
    pass


@dataclass(frozen=True)
class Scope:
    orgnrs: frozenset[str] | None  # None: every organisation
    units: dict[str, frozenset[str]] | None = None  # orgnr -> unit codes, for unit leaders only
    label: str = ""

    @property
    def everything(self) -> bool:
        return self.orgnrs is None

    def allows(self, orgnr: str) -> bool:
        return self.orgnrs is None or orgnr in self.orgnrs

    def check(self, orgnr: str) -> None:
        if not self.allows(orgnr):
            raise OutsideScope(f"organisation {orgnr} is outside {self.label or 'this scope'}")

    def organisations(self):
        query = Organisation.objects.all()
        return query if self.orgnrs is None else query.filter(orgnr__in=self.orgnrs)

    def unit_filter(self, orgnr: str) -> frozenset[str] | None:
        """None: every unit of the organisation; else only these unit codes."""
        if self.units is None:
            return None
        return self.units.get(orgnr)


def system_scope() -> Scope:
    """For the CLI and background jobs, which act with the operator's full rights."""
    return Scope(orgnrs=None, label="system")


def scope_for(user) -> Scope:
    if user is None or not user.is_authenticated:
        return Scope(orgnrs=frozenset(), label="anonymous")
    if user.is_superuser:
        return Scope(orgnrs=None, label=user.get_username())
    memberships = list(Membership.objects.filter(user=user).select_related("organisation", "unit"))
    if any(m.role in REGION_WIDE_ROLES for m in memberships):
        return Scope(orgnrs=None, label=user.get_username())
    orgs: set[str] = set()
    unit_limits: dict[str, set[str]] = {}
    whole_orgs: set[str] = set()
    for m in memberships:
        orgnr = m.organisation.orgnr
        orgs.add(orgnr)
        if m.role == "unit-leader" and m.unit is not None:
            unit_limits.setdefault(orgnr, set()).update(_unit_and_children(m.unit))
        else:
            whole_orgs.add(orgnr)
    limits = {o: frozenset(u) for o, u in unit_limits.items() if o not in whole_orgs}
    return Scope(orgnrs=frozenset(orgs), units=limits or None, label=user.get_username())


def _unit_and_children(unit: Unit) -> set[str]:
    codes = {unit.code}
    frontier = [unit.pk]
    while frontier:
        children = list(Unit.objects.filter(parent_id__in=frontier).values_list("pk", "code"))
        frontier = [pk for pk, _ in children]
        codes.update(code for _, code in children)
    return codes
