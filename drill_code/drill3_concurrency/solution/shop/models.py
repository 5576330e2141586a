from django.conf import settings
from django.db import models


class Product(models.Model):
    sku = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    price_cents = models.PositiveIntegerField()
    stock = models.IntegerField(default=0)

    class Meta:
        # The last line of defence: whatever the code does, the database refuses to sell
        # stock it does not have. A violation raises IntegrityError instead of overselling.
        constraints = [
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="stock_not_negative")
        ]

    def __str__(self):
        return self.sku


class Wallet(models.Model):
    """Store credit: orders are paid from it."""

    customer = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wallet"
    )
    balance_cents = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance_cents__gte=0), name="balance_not_negative"
            )
        ]

    def __str__(self):
        return f"{self.customer}: {self.balance_cents}"


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed"
        CONFIRMED = "confirmed"
        CANCELLED = "cancelled"
        # The confirmation ran out of retries: the order stands (stock reserved, wallet
        # charged) but the customer was never told. A state of its own, not "placed"
        # forever, so support can find these orders and resend or refund.
        UNCONFIRMED = "unconfirmed"

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="orders"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="orders")
    quantity = models.PositiveIntegerField()
    total_cents = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLACED)
    # The client sends the same key when it retries a request, so a retry finds the order.
    idempotency_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        # get_or_create() is a SELECT then an INSERT; only a unique constraint makes it
        # safe under concurrency. The second INSERT waits for the first transaction, fails
        # with IntegrityError, and get_or_create() then returns the row that won.
        # https://docs.djangoproject.com/en/5.2/ref/models/querysets/#get-or-create
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"], name="one_order_per_idempotency_key"
            )
        ]

    def __str__(self):
        return f"Order #{self.pk}"
