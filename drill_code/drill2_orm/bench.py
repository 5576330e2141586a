"""Drill 2's benchmark: query counts and response times, starter against solution.

    nox -s bench -- drill2                       print the table (SQLite in memory)
    DATABASE_URL=postgres://... nox -s bench -- drill2     the same on PostgreSQL
    nox -s bench -- drill2 --target workspace/drill2       your copy against the solution
    nox -s bench -- drill2 --write               also save results/ and tests/payloads.json
    nox -s bench -- drill2 --check               CI: regenerate what is deterministic
                                                 (query counts, SQL, payloads) and compare

For every endpoint and N books (10, 100, 1000 by default), each target gets a fresh
catalogue of N books, and the page asks for all of them (?page_size=N). A request is
timed through Django's test client, the whole stack but the network: the median of
--repeat runs after one warm-up.

The filtered lists (D2-F11, D2-F12) get a catalogue of PLAN_SIZE books of their own. For
each one, the queries behind the request, written with the ORM so that both targets run
the same SQL: the database's plan of each, as the planner chooses it (from statistics,
after ANALYZE, on PostgreSQL), and the median time of running them, on each target.
--check re-verifies what the page claims: the solution's plans search an index (with no
sort for D2-F12), the starter's do not, and the solution is at least PLAN_SPEEDUP_GOAL
times faster on new releases; the times themselves are not pinned.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PAYLOADS = HERE / "tests" / "payloads.json"
sys.path.insert(0, str(HERE / "tests"))  # catalogue.py and budgets.py, shared with the tests

import budgets  # noqa: E402
import catalogue  # noqa: E402

from drillkit.backends import database_url, describe, is_postgres  # noqa: E402
from drillkit.benchkit import markdown_table, median_seconds, run_in_target  # noqa: E402
from drillkit.catalog import get_drill, shown  # noqa: E402
from drillkit.errors import DrillError  # noqa: E402
from drillkit.targets import resolve_target  # noqa: E402

SIZES = (10, 100, 1000)
SQL_SIZE = 3  # books in the catalogue whose SQL results/sql/ shows
SPEEDUP_GOAL = 10  # the solution must be this much faster at the largest N, on SQLite
# The SQL shown for a flaw is its first budget row's, unless this says otherwise: D2-F9
# has no budget row (its query count is fine, its numbers are not), D2-F6 and D2-F8 are
# clearest as the endpoint's whole SQL, and D2-F10 is about the columns the feed loads.
SQL_SHOWN = {
    "D2-F6": (budgets.TOP_RATED, budgets.EVERYTHING, "the top-rated books"),
    "D2-F8": (budgets.REVIEWS, budgets.EVERYTHING, "the review feed"),
    "D2-F9": (budgets.PUBLISHERS, budgets.EVERYTHING, "the publishers with both counts"),
    "D2-F10": (budgets.REVIEWS, (budgets.REVIEW_T,), "the reviews, and the columns they load"),
}
ANSWER_SHOWN = {"D2-F9"}  # the flaw is in the answer, so the file shows the answer
# Why the starter's JSON differs from the solution's, where a planted flaw changes it.
WHY_DIFFERENT = {
    "/api/publishers/": "wrong numbers, whatever the query count: D2-F9",
    "/api/reviews/": "a count and page-number links where the solution hands out a cursor: D2-F13",
}

PLAN_SIZE = 10_000  # books in the catalogue whose filtered queries are planned and timed
PLAN_SPEEDUP_GOAL = 2  # new releases: the solution at least this much faster, on any database
NEW_RELEASES = 15  # ?published_since= the date of the 15th newest book
# flaw, request, table and column the index serves, what the request asks for
PLANNED = (
    ("D2-F11", "/api/books/?published_since={since}", "bookstore_book", "published_on",
     "new releases"),
    ("D2-F12", "/api/reviews/?book={book}", "bookstore_review", "book_id",
     "one book's reviews, newest first"),
)  # fmt: skip


# -- run inside a target (see drillkit.benchkit.run_in_target) -----------------------------


def measure(sizes: list[int], repeat: int) -> list[dict]:
    """For each size and endpoint: queries, rows, a digest of the JSON and the median time."""
    from django.db import reset_queries
    from rest_framework.test import APIClient

    from drillkit.queries import capture

    client, rows = APIClient(), []
    for size in sizes:
        catalogue.clear()
        catalogue.create(catalogue.plan(size))
        for path in budgets.ENDPOINTS:
            url = path.format(n=size)
            reset_queries()  # as every request does; capture() keeps the log from emptying
            with capture() as log:
                response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code}")
            body = response.json()
            rows.append(
                {
                    "path": path,
                    "size": size,
                    "rows": len(body["results"]) if "results" in body else 1,
                    "queries": len(log),
                    "digest": hashlib.sha256(response.content).hexdigest()[:16],
                    "seconds": (
                        median_seconds(lambda url=url: client.get(url), repeat=repeat)
                        if repeat
                        else None
                    ),
                }
            )
    return rows


def captured_sql(size: int) -> dict[str, list[str]]:
    """Every endpoint's SQL, as run, for a catalogue of `size` books."""
    from rest_framework.test import APIClient

    from drillkit.queries import capture

    catalogue.create(catalogue.plan(size))
    sql = {}
    for path in budgets.ENDPOINTS:
        with capture() as log:
            response = APIClient().get(path.format(n=size))
        sql[path] = {"queries": [query.sql for query in log], "answer": response.json()}
    return sql


def _new_releases(since, book):
    """The queries behind ?published_since=: the paginator's COUNT, then the first page."""
    from bookstore.models import Book

    books = Book.objects.filter(published_on__gte=since).order_by("title", "id")
    books.count()
    list(books[:20])


def _book_reviews(since, book):
    """The query behind ?book=: the first page of one book's published reviews, newest
    first, and one more row to know whether there is a next page."""
    from bookstore.models import Review

    reviews = Review.objects.filter(is_published=True, book_id=book)
    list(reviews.order_by("-created_at", "-id")[:21])


QUERIES = {"D2-F11": _new_releases, "D2-F12": _book_reviews}


def plans_and_times(size: int, repeat: int) -> list[dict]:
    """For each PLANNED request, the queries behind it, written with the ORM so that every
    target runs the same SQL (the requests themselves differ where other flaws are still
    open): each statement's plan (drill tests' plans.py, with the prefix QuerySet.explain()
    uses), and the median time of running them straight on the connection."""
    import plans
    from django.db import connection

    from drillkit.benchkit import median_seconds

    plan = catalogue.add_popular_reviews(catalogue.create(catalogue.plan(size)))
    plans.analyze(budgets.BOOK_T, budgets.REVIEW_T, budgets.PUBLISHER_T)
    since = sorted(book["published_on"] for book in plan.books)[-NEW_RELEASES]
    rows = []
    for flaw, request, table, column, what in PLANNED:
        with plans.recorded() as statements:
            QUERIES[flaw](since, catalogue.POPULAR_BOOK)
        found = [plans.explain(sql, params, force_index=False) for sql, params in statements]

        def run(statements=statements):
            with connection.cursor() as cursor:
                for sql, params in statements:
                    cursor.execute(sql, params)
                    cursor.fetchall()

        rows.append(
            {
                "flaw": flaw,
                "url": request.format(since=since, book=catalogue.POPULAR_BOOK),
                "what": what,
                "table": table,
                "column": column,
                "plans": [
                    {
                        "sql": p.sql,
                        "text": p.text,
                        "summary": p.summary(),
                        "reads": [
                            {"how": r.how, "index": r.index, "searched": sorted(r.on)}
                            for r in p.reads_of(table)
                        ],
                        "searches_index": p.finds_by_index(table, column),
                        "sorts": p.sorts,
                    }
                    for p in found
                ],
                "seconds": median_seconds(run, repeat=repeat) if repeat else None,
            }
        )
    return rows


def payloads() -> dict[str, object]:
    """The JSON of every PAYLOAD_REQUESTS path, for the tests' reference file."""
    from rest_framework.test import APIClient

    catalogue.create(catalogue.plan(catalogue.PAYLOAD_SIZE))
    return {path: APIClient().get(path).json() for path in catalogue.PAYLOAD_REQUESTS}


def scorecard_figures(target: str) -> dict[str, int | float]:
    """Figures `nox -s scorecard -- new drill2` records: each endpoint's query count at
    N=100 on the learner's copy, and the book list's median time."""
    copy = resolve_target(get_drill("drill2"), target)
    rows = run_in_target(copy, measure, sizes=[100], repeat=3)
    figures: dict[str, int | float] = {
        f"queries {_endpoint(row['path'])} N=100": row["queries"] for row in rows
    }
    books = next(row for row in rows if row["path"] == budgets.BOOKS)
    figures["ms /api/books/ N=100"] = round(books["seconds"] * 1000, 1)
    return figures


# -- the report ---------------------------------------------------------------------------


def _endpoint(path: str) -> str:
    return path.split("?")[0]


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.1f}"


def table(base: dict, solution: dict, base_label: str) -> str:
    headers = [
        "endpoint",
        "N",
        "rows",
        f"{base_label} queries",
        "solution queries",
        "minimum",
        f"{base_label} ms",
        "solution ms",
        "speed-up",
        "same JSON",
    ]
    rows = []
    for key, ours in base.items():
        theirs = solution[key]
        speedup = (
            f"{ours['seconds'] / theirs['seconds']:,.1f}x"
            if ours["seconds"] and theirs["seconds"]
            else "-"
        )
        rows.append(
            [
                _endpoint(ours["path"]),
                ours["size"],
                ours["rows"],
                ours["queries"],
                theirs["queries"],
                budgets.minimum(ours["path"]),
                _ms(ours["seconds"]),
                _ms(theirs["seconds"]),
                speedup,
                "yes" if ours["digest"] == theirs["digest"] else "**no**",
            ]
        )
    return markdown_table(headers, rows)


def verdicts(base: dict, solution: dict, base_label: str, postgres: bool) -> list[str]:
    lines = []
    by_path: dict[str, list[dict]] = {}
    for row in solution.values():
        by_path.setdefault(row["path"], []).append(row)
    growing = [_endpoint(p) for p, rows in by_path.items() if len({r["queries"] for r in rows}) > 1]
    over = [
        _endpoint(p)
        for p, rows in by_path.items()
        if any(r["queries"] != budgets.minimum(p) for r in rows)
    ]
    lines.append(
        "Solution query counts constant in N: "
        + ("yes, on every endpoint." if not growing else f"NO: {', '.join(growing)}.")
    )
    lines.append(
        "Solution at the minimum of tests/budgets.py: "
        + ("yes, on every endpoint." if not over else f"NO: {', '.join(over)}.")
    )
    largest = max(row["size"] for row in solution.values())
    timed = [
        (key, base[key]["seconds"] / row["seconds"])
        for key, row in solution.items()
        if row["size"] == largest and row["seconds"] and base[key]["seconds"]
    ]
    if timed:
        best = max(timed, key=lambda item: item[1])
        worst = min(timed, key=lambda item: item[1])
        goal = "" if postgres else f" (goal on SQLite: at least {SPEEDUP_GOAL}x on the book list)"
        books = solution.get(f"{budgets.BOOKS}@{largest}")
        books_speedup = base[f"{budgets.BOOKS}@{largest}"]["seconds"] / books["seconds"]
        lines.append(
            f"Speed-up at N={largest}: {books_speedup:,.1f}x on /api/books/{goal}; "
            f"from {worst[1]:,.1f}x ({_endpoint(solution[worst[0]]['path'])}) to "
            f"{best[1]:,.1f}x ({_endpoint(solution[best[0]]['path'])})."
        )
        one = f"{budgets.BOOK}@{largest}"
        lines.append(
            f"One book ({_endpoint(budgets.BOOK)}) at N={largest}: {base[one]['queries']} "
            f"queries on the {base_label} and {solution[one]['queries']} on the solution, "
            f"{_ms(base[one]['seconds'])} ms against {_ms(solution[one]['seconds'])} ms "
            f"({base[one]['seconds'] / solution[one]['seconds']:,.1f}x)."
        )
    differ = sorted(
        {_endpoint(base[k]["path"]) for k in base if base[k]["digest"] != solution[k]["digest"]}
    )
    if differ:
        why = ", ".join(
            f"{path} ({WHY_DIFFERENT.get(path, 'see its payload test')})" for path in differ
        )
        lines.append(f"The {base_label} answers differently from the solution on {why}.")
    return lines


def minimums_table() -> str:
    """results/minimums.md: each endpoint's minimum as the sum of its budget rows, so the
    page's explanation of the minimums is the table the tests check, added up."""
    rows = []
    for path in budgets.ENDPOINTS:
        parts = [
            f"{row.most} ({row.loads})"
            for row in budgets.BUDGETS
            if row.path == path and row.tables != budgets.ANYTHING_ELSE
        ]
        rows.append([f"`{_endpoint(path)}`", "<br>+ ".join(parts), budgets.minimum(path)])
    return (
        "Generated from tests/budgets.py by `nox -s bench -- drill2 --write`.\n\n"
        + markdown_table(["endpoint", "queries, by what they load", "minimum"], rows)
        + "\n"
    )


def _keyed(rows: list[dict]) -> dict[str, dict]:
    return {f"{row['path']}@{row['size']}": row for row in rows}


# -- SQL before and after, per flaw ---------------------------------------------------------


def sql_files(starter: dict[str, list[str]], solution: dict[str, list[str]]) -> dict[str, str]:
    """results/sql/<flaw>.<target>.sql: the queries each flaw is about, grouped."""
    import sqlparse

    from drillkit.queries import Query, QueryLog

    where = {}
    for row in budgets.BUDGETS:
        if row.flaw and row.flaw not in where:
            where[row.flaw] = (row.path, row.tables, row.loads)
    where.update(SQL_SHOWN)
    files = {}
    for flaw, (path, tables, loads) in sorted(where.items()):
        row = budgets.Budget(path, loads, tables, 0, flaw)
        for label, captured in (("starter", starter), ("solution", solution)):
            log = row.count(QueryLog([Query(sql) for sql in captured[path]["queries"]]))
            url = path.format(n=SQL_SIZE)
            lines = [
                f"-- GET {url} on the {label}, with {SQL_SIZE} books: "
                f"{len(log)} {'query' if len(log) == 1 else 'queries'} for {loads}."
            ]
            for group in log.similar(most_repeated_first=False):
                lines.append("")
                if group.repeated:
                    lines.append(
                        f"-- Run {group.count} times, with different parameters "
                        "(similar queries); the first one:"
                    )
                lines.append(sqlparse.format(group.example.sql, reindent=True).strip() + ";")
            if flaw in ANSWER_SHOWN:
                lines += ["", "-- The answer:"] + [
                    f"--   {item['name']}: book_count {item['book_count']}, "
                    f"review_count {item['review_count']}"
                    for item in captured[path]["answer"]["results"]
                ]
            files[f"{flaw}.{label}.sql"] = "\n".join(lines) + "\n"
    return files


# -- plans and times of the filtered lists ------------------------------------------------------


def _is_page(plan: dict) -> bool:
    return " ORDER BY " in plan["sql"]


def plan_claims(flaw: str, rows: list[dict]) -> dict[str, bool]:
    """What the page says about one flaw's plans: every statement searches the index, and
    (for D2-F12, whose lesson is the order) the page query needs no sort."""
    row = next(r for r in rows if r["flaw"] == flaw)
    claims = {"searches the index": all(p["searches_index"] for p in row["plans"])}
    if flaw == "D2-F12":
        claims["no sort"] = not any(p["sorts"] for p in row["plans"] if _is_page(p))
    return claims


def plan_problems(base: list[dict], solution: list[dict], base_label: str) -> list[str]:
    """Claims the page makes that these runs contradict."""
    problems = []
    for flaw, *_ in PLANNED:
        for claim, holds in plan_claims(flaw, solution).items():
            if not holds:
                problems.append(f"{flaw}: the solution's plan no longer {claim}")
        if base_label == "starter" and all(plan_claims(flaw, base).values()):
            problems.append(f"{flaw}: the starter's plan already searches an index, in order")
    speedup = plan_speedups(base, solution).get("D2-F11")
    if speedup is not None and speedup < PLAN_SPEEDUP_GOAL:
        problems.append(
            f"D2-F11: the solution is {speedup:,.1f}x as fast as the {base_label}, under the "
            f"goal of {PLAN_SPEEDUP_GOAL}x"
        )
    return problems


def plan_speedups(base: list[dict], solution: list[dict]) -> dict[str, float]:
    theirs = {row["flaw"]: row["seconds"] for row in solution}
    return {
        row["flaw"]: row["seconds"] / theirs[row["flaw"]]
        for row in base
        if row["seconds"] and theirs.get(row["flaw"])
    }


def _ms_fine(seconds: float | None) -> str:
    """Milliseconds to the hundredth: an index search takes a fraction of one."""
    return "-" if seconds is None else f"{seconds * 1000:,.2f}"


def _how(row: dict) -> str:
    """How one request's statements find their rows, in a few words per statement."""
    parts = []
    for plan in row["plans"]:
        reads = [
            "full scan"
            if read["how"] == "scan"
            else f"search {read['index']}"
            if read["searched"]
            else f"walk {read['index']}"
            for read in plan["reads"]
        ]
        what = "page" if _is_page(plan) else "COUNT"
        parts.append(f"{what}: {', '.join(reads)}" + (", then sort" if plan["sorts"] else ""))
    return "<br>".join(parts)


def plan_table(base: list[dict], solution: list[dict], base_label: str) -> str:
    theirs = {row["flaw"]: row for row in solution}
    speedups = plan_speedups(base, solution)
    rows = []
    for ours in base:
        other = theirs[ours["flaw"]]
        rows.append(
            [
                f"`GET {ours['url']}` ({ours['what']})",
                _how(ours),
                _how(other),
                _ms_fine(ours["seconds"]),
                _ms_fine(other["seconds"]),
                f"{speedups[ours['flaw']]:,.1f}x" if ours["flaw"] in speedups else "-",
            ]
        )
    return markdown_table(
        [
            "request",
            f"{base_label}: how the rows are found",
            "solution: how the rows are found",
            f"{base_label} ms",
            "solution ms",
            "speed-up",
        ],
        rows,
    )


def _statistics() -> str:
    return " (from its statistics, after ANALYZE)" if is_postgres(database_url()) else ""


def plan_files(base: list[dict], solution: list[dict], backend: str, size: int) -> dict[str, str]:
    """results/plans/<flaw>.<target>.<backend>.txt: each statement and its plan."""
    from drillkit.queries import Query

    files = {}
    for label, rows in (("starter", base), ("solution", solution)):
        for row in rows:
            count = len(row["plans"])
            lines = [
                f"The {'query' if count == 1 else f'{count} queries'} behind GET {row['url']}, "
                f"on the {label}, {size:,} books, {describe(database_url())},",
                f"planned as the database chooses{_statistics()}.",
            ]
            for plan in row["plans"]:
                lines += ["", Query(plan["sql"]).short(400), ""]
                lines += ["    " + line for line in plan["text"].splitlines()]
                lines.append(f"    => {plan['summary']}")
            files[f"results/plans/{row['flaw']}.{label}.{backend}.txt"] = "\n".join(lines) + "\n"
    return files


# -- the command ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nox -s bench -- drill2", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--target", default="starter", help="starter (default) or your copy's folder"
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), metavar="N")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per request (median)")
    parser.add_argument(
        "--plan-size",
        type=int,
        default=PLAN_SIZE,
        metavar="N",
        help=f"books for the filtered lists' plans and times (default {PLAN_SIZE:,})",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="save results/ and tests/payloads.json")
    mode.add_argument("--check", action="store_true", help="regenerate and compare (for CI)")
    return parser


def _backend() -> str:
    return "postgresql" if is_postgres(database_url()) else "sqlite"


def main(argv: list[str]) -> int:
    options = _parser().parse_args(argv)
    drill = get_drill("drill2")
    base = resolve_target(drill, options.target)
    solution = resolve_target(drill, "solution")
    if (options.write or options.check) and not base.is_starter:
        raise DrillError(
            "--write and --check compare the starter with the solution; drop --target."
        )
    if options.check:
        return check(base, solution)
    backend = describe(database_url())
    print(f"Drill 2 benchmark on {backend}: {base.label} against solution, N = {options.sizes}")
    print(f"Timing: median of {options.repeat} runs after one warm-up.\n", flush=True)
    base_rows = _keyed(run_in_target(base, measure, sizes=options.sizes, repeat=options.repeat))
    solution_rows = _keyed(
        run_in_target(solution, measure, sizes=options.sizes, repeat=options.repeat)
    )
    report = table(base_rows, solution_rows, base.label)
    notes = verdicts(base_rows, solution_rows, base.label, is_postgres(database_url()))
    print(report)
    print()
    print("\n".join(notes))
    print(f"\nThe filtered lists with {options.plan_size:,} books: plans and times", flush=True)
    base_plans = run_in_target(base, plans_and_times, size=options.plan_size, repeat=options.repeat)
    solution_plans = run_in_target(
        solution, plans_and_times, size=options.plan_size, repeat=options.repeat
    )
    print(plan_table(base_plans, solution_plans, base.label))
    problems = plan_problems(base_plans, solution_plans, base.label)
    for problem in problems:
        print(f"  ! {problem}")
    if options.write:
        write(base_rows, solution_rows, report, notes, options)
        write_plans(base_plans, solution_plans, options)
    return 0


def write_plans(base_plans, solution_plans, options) -> None:
    backend = _backend()
    speedup = plan_speedups(base_plans, solution_plans).get("D2-F11")
    meta = {
        "database": describe(database_url()),
        "size": options.plan_size,
        "repeat": options.repeat,
        "speedup_goal": PLAN_SPEEDUP_GOAL,
    }
    data = {"meta": meta, "starter": base_plans, "solution": solution_plans}
    written = {
        f"results/plans-{backend}.json": json.dumps(data, indent=1) + "\n",
        f"results/plans-{backend}.md": (
            f"Measured on {meta['database']} with {options.plan_size:,} books: the queries "
            "behind each request, the same SQL on both targets, planned as the "
            f"database chooses{_statistics()}; median of {options.repeat} runs, milliseconds "
            "per request."
            "\n\n"
            + plan_table(base_plans, solution_plans, "starter")
            + "\n\n"
            + f"- New releases: the solution is {speedup:,.1f}x as fast as the starter "
            f"(`--check` asks for at least {PLAN_SPEEDUP_GOAL}x, and for the plans above).\n"
        ),
        **plan_files(base_plans, solution_plans, backend, options.plan_size),
    }
    for name, text in written.items():
        path = HERE / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    print("\nWrote " + ", ".join(written))


def write(base_rows, solution_rows, report, notes, options) -> None:
    import django
    import rest_framework

    backend = _backend()
    RESULTS.mkdir(exist_ok=True)
    meta = {
        "database": describe(database_url()),
        "python": sys.version.split()[0],
        "django": django.get_version(),
        "djangorestframework": rest_framework.VERSION,
        "repeat": options.repeat,
        "sizes": options.sizes,
    }
    data = {
        "meta": meta,
        "starter": list(base_rows.values()),
        "solution": list(solution_rows.values()),
    }
    (RESULTS / f"bench-{backend}.json").write_text(json.dumps(data, indent=1) + "\n")
    (RESULTS / f"bench-{backend}.md").write_text(
        f"Measured on {meta['database']} with Python {meta['python']}, Django "
        f"{meta['django']}, DRF {meta['djangorestframework']}: median of {options.repeat} "
        "runs, milliseconds per request.\n\n"
        + report
        + "\n\n"
        + "\n".join(f"- {line}" for line in notes)
        + "\n"
    )
    written = [RESULTS / f"bench-{backend}.json", RESULTS / f"bench-{backend}.md"]
    if backend == "sqlite":  # the SQL on the page, and the payloads, come from SQLite
        generated = _generated()
        for stale in set(_sql_files_on_disk()) - set(generated):
            (HERE / stale).unlink()
        for name, text in generated.items():
            path = HERE / name
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
            written.append(path)
    print("\nWrote " + ", ".join(shown(p) for p in written))


def _sql_files_on_disk() -> list[str]:
    return [f"results/sql/{path.name}" for path in (RESULTS / "sql").glob("*.sql")]


def _generated() -> dict[str, str]:
    """The deterministic files: SQL per flaw, the minimums and the tests' reference payloads."""
    drill = get_drill("drill2")
    starter, solution = resolve_target(drill, "starter"), resolve_target(drill, "solution")
    files = {
        f"results/sql/{name}": text
        for name, text in sql_files(
            run_in_target(starter, captured_sql, size=SQL_SIZE),
            run_in_target(solution, captured_sql, size=SQL_SIZE),
        ).items()
    }
    files["results/minimums.md"] = minimums_table()
    files["tests/payloads.json"] = (
        json.dumps(run_in_target(solution, payloads), indent=1, sort_keys=True) + "\n"
    )
    return files


def check_plans(starter, solution, backend: str) -> list[str]:
    """Plan again and time again: the claims must hold now, and the committed plans must
    say what the fresh ones say (index searched, sort or none), whatever the times."""
    committed = RESULTS / f"plans-{backend}.json"
    if not committed.is_file():
        return [f"{shown(committed)} does not exist yet: run `nox -s bench -- drill2 --write`"]
    saved = json.loads(committed.read_text())
    size, repeat = saved["meta"]["size"], max(3, saved["meta"]["repeat"])
    fresh = {
        label: run_in_target(target, plans_and_times, size=size, repeat=repeat)
        for label, target in (("starter", starter), ("solution", solution))
    }
    problems = plan_problems(fresh["starter"], fresh["solution"], "starter")
    for label, rows in fresh.items():
        for flaw, *_ in PLANNED:
            now, then = plan_claims(flaw, rows), plan_claims(flaw, saved[label])
            if now != then:
                problems.append(
                    f"{label} {flaw}: the committed plans say {then}, the fresh ones {now}"
                )
    return problems


def check(starter, solution) -> int:
    """Regenerate the deterministic results and compare them with the committed files."""
    backend = _backend()
    committed = RESULTS / f"bench-{backend}.json"
    if not committed.is_file():
        raise DrillError(
            f"{shown(committed)} does not exist yet. Run `nox -s bench -- drill2 --write` "
            "(with the same DATABASE_URL) and commit the results."
        )
    saved = json.loads(committed.read_text())
    sizes = saved["meta"]["sizes"]
    problems = []
    for label, target in (("starter", starter), ("solution", solution)):
        now = _keyed(run_in_target(target, measure, sizes=sizes, repeat=0))
        for row in saved[label]:
            fresh = now.get(f"{row['path']}@{row['size']}")
            if fresh is None or (fresh["queries"], fresh["digest"]) != (
                row["queries"],
                row["digest"],
            ):
                problems.append(
                    f"{label} {_endpoint(row['path'])} N={row['size']}: the committed table "
                    f"says {row['queries']} queries, now "
                    f"{fresh['queries'] if fresh else 'not measured'}"
                    + (
                        ""
                        if fresh is None or fresh["digest"] == row["digest"]
                        else " (and the JSON changed)"
                    )
                )
    if backend == "sqlite":
        generated = _generated()
        for name, text in generated.items():
            path = HERE / name
            if not path.is_file() or path.read_text() != text:
                problems.append(f"{shown(path)} differs from what the code produces now")
        for stale in sorted(set(_sql_files_on_disk()) - set(generated)):
            problems.append(f"{shown(HERE / stale)} is no longer produced: delete it")
    problems += check_plans(starter, solution, backend)
    if problems:
        print("The committed results are out of date:\n  " + "\n  ".join(problems))
        print("\nRun `nox -s bench -- drill2 --write` and commit results/ and tests/payloads.json.")
        return 1
    checked = "query counts, JSON digests, plans, the new releases' speed-up" + (
        ", minimums, SQL and payloads" if backend == "sqlite" else ""
    )
    print(f"Drill 2 results on {describe(database_url())} are up to date ({checked}).")
    return 0
