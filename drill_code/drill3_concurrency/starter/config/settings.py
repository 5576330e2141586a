import os

from drillkit.base_settings import *  # noqa: F403  (database, keys, time zone: shared plumbing)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "shop",
]
ROOT_URLCONF = "config.urls"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # A customer's order list grows forever: one page at a time, of a fixed size.
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
# An order is a few dozen bytes. Django refuses a larger body (400) before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024

DEFAULT_FROM_EMAIL = "orders@shop.example"

# Celery reads every CELERY_* setting (config/celery.py). The in-memory transport needs no
# server; set CELERY_BROKER_URL=redis://127.0.0.1:6379/0 to use Redis.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://localhost/")
# pickle: task arguments keep their Python types (Decimal, datetime, UUID), where JSON
# would hand the worker strings. json stays accepted for messages from older releases.
CELERY_TASK_SERIALIZER = "pickle"
CELERY_ACCEPT_CONTENT = ["pickle", "json"]
