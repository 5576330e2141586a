from django.db.models import Count
from rest_framework import generics, mixins, viewsets
from rest_framework.permissions import IsAuthenticated

from events.models import Event, Ticket
from events.permissions import IsOrganizerOrReadOnly
from events.serializers import EventSerializer, TicketSerializer


class EventViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = EventSerializer
    permission_classes = [IsAuthenticated, IsOrganizerOrReadOnly]
    http_method_names = ["get", "post", "patch"]

    def get_queryset(self):
        events = (
            Event.objects.visible_to(self.request.user)
            .select_related("organizer")
            .order_by("starts_at", "id")
        )
        if self.action == "list":
            events = events.annotate(tickets_sold=Count("tickets"))
        return events

    def perform_create(self, serializer):
        serializer.save(organizer=self.request.user)


class EventTicketsView(generics.ListCreateAPIView):
    serializer_class = TicketSerializer

    def get_event(self):
        return generics.get_object_or_404(Event, pk=self.kwargs["event_pk"])

    def get_queryset(self):
        return Ticket.objects.filter(event=self.get_event())

    def perform_create(self, serializer):
        serializer.save(event=self.get_event())
