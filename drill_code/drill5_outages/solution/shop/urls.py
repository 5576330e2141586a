from django.urls import path

from shop import views

urlpatterns = [
    path("products/", views.ProductListView.as_view()),
    path("orders/", views.OrderCreateView.as_view()),
    # Two probes, two questions. Liveness: is this process stuck (restart it)?
    # Readiness: can it do useful work right now (send it traffic)?
    path("health/live/", views.LivenessView.as_view()),
    path("health/ready/", views.ReadinessView.as_view()),
]
