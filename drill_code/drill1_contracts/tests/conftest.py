"""Fixtures for Drill 1: a client that checks every request and response against the
target's contract, and the people and events the tests use.

The contract is the target's own `openapi.yaml` (the file next to `config/`), because a
fix may belong in the contract rather than in the code. openapi-core validates each
request the tests send and each response they get back. A violation fails the test,
with one exception that keeps each failure pointing at one flaw: a violation that is
the signature of a planted flaw (see SIGNATURES) fails only the tests marked with that
flaw. Every planted flaw has such tests, so nothing is let through; on the reference
solution there are no violations at all.
"""

from __future__ import annotations

import base64
import functools
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft4Validator
from openapi_core import OpenAPI
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.testing import MockRequest, MockResponse
from rest_framework.test import APIClient

from drillkit.fixtures import PASSWORD, create_user
from drillkit.pytest_plugin import flaw_ids

HOST = "http://testserver"


def contract_path() -> Path:
    import config  # the target's project package; the harness put the target on sys.path

    return Path(config.__file__).resolve().parent.parent / "openapi.yaml"


@functools.cache
def _contract() -> dict:
    return yaml.safe_load(contract_path().read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def contract() -> dict:
    return _contract()


@pytest.fixture(scope="session")
def openapi(contract) -> OpenAPI:
    return OpenAPI.from_dict(contract)


# -- what a violation is, and which planted flaw it is the signature of ------------------


# What found a violation. SCHEMA: a body failed the JSON Schema the contract documents for
# that request, or for that response's status code. Anything else is named by what found
# it: an openapi-core error (e.g. ResponseNotFound, a status the contract does not
# document) or a schemathesis check (e.g. not_a_server_error).
SCHEMA = "schema"


@dataclass(frozen=True)
class Violation:
    side: str  # "request" or "response"
    status: int  # the response's status code; 0 for a request
    path: tuple  # where in the body, e.g. ("results", 0, "price")
    validator: str  # the JSON Schema keyword that failed: type, enum, pattern, ... or ""
    message: str
    check: str = SCHEMA

    def __str__(self) -> str:
        where = "/".join(str(p) for p in self.path) or "(body)"
        found_by = "" if self.check == SCHEMA else f" ({self.check})"
        return f"{self.side} {self.status}: {where}: {self.message}{found_by}"


def _last(path: tuple) -> str:
    names = [p for p in path if isinstance(p, str)]
    return names[-1] if names else ""


# --8<-- [start:signatures]
# flaw id -> does this violation look like that flaw? Read each line as "a body that breaks
# the contract's JSON Schema in this way is showing flaw X".
SIGNATURES = {
    "D1-F1": lambda v: "organizer" in v.path and v.validator == "additionalProperties",
    "D1-F2": lambda v: _last(v.path) == "seats_left" and v.validator == "type",
    "D1-F3": lambda v: _last(v.path) == "status" and v.validator == "enum",
    "D1-F4": lambda v: _last(v.path) in ("price", "price_paid") and v.validator == "type",
    "D1-F5": lambda v: (
        _last(v.path) in ("starts_at", "created_at") and v.validator in ("pattern", "format")
    ),
    "D1-F6": lambda v: _last(v.path) == "title" and v.validator == "maxLength",
    "D1-F8": lambda v: (
        v.validator in ("required", "additionalProperties")
        and ("organizer" in v.message or "host" in v.message)
    ),
    "D1-F9": lambda v: v.status == 200 and v.path == () and v.validator == "type",
    "D1-F10": lambda v: v.side == "response" and 400 <= v.status < 500,
    "D1-F11": lambda v: _last(v.path) == "seats_left" and v.validator == "minimum",
}
# One planted flaw also shows in the invalid requests the API crashes on: schemathesis's
# negative generation names the field it broke and the keywords it broke (a negated
# `minLength,maxLength` title that crashes the INSERT is one over 120 characters).
CRASHED_ON_INVALID = {
    "D1-F6": lambda v: _last(v.path) == "title" and "maxLength" in v.validator.split(","),
}


def flaw_of(violation: Violation) -> str | None:
    """The planted flaw whose signature this is, or None. A crash (5xx), a status the
    contract does not document, and any other check are never a planted flaw: they fail
    the test that saw them, whichever flaws the target has. The one exception is a crash
    on an invalid request that broke only a planted flaw's rule (CRASHED_ON_INVALID)."""
    if violation.status >= 500 and violation.check != "not_a_server_error":
        return None
    # An invalid request that the API crashed on, rather than refused, is judged by the
    # rule it broke: a title over 120 characters is D1-F6 on PostgreSQL (on SQLite it is
    # stored). Any other crash is no planted flaw.
    signatures = {
        SCHEMA: SIGNATURES,
        "not_a_server_error": CRASHED_ON_INVALID if violation.side == "request" else {},
    }
    for flaw_id, looks_like in signatures.get(violation.check, {}).items():
        if looks_like(violation):
            return flaw_id
    return None


# --8<-- [end:signatures]


def _violations(side: str, status: int, error: Exception) -> list[Violation]:
    """Flatten openapi-core's exception (which wraps jsonschema errors) into a list."""
    found, seen, stack = [], set(), [error]
    while stack:
        exc = stack.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        for schema_error in getattr(exc, "schema_errors", ()) or ():
            found.append(
                Violation(
                    side,
                    status,
                    tuple(schema_error.absolute_path),
                    str(schema_error.validator),
                    schema_error.message,
                )
            )
        stack += [exc.__cause__, exc.__context__, *getattr(exc, "exceptions", ())]
    # No schema was applied: an undocumented status or media type, a body that is not JSON.
    return found or [Violation(side, status, (), "", str(error), type(error).__name__)]


# -- the client --------------------------------------------------------------------------


class ContractClient(APIClient):
    """APIClient that validates every request and response against the contract.

    `invalid_request=True` says the test sends a bad body on purpose: the contract must
    then reject the request too, which proves the test probes a rule the contract has.
    """

    def __init__(self, openapi: OpenAPI, test: pytest.Item, **kwargs) -> None:
        # A crash must come back as a 500 response, not as an exception in the test,
        # so that the starter fails with an assertion on PostgreSQL too.
        super().__init__(raise_request_exception=False, **kwargs)
        self.openapi = openapi
        self.own_flaws = set(flaw_ids(test))

    def call(self, method: str, path: str, body=None, *, invalid_request: bool = False):
        data = json.dumps(body).encode() if body is not None else b""
        path_only, _, query = path.partition("?")
        args = dict(p.split("=", 1) for p in query.split("&") if p)
        auth = self._credentials.get("HTTP_AUTHORIZATION")
        request = MockRequest(
            HOST,
            method,
            path_only,
            args=args,
            data=data or None,
            headers={"Authorization": auth} if auth else {},
        )
        request_errors = list(self.openapi.iter_request_errors(request))
        if any(isinstance(error, PathError) for error in request_errors):
            return self._call_outside_the_contract(method, path, data)
        if invalid_request:
            assert request_errors, (
                f"the test sends {body} to {method} {path} as an invalid request, but the "
                "contract accepts it: the contract is missing this rule"
            )
        else:
            self._check(
                [v for e in request_errors for v in _violations("request", 0, e)], method, path
            )
        response = self.generic(method, path, data=data.decode(), content_type="application/json")
        assert response.status_code < 500, (
            f"{method} {path} crashed the API with a {response.status_code}"
        )
        if response.content:
            mock = MockResponse(
                response.content,
                response.status_code,
                content_type=response.get("Content-Type", "").split(";")[0],
            )
            errors = self.openapi.iter_response_errors(request, mock)
            self._check(
                [v for e in errors for v in _violations("response", response.status_code, e)],
                method,
                path,
            )
        response.body = response.json() if response.content else None
        return response

    def _call_outside_the_contract(self, method: str, path: str, data: bytes):
        """A path or method the contract does not have. All the contract says about it is
        its promise for every error: a 4xx with the Error body (JSON, not an HTML page)."""
        response = self.generic(method, path, data=data.decode(), content_type="application/json")
        assert 400 <= response.status_code < 500, (
            f"{method} {path} is not in the contract, yet answered {response.status_code}"
        )
        try:
            response.body = json.loads(response.content)
        except ValueError:
            kind = response.get("Content-Type", "no content type")
            violations = [
                Violation("response", response.status_code, (), "type", f"{kind}, not JSON")
            ]
        else:
            error_schema = _contract()["components"]["schemas"]["Error"]
            violations = [
                Violation(
                    "response",
                    response.status_code,
                    tuple(error.absolute_path),
                    str(error.validator),
                    error.message,
                )
                for error in Draft4Validator(error_schema).iter_errors(response.body)
            ]
        self._check(violations, method, path)
        return response

    def _check(self, violations: list[Violation], method: str, path: str) -> None:
        # A violation that is another planted flaw's signature is left to that flaw's tests.
        failing = [
            (flaw_id, violation)
            for violation in violations
            if (flaw_id := flaw_of(violation)) is None or flaw_id in self.own_flaws
        ]
        assert not failing, f"{method} {path} breaks the contract:\n" + "\n".join(
            f"  - {violation}" + (f"  [{flaw_id}]" if flaw_id else "  [not a planted flaw]")
            for flaw_id, violation in failing
        )

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.call("POST", path, body, **kwargs)

    def patch(self, path, body=None, **kwargs):
        return self.call("PATCH", path, body, **kwargs)


# -- people, events, tickets ---------------------------------------------------------------
# make_user, create_user and PASSWORD are the harness's (drillkit.fixtures).


@pytest.fixture
def organizer(db):
    return create_organizer()


def create_organizer():
    """The person who runs the events (the fuzz writes her outside a test: no fixture)."""
    return create_user("olivia", is_staff=True)


@pytest.fixture
def guest(make_user):
    return make_user("gus")


def basic_auth(user) -> str:
    """The Authorization header of a test user (they all have PASSWORD)."""
    token = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
    return f"Basic {token}"


@pytest.fixture
def client_for(openapi, request):
    """A ContractClient signed in as `user` with HTTP Basic (or anonymous for None)."""

    def make(user):
        client = ContractClient(openapi, request.node)
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=basic_auth(user))
        return client

    return make


@pytest.fixture
def api(client_for, organizer):
    """The organizer's client: most tests act as the person who runs the events."""
    return client_for(organizer)


@pytest.fixture
def event(organizer):
    return create_event(organizer)


def create_event(organizer):
    """A published event with three seats, organised by `organizer`."""
    from events.models import Event  # the target's app, whichever target it is

    return Event.objects.create(
        organizer=organizer,
        title="PyCon Berlin",
        status=Event.Status.PUBLISHED,
        starts_at="2026-05-14T18:30:00Z",
        capacity=3,
        price=Decimal("25.50"),
    )


@pytest.fixture
def book(event):
    """Book tickets through the ORM, for tests that are not about booking."""
    from events.models import Ticket

    def make(name="Ada", *, for_event=None):
        return Ticket.objects.create(
            event=for_event or event, holder_name=name, holder_email=f"{name}@example.com"
        )

    return make


VALID_EVENT = {
    "title": "DjangoCon Europe",
    "starts_at": "2026-06-01T09:00:00+02:00",
    "capacity": 300,
    "price": "120.00",
}
