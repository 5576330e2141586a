from django.urls import path
from rest_framework.routers import SimpleRouter

from shop import views

router = SimpleRouter()
router.register("orders", views.OrderViewSet, basename="order")

urlpatterns = [
    path("wallet/", views.WalletView.as_view()),
    *router.urls,
]
