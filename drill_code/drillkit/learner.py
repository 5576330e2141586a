"""Measuring the learner's own skill, not only their copy.

* Blind mode: a run that names no flaw, only how many are still open (and, if asked,
  which files they are in).
* The audit score: the learner's FINDINGS.md, one finding per line, matched against
  where each flaw sits in the starter.
* The grade of the learner's own tests (`my_tests/` in the copy): mutation testing with
  the drill's single-flaw variants and wrong fixes as the mutants.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from drillkit.catalog import Drill, Flaw, Location, shown
from drillkit.errors import DrillError
from drillkit.targets import Target

LEARNER_TESTS = "my_tests"
FINDINGS = "FINDINGS.md"
FINDINGS_FORMAT = "`path:line - what is wrong` (or `path:first-last - ...`)"
_FINDING = re.compile(
    r"^\s*(?:[-*]\s+)?`?(?P<path>[^\s:`]+):(?P<first>\d+)(?:[-\u2013](?P<last>\d+))?`?"
    r"\s*(?:\u2014|\u2013|-{1,2}|:)\s*(?P<text>\S.*)$"  # an em dash, an en dash, - or :
)


# -- blind mode -----------------------------------------------------------------------


def blind_summary(target: Target, plugin, *, hint: str | None = None) -> str:
    """What a blind run tells: counts, never a flaw's id, title or test name."""
    from drillkit.mixes import planted_flaws

    drill = target.drill
    planted = planted_flaws(target)
    states = plugin.flaw_states()
    open_flaws = [f for f in planted if states[f.id] == "open"]
    fixed = sum(states[f.id] == "fixed" for f in planted)
    errors = sum(states[f.id] == "error" for f in planted)
    not_run = sum(states[f.id] == "not run" for f in planted)
    lines = [
        f"{drill.name} on {target.label}, blind: {len(open_flaws)} of {len(planted)} "
        f"planted flaws are still open; {fixed} fixed."
    ]
    if errors:
        lines.append(f"{errors} could not be checked, because a test errored before it ran.")
    if not_run:
        lines.append(f"{not_run} were not checked on this database (see the README).")
    other_failures = [node for node, ids in plugin.failed_flaws.items() if not ids]
    if other_failures:
        # Tests tied to no flaw check that the API still works; their names give nothing away.
        lines.append("Tests that are not about a planted flaw failed, so something that worked")
        lines.append("is broken now:")
        lines += [f"  {node}" for node in sorted(other_failures)]
    if hint == "files" and open_flaws:
        where = Counter(spot.file for flaw in open_flaws for spot in _spots(flaw))
        listed = ", ".join(f"{file} ({count})" for file, count in sorted(where.items()))
        lines.append(f"The open flaws are in: {listed}.")
    elif open_flaws:
        lines.append(
            "Stuck? `--blind --hint files` says which files they are in; run without "
            "--blind to see each flaw named."
        )
    return "\n".join(lines)


def _spots(flaw: Flaw) -> tuple[Location, ...]:
    return flaw.locations or (Location("(location not recorded)", (0, 0), ""),)


# -- the findings file ----------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    line_number: int  # in the findings file
    path: str
    first: int
    last: int
    text: str

    def points_at(self, spot: Location) -> bool:
        path = self.path.removeprefix("./")
        same_file = path == spot.file or path.endswith("/" + spot.file)
        return same_file and self.first <= spot.lines[1] and self.last >= spot.lines[0]


@dataclass
class AuditScore:
    findings_file: Path
    planted: list[Flaw]
    found: dict[str, list[Finding]] = field(default_factory=dict)
    unmatched: list[Finding] = field(default_factory=list)
    malformed: list[tuple[int, str]] = field(default_factory=list)

    @property
    def missed(self) -> list[Flaw]:
        return [flaw for flaw in self.planted if flaw.id not in self.found]


def parse_findings(text: str) -> tuple[list[Finding], list[tuple[int, str]]]:
    """Findings, and the lines that are neither a finding nor blank, a heading or a comment."""
    findings, malformed = [], []
    opened = 0  # the line an HTML comment opened on, while it is open (it may span lines)
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if opened or stripped.startswith("<!--"):
            opened = 0 if "-->" in stripped else opened or number
            continue
        if not stripped or stripped.startswith(("#", ">")):
            continue
        match = _FINDING.match(line)
        if not match:
            malformed.append((number, stripped))
            continue
        first = int(match["first"])
        last = int(match["last"] or first)
        findings.append(
            Finding(number, match["path"], min(first, last), max(first, last), match["text"])
        )
    if opened:
        never_closed = "<!-- opens a comment that never closes (-->): no line after it was read"
        malformed.append((opened, never_closed))
    return findings, malformed


def score_findings(
    target: Target, findings_file: Path, planted: list[Flaw] | None = None
) -> AuditScore:
    """Match each finding with the planted flaws whose location it points at."""
    if not findings_file.is_file():
        raise DrillError(
            f"There is no findings file at {shown(findings_file)}. Write one finding per line, "
            f"as {FINDINGS_FORMAT}, in FINDINGS.md in your copy, then run this again."
        )
    try:
        text = findings_file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DrillError(
            f"{shown(findings_file)} is not UTF-8 text ({exc.reason} at byte {exc.start}). "
            f"Save it as plain text, one finding per line: {FINDINGS_FORMAT}."
        ) from exc
    findings, malformed = parse_findings(text)
    score = AuditScore(findings_file, list(planted or target.drill.flaws), malformed=malformed)
    candidates = {
        finding: [f.id for f in score.planted if any(finding.points_at(s) for s in f.locations)]
        for finding in findings
    }
    credited = _one_flaw_per_finding(candidates)
    for finding, flaw_ids in candidates.items():
        if not flaw_ids:
            score.unmatched.append(finding)
        else:  # a second finding of a flaw already credited is kept beside the first
            score.found.setdefault(credited.get(finding, flaw_ids[0]), []).append(finding)
    return score


def _one_flaw_per_finding(candidates: dict[Finding, list[str]]) -> dict[Finding, str]:
    """Credit each finding to at most one flaw, locating as many flaws as possible.

    Two flaws can sit on the same lines (an outbound call with no timeout that fetches
    any URL): one finding there names one problem, and locates one flaw; naming both
    takes two findings. A maximum bipartite matching (augmenting paths) picks which."""
    owner: dict[str, Finding] = {}  # flaw id -> the finding credited with it

    def place(finding: Finding, tried: set[str]) -> bool:
        for flaw_id in candidates[finding]:
            if flaw_id in tried:
                continue
            tried.add(flaw_id)
            if flaw_id not in owner or place(owner[flaw_id], tried):
                owner[flaw_id] = finding
                return True
        return False

    for finding in candidates:
        place(finding, set())
    return {finding: flaw_id for flaw_id, finding in owner.items()}


def findings_report(score: AuditScore, *, blind: bool, own: bool = True) -> str:
    """The score in words. `own` is False for another reviewer's findings, such as an AI
    assistant's review pasted into the same format: the same yardstick, its own voice."""
    total = len(score.planted)
    who, whose = ("you", "your") if own else ("the review", "its")
    lines = [
        f"Audit score: {who} located {len(score.found)} of {total} planted flaws "
        f"({shown(score.findings_file)})."
    ]
    for number, text in score.malformed:
        lines.append(
            f"  Line {number} is not a finding, so it was not scored: {text!r}. "
            f"Write it as {FINDINGS_FORMAT}."
        )
    if not blind:
        for flaw in score.planted:
            if flaw.id in score.found:
                lines.append(f"  found   {flaw.id:<7} {flaw.title}")
        for flaw in score.missed:
            lines.append(f"  missed  {flaw.id:<7} {flaw.title}")
    if score.unmatched:
        lines.append(
            f"{len(score.unmatched)} of {whose} findings "
            f"{'matches' if len(score.unmatched) == 1 else 'match'} no planted flaw. They may "
            "be false alarms or real extra findings: judge each against the reference "
            "solution after your attempt."
        )
        lines += [f"  {f.path}:{f.first} - {f.text}" for f in score.unmatched]
    return "\n".join(lines)


# -- grading the learner's own tests ---------------------------------------------------


@dataclass
class Grade:
    tests: Path
    wrong_tests: list[str]  # fail on the reference solution
    flaws: dict[str, bool]  # flaw id -> caught by at least one of the learner's tests
    wrong_fixes: dict[str, bool]  # wrong-fix name -> caught
    summaries: dict[str, str]  # wrong-fix name -> its one-line summary
    drill: Drill
    tests_run: int  # how many of the learner's tests ran on the reference solution

    @property
    def all_right(self) -> bool:
        return not self.wrong_tests

    def figures(self) -> dict[str, int]:
        """The grade as numbers, for the attempt record, scorecards and team grading."""
        return {
            "tests": self.tests_run,
            "wrong_tests": len(self.wrong_tests),
            "flaws_caught": sum(self.flaws.values()),
            "flaws": len(self.flaws),
            "wrong_fixes_caught": sum(self.wrong_fixes.values()),
            "wrong_fixes": len(self.wrong_fixes),
        }


def grade_tests(target: Target, planted: set[str] | None = None) -> Grade:
    """Run the learner's tests on the solution, each single-flaw variant and each wrong
    fix. A flaw or wrong fix is caught when a test that passes on the solution fails."""
    from drillkit.variants import bank, in_parallel, run_on_variants, run_tests

    drill = target.drill
    tests = target.path / LEARNER_TESTS
    if not tests.is_dir():
        raise DrillError(
            f"There is no {LEARNER_TESTS}/ folder in {target.label}. Write your tests there as "
            f"pytest files (test_*.py), using the fixtures api_client, make_user and db; "
            f"the drill's brief says what to test. Then run this again."
        )
    chosen = [
        v
        for kind in ("flaw", "wrong-fix")
        for v in bank(drill, kind)
        if planted is None or v.flaw in planted
    ]
    on_solution = run_tests(drill, drill.solution, tests=tests, label="reference solution")
    if on_solution.passed:
        jobs = [(v.name, lambda v=v: run_on_variants(drill, [v], tests=tests)) for v in chosen]
        on_variants = in_parallel(jobs, title=f"Grading {shown(tests)}")
    else:
        # No test passes on correct code, so none can be credited with catching anything:
        # running them on every variant would only confirm that.
        on_variants = [on_solution] * len(chosen)
    if on_solution.code not in (0, 1, 5):  # 5: no tests collected, which catches nothing
        raise DrillError(
            f"Your tests could not run on the reference solution (exit code "
            f"{on_solution.code}):\n{on_solution.tail(15)}"
        )
    wrong = sorted(on_solution.failed_tests)
    caught = {
        v.name: bool(set(run.failed_tests) - set(wrong))
        for v, run in zip(chosen, on_variants, strict=True)
    }
    return Grade(
        tests=tests,
        wrong_tests=wrong,
        # Where the bank holds a flaw in several places, a test catches it only if it
        # catches it in every place.
        flaws={
            flaw: all(caught[v.name] for v in chosen if v.flaw == flaw and v.kind == "flaw")
            for flaw in dict.fromkeys(v.flaw for v in chosen if v.kind == "flaw")
        },
        wrong_fixes={v.name: caught[v.name] for v in chosen if v.kind == "wrong-fix"},
        summaries={v.name: v.summary for v in chosen if v.kind == "wrong-fix"},
        drill=drill,
        tests_run=on_solution.passed + len(on_solution.failed_tests),
    )


def grade_report(grade: Grade, *, blind: bool) -> str:
    flaws_caught = sum(grade.flaws.values())
    fixes_caught = sum(grade.wrong_fixes.values())
    lines = [f"Your tests in {shown(grade.tests)}, graded:"]
    if not grade.tests_run:
        lines.append(
            f"  pytest found no tests in {shown(grade.tests)}: name the files test_*.py and the "
            "functions test_*."
        )
    elif grade.wrong_tests:
        lines.append(
            f"  {len(grade.wrong_tests)} fail on the reference solution, so they test something "
            "that is not wrong; fix or drop them (they count for nothing below):"
        )
        lines += [f"    {node}" for node in grade.wrong_tests]
    else:
        lines.append(f"  All {grade.tests_run} pass on the reference solution.")
    lines.append(
        f"  They catch {flaws_caught} of {len(grade.flaws)} planted flaws and {fixes_caught} "
        f"of {len(grade.wrong_fixes)} wrong fixes."
    )
    if not blind:
        missed = [grade.drill.flaw(fid) for fid, caught in grade.flaws.items() if not caught]
        if missed:
            lines.append("  They miss these flaws:")
            lines += [f"    {flaw.id:<7} {flaw.title}" for flaw in missed]
        fixes = [name for name, caught in grade.wrong_fixes.items() if not caught]
        if fixes:
            lines.append("  They let these wrong fixes through:")
            lines += [f"    {name}: {grade.summaries[name]}" for name in fixes]
    return "\n".join(lines)
