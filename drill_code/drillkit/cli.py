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
import json
import os
import sys
from pathlib import Path

from drillkit import progress
from drillkit.backends import CHOICES, choose_database
from drillkit.catalog import get_drill, load_script, shown
from drillkit.errors import DrillError
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
    validate = actions.add_parser("check", help="validate filled scorecards")
    validate.add_argument("files", nargs="*", type=Path)
    report = actions.add_parser("report", help="latest score and trend per checklist item")
    report.add_argument("--dir", type=Path, help="the folder of scorecards (default: scorecards)")
    report.add_argument("--chart", type=Path, help="where to write the chart (.png or .svg)")
    return parser


def _test(options, pytest_args: list[str]) -> int:
    target = resolve_target(get_drill(options.drill), options.target)
    if options.expect_flaws and not target.is_starter:
        raise DrillError(
            "--expect-flaws proves that the starter's planted flaws are caught; use it with "
            "--target starter. To check your own copy, run without it."
        )
    choose_database(target.drill, options.database)
    activate(target)
    preflight(target)
    code, plugin = _run_pytest(
        target, pytest_args, expect_flaws=options.expect_flaws, flaw_report=options.flaw_report
    )
    if target.label not in BUILT_IN and code in (0, 1):  # the tests ran: record progress
        progress.save(target.drill, target.path, plugin.flaw_states())
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


def _run_pytest(target: Target, args: list[str], **plugin_options):
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
    code = pytest.main([str(target.drill.tests), *extra, *args], plugins=[plugin])
    return int(code), plugin


def _script(options, args: list[str]) -> int:
    """`bench` and `audit`: the drill's own script does the work."""
    return int(load_script(get_drill(options.drill), options.command).main(args) or 0)


def _manage(options, args: list[str]) -> int:
    """`nox -s manage -- drill3 --target workspace/drill3 makemigrations`: manage.py for a
    target, with the same settings and database the tests use."""
    from django.core.management import execute_from_command_line

    target = resolve_target(get_drill(options.drill), options.target)
    activate(target)
    execute_from_command_line(["manage.py", *(args or ["help"])])
    return 0


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
    from drillkit import scorecards

    if options.action == "new":
        print(scorecards.new(options.drill, options.target))
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
    chart = scorecards.chart_path(options.chart, folder)  # refuse a bad name before work
    print(scorecards.report_table(scorecards.report_rows(files)))
    chart = scorecards.report_chart(files, chart)
    print(f"\nChart of scores over time: {shown(chart)}")
    return 0


COMMANDS = {
    "test": _test,
    "collect": _collect,
    "bench": _script,
    "audit": _script,
    "manage": _manage,
    "check-site": _check_site,
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
