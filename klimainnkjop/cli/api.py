"""API tokens (issue 16 item 8): `api token add` prints the token once (only its SHA-256 is kept), `api token list`
shows the tokens without their secrets, `api token revoke ID` stops one at once."""
from __future__ import annotations

import datetime as dt

from klimainnkjop.cli.output import EXIT_OK, emit, find_org


def add_parsers(sub) -> None:
    p = sub.add_parser("api", help="the JSON API's tokens")
    p.set_defaults(handler=cmd_api)
    groups = p.add_subparsers(dest="api_command", required=True)
    token = groups.add_parser("token", help="make, list and revoke API tokens")
    actions = token.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="make a token for one organisation (printed once)")
    add.add_argument("--org", required=True)
    add.add_argument("--name", required=True, help="who or what uses it")
    add.add_argument("--scope", default="read", help="read, import or read,import (default read)")
    add.add_argument("--expires", default=None, help="YYYY-MM-DD (none: until revoked)")
    listing = actions.add_parser("list", help="the tokens (without their secrets)")
    listing.add_argument("--org", default=None)
    listing.add_argument("--format", choices=["json", "csv", "table"], default="table")
    revoke = actions.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("id", type=int)


def _when(value) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def cmd_api(args) -> int:
    from django.utils import timezone

    from klimainnkjop.access import system_scope
    from klimainnkjop.core.errors import InvalidInput
    from klimainnkjop.selectors import api_tokens as token_selectors
    from klimainnkjop.services import api_tokens as token_services

    if args.action == "add":
        org = find_org(args.org)
        expires = None
        if args.expires:
            try:
                day = dt.date.fromisoformat(args.expires)
            except ValueError:
                raise InvalidInput(f"--expires: {args.expires!r} is not a date (YYYY-MM-DD)") from None
            expires = timezone.make_aware(dt.datetime.combine(day, dt.time()))
        token, secret = token_services.do_create_api_token(organisation=org, name=args.name, scopes=args.scope,
                                                           expires_at=expires, actor="cli")
        print(f"token {token.pk} for {org.orgnr} ({', '.join(token.scopes)}): {secret}")
        print("It is shown only now; keep it secret (only its SHA-256 is stored).")
        return EXIT_OK
    if args.action == "list":
        if args.org:
            find_org(args.org)
        rows = [{"id": t.pk, "org": t.organisation.orgnr, "name": t.name, "scopes": ",".join(t.scopes),
                 "prefix": t.prefix, "created_at": _when(t.created_at), "last_used_at": _when(t.last_used_at),
                 "expires_at": _when(t.expires_at), "revoked_at": _when(t.revoked_at)}
                for t in token_selectors.tokens(system_scope(), args.org.replace(" ", "") if args.org else None)]
        emit(rows, args.format)
        return EXIT_OK
    try:
        token = token_selectors.token(system_scope(), args.id)
    except LookupError as exc:
        raise InvalidInput(str(exc)) from None
    token = token_services.do_revoke_api_token(token=token, actor="cli")
    print(f"token {token.pk} ({token.name}) of {token.organisation.orgnr} revoked at {_when(token.revoked_at)}")
    return EXIT_OK
