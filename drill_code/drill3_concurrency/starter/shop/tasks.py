from smtplib import SMTPException

from celery import shared_task
from django.core.mail import send_mail

from shop.models import Order

# A confirmation must never be dropped: customers write to support when one does not
# arrive. So the message is acknowledged only after the task (acks_late), and a worker
# shut down mid-task leaves it to be delivered again. The relay's outages are short (a
# restart, a failover), so a failed send is retried soon, for as long as it takes.
RETRY_DELAY_SECONDS = 2


@shared_task(bind=True, acks_late=True, default_retry_delay=RETRY_DELAY_SECONDS, max_retries=None)
def send_order_confirmation(self, order):
    """Email the customer that their order is confirmed, then mark it confirmed."""
    try:
        send_mail(
            subject=f"Order #{order.pk} confirmed",
            message=(
                f"Thank you! {order.quantity} x {order.product.name} will ship soon. "
                f"Total: {order.total_cents / 100:.2f}."
            ),
            from_email=None,
            recipient_list=[order.customer.email],
        )
    except SMTPException as exc:
        raise self.retry(exc=exc) from exc
    order.status = Order.Status.CONFIRMED
    order.save()
