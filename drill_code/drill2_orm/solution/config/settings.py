from drillkit.base_settings import *  # noqa: F403  (database, keys, time zone: shared plumbing)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "bookstore",
]
ROOT_URLCONF = "config.urls"

REST_FRAMEWORK = {
    # The catalogue is public and read-only: no sign-in, so no session or user queries.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_PAGINATION_CLASS": "bookstore.pagination.StandardPagination",
}
