"""Fixtures for Drill 2: a catalogue of any size, and requests whose queries are counted.

Everything goes through HTTP (the shared `api_client` fixture of drillkit.fixtures, a DRF
APIClient) and the target's own models, so the same tests run on the starter, the
solution and your copy.
"""

from decimal import Decimal

import catalogue as catalogue_data
import pytest
from budgets import CAP
from django.apps import apps

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


@pytest.fixture
def over_a_page(db):
    """CAP + 1 rows in every list: publishers, authors, books and published reviews."""
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
