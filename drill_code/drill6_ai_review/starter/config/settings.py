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
}

# Shared with the payment provider; it signs every webhook with this key.
PAYMENT_WEBHOOK_SECRET = env_secret("PAYMENT_WEBHOOK_SECRET")
