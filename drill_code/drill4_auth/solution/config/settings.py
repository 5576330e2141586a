from datetime import timedelta

from drillkit.base_settings import *  # noqa: F403  (database, keys, time zone: shared plumbing)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    # Rotation only revokes the old refresh token when the blacklist app is installed:
    # without it simplejwt skips blacklist() silently and the old token keeps working.
    # https://django-rest-framework-simplejwt.readthedocs.io/en/latest/blacklist_app.html
    "rest_framework_simplejwt.token_blacklist",
    "notes",
]
ROOT_URLCONF = "config.urls"

REST_FRAMEWORK = {
    # simplejwt's own authentication checks the signature, the expiry, that the token is
    # an *access* token, and that the user is still active. A hand-rolled decode did none
    # of the last two.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    # Secure by default: a view that forgets permission_classes is closed, not open.
    # DRF's own default is AllowAny.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_RATES": {"login": "5/min"},
}

SIMPLE_JWT = {
    # A stolen access token is usable until it expires, and logout cannot revoke it,
    # so keep it short. The refresh token carries the session and can be revoked.
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
}
