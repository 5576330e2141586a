"""The harness's own PostgreSQL: which runs get it, and proof that they really do.

The proof runs a drill's tests in a subprocess, as a learner would, with DATABASE_URL
unset, plus a tiny pytest plugin that asks the database each test uses who it is. The
answer must be the embedded server (PostgreSQL 18, data in .pgdata/, reached over its unix
socket), never the machine's own PostgreSQL service.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from drillkit import embedded
from drillkit.backends import choose_database, database_url, describe, is_postgres
from drillkit.catalog import PROJECT_ROOT, all_drills, get_drill
from drillkit.errors import DrillError

# Asks, from inside every test that uses the database, which server answers.
PROBE = """
    import json, os
    import pytest

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(item):
        if "transactional_db" in item.fixturenames or "db" in item.fixturenames:
            from django.db import connection
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT version(), inet_server_addr()::text,"
                    " current_setting('data_directory'), current_setting('port')"
                )
                row = cursor.fetchone()
            with open(os.environ["PROBE_OUT"], "a") as out:
                out.write(json.dumps(row) + "\\n")
        return (yield)
"""


@pytest.fixture
def no_database_settings(monkeypatch):
    for name in (
        "DATABASE_URL",
        "DRILLKIT_DATABASE",
        "DRILLKIT_SQLITE_PASS",
        embedded.URL_VARIABLE,
    ):
        monkeypatch.delenv(name, raising=False)


def test_drills_with_postgres_only_tests_are_the_ones_that_need_it():
    needing = {drill.name for drill in all_drills() if drill.needs_postgres}
    for drill in all_drills():
        marked = any("mark.postgres" in p.read_text() for p in drill.tests.glob("*.py"))
        assert (drill.name in needing) == marked
    assert needing, "no drill has a test that needs PostgreSQL: nothing here is tested"


def test_database_url_always_wins(no_database_settings, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.example:5433/x")
    drill = next(d for d in all_drills() if d.needs_postgres)
    assert choose_database(drill, "postgres") == "postgres://someone@db.example:5433/x"


def test_a_drill_that_runs_well_on_sqlite_stays_there(no_database_settings):
    drill = next(d for d in all_drills() if not d.needs_postgres)
    assert not is_postgres(choose_database(drill))


def test_ci_sqlite_pass_and_the_learner_can_ask_for_sqlite(no_database_settings, monkeypatch):
    drill = next(d for d in all_drills() if d.needs_postgres)
    assert not is_postgres(choose_database(drill, "sqlite"))
    monkeypatch.setenv("DRILLKIT_SQLITE_PASS", "1")
    assert not is_postgres(choose_database(drill))


def test_an_unknown_database_choice_is_explained(no_database_settings, monkeypatch):
    monkeypatch.setenv("DRILLKIT_DATABASE", "mysql")
    with pytest.raises(DrillError, match="not a database the drills know"):
        choose_database(get_drill(all_drills()[0].name))


def test_the_embedded_url_names_its_socket_folder_as_the_host(no_database_settings, monkeypatch):
    """dj-database-url reads a percent-encoded path as HOST, which Django and psycopg use
    as a unix socket folder; the library's own `?host=` form would leave HOST empty."""
    import dj_database_url

    url = embedded.url_for(Path("/tmp/pg data"), 5432)
    config = dj_database_url.parse(url)
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("/tmp/pg data", 5432, "postgres")
    monkeypatch.setenv(embedded.URL_VARIABLE, url)
    assert database_url() == url
    assert describe(url) == "PostgreSQL, the harness's own (socket in /tmp/pg data)"


def _run_drill(
    drill_name: str, tmp_path: Path, *args: str
) -> tuple[subprocess.CompletedProcess, list]:
    (tmp_path / "probe.py").write_text(textwrap.dedent(PROBE))
    out = tmp_path / "probe.jsonl"
    env = {
        # /usr/sbin: as root, the first start creates the server's system user (useradd).
        "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT / "drill_code"), str(tmp_path)]),
        "PROBE_OUT": str(out),
        "HOME": os.environ.get("HOME", "/root"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "drillkit", "test", drill_name, *args, "-p", "probe"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=300,
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    return result, rows


def test_with_no_database_url_every_flaw_runs_on_the_embedded_server(tmp_path):
    drill = next(d for d in all_drills() if d.needs_postgres)
    result, rows = _run_drill(drill.name, tmp_path, "--target", "starter")
    summary = f"{drill.name} on starter: 0 of {len(drill.flaws)} flaws fixed"
    assert summary in result.stdout, result.stdout[-3000:] + result.stderr
    assert "not run this time" not in result.stdout
    assert "skipped" not in result.stdout.splitlines()[-1]
    assert "the harness's own" in result.stdout  # the header names the database

    assert rows, "no test asked the database who it is"
    data_folder = str(embedded.DATA_FOLDER.resolve())
    for version, server_address, data_directory, _port in rows:
        assert version.startswith("PostgreSQL 18"), version
        assert server_address is None, "reached over TCP, not the embedded server's socket"
        assert data_directory == data_folder
    machine = _machine_service_data_directory()
    if machine is not None:
        assert machine != data_folder


def _machine_service_data_directory() -> str | None:
    """The data directory of a PostgreSQL service on 127.0.0.1:5432, if one answers."""
    import psycopg

    try:
        with psycopg.connect(
            host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=2
        ) as conn:
            return conn.execute("SELECT current_setting('data_directory')").fetchone()[0]
    except psycopg.Error:
        return None


def test_asking_for_sqlite_skips_with_a_message_that_says_what_to_do(tmp_path):
    drill = next(d for d in all_drills() if d.needs_postgres)
    result, rows = _run_drill(drill.name, tmp_path, "--database", "sqlite", "-m", "postgres", "-rs")
    assert "Run with `--database postgres` and the harness starts a PostgreSQL" in result.stdout
    assert "Set DATABASE_URL" not in result.stdout
    assert rows == []


@pytest.fixture
def data_folder():
    """A data folder of its own, so the project's server is not touched, and outside
    pytest's temporary root: as root the server runs as another user, who must traverse
    the folders above, and any other pytest session locks that root to its owner again."""
    scratch = Path(tempfile.mkdtemp(prefix="drillkit-pg-test-"))
    yield scratch / "pg"
    shutil.rmtree(scratch, ignore_errors=True)


def test_the_server_outlives_a_run_briefly_then_stops_when_idle(data_folder):
    """A learner's next run finds the server up; a minute of nobody using it stops it."""
    folder = data_folder
    start = (
        "import sys; from pathlib import Path; from drillkit import embedded; "
        "embedded.start(Path(sys.argv[1]))"
    )
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "PYTHONPATH": str(PROJECT_ROOT / "drill_code"),
        "DRILLKIT_POSTGRES_LINGER": "3",
    }
    subprocess.run([sys.executable, "-c", start, str(folder)], env=env, check=True, timeout=120)
    postmaster = folder / "postmaster.pid"
    assert postmaster.exists(), "the server stopped with the run: the next run would wait"
    deadline = time.monotonic() + 30
    while postmaster.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not postmaster.exists(), "the idle server was still running 30 s later"
