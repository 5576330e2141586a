from django.urls import path
from rest_framework.routers import SimpleRouter

from shop import async_views, views

router = SimpleRouter()
router.register("orders", views.OrderViewSet, basename="order")

urlpatterns = [
    path("wallet/", views.WalletView.as_view()),
    # Async views: they wait on other services without holding a thread (config/asgi.py).
    path("products/<str:sku>/shipping-quote/", async_views.shipping_quote),
    path("orders/<int:pk>/status/", async_views.order_status),
    path("orders/<int:pk>/notify-warehouse/", async_views.notify_warehouse),
    *router.urls,
]
