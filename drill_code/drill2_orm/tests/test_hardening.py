"""Adversarial tests of the catalogue API, beyond the planted flaws.

The catalogue is public and read-only, so the OWASP API Security Top 10 (2023) categories
that apply are these, one table each:

- API1 object-level and API5 function-level authorisation: no route and no method lets
  anyone change an object (every write is refused, on every list and every object);
- API3 property-level authorisation: answers carry exactly their documented fields, and
  no unpublished review shows anywhere, nor counts in any number;
- API4 unrestricted resource consumption: no page holds more than 1000 rows, whatever
  ?page_size= asks;
- API8 misconfiguration and malformed input: a malformed page, page size, id or format is
  a 4xx, never a 500, and a rating outside 1 to 5 cannot be stored to break the averages.

Not tied to a planted flaw, so they pass on the starter and on the solution. Each one
fails when the guard it names is removed: a writable viewset, an unfiltered queryset, an
extra serializer field, no max_page_size, no check constraint.
"""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from budgets import CAP
from conftest import its_own, shared_catalogue
from django.apps import apps
from django.db import IntegrityError, transaction

FEED = "/api/reviews/"  # paged by cursor: its malformed cursors are in test_feed.py

LISTS = [
    "/api/books/",
    "/api/books/top-rated/",
    "/api/authors/",
    "/api/publishers/",
    "/api/reviews/",
]
# One object of each kind that exists in plan(12): review 3 is published, 2 is not.
OBJECTS = ["/api/books/4/", "/api/authors/2/", "/api/publishers/1/", "/api/reviews/3/"]
WRITES = ["post", "put", "patch", "delete"]
# What a writer would try to set: fields of every model, including the hidden ones.
WRITE_BODY = {
    "title": "Changed",
    "name": "Changed",
    "rating": 5,
    "is_published": True,
    "body": "Changed",
    "price": "0.01",
    "publisher": 1,
    "book": 1,
}


@pytest.fixture(scope="module")
def module_catalogue(django_db_setup, django_db_blocker):
    """plan(12), written once for this module's tests; each test's changes are rolled back."""
    with shared_catalogue(django_db_blocker, 12) as plan:
        yield plan


@pytest.fixture
def twelve_books(module_catalogue, db):
    return its_own(module_catalogue)


def _model(name):
    return apps.get_model("bookstore", name)


def _snapshot():
    """Every row of the catalogue, to show a request changed nothing."""
    return {
        name: list(_model(name).objects.order_by("pk").values())
        for name in ("Publisher", "Author", "Tag", "Book", "Review")
    }


# -- API1 / API5: nobody writes -----------------------------------------------------------


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("path", LISTS + OBJECTS)
def test_no_route_accepts_a_write(path, method, twelve_books, api_client):
    before = _snapshot()
    response = getattr(api_client, method)(path, WRITE_BODY, format="json")
    assert response.status_code == 405, (
        f"{method.upper()} {path} answered {response.status_code}: the catalogue API is "
        "read-only, so every write must be refused with 405"
    )
    assert _snapshot() == before, f"{method.upper()} {path} changed the catalogue"


# -- API3: exactly the documented fields, and nothing unpublished ------------------------

REVIEW_SUMMARY = {"id", "rating", "title", "created_at"}
BOOK_FIELDS = {"id", "title", "isbn", "price", "published_on", "publisher", "authors", "tags"}
BOOK_FIELDS |= {"blurb", "recent_reviews"}
FIELDS = [
    ("/api/books/", BOOK_FIELDS),
    ("/api/books/4/", BOOK_FIELDS | {"description"}),
    ("/api/books/top-rated/", BOOK_FIELDS | {"average_rating"}),
    ("/api/authors/", {"id", "name", "book_count"}),
    ("/api/authors/2/", {"id", "name", "book_count"}),
    ("/api/publishers/", {"id", "name", "country", "book_count", "review_count"}),
    ("/api/publishers/1/", {"id", "name", "country", "book_count", "review_count"}),
    ("/api/reviews/", {"id", "rating", "title", "created_at", "book", "book_title", "publisher"}),
    ("/api/reviews/3/", {"id", "rating", "title", "created_at", "book", "book_title", "publisher"}),
]


@pytest.mark.parametrize(("path", "fields"), FIELDS, ids=[path for path, _ in FIELDS])
def test_answers_carry_exactly_their_documented_fields(path, fields, twelve_books, get_json):
    body = get_json(path)
    items = body.get("results", [body])
    assert items
    for item in items:
        assert set(item) == fields, f"GET {path}: {sorted(set(item) ^ fields)} differ"
        for review in item.get("recent_reviews", []):
            assert set(review) == REVIEW_SUMMARY, f"GET {path}: a recent review shows more"


def _published(plan):
    return {r["id"] for r in plan.reviews if r["is_published"]}


def _feed_ids(get_json, plan):
    return {r["id"] for r in get_json(f"/api/reviews/?page_size={len(plan.reviews)}")["results"]}


def _recent_review_ids(get_json, plan):
    books = get_json(f"/api/books/?page_size={plan.size}")["results"]
    return {r["id"] for book in books for r in book["recent_reviews"]}


def _detail_recent_review_ids(get_json, plan):
    return {
        r["id"]
        for book in plan.books
        for r in get_json(f"/api/books/{book['id']}/")["recent_reviews"]
    }


SHOWING_REVIEWS = [_feed_ids, _recent_review_ids, _detail_recent_review_ids]


@pytest.mark.parametrize("shown", SHOWING_REVIEWS, ids=lambda f: f.__name__.strip("_"))
def test_only_published_reviews_are_shown(shown, twelve_books, get_json):
    ids = shown(get_json, twelve_books)
    assert ids, "the catalogue has published reviews to show"
    leaked = ids - _published(twelve_books)
    assert not leaked, f"unpublished reviews {sorted(leaked)} are shown"


def test_an_unpublished_review_is_not_found(twelve_books, api_client):
    hidden = [r["id"] for r in twelve_books.reviews if not r["is_published"]]
    assert hidden, "the catalogue has unpublished reviews"
    for review_id in hidden:
        response = api_client.get(f"/api/reviews/{review_id}/")
        assert response.status_code == 404, f"unpublished review {review_id} is readable"


def test_averages_count_only_published_reviews(make_catalogue, get_json):
    plan = make_catalogue(20)
    want = {}
    for book in plan.books:
        published = [
            r["rating"] for r in plan.reviews if r["book_id"] == book["id"] and r["is_published"]
        ]
        if published:
            average = Decimal(sum(published)) / len(published)
            want[book["id"]] = str(average.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    got = {
        b["id"]: b["average_rating"]
        for b in get_json("/api/books/top-rated/?page_size=100")["results"]
    }
    assert got == want, "a book without published reviews, or an unpublished rating, counts"


# -- API4: bounded pages -----------------------------------------------------------------


@pytest.mark.parametrize("path", LISTS)
def test_no_page_holds_more_than_the_cap(path, over_a_page, get_json, api_client):
    asked = f"{path}?page_size={CAP * 50}"
    if path == FEED:  # paged by cursor: the first page, and no count (test_feed.py)
        page = get_json(asked)
        assert len(page["results"]) == CAP, f"GET {asked} is not capped"
        assert page["next"], "the rest is on the next page"
        return
    # A numbered list's second page holds what its first did not: of CAP + 1 rows, one
    # row, with no page after it, only when the first page held CAP. Uncapped, there is no
    # second page (a 404); capped lower, it holds more rows or has a next page. Reading it
    # checks the cap without building and serialising a thousand rows to count them.
    response = api_client.get(f"{asked}&page=2")
    assert response.status_code != 404, f"GET {asked} is not capped: it has no second page"
    assert response.status_code == 200, f"GET {asked}&page=2 answered {response.status_code}"
    page = response.json()
    assert page["count"] == over_a_page
    second = f"GET {asked} is not capped at {CAP}: of {over_a_page} rows, its second page"
    assert len(page["results"]) == 1, f"{second} holds {len(page['results'])}"
    assert not page["next"], f"{second} has a next page"


# -- API8: malformed input is a 4xx, never a 500 -----------------------------------------

NOT_A_PAGE_SIZE = ["0", "-1", "abc", "", "1e3", "2.5", "%FF", "1000000000000000000000000"]


@pytest.mark.parametrize("value", NOT_A_PAGE_SIZE)
def test_a_page_size_that_is_not_a_count_is_ignored_or_capped(value, make_catalogue, get_json):
    make_catalogue(25)
    page = get_json(f"/api/books/?page_size={value}")
    assert len(page["results"]) in (20, 25), "the default page, or every row under the cap"


# An empty ?page= is page 1 in DRF, so it is not here.
NOT_A_PAGE = ["0", "-1", "abc", "1.5", "%FF", "99999999999999999999999", "3"]


@pytest.mark.parametrize("path", [path for path in LISTS if path != FEED])
@pytest.mark.parametrize("value", NOT_A_PAGE)
def test_a_page_that_does_not_exist_is_404(path, value, twelve_books, api_client):
    # Twelve books: one page of 20 rows at most.
    response = api_client.get(f"{path}?page={value}")
    assert response.status_code == 404, f"GET {path}?page={value}: {response.status_code}"
    assert "detail" in response.json()


NOT_AN_ID = ["abc", "0", "-1", "1e3", "%FF", "9223372036854775808", "99999999999999999999999"]


@pytest.mark.parametrize("kind", ["books", "authors", "publishers", "reviews"])
@pytest.mark.parametrize("value", NOT_AN_ID)
def test_an_id_that_does_not_exist_is_404(kind, value, twelve_books, api_client):
    response = api_client.get(f"/api/{kind}/{value}/")
    assert response.status_code == 404, f"GET /api/{kind}/{value}/: {response.status_code}"


@pytest.mark.parametrize("path", LISTS + OBJECTS)
def test_unknown_query_parameters_are_ignored(path, twelve_books, get_json):
    assert get_json(f"{path}?ordering=-id&search=%27%3B--&limit=1") == get_json(path)


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/api/books/?format=xml", {}, 404),
        ("/api/books/", {"HTTP_ACCEPT": "application/xml"}, 406),
    ],
)
def test_an_unsupported_format_is_refused(path, headers, status, twelve_books, api_client):
    assert api_client.get(path, **headers).status_code == status


@pytest.mark.parametrize("rating", [0, 6, 32767])
def test_a_rating_outside_1_to_5_cannot_be_stored(rating, twelve_books):
    review, book = _model("Review"), _model("Book").objects.order_by("pk").first()
    # Refused by the rating's own check, not by anything else wrong with the row.
    with pytest.raises(IntegrityError, match="review_rating_1_to_5"), transaction.atomic():
        review.objects.create(book=book, rating=rating, title="Bad", body="Bad.", is_published=True)
