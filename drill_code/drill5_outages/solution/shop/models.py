from django.db import models


class Product(models.Model):
    sku = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sku"]

    def __str__(self):
        return self.sku


class Order(models.Model):
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="orders")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    # The customer's own reference, e.g. their purchase-order number.
    reference = models.CharField(max_length=64, blank=True)
    # The client's Idempotency-Key header. Unique, so a retried request can never create
    # a second order, even when two copies of it arrive at the same moment: the database
    # enforces it, not a read-then-write check in Python.
    idempotency_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.quantity} x {self.product_id}"
