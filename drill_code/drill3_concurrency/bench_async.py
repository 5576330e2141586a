"""Drill 3's async demonstration: fifty shipping quotes at once while the carrier is slow.

    nox -s bench -- drill3 --part async            both targets, written to results/
    nox -s bench -- drill3 --part async --check    rerun, and check the claims in results/

Each target runs in a subprocess of its own, with a fresh database, served by uvicorn
(`config.asgi:application`, as in production) on a local port. A local carrier answers
every quote after a fixed delay; `REQUESTS` clients, each signed in, ask for a quote at
the same moment, and the latency of each answer is measured from the client's side.

Why uvicorn: Django's deployment docs name three ASGI servers (Daphne, Hypercorn and
Uvicorn). Uvicorn is the one that runs in a thread of this process from Python
(`uvicorn.Server`) on a socket we bind, with no process manager and nothing to install
beyond a pure-Python wheel; the other two would need a subprocess per target, or their
own event-loop plumbing, for the same measurement.
https://docs.djangoproject.com/en/5.2/howto/deployment/asgi/
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# --8<-- [start:async-load]
REQUESTS = 50  # concurrent quote requests, one client each
CARRIER_DELAY_SECONDS = 0.2  # the carrier's fixed time to answer a quote
# --8<-- [end:async-load]
CLIENT_DEADLINE_SECONDS = 120

# (key in the figures, label in the table)
ROWS = [
    ("requests", "Quote requests sent at once"),
    ("ok", "Answered 200"),
    ("p50_ms", "Latency p50 (ms)"),
    ("p99_ms", "Latency p99 (ms)"),
    ("max_ms", "Latency max (ms)"),
    ("wall_seconds", "Wall time for all (s)"),
]


class _SlowCarrier(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # every client connects at once: no refused or retried SYN


class _CarrierHandler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def do_GET(self):
        time.sleep(CARRIER_DELAY_SECONDS)  # the carrier's own thread, not the shop's
        body = json.dumps({"price_cents": 495}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(server_factory) -> threading.Thread:
    thread = threading.Thread(target=server_factory, daemon=True)
    thread.start()
    return thread


def _percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with `share` of them at or below."""
    ordered = sorted(values)
    return ordered[max(0, round(share * len(ordered) + 0.5) - 1)]


async def _fire(port: int, headers: dict, count: int) -> tuple[list[float], list[int], float]:
    import httpx

    limits = httpx.Limits(max_connections=count, max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers=headers,
        limits=limits,
        timeout=CLIENT_DEADLINE_SECONDS,
    ) as client:

        async def one(index: int) -> tuple[float, int]:
            started = time.perf_counter()
            response = await client.get(
                "/api/products/lamp/shipping-quote/", params={"postcode": f"PC{index:03d}"}
            )
            return time.perf_counter() - started, response.status_code

        started = time.perf_counter()
        done = await asyncio.gather(*(one(i) for i in range(count)))
        wall = time.perf_counter() - started
    return [d for d, _ in done], [s for _, s in done], wall


def run_target(target_spec: str, prepare_database) -> dict:
    """Inside one target's process: serve it with uvicorn, send the quotes, measure."""
    with tempfile.TemporaryDirectory(prefix="drill3-async-bench-") as tmp:
        database = prepare_database(target_spec, Path(tmp))
        import uvicorn
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client
        from shop.models import Product

        carrier = _SlowCarrier(("127.0.0.1", 0), _CarrierHandler)
        _serve(carrier.serve_forever)
        settings.CARRIER_URL = f"http://127.0.0.1:{carrier.server_address[1]}"
        settings.UPSTREAM_TIMEOUT_SECONDS = CLIENT_DEADLINE_SECONDS

        Product.objects.create(sku="lamp", name="Lamp", price_cents=1_000, stock=5)
        customer = get_user_model().objects.create_user("ada", "ada@example.com")
        browser = Client()
        browser.force_login(customer)
        cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
        headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}

        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        config = uvicorn.Config(
            "config.asgi:application", lifespan="off", log_level="warning", backlog=256
        )
        server = uvicorn.Server(config)
        _serve(lambda: server.run(sockets=[listener]))
        deadline = time.monotonic() + 30
        while not server.started:  # uvicorn sets it once it accepts connections
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start within 30 s")
            time.sleep(0.01)
        try:
            latencies, statuses, wall = asyncio.run(_fire(port, headers, REQUESTS))
        finally:
            server.should_exit = True
            carrier.shutdown()
        connection.close()
        if connection.vendor == "postgresql":
            connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
    return {
        "target": target_spec,
        "database": database,
        "requests": len(statuses),
        "ok": statuses.count(200),
        "p50_ms": round(statistics.median(latencies) * 1000),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000),
        "max_ms": round(max(latencies) * 1000),
        "wall_seconds": round(wall, 2),
    }


def claims(runs: dict[str, dict]) -> list[str]:
    """What the page says about these figures; each broken claim is one message."""
    starter, solution = runs["starter"], runs["solution"]
    broken = [
        f"the {name} answered {run['ok']} of {run['requests']} quotes with 200"
        for name, run in runs.items()
        if run["ok"] != run["requests"]
    ]
    serial = starter["requests"] * CARRIER_DELAY_SECONDS
    if starter["wall_seconds"] < 0.8 * serial:
        broken.append(
            f"the starter answered all quotes in {starter['wall_seconds']} s, under 80% of "
            f"the {serial:g} s one-at-a-time takes: it no longer serialises them"
        )
    if solution["p99_ms"] * 4 > starter["p99_ms"]:
        broken.append(
            f"the solution's p99 ({solution['p99_ms']} ms) is not under a quarter of the "
            f"starter's ({starter['p99_ms']} ms)"
        )
    return broken


def report(runs: dict[str, dict], measured_on: str) -> str:
    from drillkit.benchkit import markdown_table

    starter, solution = runs["starter"], runs["solution"]
    rows = [[label, *(f"{runs[t][key]:,}" for t in ("starter", "solution"))] for key, label in ROWS]
    ratio = starter["p99_ms"] / max(solution["p99_ms"], 1)
    return (
        f"{REQUESTS} shipping quotes sent at once to each target served by uvicorn, on "
        f"{starter['database']}; the carrier answers each after "
        f"{CARRIER_DELAY_SECONDS * 1000:g} ms. Measured {measured_on} by "
        f"`nox -s bench -- drill3 --part async`.\n\n"
        f"{markdown_table(['', 'Starter', 'Solution'], rows)}\n\n"
        f"The solution's p99 latency is {ratio:.0f} times shorter than the starter's.\n"
    )
