"""Not hammering a database that is down, and coming back as soon as it returns.

The contract: after at most 5 requests that fail on the database, requests stop calling
it, on every route; 1 second later one trial call goes through, one caller at a time;
when the database is back, fresh answers resume at once after that second. Failures
that are not outages (a 400, a 409, a 422) never count.

Time is moved, never slept through: `clock.shift()` moves the wall clock that pybreaker
(and any breaker that reads `time.time()` or `datetime.now()`) measures its timeout by.
"""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import ORDERS, PRODUCTS, READY, order_for

MAX_FAILING_REQUESTS = 5
BREAKER_TIMEOUT = timedelta(seconds=1)  # the contract's "1 s later one trial call"
JUST_PAST = timedelta(milliseconds=50)
CONCURRENT_CALLERS = 4


@pytest.fixture
def clock(time_machine):
    """The wall clock, running, that a test can shift forward."""
    time_machine.move_to(datetime.now(UTC), tick=True)
    return time_machine


def open_the_breaker(client, faults):
    faults.cut()
    for _ in range(MAX_FAILING_REQUESTS + 1):
        client.get(PRODUCTS)


# --8<-- [start:breaker]
@pytest.mark.flaw("D5-F7")
def test_requests_stop_calling_a_database_that_is_down(client, products, faults, caches_in_memory):
    faults.cut()
    for _ in range(MAX_FAILING_REQUESTS):
        client.get(PRODUCTS)
    assert faults.attempts <= MAX_FAILING_REQUESTS * 2, (
        f"{MAX_FAILING_REQUESTS} reads made {faults.attempts} database attempts during "
        "the outage: retrying at once only adds load to a database that is down"
    )
    attempts_so_far = faults.attempts
    for _ in range(3):
        client.get(PRODUCTS)
    assert faults.attempts == attempts_so_far, (
        f"after {MAX_FAILING_REQUESTS} failed requests, the next ones must not call the "
        f"database (a circuit breaker); they made {faults.attempts - attempts_so_far} attempts"
    )


@pytest.mark.flaw("D5-F7")
@pytest.mark.parametrize(
    "route",
    [
        pytest.param(lambda client, product: client.get(PRODUCTS), id="read"),
        pytest.param(
            lambda client, product: client.post(
                ORDERS, order_for(product), format="json", HTTP_IDEMPOTENCY_KEY="open-1"
            ),
            id="order",
        ),
        pytest.param(lambda client, product: client.get(READY), id="readiness"),
    ],
)
def test_every_route_shares_the_open_breaker(client, products, faults, caches_in_memory, route):
    open_the_breaker(client, faults)
    before = faults.attempts
    route(client, products[0])
    route(client, products[0])
    assert faults.attempts == before, (
        "the breaker is open, but this route still called the database "
        f"({faults.attempts - before} attempts): one breaker must guard every database call"
    )


@pytest.mark.flaw("D5-F7")
def test_one_trial_call_goes_through_after_the_breaker_timeout(
    client, products, faults, caches_in_memory, clock
):
    open_the_breaker(client, faults)
    clock.shift(BREAKER_TIMEOUT + JUST_PAST)
    before = faults.attempts
    client.get(PRODUCTS)
    client.get(PRODUCTS)
    assert faults.attempts - before == 1, (
        "once the breaker's timeout has passed, exactly one request should try the "
        f"database, and its failure should open the breaker again; {faults.attempts - before} "
        "attempts were made"
    )


@pytest.mark.flaw("D5-F7")
def test_callers_arriving_during_the_trial_call_are_turned_away(
    client, products, faults, caches_in_memory, clock
):
    """The trial call hangs (the database accepts it and never answers); every request
    that arrives meanwhile must be answered at once, without touching the database."""
    open_the_breaker(client, faults)
    faults.hang()
    clock.shift(BREAKER_TIMEOUT + JUST_PAST)
    trial = BackgroundRequest(client, PRODUCTS)
    try:
        assert faults.wait_until_hanging(), (
            "precondition: the trial call never reached the database"
        )
        before = faults.attempts
        others = [BackgroundRequest(client, PRODUCTS) for _ in range(CONCURRENT_CALLERS)]
        deadline = time.monotonic() + 1.0
        answered = [other.wait(max(0.0, deadline - time.monotonic())) for other in others]
        extra = faults.attempts - before
    finally:
        faults.restore()
        trial.wait(5)
    assert extra == 0, (
        f"while one trial call was in flight, {CONCURRENT_CALLERS} more callers made {extra} "
        "database attempts: a half-open breaker must let one call through, not every caller"
    )
    assert all(answered), (
        f"{answered.count(False)} callers were still waiting after 1 s: while the trial "
        "call is in flight, the others must be answered at once"
    )


# --8<-- [end:breaker]


class BackgroundRequest:
    """One GET in its own thread, as a threaded server would serve it."""

    def __init__(self, client, path):
        self.response = None
        self._thread = threading.Thread(target=self._run, args=(client, path), daemon=True)
        self._thread.start()

    def _run(self, client, path):
        from django.db import connection

        try:
            self.response = type(client)().get(path)
        finally:
            connection.close()

    def wait(self, timeout):
        """True if the request was answered within `timeout` seconds."""
        self._thread.join(timeout)
        return not self._thread.is_alive()


def test_fresh_answers_resume_once_the_database_is_back(
    client, products, faults, caches_in_memory, clock
):
    client.get(PRODUCTS)
    open_the_breaker(client, faults)
    faults.restore()
    clock.shift(BREAKER_TIMEOUT + JUST_PAST)
    response = client.get(PRODUCTS)
    assert response.status_code == 200, "the database is back: serve it"
    assert response.json(), "the database is back: serve it"
    assert "Age" not in response.headers, (
        "one breaker timeout after the database returned, the trial call must succeed and "
        "fresh answers resume"
    )


@pytest.mark.flaw("D5-F7")
def test_only_outages_open_the_breaker(client, products, faults, caches_in_memory):
    """A 400 or a 409 is the database answering: many of them must not open the
    breaker. Then a real outage must."""
    monitor = products[2]
    refused = [order_for(monitor, quantity=101), order_for(monitor, quantity=6)]  # 400, 409
    for n in range(MAX_FAILING_REQUESTS + 2):
        for payload in refused:
            response = client.post(ORDERS, payload, format="json", HTTP_IDEMPOTENCY_KEY=f"k{n}")
            assert response.status_code in (400, 409), response.content[:200]
    response = client.get(PRODUCTS)
    message = "refused orders are the database answering, not failing: they must not open it"
    assert response.status_code == 200, message
    assert "Age" not in response.headers, message

    open_the_breaker(client, faults)
    before = faults.attempts
    client.get(PRODUCTS)
    assert faults.attempts == before, "an outage, unlike refused orders, must open the breaker"
