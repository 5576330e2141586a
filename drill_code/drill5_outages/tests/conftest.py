"""Fixtures for Drill 5: a catalogue, a client that behaves like a real server, and faults.

Every test is transactional (`transactional_db`): a real outage kills connections and
their transactions, so no test may hide inside one wrapping transaction.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import close_old_connections, connection
from django.db.backends.signals import connection_created
from faults import SQLITE_OUTAGE_MESSAGE, DatabaseFaults
from rest_framework.test import APIClient

from drillkit.backends import database_url, is_postgres
from drillkit.faultproxy import LOOPBACK, FaultProxy

PRODUCTS = "/api/products/"
ORDERS = "/api/orders/"
LIVE = "/api/health/live/"
READY = "/api/health/ready/"
# Words that only appear in a response when an exception or its traceback leaks into it.
INTERNALS = (
    "Traceback",
    'File "',
    "OperationalError",
    "InterfaceError",
    "psycopg",
    "sqlite",
    "127.0.0.1",
    "shop_product",
    "shop_order",
    SQLITE_OUTAGE_MESSAGE,
)


# -- PostgreSQL through the fault proxy ------------------------------------------------


# --8<-- [start:proxy]
@pytest.fixture(scope="session")
def database_proxy():
    """On PostgreSQL, a FaultProxy in front of the server for the whole test session."""
    if not is_postgres(database_url()):
        yield None
        return
    db = settings.DATABASES["default"]
    with FaultProxy(db["HOST"] or LOOPBACK, int(db["PORT"] or 5432)) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, database_proxy):
    """pytest-django's hook for changing DATABASES before the test database is created:
    every connection the tests and the target open goes through the proxy."""
    if database_proxy is not None:
        settings.DATABASES["default"].update(HOST=LOOPBACK, PORT=str(database_proxy.port))


# --8<-- [end:proxy]


# -- per test ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_caches(transactional_db):
    # Each test starts cold: no last-good copy, whatever cache backend the target uses.
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def faults(database_proxy, client, time_machine):
    """The database's fault switchboard for one test; everything is restored after it."""
    switchboard = DatabaseFaults(database_proxy)
    connection.execute_wrappers.append(switchboard)
    connection_created.connect(switchboard.join, weak=False)
    yield switchboard
    switchboard.restore()
    connection_created.disconnect(switchboard.join)
    connection.execute_wrappers.remove(switchboard)
    connection.close()  # a connection the cut killed must not reach the next test
    if switchboard.was_cut:
        _wait_until_ready(client, time_machine)


def _wait_until_ready(client, time_machine, timeout: float = 3.0) -> None:
    """A circuit breaker opened by this test would leak into the next one. With nothing
    cached, readiness needs the database, so its 200 shows the target has closed the
    breaker. The wall clock is moved past any breaker timeout up to 2 s first, so that a
    breaker that reads it closes at once; one that does not is waited for, 3 s at most."""
    for cache in caches.all():
        cache.clear()
    time_machine.move_to(datetime.now(UTC) + timedelta(seconds=2), tick=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get(READY).status_code == 200:
            return
        time.sleep(0.05)


class ServerLikeClient(APIClient):
    """An APIClient that handles database connections as a real server does.

    Django's test client disconnects `close_old_connections` from the request signals,
    so a connection would live across requests even if it broke. A server (runserver,
    gunicorn) calls it at the start and end of each request: that is when a dead
    connection is replaced and CONN_MAX_AGE / CONN_HEALTH_CHECKS take effect.
    """

    def request(self, **request):
        close_old_connections()
        try:
            return super().request(**request)
        finally:
            close_old_connections()


@pytest.fixture
def client():
    return ServerLikeClient()


@pytest.fixture
def products():
    from shop.models import Product  # the target's app, whichever target it is

    return [
        Product.objects.create(sku="KB-01", name="Mechanical keyboard", price="89.00", stock=25),
        Product.objects.create(sku="MS-02", name="Wireless mouse", price="24.50", stock=40),
        Product.objects.create(sku="MN-27", name="27-inch monitor", price="219.00", stock=5),
    ]


@pytest.fixture
def caches_in_memory(settings):
    """Every cache alias the target defines, moved into this process's memory.

    The Age and readiness tests check what a replica does with a stale copy, so they
    need one whatever the state of D5-F5: wherever the target keeps its last good copy
    through Django's cache framework, the copy now survives the cut.
    """
    settings.CACHES = {
        alias: {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"drill5-tests-{alias}",
            "TIMEOUT": config.get("TIMEOUT", 300),
        }
        for alias, config in settings.CACHES.items()
    }
    for cache in caches.all():
        cache.clear()


def order_for(product, quantity=1, reference="PO-1001"):
    return {"product": product.pk, "quantity": quantity, "reference": reference}


def assert_clean_json_503(response):
    """The outage contract: a JSON 503 with Retry-After, and nothing of our internals."""
    body = response.content.decode()
    assert response.status_code == 503, (
        f"an outage must be answered 503 Service Unavailable, got {response.status_code}: "
        f"{body[:200]}"
    )
    assert response.headers.get("Content-Type", "").startswith("application/json"), (
        "the 503 must be JSON, like every other answer of the API"
    )
    retry_after = response.headers.get("Retry-After", "")
    assert retry_after.isdigit(), (
        f"a 503 must say when to come back: Retry-After in seconds, got {retry_after!r}"
    )
    assert int(retry_after) >= 1, "Retry-After: 0 invites an immediate retry storm"
    leaked = [word for word in INTERNALS if word in body]
    assert not leaked, f"the 503 body must not reveal internals, but it contains {leaked}"
