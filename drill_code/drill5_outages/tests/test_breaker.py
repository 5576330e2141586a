"""Not hammering a database that is down, and coming back as soon as it returns.

The contract: after at most 5 requests that fail on the database, requests stop calling
it; at most 1 second later one trial call goes through; when the database is back,
fresh answers resume within about a second. Failures that are not outages (a 409, a
400) never count.
"""

import time

import pytest
from conftest import PRODUCTS, order_for

MAX_FAILING_REQUESTS = 5
RECOVERY_BUDGET = 1.5  # seconds from the database's return to the first fresh answer


# --8<-- [start:breaker]
@pytest.mark.flaw("D5-F7")
def test_requests_stop_calling_a_database_that_is_down(client, products, faults):
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
def test_one_trial_call_goes_through_after_the_breaker_timeout(client, products, faults):
    faults.cut()
    for _ in range(MAX_FAILING_REQUESTS + 1):
        client.get(PRODUCTS)
    time.sleep(1.1)
    before = faults.attempts
    client.get(PRODUCTS)
    client.get(PRODUCTS)
    assert faults.attempts - before == 1, (
        "once the breaker's timeout has passed, exactly one request should try the "
        f"database, and its failure should open the breaker again; {faults.attempts - before} "
        "attempts were made"
    )


# --8<-- [end:breaker]


def test_fresh_answers_resume_soon_after_the_database_returns(client, products, faults):
    client.get(PRODUCTS)
    faults.cut()
    for _ in range(MAX_FAILING_REQUESTS + 1):
        client.get(PRODUCTS)
    faults.restore()
    returned = time.monotonic()
    while time.monotonic() - returned < 5:
        response = client.get(PRODUCTS)
        if response.status_code == 200 and "Age" not in response.headers and response.json():
            break
        time.sleep(0.05)
    recovered_after = time.monotonic() - returned
    assert recovered_after < RECOVERY_BUDGET, (
        f"fresh answers came back {recovered_after:.1f}s after the database did"
    )


def test_refused_orders_do_not_open_the_breaker(client, products):
    monitor = products[2]
    for n in range(MAX_FAILING_REQUESTS + 2):
        response = client.post(
            "/api/orders/",
            order_for(monitor, quantity=99),
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"too-many-{n}",
        )
        assert response.status_code in (400, 409)
    response = client.get(PRODUCTS)
    message = "refused orders are the database answering, not failing: they must not open it"
    assert response.status_code == 200, message
    assert "Age" not in response.headers, message
