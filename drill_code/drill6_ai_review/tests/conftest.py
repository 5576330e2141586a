"""Fixtures for Drill 6: two customers, a small catalogue, a fake internet and an attacker.

The attacker's client does not re-raise the target's exceptions: an attacker sees a 500
page, not a traceback, and the test then checks what the request did to the data.
"""

import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest
from django.conf import settings
from network import FakeInternet
from rest_framework.test import APIClient

ORDERS = "/api/orders/"
SEARCH = "/api/orders/search/"
IMPORT = "/api/orders/import/"
WEBHOOK = "/api/payments/webhook/"
PARTNER = "https://feeds.partner.example"
PAGE_SIZE = 50
# The contract's bounds (brief.md): what an order and a feed may hold.
MAX_LINES = 100
MAX_QUANTITY = 1000
MAX_NOTE = 2000
MAX_FEED_BYTES = 1_000_000
MAX_FEED_ORDERS = 100
WEBHOOK_TOLERANCE = 300  # seconds either side of now


@pytest.fixture(autouse=True)
def internet(monkeypatch):
    """Every test runs offline: outbound HTTP is answered by a fake, never sent."""
    fake = FakeInternet()
    fake.dns["feeds.partner.example"] = "93.184.216.34"
    return fake.install(monkeypatch)


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def mallory(make_user):
    return make_user("mallory")


@pytest.fixture
def client_for():
    """A signed-in client per user (a session, as a browser would have), which does not
    re-raise the target's exceptions. Not drillkit's api_client: a test needs several."""

    def make(user):
        client = APIClient()
        client.force_login(user)
        client.raise_request_exception = False
        return client

    return make


@pytest.fixture
def as_alice(client_for, alice):
    return client_for(alice)


@pytest.fixture
def as_mallory(client_for, mallory):
    return client_for(mallory)


@pytest.fixture
def catalogue(db):
    from orders.models import Product  # the target's app, whichever it is

    return {
        p.sku: p
        for p in Product.objects.bulk_create(
            [
                Product(sku="DESK-01", name="Standing desk", price=Decimal("19.99")),
                Product(sku="BOLT-M6", name="M6 bolt", price=Decimal("0.10")),
                Product(sku="LAMP-OLD", name="Old lamp", price=Decimal("5.00"), active=False),
                # The dearest price the column holds has 8 digits before the point.
                Product(sku="YACHT-01", name="Yacht", price=Decimal("50000000.00")),
            ]
        )
    }


def place(client, *lines, reference="PO-1001", note="", **extra):
    """POST an order of (sku, quantity) lines; return the response."""
    body = {
        "reference": reference,
        "note": note,
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        **extra,
    }
    return client.post(ORDERS, body, format="json")


def items(data):
    """The orders in a list response, paginated ({"results": [...]}) or not."""
    return data["results"] if isinstance(data, dict) and "results" in data else data


def money(value):
    """A price from the JSON, whatever its type, as an exact Decimal."""
    return Decimal(str(value))


@pytest.fixture
def alices_order(as_alice, catalogue):
    response = place(as_alice, ("DESK-01", 2), reference="PO-ALICE", note="Leave at door 3")
    assert response.status_code == 201, response.content
    return response.json()


def signed(event, secret=None, age=0):
    """The body and headers the payment provider would send for `event`, signed `age`
    seconds ago: HMAC-SHA256 of "<unix timestamp>.<raw body>".

    The body is laid out as the provider lays it out (indented, with a final newline), so
    its bytes differ from json.dumps() of the parsed event: a signature checked over
    re-serialised JSON fails on the genuine event.
    """
    body = (json.dumps(event, indent=1) + "\n").encode()
    key = (secret or settings.PAYMENT_WEBHOOK_SECRET).encode()
    timestamp = str(int(time.time()) - age)
    signature = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return body, {"HTTP_X_SIGNATURE": signature, "HTTP_X_SIGNATURE_TIMESTAMP": timestamp}


@pytest.fixture
def provider(api_client):
    """The payment provider: posts events to the webhook, signed or not."""
    client = api_client
    client.raise_request_exception = False

    def send(event, *, signature=True, secret=None, age=0, body=None, **headers):
        signed_body, signed_headers = signed(event, secret, age)
        if not signature:
            signed_headers = {}
        return client.generic(
            "POST",
            WEBHOOK,
            data=signed_body if body is None else body,
            content_type="application/json",
            **{**signed_headers, **headers},
        )

    return send
