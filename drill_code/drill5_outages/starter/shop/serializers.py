from rest_framework import serializers

from shop.models import Order, Product


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "name", "price", "stock"]


class OrderSerializer(serializers.ModelSerializer):
    quantity = serializers.IntegerField(min_value=1, max_value=100)

    class Meta:
        model = Order
        fields = ["id", "product", "quantity", "unit_price", "reference", "created_at"]
        read_only_fields = ["unit_price", "created_at"]
