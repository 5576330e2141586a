from django.urls import path

from shop import views

urlpatterns = [
    path("products/", views.ProductListView.as_view()),
    path("orders/", views.OrderCreateView.as_view()),
    # Kubernetes probes.
    path("health/live/", views.HealthView.as_view()),
    path("health/ready/", views.HealthView.as_view()),
]
