"""Who does something: a person, or a named system actor (the command line, the scheduler, the report worker, …).

Every service that changes state takes `actor=`, and its audit entry (services/audit.record_audit) names it. An
`Actor` is one of the two:

- a person: `Actor.person(user)`, a signed-in Django user (the audit entry links the user; its label is the
  username);
- a system actor: `Actor.system("cli")`, a name from SYSTEM_ACTORS (the entry's label is the name).

`as_actor` turns what callers pass into an Actor, so a service may be called with an Actor, a user, a system
actor's name or None (the unnamed system) alike: existing and new callers (`actor="cli"`, `actor=request.user`)
keep working, and a service that needs the person (a `created_by` column) asks `as_actor(actor).user`. A name not
in SYSTEM_ACTORS is kept as it is (tests pass "test"); add the product's own to SYSTEM_ACTORS. No Django here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Union


class Person(Protocol):
    """What an actor needs of a user (Django's User and AnonymousUser have it)."""
    is_authenticated: bool

    def get_username(self) -> str: ...


# the product's named system actors: name -> who that is
SYSTEM_ACTORS: dict[str, str] = {
    "system": "the product itself, no one named",
    "cli": "the command line (the operator)",
    "scheduler": "scheduled runs from cron (reports run-due, imports run-due)",
    "worker": "the background worker (reports asked for on the web, queued compute runs)",
    "dropfolder": "imports from the drop folders (imports run-due, watch)",
    "autocompute": "the compute run queued after a change of the data (services/autocompute.py)",
    "api": "an integration through the API",
    "oidc": "OpenID Connect sign-in (a person created on first sign-in)",
    "invitation": "an invitation link",
    "demo": "the demo region's generator",
    "anonymous": "someone not signed in (a failed sign-in)",
}


@dataclass(frozen=True)
class Actor:
    """A person (`user`) or a named system actor (`name`); exactly one of them."""
    user: Any = None    # Person
    name: str = ""

    def __post_init__(self) -> None:
        if (self.user is None) == (not self.name):
            raise ValueError("an actor is either a person or a named system actor")

    @classmethod
    def person(cls, user: Person) -> Actor:
        return cls(user=user)

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(name=name)

    @property
    def is_person(self) -> bool:
        return self.user is not None

    @property
    def label(self) -> str:
        """How the audit log names the actor: the person's username, or the system actor's name."""
        if self.user is not None:
            return getattr(self.user, "username", None) or self.user.get_username()
        return self.name

    def __str__(self) -> str:
        return self.label


SYSTEM = Actor.system("system")
CLI = Actor.system("cli")
SCHEDULER = Actor.system("scheduler")
WORKER = Actor.system("worker")
DROPFOLDER = Actor.system("dropfolder")
AUTOCOMPUTE = Actor.system("autocompute")
API = Actor.system("api")
OIDC = Actor.system("oidc")
INVITATION = Actor.system("invitation")
DEMO = Actor.system("demo")
ANONYMOUS = Actor.system("anonymous")

# what a service's `actor=` accepts (as_actor converts it)
ActorLike = Union[Actor, Person, str, None]


def as_actor(value: ActorLike) -> Actor:
    """The Actor for an Actor, a signed-in user, a system actor's name or None (the unnamed system). A user who is
    not signed in (Django's AnonymousUser) is `anonymous`."""
    if isinstance(value, Actor):
        return value
    if value is None or value == "":
        return SYSTEM
    if isinstance(value, str):
        return Actor.system(value)
    if getattr(value, "is_authenticated", False):
        return Actor.person(value)
    return ANONYMOUS
