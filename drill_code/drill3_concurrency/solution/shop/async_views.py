"""The shop's async views: the requests that wait on other services.

A shipping quote waits on the carrier, a warehouse notification on the warehouse. Served
under ASGI (config/asgi.py), these views run on the server's event loop: while one waits
for the network, the loop serves other requests. That holds only while nothing in them
blocks the loop. Every wait must be an `await`: the ORM's async methods (aget, afirst),
an async HTTP client, `request.auser()`. DRF's views are synchronous, so these are plain
Django async views and answer JsonResponse.
https://docs.djangoproject.com/en/5.2/topics/async/
"""

import asyncio
import re
import ssl

import httpx
from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.http import require_GET, require_POST

from shop.models import Order, Product

POSTCODE = re.compile(r"[A-Za-z0-9 -]{2,10}")
# One TLS context for every call: building one loads the CA bundle, tens of milliseconds
# of CPU on the event loop that each new client would otherwise spend again.
TLS = ssl.create_default_context()


class UpstreamFailed(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


# --8<-- [start:call-upstream]
async def call_upstream(method: str, url: str, **kwargs) -> dict:
    """Call another service and return its JSON answer, or raise UpstreamFailed.

    httpx.AsyncClient awaits the network, so the event loop serves other requests
    meanwhile; a blocking client (requests, httpx.get) would stop all of them. The
    client's timeout bounds each step (connect, each read), not the whole call: a service
    that sends one byte a second never trips it. asyncio.timeout() bounds the whole call,
    so the customer gets a clear 504 within UPSTREAM_TIMEOUT_SECONDS, whatever the other
    side does. https://www.python-httpx.org/advanced/timeouts/
    """
    limit = settings.UPSTREAM_TIMEOUT_SECONDS
    try:
        async with asyncio.timeout(limit):
            async with httpx.AsyncClient(timeout=limit, verify=TLS) as client:
                response = await client.request(method, url, **kwargs)
                response.raise_for_status()
                return response.json()
    except (TimeoutError, httpx.TimeoutException):
        raise UpstreamFailed(504, f"{url} did not answer within {limit:g} s.") from None
    except (httpx.HTTPError, ValueError) as exc:  # refused, reset, a 4xx/5xx, not JSON
        raise UpstreamFailed(502, f"{url} failed: {type(exc).__name__}.") from None


# --8<-- [end:call-upstream]


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


async def _customer(request):
    """The signed-in user, or None. request.user would load the session synchronously,
    which Django refuses on the event loop (SynchronousOnlyOperation); auser() awaits it."""
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


# --8<-- [start:order-status]
@require_GET
async def order_status(request, pk: int):
    """GET /api/orders/<pk>/status/: a light status check for the customer's own order."""
    customer = await _customer(request)
    if customer is None:
        return _error(403, "Sign in to see your orders.")
    # select_related() fetches the product in the same query. A lazy foreign key
    # (order.product without it) would run a query on first access, synchronously: Django
    # raises SynchronousOnlyOperation on the event loop rather than block it.
    order = await Order.objects.select_related("product").filter(pk=pk, customer=customer).afirst()
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


# --8<-- [end:order-status]


# --8<-- [start:notify-warehouse]
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
    # Awaited here, not started with asyncio.create_task() and left running: a task that
    # outlives its request dies with the loop (a restart, a deploy), its failure is only
    # logged as "Task exception was never retrieved", and the customer was told it worked.
    # Awaiting it, the answer says what happened: 200 with the warehouse's reference, or
    # an error the client can retry. (Work that must outlive the request belongs in a
    # durable queue: a Celery task sent with delay_on_commit(), as shop/signals.py does.)
    try:
        answer = await call_upstream(
            "POST",
            f"{settings.WAREHOUSE_URL}/orders",
            json={"order": order.pk, "sku": order.product.sku, "quantity": order.quantity},
        )
    except UpstreamFailed as failure:
        return _error(failure.status, f"The warehouse did not take the order: {failure.detail}")
    reference = answer.get("reference") if isinstance(answer, dict) else None
    if not isinstance(reference, str) or not 0 < len(reference) <= 64:
        return _error(502, "The warehouse answered without a reference.")
    return JsonResponse({"id": order.pk, "warehouse_reference": reference})


# --8<-- [end:notify-warehouse]
