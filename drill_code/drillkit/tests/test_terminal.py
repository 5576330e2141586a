"""The learner's terminal: progress saved by test runs, the board, and watch mode."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import threading
import time

import pytest
from rich.console import Console

from drillkit import progress, watch, workspace
from drillkit.catalog import PROJECT_ROOT, all_drills
from drillkit.targets import resolve_target

# A quick drill to run for real: on SQLite, with the least test code.
DRILL = min(
    (d for d in all_drills() if not d.needs_postgres),
    key=lambda d: sum(p.stat().st_size for p in d.tests.glob("*.py")),
)


def plain_console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=120), out


def test_a_test_run_of_a_copy_in_the_workspace_saves_its_progress(tmp_path, monkeypatch):
    monkeypatch.setattr(progress, "WORKSPACE", tmp_path)
    workspace.start(DRILL.name, workspace=tmp_path)
    copy = tmp_path / DRILL.name
    states = {flaw.id: "open" for flaw in DRILL.flaws}
    states[DRILL.flaws[0].id] = "fixed"
    when = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    path = progress.save(DRILL, copy, states, workspace=tmp_path, now=when)
    saved = json.loads(path.read_text())
    assert path.parent == tmp_path / ".progress"
    assert saved["date"] == "2026-12-01T09:30:00+00:00"
    assert (saved["fixed"], saved["open"], saved["total"]) == (
        1,
        len(DRILL.flaws) - 1,
        len(DRILL.flaws),
    )
    assert saved["blind"] is False


def test_a_partial_run_keeps_what_earlier_runs_saw(tmp_path):
    copy = tmp_path / DRILL.name
    copy.mkdir()
    progress.save(DRILL, copy, {f.id: "fixed" for f in DRILL.flaws}, workspace=tmp_path)
    partial = {f.id: "not run" for f in DRILL.flaws} | {DRILL.flaws[0].id: "open"}
    saved = json.loads(progress.save(DRILL, copy, partial, workspace=tmp_path).read_text())
    assert saved["fixed"] == len(DRILL.flaws) - 1
    assert saved["flaws"][DRILL.flaws[0].id] == "open"


def test_copies_outside_the_workspace_are_not_the_learners_progress(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert progress.save(DRILL, elsewhere, {}, workspace=tmp_path / "workspace") is None


def test_the_board_shows_every_drill_from_saved_results_and_scorecards(tmp_path):
    work, cards = tmp_path / "workspace", tmp_path / "scorecards"
    cards.mkdir()
    (cards / f"2026-11-20-{DRILL.name}.yml").write_text("")
    (cards / f"2026-11-27-{DRILL.name}.yml").write_text("")
    done, started = DRILL, next(d for d in all_drills() if d is not DRILL)
    (work / done.name).mkdir(parents=True)
    (work / started.name).mkdir()
    progress.save(done, work / done.name, {f.id: "fixed" for f in done.flaws}, workspace=work)
    rows = {row.drill.name: row for row in progress.board(work, cards)}
    assert len(rows) == len(all_drills())
    assert rows[done.name].status == f"done ({len(done.flaws)} of {len(done.flaws)} fixed)"
    assert rows[done.name].scorecard == "2026-11-27"
    assert rows[started.name].status == "copied, not run yet"
    others = [r for name, r in rows.items() if name not in (done.name, started.name)]
    assert all(row.status == "not started" for row in others)
    console, out = plain_console()
    progress.show(list(rows.values()), console)
    text = out.getvalue()
    assert f"{done.name}: done" in text
    assert "blind: no" in text
    assert f"1 of {len(rows)} drills done" in text


def test_the_board_answers_at_once_without_running_tests():
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "drillkit", "progress"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT / "drill_code")},
    )
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert all(f"{drill.name}:" in result.stdout for drill in all_drills())
    assert elapsed < 5, f"the board took {elapsed:.1f} s: it must only read saved results"


# -- watch ---------------------------------------------------------------------------------


@pytest.fixture
def copy(tmp_path):
    workspace.start(DRILL.name, workspace=tmp_path)
    return resolve_target(DRILL, str(tmp_path / DRILL.name))


@pytest.fixture(scope="module")
def starter_outcome(tmp_path_factory):
    """One real run on a fresh copy of the starter, shared by the tests that read it."""
    folder = tmp_path_factory.mktemp("watch")
    workspace.start(DRILL.name, workspace=folder)
    target = resolve_target(DRILL, str(folder / DRILL.name))
    return target, watch.run_tests(target, []), watch.run_tests(target, ["--blind"])


def test_one_watch_screen_is_a_progress_line_and_the_first_open_flaw(starter_outcome):
    copy, outcome, _ = starter_outcome
    assert outcome.fixed == 0
    console, out = plain_console()
    watch.show(copy, outcome, console)
    screen = out.getvalue()
    first = DRILL.flaws[0]
    assert screen.startswith(f"--- {DRILL.name} {copy.label}: 0 of {len(DRILL.flaws)} flaws")
    assert f"{first.id} {first.title} is still present" in screen
    later = [f for f in DRILL.flaws[1:] if f"{f.id} {f.title} is still present" in screen]
    assert later == [], "only the first open flaw's failure is shown"


def test_watch_reruns_on_each_change_and_ctrl_c_leaves_cleanly(copy):
    runs = []

    def fake_run(target, args):
        runs.append(args)
        return watch.Outcome({f.id: "open" for f in DRILL.flaws}, "")

    def two_changes_then_ctrl_c():
        yield {("modified", "views.py")}
        yield {("modified", "models.py")}
        raise KeyboardInterrupt

    console, out = plain_console()
    code = watch.watch(
        copy, ["-k", "x"], console=console, changes=two_changes_then_ctrl_c, run=fake_run
    )
    assert code == 0
    assert runs == [["-k", "x"]] * 3
    assert out.getvalue().rstrip().endswith("Stopped watching.")


def test_watch_notices_a_real_file_change(copy):
    """With watchfiles itself: editing a file of the copy starts a run."""
    runs = []

    def fake_run(target, args):
        runs.append(time.monotonic())
        if len(runs) == 2:
            raise KeyboardInterrupt  # the rerun after the edit: enough
        return watch.Outcome({}, "", problem="waiting")

    def edit_soon():
        time.sleep(1.0)
        views = next(copy.path.glob("*/views.py"))
        views.write_text(views.read_text() + "\n# edited\n")

    threading.Thread(target=edit_soon, daemon=True).start()
    console, _ = plain_console()
    finished = threading.Event()

    def run_watch():
        watch.watch(copy, [], console=console, run=fake_run)
        finished.set()

    threading.Thread(target=run_watch, daemon=True).start()
    assert finished.wait(20), "the edit did not start a run within 20 s"
    assert len(runs) == 2


# -- progress of long work, and the loop benchmark -------------------------------------------


def test_long_work_prints_plain_numbered_lines_when_not_on_a_terminal(capsys):
    from drillkit.terminal import status, steps

    with steps(2, "jobs") as advance:
        advance("first: done")
        advance("second: done")
    with status("a slow thing"):
        pass
    err = capsys.readouterr().err.splitlines()
    assert err[:2] == ["[1/2] first: done", "[2/2] second: done"]
    assert err[2] == "a slow thing ..."
    assert err[3].startswith("a slow thing: ")


def test_the_loop_benchmark_times_the_learners_commands(tmp_path, monkeypatch):
    from drillkit import loopbench

    monkeypatch.setattr(loopbench, "_nox", lambda: ["nox"])
    assert loopbench.loop_command("docs", tmp_path) == ["nox", "-R", "-s", "docs"]
    assert loopbench.loop_command(DRILL.name, tmp_path / "copy") == [
        "nox",
        "-R",
        "-s",
        DRILL.name,
        "--",
        "--target",
        str(tmp_path / "copy"),
    ]
    assert loopbench.loop_command("nox", tmp_path) == ["nox", "-R"]
    assert (loopbench.budget("docs"), loopbench.budget("nox")) == (3.0, 90.0)
    row = {
        "loop": "-R -s docs",
        "median_seconds": 3.5,
        "runs": [3.4, 3.5, 3.9],
        "median_cpu_seconds": 2.0,
        "budget_seconds": 3.0,
        "within_budget": False,
    }
    table = loopbench.table([row])
    assert "| -R -s docs  |     3.50 | 3.40 3.50 3.90 |  2.00 |        3 | NO" in table


def test_the_loop_benchmark_refuses_an_unknown_loop_before_any_work():
    from drillkit import loopbench
    from drillkit.errors import DrillError

    with pytest.raises(DrillError, match="no drill called 'drill99'"):
        loopbench.main(["drill99"])
    with pytest.raises(SystemExit):  # argparse's one-line usage error, before any work
        loopbench.main(["drill1", "--copies", "workspace"])


def test_a_blind_watch_shows_the_blind_summary_and_no_failure(starter_outcome):
    copy, _, outcome = starter_outcome
    console, out = plain_console()
    watch.show(copy, outcome, console, blind=True)
    screen = out.getvalue()
    assert not [f.id for f in DRILL.flaws if f.id in screen or f.title in screen]
    assert "is still present" not in screen
