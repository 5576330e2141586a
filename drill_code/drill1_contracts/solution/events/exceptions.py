"""One error body for every error, as the contract's `Error` schema promises.

DRF's default bodies have three shapes: `{"detail": "..."}` for most errors, a map of
field -> messages for validation errors, and a bare list for a non-field ValidationError.
A client then needs three parsers. This handler keeps DRF's status codes and messages and
only changes the shape. https://www.django-rest-framework.org/api-guide/exceptions/#custom-exception-handling
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from drf_spectacular.openapi import AutoSchema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    # DRF answers Django's own Http404 and PermissionDenied too; give them DRF's codes.
    if isinstance(exc, Http404):
        exc = NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:  # not an API exception: let Django answer 500
        return None
    if isinstance(exc, ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {
            "code": "invalid",
            "detail": "The request is invalid; see fields.",
            "fields": {name: _messages(errors) for name, errors in fields.items()},
        }
    else:
        response.data = {"code": _code(exc.get_codes()), "detail": str(exc.detail)}
    return response


class Conflict(APIException):
    """The request is well formed, but the resource's state refuses it (sold out, not
    on sale): 409, with a code that says which."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


# Django answers a URL that no view matches (and a crash outside DRF) itself, with an HTML
# page. The contract promises the Error body for every error, so config/urls.py points
# Django's handlers here. https://docs.djangoproject.com/en/5.2/topics/http/views/#customizing-error-views
def not_found(request, exception=None):
    body = {"code": "not_found", "detail": "No such resource."}
    return JsonResponse(body, status=404)


def bad_request(request, exception=None):
    body = {"code": "bad_request", "detail": "The request could not be read."}
    return JsonResponse(body, status=400)


def server_error(request):
    body = {"code": "server_error", "detail": "Something went wrong on our side."}
    return JsonResponse(body, status=500)


def _messages(errors):
    if isinstance(errors, dict):  # a nested object: flatten to "field.sub: message"
        return [f"{key}: {msg}" for key, sub in errors.items() for msg in _messages(sub)]
    if isinstance(errors, list):
        return [msg for error in errors for msg in _messages(error)]
    return [str(errors)]


def _code(codes):
    return codes if isinstance(codes, str) else "error"


# The contract's Error schema, as the generated schema should show it.
ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "detail"],
    "properties": {
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}


class ApiAutoSchema(AutoSchema):
    """Documents each operation's error responses with the Error body, so the generated
    schema shows what clients will really receive (drf-spectacular documents only the
    success response unless told)."""

    def get_response_serializers(self):
        success = super().get_response_serializers()
        status = 201 if self.method == "POST" else 200
        return {status: success, **dict.fromkeys(self._error_statuses(), ERROR_SCHEMA)}

    def _error_statuses(self):
        statuses = [401]
        tickets = self.path.endswith("/tickets/")
        if self.method in ("POST", "PATCH"):
            statuses.append(400)
        if self.method == "PATCH" or (tickets and self.method == "GET"):
            statuses.append(403)  # not the event's organizer
        if tickets and self.method == "POST":
            statuses.append(409)  # sold out, or not on sale
        if "{" in self.path or (self.method == "GET" and api_settings.DEFAULT_PAGINATION_CLASS):
            statuses.append(404)  # no such event, or a page number past the end
        return sorted(statuses)
