"""Scorecards: the self-audit templates, the learner's filled copies, and their history.

One pydantic schema serves every drill. `new` copies a drill's template into
`scorecards/` with today's date and what it can measure; `check` validates filled
files; `report` shows the latest score and the trend for each checklist item.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from drillkit.catalog import PROJECT_ROOT, all_drills, get_drill, load_script, shown
from drillkit.errors import DrillError

SCORECARDS = PROJECT_ROOT / "scorecards"
CHECKLIST_FILE = PROJECT_ROOT / "drill_code" / "checklist.yml"
# Strict: YAML reads `score: true` as a boolean, which lax validation would take for 1.
Score = Annotated[int, Field(ge=0, le=3, strict=True)]
CHART_FORMATS = (".png", ".svg")
CHART_NAME = "report.png"


class ChecklistItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    ready: str


class Checklist(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[ChecklistItem]


def checklist() -> dict[str, ChecklistItem]:
    return dict(_checklist())


@functools.cache
def _checklist() -> dict[str, ChecklistItem]:
    # Read once per process: every criterion of every scorecard checks its item against it,
    # and parsing the file again each time made the handbook's build slow.
    data = Checklist.model_validate(yaml.safe_load(CHECKLIST_FILE.read_text(encoding="utf-8")))
    return {item.id: item for item in data.items}


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    checklist: str
    title: str
    question: str
    rubric: dict[Literal[0, 1, 2, 3], str]
    evidence_hint: str
    score: Score | None = None
    evidence: str = ""

    @model_validator(mode="after")
    def _rubric_and_evidence(self) -> Criterion:
        if sorted(self.rubric) != [0, 1, 2, 3]:
            raise ValueError("rubric must describe each level 0, 1, 2 and 3")
        if self.checklist not in checklist():
            raise ValueError(
                f"checklist item {self.checklist!r} is not in drill_code/checklist.yml"
            )
        if self.score is not None and self.score >= 2 and not self.evidence.strip():
            raise ValueError(
                f"a score of {self.score} needs evidence someone else could check "
                "(a test, a PR link, a command and its result)"
            )
        return self


class AuditScore(BaseModel):
    """The learner's FINDINGS.md scored against the planted flaws' locations."""

    model_config = ConfigDict(extra="forbid")
    located: int = Field(ge=0)
    of: int = Field(ge=0)
    unmatched: int = Field(ge=0)
    blind: bool  # scored before any run had named a flaw


class OwnTests(BaseModel):
    """The learner's my_tests/ graded against the single-flaw variants and wrong fixes."""

    model_config = ConfigDict(extra="forbid")
    tests: int = Field(ge=0)
    wrong_tests: int = Field(ge=0)
    flaws_caught: int = Field(ge=0)
    flaws: int = Field(ge=0)
    wrong_fixes_caught: int = Field(ge=0)
    wrong_fixes: int = Field(ge=0)


class AssistantAudit(BaseModel):
    """An AI assistant's review of the same copy, in the findings format, scored the
    same way as the learner's (`--score-findings AI_FINDINGS.md`)."""

    model_config = ConfigDict(extra="forbid")
    file: str
    located: int = Field(ge=0)
    of: int = Field(ge=0)
    unmatched: int = Field(ge=0)  # the assistant's false alarms or extra findings


class Measured(BaseModel):
    """What `new` measured by running the drill's tests against the learner's copy."""

    model_config = ConfigDict(extra="forbid")
    command: str
    tests_passed: int | None = None
    tests_failed: int | None = None
    flaws_fixed: list[str]
    flaws_open: list[str]
    # Figures from the drill's benchmark run on the learner's copy, for drills whose
    # bench.py offers `scorecard_figures(target)`.
    bench: dict[str, float | int | str] | None = None
    # How many flaws the learner located, and whether blind; how good their own
    # tests are. Absent when the copy has no FINDINGS.md or no my_tests/.
    audit: AuditScore | None = None
    own_tests: OwnTests | None = None
    # The seed of a mixed attempt (`nox -s start -- drillN --mix`); absent for the starter.
    mix_seed: int | None = None
    # Optional: how an assistant's review of the same copy scored, for a team tracking
    # over months how its assistant's recall compares with its people's.
    assistant_audit: AssistantAudit | None = None


class Scorecard(BaseModel):
    model_config = ConfigDict(extra="forbid")
    drill: str
    # Whose self-audit this is. Cards from before people had folders have none: they
    # belong to the folder they sit in, or to "unnamed" at the top of scorecards/.
    person: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    date: dt.date | None = None  # None only in a drill's template
    target: str | None = None
    measured: Measured | None = None
    criteria: list[Criterion]
    notes: str = ""

    @model_validator(mode="after")
    def _known_drill_and_criteria(self) -> Scorecard:
        names = [d.name for d in all_drills()]
        if self.drill not in names:
            raise ValueError(f"drill {self.drill!r} is not one of {', '.join(names)}")
        ids = [c.id for c in self.criteria]
        if len(set(ids)) != len(ids):
            raise ValueError(f"criterion ids must be unique: {ids}")
        return self


def _location(error: dict) -> str:
    parts = []
    for part in error["loc"]:
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(parts).lstrip(".") or "(top level)"


def load(path: Path, *, filled: bool = True) -> tuple[Scorecard | None, list[str]]:
    """Parse and validate one scorecard. Returns (scorecard, one line per problem)."""
    name = shown(path)
    if not path.is_file():
        return None, [f"{name}: no such file"]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return None, [f"{name}: not a text file (a scorecard is YAML text in UTF-8)"]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [f"{name}: {where}not valid YAML ({problem}); quote text containing ': '"]
    if not isinstance(data, dict):
        return None, [f"{name}: expected a mapping with drill, date and criteria"]
    try:
        card = Scorecard.model_validate(data)
    except ValidationError as exc:
        return None, [f"{name}: {_location(e)}: {e['msg']}" for e in exc.errors()]
    problems = []
    if filled and card.date is None:
        problems.append(f"{name}: date: missing; a filled scorecard says when it was scored")
    template = template_for(card.drill)
    known = {c.id: c for c in template.criteria}
    for index, criterion in enumerate(card.criteria):
        if criterion.id not in known:
            problems.append(
                f"{name}: criteria[{index}].id: {criterion.id!r} is not a criterion of "
                f"{card.drill}'s template ({', '.join(known)})"
            )
        elif criterion.checklist != known[criterion.id].checklist:
            problems.append(
                f"{name}: criteria[{index}].checklist: the template says "
                f"{known[criterion.id].checklist!r}"
            )
    return (card if not problems else None), problems


def template_for(drill_name: str) -> Scorecard:
    return _template(drill_name).model_copy(deep=True)


@functools.cache
def _template(drill_name: str) -> Scorecard:
    drill = get_drill(drill_name)
    data = yaml.safe_load((drill.folder / "scorecard.yml").read_text(encoding="utf-8"))
    return Scorecard.model_validate(data)


# -- new ----------------------------------------------------------------------------------


def measure(drill_name: str, target: str) -> Measured:
    """Run the drill's tests against the learner's copy and record flaws fixed and open,
    the audit score and the grade of the learner's own tests."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "flaws.json"
        # --blind: measuring for the scorecard must not count as a run that named flaws.
        args = ["test", drill_name, "--target", target, "--flaw-report", str(report), "--blind"]
        result = subprocess.run(
            [sys.executable, "-m", "drillkit", *args, "-p", "no:cacheprovider"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
        )
        if result.returncode == 2 or not report.exists():
            raise DrillError(result.stderr.strip() or result.stdout.strip())
        outcome = json.loads(report.read_text())
    drill = get_drill(drill_name)
    if not any(state in ("fixed", "open") for state in outcome["flaws"].values()):
        # Evidence must come from tests that ran: "0 of 0 flaws fixed" proves nothing.
        raise DrillError(
            f"The tests of {drill_name} could not run on {target}, so there is nothing to "
            f"record. See why with `nox -s {drill_name} -- --target {target}`, fix that, "
            "then create the scorecard again."
        )
    bench = load_script(drill, "bench") if drill.has_script("bench") else None
    figures = getattr(bench, "scorecard_figures", None)
    audit, own_tests, mix_seed, assistant = _learner_figures(drill_name, target)
    return Measured(
        command=f"nox -s {drill_name} -- --target {target}",
        tests_passed=outcome["passed"],
        tests_failed=outcome["failed"],
        flaws_fixed=[f for f, state in outcome["flaws"].items() if state == "fixed"],
        flaws_open=[f for f, state in outcome["flaws"].items() if state == "open"],
        bench=figures(target) if figures else None,
        audit=audit,
        own_tests=own_tests,
        mix_seed=mix_seed,
        assistant_audit=assistant,
    )


def _learner_figures(
    drill_name: str, target: str
) -> tuple[AuditScore | None, OwnTests | None, int | None, AssistantAudit | None]:
    """The audit score and the grade the copy's last runs recorded; scored now when the
    copy has FINDINGS.md or my_tests/ but no record of them (then not blind: the flaws
    may have been named since)."""
    from drillkit import attempt, learner
    from drillkit.mixes import mix_of, planted_flaws
    from drillkit.targets import resolve_target

    resolved = resolve_target(get_drill(drill_name), target)
    record = attempt.load(resolved.path)
    mix = mix_of(resolved)
    findings = record.get("findings")
    if findings is None and (resolved.path / learner.FINDINGS).is_file():
        score = learner.score_findings(
            resolved, resolved.path / learner.FINDINGS, planted_flaws(resolved)
        )
        findings = {
            "located": len(score.found),
            "of": len(score.planted),
            "unmatched": len(score.unmatched),
            "blind": False,
        }
    own = record.get("own_tests")
    if own is None and (resolved.path / learner.LEARNER_TESTS).is_dir():
        attempt.note_grade(resolved, learner.grade_tests(resolved, mix and mix.planted))
        own = attempt.load(resolved.path).get("own_tests")
    audit = AuditScore(**{k: findings[k] for k in AuditScore.model_fields}) if findings else None
    graded = OwnTests(**{k: own[k] for k in OwnTests.model_fields}) if own else None
    helper = record.get("assistant_findings")
    assistant = (
        AssistantAudit(**{k: helper[k] for k in AssistantAudit.model_fields}) if helper else None
    )
    return audit, graded, mix.seed if mix else None, assistant


def person_slug(name: str) -> str:
    """A person's folder name: "Ada Lovelace" -> "ada-lovelace"."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.strip().lower()).strip("-.")
    return slug[:64]


def whose(person: str | None) -> str:
    """The scorecard's owner: as given, else git's user.name, else asked for on a
    terminal; one paragraph when none of those says."""
    if person is None:
        result = subprocess.run(
            ["git", "config", "user.name"], capture_output=True, text=True, cwd=PROJECT_ROOT
        )
        person = result.stdout.strip() if result.returncode == 0 else ""
        if not person and sys.stdin.isatty():
            person = input("Whose scorecard is this (your name)? ")
    slug = person_slug(person or "")
    if not slug:
        raise DrillError(
            "Say whose scorecard this is: `nox -s scorecard -- new drill4 --person ada`, or "
            "set your name for git (`git config user.name 'Ada Lovelace'`). Scorecards live "
            "in scorecards/<person>/."
        )
    return slug


def new(
    drill_name: str,
    target: str | None = None,
    *,
    folder: Path = SCORECARDS,
    person: str | None = None,
) -> str:
    drill = get_drill(drill_name)
    person = whose(person)
    today = dt.date.today()
    destination = folder / person / f"{today.isoformat()}-{drill.name}.yml"
    if destination.exists():
        raise DrillError(
            f"{shown(destination)} already exists, so nothing was written: it may hold your "
            "scores. Edit it, or move it aside if you want to start today's audit again."
        )
    target = target or f"workspace/{drill.name}"
    measured = measure(drill.name, target)
    template_text = (drill.folder / "scorecard.yml").read_text(encoding="utf-8")
    header = yaml.safe_dump(
        {
            "person": person,
            "date": today,
            "target": target,
            "measured": measured.model_dump(exclude_none=True),
        },
        sort_keys=False,
    )
    # Keep the template's comments and layout: prepend what was measured after `drill:`.
    filled = template_text.replace(f"drill: {drill.name}\n", f"drill: {drill.name}\n{header}", 1)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(filled, encoding="utf-8")
    learned = []
    if measured.audit:
        how = "blind, before any run named them" if measured.audit.blind else "not blind"
        learned.append(
            f"Your findings located {measured.audit.located} of {measured.audit.of} flaws ({how})."
        )
    if measured.own_tests:
        own = measured.own_tests
        learned.append(
            f"Your tests catch {own.flaws_caught} of {own.flaws} flaws and "
            f"{own.wrong_fixes_caught} of {own.wrong_fixes} wrong fixes."
        )
    return (
        f"Wrote {shown(destination)}: {len(measured.flaws_fixed)} of "
        f"{len(measured.flaws_fixed) + len(measured.flaws_open)} flaws fixed in {target}.\n"
        + "".join(line + "\n" for line in learned)
        + f"Score each criterion against its rubric, add evidence, then run:\n"
        f"    nox -s scorecard -- check {shown(destination)}"
    )


# -- check --------------------------------------------------------------------------------


EXAMPLE = "example"


def filled_scorecards(folder: Path = SCORECARDS) -> list[Path]:
    """Every scorecard in `folder` and its people's folders. The worked example inside
    scorecards/ is the handbook's, not the learner's: it counts only when asked for."""
    return sorted(
        path
        for path in folder.rglob("*.yml")
        if not (folder == SCORECARDS and EXAMPLE in path.relative_to(folder).parts)
    )


def expand(paths: list[Path]) -> list[Path]:
    """Files as given, and every .yml scorecard inside each folder given."""
    files = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.rglob("*.yml"))
            if not found:
                raise DrillError(f"{shown(path)} is a folder with no .yml scorecards in it.")
            files.extend(found)
        else:
            files.append(path)
    return files


def chart_path(requested: Path | None, folder: Path) -> Path:
    """Where `report --chart` writes: a file named .png or .svg, or report.png inside a
    folder. Anything else is refused before any drawing, in plain words."""
    if requested is None:
        return folder / CHART_NAME
    if requested.is_dir():
        return requested / CHART_NAME
    if requested.suffix.lower() not in CHART_FORMATS:
        raise DrillError(
            f"--chart {requested}: the chart is written as PNG or SVG, so name a file "
            f"ending in {' or '.join(CHART_FORMATS)} (or an existing folder, which gets "
            f"{CHART_NAME})."
        )
    return requested


def check(paths: list[Path]) -> tuple[int, list[str]]:
    """Return (files that are valid, one line per problem)."""
    valid, problems = 0, []
    for path in paths:
        card, found = load(path)
        problems.extend(found)
        valid += card is not None
    return valid, problems


# -- report -------------------------------------------------------------------------------
