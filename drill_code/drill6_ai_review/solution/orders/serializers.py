from decimal import Decimal

from django.db import transaction
from rest_framework import serializers

from orders.models import Order, OrderLine, Product

MAX_QUANTITY = 1000


class OrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(write_only=True, max_length=32)
    product = serializers.StringRelatedField(read_only=True)
    # An explicit range: a ModelSerializer maps IntegerField to "any integer", and a
    # negative line would be a credit against the rest of the order.
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)

    class Meta:
        model = OrderLine
        fields = ["id", "sku", "product", "quantity", "unit_price"]
        read_only_fields = ["unit_price"]


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, allow_empty=False)

    class Meta:
        model = Order
        # An allow-list, not "__all__": a field added to the model later must not become
        # writable by accident. Everything the server decides (status, total) is read-only.
        fields = ["id", "reference", "note", "status", "total", "lines", "created_at"]
        read_only_fields = ["status", "total", "created_at"]

    def validate_lines(self, lines):
        # Check every line before anything is written: the request either fails whole,
        # with a 400 naming the bad SKUs, or succeeds whole.
        skus = {line["sku"] for line in lines}
        products = {p.sku: p for p in Product.objects.filter(sku__in=skus, active=True)}
        unknown = sorted(skus - products.keys())
        if unknown:
            raise serializers.ValidationError(f"Unknown product: {', '.join(unknown)}")
        return [{**line, "product": products[line["sku"]]} for line in lines]

    # atomic() as well as validating first: a failure after the first INSERT (a database
    # constraint, a crash) rolls the order back instead of leaving half of it behind.
    # https://docs.djangoproject.com/en/5.2/topics/db/transactions/#controlling-transactions-explicitly
    @transaction.atomic
    def create(self, validated_data):
        lines = validated_data.pop("lines")
        order = Order.objects.create(**validated_data)
        order_lines = [
            OrderLine(
                order=order,
                product=line["product"],
                quantity=line["quantity"],
                unit_price=line["product"].price,
            )
            for line in lines
        ]
        OrderLine.objects.bulk_create(order_lines)
        # Decimal times int stays Decimal; the start value keeps an empty sum Decimal too.
        order.total = sum((ol.unit_price * ol.quantity for ol in order_lines), Decimal("0.00"))
        order.save(update_fields=["total"])
        return order


class StatementFilterSerializer(serializers.Serializer):
    """The list's optional ?date_from=&date_to= filter, validated like any other input."""

    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)

    def validate(self, attrs):
        if "date_from" in attrs and "date_to" in attrs and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError("date_from must not be after date_to.")
        return attrs


class PaymentEventSerializer(serializers.Serializer):
    type = serializers.CharField()
    order_id = serializers.IntegerField(required=False)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
