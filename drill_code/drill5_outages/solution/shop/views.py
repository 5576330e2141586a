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


class ProductListView(APIView):
    def get(self, request):
        last_good = caches["last-good"]
        try:
            with database():
                products = list(ProductSerializer(Product.objects.all(), many=True).data)
        except DatabaseUnavailable:
            return self.last_good_copy(last_good)
        # One key: the catalogue is one resource, whatever query string a client adds.
        last_good.set(CATALOGUE_KEY, {"products": products, "stored_at": time.time()})
        # A CDN may keep a fresh answer for a few seconds, and serve it stale for as
        # long as we would ourselves if we answer with an error (RFC 5861).
        cache_control = f"max-age=5, stale-if-error={last_good.default_timeout}"
        return Response(products, headers={"Cache-Control": cache_control})

    @staticmethod
    def last_good_copy(last_good):
        saved = last_good.get(CATALOGUE_KEY)
        if saved is None:
            # Nothing safe to serve. An empty list would be a lie that looks like
            # success ("we sell nothing"); a 503 tells the client to come back.
            raise DatabaseUnavailable()
        # The last good copy, marked as such: Age is the standard header for "this
        # answer is N seconds old" (RFC 9111, section 5.1); clients and monitoring can
        # tell a stale answer from a fresh one without parsing the body. The wall
        # clock, not a monotonic one: a copy kept in Redis is read by other processes,
        # and their monotonic clocks mean nothing to this one.
        age = max(0, int(time.time() - saved["stored_at"]))
        return Response(saved["products"], headers={"Age": str(age), "Cache-Control": "no-cache"})


class OutOfStock(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Not enough stock."
    default_code = "out_of_stock"


class KeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used for a different order."
    default_code = "idempotency_key_reused"


IDEMPOTENCY_KEY_MAX_LENGTH = 64


def idempotency_key(request):
    """The Idempotency-Key header, or None. Printable ASCII only: a header value is
    ASCII, and a control character (NUL in particular, which PostgreSQL refuses in
    text) must be a 400 here, not an error from the database."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return None
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not (key.isascii() and key.isprintable()):
        raise ValidationError(
            {"Idempotency-Key": f"At most {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters."}
        )
    return key


class OrderCreateView(APIView):
    """POST an order. Send an Idempotency-Key header (any unique string up to 64
    characters) and retry with the same key: the order is created exactly once."""

    def post(self, request):
        key = idempotency_key(request)
        serializer = OrderSerializer(data=request.data)
        with database():
            # Validate first, replay or not: a retry is compared by what it means, and a
            # body that is no order at all (a JSON array, a string) is a 400 either way.
            serializer.is_valid(raise_exception=True)
            if key is not None:
                earlier = Order.objects.filter(idempotency_key=key).first()
                if earlier is not None:
                    return self.replay(earlier, serializer.validated_data)
            try:
                order = self.place(serializer, key)
            except IntegrityError:
                # Another copy of this request committed first (the unique key said so).
                earlier = Order.objects.filter(idempotency_key=key).first() if key else None
                if earlier is None:
                    raise
                return self.replay(earlier, serializer.validated_data)
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def place(serializer, key):
        product = serializer.validated_data["product"]
        quantity = serializer.validated_data["quantity"]
        # One transaction: the order, its key and the stock move together or not at all.
        # If the connection dies between the two statements, the database rolls both back.
        with transaction.atomic():
            order = serializer.save(unit_price=product.price, idempotency_key=key)
            taken = Product.objects.filter(pk=product.pk, stock__gte=quantity).update(
                stock=F("stock") - quantity
            )
            if not taken:
                raise OutOfStock()  # leaving the block rolls the order back too
        return order

    @staticmethod
    def replay(order, wanted):
        """Answer a retry with the order it already created, as the first answer was."""
        same = (
            wanted["product"].pk == order.product_id
            and wanted["quantity"] == order.quantity
            and wanted.get("reference", "") == order.reference
        )
        if not same:
            raise KeyReused()
        return Response(
            OrderSerializer(order).data,
            status=status.HTTP_201_CREATED,
            headers={"Idempotent-Replayed": "true"},
        )


class LivenessView(APIView):
    """Is this process able to answer at all? Nothing else.

    A liveness probe that checks the database makes the orchestrator restart every
    replica when the database blips: the outage becomes a fleet-wide cold start, and
    no replica is left to serve the last good data.
    """

    def get(self, request):
        return Response({"status": "alive"})


class ReadinessView(APIView):
    """Should the load balancer send this process traffic? Yes while it has something
    useful to serve: the database answers, or it holds a last good catalogue.

    The database is shared by every replica. A readiness probe that fails whenever the
    database does takes every replica out of the load balancer at once, and then nobody
    serves the cached catalogue or the 503 that tells clients when to retry: they get
    connection errors from the load balancer instead. A replica that has nothing to
    serve (it started during the outage) is not ready, so traffic goes to the ones that
    do. The database check goes through the breaker: free while the breaker is open.
    """

    def get(self, request):
        try:
            with database(), connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseUnavailable:
            if caches["last-good"].get(CATALOGUE_KEY) is None:
                raise
            return Response({"status": "ready", "database": "unavailable", "catalogue": "stale"})
        return Response({"status": "ready", "database": "ok", "catalogue": "fresh"})
