from django.db.models.signals import post_save
from django.dispatch import receiver

from shop.models import Order
from shop.tasks import send_order_confirmation


# --8<-- [start:enqueue]
@receiver(post_save, sender=Order)
def confirm_new_order(sender, instance, created, **kwargs):
    """Every new order gets a confirmation email, whoever creates it (API, admin, import)."""
    if created:
        # post_save runs inside the transaction that inserted the order. delay_on_commit()
        # sends the message only when that transaction commits, and never if it rolls
        # back; delay() would send it now, before the row is visible to the worker.
        # https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html#trigger-tasks-at-the-end-of-the-database-transaction
        # The message carries the id: the task reads the order as it is when it runs.
        send_order_confirmation.delay_on_commit(instance.pk)


# --8<-- [end:enqueue]
