from decimal import Decimal

from django.db import transaction
from rest_framework import serializers

from orders.models import Order, OrderLine, Product

MAX_QUANTITY = 1000
MAX_LINES = 100
# Order.total is a DecimalField(max_digits=12, decimal_places=2). SQLite stores a larger
# value without complaint and every later read of it fails; PostgreSQL refuses the INSERT.
# Either way the serializer must refuse it first, with a 400.
MAX_TOTAL = Decimal("9999999999.99")


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
    lines = OrderLineSerializer(many=True, allow_empty=False, max_length=MAX_LINES)

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
        lines = [{**line, "product": products[line["sku"]]} for line in lines]
        total = order_total((line["product"].price, line["quantity"]) for line in lines)
        if total > MAX_TOTAL:
            raise serializers.ValidationError(
                f"The order's total would be {total}; an order can total at most {MAX_TOTAL}."
            )
        return lines

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
        order.total = order_total((ol.unit_price, ol.quantity) for ol in order_lines)
        order.save(update_fields=["total"])
        return order


def order_total(prices_and_quantities):
    # Decimal times int stays Decimal; the start value keeps an empty sum Decimal too.
    return sum((price * quantity for price, quantity in prices_and_quantities), Decimal("0.00"))


class StatementFilterSerializer(serializers.Serializer):
    """The list's optional ?date_from=&date_to= filter, validated like any other input."""

    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)

    def validate(self, attrs):
        if "date_from" in attrs and "date_to" in attrs and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError("date_from must not be after date_to.")
        return attrs


class FeedImportSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000)


class SearchSerializer(serializers.Serializer):
    # DRF's CharField also refuses NUL characters, which PostgreSQL cannot store or compare.
    q = serializers.CharField(max_length=64, allow_blank=True, required=False, default="")


class PaymentEventSerializer(serializers.Serializer):
    type = serializers.CharField(max_length=64)
    # The id column's range: a larger number is a 400 here, not an error in the database.
    order_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
