"""Liveness and readiness: two probes, two questions.

Liveness asks "is this process stuck?" and a failure restarts it; readiness asks "can
it do useful work now?" and a failure takes it out of the load balancer.
"""

import pytest
from conftest import LIVE, READY


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


def test_readiness_reports_a_database_outage_as_a_json_503(client, products, faults):
    faults.cut()
    response = client.get(READY)
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("application/json")


# --8<-- [end:probes]
