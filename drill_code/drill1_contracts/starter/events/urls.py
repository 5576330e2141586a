from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from events import views

router = SimpleRouter()
router.register("events", views.EventViewSet, basename="event")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("events/<int:event_pk>/tickets/", views.EventTicketsView.as_view()),
    *router.urls,
]
