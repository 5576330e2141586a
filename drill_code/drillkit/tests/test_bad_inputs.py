"""Input that once gave a traceback or a wrong answer: each now gets one clear paragraph
(or simply works). One test per case, in the order the handbook's issue listed them."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import yaml

from drillkit import scorecards, team, workspace
from drillkit.catalog import PROJECT_ROOT, all_drills, get_drill
from drillkit.errors import DrillError
from drillkit.noxhelp import requested_sessions, unknown_session_message
from drillkit.targets import resolve_target

EXAMPLE = PROJECT_ROOT / "scorecards" / "example"
# Two drills whose projects share an app name (`shop`) and a layout.
SAME_APP = [d for d in all_drills() if [o.app for o in all_drills()].count(d.app) > 1]


def drillkit(*args: str, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "drillkit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT / "drill_code")},
    )


# -- nox -s start ---------------------------------------------------------------------------


def test_start_into_a_workspace_that_cannot_be_written_is_one_paragraph(tmp_path):
    # Root ignores permission bits, so make the workspace a file: mkdir under it fails.
    blocked = tmp_path / "workspace"
    blocked.write_text("not a folder")
    with pytest.raises(DrillError, match=r"Could not write the copy in .*Make that folder"):
        workspace.start(all_drills()[0].name, workspace=blocked)


def test_a_copy_refused_half_way_leaves_nothing_behind(tmp_path, monkeypatch):
    def refuse(source, destination, **_):
        Path(destination).mkdir()
        (Path(destination) / "half.py").write_text("")
        raise PermissionError(13, "Permission denied", str(destination))

    monkeypatch.setattr(shutil, "copytree", refuse)
    with pytest.raises(DrillError, match="Permission denied"):
        workspace.start(all_drills()[0].name, workspace=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_start_names_an_unknown_option_instead_of_asking_for_a_drill():
    with pytest.raises(DrillError, match="does not know --forse"):
        workspace.parse_start_args(["drill4", "--forse"])
    assert workspace.parse_start_args(["drill4", "--force"]) == workspace.StartRequest(
        "drill4", force=True
    )
    with pytest.raises(DrillError, match="Name one drill to start"):
        workspace.parse_start_args([])


def test_start_reads_a_mix_its_seed_and_a_folder():
    request = workspace.parse_start_args(["drill4", "--mix", "--seed", "7", "--into", "a/b"])
    assert request == workspace.StartRequest("drill4", mix=True, seed=7, into=Path("a/b"))
    with pytest.raises(DrillError, match="--seed takes a whole number"):
        workspace.parse_start_args(["drill4", "--seed", "seven"])
    with pytest.raises(DrillError, match="--into needs a value"):
        workspace.parse_start_args(["drill4", "--into"])


# -- scorecards -------------------------------------------------------------------------------


def test_checking_a_binary_file_says_it_is_not_text(tmp_path):
    binary = tmp_path / "photo.yml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    assert scorecards.check([binary]) == (
        0,
        [f"{binary}: not a text file (a scorecard is YAML text in UTF-8)"],
    )


def test_checking_a_folder_checks_the_scorecards_inside_it():
    files = scorecards.expand([EXAMPLE])
    assert files
    assert all(f.suffix == ".yml" for f in files)
    result = drillkit("scorecard", "check", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert f"{len(files)} of {len(files)} scorecards are valid" in result.stdout


def test_checking_an_empty_folder_says_so(tmp_path):
    with pytest.raises(DrillError, match=r"a folder with no \.yml scorecards"):
        scorecards.expand([tmp_path])


@pytest.mark.parametrize("name", ["chart.jpg", "chart"])
def test_a_chart_name_that_is_not_png_or_svg_is_refused_before_drawing(tmp_path, name):
    result = drillkit("scorecard", "report", "--dir", str(EXAMPLE), "--chart", str(tmp_path / name))
    assert result.returncode == 2
    assert "name a file ending in .png or .svg" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_chart_given_a_folder_is_written_inside_it_where_it_says(tmp_path):
    result = drillkit("scorecard", "report", "--dir", str(EXAMPLE), "--chart", str(tmp_path))
    assert result.returncode == 0, result.stderr
    written = tmp_path / scorecards.CHART_NAME
    assert written.is_file()
    assert f"Chart of the team's latest scores: {written}" in result.stdout
    assert [p.name for p in tmp_path.iterdir()] == [scorecards.CHART_NAME]


def _filled(tmp_path: Path, score) -> Path:
    template = yaml.safe_load((all_drills()[0].folder / "scorecard.yml").read_text())
    template["date"] = dt.date(2026, 1, 5)
    template["criteria"][0]["score"] = score
    path = tmp_path / "card.yml"
    path.write_text(yaml.safe_dump(template))
    return path


def test_true_is_not_a_score(tmp_path):
    valid, problems = scorecards.check([_filled(tmp_path, True)])
    assert valid == 0
    assert any("score" in problem for problem in problems)
    assert scorecards.check([_filled(tmp_path, 1)]) == (1, [])


def test_a_report_with_nothing_scored_draws_no_empty_legend(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns when a legend has no entries
        path = _filled(tmp_path, None)
        team.person_chart(team.load_cards(tmp_path, [path]), tmp_path / "chart.png")
    assert (tmp_path / "chart.png").is_file()


# -- a copy of another drill ------------------------------------------------------------------


@pytest.mark.skipif(len(SAME_APP) < 2, reason="no two drills share an app name")
def test_a_copy_of_another_drill_is_named_as_such(tmp_path):
    mine, other = SAME_APP[0], SAME_APP[1]
    workspace.start(other.name, workspace=tmp_path)
    copy = tmp_path / other.name
    with pytest.raises(DrillError, match=f"is a copy of {other.name} .*, not of {mine.name}"):
        resolve_target(mine, str(copy))
    assert resolve_target(other, str(copy)).path == copy


def test_a_copy_being_worked_on_still_belongs_to_its_drill(tmp_path):
    drill = get_drill(SAME_APP[0].name if SAME_APP else all_drills()[0].name)
    workspace.start(drill.name, workspace=tmp_path)
    copy = tmp_path / drill.name
    for path in copy.rglob("*.py"):  # the learner rewrote every file of the app
        if path.parent.name == drill.app and path.name != "__init__.py":
            path.write_text(path.read_text() + "\n# reviewed\n")
    assert resolve_target(drill, str(copy)).path == copy


@pytest.mark.skipif(len(SAME_APP) < 2, reason="no two drills share an app name")
def test_a_scorecard_is_never_written_for_another_drills_copy(tmp_path):
    mine, other = SAME_APP[0], SAME_APP[1]
    workspace.start(other.name, workspace=tmp_path)
    with pytest.raises(DrillError, match=f"is a copy of {other.name}"):
        scorecards.new(mine.name, str(tmp_path / other.name), folder=tmp_path / "cards")
    assert not (tmp_path / "cards").exists()


# -- nox -s drill9, and a path with spaces ---------------------------------------------------


def test_an_unknown_drill_session_names_the_real_drills():
    assert requested_sessions(["-s", "drill9", "lint", "--", "-x"]) == ["drill9", "lint"]
    assert requested_sessions(["--session=drill9", "-R"]) == ["drill9"]
    message = unknown_session_message("drill9", ["drill1", "lint"])
    assert "There is no drill9" in message
    assert all(drill.name in message for drill in all_drills())


@pytest.mark.skipif(shutil.which("nox") is None, reason="nox is not on PATH")
def test_nox_explains_an_unknown_drill_session():
    result = subprocess.run(
        ["nox", "-s", "drill9"], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60
    )
    assert result.returncode != 0
    assert "There is no drill9: the drills in this handbook are" in result.stderr
    assert "Sessions not found" not in result.stderr


def test_the_makemigrations_hint_quotes_a_path_with_spaces(tmp_path):
    drill = all_drills()[0]
    workspace.start(drill.name, workspace=tmp_path / "my drills")
    copy = tmp_path / "my drills" / drill.name
    models = next(copy.glob("*/models.py"))
    models.write_text(
        models.read_text()
        + "\n\nclass Extra(models.Model):\n    name = models.CharField(max_length=5)\n"
    )
    result = drillkit("test", drill.name, "--target", str(copy))
    assert result.returncode == 2
    assert f"--target '{copy}' makemigrations" in result.stderr
