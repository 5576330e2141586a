"""Property-based fuzzing from the contract with schemathesis, in-process.

schemathesis reads the target's contract, generates requests for every operation, sends
them to the target's WSGI application in this process, and checks each response against
the contract. It runs twice: with the contract's valid requests (positive generation),
then with invalid ones (negative generation: wrong types, broken limits, missing fields,
bodies that are not JSON). An invalid request must never crash the API, and its answer
must be one the contract documents, in the Error body.

Whether the API accepts an invalid request is not judged (schemathesis's
negative_data_rejection check is off). DRF's parsers are lenient in two documented ways
that are kept: a CharField reads the number 42 as "42", and trims whitespace before it
measures a length. Neither stores anything the contract forbids; the tests in
test_requests.py pin the rules that matter, one edge case per row.

Hypothesis runs derandomized with a bounded number of examples, and its version is
pinned in pyproject.toml, so a run is deterministic and takes seconds. (Derandomized
means seeded from the test function's source: editing `exercise` changes the examples.)
(`schemathesis.pytest.from_fixture` does not work with pytest 9.2, so the strategies are
driven with Hypothesis directly.)

The fuzz runs once; each test below then asks one question of its findings:
does the run show this planted flaw? The last asks whether it found anything else.
"""

from __future__ import annotations

import base64
import contextlib
from collections import defaultdict

import pytest
import schemathesis
from conftest import SCHEMA, Violation, contract_path, create_event, create_organizer, flaw_of
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure
from schemathesis.openapi.checks import JsonSchemaError

from drillkit.fixtures import PASSWORD

# --8<-- [start:fuzz-settings]
EXAMPLES_PER_OPERATION = 40
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,  # the same examples on every run: a failure is reproducible
    database=None,  # no example database: nothing carries over between runs
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: we collect, not minimise
    suppress_health_check=list(HealthCheck),
)
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
# --8<-- [end:fuzz-settings]

# The flaws this fuzz finds on the starter. The others have their own tests: a leak hidden
# behind the renamed field (F1), a title limit that the examples may or may not cross (F6;
# when they do, conftest files the long title, echoed or crashed on, under F6), a writable
# field that no response reveals (F7), and the rules about seats, sales and attendees
# (F11-F13), which need a full or unpublished event and a second user.
FOUND_BY_FUZZING = ["D1-F2", "D1-F3", "D1-F4", "D1-F5", "D1-F8", "D1-F9", "D1-F10"]


def _as_violations(failure: Failure, check: str, case, status: int) -> list[Violation]:
    """One schemathesis failure in the terms of conftest's signatures."""
    title = getattr(failure, "_raw_message", None) or failure.title
    if isinstance(failure, JsonSchemaError) and check == "response_schema_conformance":
        keyword = str(list(failure.schema_path)[-1]) if failure.schema_path else ""
        return [Violation("response", status, tuple(failure.instance_path), keyword, title, SCHEMA)]
    mutations = getattr(case.meta.phase.data, "mutations", ()) or () if case.meta else ()
    if check == "not_a_server_error" and mutations:
        # An invalid request crashed the API: one violation per rule the request broke,
        # e.g. ("title",) and maxLength. The crash is a planted flaw's only if every one of
        # them is that flaw's rule (see where they are filed, in _fuzz).
        return [
            Violation(
                "request", status, tuple(m.path), ",".join(m.keywords), _sent(title, m), check
            )
            for m in mutations
        ] or [Violation("request", status, (), "", title, check)]
    return [Violation("response", status, (), "", title, check)]


def _sent(title: str, mutation) -> str:
    return f"{title}: sent {mutation.new_value!r:.60} ({mutation.operator})"


def run_fuzz(organizer, event, mode: GenerationMode) -> dict[str | None, list[str]]:
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    schema = schemathesis.openapi.from_path(contract_path())
    token = base64.b64encode(f"{organizer.username}:{PASSWORD}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    found: dict[str | None, list[str]] = defaultdict(list)
    checks = [check for check in _checks() if check.__name__ in CHECKS]

    with _one_connection_for_all_requests():
        for result in schema.get_all_operations():
            operation = result.ok()
            path_parameters = {name: event.pk for name in ("id", "event_id")}
            strategy = operation.as_strategy(
                mode,
                path_parameters={
                    k: v for k, v in path_parameters.items() if "{" + k + "}" in operation.path
                },
                headers=headers,
            )
            _fuzz(operation, strategy, app, checks, found)
    return found


@contextlib.contextmanager
def _one_connection_for_all_requests():
    """Keep the database connection open between the fuzz's requests, as Django's own test
    client does: the WSGI handler would close it after each of hundreds of requests, and
    on PostgreSQL reconnecting each time is most of the fuzz's time."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _fuzz(operation, strategy, app, checks, found) -> None:
    @FUZZ_SETTINGS
    @given(case=strategy)
    def exercise(case):
        response = case.call(app=app)
        for check in _checks_for(response, checks):  # one at a time: each failure names one
            try:
                case.validate_response(response, checks=[check])
            except Failure as failure:
                failures = [failure]
            except BaseExceptionGroup as group:
                failures = list(group.exceptions)
            else:
                continue
            for failure in failures:
                violations = _as_violations(failure, check.__name__, case, response.status_code)
                flaws = {flaw_of(v) for v in violations}
                found[flaws.pop() if len(flaws) == 1 else None].append(
                    f"{operation.label}: {violations[0]}"
                )

    # Negative generation only: an operation with nothing a client can get wrong (GET of
    # one event: its id is fixed, it takes no query and no body) has no invalid request.
    with contextlib.suppress(Unsatisfiable):
        exercise()


def _checks_for(response, checks):
    # A crash is one finding, not also an undocumented status and a body that is not JSON.
    if response.status_code >= 500:
        return [check for check in checks if check.__name__ == "not_a_server_error"]
    return checks


def _checks():
    from schemathesis.checks import CHECKS as REGISTRY

    return REGISTRY.get_all()


@pytest.fixture(scope="module")
def fuzz_findings(django_db_setup, django_db_blocker):
    """Run the fuzz once for this module's tests, which only read its findings. It runs
    outside any test's transaction, as a transactional test does, so that a crashing
    INSERT on PostgreSQL does not poison the requests that follow; then it empties the
    database, as a transactional test's teardown does. Valid requests first, then invalid
    ones, which the API must refuse with a 4xx: never accept, never crash on."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        try:
            organizer = create_organizer()
            event = create_event(organizer)
            findings = run_fuzz(organizer, event, GenerationMode.POSITIVE)
            for flaw_id, seen in run_fuzz(organizer, event, GenerationMode.NEGATIVE).items():
                findings[flaw_id] += seen
        finally:
            call_command("flush", verbosity=0, interactive=False)
    return findings


# The tests only read the findings, but the marker tells pytest-django that the fuzz
# needs the test database, even when `-k fuzz` selects nothing else.
@pytest.mark.django_db
@pytest.mark.parametrize(
    "flaw_id", [pytest.param(f, marks=pytest.mark.flaw(f), id=f) for f in FOUND_BY_FUZZING]
)
def test_fuzzing_finds_no_violation_of_this_kind(flaw_id, fuzz_findings):
    seen = fuzz_findings.get(flaw_id, [])
    assert not seen, f"schemathesis found {len(seen)} responses showing {flaw_id}, e.g. " + (
        "; ".join(sorted(set(seen))[:3])
    )


@pytest.mark.django_db
def test_fuzzing_finds_nothing_outside_the_planted_flaws(fuzz_findings):
    unexplained = sorted(set(fuzz_findings.get(None, [])))
    assert not unexplained, "schemathesis found contract violations:\n" + "\n".join(
        unexplained[:20]
    )
