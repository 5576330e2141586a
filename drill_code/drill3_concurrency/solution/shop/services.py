"""What happens when a customer places or cancels an order.

Every write below is a single UPDATE whose WHERE clause states the condition, so the
database checks and changes the row in one step, under the row lock. Nothing is read into
Python, changed there and written back: that is where concurrent requests lose updates.
"""

from django.db import transaction
from django.db.models import F
from rest_framework import status
from rest_framework.exceptions import APIException

from shop.models import Order, Product, Wallet


class OutOfStock(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Not enough stock for this order."
    default_code = "out_of_stock"


class InsufficientFunds(APIException):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    default_detail = "Your wallet balance does not cover this order."
    default_code = "insufficient_funds"


class IdempotencyKeyReused(APIException):
    # 422, as the IETF draft on the Idempotency-Key header advises: the key names a
    # request the server already handled, and this body is a different request.
    # https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used for a different order."
    default_code = "idempotency_key_reused"


class NotCancellable(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This order is already cancelled."
    default_code = "not_cancellable"


# --8<-- [start:place-order]
def place_order(*, customer, product: Product, quantity: int, idempotency_key: str):
    """Create the order, reserve the stock and charge the wallet: all of it, or nothing.

    Returns (order, created). A retry with the same idempotency key and the same order
    gets the first order back; the same key with a different order is refused.
    """
    with transaction.atomic():
        # Safe under concurrency because of the unique constraint on (customer, key):
        # a concurrent twin waits for this transaction, then gets this order back.
        order, created = Order.objects.get_or_create(
            customer=customer,
            idempotency_key=idempotency_key,
            defaults={
                "product": product,
                "quantity": quantity,
                "total_cents": product.price_cents * quantity,
            },
        )
        if not created:
            # A retry must be the same request. The same key with another product or
            # quantity is a client bug (a key reused for a new order): answering with the
            # first order would tell the client that its new order was placed. This runs
            # on both ways get_or_create() finds the order: already committed, or
            # inserted by a concurrent twin that this INSERT waited for.
            if (order.product_id, order.quantity) != (product.pk, quantity):
                raise IdempotencyKeyReused()
            return order, False

        # Check and decrement in one conditional UPDATE. A concurrent order for the same
        # product waits on the row lock, then re-evaluates `stock >= quantity` against the
        # committed value (READ COMMITTED), so the last unit is sold exactly once.
        # `product.stock`, read by the serializer before the transaction, is never trusted.
        reserved = Product.objects.filter(pk=product.pk, stock__gte=quantity).update(
            stock=F("stock") - quantity
        )
        if not reserved:
            raise OutOfStock()  # leaving atomic() rolls the order back too

        # F() makes the database compute the new balance from the current one, so two
        # charges both land; the WHERE clause refuses an overdraft in the same step.
        # https://docs.djangoproject.com/en/5.2/ref/models/expressions/#avoiding-race-conditions-using-f
        charged = Wallet.objects.filter(
            customer=customer, balance_cents__gte=order.total_cents
        ).update(balance_cents=F("balance_cents") - order.total_cents)
        if not charged:
            raise InsufficientFunds()
    return order, True


# --8<-- [end:place-order]


def cancel_order(order: Order) -> None:
    """Cancel the order, put the stock back and refund the wallet."""
    with transaction.atomic():
        # The status change is the guard: of two concurrent cancels only one updates a
        # row, so the refund happens once.
        cancelled = (
            Order.objects.filter(pk=order.pk)
            .exclude(status=Order.Status.CANCELLED)
            .update(status=Order.Status.CANCELLED)
        )
        if not cancelled:
            raise NotCancellable()
        Product.objects.filter(pk=order.product_id).update(stock=F("stock") + order.quantity)
        Wallet.objects.filter(customer_id=order.customer_id).update(
            balance_cents=F("balance_cents") + order.total_cents
        )
