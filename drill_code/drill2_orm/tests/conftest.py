"""Fixtures for Drill 2: a catalogue of any size, and requests whose queries are counted.

Everything goes through HTTP (the shared `api_client` fixture of drillkit.fixtures, a DRF
APIClient) and the target's own models, so the same tests run on the starter, the
solution and your copy.

Every test runs in a transaction that is rolled back, so a catalogue written before the
test is there again for the next one: `shared_catalogue` writes one for a whole module
of tests, as Django's TestCase.setUpTestData does for a class.
"""

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import catalogue as catalogue_data
import pytest
from budgets import CAP
from django.apps import apps
from django.db import transaction

from drillkit.queries import QueryLog, capture


@pytest.fixture
def make_catalogue(db):
    """Replace whatever catalogue is in the database with one of `n` books."""

    def make(n: int) -> catalogue_data.Plan:
        catalogue_data.clear()
        return catalogue_data.create(catalogue_data.plan(n))

    return make


@contextmanager
def shared_catalogue(django_db_blocker, n: int, *, popular: bool = False) -> Iterator:
    """For a module-scoped fixture: write a catalogue of `n` books (with the popular book's
    hundreds of reviews if `popular`) once, outside every test's transaction, and clear
    it after the module's last test. Hand each test a copy of the plan it yields (see
    its_own), so that a test that adds rows to its plan changes no other test's."""
    with django_db_blocker.unblock(), transaction.atomic():  # all or nothing
        catalogue_data.clear()
        plan = catalogue_data.create(catalogue_data.plan(n))
        if popular:
            catalogue_data.add_popular_reviews(plan)
    yield plan
    with django_db_blocker.unblock():
        catalogue_data.clear()


def its_own(plan: catalogue_data.Plan) -> catalogue_data.Plan:
    """A copy of the plan's lists and rows: their values are immutable but for a book's
    lists of author and tag ids, which are copied too."""

    def rows(table: list[dict]) -> list[dict]:
        return [{k: list(v) if isinstance(v, list) else v for k, v in row.items()} for row in table]

    tables = [f.name for f in dataclasses.fields(plan) if f.name != "size"]
    return dataclasses.replace(plan, **{name: rows(getattr(plan, name)) for name in tables})


@pytest.fixture
def get_json(api_client):
    def get(path: str):
        response = api_client.get(path)
        assert response.status_code == 200, f"GET {path} answered {response.status_code}"
        return response.json()

    return get


@pytest.fixture(scope="session")
def _query_logs() -> dict[tuple[str, int], QueryLog]:
    return {}


@pytest.fixture
def queries_for(api_client, make_catalogue, _query_logs):
    """The queries one GET runs against a fresh catalogue of `n` books.

    They depend only on the path and the catalogue, so each GET runs once per test run:
    the budget's rows for one endpoint (books, authors, tags...) and the load checks each
    read their own part of the same log, the one a first request gets."""

    def run(path: str, n: int) -> QueryLog:
        if (path, n) not in _query_logs:
            make_catalogue(n)
            url = path.format(n=n)
            with capture() as log:
                response = api_client.get(url)
            assert response.status_code == 200, f"GET {url} answered {response.status_code}"
            _query_logs[path, n] = log
        return _query_logs[path, n]

    return run


@pytest.fixture
def over_a_page(db):
    """CAP + 1 rows in every list: publishers, authors, books and published reviews,
    in place of any catalogue a module wrote for its tests."""
    catalogue_data.clear()
    rows = CAP + 1
    publisher, author, book, review = (
        apps.get_model("bookstore", n) for n in ("Publisher", "Author", "Book", "Review")
    )
    publisher.objects.bulk_create(
        publisher(id=i, name=f"Press {i}", country="GB") for i in range(1, rows + 1)
    )
    author.objects.bulk_create(author(id=i, name=f"Author {i}") for i in range(1, rows + 1))
    book.objects.bulk_create(
        book(
            id=i,
            title=f"Book {i}",
            isbn=f"978{i:010d}",
            price=Decimal("9.99"),
            published_on="2020-01-01",
            publisher_id=i,
        )
        for i in range(1, rows + 1)
    )
    book.authors.through.objects.bulk_create(
        book.authors.through(book_id=i, author_id=i) for i in range(1, rows + 1)
    )
    review.objects.bulk_create(
        review(id=i, book_id=i, rating=1 + i % 5, title="Good", body="Good.", is_published=True)
        for i in range(1, rows + 1)
    )
    return rows
