"""Capturing the SQL a block of code runs, and explaining it when there is too much.

`capture()` records every query, on top of Django's own `CaptureQueriesContext`. The
`QueryLog` it yields groups them the way django-debug-toolbar's "similar queries" panel
does: the same statement with different parameters. A statement that repeats once per
row is the signature of an N+1, so `QueryLog.report()` lists those groups first and names
the relation behind each one, with the fix that usually applies:

    with capture() as log:
        client.get("/api/books/?page_size=50")
    assert len(log.on("bookstore_publisher")) == 0, log.report("GET /api/books/")

gives, when it fails,

    GET /api/books/: 53 queries, 1 statement repeated (similar queries):
      50x  SELECT ... FROM "bookstore_publisher" WHERE "bookstore_publisher"."id" = ? LIMIT ?
           N+1 on Book.publisher, a foreign key read row by row: select_related it.
       1x  SELECT ... FROM "bookstore_book" ...
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext

# Literals the database adapters interpolate into the SQL they report.
_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w\"])-?\d+(?:\.\d+)?(?![\w\"])")
_IN_LIST = re.compile(r"\bIN \((?:\?(?:, )?)+\)")
_SELECT_LIST = re.compile(r"^SELECT (?:DISTINCT )?(.*?) FROM ", re.DOTALL)
_MAIN_TABLE = re.compile(r'\bFROM "(\w+)"')
# A lookup of one row's relation: `WHERE "table"."column" = <value>`. A prefetch reads the
# whole page at once with `IN (...)`, which is what the fix looks like, so it never matches.
_FIRST_CONDITION = re.compile(r'\bWHERE \(?"(\w+)"\."(\w+)" = ')


def shape(sql: str) -> str:
    """The statement without its parameters: what makes two queries "similar"."""
    shaped = _NUMBER.sub("?", _STRING.sub("?", sql))
    return _IN_LIST.sub("IN (...)", shaped)


def main_table(sql: str) -> str | None:
    """The first table a statement reads FROM (inside a subquery when it starts with one)."""
    match = _MAIN_TABLE.search(sql)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Query:
    sql: str

    @cached_property
    def shape(self) -> str:
        return shape(self.sql)

    @cached_property
    def table(self) -> str | None:
        return main_table(self.sql)

    def short(self, width: int = 150) -> str:
        """The shape with a long column list summed up, cut to `width` characters."""
        text = self.shape
        columns = _SELECT_LIST.match(text)
        if columns and "COUNT(" not in columns.group(1) and len(columns.group(1)) > 40:
            count = len(_split_top_level(columns.group(1)))
            text = f"SELECT <{count} columns> FROM {text[columns.end() :]}"
        return text if len(text) <= width else text[: width - 3] + "..."


@dataclass(frozen=True)
class SimilarQueries:
    """Queries with the same shape: one statement run `len(queries)` times."""

    queries: tuple[Query, ...]

    @property
    def example(self) -> Query:
        return self.queries[0]

    @property
    def count(self) -> int:
        return len(self.queries)

    @property
    def repeated(self) -> bool:
        return self.count > 1

    def explain(self) -> str | None:
        """Which relation a repeated statement loads row by row, and the usual fix.

        A statement run once is explained only when it reloads deferred fields: one
        lookup by primary key could as well be the object the view was asked for.
        """
        explanation = _explain(self.example.sql)
        if explanation is None or self.repeated:
            return explanation
        return explanation if "deferred" in explanation else None


class QueryLog(Sequence[Query]):
    """The queries one block of code ran, in order."""

    def __init__(self, queries: Sequence[Query] = ()) -> None:
        self._queries = list(queries)

    def __getitem__(self, index):
        return self._queries[index]

    def __len__(self) -> int:
        return len(self._queries)

    def __repr__(self) -> str:
        return f"<QueryLog of {len(self)} queries>"

    def on(self, *tables: str) -> QueryLog:
        """Only the queries whose main table is one of `tables`."""
        return QueryLog([q for q in self._queries if q.table in tables])

    def not_on(self, *tables: str) -> QueryLog:
        return QueryLog([q for q in self._queries if q.table not in tables])

    def tables(self) -> Counter[str]:
        """How many queries read each main table."""
        return Counter(q.table or "?" for q in self._queries)

    def similar(self, *, most_repeated_first: bool = True) -> list[SimilarQueries]:
        """Groups of similar queries, the most repeated first (ties in order of first run),
        or all of them in the order they first ran."""
        groups: dict[str, list[Query]] = {}
        for query in self._queries:
            groups.setdefault(query.shape, []).append(query)
        ordered = list(groups.values())
        if most_repeated_first:
            ordered.sort(key=lambda group: -len(group))
        return [SimilarQueries(tuple(group)) for group in ordered]

    def repeated(self) -> list[SimilarQueries]:
        return [group for group in self.similar() if group.repeated]

    def report(self, title: str = "", *, limit: int = 8) -> str:
        """A readable account: repeated statements first, each with the relation it loads."""
        groups = self.similar()
        repeats = sum(1 for group in groups if group.repeated)
        noun = "statement" if repeats == 1 else "statements"
        head = f"{title}: " if title else ""
        lines = [
            f"{head}{len(self)} {'query' if len(self) == 1 else 'queries'}, "
            f"{repeats} {noun} repeated (similar queries):"
        ]
        for group in groups[:limit]:
            lines.append(f"  {group.count:>4}x  {group.example.short()}")
            explanation = group.explain()
            if explanation:
                lines.append(f"         {explanation}")
        if len(groups) > limit:
            lines.append(f"  ... and {len(groups) - limit} more distinct statements")
        return "\n".join(lines)


@contextmanager
def capture(using: str = DEFAULT_DB_ALIAS) -> Iterator[QueryLog]:
    """Record the queries run on `using` inside the block; the log fills in at its end.

    Works with DEBUG=False: CaptureQueriesContext forces the debug cursor for the block.
    Django keeps at most `queries_limit` (9000) queries in its log and empties it when a
    request starts, but not during a capture; a capture that fills the log would count
    wrong, so it raises instead. Call django.db.reset_queries() between large captures.
    """
    connection = connections[using]
    log = QueryLog()
    with CaptureQueriesContext(connection) as context:
        yield log
    if len(connection.queries_log) >= connection.queries_limit:
        raise RuntimeError(
            f"Django's query log is full ({connection.queries_limit} queries), so the count "
            "of this block cannot be trusted. Call django.db.reset_queries() before it."
        )
    log._queries = [Query(entry["sql"]) for entry in context.captured_queries]


# -- naming the relation behind a repeated statement -------------------------------------


def _explain(sql: str) -> str | None:
    condition = _FIRST_CONDITION.search(sql)
    if condition is None:
        return None
    table, column = condition.groups()
    relations = _relations()
    is_count = re.match(r"SELECT COUNT\(", sql) is not None
    if table in relations.through:
        field, owner = relations.through[table]
        if column == field.m2m_column_name():
            name, reverse = f"{owner.__name__}.{field.name}", False
        else:
            target = field.related_model
            name = f"{target.__name__}.{field.related_query_name()}"
            reverse = True
        if is_count:
            return f"N+1 COUNT over {name}, one per row: annotate(Count(...)) in the queryset."
        kind = "the reverse of a many-to-many" if reverse else "a many-to-many"
        return f"N+1 on {name}, {kind} read row by row: prefetch_related it."
    model = relations.tables.get(table)
    if model is None:
        return None
    if column == model._meta.pk.column:
        columns = _SELECT_LIST.match(sql)
        selected = len(_split_top_level(columns.group(1))) if columns else 0
        # Loading a deferred field selects the primary key and that field alone; a row
        # loaded with .defer() of one big column still selects most of the others.
        if 0 < selected <= len(model._meta.concrete_fields) // 2:
            return (
                f"Reloads deferred fields of {model.__name__} by primary key, one query per "
                "object: a column left out by .defer()/.only() is read anyway. Stop "
                "deferring it, or compute what you need in the query (annotate)."
            )
        pointing = relations.pointing_to.get(model, [])
        name = " or ".join(pointing) or model.__name__
        return f"N+1 on {name}, a foreign key read row by row: select_related it."
    for field in model._meta.concrete_fields:
        if field.many_to_one and field.column == column:
            parent = field.related_model
            name = f"{parent.__name__}.{field.related_query_name()}"
            if is_count:
                return f"N+1 COUNT over {name}, one per row: annotate(Count(...)) in the queryset."
            if " AND " in sql or " ORDER BY " in sql or " LIMIT " in sql:
                return (
                    f"N+1 on {name}, a reverse foreign key filtered, ordered or sliced row "
                    "by row. A plain prefetch_related cannot serve that: use "
                    "Prefetch(..., queryset=..., to_attr=...)."
                )
            return f"N+1 on {name}, a reverse foreign key read row by row: prefetch_related it."
    return None


def _split_top_level(select_list: str) -> list[str]:
    """The items of a SELECT list: commas inside parentheses do not split."""
    items, depth, start = [], 0, 0
    for index, char in enumerate(select_list):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(select_list[start:index])
            start = index + 1
    items.append(select_list[start:])
    return [item.strip() for item in items if item.strip()]


@dataclass(frozen=True)
class _Relations:
    tables: dict  # db_table -> model
    through: dict  # auto-created m2m table -> (field, model that declares it)
    pointing_to: dict  # model -> ["Book.publisher", ...] forward foreign keys to it


def _relations() -> _Relations:
    from django.apps import apps

    tables, through, pointing_to = {}, {}, {}
    for model in apps.get_models():
        tables[model._meta.db_table] = model
        for field in model._meta.local_many_to_many:
            through[field.remote_field.through._meta.db_table] = (field, model)
        for field in model._meta.concrete_fields:
            if field.many_to_one or field.one_to_one:
                target = field.related_model
                pointing_to.setdefault(target, []).append(f"{model.__name__}.{field.name}")
    return _Relations(tables, through, pointing_to)
