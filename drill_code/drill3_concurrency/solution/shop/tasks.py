from smtplib import SMTPException

from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction

from shop.models import Order


# --8<-- [start:task]
# acks_late: the message is acknowledged after the task returns, not when the worker
# receives it. A worker that is shut down or loses its broker connection mid-task, or a
# Redis visibility timeout, then leaves the message to be delivered again instead of
# lost. https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.acks_late
# reject_on_worker_lost: without it, Celery still acknowledges the message of a pool
# process that was killed mid-task (the OOM killer, SIGKILL), and the confirmation is
# lost. With it, the message goes back to the queue. The price of both is at-least-once
# delivery: the same message can run twice, even at once, so the task must be idempotent
# (the locked status check below). A task that kills its process every time would loop;
# this one does not.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-reject-on-worker-lost
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
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
        # of=("self",) locks the order's row only. Without it, FOR UPDATE also locks every
        # row select_related() joins: the product, so each new order for it (its INSERT
        # checks the foreign key) would wait for this task's SMTP call, and the customer.
        # no_key=True takes FOR NO KEY UPDATE, the lock the status UPDATE below takes
        # anyway: it still excludes a second delivery and a concurrent cancel, and lets
        # a row that references the order be inserted (its foreign-key check takes FOR
        # KEY SHARE). SQLite ignores select_for_update() and runs one writer at a time.
        # https://docs.djangoproject.com/en/5.2/ref/models/querysets/#select-for-update
        order = (
            Order.objects.select_for_update(of=("self",), no_key=True)
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
        # The lock is held during the SMTP call, so a slow relay delays only what touches
        # this one order: a second delivery of its message, or its cancellation. It also
        # keeps a database connection in a transaction meanwhile; with a slow provider,
        # mark the order "sending" in a short transaction first and send outside it.
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
