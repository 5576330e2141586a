from smtplib import SMTPException

from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction

from shop.models import Order


# --8<-- [start:task]
# acks_late: the message is acknowledged after the task finishes, so a worker that dies
# mid-task does not lose the confirmation. The price is at-least-once delivery: the same
# message can arrive twice, so the task must be idempotent (see the status check below).
# https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.acks_late
@shared_task(
    bind=True,
    acks_late=True,
    # A mail outage is retried with exponential backoff (5 s, 10 s, 20 s... capped at
    # 10 minutes), with full jitter so that thousands of queued confirmations do not all
    # hit the relay at the same second. After 5 retries the task fails and is logged,
    # instead of looping forever.
    # https://docs.celeryq.dev/en/stable/userguide/tasks.html#automatic-retry-for-known-exceptions
    autoretry_for=(SMTPException, ConnectionError),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
)
def send_order_confirmation(self, order_id):
    """Email the customer that their order is confirmed, then mark it confirmed."""
    with transaction.atomic():
        # Read the order now, under a row lock: not the snapshot from when it was queued.
        # A second delivery of this message waits here, then sees CONFIRMED and stops.
        order = (
            Order.objects.select_for_update()
            .select_related("customer", "product")
            .filter(pk=order_id)
            .first()
        )
        if order is None or order.status != Order.Status.PLACED:
            return  # already confirmed by an earlier delivery, or cancelled meanwhile
        # If sending fails, the exception rolls the transaction back: the order stays
        # PLACED and the retry sends it. If the worker dies after sending but before the
        # commit, the redelivery sends the email a second time: email is at least once.
        # (An outbox table makes it exactly once; that is beyond this drill.)
        # Holding the row lock during one SMTP call is fine here; for slow providers,
        # mark the order "sending" in a short transaction first.
        send_mail(
            subject=f"Order #{order.pk} confirmed",
            message=(
                f"Thank you! {order.quantity} x {order.product.name} will ship soon. "
                f"Total: {order.total_cents / 100:.2f}."
            ),
            from_email=None,
            recipient_list=[order.customer.email],
        )
        order.status = Order.Status.CONFIRMED
        order.save(update_fields=["status"])


# --8<-- [end:task]
