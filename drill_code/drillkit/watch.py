"""`nox -s watch -- drill4 [--target PATH]`: rerun a drill's tests whenever the copy changes.

Each run clears the screen and shows one line of progress (flaws fixed out of all) and
then the failure of the first flaw still open, so the learner sees one thing to work on.
Files are watched with `watchfiles` (the operating system's change notifications);
`--poll` makes it poll instead, for folders where notifications do not arrive (some
containers, network drives, WSL on a Windows folder). Ctrl-C leaves.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from drillkit.catalog import PROJECT_ROOT
from drillkit.targets import Target

# A failure block in pytest's output starts with a line like "_____ test_name _____".
BLOCK_HEADER = re.compile(r"^_{3,} (.+?) _{3,}$")
FAILURE_LINES = 40  # enough to show the assertion and the flaw's explanation


@dataclass(frozen=True)
class Outcome:
    states: dict[str, str]  # flaw id -> fixed, open, error, not run
    output: str  # what the run printed
    problem: str = ""  # a paragraph from the harness (the copy does not import, ...)

    @property
    def fixed(self) -> int:
        return sum(state == "fixed" for state in self.states.values())


def run_tests(target: Target, pytest_args: list[str]) -> Outcome:
    """One run of the drill's tests on the copy, in a child process (a fresh Django each
    time, as the learner's edits need), saving progress as any test run does."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "flaws.json"
        command = [
            sys.executable,
            "-m",
            "drillkit",
            "test",
            target.drill.name,
            "--target",
            str(target.path),
            "--flaw-report",
            str(report),
            "-p",
            "no:cacheprovider",
            "--tb=short",
            *pytest_args,
        ]
        result = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT)
        if not report.exists():
            return Outcome({}, result.stdout, problem=result.stderr.strip() or result.stdout)
        states = json.loads(report.read_text())["flaws"]
    return Outcome(states, result.stdout)


def first_open_failure(target: Target, outcome: Outcome) -> str:
    """The failure of the first flaw still open (in drill.toml's order), trimmed."""
    blocks: list[list[str]] = []
    for line in outcome.output.splitlines():
        if BLOCK_HEADER.match(line):
            blocks.append([line])
        elif line.startswith("=") and blocks:
            blocks.append([])  # a section rule ends the failure blocks
        elif blocks:
            blocks[-1].append(line)
    for flaw in target.drill.flaws:
        if outcome.states.get(flaw.id) not in ("open", "error"):
            continue
        for block in blocks:
            if any(f"{flaw.id} {flaw.title}" in line for line in block):
                shown = block[:FAILURE_LINES]
                more = len(block) - len(shown)
                if more > 0:
                    shown.append(f"... {more} more lines: run the drill without watch to see all")
                return "\n".join(shown)
    return ""


def progress_line(target: Target, outcome: Outcome):
    """`drill4 workspace/drill4  [██████░░░░] 3 of 7 flaws fixed`, as rich renderables."""
    from rich.progress_bar import ProgressBar
    from rich.table import Table

    total = len(target.drill.flaws)
    line = Table.grid(padding=(0, 1))
    line.add_row(
        f"{target.drill.name} {target.label}",
        ProgressBar(total=total, completed=outcome.fixed, width=30),
        f"{outcome.fixed} of {total} flaws fixed",
    )
    return line


def show(target: Target, outcome: Outcome, console, *, blind: bool = False) -> None:
    total = len(target.drill.flaws)
    if console.is_terminal:
        console.clear()
        console.print(progress_line(target, outcome))
    else:
        console.print(
            f"--- {target.drill.name} {target.label}: {outcome.fixed} of {total} flaws fixed",
            markup=False,
            highlight=False,
        )
    if outcome.problem:
        console.print(outcome.problem, markup=False, highlight=False)
    elif blind:
        # A blind run names no flaw; its own summary (counts, and files if asked) is all
        # there is to show.
        console.print(outcome.output.strip(), markup=False, highlight=False)
    elif outcome.fixed == total:
        console.print(
            "Every flaw is fixed. Fill in a scorecard with "
            f"`nox -s scorecard -- new {target.drill.name}`.",
            markup=False,
        )
    else:
        not_run = [f for f, state in outcome.states.items() if state == "not run"]
        failure = first_open_failure(target, outcome)
        console.print(
            failure or "(no failure text: run the drill without watch to see it)",
            markup=False,
            highlight=False,
        )
        if not_run:
            console.print(f"(not run this time: {', '.join(not_run)})", markup=False)
    console.print("\nWatching for changes; Ctrl-C to stop.", style="dim", markup=False)


def watch(
    target: Target,
    pytest_args: list[str],
    *,
    poll: bool = False,
    console=None,
    changes: Callable[[], Iterable] | None = None,
    run: Callable[[Target, list[str]], Outcome] = run_tests,
) -> int:
    """Run, show, and run again after every change, until Ctrl-C."""
    from rich.console import Console

    console = console or Console()
    if changes is None:
        from watchfiles import DefaultFilter
        from watchfiles import watch as watch_files

        def changes():
            return watch_files(
                target.path,
                watch_filter=DefaultFilter(ignore_paths=[target.path / ".progress"]),
                force_polling=poll or None,
            )

    blind = "--blind" in pytest_args
    try:
        show(target, run(target, pytest_args), console, blind=blind)
        for _changed in changes():
            show(target, run(target, pytest_args), console, blind=blind)
    except KeyboardInterrupt:
        pass
    console.print("Stopped watching.", markup=False)
    return 0
