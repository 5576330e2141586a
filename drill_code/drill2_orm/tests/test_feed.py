"""The review feed is scrolled, newest first, while new reviews keep arriving at the top.

Page numbers suit neither: every page costs a COUNT(*) of the whole feed and an OFFSET that
reads every row before it, and a review published between two requests pushes everything
down a place, so the next page repeats a review. These tests read the feed the way a
client scrolls it, by following `next`, and check what a reader sees and what it costs: no
COUNT, pages that keep their place, every review once, a bounded page, and a 404, never a
500, for a cursor that was not handed out.
"""

import base64
from datetime import timedelta

import pytest
from budgets import CAP
from django.apps import apps

from drillkit.queries import capture

FEED = "/api/reviews/"


def _newest_first(reviews):
    published = [r for r in reviews if r["is_published"]]
    return [
        r["id"] for r in sorted(published, key=lambda r: (r["created_at"], r["id"]), reverse=True)
    ]


def _ids(page):
    return [review["id"] for review in page["results"]]


def _counts(log):
    return [query for query in log if "COUNT(" in query.sql]


def _add_reviews(plan, count, *, at):
    """`count` published reviews of book 1, all created at `at`; returns their rows."""
    review = apps.get_model("bookstore", "Review")
    first = max(r["id"] for r in plan.reviews) + 1
    rows = [
        {
            "id": first + k,
            "book_id": 1,
            "rating": 4,
            "title": f"Just in {k}",
            "body": "Arrived while you were reading.",
            "is_published": True,
            "created_at": at,
        }
        for k in range(count)
    ]
    review.objects.bulk_create(review(**row) for row in rows)
    plan.reviews += rows
    return rows


# --8<-- [start:feed-tests]
@pytest.mark.flaw("D2-F13")
@pytest.mark.parametrize("query", ["?page_size=20", "?book=10&page_size=2"])
def test_the_feed_runs_no_count(query, make_catalogue, get_json, api_client):
    make_catalogue(50)
    first = get_json(f"{FEED}{query}")
    assert first["next"], "the feed has a second page"
    for url in (f"{FEED}{query}", first["next"]):
        with capture() as log:
            assert api_client.get(url).status_code == 200
        assert not _counts(log), (
            f"GET {url} counts the whole feed to show one page of it. A feed is scrolled, "
            "never jumped to page 500: page it by cursor, with no count.\n\n"
            + log.report(f"GET {url}")
        )


@pytest.mark.flaw("D2-F13")
def test_the_next_page_keeps_its_place_while_reviews_arrive(make_catalogue, get_json):
    plan = make_catalogue(30)
    order = _newest_first(plan.reviews)
    first = get_json(f"{FEED}?page_size=5")
    assert _ids(first) == order[:5]
    newest = max(r["created_at"] for r in plan.reviews)
    _add_reviews(plan, 3, at=newest + timedelta(hours=1))  # three reviews arrive on top
    second = get_json(first["next"])
    repeated = set(_ids(second)) & set(_ids(first))
    assert _ids(second) == order[5:10], (
        f"Three reviews arrived between two pages, and the next page shows {_ids(second)} "
        f"instead of {order[5:10]}"
        + (f": {sorted(repeated)} again, from the first page." if repeated else ".")
        + " The next page must start after the last review the reader saw."
    )


@pytest.mark.flaw("D2-F13")
@pytest.mark.parametrize("size", [CAP, CAP * 50])
def test_a_feed_page_is_capped_and_uncounted(size, over_a_page, api_client):
    with capture() as log:
        response = api_client.get(f"{FEED}?page_size={size}")
    assert response.status_code == 200
    page = response.json()
    assert len(page["results"]) == CAP, f"?page_size={size} gives {len(page['results'])} rows"
    assert page["next"], "the rest is on the next page"
    assert not _counts(log), log.report(f"GET {FEED}?page_size={size}")


def _cursor(text):
    return base64.b64encode(text.encode()).decode()


NOT_A_CURSOR = ["abc", "%FF", _cursor("p=yesterday"), _cursor("p=2024-02-30 10:00:00+00:00")]


@pytest.mark.flaw("D2-F13")
@pytest.mark.parametrize("value", NOT_A_CURSOR)
def test_a_cursor_that_was_not_handed_out_is_404(value, make_catalogue, api_client):
    make_catalogue(12)
    response = api_client.get(f"{FEED}?cursor={value}")
    assert response.status_code == 404, f"GET {FEED}?cursor={value}: {response.status_code}"


# --8<-- [end:feed-tests]


def test_following_next_reads_every_review_once_newest_first(make_catalogue, get_json):
    """Ties included: seven reviews share one timestamp, across a page boundary."""
    plan = make_catalogue(30)
    _add_reviews(plan, 7, at=sorted(r["created_at"] for r in plan.reviews)[-6])
    seen, url, pages = [], f"{FEED}?page_size=4", 0
    while url:
        page = get_json(url)
        assert len(page["results"]) <= 4
        seen += _ids(page)
        url, pages = page["next"], pages + 1
        assert pages <= 100, "the next links go round in a circle"
    assert seen == _newest_first(plan.reviews), "every published review once, newest first"
