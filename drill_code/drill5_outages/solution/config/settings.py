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

# --8<-- [start:database]
DATABASE = DATABASES["default"]  # noqa: F405  (from the shared base settings)
if DATABASE["ENGINE"] == "django.db.backends.postgresql":
    DATABASE["OPTIONS"].update(
        {
            # Give up on a server that does not complete the connection, instead of
            # waiting as long as the kernel does (minutes). 2 s is psycopg's minimum.
            "connect_timeout": 2,
            # A query stuck behind a lock (a migration, a long transaction) is cancelled
            # by the server after 500 ms, so a worker thread is never held hostage.
            # https://www.postgresql.org/docs/current/runtime-config-client.html
            "options": "-c statement_timeout=500",
        }
    )
# Keep connections between requests, and check one before reusing it: a connection the
# outage killed is replaced at the start of the next request instead of failing it.
# https://docs.djangoproject.com/en/5.2/ref/databases/#persistent-connections
DATABASE["CONN_MAX_AGE"] = 60
DATABASE["CONN_HEALTH_CHECKS"] = True
# --8<-- [end:database]

# --8<-- [start:caches]
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # The last good copy of what the API served, kept in this process's memory: a
    # fallback must not live in the database it stands in for. Redis would do too
    # (django.core.cache.backends.redis.RedisCache), and is shared between processes.
    "last-good": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "last-good",
        "TIMEOUT": None,  # an old copy, marked as old, beats no copy during an outage
    },
}
# --8<-- [end:caches]
