"""Grading a team's attempts: `python -m drillkit grade attempts/`.

A team keeps attempts in its fork or team repository as `attempts/<person>/<drill>/`
(each a learner's copy, made with `nox -s start -- drill4 --into attempts/ada/drill4`).
Grading runs, for each attempt, what the learner would run: the drill's tests (with the
flaw summary), the learner's own tests against the bank when `my_tests/` exists, and the
audit score when `FINDINGS.md` exists. The same command runs on a laptop and in the
attempts workflow on GitHub Actions, which only adds the step summary and the artifact.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from drillkit.catalog import all_drills, get_drill, shown
from drillkit.errors import DrillError

ATTEMPTS = "attempts"
PERSON = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Attempt:
    person: str
    drill: str
    path: Path


@dataclass
class Graded:
    person: str
    drill: str
    path: str
    tests_passed: int
    tests_failed: int
    flaws_fixed: list[str]
    flaws_open: list[str]
    mix_seed: int | None = None
    findings: dict | None = None
    own_tests: dict | None = None

    @property
    def done(self) -> bool:
        return not self.flaws_open and not self.tests_failed


def find_attempts(root: Path) -> list[Attempt]:
    """Every attempt under `root`: the attempts folder, one person's folder, or one attempt."""
    if not root.is_dir():
        raise DrillError(
            f"{root} is not a folder. Grade the team's attempts with `nox -s grade -- attempts/`; "
            "each attempt lives in attempts/<person>/<drill>/."
        )
    drills = {drill.name for drill in all_drills()}
    root = root.resolve()
    if root.name in drills:
        candidates = [root]
    elif any(child.name in drills for child in root.iterdir() if child.is_dir()):
        candidates = [c for c in sorted(root.iterdir()) if c.is_dir()]
    else:
        candidates = [
            drill_folder
            for person in sorted(root.iterdir())
            if person.is_dir() and not person.name.startswith(".")
            for drill_folder in sorted(person.iterdir())
            if drill_folder.is_dir()
        ]
    attempts = []
    for folder in candidates:
        if folder.name not in drills:
            raise DrillError(
                f"{shown(folder)} is not named after a drill, so it cannot be graded. An attempt "
                f"folder is attempts/<person>/<drill>/, with <drill> one of "
                f"{', '.join(sorted(drills))}; rename it or move it out of {shown(root)}."
            )
        person = folder.parent.name
        if not PERSON.match(person):
            raise DrillError(
                f"{shown(folder.parent)} is not a usable person folder name: use letters, "
                "digits, dots, dashes and underscores, e.g. attempts/ada-lovelace/drill4."
            )
        attempts.append(Attempt(person, folder.name, folder))
    if not attempts:
        raise DrillError(
            f"There are no attempts in {shown(root)} yet. Each person copies a drill there with "
            "`nox -s start -- drill4 --into attempts/<person>/drill4` and commits it."
        )
    return attempts


def grade(attempt: Attempt) -> Graded:
    from drillkit import learner
    from drillkit.mixes import mix_of, planted_flaws
    from drillkit.targets import resolve_target
    from drillkit.variants import run_tests

    drill = get_drill(attempt.drill)
    target = resolve_target(drill, str(attempt.path))
    mix = mix_of(target)
    # Blind, so that grading never counts as the learner having seen the flaws named.
    run = run_tests(drill, attempt.path, label=shown(attempt.path), blind=True)
    if not run.flaws:
        raise DrillError(f"The tests could not run on {shown(attempt.path)}:\n{run.tail(15)}")
    graded = Graded(
        person=attempt.person,
        drill=attempt.drill,
        path=shown(attempt.path),
        tests_passed=run.passed,
        tests_failed=len(run.failed_tests),
        flaws_fixed=[f for f, state in run.flaws.items() if state == "fixed"],
        flaws_open=[f for f, state in run.flaws.items() if state == "open"],
        mix_seed=mix.seed if mix else None,
    )
    if (attempt.path / learner.FINDINGS).is_file():
        score = learner.score_findings(
            target, attempt.path / learner.FINDINGS, planted_flaws(target)
        )
        graded.findings = {"located": len(score.found), "of": len(score.planted)}
    if (attempt.path / learner.LEARNER_TESTS).is_dir():
        graded.own_tests = learner.grade_tests(target, mix.planted if mix else None).figures()
    return graded


def summary_table(results: list[Graded]) -> str:
    """The Markdown table a person reads in the terminal and on the Actions run page."""
    rows = [
        "| Person | Drill | Flaws fixed | Tests failing | Own tests catch | Findings located |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        total = len(r.flaws_fixed) + len(r.flaws_open)
        own = (
            f"{r.own_tests['flaws_caught']} of {r.own_tests['flaws']} flaws, "
            f"{r.own_tests['wrong_fixes_caught']} of {r.own_tests['wrong_fixes']} wrong fixes"
            if r.own_tests
            else "no my_tests/"
        )
        found = f"{r.findings['located']} of {r.findings['of']}" if r.findings else "no FINDINGS.md"
        mix = f" (mix {r.mix_seed})" if r.mix_seed is not None else ""
        rows.append(
            f"| {r.person} | {r.drill}{mix} | {len(r.flaws_fixed)} of {total} | "
            f"{r.tests_failed} | {own} | {found} |"
        )
    return "\n".join(rows)


def write_outputs(results: list[Graded], evidence: Path | None) -> None:
    """The step summary on GitHub Actions, and one JSON file of evidence per attempt."""
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as summary:
            summary.write("## Drill attempts graded\n\n" + summary_table(results) + "\n")
    if evidence is not None:
        evidence.mkdir(parents=True, exist_ok=True)
        for r in results:
            path = evidence / f"{r.person}-{r.drill}.json"
            path.write_text(json.dumps(asdict(r), indent=2), encoding="utf-8")


def changed_attempts(base: str) -> list[str]:
    """Attempt folders with a file changed since `base` (a git revision), for the
    workflow's matrix: one job per changed attempt."""
    if not base.strip("0"):  # a new branch: GitHub gives no previous commit, grade all
        root = Path(ATTEMPTS)
        return [shown(a.path) for a in find_attempts(root)] if root.is_dir() else []
    result = subprocess.run(
        ["git", "diff", "--name-only", f"{base}...HEAD", "--", ATTEMPTS],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise DrillError(f"git could not compare with {base}: {result.stderr.strip()}")
    drills = {drill.name for drill in all_drills()}
    folders = set()
    for name in result.stdout.split():
        parts = Path(name).parts
        if len(parts) >= 3 and parts[2] in drills and Path(*parts[:3]).is_dir():
            folders.add(Path(*parts[:3]).as_posix())
    return sorted(folders)
