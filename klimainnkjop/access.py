"""The one place where permissions are decided.

A Scope says which organisations (and, for unit leaders, which units) a person may see. Every selector
takes a Scope; asking for an organisation outside it raises OutsideScope instead of returning data.
"""
from __future__ import annotations

import functools
from contextlib import contextmanager
from dataclasses import dataclass

from django_scopes import ScopeError, get_scope, scope as _activate_scope, scopes_disabled  # noqa: F401 - re-exported

from klimainnkjop.core.actors import Actor, ActorLike
from klimainnkjop.storage.models import Measure, Membership, Organisation, Report, Unit

REGION_WIDE_ROLES = {"region-admin"}
ADMIN_ROLES = {"org-admin"}  # people, units and invitations of their organisation
AUDIT_ROLES = {"auditor"}  # everything of their organisation, and its audit log
IMPORT_ROLES = {"org-admin", "finance", "purchaser"}  # ledger imports, profiles, deleting an import


from klimainnkjop.core.errors import OutsideScope  # noqa: E402,F401 - imported from here by callers


@dataclass(frozen=True)
class Scope:
    orgnrs: frozenset[str] | None  # None: every organisation
    units: dict[str, frozenset[str]] | None = None  # orgnr -> unit codes, for unit leaders only
    label: str = ""
    audit: frozenset[str] | None = frozenset()  # organisations whose audit log may be read; None: every one

    def check_audit(self, orgnr: str | None = None) -> None:
        """Raises OutsideScope for an organisation outside the scope, PermissionError for a log not to be read."""
        if orgnr is not None:
            self.check(orgnr)
        if self.audit is None:
            return
        if orgnr is None or orgnr not in self.audit:
            raise PermissionError(f"the audit log{f' of {orgnr}' if orgnr else ''} is for auditors and region "
                                  f"administrators; {self.label or 'this scope'} may not read it")

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
    return Scope(orgnrs=None, label="system", audit=None)


# the named system actors that act with the operator's full rights: the command line, the scheduler (cron runs the
# command line), the background worker and the demo's generator. Any other system actor (anonymous, api, oidc,
# invitation, an unknown name) and None are no one: they see nothing and may do nothing on their own.
OPERATOR_ACTORS = frozenset({"cli", "scheduler", "worker", "demo"})


def person_of(actor: ActorLike):
    """The user behind what a caller passes (an Actor, a user, a system actor's name or None); None for a system
    actor or no one."""
    if isinstance(actor, Actor):
        return actor.user
    if actor is None or isinstance(actor, str):
        return None
    return actor


def is_operator(actor: ActorLike) -> bool:
    """A named system actor of OPERATOR_ACTORS (never a person, never None)."""
    if isinstance(actor, Actor):
        return not actor.is_person and actor.name in OPERATOR_ACTORS
    return isinstance(actor, str) and actor in OPERATOR_ACTORS


# --- scoped by default (django-scopes) ----------------------------------------------------------------------
# Organisation-bound models (storage/models.py, `objects = org_scoped(...)`) refuse a query unless a scope is
# active: the web and API requests activate the signed-in person's or the token's Scope (web/middleware.py), the
# operator's entry points (the CLI, the report worker's jobs) run `operator()`, and each query inside a scope is
# filtered to the scope's organisations, so a forgotten filter is an error or an empty answer, never a leak.

@contextmanager
def activate(scope: Scope):
    """Activates the Scope for the organisation-bound models: every one of their queries inside is filtered to the
    scope's organisations (a region-wide scope: unfiltered, but active)."""
    if scope.orgnrs is None:
        with _activate_scope(organisation=None):
            yield
        return
    ids = scope.__dict__.get("_organisation_ids")
    if ids is None:  # once per Scope object
        ids = list(Organisation.objects.filter(orgnr__in=scope.orgnrs).values_list("pk", flat=True))
        object.__setattr__(scope, "_organisation_ids", ids)
    with _activate_scope(organisation=list(ids)):
        yield


def in_scope(selector):
    """A selector whose first argument is a Scope reads in it (activate): its queries of organisation-bound models
    are filtered to the scope's organisations whoever calls it, a query set it returns included."""
    @functools.wraps(selector)
    def read(scope: Scope, *args, **kwargs):
        with activate(scope):
            return selector(scope, *args, **kwargs)
    return read


def streamed(rows):
    """The rows of a streaming response (a CSV export), each produced in the scope active now, when the view builds
    the response: the server iterates them after the view and ScopeMiddleware have returned, so without this a row's
    query would run in no scope (ScopeError) or, worse, in whatever scope the thread is in then. Each step enters the
    captured scope and leaves it before the row is handed on (a `with` around a generator's `yield` would leak it)."""
    captured = dict(get_scope())

    def steps():
        iterator = iter(rows)
        while True:
            with _activate_scope(**captured):
                try:
                    row = next(iterator)
                except StopIteration:
                    return
            yield row
    return steps()


def operator():
    """The operator's context (the command line, the scheduler, the worker's jobs): no organisation filter. Only at
    those entry points; a face never runs in it."""
    return scopes_disabled()


def scope_for(actor: ActorLike) -> Scope:
    """What the actor may see: a person's memberships; the operator's system actors (OPERATOR_ACTORS) everything;
    anyone else (None, anonymous, another system actor) nothing."""
    if is_operator(actor):
        return system_scope()
    user = person_of(actor)
    if user is None or not user.is_authenticated:
        return Scope(orgnrs=frozenset(), label="anonymous")
    if user.is_superuser:
        return Scope(orgnrs=None, label=user.get_username(), audit=None)
    memberships = list(Membership.objects.filter(user=user).select_related("organisation", "unit"))
    if any(m.role in REGION_WIDE_ROLES for m in memberships):
        return Scope(orgnrs=None, label=user.get_username(), audit=None)
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
    audit = frozenset(m.organisation.orgnr for m in memberships if m.role in AUDIT_ROLES)
    return Scope(orgnrs=frozenset(orgs), units=limits or None, label=user.get_username(), audit=audit)


def _unit_and_children(unit: Unit) -> set[str]:
    codes = {unit.code}
    frontier = [unit.pk]
    while frontier:
        children = list(Unit.objects.filter(parent_id__in=frontier).values_list("pk", "code"))
        frontier = [pk for pk, _ in children]
        codes.update(code for _, code in children)
    return codes


# --- explicit predicates for the faces (web, CLI): one question each, answered from memberships -----------

def _active(actor: ActorLike) -> bool:
    """A signed-in, active person (the predicates below answer for people only; a system actor gets False)."""
    user = person_of(actor)
    return user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False)


def roles_of(user: ActorLike, orgnr: str) -> set[str]:
    """The person's roles in one organisation (region-wide roles count everywhere)."""
    if not _active(user):
        return set()
    user = person_of(user)
    rows = Membership.objects.filter(user=user).values_list("role", "organisation__orgnr")
    return {role for role, org in rows if org == orgnr or role in REGION_WIDE_ROLES}


def is_region_admin(user: ActorLike) -> bool:
    if not _active(user):
        return False
    user = person_of(user)
    return user.is_superuser or Membership.objects.filter(user=user, role__in=REGION_WIDE_ROLES).exists()


def can_view(user: ActorLike, orgnr: str) -> bool:
    """May read the organisation's figures (a unit leader: those of their units only)."""
    return _active(user) and scope_for(user).allows(orgnr)


def can_view_imports(user: ActorLike, orgnr: str) -> bool:
    """May see the organisation's imported files: their names, line counts and amounts are the whole
    organisation's, so a unit leader (who reads their units' figures only) does not."""
    return can_view(user, orgnr) and scope_for(user).unit_filter(orgnr) is None


def can_administer(user: ActorLike, orgnr: str) -> bool:
    """May manage the organisation's people, memberships, units and invitations."""
    return is_region_admin(user) or bool(roles_of(user, orgnr) & ADMIN_ROLES)


def may_hand_over(inviter: ActorLike, person) -> bool:
    """Whether an invitation made by `inviter` may give whoever holds its link the existing account `person` (its
    first password, or the link of a sign-in identity), rather than only a membership to accept once signed in as
    them. The link's token is shown to the inviter, so only for a person without a password whom the inviter
    administers wholly: a region administrator may, an organisation's administrator for a person of their
    organisation(s) alone without a region-wide role, the operator (an invitation made with the CLI, no inviter)
    may; an administrator of another organisation may not (it would take over that person's account)."""
    if person.has_usable_password():
        return False
    user = person_of(inviter)
    if user is None:
        return inviter is None or is_operator(inviter)
    if is_region_admin(user):
        return True
    if person.is_superuser:
        return False
    held = Membership.objects.filter(user=person).values_list("role", "organisation__orgnr")
    return all(role not in REGION_WIDE_ROLES and can_administer(user, orgnr) for role, orgnr in held)


def can_administer_region(user: ActorLike) -> bool:
    """May create organisations and change shared reference data (factor sets, categories, rates)."""
    return is_region_admin(user)


def can_import(user: ActorLike, orgnr: str) -> bool:
    """May import ledgers, save mapping profiles and delete imports of the organisation."""
    return is_region_admin(user) or bool(roles_of(user, orgnr) & IMPORT_ROLES)


def can_view_audit(user: ActorLike, orgnr: str | None = None) -> bool:
    """May read the audit log of the organisation (orgnr None: the whole region's log)."""
    if is_region_admin(user):
        return True
    return orgnr is not None and bool(roles_of(user, orgnr) & AUDIT_ROLES)


CLASSIFY_ROLES = {"org-admin", "purchaser"}  # re-classify lines, make classification rules of it


def can_classify(user: ActorLike, orgnr: str) -> bool:
    """May change the category of the organisation's lines (review queue) and add rules for them."""
    return is_region_admin(user) or bool(roles_of(user, orgnr) & CLASSIFY_ROLES)


def check_report_subject(scope: Scope, *, scope_kind: str, orgnr: str | None, unit_code: str | None) -> None:
    """Whether the scope may make or see a report of this subject; raises OutsideScope or PermissionError if not.
    A region report is for region-wide scopes; an organisation report for scopes that see the whole
    organisation; a unit report for scopes that see the unit (a unit leader: only their own units)."""
    if scope_kind == Report.SCOPE_REGION:
        if not scope.everything:
            raise PermissionError("a region report is for region administrators")
        return
    scope.check(orgnr or "")
    limit = scope.unit_filter(orgnr or "")
    if limit is None:
        return
    if scope_kind != Report.SCOPE_UNIT:
        raise PermissionError("an organisation report covers every unit; choose a unit report")
    if unit_code not in limit:
        raise PermissionError(f"unit {unit_code} is outside what {scope.label or 'this scope'} may see")


def may_see_report(scope: Scope, report: Report) -> bool:
    """The predicate of check_report_subject for a stored report."""
    try:
        check_report_subject(scope, scope_kind=report.scope_kind,
                             orgnr=report.organisation.orgnr if report.organisation_id else None,
                             unit_code=report.unit_code or None)
    except PermissionError:  # OutsideScope is one
        return False
    return True


MEASURE_ROLES = {"org-admin", "purchaser"}  # record an organisation's adoption of a measure or package (issue 10)


def can_manage_measures(user: ActorLike, orgnr: str | None = None) -> bool:
    """May record a measure's status step and a package's adoption for the organisation (orgnr None: a step of the
    region's, such as recommending or verifying a measure: region administrators only)."""
    if is_region_admin(user):
        return True
    return orgnr is not None and bool(roles_of(user, orgnr) & MEASURE_ROLES)


# an organisation's own steps; the others are the region's
ORGANISATION_MEASURE_STEPS = (Measure.STATUS_ADOPTED, Measure.STATUS_IMPLEMENTED)


def can_record_measure_step(user: ActorLike, current: str, status: str, orgnr: str | None) -> bool:
    """May record the step of a measure from `current` to `status` for the organisation `orgnr` (None: the
    region). Adopting and implementing are an organisation's steps (its administrators and purchasers, for that
    organisation); recommending, verifying and every step back change the measure for the whole region: region
    administrators only. (Adopting a measure another organisation took further already is no step back.)"""
    if is_region_admin(user):
        return True
    order = Measure.STATUSES
    back = status in order and current in order and order.index(status) < order.index(current) \
        and status != Measure.STATUS_ADOPTED
    return status in ORGANISATION_MEASURE_STEPS and not back and orgnr is not None \
        and can_manage_measures(user, orgnr)


# --- targets and climate budgets (issue 11) ----------------------------------------------------------------

TARGET_ROLES = {"org-admin"}  # targets of their organisation and its units; region targets: region admins
BUDGET_ROLES = {"org-admin", "finance"}  # climate budgets of their organisation and its units


def can_set_targets(user: ActorLike, orgnr: str | None = None) -> bool:
    """May set targets of the organisation (orgnr None: of the region) and adopt the seed's targets."""
    if is_region_admin(user):
        return True
    return orgnr is not None and bool(roles_of(user, orgnr) & TARGET_ROLES)


def can_set_budget(user: ActorLike, orgnr: str) -> bool:
    """May set the climate budgets of the organisation and its units."""
    return is_region_admin(user) or bool(roles_of(user, orgnr) & BUDGET_ROLES)


def check_budget_subject(scope: Scope, orgnr: str, unit_code: str | None) -> None:
    """Whether the scope may see the budget of the organisation (unit_code None) or of one of its units: a unit
    leader only their own units' budgets. Raises OutsideScope or PermissionError."""
    check_report_subject(scope, scope_kind=Report.SCOPE_UNIT if unit_code else Report.SCOPE_ORG, orgnr=orgnr,
                         unit_code=unit_code)


AGREEMENT_ROLES = {"org-admin", "purchaser"}  # the agreements their organisation owns (issue 12)


def can_manage_agreements(user: ActorLike, owner_orgnr: str | None) -> bool:
    """May create or change an agreement owned by the organisation (owner None: region administrators only)."""
    if is_region_admin(user):
        return True
    return owner_orgnr is not None and bool(roles_of(user, owner_orgnr) & AGREEMENT_ROLES)


def agreement_owners(user: ActorLike) -> set[str] | None:
    """The organisations whose agreements the person may manage (None: every organisation)."""
    if is_region_admin(user):
        return None
    if not _active(user):
        return set()
    user = person_of(user)
    rows = Membership.objects.filter(user=user, role__in=AGREEMENT_ROLES).values_list("organisation__orgnr", flat=True)
    return set(rows)


CASE_ROLES = {"org-admin", "purchaser"}  # open procurement cases and walk them (the approver's role: services/cases.py)


def can_work_on_cases(user: ActorLike, orgnr: str) -> bool:
    """May open the organisation's procurement cases and take their steps."""
    return is_region_admin(user) or bool(roles_of(user, orgnr) & CASE_ROLES)


def case_organisations(user: ActorLike) -> set[str] | None:
    """The organisations whose cases the person may open (None: every organisation)."""
    if is_region_admin(user):
        return None
    if not _active(user):
        return set()
    user = person_of(user)
    return set(Membership.objects.filter(user=user, role__in=CASE_ROLES).values_list("organisation__orgnr", flat=True))


CONSTRUCTION_ROLES = {"org-admin", "purchaser"}  # construction projects and their climate calculations (issue 11)


def can_manage_construction(user: ActorLike, orgnr: str) -> bool:
    """May add or edit the organisation's construction projects and import their NS 3720 climate calculations."""
    return is_region_admin(user) or bool(roles_of(user, orgnr) & CONSTRUCTION_ROLES)


# --- API tokens (issue 16 item 8) ---------------------------------------------------------------------------

API_TOKEN_ROLES = {"org-admin"}  # make and revoke their organisation's API tokens (region admins: every one)
API_SCOPES = ("read", "import")  # storage.models.ApiToken.SCOPES


def can_manage_api_tokens(user: ActorLike, orgnr: str) -> bool:
    """May make and revoke the organisation's API tokens (and see their list)."""
    return is_region_admin(user) or bool(roles_of(user, orgnr) & API_TOKEN_ROLES)


def api_token_usable(token, now=None) -> bool:
    """Not revoked and not expired."""
    from django.utils import timezone

    now = now or timezone.now()
    return token is not None and token.revoked_at is None and (token.expires_at is None or token.expires_at > now)


def scope_for_api_token(token) -> Scope:
    """What a token reads: its organisation only, as a person of that organisation who sees every unit of it; never
    the audit log. A revoked or expired token sees nothing."""
    if not api_token_usable(token):
        return Scope(orgnrs=frozenset(), label="a revoked or expired API token")
    return Scope(orgnrs=frozenset({token.organisation.orgnr}), label=f"API token {token.pk} ({token.name})")


def check_api_token(token, orgnr: str, needed: str) -> Scope:
    """The token's Scope if it may do `needed` ("read" or "import") for the organisation; OutsideScope for another
    organisation, PermissionError for a scope the token lacks."""
    scope = scope_for_api_token(token)
    scope.check(orgnr)
    if needed not in (token.scopes or []):
        raise PermissionError(f"the token has no {needed!r} scope (it has: {', '.join(token.scopes) or 'none'})")
    return scope
