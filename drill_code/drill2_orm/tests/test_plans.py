"""Query plans: the filtered lists find their rows through an index, in the order they show.

A query count says nothing about how the database finds the rows. These tests send the
request, take the database's own plan of every statement it ran on the filtered table (see
plans.py), and check what the plan does, never how long it takes: a time depends on the
machine, a plan only on the schema and the query.

The catalogue has 1000 books, and one book has hundreds of reviews, so there is something
to find. A missing index is a full scan on SQLite ("SCAN bookstore_book") and on
PostgreSQL (a Seq Scan, or an index walked end to end with a Filter, since the plans are
taken with sequential scans switched off).
"""

import catalogue
import pytest
from budgets import BOOK_T, REVIEW_T
from conftest import its_own, shared_catalogue
from plans import analyze, explained

BOOKS = 1000
POPULAR = catalogue.POPULAR_BOOK  # the book with hundreds of reviews


@pytest.fixture(scope="module")
def module_catalogue(django_db_setup, django_db_blocker):
    """Written once for this module's tests; each test's changes are rolled back."""
    with shared_catalogue(django_db_blocker, BOOKS, popular=True) as plan:
        yield plan


@pytest.fixture
def planned_catalogue(module_catalogue, db):
    """The module's catalogue, with fresh planner statistics."""
    analyze(BOOK_T, REVIEW_T, "bookstore_publisher")
    return its_own(module_catalogue)


def _newest_dates(plan, count):
    return sorted(book["published_on"] for book in plan.books)[-count:]


# --8<-- [start:plan-tests]
@pytest.mark.flaw("D2-F11")
def test_new_releases_are_found_through_an_index(planned_catalogue, api_client):
    since = _newest_dates(planned_catalogue, 15)[0]
    found = explained(api_client, f"/api/books/?published_since={since}", BOOK_T, "published_on")
    for plan in found.plans:  # the paginator's COUNT and the page itself
        assert plan.finds_by_index(BOOK_T, "published_on"), (
            f"GET {found.url} reads every book to find the 15 published since {since}: "
            "no index starts with the column it filters on.\n\n" + found.report()
        )


@pytest.mark.flaw("D2-F12")
def test_a_books_reviews_come_from_an_index_already_in_order(planned_catalogue, api_client):
    found = explained(api_client, f"/api/reviews/?book={POPULAR}", REVIEW_T, "book_id")
    for plan in found.plans:
        assert plan.finds_by_index(REVIEW_T, "book_id"), (
            f"GET {found.url} does not find the book's reviews through an index that starts "
            "with book_id.\n\n" + found.report()
        )
    page = [plan for plan in found.plans if " ORDER BY " in plan.sql]
    assert page, f"GET {found.url} ran no ordered query on {REVIEW_T}"
    for plan in page:
        assert not plan.sorts, (
            f"GET {found.url} finds the book's hundreds of reviews, then sorts them all "
            "to show the newest 20: no index gives them in the feed's order.\n\n" + found.report()
        )


# --8<-- [end:plan-tests]


# -- what the filters answer (not tied to a flaw: both targets must get them right) ---------


def test_new_releases_are_the_books_published_since_the_date(planned_catalogue, get_json):
    since = _newest_dates(planned_catalogue, 25)[0]
    page = get_json(f"/api/books/?published_since={since}&page_size=100")
    want = {b["id"] for b in planned_catalogue.books if b["published_on"] >= since}
    assert page["count"] == len(want) == 25
    assert {book["id"] for book in page["results"]} == want


def test_a_books_reviews_are_its_published_ones_newest_first(planned_catalogue, get_json):
    published = sorted(
        (r for r in planned_catalogue.reviews if r["book_id"] == POPULAR and r["is_published"]),
        key=lambda r: (r["created_at"], r["id"]),
        reverse=True,
    )
    page = get_json(f"/api/reviews/?book={POPULAR}&page_size=50")
    assert [r["id"] for r in page["results"]] == [r["id"] for r in published[:50]]
    assert {r["book"] for r in page["results"]} == {POPULAR}


@pytest.mark.parametrize(
    "query",
    [
        "/api/books/?published_since=yesterday",
        "/api/books/?published_since=2024-02-30",
        "/api/books/?published_since=",
        "/api/reviews/?book=abc",
        "/api/reviews/?book=0",
        "/api/reviews/?book=99999999999999999999999",
        "/api/reviews/?book=",
    ],
)
def test_a_malformed_filter_is_a_400_that_names_it(query, module_catalogue, db, api_client):
    response = api_client.get(query)
    assert response.status_code == 400, f"GET {query}: {response.status_code}"
    name = query.split("?")[1].split("=")[0]
    assert name in response.json(), f"GET {query}: the answer should name {name}"
