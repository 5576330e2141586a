"""The learner's own skill: the findings matcher, blind runs and the grader."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from drillkit import remember
from drillkit.catalog import PROJECT_ROOT, Drill, Flaw, Location, get_drill
from drillkit.errors import DrillError
from drillkit.learner import LEARNER_TESTS, Grade, findings_report, grade_tests, score_findings
from drillkit.targets import Target, resolve_target
from drillkit.variants import bank

DOORS = Flaw(
    "D0-F1",
    "Doors left open",
    "Anyone walks in.",
    (Location("house/views.py", (10, 20), "def door"),),
)
WINDOWS = Flaw(
    "D0-F2",
    "Windows left open",
    "Anyone climbs in.",
    (Location("config/settings.py", (5, 5), "WINDOWS"),),
)


def synthetic(folder, *flaws: Flaw) -> Target:
    """A copy of a made-up drill whose flaws sit where the test says."""
    drill = Drill(
        name="drill0",
        number=0,
        title="Synthetic",
        summary="",
        checklist=(),
        time_box="",
        app="house",
        folder=folder,
        flaws=flaws,
    )
    return Target(drill, folder / "copy", "workspace/drill0")


@pytest.fixture
def target(tmp_path):
    return synthetic(tmp_path, DOORS, WINDOWS)


def score(target, text):
    findings = target.drill.folder / "FINDINGS.md"
    findings.write_text(text, encoding="utf-8")
    return score_findings(target, findings)


@pytest.mark.parametrize(
    "line",
    [
        "house/views.py:10 - the door has no lock",
        "house/views.py:20 — the door has no lock",
        "- `house/views.py:15` \u2013 the door has no lock",
        "./house/views.py:8-12: the door has no lock",
        "workspace/drill0/house/views.py:12 - the door has no lock",
    ],
)
def test_a_finding_inside_the_flaws_range_locates_it(target, line):
    result = score(target, f"# My audit\n\n{line}\n")
    assert set(result.found) == {"D0-F1"}
    assert [flaw.id for flaw in result.missed] == ["D0-F2"]
    assert not result.unmatched
    assert not result.malformed


@pytest.mark.parametrize(
    "line",
    [
        "house/views.py:9 - one line before the range",
        "house/views.py:21 - one line after the range",
        "house/models.py:15 - the right lines in the wrong file",
        "views.py:15 - a file name that is only the end of the right one",
    ],
)
def test_a_finding_outside_the_range_or_file_matches_nothing(target, line):
    result = score(target, line + "\n")
    assert not result.found
    assert [f.text for f in result.unmatched] == [line.split(" - ", 1)[1]]


def test_a_malformed_line_gets_a_clear_message_and_the_rest_is_scored(target):
    result = score(target, "the door looks wrong somewhere\nconfig/settings.py:5 - windows\n")
    assert set(result.found) == {"D0-F2"}
    report = findings_report(result, blind=False)
    assert "Line 1 is not a finding, so it was not scored" in report
    assert "`path:line - what is wrong`" in report
    assert "you located 1 of 2 planted flaws" in report


def test_a_blind_findings_report_names_no_flaw(target):
    report = findings_report(score(target, "house/views.py:10 - lock\n"), blind=True)
    assert "you located 1 of 2" in report
    for secret in ("Doors", "Windows", "D0-F"):
        assert secret not in report


def test_one_finding_locates_one_flaw_even_where_two_flaws_share_its_lines(tmp_path):
    """An outbound call can fetch any URL and wait forever: one finding there names one
    of the two problems, and only a second finding locates the other."""
    shared = (Location("house/views.py", (30, 34), "fetch"),)
    anywhere = Flaw("D0-F3", "Fetches anywhere", "SSRF.", shared)
    forever = Flaw("D0-F4", "Waits forever", "No timeout.", shared)
    target = synthetic(tmp_path, DOORS, anywhere, forever)
    one = score(target, "house/views.py:32 - fetches any URL\n")
    assert len(one.found) == 1
    assert set(one.found) <= {"D0-F3", "D0-F4"}
    both = score(target, "house/views.py:32 - fetches any URL\nhouse/views.py:33 - no timeout\n")
    assert set(both.found) == {"D0-F3", "D0-F4"}
    # The same flaw found twice is one flaw located; the second finding is no false alarm.
    twice = score(target, "house/views.py:10 - no lock\nhouse/views.py:12 - still no lock\n")
    assert set(twice.found) == {"D0-F1"}
    assert len(twice.found["D0-F1"]) == 2
    assert not twice.unmatched


def test_a_comment_spanning_lines_is_not_scored(target):
    result = score(target, "<!--\na note to myself\n-->\nhouse/views.py:10 - lock\n")
    assert set(result.found) == {"D0-F1"}
    assert not result.malformed


def test_a_comment_that_never_closes_is_reported_not_silently_swallowed(target):
    result = score(target, "house/views.py:10 - lock\n<!-- draft\nconfig/settings.py:5 - w\n")
    assert set(result.found) == {"D0-F1"}
    assert [number for number, _ in result.malformed] == [2]
    assert "never closes" in findings_report(result, blind=True)


ASSISTANT_REVIEW = PROJECT_ROOT / "drill_code/drill6_ai_review/examples/assistant-review.md"


def test_an_assistants_review_is_scored_like_a_persons():
    """The labelled sample review on the Drill 6 page, scored against the starter: what
    it locates, what it misses, its findings that match no flaw, and its prose lines."""
    drill = get_drill("drill6")
    assert "HAND-WRITTEN ILLUSTRATION, not the output of any AI service" in (
        ASSISTANT_REVIEW.read_text(encoding="utf-8")
    )
    result = score_findings(resolve_target(drill, "starter"), ASSISTANT_REVIEW)
    located = {"D6-F1", "D6-F2", "D6-F3", "D6-F5", "D6-F7", "D6-F8", "D6-F11", "D6-F12"}
    assert set(result.found) == located
    assert {flaw.id for flaw in result.missed} == {f.id for f in drill.flaws} - located
    assert [(f.path, f.first) for f in result.unmatched] == [
        ("config/settings.py", 1),
        ("orders/views.py", 4),
    ]
    assert [text[:7] for _, text in result.malformed] == ["Overall"]
    report = findings_report(result, blind=True, own=False)
    assert f"the review located 8 of {len(drill.flaws)} planted flaws" in report
    assert "2 of its findings match no planted flaw" in report
    assert "D6-F" not in report


def test_scoring_an_assistants_review_records_it_apart_from_the_learners(tmp_path):
    copy = tmp_path / "drill6"
    shutil.copytree(get_drill("drill6").starter, copy)
    review = tmp_path / "AI_FINDINGS.md"
    shutil.copy(ASSISTANT_REVIEW, review)
    drillkit("test", "drill6", "--target", str(copy), "--score-findings", str(review), "-x")
    record = json.loads((copy / ".drillkit" / "attempt.json").read_text())
    assert "findings" not in record  # the learner's own audit score is untouched
    assistant = record["assistant_findings"]
    assert (assistant["located"], assistant["unmatched"]) == (8, 2)
    assert assistant["of"] == len(get_drill("drill6").flaws)


def test_a_missing_or_binary_findings_file_is_explained(target):
    with pytest.raises(DrillError, match="There is no findings file"):
        score_findings(target, target.drill.folder / "nothing.md")
    binary = target.drill.folder / "FINDINGS.md"
    binary.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(DrillError, match="is not UTF-8 text"):
        score_findings(target, binary)


def test_every_flaw_location_still_points_at_its_text():
    """A starter edit that moves code must move the location with it."""
    from drillkit.catalog import all_drills

    stale = []
    for drill in all_drills():
        for flaw in drill.flaws:
            for spot in flaw.locations:
                path = drill.starter / spot.file
                lines = path.read_text().splitlines() if path.is_file() else []
                first, last = spot.lines
                if spot.contains not in "\n".join(lines[first - 1 : last]):
                    stale.append(f"{flaw.id} {spot.file}:{first}-{last} ({spot.contains!r})")
    assert not stale, "locations that no longer hold their text: " + "; ".join(stale)


def test_every_flaw_has_a_location():
    from drillkit.catalog import all_drills

    missing = [f.id for d in all_drills() for f in d.flaws if not f.locations]
    assert not missing, f"flaws with no location in drill.toml: {missing}"


# -- blind runs and grading, on a real drill ------------------------------------------

DRILL = get_drill("drill4")


def drillkit(*args):
    return subprocess.run(
        [sys.executable, "-m", "drillkit", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )


def test_a_blind_run_on_the_starter_names_no_flaw_and_no_test(tmp_path):
    copy = tmp_path / "drill4"
    shutil.copytree(DRILL.starter, copy)
    result = drillkit("test", "drill4", "--target", str(copy), "--blind", "--hint", "files")
    # The copy's own path (a pytest temporary folder) is named after this test: drop it.
    output = (result.stdout + result.stderr).replace(str(copy), "COPY")
    assert result.returncode == 1
    assert f"{len(DRILL.flaws)} of {len(DRILL.flaws)} planted flaws are still open" in output
    assert "The open flaws are in: " in output
    for flaw in DRILL.flaws:
        assert flaw.id not in output
        assert flaw.title not in output
    assert "test_" not in output  # no test name, which would describe its flaw


@pytest.fixture(scope="module")
def graded(tmp_path_factory, request):
    """The drill's own tests copied in as a learner's tests, an empty test folder and a
    wrong test, each graded. Grading runs the drill's whole suite some forty times: a warm
    run reuses the grades of exactly the same inputs, kept when every test of this module
    passed on them (drillkit.remember)."""
    folder = tmp_path_factory.mktemp("graded")
    # Some of the drill's tests are races that only PostgreSQL can show: grade on the
    # harness's own PostgreSQL, so every flaw and wrong fix can be caught in every pass.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DRILLKIT_DATABASE", "postgres")
        inputs = (DRILL.folder, remember.harness_digest(), Path(__file__), WRONG_TEST)
        key = remember.digest(*inputs, skip=frozenset({"results"}))
        found = remember.recall("harness-grades", key)
        if found is None:
            found = {name: _grade(folder / name) for name in GRADED}
    failed_before = request.session.testsfailed
    grades = CheckedGrades(
        (name, Grade(tests=folder / name / LEARNER_TESTS, drill=DRILL, **grade))
        for name, grade in found.items()
    )
    yield grades
    # Kept only when every grade was checked and nothing failed: a run filtered with -k
    # must not vouch for grades no test looked at.
    if grades.checked == set(GRADED) and request.session.testsfailed == failed_before:
        remember.keep("harness-grades", key, found)


class CheckedGrades(dict):
    """The grades by name, remembering which ones a test has looked at."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.checked: set[str] = set()

    def __getitem__(self, name: str) -> Grade:
        self.checked.add(name)
        return super().__getitem__(name)


def _grade(copy) -> dict:
    """Grade a copy of the starter with the learner tests its name says."""
    shutil.copytree(DRILL.starter, copy)
    tests = copy / LEARNER_TESTS
    if copy.name == "strong":
        shutil.copytree(DRILL.tests, tests)
    else:
        tests.mkdir()
    if copy.name == "wrong":
        (tests / "test_mine.py").write_text(WRONG_TEST)
    grade = grade_tests(resolve_target(DRILL, str(copy)))
    fields = ("wrong_tests", "flaws", "wrong_fixes", "summaries", "tests_run")
    return {name: getattr(grade, name) for name in fields}


GRADED = ("strong", "empty", "wrong")
# A test that expects the flaw: it fails on the reference solution, and it must not be
# credited with catching anything, although it fails on most variants.
WRONG_TEST = """
def test_statistics_are_public(api_client, db):
    assert api_client.get("/api/stats/").status_code == 200
"""


def test_the_solutions_own_tests_catch_every_flaw_and_every_wrong_fix(graded):
    grade = graded["strong"]
    assert grade.tests_run > 0
    assert not grade.wrong_tests
    assert set(grade.flaws) == {v.flaw for v in bank(DRILL, "flaw")} == {f.id for f in DRILL.flaws}
    assert all(grade.flaws.values()), [f for f, caught in grade.flaws.items() if not caught]
    assert len(grade.wrong_fixes) == len(bank(DRILL, "wrong-fix")) > 0
    assert all(grade.wrong_fixes.values()), [n for n, c in grade.wrong_fixes.items() if not c]


def test_an_empty_test_folder_catches_nothing(graded):
    grade = graded["empty"]
    assert grade.tests_run == 0
    assert not any(grade.flaws.values())
    assert not any(grade.wrong_fixes.values())


def test_grading_without_a_test_folder_says_where_tests_go(tmp_path):
    copy = tmp_path / "drill4"
    shutil.copytree(DRILL.starter, copy)
    with pytest.raises(DrillError, match="There is no my_tests/ folder"):
        grade_tests(resolve_target(DRILL, str(copy)))


def test_a_test_that_fails_on_the_solution_is_reported_wrong_and_catches_nothing(graded):
    grade = graded["wrong"]
    assert [node.rsplit("::", 1)[-1] for node in grade.wrong_tests] == [
        "test_statistics_are_public"
    ]
    assert not grade.all_right
    assert not any(grade.flaws.values())
    assert not any(grade.wrong_fixes.values())


@pytest.mark.parametrize(
    ("caught_in", "caught"), [({"D4-F3.list-open"}, False), ({"D4-F3", "D4-F3.list-open"}, True)]
)
def test_a_flaw_held_in_two_places_is_caught_only_if_caught_in_both(
    tmp_path, monkeypatch, caught_in, caught
):
    from drillkit import variants
    from drillkit.variants import Run

    copy = tmp_path / "drill4"
    shutil.copytree(DRILL.starter, copy)
    (copy / "my_tests").mkdir()
    monkeypatch.setattr(variants, "run_tests", lambda *a, **k: Run("solution", 0, passed=1))

    def on_variants(drill, chosen, **options):
        failed = {"my_tests/test_x.py::test_x": []} if chosen[0].name in caught_in else {}
        return Run(chosen[0].name, 1 if failed else 0, failed_tests=failed, passed=1)

    monkeypatch.setattr(variants, "run_on_variants", on_variants)
    grade = grade_tests(resolve_target(DRILL, str(copy)), planted={"D4-F3"})
    assert grade.flaws == {"D4-F3": caught}
