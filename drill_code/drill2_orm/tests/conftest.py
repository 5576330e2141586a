"""Fixtures for Drill 2: a catalogue of any size, and requests whose queries are counted.

Everything goes through HTTP (the shared `api_client` fixture of drillkit.fixtures, a DRF
APIClient) and the target's own models, so the same tests run on the starter, the
solution and your copy.
"""

import catalogue as catalogue_data
import pytest

from drillkit.queries import QueryLog, capture


@pytest.fixture
def make_catalogue(db):
    """Replace whatever catalogue is in the database with one of `n` books."""

    def make(n: int) -> catalogue_data.Plan:
        catalogue_data.clear()
        return catalogue_data.create(catalogue_data.plan(n))

    return make


@pytest.fixture
def get_json(api_client):
    def get(path: str):
        response = api_client.get(path)
        assert response.status_code == 200, f"GET {path} answered {response.status_code}"
        return response.json()

    return get


@pytest.fixture
def queries_for(api_client, make_catalogue):
    """The queries one GET runs against a fresh catalogue of `n` books."""

    def run(path: str, n: int) -> QueryLog:
        make_catalogue(n)
        url = path.format(n=n)
        with capture() as log:
            response = api_client.get(url)
        assert response.status_code == 200, f"GET {url} answered {response.status_code}"
        return log

    return run
