"""Scorecards: the checklist, the templates, and what `check`, `new` and `report` do."""

import datetime as dt
import shutil
import subprocess
import sys

import pytest
import yaml

from drillkit import scorecards, team
from drillkit.catalog import PROJECT_ROOT, all_drills
from drillkit.errors import DrillError

EXAMPLE = PROJECT_ROOT / "scorecards" / "example"
DRILL = all_drills()[0]


def test_every_checklist_item_is_exercised_by_a_drill_that_exists():
    exercised = {item for drill in all_drills() for item in drill.checklist}
    assert set(scorecards.checklist()) - exercised == set()


def test_every_drill_names_only_real_checklist_items():
    for drill in all_drills():
        assert set(drill.checklist) <= set(scorecards.checklist()), drill.name


@pytest.mark.parametrize("drill", all_drills(), ids=lambda d: d.name)
def test_every_template_fits_the_schema_and_is_unscored(drill):
    template = scorecards.template_for(drill.name)
    assert template.drill == drill.name
    assert all(criterion.score is None for criterion in template.criteria)
    # Criteria point at checklist items the drill says it exercises.
    assert {c.checklist for c in template.criteria} <= set(drill.checklist)


def test_the_worked_example_is_valid():
    files = scorecards.filled_scorecards(EXAMPLE)
    assert len(files) >= 2, "the example needs several audits to show a trend"
    assert scorecards.check(files) == (len(files), [])


def _write(tmp_path, text, name="2026-11-02-drill4.yml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _example_with(tmp_path, change):
    card = yaml.safe_load((EXAMPLE / "ada" / "2026-10-05-drill4.yml").read_text())
    change(card)
    return _write(tmp_path, yaml.safe_dump(card, sort_keys=False))


def _set(key_path, value):
    def change(card):
        node = card
        for key in key_path[:-1]:
            node = node[key]
        node[key_path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_set(["drill"], "drill99"), "(top level): Value error, drill 'drill99' is not one of"),
        (_set(["criteria", 0, "score"], 4), "criteria[0].score: Input should be less than or"),
        (_set(["criteria", 0, "score"], -1), "criteria[0].score: Input should be greater than"),
        (_set(["criteria", 1, "evidence"], ""), "criteria[1]: Value error, a score of 2 needs"),
        (_set(["criteria", 0, "id"], "charisma"), "criteria[0].id: 'charisma' is not a criterion"),
        (_set(["criteria", 0, "checklist"], "vibes"), "criteria[0]: Value error, checklist item"),
        (_set(["date"], None), "date: missing; a filled scorecard says when it was scored"),
        (_set(["surprise"], 1), "surprise: Extra inputs are not permitted"),
    ],
    ids=[
        "unknown drill",
        "score above 3",
        "score below 0",
        "2 without evidence",
        "unknown criterion",
        "unknown checklist item",
        "no date",
        "unknown field",
    ],
)
def test_check_names_the_file_and_the_field_of_each_problem(tmp_path, change, expected):
    path = _example_with(tmp_path, change)
    valid, problems = scorecards.check([path])
    assert valid == 0
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: {expected}"), problems[0]


def test_check_explains_a_file_that_is_not_yaml(tmp_path):
    path = _write(tmp_path, "drill: drill4\nnotes: fixed it: all of it\n")
    assert scorecards.check([path]) == (
        0,
        [
            f"{path}: line 2: not valid YAML (mapping values are not allowed here); "
            "quote text containing ': '"
        ],
    )


def test_check_on_the_command_line_exits_non_zero_without_a_traceback(tmp_path):
    bad = _example_with(tmp_path, _set(["criteria", 0, "score"], 7))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "drillkit",
            "scorecard",
            "check",
            str(bad),
            str(tmp_path / "no.yml"),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{bad}: criteria[0].score" in result.stderr
    assert f"{tmp_path / 'no.yml'}: no such file" in result.stderr


def test_new_records_what_the_tests_measured_and_never_overwrites(tmp_path):
    starter = str(DRILL.starter.relative_to(PROJECT_ROOT))
    message = scorecards.new(DRILL.name, starter, folder=tmp_path, person="Ada Lovelace")
    (written,) = tmp_path.glob(f"ada-lovelace/*-{DRILL.name}.yml")
    card = yaml.safe_load(written.read_text())
    assert card["person"] == "ada-lovelace"
    assert card["measured"]["flaws_fixed"] == []
    assert card["measured"]["flaws_open"] == [flaw.id for flaw in DRILL.flaws]
    assert card["measured"]["tests_failed"] > 0
    assert "nox -s scorecard -- check" in message
    written.write_text(written.read_text() + "# my scores\n")
    with pytest.raises(DrillError, match="already exists, so nothing was written"):
        scorecards.new(DRILL.name, starter, folder=tmp_path, person="ada-lovelace")
    assert written.read_text().endswith("# my scores\n")


def test_new_explains_a_missing_copy(tmp_path):
    with pytest.raises(DrillError, match="does not exist"):
        scorecards.new(DRILL.name, "workspace/not-there", folder=tmp_path, person="ada")
    assert not list(tmp_path.iterdir())


def test_the_example_is_a_team_of_three_over_several_months():
    cards = team.load_cards(EXAMPLE, scorecards.filled_scorecards(EXAMPLE))
    assert team.people(cards) == ["ada", "bea", "cem"]
    months = {(c.date.year, c.date.month) for c in cards}
    assert len(months) >= 3


def test_the_person_view_shows_evidence_beside_each_score_and_flags_a_gap():
    cards = team.only(team.load_cards(EXAMPLE, scorecards.filled_scorecards(EXAMPLE)), "cem")
    table = team.person_table(cards)
    permissions = next(line for line in table.splitlines() if line.startswith("| Permissions"))
    assert "3 of 11 flaws fixed" in permissions
    assert "self-score 2.5, but 3 of 11 flaws fixed" in permissions


def test_the_team_view_counts_latest_scores_and_names_who_fell():
    cards = team.load_cards(EXAMPLE, scorecards.filled_scorecards(EXAMPLE))
    table = team.team_table(cards)
    permissions = next(line for line in table.splitlines() if line.startswith("| Permissions"))
    cells = [cell.strip() for cell in permissions.strip("|").split("|")]
    assert cells[1] == "0 / 0 / 2 / 1"  # ada 2, cem 2.5, bea 3
    assert cells[4] == "ada"  # 2.5 in October, 2 in November


def test_the_agenda_draws_on_the_scorecards():
    cards = team.load_cards(EXAMPLE, scorecards.filled_scorecards(EXAMPLE))
    text = team.agenda(cards, dt.date(2026, 12, 1), since_days=60, cadence_days=30)
    assert "- ada: **Permissions** fell from 2.5 to 2 (2026-11-23)." in text
    assert "- cem, drill4 on 2026-10-19: **Permissions** self-score 2.5" in text
    assert "- drill5:" in text  # nobody has attempted it
    assert "- cem: last scorecard 2026-10-19, 43 days ago" in text


def test_report_writes_a_chart_for_the_team_and_for_a_person(tmp_path):
    cards = team.load_cards(EXAMPLE, scorecards.filled_scorecards(EXAMPLE))
    assert team.team_chart(cards, tmp_path / "t.png").read_bytes().startswith(b"\x89PNG")
    svg = team.person_chart(team.only(cards, "ada"), tmp_path / "a.svg").read_text()
    assert "<svg" in svg
    assert "#888888" in svg  # neutral text, readable on both site schemes


def test_an_unknown_person_is_explained():
    cards = team.load_cards(EXAMPLE, scorecards.filled_scorecards(EXAMPLE))
    with pytest.raises(DrillError, match=r"no scorecards for .zoe.*ada, bea, cem"):
        team.only(cards, "zoe")


def test_a_scorecard_owned_by_nobody_counts_as_unnamed_and_is_pointed_out(tmp_path):
    shutil.copy(EXAMPLE / "ada" / "2026-10-05-drill4.yml", tmp_path / "2026-10-05-drill4.yml")
    shutil.copytree(EXAMPLE / "bea", tmp_path / "bea")
    cards = team.load_cards(tmp_path, scorecards.filled_scorecards(tmp_path))
    assert team.people(cards) == ["bea", team.UNNAMED]
    notes = " ".join(team.team_notes(cards, dt.date(2026, 12, 1), 30))
    assert "1 scorecards have no owner" in notes


def test_a_card_in_someone_elses_folder_is_refused(tmp_path):
    (tmp_path / "cem").mkdir()
    shutil.copy(EXAMPLE / "bea" / "2026-10-12-drill1.yml", tmp_path / "cem" / "x.yml")
    with pytest.raises(DrillError, match="says `person: bea` but sits in cem's folder"):
        team.load_cards(tmp_path, scorecards.filled_scorecards(tmp_path))


def test_new_without_a_person_or_git_name_says_how_to_give_one(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "none"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    with pytest.raises(DrillError, match="Say whose scorecard this is"):
        scorecards.whose(None)
    assert scorecards.whose("Ada Lovelace") == "ada-lovelace"


def test_your_reports_leave_the_worked_example_out(tmp_path):
    assert not any("example" in p.parts for p in scorecards.filled_scorecards())


def test_report_with_no_scorecards_explains_what_to_do(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "drillkit", "scorecard", "report", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 2
    assert "nox -s scorecard -- new drill4" in result.stderr
