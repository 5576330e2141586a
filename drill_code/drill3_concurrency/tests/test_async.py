"""The async views under ASGI: what one slow service does to every other request.

Requests go through the target's own ASGI application (config/asgi.py), in this process,
with httpx's ASGITransport: the same handler uvicorn runs, so each request gets its own
thread for synchronous work, as in production. The carrier and the warehouse are a real
HTTP server on 127.0.0.1 in a thread of this test (`Upstream`). It can hold a request
until the test lets it go, so "B finished while A was waiting" is forced, not hoped for:
no test sleeps, and only a broken target waits for a deadline.

The views' threads use their own database connections, so these tests commit for real.
"""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest import place_order

pytestmark = pytest.mark.django_db(transaction=True)

# An answer from the shop, whose upstreams here answer at once, takes some tens of ms; one
# that has not come within the deadline is not coming. Only a broken target waits it out.
DEADLINE_SECONDS = 1
HOLD_SECONDS = 1.5  # how long the stub holds a request at most, if the test never lets go
# How long a first request may take to reach the carrier: it also loads the application
# and opens a database connection, which a slow or busy machine can stretch past the
# deadline. The wait ends the moment the request arrives, so only a target that never
# calls the carrier pays it.
ARRIVAL_BUDGET_SECONDS = 10
# The shop's own bound on an upstream call, in tests whose upstream answers: far longer than
# any answer takes, so a busy machine never turns a prompt answer into a 504. Tests of the
# bound itself set a short one.
UPSTREAM_TIMEOUT_SECONDS = 10
PRICE_CENTS = 495


class Upstream(ThreadingHTTPServer):
    """The carrier and the warehouse on one local server.

    GET /quote?postcode=HOLD is held until `release` is set (`arrived` tells the test it
    got there); postcode SILENT is accepted and never answered. Any other postcode gets a
    price at once. POST /orders is the warehouse: 200 with a reference, or 503 when
    `warehouse_down` is set; `received` keeps the orders it took.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.warehouse_down = False
        self.received: list[dict] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Upstream

    def log_message(self, format, *args):
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        postcode = parse_qs(urlsplit(self.path).query).get("postcode", [""])[0]
        if postcode == "HOLD":
            self.server.arrived.set()
            self.server.release.wait(HOLD_SECONDS)
        elif postcode == "SILENT":
            self.server.release.wait(HOLD_SECONDS)
            self.close_connection = True
            return  # the connection closes without a word
        self._answer(200, {"price_cents": PRICE_CENTS})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.server.warehouse_down:
            self._answer(503, {"detail": "maintenance"})
            return
        self.server.received.append(body)
        self._answer(200, {"reference": f"W-{body['order']}"})


@pytest.fixture
def upstream(settings):
    server = Upstream()
    # A short poll, so shutdown() returns at once (the default polls twice a second).
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    settings.CARRIER_URL = server.url
    settings.WAREHOUSE_URL = server.url
    settings.UPSTREAM_TIMEOUT_SECONDS = UPSTREAM_TIMEOUT_SECONDS
    yield server
    server.release.set()  # nothing stays held after the test
    server.shutdown()
    server.server_close()
    thread.join()


def signed_in(customer=None) -> dict:
    """Request headers that sign in as `customer` (none: anonymous). Called before the
    scenario's event loop starts: creating the session is synchronous database work."""
    from django.conf import settings
    from django.test import Client
    from django.utils.crypto import get_random_string

    if customer is None:
        return {}
    session = Client()
    session.force_login(customer)
    cookie = session.cookies[settings.SESSION_COOKIE_NAME].value
    # A browser sends the CSRF cookie back in a header; the POSTs need it, as in production.
    csrf = get_random_string(32)
    return {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}; {settings.CSRF_COOKIE_NAME}={csrf}",
        "X-CSRFToken": csrf,
    }


def asgi_client(headers: dict) -> httpx.AsyncClient:
    """An HTTP client to the target's ASGI application, `uvicorn config.asgi:application`."""
    from config.asgi import application

    transport = httpx.ASGITransport(app=application)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


def run(scenario):
    """Run one scenario on an event loop of its own; the loop is gone when it returns."""
    return asyncio.run(scenario)


def quote(client: httpx.AsyncClient, sku: str, postcode: str):
    return client.get(f"/api/products/{sku}/shipping-quote/", params={"postcode": postcode})


# -- shipping quotes ------------------------------------------------------------------


def test_a_quote_is_the_carriers_price(upstream, make_customer, make_product):
    ada = signed_in(make_customer("ada"))
    make_product("lamp", stock=5)

    async def scenario():
        async with asgi_client(ada) as client:
            return await quote(client, "lamp", "EC1A 1BB")

    response = run(scenario())
    assert response.status_code == 200, response.text
    assert response.json() == {"product": "lamp", "postcode": "EC1A 1BB", "price_cents": 495}


@pytest.mark.parametrize(
    ("logged_in", "sku", "postcode", "status"),
    [
        pytest.param(False, "lamp", "EC1A 1BB", 403, id="anonymous"),
        pytest.param(True, "lamp", "", 400, id="no-postcode"),
        pytest.param(True, "lamp", "x" * 500, 400, id="postcode-too-long"),
        pytest.param(True, "nope", "EC1A 1BB", 404, id="unknown-product"),
    ],
)
def test_a_bad_quote_request_is_refused(
    logged_in, sku, postcode, status, upstream, make_customer, make_product
):
    headers = signed_in(make_customer("ada") if logged_in else None)
    make_product("lamp", stock=5)

    async def scenario():
        async with asgi_client(headers) as client:
            return await quote(client, sku, postcode)

    assert run(scenario()).status_code == status


# --8<-- [start:held-quote]
@pytest.mark.flaw("D3-F11")
def test_a_slow_carrier_does_not_stall_other_requests(
    upstream, settings, make_customer, make_product
):
    """Quote A waits on the carrier; quote B, for another product, must not wait for A.

    On the event loop, a view that awaits the network lets the loop serve B meanwhile.
    A view that blocks (a synchronous HTTP client, time.sleep) holds the whole loop: B
    cannot even start until A's call returns."""
    # A's own bound must not end the wait before the test does, however slow the machine.
    settings.UPSTREAM_TIMEOUT_SECONDS = HOLD_SECONDS + 1
    ada, bob = signed_in(make_customer("ada")), signed_in(make_customer("bob"))
    make_product("lamp", stock=5)
    make_product("desk", stock=5)

    async def scenario():
        async with asgi_client(ada) as a_client, asgi_client(bob) as b_client:
            a = asyncio.ensure_future(quote(a_client, "lamp", "HOLD"))
            # Wait (off the loop) until A is held at the carrier.
            arrived = await asyncio.to_thread(upstream.arrived.wait, ARRIVAL_BUDGET_SECONDS)
            assert arrived, "precondition: quote A never reached the carrier"
            try:
                b = await asyncio.wait_for(quote(b_client, "desk", "EC1A 1BB"), DEADLINE_SECONDS)
            except TimeoutError:
                b = None
            a_was_waiting = not a.done()
            upstream.release.set()
            return await asyncio.wait_for(a, DEADLINE_SECONDS), b, a_was_waiting

    a, b, a_was_waiting = run(scenario())
    stalled = (
        "a quote for another product could not be answered while the carrier held the "
        "first one: the first request blocked the event loop, so every other request on "
        "it waited"
    )
    assert b is not None, stalled
    assert a_was_waiting, stalled
    assert b.status_code == 200, b.text
    assert a.status_code == 200, a.text


# --8<-- [end:held-quote]


@pytest.mark.flaw("D3-F12")
def test_a_carrier_that_never_answers_gets_a_clear_504_in_time(
    upstream, settings, make_customer, make_product
):
    settings.UPSTREAM_TIMEOUT_SECONDS = 0.2
    ada = signed_in(make_customer("ada"))
    make_product("lamp", stock=5)

    async def scenario():
        async with asgi_client(ada) as client:
            try:
                return await asyncio.wait_for(quote(client, "lamp", "SILENT"), DEADLINE_SECONDS)
            except TimeoutError:
                return None

    response = run(scenario())
    assert response is not None, (
        f"the carrier accepted the connection and said nothing, and after "
        f"{DEADLINE_SECONDS} s the shop had not answered either (UPSTREAM_TIMEOUT_SECONDS "
        "is 0.2): the customer waits as long as the carrier does"
    )
    assert response.status_code == 504, (
        f"the carrier did not answer and the shop said {response.status_code} "
        f"{response.text}: a gateway timeout is a 504 with a message, not a server error"
    )
    assert "carrier" in response.json()["detail"]


# -- order status ---------------------------------------------------------------------


@pytest.mark.flaw("D3-F14")
def test_the_order_status_names_the_product(make_customer, make_product):
    ada = make_customer("ada")
    make_product("lamp", stock=5)
    order = place_order(ada, "lamp", quantity=2).data
    headers = signed_in(ada)

    async def scenario():
        async with asgi_client(headers) as client:
            return await client.get(f"/api/orders/{order['id']}/status/")

    response = run(scenario())
    assert response.status_code == 200, (
        f"GET /api/orders/<id>/status/ answered {response.status_code}: an async view that "
        "touches a relation Django has not loaded runs a query synchronously, which Django "
        "refuses on the event loop (SynchronousOnlyOperation)"
    )
    assert response.json() == {
        "id": order["id"],
        "status": "placed",
        "product": "lamp",
        "quantity": 2,
    }


@pytest.mark.flaw("D3-F14")
def test_the_order_status_answers_djangos_own_async_client(make_customer, make_product):
    """The same view through django.test.AsyncClient, which a project's own async tests
    use: it runs every request's synchronous work on one shared thread (the real handler
    gives each request its own), which does not matter to a view that only reads."""
    from asgiref.sync import sync_to_async
    from django.db import connections
    from django.test import AsyncClient

    ada = make_customer("ada")
    make_product("lamp", stock=5)
    order = place_order(ada, "lamp").data

    async def scenario():
        client = AsyncClient(raise_request_exception=False)
        try:
            await client.aforce_login(ada)
            return await client.get(f"/api/orders/{order['id']}/status/")
        finally:
            # The shared thread's connection, closed there, so the test database can go.
            await sync_to_async(connections.close_all)()

    response = run(scenario())
    assert response.status_code == 200, (
        f"GET /api/orders/<id>/status/ answered {response.status_code} through AsyncClient: "
        "a relation Django has not loaded is a synchronous query on the event loop"
    )
    assert response.json()["product"] == "lamp"


def test_another_customers_order_status_is_not_found(make_customer, make_product):
    ada, eve = make_customer("ada"), make_customer("eve")
    make_product("lamp", stock=5)
    order = place_order(ada, "lamp").data
    eve_headers = signed_in(eve)

    async def scenario():
        async with asgi_client(eve_headers) as client, asgi_client({}) as anonymous:
            path = f"/api/orders/{order['id']}/status/"
            return await client.get(path), await anonymous.get(path)

    theirs, anonymous = run(scenario())
    assert (theirs.status_code, anonymous.status_code) == (404, 403)


# -- notifying the warehouse ----------------------------------------------------------


def notify(customer, order_id):
    headers = signed_in(customer)

    async def scenario():
        async with asgi_client(headers) as client:
            return await client.post(f"/api/orders/{order_id}/notify-warehouse/")

    return run(scenario())  # the loop, and anything still running on it, is gone here


@pytest.mark.flaw("D3-F13")
def test_the_warehouse_has_the_order_when_the_answer_says_so(upstream, make_customer, make_product):
    ada = make_customer("ada")
    make_product("lamp", stock=5)
    order = place_order(ada, "lamp", quantity=2).data
    response = notify(ada, order["id"])
    assert response.status_code == 200, (
        f"the shop answered {response.status_code} {response.text}: the request's event "
        "loop is gone now, and work left running on it (asyncio.create_task) may never "
        "finish. Answer once the warehouse has the order, with its reference"
    )
    assert response.json() == {"id": order["id"], "warehouse_reference": f"W-{order['id']}"}
    assert upstream.received == [{"order": order["id"], "sku": "lamp", "quantity": 2}]


@pytest.mark.flaw("D3-F13")
def test_a_warehouse_outage_is_not_reported_as_success(upstream, make_customer, make_product):
    upstream.warehouse_down = True
    ada = make_customer("ada")
    make_product("lamp", stock=5)
    order = place_order(ada, "lamp").data
    response = notify(ada, order["id"])
    assert response.status_code == 502, (
        f"the warehouse refused the order (503) and the shop answered "
        f"{response.status_code} {response.text}: the customer believes the order is on "
        "its way, and the failure is at best a log line nobody reads"
    )
    assert "warehouse" in response.json()["detail"]


def test_only_the_customers_live_orders_go_to_the_warehouse(upstream, make_customer, make_product):
    ada, eve = make_customer("ada"), make_customer("eve")
    make_product("lamp", stock=5)
    order = place_order(ada, "lamp").data
    assert notify(eve, order["id"]).status_code == 404
    assert notify(None, order["id"]).status_code == 403
    from shop.models import Order

    Order.objects.filter(pk=order["id"]).update(status="cancelled")
    assert notify(ada, order["id"]).status_code == 404
    assert upstream.received == []
