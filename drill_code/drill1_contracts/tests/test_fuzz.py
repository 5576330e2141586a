"""Property-based fuzzing from the contract with schemathesis, in-process.

schemathesis reads the target's contract, generates requests for every operation, sends
them to the target's WSGI application in this process, and checks each response against
the contract. The requests are the contract's valid ones (positive generation), so the
negative_data_rejection check only has something to judge if invalid ones are generated
too. Hypothesis runs derandomized with a bounded number of examples, and its version is
pinned in pyproject.toml, so a run is deterministic and takes seconds.
(`schemathesis.pytest.from_fixture` does not work with pytest 9.2, so the strategies are
driven with Hypothesis directly.)

The fuzz runs once per session; each test below then asks one question of its findings:
does the run show this planted flaw? The last asks whether it found anything else.
"""

from __future__ import annotations

import base64
from collections import defaultdict

import pytest
import schemathesis
from conftest import SCHEMA, Violation, contract_path, flaw_of
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.core.failures import AcceptedNegativeData, Failure
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
    "negative_data_rejection",
)
# --8<-- [end:fuzz-settings]

# The flaws this fuzz finds on the starter. The others have their own tests: a leak hidden
# behind the renamed field (F1), a limit that valid requests never cross (F6), and a
# writable field that no response reveals (F7). If invalid requests are ever generated too,
# conftest's ACCEPTED_INVALID files an accepted longer title under F6.
FOUND_BY_FUZZING = ["D1-F2", "D1-F3", "D1-F4", "D1-F5", "D1-F8", "D1-F9", "D1-F10"]


def _as_violations(failure: Failure, check: str, case, status: int) -> list[Violation]:
    """One schemathesis failure in the terms of conftest's signatures."""
    title = getattr(failure, "_raw_message", None) or failure.title
    if isinstance(failure, JsonSchemaError) and check == "response_schema_conformance":
        keyword = str(list(failure.schema_path)[-1]) if failure.schema_path else ""
        return [Violation("response", status, tuple(failure.instance_path), keyword, title, SCHEMA)]
    if isinstance(failure, AcceptedNegativeData) and case.meta is not None:
        # One per field the request broke, e.g. ("title",) and maxLength: the API accepted
        # them all, so each one could be the flaw that let the request through.
        mutations = getattr(case.meta.phase.data, "mutations", ()) or ()
        return [
            Violation("request", status, tuple(m.path), ",".join(m.keywords), title, check)
            for m in mutations
        ] or [Violation("request", status, (), "", title, check)]
    return [Violation("response", status, (), "", title, check)]


def run_fuzz(organizer, event) -> dict[str | None, list[str]]:
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    schema = schemathesis.openapi.from_path(contract_path())
    token = base64.b64encode(f"{organizer.username}:{PASSWORD}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    found: dict[str | None, list[str]] = defaultdict(list)
    checks = [check for check in _checks() if check.__name__ in CHECKS]

    for result in schema.get_all_operations():
        operation = result.ok()
        path_parameters = {name: event.pk for name in ("id", "event_id")}
        strategy = operation.as_strategy(
            GenerationMode.POSITIVE,
            path_parameters={
                k: v for k, v in path_parameters.items() if "{" + k + "}" in operation.path
            },
            headers=headers,
        )

        _fuzz(operation, strategy, app, checks, found)
    return found


def _fuzz(operation, strategy, app, checks, found) -> None:
    @FUZZ_SETTINGS
    @given(case=strategy)
    def exercise(case):
        response = case.call(app=app)
        for check in checks:  # one at a time, so that each failure names its check
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
                flaws = [flaw_id for v in violations if (flaw_id := flaw_of(v))]
                found[flaws[0] if flaws else None].append(f"{operation.label}: {violations[0]}")

    exercise()


def _checks():
    from schemathesis.checks import CHECKS as REGISTRY

    return REGISTRY.get_all()


_RESULTS: dict[str, dict] = {}


@pytest.fixture
def fuzz_findings(request, organizer, event):
    """Run the fuzz once per session (it takes seconds), in a transactional test so
    that a crashing INSERT on PostgreSQL does not poison the requests that follow."""
    if "findings" not in _RESULTS:
        _RESULTS["findings"] = run_fuzz(organizer, event)
    return _RESULTS["findings"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "flaw_id", [pytest.param(f, marks=pytest.mark.flaw(f), id=f) for f in FOUND_BY_FUZZING]
)
def test_fuzzing_finds_no_violation_of_this_kind(flaw_id, fuzz_findings):
    seen = fuzz_findings.get(flaw_id, [])
    assert not seen, f"schemathesis found {len(seen)} responses showing {flaw_id}, e.g. " + (
        "; ".join(sorted(set(seen))[:3])
    )


@pytest.mark.django_db(transaction=True)
def test_fuzzing_finds_nothing_outside_the_planted_flaws(fuzz_findings):
    unexplained = sorted(set(fuzz_findings.get(None, [])))
    assert not unexplained, "schemathesis found contract violations:\n" + "\n".join(
        unexplained[:20]
    )
