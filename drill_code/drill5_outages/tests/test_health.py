"""Liveness and readiness: two probes, two questions.

Liveness asks "is this process stuck?" and a failure restarts it; readiness asks "should
the load balancer send it traffic?" and a failure takes it out of rotation. The database
is shared by every replica, so neither may simply mirror it: a replica that can serve
its last good catalogue stays ready through an outage, and only a replica with nothing
to serve (it started during the outage) steps aside.
"""

import pytest
from conftest import LIVE, PRODUCTS, READY


def test_both_probes_pass_when_the_database_is_up(client, products):
    assert client.get(LIVE).status_code == 200
    assert client.get(READY).status_code == 200


# --8<-- [start:probes]
@pytest.mark.flaw("D5-F4")
def test_liveness_does_not_depend_on_the_database(client, products, faults):
    faults.cut()
    response = client.get(LIVE)
    assert response.status_code == 200, (
        "the process is alive while the database is down; restarting it fixes nothing"
    )
    assert faults.attempts == 0, "the liveness probe must not touch the database at all"


@pytest.mark.flaw("D5-F10")
def test_a_replica_with_something_to_serve_stays_ready_during_an_outage(
    client, products, faults, caches_in_memory
):
    client.get(PRODUCTS)  # this replica now holds a last good catalogue
    faults.cut()
    for _ in range(3):  # before and after a breaker opens
        response = client.get(READY)
        assert response.status_code == 200, (
            "this replica can serve its last good catalogue; a readiness probe that fails "
            "with the shared database takes every replica out of the load balancer at once"
        )
    from django.core.cache import caches

    for cache in caches.all():  # now it is a replica that started during the outage
        cache.clear()
    response = client.get(READY)
    assert not 200 <= response.status_code < 400, (
        "a replica with no catalogue to serve and no database must not be sent traffic"
    )


# --8<-- [end:probes]


def test_readiness_reports_a_cold_replica_during_an_outage_as_not_ready(client, products, faults):
    faults.cut()
    response = client.get(READY)
    assert not 200 <= response.status_code < 400, "any status outside 200-399 fails a probe"
    assert response.headers["Content-Type"].startswith("application/json")
