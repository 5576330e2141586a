import logging

from django.core.cache import cache
from django.db import DatabaseError, OperationalError, connection
from django.db.models import F
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.models import Product
from shop.serializers import OrderSerializer, ProductSerializer

logger = logging.getLogger(__name__)

CATALOGUE_CACHE_KEY = "shop:catalogue"


def with_retries(operation, attempts=3):
    """Run a database read, retrying when the connection drops: most blips pass at once."""
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except OperationalError:
            if attempt == attempts:
                raise
            logger.warning("database error, retrying (%d/%d)", attempt, attempts)
            connection.close()  # the next attempt opens a fresh connection


def cached_catalogue():
    try:
        return cache.get(CATALOGUE_CACHE_KEY, [])
    except Exception:  # a cache problem must never break the page
        logger.warning("catalogue cache unavailable")
        return []


class ProductListView(APIView):
    def get(self, request):
        try:
            products = with_retries(
                lambda: list(ProductSerializer(Product.objects.all(), many=True).data)
            )
            cache.set(CATALOGUE_CACHE_KEY, products, timeout=None)
        except DatabaseError:
            logger.exception("catalogue query failed, serving the cached copy")
            products = cached_catalogue()
        return Response(products)


class OrderCreateView(APIView):
    def post(self, request):
        serializer = OrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = serializer.validated_data["product"]
        quantity = serializer.validated_data["quantity"]
        if product.stock < quantity:
            return Response(
                {"detail": "Not enough stock.", "code": "out_of_stock"},
                status=status.HTTP_409_CONFLICT,
            )
        order = serializer.save(unit_price=product.price)
        Product.objects.filter(pk=product.pk).update(stock=F("stock") - quantity)
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


class HealthView(APIView):
    """The service is healthy when it can reach its database."""

    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            return Response({"status": "unavailable"}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"status": "ok"})
