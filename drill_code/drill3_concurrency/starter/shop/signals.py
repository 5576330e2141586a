from django.db.models.signals import post_save
from django.dispatch import receiver

from shop.models import Order
from shop.tasks import send_order_confirmation


@receiver(post_save, sender=Order)
def confirm_new_order(sender, instance, created, **kwargs):
    """Every new order gets a confirmation email, whoever creates it (API, admin, import)."""
    if created:
        send_order_confirmation.delay(instance)
