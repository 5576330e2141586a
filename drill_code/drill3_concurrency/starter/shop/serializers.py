from rest_framework import serializers

from shop.models import Order, Product

# total_cents is a PositiveIntegerField: a 32-bit column on PostgreSQL. A larger total
# would fail the INSERT with a 500 there, and be stored on SQLite.
MAX_TOTAL_CENTS = 2**31 - 1


class OrderSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="sku", queryset=Product.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=100)

    class Meta:
        model = Order
        fields = ["id", "product", "quantity", "total_cents", "status", "created_at"]
        read_only_fields = ["total_cents", "status", "created_at"]

    def validate(self, attrs):
        if attrs["product"].price_cents * attrs["quantity"] > MAX_TOTAL_CENTS:
            raise serializers.ValidationError("This order's total is too large.")
        return attrs
