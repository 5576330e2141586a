"""Query budgets: how many queries each endpoint may run, and that the number does not
grow with the page.

Each row of budgets.BUDGETS is one part of an endpoint's answer. A failure prints the
statements that repeated, grouped like django-debug-toolbar's "similar queries", and
names the relation that is loaded once per row.
"""

import pytest
from budgets import BUDGETS, DETAILS, Budget

SMALL, LARGE = 5, 50


def _rows(*, lists_only: bool = False):
    for row in BUDGETS:
        if lists_only and row.path in DETAILS:
            continue  # one object is not a list: nothing there can grow with N
        # Growth is the mark of an N+1; a flaw that only costs a query too many is caught
        # by the budget, not by growth.
        caught = row.flaw and (row.grows or not lists_only)
        yield pytest.param(
            row,
            id=f"{row.path.split('?')[0]} {row.loads}",
            marks=[pytest.mark.flaw(row.flaw)] if caught else [],
        )


@pytest.mark.parametrize("row", list(_rows()))
def test_query_budget(row: Budget, queries_for):
    log = row.count(queries_for(row.path, LARGE))
    ran, most = len(log), row.most
    assert ran <= most, (
        f"GET {row.path.format(n=LARGE)} should run at most {most} "
        f"{'query' if most == 1 else 'queries'} for {row.loads}; it ran {ran}.\n\n"
        + log.report(f"Those queries, with {LARGE} books")
    )


@pytest.mark.parametrize("row", list(_rows(lists_only=True)))
def test_query_count_does_not_grow_with_the_page(row: Budget, queries_for):
    small = row.count(queries_for(row.path, SMALL))
    large = row.count(queries_for(row.path, LARGE))
    with_small, with_large = len(small), len(large)
    assert with_large == with_small, (
        f"GET {row.path.split('?')[0]} ran {with_small} queries for {row.loads} with {SMALL} "
        f"books and {with_large} with {LARGE}: the count must be the same for any page size."
        "\n\n" + large.report(f"The queries with {LARGE} books")
    )
