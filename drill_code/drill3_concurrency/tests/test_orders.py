"""Placing and cancelling orders: one at a time, then many at once.

The first half is the API's contract, request by request. The second half sends real
concurrent requests (threads, one database connection each) and forces the interleaving
that breaks read-modify-write code, so a race fails every run, not one run in fifty.
After every concurrent run the shop's books must still balance.
"""

import uuid

import pytest
from conftest import BALANCE_CENTS, PRICE_CENTS, cancel_order, place_order
from rest_framework.test import APIClient

from drillkit.races import run_concurrently

# -- one request at a time ------------------------------------------------------------


def test_an_order_reserves_stock_and_charges_the_wallet(make_customer, make_product):
    ada = make_customer("ada")
    lamp = make_product("lamp", stock=5)
    response = place_order(ada, "lamp", quantity=2)
    assert response.status_code == 201, response.data
    assert response.data["status"] == "placed"
    assert response.data["total_cents"] == 2 * PRICE_CENTS
    lamp.refresh_from_db()
    ada.wallet.refresh_from_db()
    assert lamp.stock == 3
    assert ada.wallet.balance_cents == BALANCE_CENTS - 2 * PRICE_CENTS


def test_an_order_needs_an_idempotency_key(make_customer, make_product):
    ada = make_customer("ada")
    make_product("lamp", stock=5)
    client = APIClient()
    client.force_authenticate(ada)
    response = client.post("/api/orders/", {"product": "lamp", "quantity": 1})
    assert response.status_code == 400
    assert "Idempotency-Key" in response.data


def test_a_retried_request_gets_the_first_order_back(make_customer, make_product):
    ada = make_customer("ada")
    make_product("lamp", stock=5)
    first = place_order(ada, "lamp", key="checkout-1")
    retry = place_order(ada, "lamp", key="checkout-1")
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.data["id"] == first.data["id"]
    ada.wallet.refresh_from_db()
    assert ada.wallet.balance_cents == BALANCE_CENTS - PRICE_CENTS, "charged once"


@pytest.mark.flaw("D3-F3")
@pytest.mark.parametrize(
    ("sku", "quantity"),
    [pytest.param("lamp", 2, id="another-quantity"), pytest.param("desk", 1, id="another-product")],
)
def test_a_key_reused_for_a_different_order_is_refused(sku, quantity, make_customer, make_product):
    """A client that reuses a key for a new order has a bug; answering with the first
    order tells it that the new one was placed. The IETF draft on the Idempotency-Key
    header answers 422."""
    ada = make_customer("ada")
    make_product("lamp", stock=5)
    make_product("desk", stock=5)
    first = place_order(ada, "lamp", quantity=1, key="checkout-1")
    reused = place_order(ada, sku, quantity=quantity, key="checkout-1")
    assert first.status_code == 201
    assert reused.status_code == 422, (
        f"the key of an order for 1 lamp came back with {quantity} x {sku}, and the answer "
        f"was {reused.status_code} {reused.data}: a different order under a used key must "
        "be refused (422), not answered with the first order"
    )
    assert ada.orders.count() == 1
    ada.wallet.refresh_from_db()
    assert ada.wallet.balance_cents == BALANCE_CENTS - PRICE_CENTS, "charged once"


def test_an_order_for_more_than_the_stock_is_refused(make_customer, make_product):
    ada = make_customer("ada")
    lamp = make_product("lamp", stock=1)
    response = place_order(ada, "lamp", quantity=2)
    assert response.status_code == 409
    lamp.refresh_from_db()
    ada.wallet.refresh_from_db()
    assert (lamp.stock, ada.wallet.balance_cents) == (1, BALANCE_CENTS)
    assert not ada.orders.exists(), "a refused order leaves nothing behind"


def test_an_order_the_wallet_cannot_cover_is_refused(make_customer, make_product):
    ada = make_customer("ada", balance_cents=PRICE_CENTS - 1)
    lamp = make_product("lamp", stock=5)
    response = place_order(ada, "lamp")
    assert response.status_code == 402
    lamp.refresh_from_db()
    assert lamp.stock == 5, "the stock reserved for a refused order goes back"
    assert not ada.orders.exists()


def test_cancelling_returns_the_stock_and_the_money_once(make_customer, make_product):
    ada = make_customer("ada")
    lamp = make_product("lamp", stock=5)
    order_id = place_order(ada, "lamp", quantity=2).data["id"]
    response = cancel_order(ada, order_id)
    assert response.status_code == 200
    assert response.data["status"] == "cancelled"
    assert cancel_order(ada, order_id).status_code == 409, "a second cancel is refused"
    lamp.refresh_from_db()
    ada.wallet.refresh_from_db()
    assert (lamp.stock, ada.wallet.balance_cents) == (5, BALANCE_CENTS)


# -- many requests at once (PostgreSQL: real row locks) -------------------------------

# Each thread commits for real, so these tests run outside the usual test transaction.
race = pytest.mark.django_db(transaction=True)
# Why they need PostgreSQL, as the skip message on SQLite says it.
needs_row_locks = pytest.mark.postgres(
    reason="the race needs real row locks (SQLite has one writer at a time), and the write "
    "gate reads pg_stat_activity to see which requests wait for a lock"
)


@needs_row_locks
@race
def test_the_write_gate_lets_a_row_lock_fix_through(make_product):
    """Not a flaw test: a check of the harness (drillkit/races.py) that every race test
    relies on. A fix built on select_for_update() makes the other requests wait for the
    row lock before they write; the gate must see those waits and open, or a correct fix
    would time out. Django may also swap a thread's connection for a new one between
    statements (the test client runs close_old_connections() on its request signals, and
    CONN_MAX_AGE=0 closes), so each call here starts on a fresh database backend."""
    from django.db import connection, transaction
    from shop.models import Product

    lamp = make_product("lamp", stock=1)

    def buy_with_a_row_lock():
        connection.close()  # the next statement opens a new connection: a new backend pid
        with transaction.atomic():
            product = Product.objects.select_for_update().get(pk=lamp.pk)
            if product.stock < 1:
                return "out of stock"
            product.stock -= 1
            product.save(update_fields=["stock"])
            return "sold"

    outcomes = run_concurrently([buy_with_a_row_lock] * 4, hold_before_writing_to=Product)

    assert sorted(outcomes) == ["out of stock"] * 3 + ["sold"], outcomes
    lamp.refresh_from_db()
    assert lamp.stock == 0


# --8<-- [start:last-unit]
@pytest.mark.flaw("D3-F1")
@needs_row_locks
@race
def test_the_last_unit_is_sold_exactly_once(make_customer, make_product, books):
    from shop.models import Product

    customers = 4
    lamp = make_product("lamp", stock=1)
    buyers = [make_customer(f"buyer{n}") for n in range(customers)]
    ledger = books()

    responses = run_concurrently(
        [lambda buyer=buyer: place_order(buyer, "lamp") for buyer in buyers],
        hold_before_writing_to=Product,
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (customers - 1), (
        f"{customers} customers raced for the last lamp: exactly one order should succeed "
        f"and the others get 409, but the statuses were {statuses}"
    )
    lamp.refresh_from_db()
    assert lamp.stock == 0
    ledger.check()


# --8<-- [end:last-unit]


@pytest.mark.flaw("D3-F2")
@needs_row_locks
@race
def test_concurrent_orders_are_all_charged(make_customer, make_product, books):
    from shop.models import Wallet

    ada = make_customer("ada")
    skus = [make_product(f"item{n}", stock=10).sku for n in range(4)]
    ledger = books()

    responses = run_concurrently(
        [lambda sku=sku: place_order(ada, sku) for sku in skus],
        hold_before_writing_to=Wallet,
    )

    assert [r.status_code for r in responses] == [201] * 4
    ada.wallet.refresh_from_db()
    assert ada.wallet.balance_cents == BALANCE_CENTS - 4 * PRICE_CENTS, (
        f"four orders of {PRICE_CENTS} at once from a balance of {BALANCE_CENTS} should "
        f"leave {BALANCE_CENTS - 4 * PRICE_CENTS}, but the wallet holds "
        f"{ada.wallet.balance_cents}: charges were lost"
    )
    ledger.check()

    # Refunds are the same kind of write to the same row: cancel all four at once.
    responses = run_concurrently(
        [lambda r=r: cancel_order(ada, r.data["id"]) for r in responses],
        hold_before_writing_to=Wallet,
    )
    assert [r.status_code for r in responses] == [200] * 4
    ada.wallet.refresh_from_db()
    assert ada.wallet.balance_cents == BALANCE_CENTS, (
        f"four orders cancelled at once should refund the wallet to {BALANCE_CENTS}, but it "
        f"holds {ada.wallet.balance_cents}: refunds were lost"
    )
    ledger.check()


@pytest.mark.flaw("D3-F2")
@needs_row_locks
@race
def test_concurrent_orders_never_overdraw_the_wallet(make_customer, make_product, books):
    """A wallet that covers two orders, and four at once: a balance checked in Python
    before the write lets every one of them through."""
    from shop.models import Wallet

    ada = make_customer("ada", balance_cents=2 * PRICE_CENTS)
    skus = [make_product(f"item{n}", stock=10).sku for n in range(4)]
    ledger = books()

    responses = run_concurrently(
        [lambda sku=sku: place_order(ada, sku) for sku in skus],
        hold_before_writing_to=Wallet,
    )

    statuses = sorted(r.status_code for r in responses)
    ada.wallet.refresh_from_db()
    assert statuses == [201, 201, 402, 402], (
        f"a wallet of {2 * PRICE_CENTS} covers two orders of {PRICE_CENTS}; four at once "
        f"got {statuses} and left a balance of {ada.wallet.balance_cents}"
    )
    assert ada.wallet.balance_cents == 0
    ledger.check()


@pytest.mark.flaw("D3-F1")
@needs_row_locks
@race
def test_concurrent_orders_and_cancellations_keep_the_stock(make_customer, make_product, books):
    """Every write to the stock, not only the one in the order: cancelling puts units
    back, and four cancellations at once must put back all of them."""
    from shop.models import Product

    lamp = make_product("lamp", stock=10)
    buyers = [make_customer(f"buyer{n}") for n in range(4)]
    ledger = books()

    placed = run_concurrently(
        [lambda buyer=buyer: place_order(buyer, "lamp", quantity=2) for buyer in buyers],
        hold_before_writing_to=Product,
    )
    lamp.refresh_from_db()
    assert ([r.status_code for r in placed], lamp.stock) == ([201] * 4, 2), (
        f"four orders of 2 lamps at once from a stock of 10 got "
        f"{[r.status_code for r in placed]} and left {lamp.stock} lamps, not 2"
    )
    ledger.check()

    cancelled = run_concurrently(
        [
            lambda buyer=buyer, r=r: cancel_order(buyer, r.data["id"])
            for buyer, r in zip(buyers, placed, strict=True)
        ],
        hold_before_writing_to=Product,
    )
    lamp.refresh_from_db()
    assert ([r.status_code for r in cancelled], lamp.stock) == ([200] * 4, 10), (
        f"four orders of 2 lamps cancelled at once got {[r.status_code for r in cancelled]} "
        f"and left {lamp.stock} lamps, not the 10 there were"
    )
    ledger.check()


@pytest.mark.flaw("D3-F3")
@needs_row_locks
@race
def test_a_double_submitted_order_is_created_once(make_customer, make_product, books, tasks):
    from shop.models import Order

    ada = make_customer("ada")
    make_product("lamp", stock=10)
    ledger = books()
    key = uuid.uuid4().hex

    responses = run_concurrently(
        [lambda: place_order(ada, "lamp", key=key)] * 2, hold_before_writing_to=Order
    )

    orders = list(Order.objects.filter(idempotency_key=key).values_list("id", flat=True))
    assert len(orders) == 1, (
        f"two requests with the same Idempotency-Key at once created {len(orders)} orders"
    )
    assert sorted(r.status_code for r in responses) == [200, 201]
    assert {r.data["id"] for r in responses} == set(orders), "both get the same order"
    ledger.check()
    # Exactly one effect per committed order: one confirmation, for that order.
    queued = [m for m in tasks.messages if not m.retries]
    confirmations = [m for m in queued if m.names(orders[0])]
    assert (len(queued), len(confirmations)) == (1, 1), (
        f"the one order committed should queue one confirmation, for order {orders[0]}; "
        f"{len(queued)} message(s) were queued, with arguments {[m.args for m in queued]}"
    )


@pytest.mark.flaw("D3-F3")
@needs_row_locks
@race
def test_one_key_sent_at_once_with_two_different_orders(make_customer, make_product, books):
    """The key's check must hold on every way the first order is found: committed
    before, or inserted at the same moment by a request this one waited for."""
    from shop.models import Order

    ada = make_customer("ada")
    make_product("lamp", stock=10)
    ledger = books()
    key = uuid.uuid4().hex

    responses = run_concurrently(
        [lambda quantity=quantity: place_order(ada, "lamp", quantity, key) for quantity in (1, 2)],
        hold_before_writing_to=Order,
    )

    statuses = sorted(r.status_code for r in responses)
    orders = list(Order.objects.filter(idempotency_key=key).values_list("quantity", flat=True))
    assert (statuses, len(orders)) == ([201, 422], 1), (
        f"an order for 1 lamp and one for 2, sent at once with the same key, got {statuses} "
        f"and created {len(orders)} order(s): one must be placed, the other refused (422)"
    )
    [placed] = [r for r in responses if r.status_code == 201]
    assert placed.data["quantity"] == orders[0]
    ledger.check()
