from django.conf import settings
from django.db import models


class Product(models.Model):
    sku = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    price_cents = models.PositiveIntegerField()
    stock = models.IntegerField(default=0)

    def __str__(self):
        return self.sku


class Wallet(models.Model):
    """Store credit: orders are paid from it."""

    customer = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wallet"
    )
    balance_cents = models.IntegerField(default=0)

    def __str__(self):
        return f"{self.customer}: {self.balance_cents}"


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed"
        CONFIRMED = "confirmed"
        CANCELLED = "cancelled"

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="orders"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="orders")
    quantity = models.PositiveIntegerField()
    total_cents = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLACED)
    # The client sends the same key when it retries a request, so a retry finds the order.
    idempotency_key = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"Order #{self.pk}"
