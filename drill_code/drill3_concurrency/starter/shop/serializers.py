from rest_framework import serializers

from shop.models import Order, Product


class OrderSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="sku", queryset=Product.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=100)

    class Meta:
        model = Order
        fields = ["id", "product", "quantity", "total_cents", "status", "created_at"]
        read_only_fields = ["total_cents", "status", "created_at"]
