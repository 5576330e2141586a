from rest_framework import serializers

from orders.models import Order, OrderLine, Product


class OrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(write_only=True)
    product = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = OrderLine
        fields = ["id", "sku", "product", "quantity", "unit_price"]
        read_only_fields = ["unit_price"]


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, allow_empty=False)

    class Meta:
        model = Order
        fields = "__all__"
        read_only_fields = ["owner", "created_at"]

    def create(self, validated_data):
        lines = validated_data.pop("lines")
        order = Order.objects.create(**validated_data)
        total = 0.0
        for line in lines:
            try:
                product = Product.objects.get(sku=line["sku"], active=True)
            except Product.DoesNotExist:
                raise serializers.ValidationError(
                    {"lines": [f"Unknown product: {line['sku']}"]}
                ) from None
            OrderLine.objects.create(
                order=order,
                product=product,
                quantity=line["quantity"],
                unit_price=float(product.price),
            )
            total += float(product.price) * line["quantity"]
        order.total = total
        order.save()
        return order


class FeedImportSerializer(serializers.Serializer):
    url = serializers.CharField()


class PaymentEventSerializer(serializers.Serializer):
    type = serializers.CharField()
    order_id = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
