"""Drill 3's demonstration: many customers order at once, against the starter and the solution.

    nox -s bench -- drill3                        50 clients x 20 orders, both targets
    nox -s bench -- drill3 --target workspace/drill3   your copy against the solution
    nox -s bench -- drill3 --clients 10 --ops 5   a smaller run (not written to results/)
    nox -s bench -- drill3 --check                rerun, and check the claims in results/
    nox -s bench -- drill3 --part async           the async views only (bench_async.py)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test nox -s bench -- drill3

Each target runs in a subprocess of its own (each is its own Django project) with a fresh
database: a `bench_drill3_<target>` database on PostgreSQL, a temporary file on SQLite.
Only the starter-against-solution run at the default size is written to results/; a run
of your copy is printed, with the damage it shows, and compared with the solution's.
Every client is a thread with its own database connection, sending POST /api/orders/
through DRF's APIClient. Clients come in pairs, two sessions of one customer, and every
fourth order is double-submitted: both sessions send it at the same moment with the same
Idempotency-Key. Stock and wallets are set so that both run out during the run.

Nothing here forces an interleaving (the tests do that); this is what plain load does.
Afterwards the database is checked against the shop's invariants. Task messages go to
Celery's in-memory transport and are counted, not run: the bench measures the requests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
DRILL_CODE = HERE.parent
RESULTS = HERE / "results"
TARGETS = ("starter", "solution")
# --8<-- [start:load]
DEFAULT_CLIENTS, DEFAULT_OPS = 50, 20  # concurrent clients, orders each
PRODUCTS, STOCK_PER_PRODUCT, PRICE_CENTS = 5, 100, 1_000
BUDGET_ORDERS = 25  # each customer can afford this many orders
DOUBLE_SUBMIT_EVERY = 4  # this often, both sessions of a customer send one order at once
# --8<-- [end:load]
WAIT_SECONDS = 120

if str(DRILL_CODE) not in sys.path:
    sys.path.insert(0, str(DRILL_CODE))

from drillkit.benchkit import markdown_table  # noqa: E402
from drillkit.errors import DrillError  # noqa: E402
from drillkit.targets import BUILT_IN  # noqa: E402

sys.path.insert(0, str(HERE))
import bench_async  # noqa: E402  (the async part: shipping quotes under uvicorn)

# (key in the figures, label in the table). Requests first, then what went wrong.
ROWS = [
    ("requests", "Requests sent"),
    ("created", "Orders created (201)"),
    ("replayed", "Double submits answered with the first order (200)"),
    ("out_of_stock", "Refused: out of stock (409)"),
    ("declined", "Refused: balance too low (402)"),
    ("errors", "Errors (500 or database error)"),
    ("oversold_units", "Units sold beyond the stock"),
    ("lost_stock_updates", "Stock decrements lost (units)"),
    ("lost_charges", "Wallet charges lost"),
    ("overdrawn_wallets", "Wallets overdrawn"),
    ("duplicate_orders", "Duplicate orders (same Idempotency-Key)"),
    ("orphan_confirmations", "Confirmations queued for orders that do not exist"),
    ("invariant_violations", "Invariant violations"),
    ("throughput", "Throughput (requests/s)"),
    ("seconds", "Wall time (s)"),
]
# Must be zero for the solution, and the starter must break at least one of them.
DAMAGE = [
    "oversold_units",
    "lost_stock_updates",
    "lost_charges",
    "overdrawn_wallets",
    "duplicate_orders",
    "orphan_confirmations",
    "invariant_violations",
]


# -- the run inside one target's process -----------------------------------------------


def _prepare_database(target_spec: str, tmp: Path) -> str:
    """Point this process at a fresh database; return a description of it."""
    from drillkit.backends import database_url, is_postgres

    if not is_postgres(database_url()):
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    # The tests' broker is not the bench's: its messages are counted here, not consumed.
    os.environ["CELERY_BROKER_URL"] = "memory://localhost/"
    from drillkit.catalog import get_drill
    from drillkit.targets import activate, resolve_target

    activate(resolve_target(get_drill("drill3"), target_spec))
    label = target_spec if target_spec in BUILT_IN else "copy"
    os.environ["DRILLKIT_TEST_DATABASE"] = f"bench_drill3_{label}"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        major, minor = divmod(connection.pg_version, 10_000)
        return f"PostgreSQL {major}.{minor}"
    # SQLite has one writer at a time. A deferred transaction that reads and then writes
    # fails at once with "database is locked" when another holds the write lock; IMMEDIATE
    # transactions queue for the lock instead. So on SQLite every atomic() block runs
    # alone, and only the races that read outside the transaction can show.
    connection.settings_dict["OPTIONS"].update(timeout=60, transaction_mode="IMMEDIATE")
    call_command("migrate", verbosity=0)
    return "SQLite (a file, one writer at a time)"


def _stock_the_shop(customers: int):
    from django.contrib.auth import get_user_model
    from shop.models import Product, Wallet

    products = [
        Product.objects.create(
            sku=f"sku-{n}", name=f"Item {n}", price_cents=PRICE_CENTS, stock=STOCK_PER_PRODUCT
        )
        for n in range(PRODUCTS)
    ]
    people = []
    for n in range(customers):
        person = get_user_model().objects.create_user(f"customer{n}", f"c{n}@example.com")
        Wallet.objects.create(customer=person, balance_cents=BUDGET_ORDERS * PRICE_CENTS)
        people.append(person)
    return products, people


def _load(people, skus: list[str], clients: int, ops: int) -> tuple[Counter, float]:
    from django.db import connection
    from rest_framework.test import APIClient

    statuses: Counter = Counter()
    counted = threading.Lock()
    start_line = threading.Barrier(clients + 1)
    pairs = [threading.Barrier(2) for _ in people]

    def client(index: int) -> None:
        customer_index, session = divmod(index, 2)
        customer = people[customer_index]
        api = APIClient()
        api.force_authenticate(customer)
        own = random.Random(index)
        try:
            start_line.wait(WAIT_SECONDS)
            for op in range(ops):
                double_submit = op % DOUBLE_SUBMIT_EVERY == DOUBLE_SUBMIT_EVERY - 1
                if double_submit:
                    sku = random.Random(f"{customer_index}-{op}").choice(skus)
                    key = f"{customer_index}-{op}"
                    pairs[customer_index].wait(WAIT_SECONDS)  # both sessions send it now
                else:
                    sku = own.choice(skus)
                    key = f"{customer_index}-{session}-{op}"
                try:
                    status = api.post(
                        "/api/orders/",
                        {"product": sku, "quantity": 1},
                        format="json",
                        headers={"Idempotency-Key": key},
                    ).status_code
                except Exception as exc:  # a database error escaping the view is a 500
                    status = type(exc).__name__
                with counted:
                    statuses[status] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start_line.wait(WAIT_SECONDS)
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return statuses, time.perf_counter() - started


def _audit(products, people, published: list[int]) -> dict:
    """Compare the database with what the requests should have left behind."""
    from django.db.models import Count, Sum
    from shop.models import Order, Product, Wallet

    orders = Order.objects.exclude(status="cancelled")
    sold = dict(orders.values_list("product").annotate(n=Sum("quantity")))
    spent = dict(orders.values_list("customer").annotate(n=Sum("total_cents")))
    figures = Counter()
    for product in Product.objects.all():
        units = sold.get(product.pk, 0)
        figures["oversold_units"] += max(0, units - STOCK_PER_PRODUCT)
        unaccounted = abs(STOCK_PER_PRODUCT - units - product.stock)
        figures["lost_stock_updates"] += unaccounted
        figures["invariant_violations"] += bool(unaccounted or product.stock < 0)
    opening = BUDGET_ORDERS * PRICE_CENTS
    for wallet in Wallet.objects.all():
        expected = opening - spent.get(wallet.customer_id, 0)
        figures["lost_charges"] += max(0, wallet.balance_cents - expected) // PRICE_CENTS
        figures["overdrawn_wallets"] += wallet.balance_cents < 0
        figures["invariant_violations"] += wallet.balance_cents != expected or expected < 0
    duplicates = (
        Order.objects.values("customer", "idempotency_key").annotate(n=Count("id")).filter(n__gt=1)
    )
    for group in duplicates:
        figures["duplicate_orders"] += group["n"] - 1
        figures["invariant_violations"] += 1
    # One confirmation per committed order; any other message is for an order that rolled
    # back. (SQLite reuses a rolled-back row's id, so count extra messages per id too.)
    committed = set(Order.objects.values_list("pk", flat=True))
    per_order = Counter(published)
    orphans = sum(n if order_id not in committed else n - 1 for order_id, n in per_order.items())
    figures["orphan_confirmations"] = orphans
    figures["invariant_violations"] += orphans
    return {key: int(figures[key]) for key in DAMAGE}


def run_target(target_spec: str, clients: int, ops: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="drill3-bench-") as tmp:
        database = _prepare_database(target_spec, Path(tmp))
        from celery.signals import before_task_publish
        from django.db import connection

        published: list[int] = []

        def record(body=None, **_):
            args = body[0]
            published.append(getattr(args[0], "pk", args[0]) if args else None)

        before_task_publish.connect(record, weak=False)
        products, people = _stock_the_shop(customers=(clients + 1) // 2)
        statuses, seconds = _load(people, [p.sku for p in products], clients, ops)
        figures = _audit(products, people, published)
        if connection.vendor == "postgresql":
            connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
    requests = sum(statuses.values())
    return {
        "target": target_spec,
        "database": database,
        "requests": requests,
        "created": statuses[201],
        "replayed": statuses[200],
        "out_of_stock": statuses[409],
        "declined": statuses[402],
        "errors": requests - sum(statuses[s] for s in (200, 201, 402, 409)),
        "error_kinds": {str(k): v for k, v in statuses.items() if k not in (200, 201, 402, 409)},
        **figures,
        "throughput": round(requests / seconds),
        "seconds": round(seconds, 2),
    }


# -- the parent: one subprocess per target, then the table -------------------------------


def _measure(target, clients: int, ops: int) -> dict:
    """Run one target (a drillkit Target) in a subprocess; return its figures."""
    spec = target.label if target.label in BUILT_IN else str(target.path)
    path = os.pathsep.join(filter(None, [str(DRILL_CODE), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    command = [sys.executable, __file__, "--run-target", spec]
    command += ["--clients", str(clients), "--ops", str(ops)]
    print(f"  {target.label}: {clients} clients x {ops} orders ...", flush=True)
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise DrillError(
            f"The {target.label} run of the bench failed: {lines[-1] if lines else 'no output'}. "
            f"Run `python {__file__} --run-target {spec}` with PYTHONPATH=drill_code "
            "to see the whole error."
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure_async(target) -> dict:
    """Serve one built-in target under uvicorn in a subprocess; return its figures."""
    path = os.pathsep.join(filter(None, [str(DRILL_CODE), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    command = [sys.executable, __file__, "--run-async-target", target.label]
    print(f"  {target.label}: {bench_async.REQUESTS} quotes at once under uvicorn ...", flush=True)
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise DrillError(
            f"The {target.label} run of the async bench failed: "
            f"{lines[-1] if lines else 'no output'}. Run `python {__file__} "
            f"--run-async-target {target.label}` with PYTHONPATH=drill_code to see it all."
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _async_part(check: bool) -> int:
    """The async views' latency under uvicorn: starter against solution, results/."""
    from drillkit.catalog import get_drill
    from drillkit.targets import resolve_target

    drill = get_drill("drill3")
    runs = {t: _measure_async(resolve_target(drill, t)) for t in TARGETS}
    report = bench_async.report(runs, f"{datetime.now(UTC):%Y-%m-%d}")
    print("\n" + report)
    broken = bench_async.claims(runs)
    slug = _backend_slug()
    markdown = RESULTS / f"async-latency-{slug}.md"
    data = RESULTS / f"async-latency-{slug}.json"
    if check:
        if not data.is_file():
            broken.append(f"{data.name} is missing: run `nox -s bench -- drill3` to write it")
        else:
            saved = json.loads(data.read_text(encoding="utf-8"))
            broken += [f"in {data.name}, {claim}" for claim in bench_async.claims(saved["runs"])]
        if broken:
            print(
                "The async bench's claims do not hold: " + "; ".join(broken) + ".", file=sys.stderr
            )
            return 1
        print(f"The claims in results/{markdown.name} hold on a fresh run.")
        return 0
    RESULTS.mkdir(exist_ok=True)
    markdown.write_text(report, encoding="utf-8")
    settings = {
        "requests": bench_async.REQUESTS,
        "carrier_delay_seconds": bench_async.CARRIER_DELAY_SECONDS,
    }
    data.write_text(json.dumps({**settings, "runs": runs}, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote results/{markdown.name} and results/{data.name}.")
    if broken:
        print("Warning: " + "; ".join(broken) + ".", file=sys.stderr)
        return 1
    return 0


def _backend_slug() -> str:
    from drillkit.backends import database_url, is_postgres

    return "postgresql" if is_postgres(database_url()) else "sqlite"


def _table(runs: dict[str, dict], base: str = "starter", heading: str = "Starter") -> str:
    """The figures side by side: `base` (the starter or a copy) and the solution."""
    columns = (base, "solution")
    rows = [[label, *(f"{runs[c][key]:,}" for c in columns)] for key, label in ROWS]
    return markdown_table(["", heading, "Solution"], rows)


def _report(runs: dict[str, dict], clients: int, ops: int) -> str:
    starter, solution = runs["starter"], runs["solution"]
    ratio = solution["throughput"] / max(starter["throughput"], 1)
    return (
        f"{clients} concurrent clients x {ops} orders each ({starter['requests']:,} requests "
        f"per target) on {starter['database']}, measured {datetime.now(UTC):%Y-%m-%d} by "
        f"`nox -s bench -- drill3`.\n\n{_table(runs)}\n\n"
        f"The solution's throughput is {ratio:.2f} times the starter's.\n"
    )


def _copy_report(runs: dict[str, dict], label: str, clients: int, ops: int) -> str:
    """The table for a learner's copy, and what it shows: no file is written."""
    copy, solution = runs[label], runs["solution"]
    damage = [
        f"{title.lower()}: {copy[key]:,}" for key, title in ROWS if key in DAMAGE and copy[key]
    ]
    if copy["errors"]:
        damage.append(f"errors: {copy['errors']:,} ({copy['error_kinds']})")
    verdict = (
        "Your copy broke no invariant and raised no error under this load. Load alone does "
        "not prove a race is gone: the tests, which force the interleavings, do that."
        if not damage
        else "Your copy shows damage under this load: " + "; ".join(damage) + "."
    )
    ratio = copy["throughput"] / max(solution["throughput"], 1)
    return (
        f"{clients} concurrent clients x {ops} orders each ({copy['requests']:,} requests "
        f"per target) on {copy['database']}: {label} against the solution.\n\n"
        f"{_table(runs, base=label, heading='Your copy')}\n\n"
        f"{verdict}\nYour copy's throughput is {ratio:.2f} times the solution's.\n"
    )


def _claims(runs: dict[str, dict]) -> list[str]:
    """What the page says about these figures; each broken claim is one message."""
    starter, solution = runs["starter"], runs["solution"]
    broken = [
        f"the solution shows {solution[key]} for {key.replace('_', ' ')}, not 0"
        for key in [*DAMAGE, "errors"]
        if solution[key]
    ]
    if not starter["invariant_violations"]:
        broken.append("the starter broke no invariant: the load is too light to show its races")
    if solution["throughput"] * 2 < starter["throughput"]:
        broken.append(
            f"the solution's throughput ({solution['throughput']}/s) is under half the "
            f"starter's ({starter['throughput']}/s)"
        )
    return broken


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="nox -s bench -- drill3")
    parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS, help="concurrent clients")
    parser.add_argument("--ops", type=int, default=DEFAULT_OPS, help="orders per client")
    parser.add_argument(
        "--target",
        default="starter",
        help="starter (default) or your copy's folder, run against the solution",
    )
    parser.add_argument(
        "--check", action="store_true", help="rerun and fail if the results' claims do not hold"
    )
    parser.add_argument(
        "--part",
        choices=["orders", "async", "all"],
        default="all",
        help="orders (the race bench), async (quotes under uvicorn) or all (default)",
    )
    parser.add_argument("--run-target", help=argparse.SUPPRESS)  # inside one target's process
    parser.add_argument("--run-async-target", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.run_async_target:
        print(json.dumps(bench_async.run_target(options.run_async_target, _prepare_database)))
        return 0
    if options.clients < 2 or options.clients % 2 or not 1 <= options.ops <= 1000:
        raise DrillError(
            f"--clients {options.clients} --ops {options.ops} cannot run: clients come in "
            "pairs (two sessions per customer), so give an even number of at least 2, and "
            "between 1 and 1000 orders per client. The default is --clients 50 --ops 20."
        )
    if options.run_target:
        figures = run_target(options.run_target, options.clients, options.ops)
        print(json.dumps(figures))
        return 0

    from drillkit.backends import check_reachable, database_url, describe
    from drillkit.catalog import get_drill
    from drillkit.targets import resolve_target

    drill = get_drill("drill3")
    base = resolve_target(drill, options.target)
    if options.part != "orders" and not base.is_starter:
        raise DrillError(
            "The async part runs the starter against the solution only; add --part orders "
            "to measure your copy, or run your copy's tests: they prove the async flaws."
        )
    if options.part == "async":
        check_reachable()
        print(f"Drill 3 async bench on {describe(database_url())}:")
        return _async_part(options.check)
    if options.check and not base.is_starter:
        raise DrillError(
            "--check reruns the starter against the solution and checks results/; drop "
            "--target to run it, or drop --check to measure your copy."
        )
    check_reachable()
    print(f"Drill 3 bench on {describe(database_url())}:")
    if not base.is_starter:
        runs = {
            base.label: _measure(base, options.clients, options.ops),
            "solution": _measure(resolve_target(drill, "solution"), options.clients, options.ops),
        }
        print("\n" + _copy_report(runs, base.label, options.clients, options.ops))
        print("(Not written to results/: only the starter against the solution is.)")
        return 0
    runs = {t: _measure(resolve_target(drill, t), options.clients, options.ops) for t in TARGETS}
    report = _report(runs, options.clients, options.ops)
    print("\n" + report)
    broken = _claims(runs)
    default_size = (options.clients, options.ops) == (DEFAULT_CLIENTS, DEFAULT_OPS)
    slug = _backend_slug()
    markdown, data = RESULTS / f"bench-{slug}.md", RESULTS / f"bench-{slug}.json"
    if options.check:
        if not data.is_file():
            broken.append(f"{data.name} is missing: run `nox -s bench -- drill3` to write it")
        else:
            saved = json.loads(data.read_text(encoding="utf-8"))
            if (saved["clients"], saved["ops"]) != (DEFAULT_CLIENTS, DEFAULT_OPS):
                broken.append(f"{data.name} was not measured at the default size")
            broken += [f"in {data.name}, {claim}" for claim in _claims(saved["runs"])]
        if broken:
            print("The bench's claims do not hold: " + "; ".join(broken) + ".", file=sys.stderr)
            return 1
        print(f"The claims in results/bench-{slug}.md hold on a fresh run.")
        return _async_part(check=True) if options.part == "all" else 0
    if not default_size:
        print("(Not written to results/: only the default size is.)")
    else:
        RESULTS.mkdir(exist_ok=True)
        markdown.write_text(report, encoding="utf-8")
        data.write_text(
            json.dumps({"clients": options.clients, "ops": options.ops, "runs": runs}, indent=2)
            + "\n",
            encoding="utf-8",
        )
        print(f"Wrote results/{markdown.name} and results/{data.name}.")
    if broken:
        print("Warning: " + "; ".join(broken) + ".", file=sys.stderr)
        return 1
    return _async_part(check=False) if options.part == "all" and default_size else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
