import os

from drillkit.base_settings import *  # noqa: F403  (database, keys, time zone: shared plumbing)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    # The async views authenticate from the session (request.auser()).
    "django.contrib.sessions",
    "rest_framework",
    "shop",
]
ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

# The services the async views call (shop/async_views.py): the carrier's rate API for
# shipping quotes and the warehouse that packs orders.
CARRIER_URL = os.environ.get("CARRIER_URL", "https://carrier.example/api")
WAREHOUSE_URL = os.environ.get("WAREHOUSE_URL", "https://warehouse.example/api")
# Seconds a call to either may take, all of it: connecting, sending, waiting, reading.
# A customer waiting for a quote would rather get "try again" in 3 s than a spinner.
UPSTREAM_TIMEOUT_SECONDS = float(os.environ.get("UPSTREAM_TIMEOUT_SECONDS", "3"))

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
# Seconds each blocking SMTP operation (connect, each command) may take. Django's default
# is None: a relay that accepts the connection and then says nothing blocks the worker,
# and the order's row lock (shop/tasks.py), for good. A timeout raises TimeoutError, which
# the task retries later.
EMAIL_TIMEOUT = 10

# Celery reads every CELERY_* setting (config/celery.py). The in-memory transport needs no
# server; set CELERY_BROKER_URL=redis://127.0.0.1:6379/0 to use Redis.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://localhost/")
# JSON only. Tasks take ids and read the row when they run, so nothing needs pickle, and a
# worker that accepts pickle runs whatever code a message on the broker carries.
# https://docs.celeryq.dev/en/stable/userguide/security.html#serializers
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
