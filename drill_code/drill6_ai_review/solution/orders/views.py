import hashlib
import hmac
import logging
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views import View
from rest_framework import generics, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.feeds import FeedError, fetch_feed
from orders.models import Order
from orders.serializers import (
    OrderSerializer,
    PaymentEventSerializer,
    StatementFilterSerializer,
)

logger = logging.getLogger(__name__)


class OrderPagination(PageNumberPagination):
    # Every list has a ceiling: a customer with 10,000 orders gets them 50 at a time.
    # https://www.django-rest-framework.org/api-guide/pagination/
    page_size = 50
    max_page_size = 50


def start_of_day(day):
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class OrderListCreateView(generics.ListCreateAPIView):
    serializer_class = OrderSerializer
    pagination_class = OrderPagination

    def get_queryset(self):
        dates = StatementFilterSerializer(data=self.request.query_params)
        dates.is_valid(raise_exception=True)  # a malformed date is a 400, not a 500
        queryset = Order.objects.filter(owner=self.request.user).prefetch_related("lines__product")
        if "date_from" in dates.validated_data:
            queryset = queryset.filter(
                created_at__gte=start_of_day(dates.validated_data["date_from"])
            )
        if "date_to" in dates.validated_data:
            # A half-open range with aware datetimes: everything before the start of the
            # NEXT day. Comparing with the date itself means midnight at the start of
            # date_to, which drops the whole last day.
            next_day = dates.validated_data["date_to"] + timedelta(days=1)
            queryset = queryset.filter(created_at__lt=start_of_day(next_day))
        return queryset

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)


class OrderDetailView(generics.RetrieveAPIView):
    serializer_class = OrderSerializer

    def get_queryset(self):
        # Scoped like the list: another customer's order id is a 404, so ids cannot even
        # be probed for existence (OWASP API1, broken object-level authorization).
        return Order.objects.filter(owner=self.request.user).prefetch_related("lines__product")


class OrderSearchView(generics.ListAPIView):
    serializer_class = OrderSerializer
    pagination_class = OrderPagination

    def get_queryset(self):
        # The ORM sends q as a bound parameter, never as SQL text. It is as fast as the raw
        # query was: both are one indexed LIKE 'prefix%'.
        # https://docs.djangoproject.com/en/5.2/topics/security/#sql-injection-protection
        q = self.request.query_params.get("q", "")
        return Order.objects.filter(owner=self.request.user, reference__startswith=q)


class OrderImportView(APIView):
    def post(self, request):
        url = request.data.get("url")
        if not isinstance(url, str) or not url:
            return Response({"url": ["This field is required."]}, status=400)
        try:
            orders = fetch_feed(url)
        except FeedError as problem:
            return Response({"detail": str(problem)}, status=problem.status)
        serializer = OrderSerializer(data=orders, many=True)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():  # the whole feed or none of it
            serializer.save(owner=request.user)
        return Response({"imported": len(serializer.data)}, status=status.HTTP_201_CREATED)


class PaymentWebhookView(APIView):
    authentication_classes = []  # the signature is the authentication
    permission_classes = [AllowAny]

    def post(self, request):
        expected = hmac.new(
            settings.PAYMENT_WEBHOOK_SECRET.encode(), request.body, hashlib.sha256
        ).hexdigest()
        signature = request.headers.get("X-Signature", "")
        # A missing signature is a wrong signature. compare_digest takes the same time
        # wherever the strings differ, so the comparison leaks nothing about `expected`.
        # https://docs.python.org/3/library/hmac.html#hmac.compare_digest
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return Response({"detail": "Invalid signature."}, status=403)

        event = PaymentEventSerializer(data=request.data)
        event.is_valid(raise_exception=True)
        if event.validated_data["type"] != "payment.succeeded":
            return Response({"received": True})
        if "order_id" not in event.validated_data or "amount" not in event.validated_data:
            return Response({"detail": "order_id and amount are required."}, status=400)

        with transaction.atomic():
            order = get_object_or_404(
                Order.objects.select_for_update(), pk=event.validated_data["order_id"]
            )
            # A payment is proof of *that amount*, not of the order. Anyone can pay 0.01
            # through the provider's checkout with an order id of their choosing.
            if event.validated_data["amount"] != order.total:
                logger.warning(
                    "Payment of %s for order %s (total %s) ignored",
                    event.validated_data["amount"],
                    order.pk,
                    order.total,
                )
                return Response({"received": True, "applied": False})
            if order.status == Order.Status.PENDING:
                order.status = Order.Status.PAID
                order.save(update_fields=["status"])
        return Response({"received": True, "applied": True})


class ReceiptView(LoginRequiredMixin, View):
    def get(self, request, pk):
        order = get_object_or_404(Order, pk=pk, owner=request.user)
        # The template escapes the note and then adds <br> for its line breaks
        # (|linebreaksbr). mark_safe() told Django the customer's text was trusted HTML.
        # https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#linebreaksbr
        return render(request, "orders/receipt.html", {"order": order})
