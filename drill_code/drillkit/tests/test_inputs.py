"""Bad input gets one clear paragraph, never a traceback."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from drillkit import workspace
from drillkit.backends import check_reachable
from drillkit.catalog import PROJECT_ROOT, all_drills, get_drill
from drillkit.errors import DrillError
from drillkit.targets import resolve_target

DRILL = all_drills()[0]


def drillkit(*args, **env):
    return subprocess.run(
        [sys.executable, "-m", "drillkit", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT / "drill_code"), **env},
    )


def test_an_unknown_drill_lists_the_real_ones():
    with pytest.raises(DrillError, match=r"no drill called 'drill99'.*drill\d"):
        get_drill("drill99")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["test", "drill99"], "There is no drill called 'drill99'"),
        (["test", DRILL.name, "--target", "no/such/folder"], "does not exist"),
        (["test", DRILL.name, "--target", "docs"], "does not hold"),
        (["test", DRILL.name, "--expect-flaws"], "use it with --target starter"),
        (["bench", "drill99"], "There is no drill called"),
    ],
)
def test_the_command_line_explains_bad_input_without_a_traceback(args, message):
    result = drillkit(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_is_explained_before_any_test_runs():
    result = drillkit("test", DRILL.name, DATABASE_URL="postgres://postgres@127.0.0.1:1/test")
    assert result.returncode == 2
    assert "connecting failed" in result.stderr
    assert "Start the server, fix the host or port" in result.stderr
    assert "or unset DATABASE_URL: the drills then run on SQLite" in result.stderr
    assert "Traceback" not in result.stderr


def _postgres_listening() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(
    not _postgres_listening() and os.environ.get("CI") != "true",
    reason="needs a PostgreSQL server on 127.0.0.1:5432 to refuse the user",
)
def test_a_wrong_database_user_is_not_called_an_unreachable_server():
    result = drillkit(
        "test", DRILL.name, DATABASE_URL="postgres://no_such_user@127.0.0.1:5432/test"
    )
    assert result.returncode == 2
    assert "Check the user, password and database name" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_url_with_an_unknown_scheme_is_explained(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://root@127.0.0.1/test")
    with pytest.raises(DrillError, match="scheme the drills cannot use"):
        check_reachable()


def test_targets_resolve_to_the_drill_folders_and_to_a_learner_copy(tmp_path):
    assert resolve_target(DRILL, None).path == DRILL.solution
    assert resolve_target(DRILL, "starter").is_starter
    copy = tmp_path / "mine"
    workspace.start(DRILL.name, workspace=tmp_path)
    (tmp_path / DRILL.name).rename(copy)
    target = resolve_target(DRILL, str(copy))
    assert target.path == copy
    assert not target.is_starter


@pytest.mark.parametrize("built_in", ["starter", "solution"])
def test_the_handbooks_own_folder_named_by_its_path_is_the_built_in_target(built_in):
    # A run on it is no learner's: it must not record progress inside drill_code/.
    folder = getattr(DRILL, built_in)
    for spec in (str(folder), os.path.relpath(folder)):
        target = resolve_target(DRILL, spec)
        assert (target.label, target.path) == (built_in, folder)


def test_start_copies_the_starter_and_says_what_to_run_next(tmp_path):
    message = workspace.start(DRILL.name, workspace=tmp_path)
    copy = tmp_path / DRILL.name
    assert (copy / "config" / "settings.py").read_text() == (
        DRILL.starter / "config" / "settings.py"
    ).read_text()
    assert not list(copy.rglob("__pycache__"))
    assert f"nox -s {DRILL.name} -- --target" in message


def test_start_never_overwrites_the_learners_copy(tmp_path):
    workspace.start(DRILL.name, workspace=tmp_path)
    mine = tmp_path / DRILL.name / "config" / "settings.py"
    mine.write_text("# my work\n")
    with pytest.raises(DrillError, match="already exists, so nothing was copied"):
        workspace.start(DRILL.name, workspace=tmp_path)
    assert mine.read_text() == "# my work\n"


def test_start_with_force_moves_the_old_copy_aside(tmp_path):
    workspace.start(DRILL.name, workspace=tmp_path)
    (tmp_path / DRILL.name / "notes.txt").write_text("my notes")
    message = workspace.start(DRILL.name, force=True, workspace=tmp_path)
    kept = [p for p in tmp_path.iterdir() if p.name.startswith(f"{DRILL.name}.")]
    assert len(kept) == 1
    assert (kept[0] / "notes.txt").read_text() == "my notes"
    assert Path(kept[0].name).name in message
    assert not (tmp_path / DRILL.name / "notes.txt").exists()


@pytest.fixture
def learner_copy(tmp_path):
    workspace.start(DRILL.name, workspace=tmp_path)
    return tmp_path / DRILL.name


def test_a_copy_that_does_not_import_is_one_paragraph_naming_the_line(learner_copy):
    views = next(learner_copy.glob("*/views.py"))
    views.write_text(views.read_text() + "\nbroken = (\n")
    result = drillkit("test", DRILL.name, "--target", str(learner_copy))
    assert result.returncode == 2
    assert "does not import, so no test can run" in result.stderr
    assert f"{views.parent.name}/views.py, line" in result.stderr
    assert "SyntaxError" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_model_change_without_a_migration_says_how_to_make_one(learner_copy):
    models = next(learner_copy.glob("*/models.py"))
    models.write_text(
        models.read_text()
        + "\n\nclass Extra(models.Model):\n    name = models.CharField(max_length=5)\n"
    )
    result = drillkit("test", DRILL.name, "--target", str(learner_copy))
    assert result.returncode == 2
    assert "changes that no migration records" in result.stderr
    assert f"nox -s manage -- {DRILL.name} --target" in result.stderr
