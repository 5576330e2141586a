"""The command line behind the nox sessions: `python -m drillkit COMMAND ...`.

    test DRILL [--target solution|starter|PATH] [--expect-flaws] [PYTEST ARGS...]
    collect DRILL --json FILE     which tests catch which flaw (for the docs)
    bench DRILL [ARGS...]         the drill's benchmark: main(ARGS) in its bench.py
    audit DRILL [ARGS...]         the drill's audit: main(ARGS) in its audit.py

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
    audit = commands.add_parser("audit", help="run a drill's audit (its audit.py)")
    audit.add_argument("drill")
    return parser


# The scripts a drill may ship, run by `python -m drillkit <command> DRILL [ARGS...]`.
SCRIPTS = {"bench": "benchmark", "audit": "audit"}


def _run_script(drill, command: str, args: list[str]) -> int:
    script = drill.folder / f"{command}.py"
    if not script.is_file():
        having = [d.name for d in all_drills() if (d.folder / f"{command}.py").is_file()]
        raise DrillError(
            f"{drill.name} has no {SCRIPTS[command]}. Drills with one: "
            f"{', '.join(having) or 'none'}."
        )
    spec = importlib.util.spec_from_file_location(f"{drill.name}_{command}", script)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look the module up by name
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
        drill = get_drill(options.drill)
        if options.command in SCRIPTS:
            return _run_script(drill, options.command, pytest_args)
        if options.command == "test":
            target = resolve_target(drill, options.target)
            if options.expect_flaws and not target.is_starter:
                raise DrillError(
                    "--expect-flaws proves that the starter's planted flaws are caught; use "
                    f"it with --target starter. To check your own copy, run without it."
                )
            activate(target)
            return _run_pytest(target, pytest_args, expect_flaws=options.expect_flaws)[0]
        target = resolve_target(drill, "solution")
        activate(target)
        code, plugin = _run_pytest(target, ["--collect-only", "-q", *pytest_args])
        if code != 0:
            return code
        options.json.write_text(json.dumps(plugin.collected, indent=2, sort_keys=True))
        return 0
    except DrillError as problem:
        print(f"\n{problem}\n", file=sys.stderr)
        return USAGE_ERROR
