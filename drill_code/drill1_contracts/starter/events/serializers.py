from django.contrib.auth import get_user_model
from rest_framework import serializers

from events.models import Event, Ticket


class OrganizerSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = "__all__"


class EventSerializer(serializers.ModelSerializer):
    title = serializers.CharField(help_text="Shown on the ticket and in listings.")
    host = OrganizerSerializer(source="organizer", read_only=True)
    seats_left = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = [
            "id",
            "title",
            "description",
            "status",
            "starts_at",
            "capacity",
            "price",
            "host",
            "seats_left",
            "created_at",
        ]
        extra_kwargs = {"description": {"max_length": 5000}}

    def get_seats_left(self, obj) -> int | None:
        if not hasattr(obj, "tickets_sold"):
            return None
        return obj.capacity - obj.tickets_sold


class TicketSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = ["id", "event", "holder_name", "holder_email", "price_paid", "created_at"]
        read_only_fields = ["event", "created_at"]
