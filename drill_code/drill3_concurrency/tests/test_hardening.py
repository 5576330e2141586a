"""Adversarial tests of the shop's API beyond the planted flaws (OWASP API Top 10, 2023).

Not tied to a flaw: they pass on the starter and on the solution, and a copy must keep
passing them. Each table is one guard; each row says what would break without it.

- API1 object-level authorisation: every route and method, as another customer;
- API2 authentication: every route and method, signed out;
- API3 property-level authorisation: fields a client may not set, fields it may not see;
- API4 unrestricted resource consumption: quantities, keys, strings, bodies, page sizes;
- API8 no server error, and nothing stored, for malformed input.
"""

import json
import uuid

import pytest
from conftest import BALANCE_CENTS, PRICE_CENTS, client_for, place_order
from rest_framework.test import APIClient

ORDER_FIELDS = {"id", "product", "quantity", "total_cents", "status", "created_at"}
PAGE_SIZE_CAP = 100  # whatever the page size, one response never lists more than this


@pytest.fixture
def shop(make_customer, make_product):
    """Ada with one order, Bob with none, and a lamp."""
    ada, bob = make_customer("ada"), make_customer("bob")
    make_product("lamp", stock=500)
    order_id = place_order(ada, "lamp").data["id"]
    return ada, bob, order_id


def unchanged(customer, order_id):
    from shop.models import Order

    order = Order.objects.get(pk=order_id)
    customer.wallet.refresh_from_db()
    return order.status == "placed" and customer.wallet.balance_cents == (
        BALANCE_CENTS - PRICE_CENTS
    )


def nothing_new_stored(customer, before: int) -> bool:
    return customer.orders.count() == before


# -- API1 and API2: who may do what, on every route and method ----------------------------

ROUTES = [
    pytest.param("get", "/api/orders/", id="list"),
    pytest.param("post", "/api/orders/", id="create"),
    pytest.param("get", "/api/orders/{id}/", id="retrieve"),
    pytest.param("post", "/api/orders/{id}/cancel/", id="cancel"),
    pytest.param("get", "/api/wallet/", id="wallet"),
]


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_every_route_refuses_a_signed_out_client(method, route, shop):
    ada, _bob, order_id = shop
    response = getattr(APIClient(), method)(
        route.format(id=order_id), {"product": "lamp", "quantity": 1}, format="json"
    )
    assert response.status_code in (401, 403), (method, route, response.status_code)
    assert unchanged(ada, order_id)


@pytest.mark.parametrize(
    ("method", "route"),
    [
        pytest.param("get", "/api/orders/{id}/", id="retrieve"),
        pytest.param("post", "/api/orders/{id}/cancel/", id="cancel"),
        pytest.param("put", "/api/orders/{id}/", id="replace"),
        pytest.param("patch", "/api/orders/{id}/", id="update"),
        pytest.param("delete", "/api/orders/{id}/", id="delete"),
    ],
)
def test_another_customers_order_is_out_of_reach(method, route, shop):
    """404, not 403: a stranger learns nothing, not even that the order exists."""
    ada, bob, order_id = shop
    response = getattr(client_for(bob), method)(
        route.format(id=order_id), {"status": "cancelled"}, format="json"
    )
    assert response.status_code in (404, 405), (method, route, response.status_code)
    assert unchanged(ada, order_id), "another customer's request changed Ada's order"


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
    assert unchanged(ada, order_id)


@pytest.mark.parametrize(
    ("method", "route"),
    [
        pytest.param("put", "/api/orders/", id="replace-list"),
        pytest.param("delete", "/api/orders/", id="delete-list"),
        pytest.param("get", "/api/orders/{id}/cancel/", id="get-cancel"),
        pytest.param("post", "/api/wallet/", id="post-wallet"),
        pytest.param("put", "/api/wallet/", id="put-wallet"),
        pytest.param("patch", "/api/wallet/", id="patch-wallet"),
    ],
)
def test_methods_the_api_does_not_offer_are_refused(method, route, shop):
    ada, _bob, order_id = shop
    response = getattr(client_for(ada), method)(
        route.format(id=order_id), {"balance_cents": 10**9}, format="json"
    )
    assert response.status_code == 405, (method, route, response.status_code)
    assert unchanged(ada, order_id)


# -- API3: properties a client may not set, or see -----------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("status", "confirmed", id="status"),
        pytest.param("total_cents", 1, id="total"),
        pytest.param("customer", 0, id="customer"),
        pytest.param("id", 10**6, id="id"),
        pytest.param("created_at", "2000-01-01T00:00:00Z", id="created_at"),
        pytest.param("idempotency_key", "someone-elses", id="key"),
    ],
)
def test_a_client_cannot_set_server_owned_fields(field, value, shop):
    from shop.models import Order

    ada, bob, _order_id = shop
    if field == "customer":
        value = ada.pk
    response = client_for(bob).post(
        "/api/orders/",
        {"product": "lamp", "quantity": 2, field: value},
        format="json",
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201
    order = Order.objects.get(pk=response.data["id"])
    assert (order.customer_id, order.status, order.total_cents) == (
        bob.pk,
        "placed",
        2 * PRICE_CENTS,
    )
    assert order.pk != 10**6
    assert order.created_at.year > 2000
    assert order.idempotency_key != "someone-elses"


def test_an_order_shows_no_internal_fields(shop):
    ada, _bob, order_id = shop
    shown = client_for(ada).get(f"/api/orders/{order_id}/").data
    assert set(shown) == ORDER_FIELDS, f"unexpected fields: {set(shown) - ORDER_FIELDS}"


# -- API4 and API8: bounds, and malformed input --------------------------------------------

BAD_ORDERS = [
    pytest.param({"product": "lamp", "quantity": 0}, id="quantity-zero"),
    pytest.param({"product": "lamp", "quantity": -1}, id="quantity-negative"),
    pytest.param({"product": "lamp", "quantity": 101}, id="quantity-over-100"),
    pytest.param({"product": "lamp", "quantity": 2**63}, id="quantity-past-bigint"),
    pytest.param({"product": "lamp", "quantity": 1.5}, id="quantity-fraction"),
    pytest.param({"product": "lamp", "quantity": "many"}, id="quantity-text"),
    pytest.param({"product": "lamp", "quantity": None}, id="quantity-null"),
    pytest.param({"product": "lamp"}, id="quantity-missing"),
    pytest.param({"product": "", "quantity": 1}, id="product-empty"),
    pytest.param({"product": "x" * 10_000, "quantity": 1}, id="product-huge"),
    pytest.param({"product": ["lamp"], "quantity": 1}, id="product-list"),
    pytest.param({"product": "nope", "quantity": 1}, id="product-unknown"),
    pytest.param([{"product": "lamp", "quantity": 1}], id="array-body"),
    pytest.param("lamp", id="string-body"),
]


@pytest.mark.parametrize("body", BAD_ORDERS)
def test_a_malformed_order_gets_400_and_stores_nothing(body, shop):
    ada, _bob, _order_id = shop
    before = ada.orders.count()
    response = client_for(ada).post(
        "/api/orders/", body, format="json", headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert response.status_code == 400, (body if len(str(body)) < 80 else "...", response)
    assert nothing_new_stored(ada, before)


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        pytest.param("application/json", b'{"product": "lamp", "quantity": ', id="cut-json"),
        pytest.param("application/json", b'{"product": "\xff\xfe", "quantity": 1}', id="not-utf8"),
        pytest.param("application/json", b"", id="empty"),
        pytest.param("text/plain", b"product=lamp&quantity=1", id="not-json"),
    ],
)
def test_an_unreadable_body_gets_a_4xx(content_type, payload, shop):
    ada, _bob, _order_id = shop
    before = ada.orders.count()
    response = client_for(ada).generic(
        "POST",
        "/api/orders/",
        payload,
        content_type=content_type,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert 400 <= response.status_code < 500, response.status_code
    assert nothing_new_stored(ada, before)


def test_a_huge_body_is_refused_before_it_is_read(shop):
    from django.conf import settings

    ada, _bob, _order_id = shop
    before = ada.orders.count()
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client_for(ada).post(
        "/api/orders/",
        json.dumps({"product": "lamp", "quantity": 1, "note": padding}),
        content_type="application/json",
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code in (400, 413), response.status_code
    assert nothing_new_stored(ada, before)


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("k" * 65, id="too-long"),
    ],
)
def test_an_order_without_a_usable_key_is_refused(key, shop):
    ada, _bob, _order_id = shop
    before = ada.orders.count()
    headers = {} if key is None else {"Idempotency-Key": key}
    response = client_for(ada).post(
        "/api/orders/", {"product": "lamp", "quantity": 1}, format="json", headers=headers
    )
    assert response.status_code == 400
    assert nothing_new_stored(ada, before)


def test_a_total_past_the_column_is_refused(make_customer, make_product):
    """total_cents is a 32-bit column on PostgreSQL: a larger total is a 500 there, and
    stored on SQLite, where every later read of it is wrong elsewhere."""
    rich = make_customer("rich", balance_cents=2**31 - 1)
    make_product("yacht", stock=5, price_cents=2**31 - 1)
    response = place_order(rich, "yacht", quantity=2)
    assert response.status_code == 400, response.status_code
    assert not rich.orders.exists()


@pytest.mark.parametrize(
    "order_id",
    [
        pytest.param("0", id="zero"),
        pytest.param("-1", id="negative"),
        pytest.param(str(2**63), id="past-bigint"),
        pytest.param("1e3", id="float"),
        pytest.param("abc", id="text"),
    ],
)
@pytest.mark.parametrize("suffix", ["", "cancel/"])
def test_a_bad_order_id_is_404(order_id, suffix, shop):
    ada, _bob, _order_id = shop
    client = client_for(ada)
    url = f"/api/orders/{order_id}/{suffix}"
    response = client.post(url) if suffix else client.get(url)
    assert response.status_code == 404, (url, response.status_code)


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


# -- the schema ----------------------------------------------------------------------------


def test_the_migrations_match_the_models(db):
    """The test database, like production, is built by running the migrations: a
    constraint or field added to a model without one is in neither."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(f"the models have changes with no migration:\n{out.getvalue()}")
