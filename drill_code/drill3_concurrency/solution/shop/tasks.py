import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from celery.exceptions import SoftTimeLimitExceeded
from django.core.mail import send_mail
from django.db import transaction

from shop.models import Order

logger = logging.getLogger(__name__)


class ConfirmationTask(DjangoTask):  # Celery's task class for Django: delay_on_commit()
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """The task gave up: out of retries, or an error that no retry would fix.

        Celery calls this once, after the last attempt. The order keeps its stock and its
        charge, but the customer was never told: mark it, and log it, so that support
        finds it instead of an order that says "placed" forever.
        """
        order_id = kwargs.get("order_id", args[0] if args else None)
        Order.objects.filter(pk=order_id, status=Order.Status.PLACED).update(
            status=Order.Status.UNCONFIRMED
        )
        logger.error(
            "Order #%s: confirmation not sent after %s attempt(s), marked unconfirmed: %r",
            order_id,
            self.request.retries + 1,
            exc,
        )


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
    base=ConfirmationTask,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # A mail outage is retried with exponential backoff (each delay drawn from up to 5 s,
    # 10 s, 20 s... capped at 10 minutes), with full jitter so that thousands of queued
    # confirmations do not all hit the relay at the same second. After 5 retries the task
    # fails, and on_failure() marks the order, instead of looping forever.
    # https://docs.celeryq.dev/en/stable/userguide/tasks.html#automatic-retry-for-known-exceptions
    # OSError covers every way a relay fails on the wire: SMTPException is a subclass,
    # and so are TimeoutError (a socket timeout, EMAIL_TIMEOUT), ConnectionError and SSL
    # errors. SoftTimeLimitExceeded is the task's own time running out.
    autoretry_for=(OSError, SoftTimeLimitExceeded),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
    # The whole attempt is bounded too, not only each socket operation: a relay that
    # answers one slow byte at a time never trips EMAIL_TIMEOUT. At the soft limit Celery
    # raises SoftTimeLimitExceeded inside the task: the transaction rolls back, the lock
    # is released, and the attempt is retried. The hard limit is the backstop: it kills
    # the worker process (its database connection closes, and with it the lock), and the
    # worker logs the task as failed. Both need the prefork pool, Celery's default.
    # https://docs.celeryq.dev/en/stable/userguide/workers.html#time-limits
    soft_time_limit=60,
    time_limit=90,
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
        if order is None or order.status not in (Order.Status.PLACED, Order.Status.UNCONFIRMED):
            return  # already confirmed by an earlier delivery, or cancelled meanwhile
        # An unconfirmed order is sent again: by a redelivery of this message, or by
        # support queuing the task once the relay is back.
        # If sending fails, the exception rolls the transaction back: the order stays
        # PLACED and the retry sends it. If the worker dies after sending but before the
        # commit, the redelivery sends the email a second time: email is at least once.
        # (An outbox table makes it exactly once; that is beyond this drill.)
        # The lock and the transaction are held during the SMTP call, so a slow relay
        # delays only what touches this one order: a second delivery of its message, or
        # its cancellation. EMAIL_TIMEOUT and the time limits above bound how long. To
        # hold no lock across the call, claim the order in a short transaction instead
        # ("sending", with a lease longer than the time limit) and send outside it.
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
