"""Grading a team's attempts, as the attempts workflow does on GitHub Actions."""

import json
import shutil
import subprocess
import sys

import pytest

from drillkit.catalog import PROJECT_ROOT, get_drill
from drillkit.errors import DrillError
from drillkit.grading import find_attempts

DRILL = get_drill("drill4")


def drillkit(*args, **env):
    return subprocess.run(
        [sys.executable, "-m", "drillkit", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**__import__("os").environ, **env},
    )


@pytest.fixture
def attempts(tmp_path):
    """Two people: Ada's attempt is the fixed code, Bob's is the untouched starter."""
    root = tmp_path / "attempts"
    shutil.copytree(DRILL.solution, root / "ada" / "drill4")
    shutil.copytree(DRILL.starter, root / "bob" / "drill4")
    return root


def test_grading_a_team_tree_gives_a_table_a_step_summary_and_evidence(attempts, tmp_path):
    summary, evidence = tmp_path / "summary.md", tmp_path / "evidence"
    result = drillkit(
        "grade", str(attempts), "--evidence", str(evidence), GITHUB_STEP_SUMMARY=str(summary)
    )
    assert result.returncode == 1, result.stderr  # Bob's attempt still has open flaws
    flaws = len(DRILL.flaws)
    assert f"| ada | drill4 | {flaws} of {flaws} | 0 |" in result.stdout
    assert f"| bob | drill4 | 0 of {flaws} |" in result.stdout
    assert "| Person | Drill | Flaws fixed |" in summary.read_text()
    ada = json.loads((evidence / "ada-drill4.json").read_text())
    bob = json.loads((evidence / "bob-drill4.json").read_text())
    assert ada["flaws_open"] == []
    assert sorted(bob["flaws_open"]) == sorted(f.id for f in DRILL.flaws)


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({}, "There are no attempts in"),
        ({"ada/drill99": True}, "is not named after a drill"),
        ({"ada smith/drill4": True}, "is not a usable person folder name"),
    ],
)
def test_bad_attempt_trees_are_explained(tmp_path, layout, message):
    root = tmp_path / "attempts"
    root.mkdir()
    for folder in layout:
        (root / folder).mkdir(parents=True)
    with pytest.raises(DrillError, match=message):
        find_attempts(root)


def test_the_command_explains_a_missing_attempts_folder_without_a_traceback(tmp_path):
    result = drillkit("grade", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "is not a folder" in result.stderr
    assert "Traceback" not in result.stderr
