"""The payment provider's webhook: the only way an order becomes paid.

The provider signs "<timestamp>.<raw body>" with HMAC-SHA256 under the shared secret and
sends the timestamp and the signature in headers. An attacker can post anything to the
URL, can replay an event they once captured, and can make genuine payments of any amount.

Each test that shows an event refused ends with the genuine event accepted: a webhook that
refuses everything is not secure, it is broken.
"""

import pytest
from conftest import WEBHOOK_TOLERANCE, money


def _status(order):
    from orders.models import Order

    return Order.objects.get(pk=order["id"]).status


def _full_payment(order):
    return {"type": "payment.succeeded", "order_id": order["id"], "amount": order["total"]}


def _assert_the_genuine_event_still_pays(provider, order):
    response = provider(_full_payment(order))
    assert response.status_code == 200, response.content
    assert _status(order) == "paid", (
        "the provider's genuine, correctly signed, fresh event did not mark the order paid: "
        "the signature must be checked over the raw body and its timestamp, as sent"
    )


def test_a_signed_payment_for_the_full_amount_marks_the_order_paid(provider, alices_order):
    assert money(alices_order["total"]) == money("39.98")
    _assert_the_genuine_event_still_pays(provider, alices_order)


def test_a_forged_signature_is_refused(provider, alices_order):
    response = provider(_full_payment(alices_order), secret="a-guess-at-the-secret")
    assert response.status_code == 403
    assert _status(alices_order) == "pending"


def test_other_event_types_are_acknowledged_and_ignored(provider, alices_order):
    response = provider({"type": "payment.refunded", "order_id": alices_order["id"]})
    assert response.status_code == 200
    assert _status(alices_order) == "pending"


def test_a_repeated_event_within_the_window_changes_nothing_more(provider, alices_order):
    _assert_the_genuine_event_still_pays(provider, alices_order)
    assert provider(_full_payment(alices_order)).status_code == 200
    assert _status(alices_order) == "paid"


# --8<-- [start:webhook]
@pytest.mark.flaw("D6-F9")
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-signature-header"),
        pytest.param({"HTTP_X_SIGNATURE": ""}, id="empty-signature"),
    ],
)
def test_an_unsigned_event_is_refused(provider, alices_order, headers):
    response = provider(_full_payment(alices_order), signature=False, **headers)
    assert _status(alices_order) == "pending", (
        "an event with no valid X-Signature marked the order paid: a missing signature "
        "is a wrong signature"
    )
    assert response.status_code == 403
    _assert_the_genuine_event_still_pays(provider, alices_order)


class WatchedSignature(str):
    """An X-Signature header value that notes every == or != it takes part in.

    Django hands a test client's header value to the view as the object it was given, so
    a view that compares the signature with == or != calls these methods; one that uses
    hmac.compare_digest (on the str or on its encode()) does not.
    """

    def __new__(cls, value, comparisons):
        self = super().__new__(cls, value)
        self.comparisons = comparisons
        return self

    def __eq__(self, other):
        self.comparisons.append("==")
        return str.__eq__(self, other)

    def __ne__(self, other):
        self.comparisons.append("!=")
        return str.__ne__(self, other)

    __hash__ = str.__hash__

    def _watched(name):  # a helper run while the class body is built
        def method(self, *args, **kwargs):
            return WatchedSignature(getattr(str, name)(self, *args, **kwargs), self.comparisons)

        return method

    strip = _watched("strip")
    lower = _watched("lower")
    casefold = _watched("casefold")
    __getitem__ = _watched("__getitem__")

    def __str__(self):
        return self

    def encode(self, *args, **kwargs):
        return WatchedBytes(str.encode(self, *args, **kwargs), self.comparisons)


class WatchedBytes(bytes):
    """signature.encode(), still watched: `a.encode() == b.encode()` is == too."""

    def __new__(cls, value, comparisons):
        self = super().__new__(cls, value)
        self.comparisons = comparisons
        return self

    def __eq__(self, other):
        self.comparisons.append("==")
        return bytes.__eq__(self, other)

    def __ne__(self, other):
        self.comparisons.append("!=")
        return bytes.__ne__(self, other)

    __hash__ = bytes.__hash__


@pytest.mark.flaw("D6-F9")
def test_the_signature_is_compared_in_constant_time(provider, alices_order):
    from conftest import signed

    _body, headers = signed(_full_payment(alices_order))
    comparisons = []
    watched = WatchedSignature(headers["HTTP_X_SIGNATURE"], comparisons)
    response = provider(_full_payment(alices_order), HTTP_X_SIGNATURE=watched)
    assert response.status_code == 200, response.content
    assert not comparisons, (
        f"the webhook compared the signature with {comparisons[0]}: == stops at the first "
        "differing character, so its timing tells an attacker how much of a forged "
        "signature is right. Use hmac.compare_digest"
    )


@pytest.mark.flaw("D6-F10")
@pytest.mark.parametrize(
    "amount",
    [
        pytest.param("0.01", id="one-cent"),
        pytest.param("39.97", id="one-cent-short"),
        pytest.param("19.99", id="one-line-of-two"),
        pytest.param("-39.98", id="negative"),
        pytest.param(None, id="no-amount"),
    ],
)
def test_a_genuine_payment_of_less_does_not_pay_the_order(provider, alices_order, amount):
    # The attacker really paid this amount through the provider's checkout, naming this order.
    event = {"type": "payment.succeeded", "order_id": alices_order["id"], "amount": amount}
    if amount is None:
        del event["amount"]  # an event that proves no amount at all
    provider(event)
    assert _status(alices_order) == "pending", (
        f"a payment of {amount} marked an order of {alices_order['total']} paid: the amount "
        "paid must equal the order total"
    )
    _assert_the_genuine_event_still_pays(provider, alices_order)


# --8<-- [end:webhook]


@pytest.mark.flaw("D6-F17")
@pytest.mark.parametrize(
    "age",
    [
        pytest.param(WEBHOOK_TOLERANCE + 60, id="signed-six-minutes-ago"),
        pytest.param(24 * 3600, id="signed-a-day-ago"),
        pytest.param(-(WEBHOOK_TOLERANCE + 60), id="dated-six-minutes-ahead"),
    ],
)
def test_an_old_signed_event_cannot_be_replayed(provider, alices_order, age):
    # A genuine event, captured from a log or a proxy and sent again later.
    response = provider(_full_payment(alices_order), age=age)
    assert _status(alices_order) == "pending", (
        f"an event signed {age} s ago marked the order paid: a captured event must stop "
        f"working once it is more than {WEBHOOK_TOLERANCE} s from now"
    )
    assert response.status_code in (400, 403)
    _assert_the_genuine_event_still_pays(provider, alices_order)


def test_a_captured_signature_does_not_sign_a_new_timestamp(provider, alices_order):
    from conftest import signed

    old_body, old_headers = signed(_full_payment(alices_order), age=24 * 3600)
    _body, fresh_headers = signed(_full_payment(alices_order))
    # The attacker keeps the old signature and writes a fresh timestamp next to it.
    provider(
        _full_payment(alices_order),
        signature=False,
        body=old_body,
        HTTP_X_SIGNATURE=old_headers["HTTP_X_SIGNATURE"],
        HTTP_X_SIGNATURE_TIMESTAMP=fresh_headers["HTTP_X_SIGNATURE_TIMESTAMP"],
    )
    assert _status(alices_order) == "pending", (
        "a day-old signature with a fresh timestamp header marked the order paid: the "
        "timestamp must be part of what is signed"
    )
    _assert_the_genuine_event_still_pays(provider, alices_order)
