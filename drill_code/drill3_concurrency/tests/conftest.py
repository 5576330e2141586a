"""Fixtures for Drill 3: a shop with customers, products and a real Celery worker.

The worker is Celery's own test worker (celery.contrib.pytest's `celery_worker`), running
in a thread of this process against the target's own Celery app and settings. Only the
plumbing is the test's: a queue of its own, and a short polling interval for the in-memory
transport. The broker is in memory unless CELERY_BROKER_URL is set (e.g. Redis in CI).
"""

import os
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum
from rest_framework.test import APIClient
from taskqueue import TaskLog

PRICE_CENTS = 1_000
BALANCE_CENTS = 10_000


# -- the shop -------------------------------------------------------------------------


@pytest.fixture
def make_customer(db):
    from shop.models import Wallet  # the target's app, whichever it is

    def make(username, balance_cents=BALANCE_CENTS):
        customer = get_user_model().objects.create_user(
            username=username, email=f"{username}@example.com"
        )
        Wallet.objects.create(customer=customer, balance_cents=balance_cents)
        return customer

    return make


@pytest.fixture
def make_product(db):
    from shop.models import Product

    def make(sku, stock, price_cents=PRICE_CENTS):
        return Product.objects.create(
            sku=sku, name=sku.title(), price_cents=price_cents, stock=stock
        )

    return make


def client_for(customer) -> APIClient:
    """A client of its own (safe in any thread). A server error comes back as a 500
    response, so a test reports it with the other statuses instead of stopping there."""
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(customer)
    return client


def place_order(customer, sku, quantity=1, key=None):
    """POST /api/orders/ as `customer`."""
    client = client_for(customer)
    return client.post(
        "/api/orders/",
        {"product": sku, "quantity": quantity},
        format="json",
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
    )


def cancel_order(customer, order_id):
    return client_for(customer).post(f"/api/orders/{order_id}/cancel/")


class Books:
    """The shop's invariants, checked against a snapshot taken before the run: what each
    product and wallet held before any of the orders that are live (not cancelled)."""

    def __init__(self):
        from shop.models import Product, Wallet

        self.stock = {
            pk: stock + self._sold(pk) for pk, stock in Product.objects.values_list("pk", "stock")
        }
        self.balance = {
            customer_id: balance + self._spent(customer_id)
            for customer_id, balance in Wallet.objects.values_list("customer_id", "balance_cents")
        }

    @staticmethod
    def _live():
        from shop.models import Order

        return Order.objects.exclude(status="cancelled")

    def _sold(self, product_id) -> int:
        return self._live().filter(product=product_id).aggregate(n=Sum("quantity"))["n"] or 0

    def _spent(self, customer_id) -> int:
        spent = self._live().filter(customer=customer_id).aggregate(n=Sum("total_cents"))
        return spent["n"] or 0

    def check(self):
        from shop.models import Product, Wallet

        for product in Product.objects.all():
            sold = self._sold(product.pk)
            assert product.stock >= 0, f"{product.sku}: stock went negative ({product.stock})"
            assert product.stock + sold == self.stock[product.pk], (
                f"{product.sku}: {sold} sold and {product.stock} left do not add up to the "
                f"{self.stock[product.pk]} there were"
            )
        for wallet in Wallet.objects.all():
            spent = self._spent(wallet.customer_id)
            opening = self.balance[wallet.customer_id]
            assert wallet.balance_cents >= 0, f"wallet {wallet.pk} is overdrawn"
            assert wallet.balance_cents == opening - spent, (
                f"wallet {wallet.pk}: opened at {opening}, orders total {spent}, so the "
                f"balance should be {opening - spent}, but it is {wallet.balance_cents}"
            )


@pytest.fixture
def books():
    """Call books() once the shop is stocked; call .check() after the concurrent run."""
    return Books


# -- the task queue -------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _test_queue():
    """Give this test run a queue of its own, and leave nothing in the broker after it.

    Autouse, so the queue is set before any request sends a message."""
    from config.celery import app  # the target's Celery app (config/celery.py)

    app.conf.task_default_queue = f"drill3-tests-{os.getpid()}"
    if app.conf.broker_url.startswith("memory"):
        # The in-memory transport polls; the default of a second makes each test slow.
        app.conf.broker_transport_options = {"polling_interval": 0.01}
    yield app
    with app.connection_for_write() as conn:
        queue = app.amqp.queues[app.conf.task_default_queue](conn.default_channel)
        queue.declare()  # so this channel knows its bindings, and delete() removes them
        queue.delete()
        queue.exchange.delete()


@pytest.fixture
def celery_app(_test_queue):
    """Overrides celery.contrib.pytest's test app: the worker runs the target's own app."""
    _test_queue.control.purge()  # nothing left over from an earlier test
    yield _test_queue
    _test_queue.control.purge()


@pytest.fixture
def celery_worker_parameters():
    # The ping check needs a result backend; the worker is known to be consuming anyway
    # once start_worker() returns (it waits for the consumer to be ready).
    return {"perform_ping_check": False, "shutdown_timeout": 30}


@pytest.fixture
def tasks(celery_app):
    """Every task message the target sends during the test, and every delivery handled."""
    log = TaskLog(celery_app)
    log.connect()
    yield log
    log.disconnect()
