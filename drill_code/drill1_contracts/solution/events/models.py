from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class EventQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Published and cancelled events, and the user's own drafts. A draft is work in
        progress: only its organizer may see it, or book it by guessing its id."""
        return self.filter(
            models.Q(status__in=[Event.Status.PUBLISHED, Event.Status.CANCELLED])
            | models.Q(organizer_id=user.pk)
        )


class Event(models.Model):
    class Status(models.TextChoices):
        # The stored value is what the API sends: the contract's enum is lower case.
        # Migration 0002 rewrote the rows stored in upper case.
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        CANCELLED = "cancelled", "Cancelled"

    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="events"
    )
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    starts_at = models.DateTimeField()
    capacity = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    price = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]

    def __str__(self):
        return self.title


class Ticket(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="tickets")
    holder_name = models.CharField(max_length=100)
    holder_email = models.EmailField()
    price_paid = models.DecimalField(max_digits=8, decimal_places=2, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.holder_name} @ {self.event}"

    def save(self, *args, **kwargs):
        if self.price_paid is None:
            self.price_paid = self.event.price
        super().save(*args, **kwargs)
