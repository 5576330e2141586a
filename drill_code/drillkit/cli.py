"""The command line behind the nox sessions: `python -m drillkit COMMAND ...`.

    test DRILL [--target solution|starter|PATH] [--expect-flaws] [PYTEST ARGS...]
    collect DRILL --json FILE     which tests catch which flaw (for the docs)
    bench DRILL [ARGS...]         the drill's benchmark: main(ARGS) in its bench.py
    check-site SITE               the built handbook shows exactly drill_code's files

Problems with the learner's input or machine are printed as one paragraph, with no
traceback, and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

from drillkit.catalog import all_drills, get_drill
from drillkit.errors import DrillError
from drillkit.targets import Target, activate, resolve_target

USAGE_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m drillkit")
    commands = parser.add_subparsers(dest="command", required=True)
    test = commands.add_parser("test", help="run a drill's tests against a target")
    test.add_argument("drill")
    test.add_argument(
        "--target",
        help="solution (default), starter, or the folder of your copy, e.g. workspace/drill4",
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
    check = commands.add_parser("check-site", help="compare the built site's code with files")
    check.add_argument("site", type=Path)
    return parser


def _check_site(site: Path) -> int:
    from drillkit.check_site import check_site

    checked, problems = check_site(site)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not checked:
        raise DrillError(f"{site} shows no code blocks from drill_code/: is it the handbook?")
    print(f"{checked} code blocks in {site} match their files in drill_code/.")
    return 1 if problems else 0


def _run_bench(drill, args: list[str]) -> int:
    if not drill.bench.is_file():
        with_bench = [d.name for d in all_drills() if d.bench.is_file()]
        raise DrillError(
            f"{drill.name} has no benchmark. Drills with one: {', '.join(with_bench) or 'none'}."
        )
    spec = importlib.util.spec_from_file_location(f"{drill.name}_bench", drill.bench)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return int(module.main(args) or 0)


def _run_pytest(target: Target, args: list[str], *, expect_flaws: bool = False):
    import pytest

    from drillkit.pytest_plugin import DrillPlugin

    plugin = DrillPlugin(target, expect_flaws=expect_flaws)
    extra = [arg for name in target.drill.pytest_plugins for arg in ("-p", name)]
    code = pytest.main([str(target.drill.tests), *extra, *args], plugins=[plugin])
    return int(code), plugin


def main(argv: list[str] | None = None) -> int:
    options, pytest_args = _parser().parse_known_args(argv)
    try:
        if options.command == "check-site":
            return _check_site(options.site)
        drill = get_drill(options.drill)
        if options.command == "bench":
            return _run_bench(drill, pytest_args)
        if options.command == "test":
            target = resolve_target(drill, options.target)
            if options.expect_flaws and not target.is_starter:
                raise DrillError(
                    "--expect-flaws proves that the starter's planted flaws are caught; use "
                    "it with --target starter. To check your own copy, run without it."
                )
            activate(target)
            return _run_pytest(target, pytest_args, expect_flaws=options.expect_flaws)[0]
        target = resolve_target(drill, "solution")
        activate(target)
        code, plugin = _run_pytest(target, ["--collect-only", "-q", *pytest_args])
        if code != 0:
            return code
        collection = {"tests": plugin.collected_count, "flaws": plugin.collected}
        options.json.write_text(json.dumps(collection, indent=2, sort_keys=True))
        return 0
    except DrillError as problem:
        print(f"\n{problem}\n", file=sys.stderr)
        return USAGE_ERROR
