"""The payment provider's webhook: the only way an order becomes paid.

The provider signs each body with HMAC-SHA256 under the shared secret. An attacker can
post anything to the URL, and can also make genuine payments of any amount.
"""

import pytest
from conftest import money


def _status(order):
    from orders.models import Order

    return Order.objects.get(pk=order["id"]).status


def test_a_signed_payment_for_the_full_amount_marks_the_order_paid(provider, alices_order):
    event = {"type": "payment.succeeded", "order_id": alices_order["id"], "amount": "39.98"}
    assert money(alices_order["total"]) == money("39.98")
    response = provider(event)
    assert response.status_code == 200, response.content
    assert _status(alices_order) == "paid"


def test_a_forged_signature_is_refused(provider, alices_order):
    event = {"type": "payment.succeeded", "order_id": alices_order["id"], "amount": "39.98"}
    response = provider(event, secret="a-guess-at-the-secret")
    assert response.status_code == 403
    assert _status(alices_order) == "pending"


def test_other_event_types_are_acknowledged_and_ignored(provider, alices_order):
    response = provider({"type": "payment.refunded", "order_id": alices_order["id"]})
    assert response.status_code == 200
    assert _status(alices_order) == "pending"


# --8<-- [start:webhook]
@pytest.mark.flaw("D6-F9")
def test_an_unsigned_event_is_refused(provider, alices_order):
    event = {"type": "payment.succeeded", "order_id": alices_order["id"], "amount": "39.98"}
    response = provider(event, signature=False)
    assert _status(alices_order) == "pending", (
        "an event with no X-Signature header marked the order paid: a missing signature "
        "is a wrong signature"
    )
    assert response.status_code == 403


@pytest.mark.flaw("D6-F10")
def test_a_genuine_payment_of_one_cent_does_not_pay_the_order(provider, alices_order):
    # The attacker really paid 0.01 through the provider's checkout, naming this order.
    event = {"type": "payment.succeeded", "order_id": alices_order["id"], "amount": "0.01"}
    provider(event)
    assert _status(alices_order) == "pending", (
        f"a payment of 0.01 marked an order of {alices_order['total']} paid: the amount "
        "paid must equal the order total"
    )


# --8<-- [end:webhook]
