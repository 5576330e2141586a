"""Which database the drills run on, and a readable failure when it cannot be reached.

SQLite in memory is the default, so a laptop needs no services. Setting `DATABASE_URL`
(for example `postgres://postgres@127.0.0.1:5432/test`) runs the same tests on
PostgreSQL; CI does both.
"""

from __future__ import annotations

import os

import dj_database_url

from drillkit.errors import DrillError

SQLITE_IN_MEMORY = "sqlite://:memory:"
# Set by drillkit.targets.activate for test runs, benchmarks and `manage`; settings read it
# to allow local-only defaults (see base_settings.env_secret).
HARNESS_FLAG = "DRILLKIT_HARNESS"
CONNECT_TIMEOUT_SECONDS = 3


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or SQLITE_IN_MEMORY


def is_postgres(url: str) -> bool:
    return url.split(":", 1)[0] in ("postgres", "postgresql", "pgsql")


def describe(url: str) -> str:
    """A short name for the backend, safe to print (no password)."""
    if not is_postgres(url):
        return "SQLite (in memory)" if url == SQLITE_IN_MEMORY else f"SQLite ({url})"
    config = dj_database_url.parse(url)
    return f"PostgreSQL at {config['HOST'] or 'localhost'}:{config['PORT'] or 5432}"


def django_databases(test_name: str) -> dict:
    """The DATABASES setting for every drill's settings module."""
    url = database_url()
    try:
        default = dj_database_url.parse(url, conn_max_age=0)
    except ValueError as exc:
        raise DrillError(_bad_url(url, str(exc))) from exc
    if is_postgres(url):
        default["TEST"] = {"NAME": test_name}
        default.setdefault("OPTIONS", {})["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    return {"default": default}


def check_reachable() -> None:
    """Fail early, in plain words, when DATABASE_URL names a server that is not there."""
    url = database_url()
    if not is_postgres(url):
        if not url.startswith("sqlite:"):
            raise DrillError(_bad_url(url, "only sqlite and postgres URLs are supported"))
        return
    import psycopg

    config = dj_database_url.parse(url)
    try:
        psycopg.connect(
            dbname=config["NAME"] or "postgres",
            user=config["USER"] or None,
            password=config["PASSWORD"] or None,
            host=config["HOST"] or None,
            port=config["PORT"] or None,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
        ).close()
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "connection refused" in reason.lower() or "timeout" in reason.lower():
            advice = "Start the server, fix the host or port"
        else:  # the server answered: the user, password or database name is wrong
            advice = "Check the user, password and database name in the URL"
        raise DrillError(
            f"DATABASE_URL points at {describe(url)}, but connecting failed: {reason}. "
            f"{advice}, or unset DATABASE_URL to run on SQLite, which needs no server."
        ) from exc


def _bad_url(url: str, reason: str) -> str:
    scheme = url.split(":", 1)[0]
    return (
        f"DATABASE_URL has a scheme the drills cannot use ({scheme}: {reason}). Use "
        "postgres://USER@HOST:PORT/DBNAME, or unset DATABASE_URL to run on SQLite."
    )
