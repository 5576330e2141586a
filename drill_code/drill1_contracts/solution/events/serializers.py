from django.contrib.auth import get_user_model
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from events.fields import MoneyField, UtcDateTimeField
from events.models import Event, Ticket

DESCRIPTION_MAX_LENGTH = 5000


class ApiModelSerializer(serializers.ModelSerializer):
    # Every model serializer of this API writes timestamps in UTC and money as strings.
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UtcDateTimeField,
        models.DecimalField: MoneyField,
    }


class OrganizerSerializer(ApiModelSerializer):
    class Meta:
        model = get_user_model()
        # Name the fields. `fields = "__all__"` on the user model published the password
        # hash, the e-mail address and the staff flags of every organizer, and would
        # publish any column added to the user table tomorrow.
        fields = ["id", "username"]


class EventSerializer(ApiModelSerializer):
    # A field declared by hand does not inherit the model's max_length: DRF only copies
    # model constraints into fields it builds itself. Without it a 500-character title
    # passed validation, then was stored (SQLite) or crashed the INSERT (PostgreSQL).
    # https://www.django-rest-framework.org/api-guide/serializers/#specifying-fields-explicitly
    title = serializers.CharField(
        max_length=Event._meta.get_field("title").max_length,
        help_text="Shown on the ticket and in listings.",
    )
    # The contract calls it `organizer`, and clients were generated from the contract.
    # A `source=` rename is a breaking change for every one of them.
    organizer = OrganizerSerializer(read_only=True)
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
            "organizer",
            "seats_left",
            "created_at",
        ]
        # A TextField has no length of its own; every string a client sends is bounded.
        extra_kwargs = {"description": {"max_length": DESCRIPTION_MAX_LENGTH}}

    def validate_capacity(self, capacity):
        # Lowering the capacity below the tickets already sold would oversell the event
        # (seats_left < 0). The PATCH holds the event's row lock (views.py), so no booking
        # lands between this count and the write.
        sold = self.instance.tickets.count() if self.instance else 0
        if capacity < sold:
            raise serializers.ValidationError(
                f"{sold} tickets are already sold; the capacity cannot be lower."
            )
        return capacity

    @extend_schema_field({"type": "integer", "minimum": 0})
    def get_seats_left(self, obj) -> int:
        # The list annotates tickets_sold in one query. A single event (detail, or the
        # response to POST/PATCH) is not annotated: count its tickets rather than send
        # null, which the contract does not allow.
        sold = getattr(obj, "tickets_sold", None)
        if sold is None:
            sold = obj.tickets.count()
        return obj.capacity - sold


class TicketSerializer(ApiModelSerializer):
    class Meta:
        model = Ticket
        fields = ["id", "event", "holder_name", "holder_email", "price_paid", "created_at"]
        # The server sets the price. A writable price_paid let a buyer POST "0.01".
        read_only_fields = ["event", "price_paid", "created_at"]
