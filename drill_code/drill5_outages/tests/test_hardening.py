"""Adversarial checks beyond the planted flaws (OWASP API Security Top 10, 2023).

They are tied to no flaw, so they pass on the starter and on the solution. What applies
to this API, and where it is checked:

* API1/API5, authorisation per object and per function: the API has no users (a public
  catalogue, guest checkout); what stands in for it is that no route answers a method
  it does not serve, and that no order can be read back except by replaying its own key
  with its own body (test_writes.py, D5-F9). `METHODS` lists every route and method.
* API3, property-level authorisation: a client cannot set the price, the id, the time
  or the key of an order through the body (mass assignment), and no answer shows a field
  it should not (excessive data exposure).
* API4, unrestricted resource consumption: the body size, the quantity, the reference,
  the Idempotency-Key and the product id are all bounded. The catalogue is not paged:
  its size is set by the shop, never by a client.
* API8, misconfiguration: malformed input of every kind is a 4xx, never a 500, and
  nothing is stored.
"""

import pytest
from conftest import LIVE, ORDERS, PRODUCTS, READY, order_for
from django.core.cache import caches
from rest_framework.test import APIClient

from drillkit.fixtures import past_the_upload_limit


# No test here breaks the database, so each runs inside one rolled-back transaction
# (`db`), which is much faster on PostgreSQL than the flush after a `transactional_db`
# test, and with DRF's plain client, which leaves the test's connection alone.
@pytest.fixture(autouse=True)
def _fresh_caches(db):
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def client():
    return APIClient()


# Every route, with the methods it must refuse. Each refusal must be a 405 that changes
# nothing.
METHODS = [
    (PRODUCTS, "post"),
    (PRODUCTS, "put"),
    (PRODUCTS, "patch"),
    (PRODUCTS, "delete"),
    (ORDERS, "get"),
    (ORDERS, "put"),
    (ORDERS, "patch"),
    (ORDERS, "delete"),
    (LIVE, "post"),
    (LIVE, "delete"),
    (READY, "post"),
    (READY, "delete"),
]
ORDER_FIELDS = {"id", "product", "quantity", "unit_price", "reference", "created_at"}
PRODUCT_FIELDS = {"id", "sku", "name", "price", "stock"}


def stored():
    from shop.models import Order, Product

    return (
        list(Order.objects.values_list("product_id", "quantity", "unit_price", "reference")),
        list(Product.objects.values_list("sku", "name", "price", "stock")),
    )


@pytest.mark.parametrize(("path", "method"), METHODS, ids=[f"{m}-{p}" for p, m in METHODS])
def test_a_method_a_route_does_not_serve_is_refused_and_changes_nothing(
    client, products, path, method
):
    before = stored()
    body = {"sku": "KB-01", "price": "0.01", "stock": 0, **order_for(products[0])}
    response = getattr(client, method)(path, body, format="json")
    assert response.status_code == 405
    assert stored() == before


# -- property-level authorisation --------------------------------------------------------

FORGED = {
    "unit_price": "0.01",
    "id": 999_999,
    "created_at": "2000-01-01T00:00:00Z",
    "idempotency_key": "forged-key",
}


@pytest.mark.parametrize("field", sorted(FORGED))
def test_an_order_body_cannot_set_a_field_the_server_owns(client, products, field):
    keyboard = products[0]
    response = client.post(ORDERS, {**order_for(keyboard), field: FORGED[field]}, format="json")
    assert response.status_code == 201
    from shop.models import Order

    order = Order.objects.get()
    assert str(order.unit_price) == "89.00"
    assert order.pk != FORGED["id"]
    assert order.created_at.year != 2000
    assert getattr(order, "idempotency_key", None) != "forged-key"


def test_answers_show_only_their_documented_fields(client, products):
    response = client.post(ORDERS, order_for(products[0]), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert set(response.json()) == ORDER_FIELDS, "an order answer must not show its key"
    assert all(set(item) == PRODUCT_FIELDS for item in client.get(PRODUCTS).json())


# -- malformed input: always a 4xx, never a 500, nothing stored ------------------------------

TOO_BIG_FOR_ANY_COLUMN = 2**63
MALFORMED_BODIES = {
    "json-array": b'[{"product": 1, "quantity": 1}]',
    "json-string": b'"an order"',
    "json-number": b"42",
    "json-null": b"null",
    "broken-json": b'{"product": 1,',
    "empty": b"",
    "not-utf-8": b'{"reference": "\xff\xfe"}',
    "product-past-bigint": b'{"product": %d, "quantity": 1}' % TOO_BIG_FOR_ANY_COLUMN,
    "product-negative": b'{"product": -1, "quantity": 1}',
    "product-text": b'{"product": "KB-01", "quantity": 1}',
    "product-list": b'{"product": [1], "quantity": 1}',
    "quantity-zero": b'{"product": %(pk)d, "quantity": 0}',
    "quantity-past-limit": b'{"product": %(pk)d, "quantity": 101}',
    "quantity-past-bigint": b'{"product": %(pk)d, "quantity": %(huge)d}',
    "quantity-fraction": b'{"product": %(pk)d, "quantity": 1.5}',
    "quantity-text": b'{"product": %(pk)d, "quantity": "lots"}',
    "reference-too-long": b'{"product": %(pk)d, "quantity": 1, "reference": "%(long)s"}',
    "reference-nul": b'{"product": %(pk)d, "quantity": 1, "reference": "PO\\u0000"}',
    "reference-object": b'{"product": %(pk)d, "quantity": 1, "reference": {"a": 1}}',
}


@pytest.mark.parametrize("key", [None, "replayed-key"], ids=["no-key", "replayed-key"])
@pytest.mark.parametrize("name", sorted(MALFORMED_BODIES))
def test_a_malformed_order_is_a_400_and_stores_nothing(client, products, name, key):
    keyboard = products[0]
    headers = {}
    if key:  # the key of an order already placed: the replay path must check the body too
        headers["HTTP_IDEMPOTENCY_KEY"] = key
        first = client.post(ORDERS, order_for(keyboard), format="json", **headers)
        assert first.status_code == 201
    before = stored()
    body = MALFORMED_BODIES[name]
    if b"%(" in body:
        body = body % {b"pk": keyboard.pk, b"huge": TOO_BIG_FOR_ANY_COLUMN, b"long": b"x" * 65}
    response = client.post(ORDERS, body, content_type="application/json", **headers)
    assert response.status_code in (400, 422), (
        f"{name}: answered {response.status_code}: {response.content[:200]!r}"
    )
    assert stored() == before


def test_a_body_past_the_size_limit_is_refused_without_a_500(client, products):
    body = past_the_upload_limit(order_for(products[0]))
    before = stored()
    response = client.post(ORDERS, body, content_type="application/json")
    assert 400 <= response.status_code < 500, response.status_code
    assert stored() == before


@pytest.mark.parametrize(
    "key",
    ["k" * 65, "order\x00one", "ordre-ñ", "order\x7f", " " * 3],
    ids=["65-characters", "nul", "non-ascii", "delete-character", "blank"],
)
def test_an_odd_idempotency_key_never_causes_a_500(client, products, key):
    response = client.post(ORDERS, order_for(products[0]), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code in (201, 400), response.content[:200]
    from shop.models import Order

    stored_keys = [getattr(order, "idempotency_key", None) for order in Order.objects.all()]
    assert all(k is None or (k.isascii() and k.isprintable() and len(k) <= 64) for k in stored_keys)
