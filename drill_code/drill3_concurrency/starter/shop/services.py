"""What happens when a customer places or cancels an order."""

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


class NotCancellable(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This order is already cancelled."
    default_code = "not_cancellable"


def place_order(*, customer, product: Product, quantity: int, idempotency_key: str):
    """Create the order, reserve the stock and charge the wallet: all of it, or nothing.

    Returns (order, created). A retry with the same idempotency key gets the first order.
    """
    with transaction.atomic():
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
            return order, False

        if product.stock < quantity:
            raise OutOfStock()
        product.stock -= quantity
        product.save(update_fields=["stock"])

        wallet = Wallet.objects.filter(customer=customer).first()
        if wallet is None or wallet.balance_cents < order.total_cents:
            raise InsufficientFunds()
        wallet.balance_cents -= order.total_cents
        wallet.save(update_fields=["balance_cents"])
    return order, True


def cancel_order(order: Order) -> None:
    """Cancel the order, put the stock back and refund the wallet."""
    with transaction.atomic():
        cancelled = Order.objects.filter(
            pk=order.pk, status__in=[Order.Status.PLACED, Order.Status.CONFIRMED]
        ).update(status=Order.Status.CANCELLED)
        if not cancelled:
            raise NotCancellable()
        Product.objects.filter(pk=order.product_id).update(stock=F("stock") + order.quantity)
        Wallet.objects.filter(customer_id=order.customer_id).update(
            balance_cents=F("balance_cents") + order.total_cents
        )
