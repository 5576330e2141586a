import hashlib
import hmac
import logging
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time

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
    FeedImportSerializer,
    OrderSerializer,
    PaymentEventSerializer,
    SearchSerializer,
    StatementFilterSerializer,
)

logger = logging.getLogger(__name__)


class OrderPagination(PageNumberPagination):
    # Every list has a ceiling: a customer with 10,000 orders gets them 50 at a time.
    # https://www.django-rest-framework.org/api-guide/pagination/
    page_size = 50
    max_page_size = 50


def start_of_day(day):
    return datetime.combine(day, clock_time.min, tzinfo=timezone.get_current_timezone())


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
        date_to = dates.validated_data.get("date_to")
        # The calendar's last day has no next day (date.max + 1 day is an OverflowError),
        # and no order lies after it: it bounds nothing.
        if date_to is not None and date_to < date.max:
            # A half-open range with aware datetimes: everything before the start of the
            # NEXT day. Comparing with the date itself means midnight at the start of
            # date_to, which drops the whole last day.
            next_day = date_to + timedelta(days=1)
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
        search = SearchSerializer(data=self.request.query_params)
        search.is_valid(raise_exception=True)  # a bounded string, no NUL: else a 400
        # The ORM sends q as a bound parameter, never as SQL text, and escapes % and _ in
        # it: the same LIKE 'prefix%' the raw query ran, without the injection.
        # https://docs.djangoproject.com/en/5.2/topics/security/#sql-injection-protection
        q = search.validated_data["q"]
        return Order.objects.filter(owner=self.request.user, reference__startswith=q)


class OrderImportView(APIView):
    def post(self, request):
        params = FeedImportSerializer(data=request.data)  # a JSON array is a 400 too
        params.is_valid(raise_exception=True)
        try:
            orders = fetch_feed(params.validated_data["url"])
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
        # The provider signs "<timestamp>.<raw body>": the raw bytes, not a re-serialised
        # copy of the parsed JSON, and the timestamp with them, so it cannot be changed.
        timestamp = request.headers.get("X-Signature-Timestamp", "")
        signature = request.headers.get("X-Signature", "")
        expected = hmac.new(
            settings.PAYMENT_WEBHOOK_SECRET.encode(),
            timestamp.encode() + b"." + request.body,
            hashlib.sha256,
        ).hexdigest()
        # A missing signature is a wrong signature. compare_digest takes the same time
        # wherever the strings differ, so the comparison leaks nothing about `expected`.
        # https://docs.python.org/3/library/hmac.html#hmac.compare_digest
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return Response({"detail": "Invalid signature."}, status=403)
        # A genuine event captured once (a log, a proxy) must not work forever: only events
        # signed within the tolerance, either side of now, are taken.
        if not is_recent(timestamp, settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS):
            return Response({"detail": "The event's timestamp is outside the window."}, 403)

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


def is_recent(timestamp, tolerance):
    try:
        signed_at = int(timestamp)
    except ValueError:
        return False
    return abs(time.time() - signed_at) <= tolerance


class ReceiptView(LoginRequiredMixin, View):
    def get(self, request, pk):
        order = get_object_or_404(Order, pk=pk, owner=request.user)
        # The template escapes the note and then adds <br> for its line breaks
        # (|linebreaksbr). mark_safe() told Django the customer's text was trusted HTML.
        # https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#linebreaksbr
        return render(request, "orders/receipt.html", {"order": order})
