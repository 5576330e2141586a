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
UNDER_HARNESS = os.environ.get(HARNESS_FLAG) == "1"
# Deployed, the host names come from the environment; the harness serves the test
# client and the benchmarks' local servers only.
ALLOWED_HOSTS = (
    ["testserver", "localhost", "127.0.0.1"]
    if UNDER_HARNESS
    else [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h]
)

# HTTPS only, as `manage.py check --deploy` asks. The test client and the benchmarks'
# local servers speak plain HTTP, so the redirect is off under the harness; the rest
# changes nothing for them. HSTS preload and subdomains are the site owner's choice, left
# out (security.W005, security.W021).
SECURE_SSL_REDIRECT = not UNDER_HARNESS
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

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
    # X-Frame-Options: DENY. Drill 6 serves HTML receipts, which must not be framed.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
