import logging
import traceback

from django.core.exceptions import SuspiciousOperation
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


def api_exception_handler(exc, context):
    """DRF's handler, plus a JSON body for unexpected errors.

    API clients never get Django's HTML error page, and the mobile team can quote the
    error in a bug report without access to our logs.
    """
    if isinstance(exc, SuspiciousOperation):
        # A body past DATA_UPLOAD_MAX_MEMORY_SIZE, among others: the client's fault, a 400
        # as Django itself would answer, in the API's JSON.
        exc = ParseError(str(exc))
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled error in %s", type(context["view"]).__name__)
        response = Response(
            {
                "detail": "Internal server error.",
                "error": f"{type(exc).__name__}: {exc}",
                "trace": traceback.format_exc(limit=5).splitlines(),
            },
            status=500,
        )
    return response
