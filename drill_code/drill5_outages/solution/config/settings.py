from drillkit.base_settings import *  # noqa: F403  (database, keys, time zone: shared plumbing)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "shop",
]
ROOT_URLCONF = "config.urls"

REST_FRAMEWORK = {
    # A public catalogue and guest checkout: authentication is Drill 4's subject.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "shop.errors.api_exception_handler",
}

DATABASE = DATABASES["default"]  # noqa: F405  (from the shared base settings)
if DATABASE["ENGINE"] == "django.db.backends.postgresql":
    DATABASE["OPTIONS"].update(
        {
            # A server that accepts the connection and never answers (a failover in
            # progress, an overloaded listener) is given up on after 2 s, psycopg's
            # minimum; without it psycopg waits 130 s. No server-side setting can help
            # here: the server never sees the request.
            "connect_timeout": 2,
            # A query waiting for a lock (held by a migration or a long transaction) is
            # cancelled after 500 ms, so a worker thread is never held hostage. It is
            # lock_timeout, not statement_timeout: these settings are also the ones
            # `manage.py migrate` runs with, and a statement_timeout short enough for a
            # request would cancel any migration that takes longer. A migration that
            # waits on a lock should give up too, rather than queue every request
            # behind it. https://www.postgresql.org/docs/current/runtime-config-client.html
            "options": "-c lock_timeout=500",
        }
    )
# Keep connections between requests, and check one before reusing it: a connection the
# outage killed is replaced at the start of the next request instead of failing it.
# https://docs.djangoproject.com/en/5.2/ref/databases/#persistent-connections
DATABASE["CONN_MAX_AGE"] = 60
DATABASE["CONN_HEALTH_CHECKS"] = True

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # The last good copy of what the API served, kept in this process's memory: a
    # fallback must not live in the database it stands in for. Redis would do too
    # (django.core.cache.backends.redis.RedisCache), and is shared between processes.
    "last-good": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "last-good",
        # An old copy, marked as old, beats no copy during an outage, up to a point:
        # after 10 minutes without a fresh read the copy is dropped, and the API
        # answers 503 rather than sell at prices nobody has checked for that long.
        "TIMEOUT": 600,
    },
}
