from drillkit.base_settings import *  # noqa: F403  (database, keys, time zone: shared plumbing)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "drf_spectacular",
    "events",
]
ROOT_URLCONF = "config.urls"

# The team sits in Berlin; the admin and the ops dashboards read local time. The API
# does not: its serializers write UTC whatever this says (events/fields.py).
TIME_ZONE = "Europe/Berlin"

REST_FRAMEWORK = {
    # Partners call the API server to server, over TLS, with HTTP Basic credentials.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.BasicAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Lists stay paginated (an unbounded list is an outage waiting for a big event); the
    # contract now describes the envelope that clients have been receiving all along.
    "DEFAULT_PAGINATION_CLASS": "events.pagination.PagePagination",
    # Every error leaves the API in the contract's Error shape.
    "EXCEPTION_HANDLER": "events.exceptions.exception_handler",
    # The schema served at /api/schema/, with each operation's error responses.
    "DEFAULT_SCHEMA_CLASS": "events.exceptions.ApiAutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Events API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}
