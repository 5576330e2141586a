"""Adversarial tests of the shop's API beyond the planted flaws (OWASP API Top 10, 2023).

Not tied to a flaw: they pass on the starter and on the solution, and a copy must keep
passing them. Each table below is one guard, checked row by row in one test (one shop to
set up, not one per row); a failure lists every row that broke.

- API1 object-level authorisation: every route and method, as another customer;
- API2 authentication: every route and method, signed out;
- API3 property-level authorisation: fields a client may not set, fields it may not see;
- API4 unrestricted resource consumption: quantities, keys, strings, bodies, page sizes;
- API8 no server error, and nothing stored, for malformed input.
"""

import uuid

import pytest
from conftest import BALANCE_CENTS, PRICE_CENTS, client_for, place_order
from rest_framework.test import APIClient

from drillkit.fixtures import past_the_upload_limit

ORDER_FIELDS = {"id", "product", "quantity", "total_cents", "status", "created_at"}
PAGE_SIZE_CAP = 100  # whatever the page size, one response never lists more than this

# (method, route): every route and method the API offers.
ROUTES = [
    ("get", "/api/orders/"),
    ("post", "/api/orders/"),
    ("get", "/api/orders/{id}/"),
    ("post", "/api/orders/{id}/cancel/"),
    ("get", "/api/wallet/"),
]
# (method, route) on one order: a stranger gets 404 (it learns nothing, not even that the
# order exists), or 405 for a method the API does not offer.
ONE_ORDER = [
    ("get", "/api/orders/{id}/"),
    ("post", "/api/orders/{id}/cancel/"),
    ("put", "/api/orders/{id}/"),
    ("patch", "/api/orders/{id}/"),
    ("delete", "/api/orders/{id}/"),
]
NOT_OFFERED = [
    ("put", "/api/orders/"),
    ("delete", "/api/orders/"),
    ("get", "/api/orders/{id}/cancel/"),
    ("post", "/api/wallet/"),
    ("put", "/api/wallet/"),
    ("patch", "/api/wallet/"),
]
# field -> a value a client might try to set; the server owns every one of them.
SERVER_OWNED = {
    "status": "confirmed",
    "total_cents": 1,
    "customer": "ada",  # replaced by Ada's id
    "id": 10**6,
    "created_at": "2000-01-01T00:00:00Z",
    "idempotency_key": "someone-elses",
}
BAD_ORDERS = {
    "quantity zero": {"product": "lamp", "quantity": 0},
    "quantity negative": {"product": "lamp", "quantity": -1},
    "quantity over 100": {"product": "lamp", "quantity": 101},
    "quantity past bigint": {"product": "lamp", "quantity": 2**63},
    "quantity fraction": {"product": "lamp", "quantity": 1.5},
    "quantity text": {"product": "lamp", "quantity": "many"},
    "quantity null": {"product": "lamp", "quantity": None},
    "quantity missing": {"product": "lamp"},
    "product empty": {"product": "", "quantity": 1},
    "product huge": {"product": "x" * 10_000, "quantity": 1},
    "product a list": {"product": ["lamp"], "quantity": 1},
    "product unknown": {"product": "nope", "quantity": 1},
    "array body": [{"product": "lamp", "quantity": 1}],
    "string body": "lamp",
}
UNREADABLE_BODIES = {
    "cut JSON": ("application/json", b'{"product": "lamp", "quantity": '),
    "not UTF-8": ("application/json", b'{"product": "\xff\xfe", "quantity": 1}'),
    "empty": ("application/json", b""),
    "not JSON": ("text/plain", b"product=lamp&quantity=1"),
}
BAD_KEYS = {"missing": None, "empty": "", "blank": "   ", "too long": "k" * 65}
BAD_ORDER_IDS = ["0", "-1", str(2**63), "1e3", "abc"]


@pytest.fixture
def shop(make_customer, make_product):
    """Ada with one order, Bob with none, and a lamp."""
    ada, bob = make_customer("ada"), make_customer("bob")
    make_product("lamp", stock=500)
    order_id = place_order(ada, "lamp").data["id"]
    return ada, bob, order_id


def untouched(customer, order_id) -> bool:
    """Ada's one order is as placed, and her wallet charged for it once."""
    from shop.models import Order

    customer.wallet.refresh_from_db()
    return (Order.objects.get(pk=order_id).status, customer.wallet.balance_cents) == (
        "placed",
        BALANCE_CENTS - PRICE_CENTS,
    )


def post_order(customer, body, **headers):
    headers.setdefault("Idempotency-Key", uuid.uuid4().hex)
    return client_for(customer).post("/api/orders/", body, format="json", headers=headers)


# -- API1 and API2: who may do what, on every route and method ----------------------------


def test_every_route_refuses_a_signed_out_client(shop):
    ada, _bob, order_id = shop
    answers = {
        (method, route): getattr(APIClient(), method)(
            route.format(id=order_id), {"product": "lamp", "quantity": 1}, format="json"
        ).status_code
        for method, route in ROUTES
    }
    let_in = {call: code for call, code in answers.items() if code not in (401, 403)}
    assert not let_in, f"signed-out requests were answered: {let_in}"
    assert untouched(ada, order_id)


def test_another_customers_order_is_out_of_reach(shop):
    ada, bob, order_id = shop
    answers = {
        (method, route): getattr(client_for(bob), method)(
            route.format(id=order_id), {"status": "cancelled"}, format="json"
        ).status_code
        for method, route in ONE_ORDER
    }
    reached = {call: code for call, code in answers.items() if code not in (404, 405)}
    assert not reached, f"Bob reached Ada's order: {reached}"
    assert untouched(ada, order_id), "another customer's request changed Ada's order"


def test_the_order_list_and_the_wallet_show_only_your_own(shop):
    _ada, bob, order_id = shop
    listed = client_for(bob).get("/api/orders/").data
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert order_id not in [row["id"] for row in rows]
    assert client_for(bob).get("/api/wallet/").data == {"balance_cents": BALANCE_CENTS}


def test_an_idempotency_key_belongs_to_one_customer(shop):
    """Bob sending the key Ada used gets an order of his own, not hers."""
    from shop.models import Order

    ada, bob, order_id = shop
    key = Order.objects.get(pk=order_id).idempotency_key
    response = place_order(bob, "lamp", key=key)
    assert response.status_code == 201
    assert response.data["id"] != order_id
    assert untouched(ada, order_id)


def test_methods_the_api_does_not_offer_are_refused(shop):
    ada, _bob, order_id = shop
    answers = {
        (method, route): getattr(client_for(ada), method)(
            route.format(id=order_id), {"balance_cents": 10**9}, format="json"
        ).status_code
        for method, route in NOT_OFFERED
    }
    accepted = {call: code for call, code in answers.items() if code != 405}
    assert not accepted, f"methods the API does not offer were answered: {accepted}"
    assert untouched(ada, order_id)


# -- API3: properties a client may not set, or see -----------------------------------------


def test_a_client_cannot_set_server_owned_fields(shop):
    from shop.models import Order

    ada, bob, _order_id = shop
    taken = []
    for field, value in SERVER_OWNED.items():
        response = post_order(
            bob, {"product": "lamp", "quantity": 1, field: ada.pk if value == "ada" else value}
        )
        assert response.status_code == 201, (field, response.status_code)
        order = Order.objects.get(pk=response.data["id"])
        stored = {
            "status": order.status != "placed",
            "total_cents": order.total_cents != PRICE_CENTS,
            "customer": order.customer_id != bob.pk,
            "id": order.pk == 10**6,
            "created_at": order.created_at.year <= 2000,
            "idempotency_key": order.idempotency_key == "someone-elses",
        }
        if stored[field]:
            taken.append(field)
    assert not taken, f"the client set server-owned fields: {taken}"


def test_an_order_shows_no_internal_fields(shop):
    ada, _bob, order_id = shop
    shown = client_for(ada).get(f"/api/orders/{order_id}/").data
    assert set(shown) == ORDER_FIELDS, f"unexpected fields: {set(shown) - ORDER_FIELDS}"


# -- API4 and API8: bounds, and malformed input --------------------------------------------


def test_a_malformed_order_gets_400_and_stores_nothing(shop):
    ada, _bob, _order_id = shop
    answers = {name: post_order(ada, body).status_code for name, body in BAD_ORDERS.items()}
    wrong = {name: code for name, code in answers.items() if code != 400}
    assert not wrong, f"malformed orders not answered 400: {wrong}"
    assert ada.orders.count() == 1, "a malformed order was stored"


def test_an_unreadable_body_gets_a_4xx(shop):
    ada, _bob, _order_id = shop
    answers = {
        name: client_for(ada)
        .generic(
            "POST",
            "/api/orders/",
            payload,
            content_type=content_type,
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        .status_code
        for name, (content_type, payload) in UNREADABLE_BODIES.items()
    }
    wrong = {name: code for name, code in answers.items() if not 400 <= code < 500}
    assert not wrong, f"unreadable bodies not answered with a 4xx: {wrong}"
    assert ada.orders.count() == 1


def test_a_huge_body_is_refused_before_it_is_read(shop):
    ada, _bob, _order_id = shop
    response = client_for(ada).post(
        "/api/orders/",
        past_the_upload_limit({"product": "lamp", "quantity": 1}),
        content_type="application/json",
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code in (400, 413), response.status_code
    assert ada.orders.count() == 1


def test_an_order_without_a_usable_key_is_refused(shop):
    ada, _bob, _order_id = shop
    answers = {}
    for name, key in BAD_KEYS.items():
        headers = {} if key is None else {"Idempotency-Key": key}
        answers[name] = (
            client_for(ada)
            .post(
                "/api/orders/", {"product": "lamp", "quantity": 1}, format="json", headers=headers
            )
            .status_code
        )
    wrong = {name: code for name, code in answers.items() if code != 400}
    assert not wrong, f"orders with an unusable Idempotency-Key not refused: {wrong}"
    assert ada.orders.count() == 1


def test_a_total_past_the_column_is_refused(make_customer, make_product):
    """total_cents is a 32-bit column on PostgreSQL: a larger total is a 500 there, and
    stored on SQLite."""
    rich = make_customer("rich", balance_cents=2**31 - 1)
    make_product("yacht", stock=5, price_cents=2**31 - 1)
    response = place_order(rich, "yacht", quantity=2)
    assert response.status_code == 400, response.status_code
    assert not rich.orders.exists()


def test_a_bad_order_id_is_404(shop):
    ada, _bob, _order_id = shop
    client = client_for(ada)
    answers = {}
    for order_id in BAD_ORDER_IDS:
        answers[f"GET {order_id}"] = client.get(f"/api/orders/{order_id}/").status_code
        answers[f"cancel {order_id}"] = client.post(f"/api/orders/{order_id}/cancel/").status_code
    wrong = {call: code for call, code in answers.items() if code != 404}
    assert not wrong, f"bad order ids not answered 404: {wrong}"


def test_the_order_list_is_paginated(shop):
    """A customer's orders grow forever; the list answers one bounded page at a time,
    whatever size the client asks for."""
    from shop.models import Order, Product

    ada, _bob, _order_id = shop
    lamp = Product.objects.get(sku="lamp")
    Order.objects.bulk_create(
        Order(
            customer=ada,
            product=lamp,
            quantity=1,
            total_cents=PRICE_CENTS,
            idempotency_key=f"bulk-{n}",
        )
        for n in range(PAGE_SIZE_CAP + 10)
    )
    for query in ("", "?page_size=100000", "?limit=100000"):
        data = client_for(ada).get(f"/api/orders/{query}").data
        rows = data["results"] if isinstance(data, dict) else data
        assert len(rows) <= PAGE_SIZE_CAP, f"{query or 'the list'} returned {len(rows)} orders"
    assert client_for(ada).get("/api/orders/?page=abc").status_code in (200, 404)


# -- a customer with no wallet -------------------------------------------------------------


def test_a_customer_without_a_wallet_gets_answers_not_errors(make_product):
    """Wallets are created with store credit; a customer who never had any has none."""
    from django.contrib.auth import get_user_model

    carol = get_user_model().objects.create_user(username="carol", email="carol@example.com")
    make_product("lamp", stock=5)
    assert client_for(carol).get("/api/wallet/").data == {"balance_cents": 0}
    response = place_order(carol, "lamp")
    assert response.status_code == 402, response.status_code
    assert not carol.orders.exists()
