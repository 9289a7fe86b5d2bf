"""The API against its own OpenAPI document (issue 16 item 8, "done when": no server errors): schemathesis generates
requests for every operation of /api/v1/openapi.json, sends them to the running application (the project's own WSGI
application, klimainnkjop.wsgi, in this process and in the test's database) with a token of both scopes, and checks
each answer: no 5xx, a status the document names, the content type and body its schema says. Each case is sent twice:
as generated (an orgnr of any shape: refused with 403), and with the token's own organisation, so that the reads and
imports themselves run. Bounded: a few examples per operation, no deadline."""
from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from klimainnkjop.services.api_tokens import do_create_api_token
from klimainnkjop.wsgi import application
from tests.conftest import Shared, shared_state
from tests.factories import (
    GRUE_CSV,
    KONGSVINGER,
    KONGSVINGER_CSV,
    WEB_PROFILE,
    import_ledger,
    make_grue,
    make_kongsvinger,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 10


@pytest.fixture(autouse=True)
def running_app(settings):
    """Django's WSGI handler closes the database connection at each request's start and end
    (close_old_connections); here the requests run inside the test's transaction, so that is left out while the
    test runs, as Django's own test client does. No rate limit in the way of the generated requests."""
    settings.KLIMAINNKJOP_API_RATE_PER_MINUTE = 100_000
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def shared_api(request):
    """Kongsvinger and Grue with the web tests' ledgers, computed, a ledger profile and a token of both scopes for
    Kongsvinger: made once for the module (tests/conftest.py shared_state)."""
    from klimainnkjop.services.compute import do_compute

    with shared_state(request, "api") as path:
        org, other = make_kongsvinger(), make_grue()
        import_ledger(org, KONGSVINGER_CSV, "kongsvinger-2024.csv", profile=WEB_PROFILE)
        import_ledger(other, GRUE_CSV, "grue-2024.csv", profile=WEB_PROFILE)
        do_compute(actor="test")
        _, secret = do_create_api_token(organisation=org, name="schemathesis", scopes="read,import", actor="test")
        yield Shared(path, secret)


# The document as the running application serves it (its request touches no database, so it may run while the tests
# are collected; schemathesis's lazy loader from a fixture does not work with pytest 9.2, whose nodes have no _nodeid)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
schema.config.phases.coverage.enabled = False  # the boundary-value phase alone sends hundreds of requests


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_as_its_schema_says_and_never_with_a_server_error(case, db, shared_api):
    headers = {"Authorization": f"Bearer {shared_api.value}"}
    case.call_and_validate(headers=headers, checks=CHECKS)
    if "orgnr" in (case.path_parameters or {}):
        case.path_parameters = {**case.path_parameters, "orgnr": KONGSVINGER}
        case.call_and_validate(headers=headers, checks=CHECKS)


def test_the_shared_account_is_there_for_the_generated_requests(db, shared_api, client):
    """The reads the generated requests make find Kongsvinger's computed account (else they would only see 404s)."""
    response = client.get(f"/api/v1/organisations/{KONGSVINGER}/totals", HTTP_AUTHORIZATION=f"Bearer {shared_api.value}")
    assert response.status_code == 200 and response.json()["rows"][0]["lines"] == 3
