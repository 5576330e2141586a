"""Reading the database's query plan of the SQL an endpoint really runs.

`explained(client, url)` sends the request, records every statement it runs with its
parameters (Django's `connection.execute_wrapper`), and asks the database how it runs each
one, with the prefix `QuerySet.explain()` itself uses (`connection.ops.explain_query_prefix`):
EXPLAIN QUERY PLAN on SQLite, EXPLAIN (FORMAT JSON) on PostgreSQL. Each answer is reduced
to the same small shape on both databases, a `Plan`:

- `reads`: how each table is read, a full `scan` or through an `index`, with the columns
  the index is searched on (SQLite: "SEARCH t USING INDEX i (col>?)"; PostgreSQL: an
  "Index Cond" on an Index Scan, Index Only Scan or Bitmap Index Scan) and the index's
  first column (from Django's introspection). An index walked end to end to avoid a sort,
  with the filter checked row by row, searches on no column;
- `sorts`: whether the database sorts rows itself (SQLite: "USE TEMP B-TREE FOR ORDER
  BY"; PostgreSQL: a Sort or Incremental Sort node).

PostgreSQL prefers a sequential scan of a small table even when an index would do, which
says nothing about the table in production. So the plan is taken inside a savepoint with
`SET LOCAL enable_seqscan = off` and `enable_bitmapscan = off`: a table the query can find
through an index is then found through it, and a table it cannot still shows a Seq Scan (or
an index walked end to end with a Filter). The savepoint is rolled back, settings and all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from django.db import connection, transaction

from drillkit.queries import main_table


@dataclass(frozen=True)
class Read:
    table: str
    how: str  # "scan" or "index"
    index: str | None = None
    on: frozenset[str] = frozenset()  # the columns the index is searched on
    leading: str | None = None  # the index's first column, from the database's catalogue

    def __str__(self) -> str:
        if self.how == "scan":
            return f"{self.table}: full scan"
        searched = (
            f" searched on {', '.join(sorted(self.on))}" if self.on else ", walked end to end"
        )
        return f"{self.table}: index {self.index}{searched}"

    def searches(self, column: str) -> bool:
        """Found through an index that starts with `column`, searched on it. (PostgreSQL 18
        can also search a later column of an index by skipping through every value of
        the first, which is cheap only when the first has few values.)"""
        return self.how == "index" and self.leading == column and column in self.on


@dataclass(frozen=True)
class Plan:
    sql: str
    text: str  # the database's own plan, for messages and the benchmark's files
    reads: tuple[Read, ...] = ()
    sorts: bool = False

    def reads_of(self, table: str) -> list[Read]:
        return [read for read in self.reads if read.table == table]

    def finds_by_index(self, table: str, column: str) -> bool:
        """Every read of `table` goes through an index searched on `column`."""
        reads = self.reads_of(table)
        return bool(reads) and all(read.searches(column) for read in reads)

    def summary(self) -> str:
        lines = [str(read) for read in self.reads]
        lines.append("sorts the rows itself" if self.sorts else "no sort")
        return "; ".join(lines)


# -- SQLite --------------------------------------------------------------------------------

_SQLITE_READ = re.compile(
    r"^(SCAN|SEARCH) (\w+)(?: AS \w+)?"
    r"(?: USING (?:COVERING )?INDEX (\w+)(?: \((.*)\))?| USING INTEGER PRIMARY KEY \((.*)\))?"
)
_CONDITION_COLUMN = re.compile(r"(\w+)\s*(?:=|<|>|\bIN\b)")


def _sqlite_plan(sql: str, rows: list[tuple]) -> Plan:
    details = [row[-1] for row in rows]
    reads = []
    for detail in details:
        match = _SQLITE_READ.match(detail)
        if not match:
            continue
        _, table, index, index_on, rowid_on = match.groups()
        if rowid_on:  # the rowid is the primary key, "id" to Django
            reads.append(Read(table, "index", "PRIMARY KEY", frozenset({"id"})))
        elif index:  # searched on the columns in brackets; walked whole without them
            on = frozenset(_CONDITION_COLUMN.findall(index_on or ""))
            reads.append(Read(table, "index", index, on))
        else:
            reads.append(Read(table, "scan"))
    sorts = any(
        detail.startswith("USE TEMP B-TREE FOR") and "ORDER BY" in detail for detail in details
    )
    return Plan(sql, "\n".join(details), tuple(reads), sorts)


# -- PostgreSQL ----------------------------------------------------------------------------

_PG_INDEX_SCANS = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
_PG_COLUMN = re.compile(r"(?:^|[(\s.])\"?(\w+)\"?\s*(?:=|<|>|<=|>=|= ANY)\s")


def _pg_nodes(node: dict, relation: str | None = None) -> Iterator[tuple[dict, str | None]]:
    relation = node.get("Relation Name", relation)
    yield node, relation
    for child in node.get("Plans", []):
        yield from _pg_nodes(child, relation)


def _pg_text(node: dict, depth: int = 0) -> list[str]:
    kind = node["Node Type"]
    if "Relation Name" in node:
        kind += f" on {node['Relation Name']}"
    if "Index Name" in node:
        kind += f" using {node['Index Name']}"
    lines = ["  " * depth + ("-> " if depth else "") + kind]
    for key in ("Index Cond", "Recheck Cond", "Filter", "Sort Key", "Presorted Key"):
        if key in node:
            value = ", ".join(node[key]) if isinstance(node[key], list) else node[key]
            lines.append("  " * depth + f"     {key}: {value}")
    for child in node.get("Plans", []):
        lines += _pg_text(child, depth + 1)
    return lines


def _postgres_plan(sql: str, answer) -> Plan:
    document = json.loads(answer) if isinstance(answer, str) else answer
    root = document[0]["Plan"]
    reads, sorts = [], False
    for node, relation in _pg_nodes(root):
        kind = node["Node Type"]
        if kind in ("Sort", "Incremental Sort"):
            sorts = True
        elif kind == "Seq Scan":
            reads.append(Read(node["Relation Name"], "scan"))
        elif kind in _PG_INDEX_SCANS and relation:
            on = frozenset(_PG_COLUMN.findall(node.get("Index Cond", "")))
            reads.append(Read(relation, "index", node["Index Name"], on))
    return Plan(sql, "\n".join(_pg_text(root)), tuple(reads), sorts)


# -- explaining -----------------------------------------------------------------------------


class _Undo(Exception):
    """Raised to roll the savepoint back, and the planner settings with it."""


def explain(sql: str, params, *, force_index: bool = True) -> Plan:
    """The plan of one statement, on the test's own connection and data. With
    `force_index=False`, PostgreSQL plans as it would in production, from its statistics
    (the benchmark does, on a catalogue large enough for them to favour an index)."""
    vendor = connection.vendor
    plan = None
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if vendor == "postgresql":
                if force_index:
                    cursor.execute("SET LOCAL enable_seqscan = off")
                    cursor.execute("SET LOCAL enable_bitmapscan = off")
                prefix = connection.ops.explain_query_prefix(format="json")
            else:
                prefix = connection.ops.explain_query_prefix()
            cursor.execute(f"{prefix} {sql}", params)
            rows = cursor.fetchall()
            if vendor == "postgresql":
                plan = _postgres_plan(sql, rows[0][0])
            else:
                plan = _sqlite_plan(sql, rows)
            plan = _with_leading_columns(plan, cursor)
            raise _Undo
    except _Undo:
        pass
    return plan


def _with_leading_columns(plan: Plan, cursor) -> Plan:
    """Each index read, with the first column of its index, from Django's introspection."""
    leading: dict[tuple[str, str], str] = {}
    for table in {read.table for read in plan.reads if read.how == "index"}:
        for name, constraint in connection.introspection.get_constraints(cursor, table).items():
            if constraint["columns"] and (constraint["index"] or constraint["primary_key"]):
                leading[table, name] = constraint["columns"][0]
    reads = tuple(
        replace(
            read,
            leading="id" if read.index == "PRIMARY KEY" else leading.get((read.table, read.index)),
        )
        if read.how == "index"
        else read
        for read in plan.reads
    )
    return replace(plan, reads=reads)


def analyze(*tables: str) -> None:
    """Give PostgreSQL's planner statistics for freshly written tables (SQLite: nothing)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f'ANALYZE "{table}"')


@contextmanager
def recorded() -> Iterator[list[tuple[str, object]]]:
    """Every (sql, params) run on the default connection inside the block."""
    statements: list[tuple[str, object]] = []

    def record(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield statements


@dataclass
class Explained:
    """The plans of a request's statements on one table."""

    url: str
    table: str  # table.column
    plans: list[Plan] = field(default_factory=list)
    statements: list[tuple[str, object]] = field(default_factory=list)  # (sql, params)

    def report(self) -> str:
        lines = [f"GET {self.url}: {len(self.plans)} statements filtering on {self.table}"]
        for plan in self.plans:
            lines += ["", plan.sql[:300] + ("..." if len(plan.sql) > 300 else "")]
            lines += ["  " + line for line in plan.text.splitlines()]
            lines.append(f"  => {plan.summary()}")
        return "\n".join(lines)


def _filters_on(sql: str, table: str, column: str) -> bool:
    where = sql.partition(" WHERE ")[2]
    return main_table(sql) == table and f'"{table}"."{column}"' in where


def explained(client, url: str, table: str, column: str, *, force_index: bool = True) -> Explained:
    """Send GET `url` and explain every statement it ran that reads `table` and filters
    on `column`: the ones an index on that column can serve. (Other statements, such as
    a deferred field loaded back by primary key, are other flaws' business.)"""
    with recorded() as statements:
        response = client.get(url)
    assert response.status_code == 200, f"GET {url} answered {response.status_code}"
    found = Explained(url, f"{table}.{column}")
    for sql, params in statements:
        if _filters_on(sql, table, column):
            found.statements.append((sql, params))
            found.plans.append(explain(sql, params, force_index=force_index))
    assert found.plans, f"GET {url} ran no statement on {table} that filters on {column}"
    return found
