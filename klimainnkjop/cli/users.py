"""People and the audit log: `user add|remove|list|invite|set-password`, `audit export`."""
from __future__ import annotations

import json
import sys

from klimainnkjop.cli.output import EXIT_OK, emit, find_org
from klimainnkjop.core.actors import CLI

ACTOR = CLI


def add_parsers(sub) -> None:
    user_parser = sub.add_parser("user", help="people and their roles")
    user_parser.set_defaults(handler=cmd_user)
    user = user_parser.add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="add a person (when new) with a role in an organisation")
    add.add_argument("email")
    add.add_argument("--org", required=True)
    add.add_argument("--role", required=True,
                     help="region-admin, org-admin, purchaser, finance, unit-leader, reader or auditor")
    add.add_argument("--unit", default=None, help="unit (ansvar) code; required for unit-leader")
    add.add_argument("--password-stdin", action="store_true",
                     help="read a password from standard input (else: sign-in by OIDC, or a password later)")

    remove = user.add_parser("remove", help="take a role away")
    remove.add_argument("email")
    remove.add_argument("--org", required=True)
    remove.add_argument("--role", required=True)
    remove.add_argument("--unit", default=None)

    listing = user.add_parser("list", help="people and roles")
    listing.add_argument("--org", default=None)
    listing.add_argument("--format", choices=["json", "csv", "table"], default="table")

    invite = user.add_parser("invite", help="invite a person to a role; prints the invitation token once")
    invite.add_argument("email")
    invite.add_argument("--org", required=True)
    invite.add_argument("--role", required=True)
    invite.add_argument("--unit", default=None)
    invite.add_argument("--days", type=int, default=14)

    password = user.add_parser("set-password", help="set a person's password, read from standard input")
    password.add_argument("email")

    audit_parser = sub.add_parser("audit", help="the audit log")
    audit_parser.set_defaults(handler=cmd_audit)
    audit = audit_parser.add_subparsers(dest="audit_command", required=True)
    export = audit.add_parser("export", help="who changed what, when; before and after")
    export.add_argument("--org", default=None)
    export.add_argument("--format", choices=["csv", "json"], required=True)


def _read_password() -> str:
    from klimainnkjop.services.organisations import InvalidInput

    text = sys.stdin.readline().rstrip("\r\n")
    if not text:
        raise InvalidInput("password: nothing on standard input")
    return text


def _user(email: str):
    from klimainnkjop.services.organisations import InvalidInput
    from klimainnkjop.services.users import find_user

    user = find_user(email)
    if user is None:
        raise InvalidInput(f"email: no user {email.strip().lower()}")
    return user


def cmd_user(args) -> int:
    from klimainnkjop.services import users as svc
    from klimainnkjop.services.organisations import InvalidInput
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import people as people_selectors

    if args.user_command == "add":
        org = find_org(args.org)
        password = _read_password() if args.password_stdin else None
        user, membership, created = svc.do_add_user(email=args.email, organisation=org, role=args.role,
                                                    unit_code=args.unit, password=password, actor=ACTOR)
        unit = f" ({membership.unit.code})" if membership.unit_id else ""
        print(f"{'added' if created else 'updated'} {user.get_username()}: {args.role}{unit} in {org.orgnr}"
              + ("" if password or not created else "; no password: sign in by OIDC or set one with "
                                                    "`klimainnkjop user set-password`"))
    elif args.user_command == "remove":
        org = find_org(args.org)
        user = _user(args.email)
        membership = people_selectors.role_of(system_scope(), org.orgnr, user, args.role, args.unit)
        if membership is None:
            raise InvalidInput(f"role: {user.get_username()} has no role {args.role} in {org.orgnr}")
        svc.do_remove_membership(membership=membership, actor=ACTOR)
        print(f"removed {args.role} in {org.orgnr} from {user.get_username()}")
    elif args.user_command == "list":
        rows = people_selectors.all_memberships(system_scope(), find_org(args.org).orgnr if args.org else None)
        emit([{"email": m.user.get_username(), "organisation": m.organisation.orgnr, "role": m.role,
               "unit": m.unit.code if m.unit_id else "", "active": m.user.is_active,
               "password": m.user.has_usable_password()} for m in rows], args.format)
    elif args.user_command == "invite":
        org = find_org(args.org)
        invitation, token = svc.do_create_invitation(email=args.email, organisation=org, role=args.role,
                                                     unit_code=args.unit, days=args.days, actor=ACTOR)
        print(f"invited {invitation.email} as {invitation.role} in {org.orgnr} until "
              f"{invitation.expires_at:%Y-%m-%d}; token (shown once): {token}")
    elif args.user_command == "set-password":
        user = _user(args.email)
        svc.do_set_password(user=user, password=_read_password(), actor=ACTOR)
        print(f"password set for {user.get_username()}")
    return EXIT_OK


def cmd_audit(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.audit import audit_csv, audit_entries, audit_row

    org = find_org(args.org).orgnr if args.org else None
    rows = [audit_row(e) for e in audit_entries(system_scope(), org)]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(audit_csv(rows))
    return EXIT_OK
