import logging
import traceback

from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


def api_exception_handler(exc, context):
    """DRF's handler, plus a JSON body for unexpected errors.

    API clients never get Django's HTML error page, and the mobile team can quote the
    error in a bug report without access to our logs.
    """
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
