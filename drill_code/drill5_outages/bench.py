"""Drill 5's demo: a real server under steady load while its database goes down.

    nox -s bench -- drill5                  # SQLite: faults through execute_wrapper
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test nox -s bench -- drill5
                                            # PostgreSQL, cut for real by drillkit's FaultProxy
    nox -s bench -- drill5 --check          # CI: rerun and verify; the committed results
                                            # must re-render byte for byte from their data

For each target (starter, then solution) a child process migrates a fresh database,
serves the target with Django's threaded WSGI server on 127.0.0.1, and drives it from a
pool of client threads (6 reading the catalogue, 2 placing orders with an
Idempotency-Key and retrying like a careful client). The database is cut, restored,
slowed and restored on a fixed timeline. Every request is recorded; the parent prints a
second-by-second table and writes results/<backend>.{json,md,svg} for the handbook.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DRILL_CODE = HERE.parent
if str(DRILL_CODE) not in sys.path:
    sys.path.insert(0, str(DRILL_CODE))

from drillkit.errors import DrillError  # noqa: E402  (needs the sys.path line above)

# --8<-- [start:timeline]
# (start second, end second, what the database does)
TIMELINE = [
    (0, 3, "up"),
    (3, 7, "cut"),  # every connection dropped, every new one refused
    (7, 9, "up"),
    (9, 11, "slow"),  # every round trip 0.4 s slower
    (11, 13, "up"),
]
SLOW_SECONDS = 0.4  # added to each database round trip during "slow"
READERS, READS_PER_SECOND = 6, 8  # per reader
WRITERS, ORDERS_PER_SECOND = 2, 3  # per writer
CLIENT_TIMEOUT = 1.0  # seconds a client waits for an answer before it gives up
DRAIN_SECONDS = 4.0  # after the timeline, writers finish retrying orders in flight
# What the solution must show, every run (`--check` fails otherwise).
TARGETS = {
    "outage_read_p99_ms": 250,
    "unhandled_500s": 0,
    "lost": 0,
    "duplicated": 0,
    "recovery_s": 1.0,
}
# --8<-- [end:timeline]
DURATION = TIMELINE[-1][1]
CUT_START, CUT_END = next((a, b) for a, b, what in TIMELINE if what == "cut")
PRODUCTS = 10
INITIAL_STOCK = 100_000


def phase_at(second: float) -> str:
    for start, end, what in TIMELINE:
        if start <= second < end:
            return what
    return "up"


# -- the child process: one target, one server, one load run ------------------------------


class SqliteFaults:
    """On SQLite the fault sits in every connection's execute_wrapper."""

    def __init__(self) -> None:
        self.state = "up"

    def __call__(self, execute, sql, params, many, context):
        from django.db import OperationalError

        if self.state == "cut":
            raise OperationalError("database unavailable (simulated outage)")
        if self.state == "slow":
            time.sleep(SLOW_SECONDS)
        return execute(sql, params, many, context)

    def set(self, state: str) -> None:
        self.state = state


class ProxyFaults:
    def __init__(self, proxy) -> None:
        self.proxy = proxy

    def set(self, state: str) -> None:
        if state == "cut":
            self.proxy.cut()
        elif state == "slow":
            self.proxy.latency(SLOW_SECONDS / 2)  # each direction
        else:
            self.proxy.restore()


@contextlib.contextmanager
def bench_database(label: str):
    """A database of the bench's own, never one the tests or other drills use.

    Yields (DATABASE_URL for the target, faults). On PostgreSQL the URL points at a
    FaultProxy in front of the real server; the database is dropped afterwards.
    """
    from drillkit.backends import CONNECT_TIMEOUT_SECONDS, database_url, is_postgres

    url = database_url()
    if not is_postgres(url):
        with tempfile.TemporaryDirectory(prefix="drill5-bench-") as folder:
            yield f"sqlite:///{folder}/bench.sqlite3", SqliteFaults()
        return
    import dj_database_url
    import psycopg

    from drillkit.faultproxy import FaultProxy

    config = dj_database_url.parse(url)
    name = f"drill5_bench_{label}"
    admin = {
        "dbname": "postgres",
        "user": config["USER"] or None,
        "password": config["PASSWORD"] or None,
        "host": config["HOST"] or None,
        "port": config["PORT"] or None,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "autocommit": True,
    }
    with psycopg.connect(**admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with FaultProxy(config["HOST"] or "127.0.0.1", int(config["PORT"] or 5432)) as proxy:
            user = config["USER"] or "postgres"
            secret = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
            yield f"postgres://{user}{secret}@127.0.0.1:{proxy.port}/{name}", ProxyFaults(proxy)
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _start_server():
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    return server, thread


class Recorder:
    def __init__(self, started: float) -> None:
        self.started = started
        self.rows: list[dict] = []
        self.lock = threading.Lock()

    def add(self, **row) -> None:
        with self.lock:
            self.rows.append(row)


def _request(conn_box, port, method, path, body=None, headers=None):
    """One HTTP request on a keep-alive connection; a new connection after any failure."""
    if conn_box[0] is None:
        conn_box[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
    conn = conn_box[0]
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), data
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        conn_box[0] = None
        return ("timeout" if isinstance(exc, TimeoutError) else "error"), {}, b""


def _reader(port, rec: Recorder, stop_at: float) -> None:
    box = [None]
    interval = 1 / READS_PER_SECOND
    next_due = time.monotonic()
    while (now := time.monotonic()) < stop_at:
        if now < next_due:
            time.sleep(next_due - now)
        next_due += interval
        t0 = time.monotonic()
        status, headers, data = _request(box, port, "GET", "/api/products/")
        latency = time.monotonic() - t0
        outcome = str(status)
        if status == 200:
            if data.strip() == b"[]":
                outcome = "empty"
            elif any(k.lower() == "age" for k in headers):
                outcome = "stale"
            else:
                outcome = "fresh"
        rec.add(kind="read", t=t0 - rec.started, ms=latency * 1000, outcome=outcome)


def _writer(n, port, rec: Recorder, stop_at: float, drain_until: float, ledger) -> None:
    box = [None]
    interval = 1 / ORDERS_PER_SECOND
    order = 0
    next_due = time.monotonic()
    while time.monotonic() < stop_at:
        if time.monotonic() < next_due:
            time.sleep(next_due - time.monotonic())
        next_due += interval
        order += 1
        key = f"w{n}-{order}"
        body = json.dumps({"product": 1 + order % PRODUCTS, "quantity": 1, "reference": key})
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        entry = ledger[key] = {"accepted": False, "attempts": 0}
        while time.monotonic() < drain_until and entry["attempts"] < 20:
            entry["attempts"] += 1
            t0 = time.monotonic()
            status, reply, _ = _request(box, port, "POST", "/api/orders/", body, headers)
            rec.add(
                kind="write",
                t=t0 - rec.started,
                ms=(time.monotonic() - t0) * 1000,
                outcome=str(status),
            )
            if status in (200, 201):
                entry["accepted"] = True
                break
            if status in (400, 409, 422):
                break  # the API refused the order itself: retrying cannot help
            # A careful client: wait as long as Retry-After says (at most 2 s), or 0.5 s.
            retry_after = next((v for k, v in reply.items() if k.lower() == "retry-after"), "")
            time.sleep(min(2.0, float(retry_after)) if retry_after.isdigit() else 0.5)
            next_due = max(next_due, time.monotonic())


def run_target(label: str, out: Path) -> None:
    """Child process: serve one target and record everything that happened."""
    from drillkit.catalog import get_drill
    from drillkit.targets import activate, resolve_target

    logging.disable(logging.CRITICAL)  # the starter logs every failure; the table says it all
    target = resolve_target(get_drill("drill5"), label)
    with bench_database(target.label if target.label in ("starter", "solution") else "copy") as (
        url,
        faults,
    ):
        os.environ["DATABASE_URL"] = url
        activate(target)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.db.backends.signals import connection_created
        from django.db.models import Count, Sum

        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)
        from shop.models import Order, Product

        Product.objects.bulk_create(
            Product(sku=f"SKU-{n:02}", name=f"Product {n}", price="10.00", stock=INITIAL_STOCK)
            for n in range(1, PRODUCTS + 1)
        )
        connection.close()
        if isinstance(faults, SqliteFaults):

            def install(sender, connection, **kwargs):
                connection.execute_wrappers.append(faults)

            connection_created.connect(install, weak=False)

        server, server_thread = _start_server()
        port = server.server_address[1]
        started = time.monotonic()
        rec = Recorder(started)
        ledger: dict[str, dict] = {}
        stop_at, drain_until = started + DURATION, started + DURATION + DRAIN_SECONDS
        clients = [
            threading.Thread(target=_reader, args=(port, rec, stop_at), daemon=True)
            for _ in range(READERS)
        ] + [
            threading.Thread(
                target=_writer, args=(n, port, rec, stop_at, drain_until, ledger), daemon=True
            )
            for n in range(WRITERS)
        ]
        for thread in clients:
            thread.start()
        for start, _end, what in TIMELINE:
            time.sleep(max(0.0, started + start - time.monotonic()))
            faults.set(what)
        for thread in clients:
            thread.join(drain_until - time.monotonic() + CLIENT_TIMEOUT + 1)
        faults.set("up")
        server.shutdown()
        server.server_close()
        server_thread.join(5)

        connection.close()
        rows = dict(
            Order.objects.values("reference").annotate(n=Count("id")).values_list("reference", "n")
        )
        taken = INITIAL_STOCK * PRODUCTS - Product.objects.aggregate(s=Sum("stock"))["s"]
        ordered = Order.objects.aggregate(s=Sum("quantity"))["s"] or 0
        connection.close()
    writes = {
        "orders": len(ledger),
        "accepted": sum(e["accepted"] for e in ledger.values()),
        "rejected": sum(not e["accepted"] for e in ledger.values()),
        "lost": sum(e["accepted"] and rows.get(key, 0) == 0 for key, e in ledger.items()),
        "duplicated": sum(n - 1 for n in rows.values() if n > 1),
        "half_written": ordered - taken,
    }
    out.write_text(json.dumps({"target": label, "requests": rec.rows, "writes": writes}))


# -- the parent: run each target, then summarise and draw ---------------------------------


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def summarise(raw: dict) -> dict:
    """Per second: counts by outcome and read latency; plus the figures the targets need."""
    seconds = []
    for second in range(DURATION):
        reqs = [r for r in raw["requests"] if second <= r["t"] < second + 1]
        reads = [r for r in reqs if r["kind"] == "read"]
        writes = [r for r in reqs if r["kind"] == "write"]
        # A read the client gave up on counts at the time it waited (about CLIENT_TIMEOUT):
        # leaving it out would make the worst seconds look fast.
        ms = [r["ms"] for r in reads]

        def count(rows, *outcomes):
            return sum(r["outcome"] in outcomes for r in rows)

        seconds.append(
            {
                "second": second,
                "db": phase_at(second),
                "requests": len(reqs),
                "fresh": count(reads, "fresh"),
                "stale": count(reads, "stale"),
                "empty": count(reads, "empty"),
                "503": count(reqs, "503"),
                "500": count(reqs, "500"),
                "timeout": count(reqs, "timeout", "error"),
                "p50_ms": round(percentile(ms, 50)),
                "p99_ms": round(percentile(ms, 99)),
                "writes_ok": count(writes, "200", "201"),
                "writes_failed": len(writes) - count(writes, "200", "201"),
            }
        )
    outage_reads = [
        r for r in raw["requests"] if r["kind"] == "read" and CUT_START <= r["t"] < CUT_END
    ]
    first_fresh = min(
        (
            r["t"] + r["ms"] / 1000
            for r in raw["requests"]
            if r["kind"] == "read" and r["outcome"] == "fresh" and r["t"] >= CUT_END
        ),
        default=None,
    )
    figures = {
        "outage_read_p99_ms": round(percentile([r["ms"] for r in outage_reads], 99)),
        "outage_reads_served": sum(r["outcome"] in ("fresh", "stale") for r in outage_reads),
        "outage_reads": len(outage_reads),
        "unhandled_500s": sum(r["outcome"] == "500" for r in raw["requests"]),
        "recovery_s": None if first_fresh is None else round(first_fresh - CUT_END, 2),
        **raw["writes"],
    }
    return {"target": raw["target"], "seconds": seconds, "figures": figures}


def meets_targets(figures: dict) -> list[str]:
    missed = []
    for name, limit in TARGETS.items():
        value = figures[name]
        if value is None or value > limit:
            missed.append(f"{name} = {value} (target: at most {limit})")
    return missed


COLUMNS = [
    ("s", "second"),
    ("database", "db"),
    ("requests", "requests"),
    ("fresh", "fresh"),
    ("stale", "stale"),
    ("empty 200", "empty"),
    ("503", "503"),
    ("500", "500"),
    ("timeout", "timeout"),
    ("read p50 ms", "p50_ms"),
    ("read p99 ms", "p99_ms"),
    ("orders ok", "writes_ok"),
    ("orders failed", "writes_failed"),
]


def render_markdown(results: dict) -> str:
    lines = [
        f"Measured on {results['backend']} by `{results['command']}`. Read outcomes: "
        "*fresh* from the database, *stale* the last good copy marked with `Age`, "
        "*empty 200* an outage disguised as an empty catalogue. Latency includes reads the "
        f"client gave up on after {CLIENT_TIMEOUT:g} s.",
        "",
    ]
    for summary in results["targets"]:
        f = summary["figures"]
        lines += [
            f"**{summary['target']}**",
            "",
            "| " + " | ".join(title for title, _ in COLUMNS) + " |",
            "|" + "---:|" * len(COLUMNS),
        ]
        for row in summary["seconds"]:
            lines.append("| " + " | ".join(str(row[key]) for _, key in COLUMNS) + " |")
        recovery = "never" if f["recovery_s"] is None else f"{f['recovery_s']} s"
        lines += [
            "",
            f"During the outage: {f['outage_reads_served']} of {f['outage_reads']} reads "
            f"answered with data, read p99 {f['outage_read_p99_ms']} ms. Unhandled 500s in "
            f"the whole run: {f['unhandled_500s']}. First fresh read {recovery} after the "
            f"database returned. Orders: {f['orders']} placed, {f['accepted']} accepted, "
            f"{f['rejected']} given up, {f['lost']} lost, {f['duplicated']} duplicated, "
            f"{f['half_written']} half written.",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


SERIES = [  # (key, label, colour) stacked from the bottom
    ("fresh", "fresh", "#2e7d32"),
    ("stale", "stale (Age)", "#1e88e5"),
    ("empty", "empty 200", "#fb8c00"),
    ("503", "503 + Retry-After", "#9e9e9e"),
    ("500", "500", "#c62828"),
    ("timeout", "client timeout", "#212121"),
]
PHASE_FILL = {"cut": "#ffebee", "slow": "#fff8e1"}


def render_svg(results: dict) -> str:
    """Two panels (one per target): stacked outcomes per second, with read p99 on top."""
    width, panel_h, left, right, top = 760, 210, 48, 56, 36
    plot_w, plot_h = width - left - right, panel_h - 70
    panels = results["targets"]
    height = top + panel_h * len(panels) + 30
    peak = max(row["requests"] for s in panels for row in s["seconds"]) or 1
    peak_ms = max(max(row["p99_ms"] for s in panels for row in s["seconds"]), 1)
    bar_w = plot_w / DURATION
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{left}" y="18" font-size="13" font-weight="bold">Requests per second by '
        "outcome; the line is read p99 latency</text>",
    ]
    for index, summary in enumerate(panels):
        y0 = top + index * panel_h
        base = y0 + 20 + plot_h
        out.append(f'<text x="{left}" y="{y0 + 12}" font-weight="bold">{summary["target"]}</text>')
        for start, end, what in TIMELINE:
            if what in PHASE_FILL:
                out.append(
                    f'<rect x="{left + start * bar_w:.1f}" y="{y0 + 20}" '
                    f'width="{(end - start) * bar_w:.1f}" height="{plot_h}" '
                    f'fill="{PHASE_FILL[what]}"/>'
                )
                out.append(
                    f'<text x="{left + start * bar_w + 4:.1f}" y="{y0 + 32}" fill="#555">'
                    f"database {what}</text>"
                )
        for row in summary["seconds"]:
            x = left + row["second"] * bar_w + 3
            y = base
            for key, _label, colour in SERIES:
                h = row[key] / peak * plot_h
                if h > 0:
                    y -= h
                    out.append(
                        f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 6:.1f}" '
                        f'height="{h:.1f}" fill="{colour}"/>'
                    )
        points = " ".join(
            f"{left + (row['second'] + 0.5) * bar_w:.1f},"
            f"{base - row['p99_ms'] / peak_ms * plot_h:.1f}"
            for row in summary["seconds"]
        )
        out.append(f'<polyline points="{points}" fill="none" stroke="#6a1b9a" stroke-width="2"/>')
        out.append(
            f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="#333"/>'
        )
        out.append(f'<text x="{left - 6}" y="{y0 + 26}" text-anchor="end">{peak}</text>')
        out.append(f'<text x="{left - 6}" y="{base}" text-anchor="end">0</text>')
        out.append(
            f'<text x="{left + plot_w + 6}" y="{y0 + 26}" fill="#6a1b9a">{peak_ms} ms</text>'
        )
        for second in range(0, DURATION + 1, 2):
            out.append(
                f'<text x="{left + second * bar_w:.1f}" y="{base + 14}" '
                f'text-anchor="middle">{second}s</text>'
            )
    x = left
    legend_y = height - 10
    for _key, label, colour in [*SERIES, ("p99", "read p99", "#6a1b9a")]:
        out.append(f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14}" y="{legend_y}">{label}</text>')
        x += 14 + 7 * len(label) + 16
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _backend() -> tuple[str, str]:
    from drillkit.backends import database_url, describe, is_postgres

    url = database_url()
    if is_postgres(url):
        return "postgresql", describe(url) + " (through drillkit's FaultProxy)"
    return "sqlite", "SQLite (a temporary file; faults through execute_wrapper)"


def _run_children(labels: list[str]) -> list[dict]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(DRILL_CODE), os.environ.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        ),
    }
    summaries = []
    with tempfile.TemporaryDirectory(prefix="drill5-bench-") as folder:
        for label in labels:
            out = Path(folder) / f"{len(summaries)}.json"
            print(
                f"drill5 demo: {label}: {DURATION} s of load, database cut at "
                f"{CUT_START}-{CUT_END} s ...",
                flush=True,
            )
            child = subprocess.run(
                [sys.executable, __file__, "--child", label, "--out", str(out)],
                env=env,
                capture_output=True,
                text=True,
                timeout=DURATION + 90,
            )
            if child.returncode != 0 or not out.exists():
                raise DrillError(
                    f"The demo could not run the {label} target (exit {child.returncode}). "
                    f"Its last words were:\n{child.stderr.strip()[-1500:]}\nIf this is your "
                    "copy, check that its tests run: `nox -s drill5 -- --target PATH`."
                )
            summaries.append(summarise(json.loads(out.read_text())))
    return summaries


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="nox -s bench -- drill5")
    parser.add_argument(
        "--target",
        action="append",
        dest="targets",
        help="starter, solution or the folder of your copy (repeatable); "
        "default: starter and solution",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="verify the committed results and that the solution meets its targets; writes nothing",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        run_target(options.child, options.out)
        return 0
    backend, described = _backend()
    if options.check:
        problems = check_committed()
        if problems:
            print("\n".join(problems), file=sys.stderr)
            return 1
    labels = options.targets or ["starter", "solution"]
    results = {
        "backend": described,
        "command": "nox -s bench -- drill5"
        if backend == "sqlite"
        else "DATABASE_URL=postgres://... nox -s bench -- drill5",
        "timeline": TIMELINE,
        "targets": _run_children(labels),
    }
    table = render_markdown(results)
    print(table)
    missed = [
        f"{s['target']}: {m}"
        for s in results["targets"]
        if s["target"] != "starter"
        for m in meets_targets(s["figures"])
    ]
    if options.check or options.targets:
        pass  # a check or a learner's copy never overwrites the handbook's results
    else:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{backend}.json").write_text(json.dumps(results, indent=1) + "\n")
        (RESULTS / f"{backend}.md").write_text(table)
        (RESULTS / f"{backend}.svg").write_text(render_svg(results))
        print(f"Wrote results/{backend}.json, .md and .svg in {HERE.name}/.")
    if missed:
        print("Targets missed:\n  " + "\n  ".join(missed), file=sys.stderr)
        return 1
    print("Every target met: " + ", ".join(f"{k} <= {v}" for k, v in TARGETS.items()))
    return 0


def check_committed() -> list[str]:
    """The committed tables and charts must be exactly what their data renders to."""
    problems = []
    for data in sorted(RESULTS.glob("*.json")):
        results = json.loads(data.read_text())
        for suffix, render in ((".md", render_markdown), (".svg", render_svg)):
            path = data.with_suffix(suffix)
            if not path.exists() or path.read_text() != render(results):
                problems.append(
                    f"results/{path.name} is not what results/{data.name} renders to: it was "
                    "edited by hand or the renderer changed. Run `nox -s bench -- drill5` "
                    "(and again with DATABASE_URL set for PostgreSQL) and commit the results."
                )
    if not list(RESULTS.glob("*.json")):
        problems.append("results/ holds no demo data yet: run `nox -s bench -- drill5`.")
    return problems


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
