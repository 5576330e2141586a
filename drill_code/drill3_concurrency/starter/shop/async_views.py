"""The shop's async views: the requests that wait on other services.

A shipping quote waits on the carrier, a warehouse notification on the warehouse. Served
under ASGI (config/asgi.py), these views run on the server's event loop, so a request
that waits on another service does not hold a thread. DRF's views are synchronous, so
these are plain Django async views and answer JsonResponse.
"""

import asyncio
import logging
import re

import httpx
from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.http import require_GET, require_POST

from shop.models import Order, Product

logger = logging.getLogger(__name__)
# Notifications on their way: the event loop keeps only weak references to its tasks.
_notifications: set[asyncio.Task] = set()
POSTCODE = re.compile(r"[A-Za-z0-9 -]{2,10}")


class UpstreamFailed(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


async def call_upstream(method: str, url: str, **kwargs) -> dict:
    """Call another service and return its JSON answer, or raise UpstreamFailed."""
    # Fail fast when the service is down; a quote itself can take a while to compute for
    # a remote postcode, so the answer gets more room than the connection.
    timeout = httpx.Timeout(30.0, connect=settings.UPSTREAM_TIMEOUT_SECONDS)
    try:
        response = httpx.request(method, url, timeout=timeout, **kwargs)
        response.raise_for_status()
        return response.json()
    except httpx.TimeoutException:
        raise UpstreamFailed(504, f"{url} did not answer in time.") from None
    except (httpx.HTTPError, ValueError) as exc:  # refused, reset, a 4xx/5xx, not JSON
        raise UpstreamFailed(502, f"{url} failed: {type(exc).__name__}.") from None


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


async def _customer(request):
    """The signed-in user, or None."""
    user = await request.auser()
    return user if user.is_authenticated else None


@require_GET
async def shipping_quote(request, sku: str):
    """GET /api/products/<sku>/shipping-quote/?postcode=...: the carrier's price."""
    if await _customer(request) is None:
        return _error(403, "Sign in to get a shipping quote.")
    postcode = request.GET.get("postcode", "").strip()
    if not POSTCODE.fullmatch(postcode):
        return _error(400, "Send a postcode of 2 to 10 letters, digits, spaces or dashes.")
    product = await Product.objects.filter(sku=sku).afirst()
    if product is None:
        return _error(404, "No such product.")
    try:
        quote = await call_upstream(
            "GET", f"{settings.CARRIER_URL}/quote", params={"sku": sku, "postcode": postcode}
        )
    except UpstreamFailed as failure:
        return _error(failure.status, f"No quote from the carrier: {failure.detail}")
    price = quote.get("price_cents") if isinstance(quote, dict) else None
    if not isinstance(price, int) or isinstance(price, bool) or price < 0:
        return _error(502, "The carrier answered without a valid price.")
    return JsonResponse({"product": product.sku, "postcode": postcode, "price_cents": price})


@require_GET
async def order_status(request, pk: int):
    """GET /api/orders/<pk>/status/: a light status check for the customer's own order."""
    customer = await _customer(request)
    if customer is None:
        return _error(403, "Sign in to see your orders.")
    order = await Order.objects.filter(pk=pk, customer=customer).afirst()
    if order is None:
        return _error(404, "No such order.")
    return JsonResponse(
        {
            "id": order.pk,
            "status": order.status,
            "product": order.product.sku,
            "quantity": order.quantity,
        }
    )


@require_POST
async def notify_warehouse(request, pk: int):
    """POST /api/orders/<pk>/notify-warehouse/: hand the order to the warehouse to pack."""
    customer = await _customer(request)
    if customer is None:
        return _error(403, "Sign in to manage your orders.")
    order = (
        await Order.objects.select_related("product")
        .filter(pk=pk, customer=customer)
        .exclude(status=Order.Status.CANCELLED)
        .afirst()
    )
    if order is None:
        return _error(404, "No such order, or it is cancelled.")
    # The warehouse can be slow to acknowledge: send in the background and answer now.
    task = asyncio.create_task(_send_to_warehouse(order))
    _notifications.add(task)
    task.add_done_callback(_notifications.discard)
    return JsonResponse({"id": order.pk, "warehouse": "notifying"}, status=202)


async def _send_to_warehouse(order: Order) -> None:
    try:
        await call_upstream(
            "POST",
            f"{settings.WAREHOUSE_URL}/orders",
            json={"order": order.pk, "sku": order.product.sku, "quantity": order.quantity},
        )
    except UpstreamFailed:
        logger.warning("Order #%s: the warehouse did not take it", order.pk, exc_info=True)
