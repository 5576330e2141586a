from django.urls import path

from orders import views

urlpatterns = [
    path("orders/", views.OrderListCreateView.as_view(), name="order-list"),
    path("orders/search/", views.OrderSearchView.as_view(), name="order-search"),
    path("orders/import/", views.OrderImportView.as_view(), name="order-import"),
    path("orders/<int:pk>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("payments/webhook/", views.PaymentWebhookView.as_view(), name="payment-webhook"),
]
