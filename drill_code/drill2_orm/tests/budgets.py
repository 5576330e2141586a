"""The query budget of every endpoint: the spec the query tests and the benchmark share.

Each row says how many queries one GET may run for one part of its answer, with
`{n}` books in the catalogue and all of them asked for in one page. The budgets are the
minimum for a paginated DRF endpoint: one COUNT for the paginator (none for the review
feed, which a cursor pages), one SELECT for the page with every to-one relation joined
and every number annotated, and one more SELECT per to-many relation (prefetch_related),
whatever the page size.
"""

from __future__ import annotations

from dataclasses import dataclass

CAP = 1000  # the most rows one page may hold (the back-office export's page)

BOOKS = "/api/books/?page_size={n}"
# Book 10 has six reviews, four of them published: more than the three the detail shows.
BOOK = "/api/books/10/"
TOP_RATED = "/api/books/top-rated/?page_size={n}"
AUTHORS = "/api/authors/?page_size={n}"
PUBLISHERS = "/api/publishers/?page_size={n}"
REVIEWS = "/api/reviews/?page_size={n}"
ENDPOINTS = (BOOKS, BOOK, TOP_RATED, AUTHORS, PUBLISHERS, REVIEWS)
# The other objects: a fix made for a list must hold on its detail too.
AUTHOR, PUBLISHER, REVIEW = "/api/authors/2/", "/api/publishers/1/", "/api/reviews/3/"
DETAILS = (BOOK, AUTHOR, PUBLISHER, REVIEW)

EVERYTHING = ("*",)  # every query the request runs
ANYTHING_ELSE = ("?",)  # queries on tables no other row of the endpoint names

BOOK_T, PUBLISHER_T, AUTHOR_T = "bookstore_book", "bookstore_publisher", "bookstore_author"
TAG_T, REVIEW_T = "bookstore_tag", "bookstore_review"


@dataclass(frozen=True)
class Budget:
    path: str
    loads: str  # what these queries fetch, in words
    tables: tuple[str, ...]  # main tables of the queries counted, or EVERYTHING / ANYTHING_ELSE
    most: int
    flaw: str | None  # the planted flaw that breaks this budget in the starter
    # Whether the flaw makes the count grow with the page (an N+1), or only exceed it: a
    # COUNT too many is the same one query at any page size.
    grows: bool = True

    def count(self, log):
        """The queries of `log` this row counts (a drillkit.queries.QueryLog)."""
        if self.tables == EVERYTHING:
            return log
        if self.tables == ANYTHING_ELSE:
            named = {t for row in BUDGETS if row.path == self.path for t in row.tables}
            return log.not_on(*named)
        return log.on(*self.tables)


def minimum(path: str) -> int:
    """The whole budget of one endpoint: the fewest queries it can answer in."""
    return sum(row.most for row in BUDGETS if row.path == path)


# fmt: off
# --8<-- [start:budgets]
BUDGETS = [
    # path            what the queries load                          tables        most  starter
    Budget(BOOKS,      "a COUNT for the paginator, then the books",  (BOOK_T,),      2, "D2-F5"),
    Budget(BOOKS,      "every book's publisher: joined, no query",   (PUBLISHER_T,), 0, "D2-F1"),
    Budget(BOOKS,      "every book's authors",                       (AUTHOR_T,),    1, "D2-F2"),
    Budget(BOOKS,      "every book's tags",                          (TAG_T,),       1, "D2-F3"),
    Budget(BOOKS,      "every book's three newest published reviews", (REVIEW_T,),   1, "D2-F4"),
    Budget(BOOKS,      "anything else",                              ANYTHING_ELSE,  0, None),
    Budget(BOOK,       "the book, with its description",             (BOOK_T,),      1, "D2-F5"),
    Budget(BOOK,       "its publisher: joined, no query",            (PUBLISHER_T,), 0, "D2-F1"),
    Budget(BOOK,       "its authors",                                (AUTHOR_T,),    1, None),
    Budget(BOOK,       "its tags",                                   (TAG_T,),       1, None),
    Budget(BOOK,       "its three newest published reviews",         (REVIEW_T,),    1, "D2-F4"),
    Budget(BOOK,       "anything else",                              ANYTHING_ELSE,  0, None),
]
BUDGETS += [  # minimum(BOOKS) adds up the book list's rows, so they come first
    Budget(TOP_RATED,  "a COUNT, then the books with their averages", (BOOK_T,),    2, "D2-F5"),
    Budget(TOP_RATED,  "every book's publisher: joined, no query",   (PUBLISHER_T,), 0, "D2-F1"),
    Budget(TOP_RATED,  "every book's authors",                       (AUTHOR_T,),    1, "D2-F2"),
    Budget(TOP_RATED,  "every book's tags",                          (TAG_T,),       1, "D2-F3"),
    Budget(TOP_RATED,  "every book's three newest published reviews", (REVIEW_T,),   1, "D2-F4"),
    Budget(TOP_RATED,  "anything else",                              ANYTHING_ELSE,  0, None),
    Budget(AUTHORS,    "a COUNT, then authors and book counts",      EVERYTHING,     2, "D2-F7"),
    Budget(PUBLISHERS, "a COUNT, then publishers and both counts",   EVERYTHING,     2, None),
    Budget(REVIEWS,    "the reviews, by cursor: no COUNT",           (REVIEW_T,),    1, "D2-F13",
           grows=False),  # one COUNT too many, at any page size
    Budget(REVIEWS,    "every review's book: joined, no query",      (BOOK_T,),      0, "D2-F8"),
    Budget(REVIEWS,    "every book's publisher: joined, no query",   (PUBLISHER_T,), 0, "D2-F8"),
    Budget(REVIEWS,    "anything else",                              ANYTHING_ELSE,  0, None),
    Budget(AUTHOR,     "the author with its book count",             EVERYTHING,     1, "D2-F7"),
    Budget(PUBLISHER,  "the publisher with both counts",             EVERYTHING,     1, None),
    Budget(REVIEW,     "the review, its book and publisher",         EVERYTHING,     1, "D2-F8"),
]
# --8<-- [end:budgets]
# fmt: on


@dataclass(frozen=True)
class LongColumns:
    """Long text columns of one table that an endpoint's answer never shows in full.

    select_related() and prefetch_related() load every column of every row they reach, so
    a column nobody shows is still read, sent and turned into a string for every row.
    """

    path: str
    table: str
    columns: tuple[str, ...]
    flaw: str


# fmt: off
# --8<-- [start:long-columns]
LONG_COLUMNS = [
    # The list's blurb is cut by the database; the detail shows the whole description.
    # path       table      never loaded with the row   starter
    LongColumns(BOOKS,     BOOK_T,   ("description",),  "D2-F5"),
    LongColumns(BOOKS,     REVIEW_T, ("body",),         "D2-F10"),
    LongColumns(BOOK,      REVIEW_T, ("body",),         "D2-F10"),
    LongColumns(TOP_RATED, REVIEW_T, ("body",),         "D2-F10"),
    LongColumns(REVIEWS,   REVIEW_T, ("body",),         "D2-F10"),
    LongColumns(REVIEWS,   BOOK_T,   ("description",),  "D2-F10"),
]
# --8<-- [end:long-columns]
# fmt: on
