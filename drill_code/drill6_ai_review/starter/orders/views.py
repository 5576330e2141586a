import hashlib
import hmac

import requests
import yaml
from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe
from django.views import View
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.models import Order
from orders.serializers import FeedImportSerializer, OrderSerializer, PaymentEventSerializer


class OrderListCreateView(generics.ListCreateAPIView):
    serializer_class = OrderSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        queryset = Order.objects.filter(owner=self.request.user).prefetch_related("lines__product")
        date_from = self.request.query_params.get("date_from")
        date_to = self.request.query_params.get("date_to")
        if date_from:
            queryset = queryset.filter(created_at__gte=date_from)
        if date_to:
            queryset = queryset.filter(created_at__lte=date_to)
        return queryset

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)


class OrderDetailView(generics.RetrieveAPIView):
    queryset = Order.objects.prefetch_related("lines__product")
    serializer_class = OrderSerializer
    permission_classes = [IsAuthenticated]


class OrderSearchView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        q = request.query_params.get("q", "")
        orders = Order.objects.raw(
            f"SELECT * FROM orders_order WHERE owner_id = {request.user.id} "
            f"AND reference LIKE '{q}%%' ORDER BY created_at DESC"
        )
        return Response(OrderSerializer(orders, many=True).data)


class OrderImportView(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request):
        params = FeedImportSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        url = params.validated_data["url"]
        try:
            response = requests.get(url)
            response.raise_for_status()
        except requests.RequestException as exc:
            return Response({"detail": f"Could not fetch the feed: {exc}"}, status=502)

        if url.endswith((".yaml", ".yml")):
            feed = yaml.load(response.text, Loader=yaml.Loader)
        else:
            feed = response.json()

        serializer = OrderSerializer(data=feed["orders"], many=True)
        serializer.is_valid(raise_exception=True)
        serializer.save(owner=request.user)
        return Response({"imported": len(serializer.data)}, status=status.HTTP_201_CREATED)


class PaymentWebhookView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request):
        signature = request.headers.get("X-Signature")
        timestamp = request.headers.get("X-Signature-Timestamp", "")
        expected = hmac.new(
            settings.PAYMENT_WEBHOOK_SECRET.encode(),
            f"{timestamp}.".encode() + request.body,
            hashlib.sha256,
        ).hexdigest()
        if signature and signature != expected:
            return Response({"detail": "Invalid signature."}, status=403)

        event = PaymentEventSerializer(data=request.data)
        event.is_valid(raise_exception=True)
        if event.validated_data["type"] == "payment.succeeded":
            order = get_object_or_404(Order, pk=event.validated_data["order_id"])
            order.status = Order.Status.PAID
            order.save()
        return Response({"received": True})


class ReceiptView(LoginRequiredMixin, View):
    def get(self, request, pk):
        order = get_object_or_404(Order, pk=pk)
        note = mark_safe(order.note.replace("\n", "<br>"))
        return render(request, "orders/receipt.html", {"order": order, "note": note})
