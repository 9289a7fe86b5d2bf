"""Version 1 of the JSON API, mounted at /api/v1/ (OpenAPI document at /api/v1/openapi.json).

Every request names a token (`Authorization: Bearer kik_…`, made on /org/<orgnr>/api-nokler/ or with `klimainnkjop api
token add`). A token acts for its organisation only, with its scopes: read (totals, KPIs, lines) and import (a file, or
a JSON batch of ledger lines). Permissions are decided in access.py (check_api_token: the token's access.Scope), reads
go through selectors with that scope, imports through the same services as the web and the CLI (audited, with the
token as the actor). Errors have one shape (schemas.ErrorOut): 401 no or bad token, 403 another organisation or a
missing scope, 404 nothing computed yet, 422 bad input (every error by file, row and field), 429 too many requests
(Retry-After), 400 an unreadable request."""
from __future__ import annotations

from ninja import File, Form, NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.files import UploadedFile
from ninja.security import HttpBearer

from klimainnkjop import access
from klimainnkjop.api import ratelimit
from klimainnkjop.api.schemas import (ErrorOut, ImportKind, ImportOut, KpisOut, LinesIn, LinesOut, TotalsOut)
from klimainnkjop.core.errors import ImportRejected, InvalidInput, NoResults, OutsideScope, RowError, reason
from klimainnkjop.selectors import api_tokens as token_selectors
from klimainnkjop.selectors import organisations as org_selectors

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


class ApiError(Exception):
    def __init__(self, status: int, detail: str, errors: list[RowError] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors or []


class TokenAuth(HttpBearer):
    """A token of the API: found by its secret's SHA-256, usable (not revoked or expired), within its rate."""

    def authenticate(self, request, token: str):
        from klimainnkjop.services.api_tokens import note_api_token_used

        found = token_selectors.token_for_secret(token.strip())
        if found is None or not access.api_token_usable(found):
            return None
        wait = ratelimit.hit(found.secret_sha256[:24])
        if wait is not None:
            raise RateLimited(wait)
        note_api_token_used(found)
        return found


api = NinjaAPI(title="Klimainnkjøp API", version="1", urls_namespace="api-v1", auth=TokenAuth(),
               openapi_url="/openapi.json", docs_url=None,
               description=__doc__.split("\n\n", 1)[1].replace("\n", " "))


def _error(request, status: int, detail: str, errors: list[dict] | None = None, headers: dict | None = None):
    response = api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(AuthenticationError)
def _unauthorised(request, exc):
    return _error(request, 401, "a valid API token is needed: Authorization: Bearer <token> (a token may be revoked "
                                "or expired)", headers={"WWW-Authenticate": 'Bearer realm="klimainnkjop"'})


@api.exception_handler(RateLimited)
def _rate_limited(request, exc: RateLimited):
    return _error(request, 429, f"more than {ratelimit.limit()} requests a minute with this token; try again in "
                                f"{exc.retry_after} s", headers={"Retry-After": str(exc.retry_after)})


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return _error(request, exc.status, exc.detail, [e.as_dict() for e in exc.errors])


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    errors = []
    for item in exc.errors:
        loc = [str(p) for p in item.get("loc", [])]
        where = loc[2:] if loc[:2] == ["body", "payload"] else loc[1:]  # body.payload.lines.1.amount, query.year
        reason = str(item.get("msg", "invalid"))
        if len(where) >= 2 and where[0] == "lines" and where[1].isdecimal():  # a line of a JSON batch, as a file row
            errors.append({"file": "lines", "row": int(where[1]) + 1, "column": ".".join(where[2:]) or None,
                           "reason": reason})
        else:
            errors.append({"file": "request", "row": None, "column": ".".join(where) or None, "reason": reason})
    return _error(request, 422, "the request is not valid: " + "; ".join(
        f"{e['column']}: {e['reason']}" for e in errors[:5]), errors)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return _error(request, exc.status_code, str(exc) or "bad request")


def _scope(request, orgnr: str, needed: str) -> access.Scope:
    try:
        return access.check_api_token(request.auth, orgnr, needed)
    except OutsideScope:
        raise ApiError(403, f"the token is {request.auth.organisation.orgnr}'s; it may not be used for {orgnr}")
    except PermissionError as exc:
        raise ApiError(403, str(exc))


def _no_results(exc: Exception) -> ApiError:
    return ApiError(404, f"no figures: {exc}")


# ------------------------------------------------------------------------------------------------ reads

@api.get("/organisations/{orgnr}/totals", response={200: TotalsOut, **ERRORS}, tags=["read"],
         summary="Totals by the keys of the CLI's `totals --by`")
def totals(request, orgnr: str, year: int | None = Query(None, ge=1900, le=2999),
           group_by: str = Query("", description="comma-separated keys: org, year, category, art, unit, supplier, "
                                                 "investment, method, quality, month, source", max_length=200)):
    from klimainnkjop.selectors.results import BY_KEYS, totals as read_totals

    scope = _scope(request, orgnr, "read")
    by = [k.strip() for k in group_by.split(",") if k.strip()]
    unknown = [k for k in by if k not in BY_KEYS]
    if unknown:
        raise ApiError(422, f"group_by: unknown key(s) {', '.join(unknown)}; choose among {', '.join(BY_KEYS)}",
                       [RowError("request", None, "group_by",
                                 reason("unknown key(s) %(keys)s", keys=", ".join(unknown)))])
    try:
        document = read_totals(scope, org=orgnr, year=year, by=list(dict.fromkeys(by)))
    except NoResults as exc:
        raise _no_results(exc)
    rows = [{k: v for k, v in r.items() if k != "covered_spend_nok"} for r in document["rows"]]
    return Status(200, {"organisation": orgnr, "year": year, "group_by": list(dict.fromkeys(by)),
                 "factor_set": document["factor_set"], "factor_sets": document["factor_sets"] or [],
                 "run": document["run"], "consolidated": document["consolidated"], "rows": rows})


@api.get("/organisations/{orgnr}/kpis", response={200: KpisOut, **ERRORS}, tags=["read"],
         summary="The KPIs and their targets for a period, as `klimainnkjop kpis`")
def kpis(request, orgnr: str, period: str = Query(..., description="2025, 2025H1, 2025T2 or 2025Q3",
                                                  pattern=r"^[0-9]{4}([HhTtQq][0-9])?$")):
    from klimainnkjop.selectors import dashboard, kpis as kpi_selectors

    scope = _scope(request, orgnr, "read")
    try:
        parsed = dashboard.parse_period(period)
    except dashboard.PeriodError:
        raise ApiError(422, f"period: {period!r} is not a period; write 2025 (year), 2025H1, 2025T2 or 2025Q3",
                       [RowError("request", None, "period", reason("write 2025, 2025H1, 2025T2 or 2025Q3"))])
    rows = kpi_selectors.follow_up(scope, kpi_selectors.Subject(org=orgnr), parsed)
    return Status(200, {"organisation": orgnr, "period": parsed.code, "kpis": [r.as_dict() for r in rows]})


@api.get("/organisations/{orgnr}/lines", response={200: LinesOut, **ERRORS}, tags=["read"],
         summary="The computed lines, largest emissions first, a page at a time")
def lines(request, orgnr: str, year: int | None = Query(None, ge=1900, le=2999),
          limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0, le=10_000_000)):
    from klimainnkjop.selectors import lines as line_selectors

    scope = _scope(request, orgnr, "read")
    try:
        page = line_selectors.lines(scope, org=orgnr, year=year, exclusion=None, limit=limit, offset=offset)
        total = line_selectors.lines_total(scope, org=orgnr, year=year, exclusion=None)["lines"]
    except NoResults as exc:
        raise _no_results(exc)
    return Status(200, {"organisation": orgnr, "year": year, "total": total, "limit": limit, "offset": offset,
                 "lines": page})


# ------------------------------------------------------------------------------------------------ imports

def _organisation(scope: access.Scope, orgnr: str):
    return org_selectors.organisation(scope, orgnr)


def _import_out(orgnr: str, kind: str, result) -> Status:
    out = result.as_dict()
    batch = result.batch
    findings = list(getattr(batch, "findings", None) or []) if batch is not None else []
    body = {"batch": out.get("batch"), "organisation": orgnr, "kind": kind,
            "already_imported": bool(out.get("already_imported")), "rows_read": int(out.get("rows_read") or 0),
            "lines_added": int(out.get("lines_added") or 0), "lines_duplicate": int(out.get("lines_duplicate") or 0),
            "warnings": [str(w) for w in out.get("warnings") or []], "findings": findings[:500]}
    return Status(200 if body["already_imported"] else 201, body)


def _refused(exc: Exception, file_name: str) -> ApiError:
    if isinstance(exc, ImportRejected):
        return ApiError(422, f"{len(exc.errors)} error(s); nothing was imported", exc.errors[:1000])
    return ApiError(422, f"{exc}; nothing was imported", [RowError(file_name, None, None, str(exc))])


@api.post("/organisations/{orgnr}/imports", response={200: ImportOut, 201: ImportOut, **ERRORS}, tags=["import"],
          summary="Import one file (ledger, KOSTRA, SAF-T, supplier statistics), as an upload on the web")
def import_a_file(request, orgnr: str, file: File[UploadedFile], kind: Form[ImportKind],
                  profile: Form[str] = "", confirm_other: Form[bool] = False):
    from klimainnkjop.services.api_tokens import api_actor
    from klimainnkjop.services.uploads import import_file, max_upload_bytes

    scope = _scope(request, orgnr, "import")
    organisation = _organisation(scope, orgnr)
    if any(ord(c) < 32 for c in profile) or len(profile) > 100:
        raise ApiError(422, "profile: the name of a saved column profile (at most 100 characters, no control "
                            "characters)", [RowError("request", None, "profile", reason("not a profile name"))])
    name = "".join(c for c in (file.name or "file") if ord(c) >= 32)[:200] or "file"
    if file.size is not None and file.size > max_upload_bytes():
        raise ApiError(422, f"{name}: larger than the limit of {max_upload_bytes() // 2**20} MiB per file",
                       [RowError(name, None, None, reason("the file is too large"))])
    data = file.read()
    if not data:
        raise ApiError(422, f"{name}: the file is empty", [RowError(name, None, None, reason("the file is empty"))])
    try:
        result = import_file(kind, data=data, file_name=name, organisation=organisation, profile_name=profile or None,
                             confirm_other=confirm_other, actor=api_actor(request.auth))
    except (ImportRejected, InvalidInput, ValueError, LookupError) as exc:
        raise _refused(exc, name)
    return _import_out(orgnr, kind, result)


@api.post("/organisations/{orgnr}/lines", response={200: ImportOut, 201: ImportOut, **ERRORS}, tags=["import"],
          summary="Import a batch of ledger lines as JSON, all or nothing, as a ledger file")
def import_lines(request, orgnr: str, payload: LinesIn):
    from klimainnkjop.services.api_tokens import api_actor
    from klimainnkjop.services.imports import do_import_ledger_lines

    scope = _scope(request, orgnr, "import")
    organisation = _organisation(scope, orgnr)
    rows = [line.model_dump(exclude_none=True) for line in payload.lines]
    try:
        result = do_import_ledger_lines(organisation=organisation, lines=rows, actor=api_actor(request.auth))
    except (ImportRejected, InvalidInput, ValueError) as exc:
        raise _refused(exc, "lines")
    return _import_out(orgnr, "ledger", result)
