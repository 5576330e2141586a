from django.urls import include, path
from orders.views import ReceiptView

urlpatterns = [
    path("api/", include("orders.urls")),
    path("orders/<int:pk>/receipt/", ReceiptView.as_view(), name="order-receipt"),
]
