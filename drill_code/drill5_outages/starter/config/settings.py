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

# The database comes from DATABASE_URL through the shared base settings, with the
# driver's defaults: a query takes as long as the database needs, and the database knows
# best when to give up.

# The database is already there, so the cache needs no extra service to run and back up.
# (Create its table with `manage.py createcachetable`.)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "shop_cache",
    }
}
