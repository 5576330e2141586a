from django.db import transaction
from django.db.models import Count
from rest_framework import generics, mixins, viewsets
from rest_framework.permissions import IsAuthenticated

from events.exceptions import Conflict
from events.models import Event, Ticket
from events.permissions import IsOrganizerOrReadOnly, OnlyTheOrganizerSeesAttendees
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
        events = Event.objects.visible_to(self.request.user).order_by("starts_at", "id")
        if self.action == "partial_update":
            # Lock the event row for the whole PATCH, as a booking does: the serializer
            # checks the new capacity against the tickets sold, and a booking must not
            # slip in between that count and the write. `of` keeps the user row unlocked.
            return events.select_related("organizer").select_for_update(of=("self",))
        events = events.select_related("organizer")
        if self.action == "list":
            events = events.annotate(tickets_sold=Count("tickets"))
        return events

    @transaction.atomic
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.save(organizer=self.request.user)


class EventTicketsView(generics.ListCreateAPIView):
    serializer_class = TicketSerializer
    # Anyone signed in may book; the attendee list (names and e-mail addresses) is the
    # organizer's alone.
    permission_classes = [IsAuthenticated, OnlyTheOrganizerSeesAttendees]

    def get_event(self, *, lock=False):
        events = Event.objects.visible_to(self.request.user)
        if lock:
            events = events.select_for_update()
        event = generics.get_object_or_404(events, pk=self.kwargs["event_pk"])
        self.check_object_permissions(self.request, event)
        return event

    def get_queryset(self):
        return Ticket.objects.filter(event=self.get_event())

    @transaction.atomic
    def create(self, request, *args, **kwargs):
        # The whole booking is one transaction that holds the event's row lock: two
        # bookings of the last seat queue on it, and the second one counts the first.
        self.event = self.get_event(lock=True)
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        event = self.event
        # Only a published event is on sale: a draft is not announced yet, a cancelled
        # event will not take place. Name the one state that allows it, not the ones
        # that do not, so a status added later is closed until someone opens it.
        if event.status != Event.Status.PUBLISHED:
            raise Conflict(f"This event is {event.status}; it is not on sale.", "not_on_sale")
        if event.tickets.count() >= event.capacity:
            raise Conflict("This event is sold out.", "sold_out")
        # The price is the event's price at the time of booking, decided here and
        # nowhere else: price_paid is read-only in the serializer.
        serializer.save(event=event, price_paid=event.price)
