import logging

from django.core.exceptions import SuspiciousOperation
from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from shop.resilience import DatabaseUnavailable

logger = logging.getLogger(__name__)


def api_exception_handler(exc, context):
    """DRF's handler, with two rules for what it does not know.

    * A database outage that escaped `database()` is still an outage: a JSON 503 with
      Retry-After, never a 500.
    * Anything else unexpected is logged in full on the server, and the client gets a
      JSON 500 that says nothing about our internals: exception text and stack traces
      name hosts, tables and libraries, which helps an attacker and no client.
    """
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable in %s: %s", type(context["view"]).__name__, exc)
        exc = DatabaseUnavailable()
    elif isinstance(exc, SuspiciousOperation):
        # A body past DATA_UPLOAD_MAX_MEMORY_SIZE, among others: the client's fault, a 400
        # as Django itself would answer, in the API's JSON.
        exc = ParseError(str(exc))
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled error in %s", type(context["view"]).__name__)
        response = Response(
            {"detail": "Internal server error.", "code": "internal_error"},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return response
