"""Settings every drill project shares; each target's `config/settings.py` imports them.

Only plumbing lives here (database, keys, time zone, test speed). Anything a drill
teaches, such as REST_FRAMEWORK or SIMPLE_JWT, stays in the target's own settings so
the learner can see and change it.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from drillkit.backends import HARNESS_FLAG, django_databases


def env_secret(name: str) -> str:
    """A signing key or shared secret, read from the environment.

    Under the drill harness an unset secret gets an obviously local value, so tests are
    reproducible and a laptop needs no setup. Anywhere else an unset secret stops the
    project from starting: a key that ships in the source signs nothing safely.
    """
    value = os.environ.get(name, "")
    if value:
        return value
    if os.environ.get(HARNESS_FLAG) == "1":
        return f"drillkit-local-{name.lower()}-not-for-deployment"
    raise ImproperlyConfigured(
        f"Set the {name} environment variable: it is a secret and has no default outside "
        "the drill harness."
    )


SECRET_KEY = env_secret("DJANGO_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

DATABASES = django_databases(test_name=os.environ.get("DRILLKIT_TEST_DATABASE", "test_drills"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# Password hashing is deliberately slow in production; tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
