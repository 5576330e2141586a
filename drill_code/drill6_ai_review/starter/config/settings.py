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
}

# Shared with the payment provider; it signs every webhook body with this key.
PAYMENT_WEBHOOK_SECRET = "whsec-drill6-test-secret"
