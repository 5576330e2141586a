"""What the API answers: the same JSON as the reference solution, and numbers that match
the catalogue.

A query fix must never change an answer. payloads.json holds the reference solution's
JSON for a catalogue of PAYLOAD_SIZE books (`nox -s bench -- drill2 --write` writes it);
every target must give exactly the same JSON for the same catalogue.
"""

import json
from collections import Counter
from pathlib import Path

import catalogue
import pytest

from drillkit.queries import capture

REFERENCE = Path(__file__).with_name("payloads.json")
# The answers a planted flaw changes: wrong numbers, and the feed's page-number links
# and count where the reference hands out a cursor.
PAYLOAD_FLAWS = {"/api/publishers/": "D2-F9", "/api/reviews/": "D2-F13"}


def _reference() -> dict:
    if not REFERENCE.is_file():
        pytest.fail(
            f"{REFERENCE.name} is missing, so there is nothing to compare with. Write it "
            "from the reference solution with `nox -s bench -- drill2 --write`."
        )
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def _first_difference(got, want, where="$"):
    if type(got) is not type(want):
        return f"{where}: {got!r} instead of {want!r}"
    if isinstance(want, dict):
        for key in sorted(want.keys() | got.keys()):
            if key not in got or key not in want:
                return f"{where}: key {key!r} {'missing' if key not in got else 'unexpected'}"
            found = _first_difference(got[key], want[key], f"{where}.{key}")
            if found:
                return found
    elif isinstance(want, list):
        if len(got) != len(want):
            return f"{where}: {len(got)} items instead of {len(want)}"
        for index, (a, b) in enumerate(zip(got, want, strict=True)):
            found = _first_difference(a, b, f"{where}[{index}]")
            if found:
                return found
    elif got != want:
        return f"{where}: {got!r} instead of {want!r}"
    return None


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            path, marks=[pytest.mark.flaw(PAYLOAD_FLAWS[path])] if path in PAYLOAD_FLAWS else []
        )
        for path in catalogue.PAYLOAD_REQUESTS
    ],
)
def test_payload_is_identical_to_the_reference_solution(path, make_catalogue, get_json):
    make_catalogue(catalogue.PAYLOAD_SIZE)
    want = _reference()[path]
    got = get_json(path)
    assert got == want, (
        f"GET {path} answers differently from the reference solution for the same "
        f"{catalogue.PAYLOAD_SIZE}-book catalogue; first difference at "
        f"{_first_difference(got, want)}"
    )


# --8<-- [start:fan-out]
@pytest.mark.flaw("D2-F9")
def test_publisher_counts_match_the_catalogue(make_catalogue, get_json):
    plan = make_catalogue(30)
    books, reviews = plan.book_counts(), plan.published_review_counts()
    for publisher in get_json("/api/publishers/?page_size=100")["results"]:
        pk = publisher["id"]
        assert (publisher["book_count"], publisher["review_count"]) == (books[pk], reviews[pk]), (
            f"{publisher['name']} publishes {books[pk]} books with {reviews[pk]} published "
            f"reviews, but the API says {publisher['book_count']} books and "
            f"{publisher['review_count']} reviews"
        )


# --8<-- [end:fan-out]


def test_author_book_counts_match_the_catalogue(make_catalogue, get_json):
    plan = make_catalogue(30)
    want = Counter(author_id for book in plan.books for author_id in book["author_ids"])
    got = {a["id"]: a["book_count"] for a in get_json("/api/authors/?page_size=100")["results"]}
    assert got == {a["id"]: want[a["id"]] for a in plan.authors}


@pytest.mark.flaw("D2-F7")
def test_author_pages_come_in_name_order_with_their_counts(make_catalogue, api_client):
    """Counting in the query adds a GROUP BY, and Django then drops Meta.ordering: the
    pages must still follow the names, not the ids, and cost two queries each."""
    plan = make_catalogue(50)  # 27 authors, whose names do not sort in id order
    counts = Counter(author_id for book in plan.books for author_id in book["author_ids"])
    by_name = sorted(plan.authors, key=lambda a: (a["name"], a["id"]))
    for page in (1, 2, 3):
        with capture() as log:
            response = api_client.get(f"/api/authors/?page={page}&page_size=10")
        assert response.status_code == 200
        got = [(a["id"], a["book_count"]) for a in response.json()["results"]]
        want = [(a["id"], counts[a["id"]]) for a in by_name[(page - 1) * 10 : page * 10]]
        assert got == want, f"page {page} of /api/authors/: (id, book_count) in name order"
        assert len(log) <= 2, log.report(f"GET /api/authors/?page={page}")


@pytest.mark.flaw("D2-F4")
@pytest.mark.parametrize("path", ["/api/books/?page_size=30", "/api/books/10/"])
def test_recent_reviews_are_the_three_newest_published_in_one_query(
    path, make_catalogue, api_client
):
    """Newest by date, not by id: a book's later reviews are dated earlier here."""
    plan = make_catalogue(30)
    with capture() as log:
        response = api_client.get(path)
    assert response.status_code == 200
    body = response.json()
    for book in body.get("results", [body]):
        published = sorted(
            (r for r in plan.reviews if r["book_id"] == book["id"] and r["is_published"]),
            key=lambda r: r["created_at"],
            reverse=True,
        )
        assert [r["id"] for r in book["recent_reviews"]] == [r["id"] for r in published[:3]], (
            f"book {book['id']}: the three newest published reviews, newest first"
        )
    assert len(log.on("bookstore_review")) <= 1, log.report(f"GET {path}")


def test_blurb_is_the_start_of_the_description(make_catalogue, get_json):
    plan = make_catalogue(5)
    descriptions = {b["id"]: b["description"] for b in plan.books}
    for book in get_json("/api/books/")["results"]:
        assert book["blurb"] == descriptions[book["id"]][:160]
        assert "description" not in book, "the list leaves the full description to the detail"


def test_top_rated_is_ordered_by_average_published_rating(make_catalogue, get_json):
    make_catalogue(20)
    ratings = [
        b["average_rating"] for b in get_json("/api/books/top-rated/?page_size=20")["results"]
    ]
    assert ratings, "some books have published reviews"
    assert ratings == sorted(ratings, key=float, reverse=True)


def test_review_feed_names_each_reviews_book_and_publisher(make_catalogue, get_json):
    plan = make_catalogue(10)
    books = {b["id"]: b for b in plan.books}
    publishers = {p["id"]: p["name"] for p in plan.publishers}
    feed = get_json("/api/reviews/?page_size=100")["results"]
    assert len(feed) == sum(r["is_published"] for r in plan.reviews)
    for review in feed:
        book = books[review["book"]]
        assert review["book_title"] == book["title"]
        assert review["publisher"] == publishers[book["publisher_id"]]


def test_lists_are_paginated(make_catalogue, get_json):
    make_catalogue(25)
    page = get_json("/api/books/")
    assert page["count"] == 25
    assert len(page["results"]) == 20, "20 books per page unless ?page_size= says otherwise"
    assert page["next"] == "http://testserver/api/books/?page=2"
    assert len(get_json("/api/books/?page_size=5")["results"]) == 5
