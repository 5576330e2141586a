"""What the queries load, beyond how many there are: no long text column an answer does not
show, no more rows than it shows, and the top-rated action loading what the list loads.

A query budget cannot see any of this: a page can run the minimum number of queries and
still read every review's body or every published review of every book. These tests read
the SQL itself (columns.py) and count the model instances a request builds.
"""

import pytest
from budgets import BOOK, BOOK_T, BOOKS, LONG_COLUMNS, TOP_RATED, LongColumns
from columns import loads_with_its_row, reloads_deferred
from django.apps import apps
from django.db.models.signals import post_init

from drillkit.queries import capture

LARGE = 50


def _columns_of(table: str) -> set[str]:
    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    return {field.column for field in model._meta.concrete_fields}


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(
            row,
            id=f"{row.path.split('?')[0]} {row.table}.{'/'.join(row.columns)}",
            marks=[pytest.mark.flaw(row.flaw)],
        )
        for row in LONG_COLUMNS
    ],
)
def test_no_long_column_the_answer_does_not_show(row: LongColumns, queries_for):
    log = queries_for(row.path, LARGE)
    url = row.path.format(n=LARGE)
    for column in row.columns:
        loading = [q for q in log if loads_with_its_row(q.sql, row.table, column)]
        assert not loading, (
            f"GET {url} loads {row.table}.{column} with every row, and the answer never shows "
            f"it. Defer it, or compute what the answer needs in the query.\n\n"
            + log.report(f"The queries, with {LARGE} books")
            + f"\n\nThe first one that loads it:\n  {loading[0].sql[:600]}"
        )
    every_column = _columns_of(row.table)
    reloading = [q for q in log if reloads_deferred(q.sql, row.table, every_column)]
    assert not reloading, (
        f"GET {url} loads back fields of {row.table} that .defer() or .only() left out, one "
        f"query per row: every field the serializer reads must stay in the query.\n\n"
        + log.report(f"The queries, with {LARGE} books")
    )


@pytest.fixture
def reviews_built():
    """One item per Review object built from here on (empty it to start counting)."""
    review = apps.get_model("bookstore", "Review")
    built = []

    def count(sender, **kwargs):
        built.append(1)

    post_init.connect(count, sender=review)
    yield built
    post_init.disconnect(count, sender=review)


@pytest.mark.flaw("D2-F4")
@pytest.mark.parametrize("path", [BOOKS, BOOK], ids=lambda p: p.split("?")[0])
def test_book_pages_load_only_the_reviews_they_show(
    path, make_catalogue, api_client, reviews_built
):
    # Every tenth book has four published reviews: a prefetch of all published reviews,
    # cut to three in Python, answers right and loads them all. (The top-rated action runs
    # the list's queries, which test_top_rated_loads_what_the_book_list_loads checks.)
    make_catalogue(LARGE)
    reviews_built.clear()  # the catalogue's own reviews
    url = path.format(n=LARGE)
    response = api_client.get(url)
    assert response.status_code == 200, f"GET {url} answered {response.status_code}"
    body = response.json()
    books = body.get("results", [body])
    shown = sum(len(book["recent_reviews"]) for book in books)
    assert len(reviews_built) == shown, (
        f"GET {url} shows {shown} reviews and loads {len(reviews_built)} from the database. "
        "Filter, order and slice the reviews in the query (a Prefetch with its own "
        "queryset), not in Python after loading them all."
    )


@pytest.mark.flaw("D2-F6")
def test_top_rated_loads_what_the_book_list_loads(make_catalogue, api_client):
    make_catalogue(LARGE)
    with capture() as top_rated:
        response = api_client.get(TOP_RATED.format(n=LARGE))
    assert response.status_code == 200
    rows = len(response.json()["results"])
    with capture() as books:
        assert api_client.get(BOOKS.format(n=rows)).status_code == 200
    assert top_rated.tables() == books.tables(), (
        f"With {rows} books on the page, the top-rated action runs these queries per table: "
        f"{dict(top_rated.tables())}, and the book list {dict(books.tables())}. Built on the "
        "list's queryset, it would run exactly the list's.\n\n"
        + top_rated.report("GET /api/books/top-rated/")
        + "\n\n"
        + books.report("GET /api/books/")
    )
    loading = [q for q in top_rated if loads_with_its_row(q.sql, BOOK_T, "description")]
    assert not loading, (
        "The top-rated action loads every book's full description, which the book list "
        "leaves in the database: it does not start from the list's queryset.\n\n"
        + top_rated.report("GET /api/books/top-rated/")
    )


def test_the_detail_book_has_more_published_reviews_than_it_shows(make_catalogue):
    """The detail budgets and load checks use a book whose reviews need the slice."""
    plan = make_catalogue(LARGE)
    book_id = int(BOOK.rstrip("/").rsplit("/", 1)[1])
    published = [r for r in plan.reviews if r["book_id"] == book_id and r["is_published"]]
    assert len(published) > 3
