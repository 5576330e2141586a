from drillkit.base_settings import *  # noqa: F403  (database, keys, time zone: shared plumbing)
from drillkit.base_settings import env_secret

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "orders",
]
ROOT_URLCONF = "config.urls"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Secure by default: a view that forgets permission_classes is closed, not open.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Money leaves the API as a string ("59.97"), never as a float a client could round.
    # https://www.django-rest-framework.org/api-guide/fields/#decimalfield
    "COERCE_DECIMAL_TO_STRING": True,
}

# Shared with the payment provider; it signs every webhook with this key. A secret in the
# source signs nothing safely, so it comes from the environment (a local value only under
# the drill harness).
PAYMENT_WEBHOOK_SECRET = env_secret("PAYMENT_WEBHOOK_SECRET")
# How old a signed webhook may be. The timestamp is inside the signature, so a captured
# event cannot be replayed once this window has passed.
PAYMENT_WEBHOOK_TOLERANCE_SECONDS = 300

# The import fetches feeds from these partners only. An allow-list of host names is the
# strongest defence against server-side request forgery: a deny-list of internal ranges
# misses DNS names that resolve inward, IPv6 forms and redirects.
# https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html
ORDER_FEED_HOSTS = ["feeds.partner.example"]
# (connect, read) seconds. requests waits forever when no timeout is given.
ORDER_FEED_TIMEOUT = (3.05, 10)
# A feed is read in chunks and refused past this size, whatever its Content-Length says.
ORDER_FEED_MAX_BYTES = 1_000_000
# One import creates at most this many orders (each of at most MAX_LINES lines).
ORDER_FEED_MAX_ORDERS = 100
