"""The command line behind the nox sessions: `python -m drillkit COMMAND ...`.

    test DRILL [--target solution|starter|PATH] [--expect-flaws] [PYTEST ARGS...]
    collect DRILL --json FILE     which tests catch which flaw (for the docs)
    bench DRILL [ARGS...]         the drill's benchmark: main(ARGS) in its bench.py
    audit DRILL [ARGS...]         the drill's audit report: main(ARGS) in its audit.py
    manage DRILL [--target T] ARGS   Django's manage.py commands on a target
    check-site SITE               the built handbook shows exactly drill_code's files
    watch DRILL [--target PATH] [--poll]   rerun the tests whenever the copy changes
    progress                      every drill's progress, from the results runs saved
    scorecard new DRILL [--target PATH] | check [FILES] | report [--dir DIR]

Problems with the learner's input or machine are printed as one paragraph, with no
traceback, and exit with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from pathlib import Path

from drillkit import attempt, progress
from drillkit.backends import CHOICES, choose_database
from drillkit.catalog import all_drills, get_drill, load_script, shown
from drillkit.errors import DrillError
from drillkit.proofs import PAIRS, PARTS
from drillkit.targets import BUILT_IN, Target, activate, preflight, resolve_target

USAGE_ERROR = 2
BASE_PYTEST_PLUGINS = ("pytest_django.plugin", "time_machine", "drillkit.fixtures")
# Plugins the harness adds next to a plugin a drill asks for: Celery's test worker stops
# at once on the in-memory broker instead of waiting out its 2 s polls (see the module).
COMPANION_PLUGINS = {"celery.contrib.pytest": ("drillkit.celery_testing",)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m drillkit")
    commands = parser.add_subparsers(dest="command", required=True)
    test = commands.add_parser("test", help="run a drill's tests against a target")
    test.add_argument("drill")
    test.add_argument(
        "--target",
        help="solution (default), starter, or the folder of your copy, e.g. workspace/drill4",
    )
    test.add_argument("--flaw-report", type=Path, help="write flaws fixed and open as JSON")
    test.add_argument(
        "--database",
        choices=CHOICES,
        help="auto (default): the harness's own PostgreSQL for drills that need it, SQLite "
        "for the others; DATABASE_URL, when set, always wins",
    )
    test.add_argument(
        "--expect-flaws",
        action="store_true",
        help="prove the starter: every flaw's tests must fail, every other test must pass",
    )
    test.add_argument(
        "--only-flaws", help="run only the tests of these flaws (comma-separated ids)"
    )
    test.add_argument(
        "--learner-tests",
        type=Path,
        help="run the tests in this folder (a learner's own) instead of the drill's",
    )
    test.add_argument(
        "--blind",
        action="store_true",
        help="name no flaw: say only how many are still open (and, with --hint files, where)",
    )
    test.add_argument(
        "--hint", choices=["files"], help="with --blind: the files the open flaws are in"
    )
    test.add_argument(
        "--score-findings",
        nargs="?",
        const="FINDINGS.md",
        metavar="FILE",
        help="score a findings file (default: FINDINGS.md in the copy) against the flaws",
    )
    test.add_argument(
        "--grade-tests",
        action="store_true",
        help="grade the tests in your copy's my_tests/ against every flaw and wrong fix",
    )
    collect = commands.add_parser("collect", help="write which tests catch which flaw")
    collect.add_argument("drill")
    collect.add_argument("--json", required=True, type=Path)
    bench = commands.add_parser("bench", help="run a drill's benchmark (its bench.py)")
    bench.add_argument("drill")
    audit = commands.add_parser("audit", help="write a drill's audit report (its audit.py)")
    audit.add_argument("drill")
    manage = commands.add_parser("manage", help="Django's manage.py commands on a target")
    manage.add_argument("drill")
    manage.add_argument("--target", help="solution (default), starter, or your copy's folder")
    variants = commands.add_parser("variants", help="make a variant patch from an edited copy")
    variant_actions = variants.add_subparsers(dest="action", required=True)
    diff = variant_actions.add_parser("diff", help="the diff from the solution to a copy")
    diff.add_argument("drill")
    diff.add_argument("edited", type=Path)
    prove = commands.add_parser(
        "prove", help="prove starters, single-flaw variants and wrong fixes in parallel"
    )
    prove.add_argument("drills", nargs="*", help="default: every drill")
    prove.add_argument(
        "--only", default=",".join(PARTS), help=f"comma-separated parts of {', '.join(PARTS)}"
    )
    grade = commands.add_parser("grade", help="grade a team's attempts/<person>/<drill>/")
    grade.add_argument("attempts", type=Path, nargs="?", default=Path("attempts"))
    grade.add_argument("--evidence", type=Path, help="write one JSON file per attempt here")
    grade.add_argument(
        "--changed-since",
        metavar="REV",
        help="print, as JSON, the attempt folders changed since REV (for a CI matrix)",
    )
    watch = commands.add_parser("watch", help="rerun a drill's tests when the copy changes")
    watch.add_argument("drill")
    watch.add_argument("--target", help="your copy (default: workspace/DRILL)")
    watch.add_argument("--poll", action="store_true", help="poll where file events fail")
    watch.add_argument("--database", choices=CHOICES, help="as for `test`")
    commands.add_parser("progress", help="every drill's progress, from saved results")
    check = commands.add_parser("check-site", help="compare the built site's code with files")
    check.add_argument("site", type=Path)
    scorecard = commands.add_parser("scorecard", help="self-audit scorecards")
    actions = scorecard.add_subparsers(dest="action", required=True)
    new = actions.add_parser("new", help="start today's scorecard for a drill")
    new.add_argument("drill")
    new.add_argument("--target", help="your copy of the drill (default: workspace/DRILL)")
    new.add_argument("--person", help="whose scorecard (default: git's user.name)")
    validate = actions.add_parser("check", help="validate filled scorecards")
    validate.add_argument("files", nargs="*", type=Path)
    report = actions.add_parser("report", help="latest score and trend per checklist item")
    report.add_argument("--dir", type=Path, help="the folder of scorecards (default: scorecards)")
    report.add_argument("--chart", type=Path, help="where to write the chart (.png or .svg)")
    report.add_argument("--person", help="one person's view (default: the team's, if several)")
    report.add_argument("--cadence", default="30d", help="how often people audit (default 30d)")
    agenda = actions.add_parser("agenda", help="the agenda for the team's self-audit meeting")
    agenda.add_argument("--dir", type=Path, help="the folder of scorecards (default: scorecards)")
    agenda.add_argument("--since", default="30d", help="the period to discuss (default 30d)")
    agenda.add_argument("--cadence", default="30d", help="how often people audit (default 30d)")
    agenda.add_argument("--out", type=Path, help="also write the agenda to this Markdown file")
    return parser


def _test(options, pytest_args: list[str]) -> int:
    target = resolve_target(get_drill(options.drill), options.target)
    if options.expect_flaws and not target.is_starter:
        raise DrillError(
            "--expect-flaws proves that the starter's planted flaws are caught; use it with "
            "--target starter. To check your own copy, run without it."
        )
    if options.hint and not options.blind:
        raise DrillError("--hint files goes with --blind; without --blind every flaw is named.")
    choose_database(target.drill, options.database)
    if options.score_findings or options.grade_tests:
        return _learner_reports(target, options)
    activate(target)
    preflight(target)
    plugin_options = {
        "expect_flaws": options.expect_flaws,
        "flaw_report": options.flaw_report,
        "only_flaws": frozenset(filter(None, (options.only_flaws or "").split(","))),
        "blind": options.blind,
        "planted": _planted(target),
    }
    if options.learner_tests is not None:
        plugin_options["learner_tests"] = True
        tests = options.learner_tests.resolve()
        if not tests.is_dir():
            raise DrillError(f"The test folder {options.learner_tests} does not exist.")
        code, _ = _run_pytest(target, pytest_args, tests=tests, **plugin_options)
        return code
    if options.blind:
        import pytest

        from drillkit import learner

        # pytest's own report would name each failing test, and a test's name describes
        # the flaw it catches: keep it, and show it only if pytest itself broke.
        pytest_output = io.StringIO()
        with contextlib.redirect_stdout(pytest_output):
            code, plugin = _run_pytest(target, pytest_args, **plugin_options)
        if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            print(pytest_output.getvalue())
        print(learner.blind_summary(target, plugin, hint=options.hint))
        _record(target, plugin, code, blind=True)
        return code
    code, plugin = _run_pytest(target, pytest_args, **plugin_options)
    _record(target, plugin, code, blind=False)
    return code


def _record(target: Target, plugin, code: int, *, blind: bool) -> None:
    """A learner's run that got as far as running tests: for the progress board, and
    for the attempt record (a run that names flaws ends the blind part)."""
    if target.label in BUILT_IN or code not in (0, 1):
        return
    progress.save(target.drill, target.path, plugin.flaw_states(), blind=blind)
    attempt.note_test_run(target, blind=blind)


def _planted(target: Target) -> frozenset[str] | None:
    from drillkit.mixes import mix_of

    mix = mix_of(target)
    return None if mix is None else mix.planted


def _learner_reports(target: Target, options) -> int:
    """--score-findings and --grade-tests: what the learner found and how good their own
    tests are, scored against the planted flaws and the wrong-fix bank."""
    from drillkit import learner
    from drillkit.mixes import planted_flaws

    code = 0
    if options.score_findings:
        findings = Path(options.score_findings)
        if not findings.is_absolute() and not findings.exists():
            findings = target.path / findings
        score = learner.score_findings(target, findings, planted_flaws(target))
        own = findings.resolve() == (target.path / learner.FINDINGS).resolve()
        print(learner.findings_report(score, blind=options.blind, own=own))
        counts = (len(score.found), len(score.planted), len(score.unmatched))
        if own:  # the learner's own findings
            attempt.note_findings(target, *counts)
        else:  # another reviewer's, such as an AI assistant's, scored the same way
            attempt.note_assistant_findings(target, findings, *counts)
    if options.grade_tests:
        grade = learner.grade_tests(target, _planted(target))
        print(learner.grade_report(grade, blind=options.blind))
        attempt.note_grade(target, grade)
        code = 0 if grade.all_right else 1
    return code


def _watch(options, pytest_args: list[str]) -> int:
    from drillkit import watch

    drill = get_drill(options.drill)
    target = resolve_target(drill, options.target or f"workspace/{drill.name}")
    # Started here, the embedded PostgreSQL (for drills that need it) stays up between runs.
    choose_database(drill, options.database)
    if options.database:
        pytest_args = ["--database", options.database, *pytest_args]
    return watch.watch(target, pytest_args, poll=options.poll)


def _progress(_options, _unused: list[str]) -> int:
    progress.show(progress.board())
    return 0


def _collect(options, pytest_args: list[str]) -> int:
    target = resolve_target(get_drill(options.drill), "solution")
    activate(target)
    code, plugin = _run_pytest(target, ["--collect-only", "-q", *pytest_args])
    if code == 0:
        collection = {"tests": plugin.collected_count, "flaws": plugin.collected}
        options.json.write_text(json.dumps(collection, indent=2, sort_keys=True))
    return code


def _run_pytest(target: Target, args: list[str], *, tests: Path | None = None, **plugin_options):
    import pytest

    from drillkit.pytest_plugin import DrillPlugin

    plugin = DrillPlugin(target, **plugin_options)
    # Every drill shares one virtualenv, so pytest would autoload every installed plugin
    # (hypothesis, schemathesis, anyio) into every run. Load only what drills use, plus
    # what the drill's drill.toml asks for: faster, and the same on every machine.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    plugins = [*BASE_PYTEST_PLUGINS, *target.drill.pytest_plugins]
    plugins += [extra for name in plugins for extra in COMPANION_PLUGINS.get(name, ())]
    plugins = list(dict.fromkeys(plugins))  # a drill may also name a companion itself
    extra = [arg for name in plugins for arg in ("-p", name)]
    code = pytest.main([str(tests or target.drill.tests), *extra, *args], plugins=[plugin])
    return int(code), plugin


def _script(options, args: list[str]) -> int:
    """`bench` and `audit`: the drill's own script does the work. A `--check` of results
    that passed on exactly these inputs is not rerun on a warm machine (drillkit.remember)."""
    from drillkit import remember

    drill = get_drill(options.drill)
    key = None
    if args == ["--check"]:
        key = remember.digest(drill.folder, remember.harness_digest(), options.command)
        if remember.recall("results", key):
            print(
                f"{drill.name}'s {options.command} results passed this check on exactly these "
                "files before; nothing has changed since. DRILLKIT_FRESH=1 checks them again."
            )
            return 0
    code = int(load_script(drill, options.command).main(args) or 0)
    if key is not None and code == 0:
        remember.keep("results", key)
    return code


def _manage(options, args: list[str]) -> int:
    """`nox -s manage -- drill3 --target workspace/drill3 makemigrations`: manage.py for a
    target, with the same settings and database the tests use."""
    from django.core.management import execute_from_command_line

    target = resolve_target(get_drill(options.drill), options.target)
    activate(target)
    execute_from_command_line(["manage.py", *(args or ["help"])])
    return 0


def _variants(options, _unused: list[str]) -> int:
    from drillkit.variants import diff_against_solution

    edited = options.edited.resolve()
    if not edited.is_dir():
        raise DrillError(f"{options.edited} is not a folder: give the edited copy's folder.")
    sys.stdout.write(diff_against_solution(get_drill(options.drill), edited))
    return 0


def _prove(options, _unused: list[str]) -> int:
    from drillkit import proofs

    parts = tuple(part for part in options.only.split(",") if part)
    unknown = [part for part in parts if part not in (*PARTS, PAIRS)]
    if unknown or not parts:
        raise DrillError(
            f"--only takes a comma-separated list of {', '.join((*PARTS, PAIRS))}; "
            f"{', '.join(unknown) or 'nothing'} is not one of them."
        )
    drills = [get_drill(name) for name in options.drills] or list(all_drills())
    results = proofs.prove(drills, parts)
    print("\n".join(proofs.summary(drills, results, parts)))
    return 0 if proofs.all_proven(drills, results, parts) else 1


def _grade(options, _unused: list[str]) -> int:
    from drillkit import grading
    from drillkit.variants import in_parallel

    if options.changed_since:
        print(json.dumps(grading.changed_attempts(options.changed_since)))
        return 0
    attempts = grading.find_attempts(options.attempts)
    jobs = [(f"{a.person}/{a.drill}", lambda a=a: grading.grade(a)) for a in attempts]
    results = in_parallel(jobs, title=f"Grading {len(attempts)} attempts")
    print(grading.summary_table(results))
    grading.write_outputs(results, options.evidence)
    return 0 if all(r.done for r in results) else 1


def _check_site(options, _unused: list[str]) -> int:
    from drillkit.check_site import check_site

    checked, problems = check_site(options.site)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not checked:
        raise DrillError(
            f"{options.site} shows no code blocks from drill_code/: is it the handbook?"
        )
    print(f"{checked} code blocks in {options.site} match their files in drill_code/.")
    return 1 if problems else 0


def _scorecard(options, _unused: list[str]) -> int:
    import datetime as dt

    from drillkit import scorecards, team

    if options.action == "new":
        print(scorecards.new(options.drill, options.target, person=options.person))
        return 0
    if options.action == "check":
        files = scorecards.expand(options.files) or sorted(scorecards.SCORECARDS.rglob("*.yml"))
        if not files:
            raise DrillError(
                "There are no scorecards in scorecards/ yet. Create one with "
                "`nox -s scorecard -- new drill4`."
            )
        valid, problems = scorecards.check(files)
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{valid} of {len(files)} scorecards are valid.")
        return 1 if problems else 0
    folder = options.dir or scorecards.SCORECARDS
    files = scorecards.filled_scorecards(folder)
    if not files:
        raise DrillError(
            f"There are no scorecards in {shown(folder)} yet. Create one with "
            "`nox -s scorecard -- new drill4`, or look at the worked example with "
            "`nox -s scorecard -- report --dir scorecards/example`."
        )
    cards = team.load_cards(folder, files)
    cadence = team.parse_days(options.cadence)
    today = dt.date.today()
    if options.action == "agenda":
        text = team.agenda(cards, today, team.parse_days(options.since), cadence)
        print(text)
        if options.out:
            options.out.write_text(text, encoding="utf-8")
        return 0
    chart = scorecards.chart_path(options.chart, folder)  # refuse a bad name before work
    everyone = team.people(cards)
    if options.person or len(everyone) == 1:
        person = options.person or everyone[0]
        mine = team.only(cards, person)
        print(f"Self-audits of {person}: each item's latest score, and what was measured.\n")
        print(team.person_table(mine))
        print(f"\n{person}'s attempts, drill by drill:\n")
        print(team.attempts_table(mine))
        chart = team.person_chart(mine, chart)
        print(f"\nChart of {person}'s scores over time: {shown(chart)}")
        return 0
    print(f"The team: {', '.join(everyone)}. Latest score per person and checklist item.\n")
    print(team.team_table(cards))
    for note in team.team_notes(cards, today, cadence):
        print(f"\n{note}")
    chart = team.team_chart(cards, chart)
    print(f"\nChart of the team's latest scores: {shown(chart)}")
    print("One person's view: add `--person NAME`.")
    return 0


COMMANDS = {
    "test": _test,
    "collect": _collect,
    "bench": _script,
    "audit": _script,
    "manage": _manage,
    "check-site": _check_site,
    "variants": _variants,
    "prove": _prove,
    "grade": _grade,
    "watch": _watch,
    "progress": _progress,
    "scorecard": _scorecard,
}
# Only these pass unknown arguments on (to pytest, or to the drill's script).
PASS_THROUGH = {"test", "collect", "bench", "audit", "manage", "watch"}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    options, rest = parser.parse_known_args(argv)
    if rest and options.command not in PASS_THROUGH:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    try:
        return COMMANDS[options.command](options, rest)
    except DrillError as problem:
        print(f"\n{problem}\n", file=sys.stderr)
        return USAGE_ERROR
