from smtplib import SMTPException

from celery import shared_task
from django.core.mail import send_mail

from shop.models import Order


# acks_late: the message is acknowledged after the task finishes, so a worker that dies
# mid-task does not lose the confirmation.
# The mail relay has short outages: try again every couple of seconds until it is back.
@shared_task(bind=True, acks_late=True, max_retries=None, default_retry_delay=2)
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
