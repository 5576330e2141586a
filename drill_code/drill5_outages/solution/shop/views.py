import logging
import time

from django.core.cache import caches
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.models import Order, Product
from shop.resilience import DatabaseUnavailable, database
from shop.serializers import OrderSerializer, ProductSerializer

logger = logging.getLogger(__name__)

CATALOGUE_KEY = "catalogue"
# Fresh answers may be kept by a CDN for a few seconds, and served stale by it for ten
# minutes if we answer with an error (RFC 5861): a second line of fallback.
FRESH_CACHE_CONTROL = "max-age=5, stale-if-error=600"


# --8<-- [start:catalogue]
class ProductListView(APIView):
    def get(self, request):
        last_good = caches["last-good"]
        try:
            with database():
                products = list(ProductSerializer(Product.objects.all(), many=True).data)
        except DatabaseUnavailable:
            saved = last_good.get(CATALOGUE_KEY)
            if saved is None:
                # Nothing safe to serve. An empty list would be a lie that looks like
                # success ("we sell nothing"); a 503 tells the client to come back.
                raise
            # The last good copy, marked as such: Age is the standard header for "this
            # answer is N seconds old" (RFC 9111, section 5.1); clients and monitoring
            # can tell a stale answer from a fresh one without parsing the body.
            age = max(0, int(time.time() - saved["stored_at"]))
            return Response(
                saved["products"], headers={"Age": str(age), "Cache-Control": "no-cache"}
            )
        last_good.set(CATALOGUE_KEY, {"products": products, "stored_at": time.time()})
        return Response(products, headers={"Cache-Control": FRESH_CACHE_CONTROL})


# --8<-- [end:catalogue]


class OutOfStock(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Not enough stock."
    default_code = "out_of_stock"


class KeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used for a different order."
    default_code = "idempotency_key_reused"


# --8<-- [start:orders]
class OrderCreateView(APIView):
    """POST an order. Send an Idempotency-Key header (any unique string up to 64
    characters) and retry with the same key: the order is created exactly once."""

    def post(self, request):
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > 64:
            raise ValidationError({"Idempotency-Key": "At most 64 characters."})
        serializer = OrderSerializer(data=request.data)
        with database():
            if key is not None:
                earlier = Order.objects.filter(idempotency_key=key).first()
                if earlier is not None:
                    return self.replay(earlier, request.data)
            serializer.is_valid(raise_exception=True)
            try:
                order = self.place(serializer, key)
            except IntegrityError:
                # Another copy of this request committed first (the unique key said so).
                earlier = Order.objects.filter(idempotency_key=key).first() if key else None
                if earlier is None:
                    raise
                return self.replay(earlier, request.data)
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def place(serializer, key):
        product = serializer.validated_data["product"]
        quantity = serializer.validated_data["quantity"]
        # One transaction: the order and the stock move together or not at all. If the
        # connection dies between the two statements, PostgreSQL rolls both back.
        with transaction.atomic():
            order = serializer.save(unit_price=product.price, idempotency_key=key)
            taken = Product.objects.filter(pk=product.pk, stock__gte=quantity).update(
                stock=F("stock") - quantity
            )
            if not taken:
                raise OutOfStock()  # leaving the block rolls the order back too
        return order

    @staticmethod
    def replay(order, data):
        """Answer a retry with the order it already created, as the first answer was."""
        same = (
            str(data.get("product")) == str(order.product_id)
            and str(data.get("quantity")) == str(order.quantity)
            and (data.get("reference") or "") == order.reference
        )
        if not same:
            raise KeyReused()
        return Response(
            OrderSerializer(order).data,
            status=status.HTTP_201_CREATED,
            headers={"Idempotent-Replayed": "true"},
        )


# --8<-- [end:orders]


# --8<-- [start:health]
class LivenessView(APIView):
    """Is this process able to answer at all? Nothing else.

    A liveness probe that checks the database makes the orchestrator restart every
    replica when the database blips: the outage becomes a fleet-wide cold start, and
    no replica is left to serve the last good data.
    """

    def get(self, request):
        return Response({"status": "alive"})


class ReadinessView(APIView):
    """Can this process do useful work now? Through the breaker, so an outage costs the
    probe nothing while the breaker is open."""

    def get(self, request):
        with database(), connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Response({"status": "ready", "database": "ok"})


# --8<-- [end:health]
