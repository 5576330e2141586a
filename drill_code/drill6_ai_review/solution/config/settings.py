from drillkit.base_settings import *  # noqa: F403  (database, keys, time zone: shared plumbing)

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

# Shared with the payment provider; it signs every webhook body with this key.
PAYMENT_WEBHOOK_SECRET = "whsec-drill6-test-secret"

# The import fetches feeds from these partners only. An allow-list of host names is the
# strongest defence against server-side request forgery: a deny-list of internal ranges
# misses DNS names that resolve inward, IPv6 forms and redirects.
# https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html
ORDER_FEED_HOSTS = ["feeds.partner.example"]
# (connect, read) seconds. requests waits forever when no timeout is given.
ORDER_FEED_TIMEOUT = (3.05, 10)
