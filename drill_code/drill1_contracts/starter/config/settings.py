from drillkit.base_settings import *  # noqa: F403  (database, keys, time zone: shared plumbing)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "drf_spectacular",
    "events",
]
ROOT_URLCONF = "config.urls"

# The team sits in Berlin; the admin and the ops dashboards read local time.
TIME_ZONE = "Europe/Berlin"

REST_FRAMEWORK = {
    # Partners call the API server to server, over TLS, with HTTP Basic credentials.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.BasicAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "events.pagination.PagePagination",
    # The schema served at /api/schema/ for the API explorer.
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Events API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}
