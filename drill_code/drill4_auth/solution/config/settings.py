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
    # A general limit for anonymous clients, sized for browsing. Login has its own,
    # much lower rate: see LoginView.
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "login": "5/min"},
    # The API runs behind exactly one reverse proxy, which appends the address it saw to
    # X-Forwarded-For. Throttles must count that last entry: everything before it was
    # written by the client. Unset, DRF keys throttles on the whole header, so a client
    # that changes the header on every request is never throttled.
    "NUM_PROXIES": 1,
    # Every list is paged: no request makes the server serialise a whole table.
    "DEFAULT_PAGINATION_CLASS": "notes.pagination.Pages",
}

SIMPLE_JWT = {
    # A stolen access token is usable until it expires, and logout cannot revoke it,
    # so keep it short. The refresh token carries the session and can be revoked.
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    # Tokens carry a digest of the password hash they were issued under; a password
    # change makes every earlier access token fail. Off by default in simplejwt.
    "CHECK_REVOKE_TOKEN": True,
    # simplejwt's own refresh serializer checks neither that digest nor a deleted user,
    # and lets two refreshes of one token race: see notes/tokens.py.
    "TOKEN_REFRESH_SERIALIZER": "notes.tokens.RefreshSerializer",
}
