from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from shop import services
from shop.models import Order, Wallet
from shop.serializers import OrderSerializer


class OrderViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = OrderSerializer

    def get_queryset(self):
        return Order.objects.filter(customer=self.request.user).select_related("product")

    def create(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 64:
            raise ValidationError(
                {"Idempotency-Key": "Send a unique key of up to 64 characters with each order."}
            )
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order, created = services.place_order(
            customer=request.user,
            product=serializer.validated_data["product"],
            quantity=serializer.validated_data["quantity"],
            idempotency_key=key,
        )
        return Response(
            self.get_serializer(order).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = self.get_object()
        services.cancel_order(order)
        order.refresh_from_db()
        return Response(self.get_serializer(order).data)


class WalletView(APIView):
    def get(self, request):
        # A customer who never had store credit has no wallet row: that is a balance of
        # zero (place_order() refuses their orders with 402), not a server error.
        wallet = Wallet.objects.filter(customer=request.user).first()
        return Response({"balance_cents": wallet.balance_cents if wallet else 0})
