"""Placing orders while the database is up, gone, or dies in the middle of a write.

The contract: an order is written whole or not at all, a write the database cannot
take is a JSON 503 with Retry-After, and a retry with the same Idempotency-Key creates
the order exactly once, whether the first answer was a 201, a 503 or lost on the way.
"""

import threading

import pytest
from conftest import ORDERS, assert_clean_json_503, order_for
from django.core.cache import caches
from django.db import connection


def post_order(client, payload, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(ORDERS, payload, format="json", **headers)


def orders_and_stock(product):
    from shop.models import Order

    product.refresh_from_db()
    rows = list(Order.objects.values_list("product_id", "quantity", "reference"))
    return rows, product.stock


# -- a healthy database ------------------------------------------------------------------


def test_an_order_is_created_and_takes_its_stock(client, products):
    keyboard = products[0]
    response = post_order(client, order_for(keyboard, quantity=2), key="order-1")
    assert response.status_code == 201
    assert response.json()["unit_price"] == "89.00"
    assert orders_and_stock(keyboard) == ([(keyboard.pk, 2, "PO-1001")], 23)


def test_an_order_without_stock_is_refused_and_nothing_is_written(client, products):
    monitor = products[2]
    response = post_order(client, order_for(monitor, quantity=6), key="order-1")
    assert response.status_code == 409
    assert orders_and_stock(monitor) == ([], 5)


def test_an_order_for_an_unknown_product_is_a_400(client, products):
    response = post_order(client, {"product": 999_999, "quantity": 1}, key="order-1")
    assert response.status_code == 400


# -- the database is gone ----------------------------------------------------------------


@pytest.mark.flaw("D5-F3")
def test_an_order_during_an_outage_gets_a_json_503_and_nothing_is_written(client, products, faults):
    keyboard = products[0]
    faults.cut()
    response = post_order(client, order_for(keyboard), key="order-1")
    faults.restore()
    assert_clean_json_503(response)
    assert orders_and_stock(keyboard) == ([], 25)


def test_an_order_replayed_after_an_outage_is_accepted_once(client, products, faults):
    keyboard = products[0]
    faults.cut()
    post_order(client, order_for(keyboard), key="order-1")
    faults.restore()
    response = post_order(client, order_for(keyboard), key="order-1")
    assert response.status_code == 201, "a key whose first try failed must not be burned"
    assert orders_and_stock(keyboard) == ([(keyboard.pk, 1, "PO-1001")], 24)


# -- the database dies between two writes of one order --------------------------------------


# --8<-- [start:midway]
@pytest.mark.flaw("D5-F8")
def test_an_order_cut_off_midway_leaves_nothing_behind(client, products, faults):
    keyboard = products[0]
    faults.cut_before_write(2)  # the outage lands between the order's two writes
    post_order(client, order_for(keyboard), key="order-1")
    faults.restore()
    assert orders_and_stock(keyboard) == ([], 25), (
        "an order interrupted by an outage must leave no trace: no order row, no stock taken"
    )


@pytest.mark.flaw("D5-F8")
def test_replaying_an_order_cut_off_midway_writes_it_exactly_once(client, products, faults):
    keyboard = products[0]
    faults.cut_before_write(2)
    post_order(client, order_for(keyboard), key="order-1")
    faults.restore()
    response = post_order(client, order_for(keyboard), key="order-1")
    assert response.status_code == 201
    assert orders_and_stock(keyboard) == ([(keyboard.pk, 1, "PO-1001")], 24), (
        "after the replay there must be exactly one order, and its stock taken once"
    )


# --8<-- [end:midway]


# -- retries -----------------------------------------------------------------------------


# --8<-- [start:idempotency]
@pytest.mark.flaw("D5-F9")
def test_a_retried_order_is_created_exactly_once(client, products):
    keyboard = products[0]
    first = post_order(client, order_for(keyboard), key="order-1")
    retry = post_order(client, order_for(keyboard), key="order-1")  # the 201 was lost
    assert first.status_code == 201
    assert retry.status_code in (200, 201)
    assert retry.json()["id"] == first.json()["id"], "a retry must return the same order"
    assert orders_and_stock(keyboard) == ([(keyboard.pk, 1, "PO-1001")], 24)


@pytest.mark.flaw("D5-F9")
@pytest.mark.parametrize(
    "change",
    [{"quantity": 5}, {"reference": "PO-2002"}, {"product": "mouse"}],
    ids=["quantity", "reference", "product"],
)
def test_reusing_a_key_for_a_different_order_is_refused(client, products, change):
    keyboard, mouse, _ = products
    assert post_order(client, order_for(keyboard), key="order-1").status_code == 201
    other = {**order_for(keyboard), **change}
    if other["product"] == "mouse":
        other["product"] = mouse.pk
    response = post_order(client, other, key="order-1")
    assert response.status_code == 422, "one key, two different orders: refuse the second"
    assert orders_and_stock(keyboard) == ([(keyboard.pk, 1, "PO-1001")], 24)


@pytest.mark.flaw("D5-F9")
def test_a_retry_is_recognised_by_another_process(client, products):
    """A retry often lands on another worker process, or after a restart: what the
    first process kept in its memory is gone. Only the database is shared."""
    keyboard = products[0]
    first = post_order(client, order_for(keyboard), key="order-1")
    for cache in caches.all():
        cache.clear()
    retry = post_order(client, order_for(keyboard), key="order-1")
    assert retry.status_code in (200, 201)
    assert retry.json()["id"] == first.json()["id"], "a retry must return the same order"
    assert len(orders_and_stock(keyboard)[0]) == 1


@pytest.mark.flaw("D5-F9")
@pytest.mark.parametrize("cut_at_write", [2, 3, 4])
def test_an_order_and_its_key_are_written_together(client, products, faults, cut_at_write):
    """Whichever write of the request the outage lands before, the replay must find
    either the whole order with its key, or nothing: never an order without its key."""
    keyboard = products[0]
    faults.cut_before_write(cut_at_write)
    post_order(client, order_for(keyboard), key="order-1")
    faults.restore()
    response = post_order(client, order_for(keyboard), key="order-1")
    assert response.status_code == 201
    assert len(orders_and_stock(keyboard)[0]) == 1, (
        f"an outage before write {cut_at_write} left an order the replay did not find: "
        "the key must be stored in the same transaction as the order"
    )


@pytest.mark.flaw("D5-F9")
def test_a_copy_arriving_while_the_first_is_being_written_creates_nothing_new(
    client, products, faults
):
    """The client timed out and retried while its first request was still running. The
    second copy arrives after the first has checked its key and before it writes, and
    completes first: only a unique constraint in the database can keep the first one
    from writing a second order now. Both copies must answer with the same order."""
    keyboard = products[0]
    second = {}

    def send_the_second_copy():
        from conftest import ServerLikeClient

        try:
            second["response"] = post_order(ServerLikeClient(), order_for(keyboard), key="order-1")
        finally:
            connection.close()

    def second_copy_arrives():
        copy = threading.Thread(target=send_the_second_copy)
        copy.start()
        copy.join(10)

    faults.before_write(1, second_copy_arrives)
    first = post_order(client, order_for(keyboard), key="order-1")
    assert "response" in second, "precondition: the second copy was never sent"
    answers = [first, second["response"]]
    assert [answer.status_code for answer in answers] == [201, 201]
    assert len({answer.json()["id"] for answer in answers}) == 1, "both copies: one order"
    assert orders_and_stock(keyboard) == ([(keyboard.pk, 1, "PO-1001")], 24)


# --8<-- [end:idempotency]


def test_orders_with_different_keys_are_different_orders(client, products):
    keyboard = products[0]
    post_order(client, order_for(keyboard, reference="PO-1"), key="order-1")
    post_order(client, order_for(keyboard, reference="PO-2"), key="order-2")
    rows, stock = orders_and_stock(keyboard)
    assert [reference for _, _, reference in rows] == ["PO-1", "PO-2"]
    assert stock == 23
