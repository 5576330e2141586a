"""Which database the drills run on, and a readable failure when it cannot be reached.

In order:

1. `DATABASE_URL`, when set, always wins (for example
   `postgres://postgres@127.0.0.1:5432/test`).
2. A drill whose tests need PostgreSQL (some carry the `postgres` marker) runs on the
   harness's own embedded PostgreSQL server (drillkit.embedded), so a laptop with nothing
   installed still checks every flaw.
3. Every other drill runs on SQLite in memory, which is faster and needs nothing.

`--database sqlite` or `--database postgres` on a test run (or DRILLKIT_DATABASE) overrides
2 and 3. CI's SQLite pass sets DRILLKIT_SQLITE_PASS=1, which means `sqlite`.
"""

from __future__ import annotations

import os

from drillkit.errors import DrillError

SQLITE_IN_MEMORY = "sqlite://:memory:"
CHOICE_VARIABLE = "DRILLKIT_DATABASE"
CHOICES = ("auto", "sqlite", "postgres")
# Set by drillkit.targets.activate for test runs, benchmarks and `manage`; settings read it
# to allow local-only defaults (see base_settings.env_secret).
HARNESS_FLAG = "DRILLKIT_HARNESS"
CONNECT_TIMEOUT_SECONDS = 3


def database_url() -> str:
    from drillkit.embedded import URL_VARIABLE

    return os.environ.get("DATABASE_URL") or os.environ.get(URL_VARIABLE) or SQLITE_IN_MEMORY


def choose_database(drill, choice: str | None = None) -> str:
    """Settle the database of this run before Django reads its settings; start the
    embedded server if that is the one. Returns the URL. `choice` is auto, sqlite or
    postgres (None: DRILLKIT_DATABASE, else auto)."""
    from drillkit import embedded

    if os.environ.get("DATABASE_URL"):
        return database_url()
    choice = choice or os.environ.get(CHOICE_VARIABLE) or "auto"
    if choice not in CHOICES:
        raise DrillError(
            f"{CHOICE_VARIABLE}={choice} is not a database the drills know: use one of "
            f"{', '.join(CHOICES)}."
        )
    if choice == "auto":
        sqlite_pass = os.environ.get("DRILLKIT_SQLITE_PASS") == "1"
        choice = "postgres" if drill.needs_postgres and not sqlite_pass else "sqlite"
    if choice == "postgres":
        os.environ[embedded.URL_VARIABLE] = embedded.start()
    else:
        os.environ.pop(embedded.URL_VARIABLE, None)
    return database_url()


def is_embedded(url: str) -> bool:
    from drillkit.embedded import URL_VARIABLE

    return url == os.environ.get(URL_VARIABLE) and not os.environ.get("DATABASE_URL")


def is_postgres(url: str) -> bool:
    return url.split(":", 1)[0] in ("postgres", "postgresql", "pgsql")


def describe(url: str) -> str:
    """A short name for the backend, safe to print (no password)."""
    if not is_postgres(url):
        return "SQLite (in memory)" if url == SQLITE_IN_MEMORY else f"SQLite ({url})"
    import dj_database_url  # imported late: the progress board runs without Django's packages

    config = dj_database_url.parse(url)
    if is_embedded(url):
        return f"PostgreSQL, the harness's own (socket in {config['HOST']})"
    return f"PostgreSQL at {config['HOST'] or 'localhost'}:{config['PORT'] or 5432}"


def django_databases(test_name: str) -> dict:
    """The DATABASES setting for every drill's settings module."""
    import dj_database_url

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
    import dj_database_url
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
            f"{advice}, or unset DATABASE_URL: the drills then run on SQLite, and on a "
            "PostgreSQL server of the harness's own where a drill needs one."
        ) from exc


def _bad_url(url: str, reason: str) -> str:
    scheme = url.split(":", 1)[0]
    return (
        f"DATABASE_URL has a scheme the drills cannot use ({scheme}: {reason}). Use "
        "postgres://USER@HOST:PORT/DBNAME, or unset DATABASE_URL to run on SQLite (and on "
        "the harness's own PostgreSQL where a drill needs it)."
    )
