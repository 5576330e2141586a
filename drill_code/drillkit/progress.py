"""The learner's progress: a small result saved by every test run of a copy in the
workspace, and the board that reads them (`nox -s progress`).

`drillkit test` saves `workspace/.progress/<drill>--<copy>.json` after each run of a copy
inside workspace/ (the reference solution, the starter and temporary copies elsewhere are
not the learner's progress). The board reads only those files and the scorecards' names,
so it answers at once and never reruns a test.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

from drillkit.catalog import PROJECT_ROOT, Drill, all_drills, shown
from drillkit.workspace import WORKSPACE

FOLDER_NAME = ".progress"
SCORECARDS = PROJECT_ROOT / "scorecards"  # as drillkit.scorecards, without its imports
SCORECARD_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-(drill\d+)\.yml$")


def progress_folder(workspace: Path = WORKSPACE) -> Path:
    return workspace / FOLDER_NAME


def result_file(drill: Drill, copy: Path, workspace: Path = WORKSPACE) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", str(copy.relative_to(workspace)))
    return progress_folder(workspace) / f"{drill.name}--{slug}.json"


def save(
    drill: Drill,
    copy: Path,
    states: dict[str, str],
    *,
    blind: bool = False,
    workspace: Path = WORKSPACE,
    now: dt.datetime | None = None,
) -> Path | None:
    """Record a run's flaw states for a copy in the workspace; return the file, or None
    when the copy is not in the workspace. A flaw this run did not reach (`-k`, `-x`)
    keeps the state an earlier run saw."""
    copy = copy.resolve()
    if not copy.is_relative_to(workspace.resolve()):
        return None
    path = result_file(drill, copy, workspace.resolve())
    earlier = _read(path) or {}
    flaws = dict(earlier.get("flaws", {}))
    for flaw_id, state in states.items():
        if state != "not run" or flaw_id not in flaws:
            flaws[flaw_id] = state
    result = {
        "drill": drill.name,
        "target": shown(copy),
        "date": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "fixed": sum(state == "fixed" for state in flaws.values()),
        "open": sum(state in ("open", "error") for state in flaws.values()),
        # A mix plants only some of the drill's flaws; the others are not its to fix.
        "total": sum(state != "not planted" for state in flaws.values()) or len(drill.flaws),
        "flaws": flaws,
        # Whether this run hid the flaws' names (blind mode); the blind run sets it.
        "blind": blind,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return path


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # a half-written or hand-edited file is no progress
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class Row:
    drill: Drill
    state: str  # "not started", "started", "in progress", "done"
    fixed: int
    total: int
    last_run: str  # ISO date and time, or ""
    target: str
    scorecard: str  # date of the latest scorecard, or ""
    blind: bool | None  # None: never run

    @property
    def status(self) -> str:
        if self.state == "in progress":
            return f"in progress ({self.fixed} of {self.total} fixed)"
        if self.state == "done":
            return f"done ({self.total} of {self.total} fixed)"
        if self.state == "started":
            return "copied, not run yet"
        return "not started"


def board(workspace: Path = WORKSPACE, scorecards: Path | None = None) -> list[Row]:
    """One row per drill, from the latest saved result of any of its copies."""
    latest_card = _latest_scorecards(scorecards or SCORECARDS)
    results: dict[str, dict] = {}
    folder = progress_folder(workspace)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        data = _read(path)
        if not data or "drill" not in data or "date" not in data:
            continue
        if data["drill"] not in results or data["date"] > results[data["drill"]]["date"]:
            results[data["drill"]] = data
    rows = []
    for drill in all_drills():
        result = results.get(drill.name)
        card = latest_card.get(drill.name, "")
        if result is None:
            started = (workspace / drill.name).is_dir()
            state = "started" if started else "not started"
            target = shown(workspace / drill.name) if started else ""
            rows.append(Row(drill, state, 0, len(drill.flaws), "", target, card, None))
            continue
        fixed = int(result.get("fixed", 0))
        total = int(result.get("total", len(drill.flaws)))
        state = "done" if fixed == total and not result.get("open") else "in progress"
        rows.append(
            Row(
                drill,
                state,
                fixed,
                total,
                str(result["date"]),
                str(result.get("target", "")),
                card,
                bool(result.get("blind", False)),
            )
        )
    return rows


def _latest_scorecards(folder: Path) -> dict[str, str]:
    latest: dict[str, str] = {}
    # The learner's cards sit in scorecards/<person>/ (older ones at the top); the
    # handbook's worked example is not theirs.
    for path in folder.rglob("*.yml") if folder.is_dir() else []:
        if "example" in path.relative_to(folder).parts:
            continue
        match = SCORECARD_NAME.match(path.name)
        if match and match[1] > latest.get(match[2], ""):
            latest[match[2]] = match[1]
    return latest


def _when(timestamp: str) -> str:
    return timestamp.replace("T", " ")[:16] if timestamp else "never"


def plain_lines(rows: list[Row]) -> list[str]:
    """The board as plain lines, for logs and pipes."""
    lines = []
    for row in rows:
        blind = "" if row.blind is None else f" | blind: {'yes' if row.blind else 'no'}"
        lines.append(
            f"{row.drill.name}: {row.status} | last run: {_when(row.last_run)} | "
            f"scorecard: {row.scorecard or 'none'}{blind}"
        )
    done = sum(row.state == "done" for row in rows)
    fixed = sum(row.fixed for row in rows)
    total = sum(row.total for row in rows)
    lines.append(f"{done} of {len(rows)} drills done, {fixed} of {total} flaws fixed")
    return lines


def show(rows: list[Row], console=None) -> None:
    """Print the board: a table on a terminal, plain lines anywhere else."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console()
    if not console.is_terminal:
        for line in plain_lines(rows):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        return
    table = Table(title="Your drills", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("Drill", no_wrap=True, overflow="ellipsis", max_width=26)
    table.add_column("Progress", no_wrap=True)
    for column, width in (("Last run", 16), ("Scorecard", 10), ("Blind", 5)):
        table.add_column(column, no_wrap=True, min_width=width)
    styles = {"done": "green", "in progress": "yellow", "started": "cyan"}
    for row in rows:
        table.add_row(
            Text.assemble(row.drill.name, " ", (row.drill.title, "dim")),
            Text(row.status, style=styles.get(row.state, "dim")),
            _when(row.last_run),
            row.scorecard or "-",
            "-" if row.blind is None else ("yes" if row.blind else "no"),
        )
    console.print(table)
    console.print(plain_lines(rows)[-1], highlight=False)
