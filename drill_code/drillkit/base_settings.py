"""Settings every drill project shares; each target's `config/settings.py` imports them.

Only plumbing lives here (database, keys, time zone, test speed). Anything a drill
teaches, such as REST_FRAMEWORK or SIMPLE_JWT, stays in the target's own settings so
the learner can see and change it.
"""

import os

from drillkit.backends import django_databases

# A fixed key keeps test runs reproducible. It signs nothing outside a test run.
SECRET_KEY = "backend-drills-handbook-local-key-do-not-deploy"
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
