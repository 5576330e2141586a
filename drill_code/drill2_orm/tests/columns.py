"""Which columns a statement loads, read from its SQL.

Django qualifies every column it selects with its table ("bookstore_book"."title"), in the
outer query and in the subqueries a sliced Prefetch wraps around it. A column selected as
itself is loaded; a column inside an expression, such as LEFT("bookstore_book"."description",
160), is not: the database computes the expression and sends only the result.
"""

from __future__ import annotations

import re

_RAW_COLUMN = re.compile(r'^"(\w+)"\."(\w+)"(?:\s+AS\s+"?\w+"?)?$', re.IGNORECASE)
_SELECT = re.compile(r"\bSELECT\s+(?:DISTINCT\s+)?", re.IGNORECASE)
_BY_PRIMARY_KEY = r'\bWHERE \(?"{table}"\."id" = '


def _select_lists(sql: str) -> list[list[str]]:
    """The items of every SELECT list in `sql`, subqueries included."""
    lists = []
    for match in _SELECT.finditer(sql):
        items, depth, start, quote = [], 0, match.end(), None
        for index in range(match.end(), len(sql)):
            char = sql[index]
            if quote:
                quote = None if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "(":
                depth += 1
            elif char == ")":
                if depth == 0:  # the end of a subquery with no FROM
                    items.append(sql[start:index])
                    break
                depth -= 1
            elif depth == 0 and char == ",":
                items.append(sql[start:index])
                start = index + 1
            elif depth == 0 and sql.startswith(" FROM ", index):
                items.append(sql[start:index])
                break
        lists.append([item.strip() for item in items if item.strip()])
    return lists


def loaded(sql: str) -> list[set[tuple[str, str]]]:
    """For each SELECT list of `sql`, the (table, column) pairs it loads as they are."""
    found = []
    for items in _select_lists(sql):
        columns = {m.groups() for m in map(_RAW_COLUMN.match, items) if m}
        found.append(columns)
    return found


def loads_with_its_row(sql: str, table: str, column: str) -> bool:
    """Whether `sql` loads `column` of `table` together with the row's other columns.

    Reading back a deferred field selects the primary key and that field alone: that is a
    query too many, which the query budgets count, not a row loaded whole.
    """
    for columns in loaded(sql):
        others = {c for t, c in columns if t == table and c not in ("id", column)}
        if (table, column) in columns and others:
            return True
    return False


def reloads_deferred(sql: str, table: str, all_columns: set[str]) -> bool:
    """Whether `sql` looks up one row of `table` by primary key for only some of its
    columns: Django loading back fields that .defer() or .only() left out."""
    if not re.search(_BY_PRIMARY_KEY.format(table=table), sql):
        return False
    selected = {c for columns in loaded(sql) for t, c in columns if t == table}
    return bool(selected) and selected < all_columns
