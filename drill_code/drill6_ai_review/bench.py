"""Drill 6's review run: what linters catch in the starter, and what only review does.

    nox -s bench -- drill6            run bandit and ruff's S rules on the starter and the
                                      solution, and write results/ for the handbook page
    nox -s bench -- drill6 --check    regenerate everything in memory and fail if results/
                                      is stale (what CI runs)

It writes, into results/:

* linters.json   every finding of both tools on both targets, tied to a flaw id or not;
* linters.md     the page's table: flaw -> caught by bandit? by ruff? by its exploit test;
* audit.md       the starter with a Material code annotation on every flawed line, built
                 from audit.toml, drill.toml, the linter run and the test collection;
* secure-rewrite.diff   the unified diff from the starter to the solution.

Findings are tied to flaws by the lines in audit.toml (text, never line numbers).
"""

import argparse
import difflib
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from drillkit.catalog import PROJECT_ROOT, get_drill, shown
from drillkit.errors import DrillError
from drillkit.targets import resolve_target

DRILL = get_drill("drill6")
HERE = DRILL.folder
RESULTS = HERE / "results"
APP_FILES_IN_READING_ORDER = ["orders/models.py", "orders/serializers.py", "orders/views.py"]
VERSION_LINE = "*Run with "  # the one line of linters.md that may change without the code


@dataclass
class Spot:
    flaw: str
    file: str
    line: str
    wrong: str
    found: str
    also: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)  # resolved 1-based line numbers


@dataclass
class Finding:
    tool: str
    rule: str
    file: str  # relative to the target folder
    lines: list[int]
    severity: str
    confidence: str
    message: str
    flaw: str | None = None

    def label(self) -> str:
        if self.tool == "bandit":
            severity, confidence = self.severity.lower(), self.confidence.lower()
            return f"{self.rule} ({severity} severity, {confidence} confidence)"
        return self.rule


# -- inputs ---------------------------------------------------------------------------------


def _source_files(target: Path) -> list[Path]:
    return sorted(
        p
        for p in target.rglob("*")
        if p.is_file()
        and p.suffix in (".py", ".html")
        and "migrations" not in p.parts
        and "__pycache__" not in p.parts
        and p.stat().st_size > 0
    )


def load_spots() -> list[Spot]:
    data = tomllib.loads((HERE / "audit.toml").read_text(encoding="utf-8"))
    spots = [
        Spot(
            **{key: value.strip() if isinstance(value, str) else value for key, value in s.items()}
        )
        for s in data["spot"]
    ]
    known = {flaw.id for flaw in DRILL.flaws}
    for spot in spots:
        if spot.flaw not in known:
            raise DrillError(f"audit.toml names {spot.flaw}, which drill.toml does not list.")
        lines = (DRILL.starter / spot.file).read_text(encoding="utf-8").splitlines()
        for text in [spot.line, *spot.also]:
            hits = [n for n, line in enumerate(lines, start=1) if text in line]
            if len(hits) != 1:
                raise DrillError(
                    f"audit.toml says {spot.flaw} is on the line of starter/{spot.file} that "
                    f"contains {text!r}, but {len(hits)} lines contain it. Edit audit.toml so "
                    "the text names exactly one line."
                )
            spot.numbers.extend(hits)
    missing = known - {spot.flaw for spot in spots}
    if missing:
        raise DrillError(f"audit.toml has no spot for {', '.join(sorted(missing))}.")
    return spots


def _run(args: list[str]) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CI")}
    env["PYTHONPATH"] = str(PROJECT_ROOT / "drill_code")
    result = subprocess.run(args, capture_output=True, text=True, cwd=PROJECT_ROOT, env=env)
    if result.returncode not in (0, 1):  # both linters exit 1 when they find something
        raise DrillError(f"`{' '.join(args)}` failed:\n{result.stderr or result.stdout}")
    return result.stdout


def run_bandit(target: Path) -> list[Finding]:
    out = _run([sys.executable, "-m", "bandit", "-r", str(target), "-x", "*/migrations/*",
                "-f", "json", "-q"])  # fmt: skip
    return [
        Finding(
            tool="bandit",
            rule=r["test_id"],
            file=Path(r["filename"]).resolve().relative_to(target).as_posix(),
            lines=list(r["line_range"]),
            severity=r["issue_severity"],
            confidence=r["issue_confidence"],
            message=r["issue_text"],
        )
        for r in json.loads(out)["results"]
    ]


def run_ruff(target: Path) -> list[Finding]:
    out = _run([sys.executable, "-m", "ruff", "check", "--isolated", "--select", "S", "--no-cache",
                "--exclude", "migrations", "--output-format", "json", str(target)])  # fmt: skip
    return [
        Finding(
            tool="ruff",
            rule=r["code"],
            file=Path(r["filename"]).resolve().relative_to(target).as_posix(),
            lines=list(range(r["location"]["row"], r["end_location"]["row"] + 1)),
            severity="",
            confidence="",
            message=r["message"],
        )
        for r in json.loads(out)
    ]


def collect_tests() -> dict[str, list[str]]:
    """flaw id -> names of the tests that catch it, from the harness's own collection."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "collection.json"
        _run([sys.executable, "-m", "drillkit", "collect", DRILL.name, "--json", str(out)])
        if not out.exists():
            raise DrillError("Collecting drill6's tests failed; run `nox -s drill6` to see why.")
        collection = json.loads(out.read_text())
    names: dict[str, list[str]] = {}
    for flaw_id, node_ids in collection["flaws"].items():
        tests = [node_id.split("::")[-1].split("[")[0] for node_id in node_ids]
        names[flaw_id] = list(dict.fromkeys(tests))
    return names


def tie(findings: list[Finding], spots: list[Spot]) -> None:
    for finding in findings:
        for spot in spots:
            if spot.file == finding.file and set(spot.numbers) & set(finding.lines):
                finding.flaw = spot.flaw


# -- outputs --------------------------------------------------------------------------------


def _cell(findings: list[Finding]) -> str:
    return "<br>".join(f.label() for f in findings) or "—"


def linters_md(starter: list[Finding], solution: list[Finding], tests, versions) -> str:
    by_flaw = defaultdict(list)
    for finding in starter:
        by_flaw[finding.flaw].append(finding)
    rows = [
        "| Flaw | bandit | ruff (S rules) | Exploit test | Review and test only? |",
        "|---|---|---|---|---|",
    ]
    flagged, confident = [], []
    for flaw in DRILL.flaws:
        bandit = [f for f in by_flaw[flaw.id] if f.tool == "bandit"]
        ruff = [f for f in by_flaw[flaw.id] if f.tool == "ruff"]
        if bandit or ruff:
            flagged.append(flaw.id)
        if any(f.confidence == "HIGH" for f in bandit):
            confident.append(flaw.id)
        verdict = "no" if bandit or ruff else "**yes**"
        test_cell = "<br>".join(f"`{name}`" for name in tests.get(flaw.id, []))
        cells = [f"{flaw.id} {flaw.title}", _cell(bandit), _cell(ruff), test_cell, verdict]
        rows.append("| " + " | ".join(cells) + " |")
    total = len(DRILL.flaws)
    summary = [
        f"**bandit and ruff flagged {len(flagged)} of the {total} planted flaws** "
        f"({', '.join(flagged)}); the other {total - len(flagged)} were found only by reading "
        f"the code, and every one of the {total} is proved by its exploit test.",
        "",
        f"With bandit's `--confidence-level high`, a common CI setting to cut noise, only "
        f"{len(confident)} flaws would still be reported ({', '.join(confident) or 'none'}).",
        "",
    ]
    noise = [f for f in starter if f.flaw is None]
    extra = ["", "**Findings on the starter that are not planted flaws**", ""]
    extra += _findings_table(noise) if noise else ["None."]
    extra += ["", "**Findings on the secure rewrite** (the same rules, run on the solution)", ""]
    extra += _findings_table(solution) if solution else ["None."]
    footer = ["", f"{VERSION_LINE}bandit {versions['bandit']} and ruff {versions['ruff']}.*"]
    return "\n".join(summary + rows + extra + footer) + "\n"


def _findings_table(findings: list[Finding]) -> list[str]:
    rows = ["| File | Line | Tool | Rule | Message |", "|---|---|---|---|---|"]
    for f in findings:
        message = f.message.replace("|", "\\|")
        rows.append(f"| `{f.file}` | {f.lines[0]} | {f.tool} | {f.label()} | {message} |")
    return rows


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line.strip() else "" for line in text.splitlines())


def _paragraph(text: str) -> str:
    return " ".join(text.split())


def audit_md(spots: list[Spot], findings: list[Finding], tests) -> str:
    """The starter's flawed files as content tabs, one code annotation per flawed line."""
    flaws = {flaw.id: flaw for flaw in DRILL.flaws}
    tabs = []
    for relative in APP_FILES_IN_READING_ORDER:
        in_file = sorted((s for s in spots if s.file == relative), key=lambda s: s.numbers[0])
        if not in_file:
            continue
        lines = (DRILL.starter / relative).read_text(encoding="utf-8").splitlines()
        notes = []
        for number, spot in enumerate(in_file, start=1):
            lines[spot.numbers[0] - 1] += f"  # ({number})!"
            flaw = flaws[spot.flaw]
            caught = [f for f in findings if f.flaw == spot.flaw and f.file == relative]
            linters = (
                "Flagged by " + ", ".join(f"{f.tool} {f.rule}" for f in caught) + "."
                if caught
                else "No linter flagged it."
            )
            proof = ", ".join(f"`{name}`" for name in tests.get(spot.flaw, []))
            body = "\n\n".join(
                [
                    f"**{flaw.id} · {flaw.title}**",
                    f"*What is wrong.* {_paragraph(spot.wrong)}",
                    f"*Why it matters.* {_paragraph(flaw.why)}",
                    f"*How it was found.* {_paragraph(spot.found)} {linters}",
                    f"*Proved by* {proof}.",
                ]
            )
            notes.append(f"{number}.  " + _indent(body, "    ").lstrip())
        title = shown(DRILL.starter / relative)
        block = f'```python title="{title}"\n' + "\n".join(lines) + "\n```"
        annotations = _indent("\n\n".join(notes), "    ")
        tab = f'=== "{relative}"\n\n{_indent(block, "    ")}\n\n{annotations}\n'
        tabs.append(tab)
    return "\n".join(tabs)


def rewrite_diff() -> str:
    starter = {p.relative_to(DRILL.starter).as_posix(): p for p in _source_files(DRILL.starter)}
    solution = {p.relative_to(DRILL.solution).as_posix(): p for p in _source_files(DRILL.solution)}
    chunks = []
    for relative in sorted(starter.keys() | solution.keys()):
        before = starter[relative].read_text().splitlines(True) if relative in starter else []
        after = solution[relative].read_text().splitlines(True) if relative in solution else []
        chunks.extend(
            difflib.unified_diff(
                before,
                after,
                fromfile=f"starter/{relative}" if relative in starter else "/dev/null",
                tofile=f"solution/{relative}" if relative in solution else "/dev/null",
            )
        )
    # A blank context line is " " in a diff; Markdown drops trailing spaces, so the page
    # and this file would disagree. Strip them: the diff is for reading, not for `patch`.
    return "".join(line.rstrip() + "\n" for line in chunks)


def _version(module: str) -> str:
    out = _run([sys.executable, "-m", module, "--version"]).split()
    return out[1] if len(out) > 1 else "unknown"


def build() -> dict[str, str]:
    spots = load_spots()
    starter = run_bandit(DRILL.starter) + run_ruff(DRILL.starter)
    solution = run_bandit(DRILL.solution) + run_ruff(DRILL.solution)
    tie(starter, spots)
    tests = collect_tests()
    versions = {"bandit": _version("bandit"), "ruff": _version("ruff")}
    records = {
        "starter": [f.__dict__ for f in starter],
        "solution": [f.__dict__ for f in solution],
    }
    outputs = {
        "linters.json": json.dumps(records, indent=2) + "\n",
        "linters.md": linters_md(starter, solution, tests, versions),
        "audit.md": audit_md(spots, starter, tests),
        "secure-rewrite.diff": rewrite_diff(),
    }
    return outputs


def _comparable(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith(VERSION_LINE))


def scorecard_figures(target: str) -> dict[str, int]:
    """What the linters still report on the learner's copy, for `nox -s scorecard -- new drill6`."""
    path = resolve_target(DRILL, target).path
    found = run_bandit(path) + run_ruff(path)
    return {
        "bandit findings": sum(f.tool == "bandit" for f in found),
        "ruff S findings": sum(f.tool == "ruff" for f in found),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="nox -s bench -- drill6")
    parser.add_argument(
        "--check", action="store_true", help="fail if results/ differs from a fresh run"
    )
    options = parser.parse_args(argv)
    outputs = build()
    if options.check:
        stale = [
            name
            for name, text in outputs.items()
            if not (RESULTS / name).is_file()
            or _comparable((RESULTS / name).read_text(encoding="utf-8")) != _comparable(text)
        ]
        if stale:
            print(
                f"{shown(RESULTS)} is out of date ({', '.join(stale)}): the starter, the "
                "solution, audit.toml or the linters changed since it was generated. Run "
                "`nox -s bench -- drill6` and commit the results.",
                file=sys.stderr,
            )
            return 1
        print(f"{shown(RESULTS)} matches a fresh run ({len(outputs)} files).")
        return 0
    RESULTS.mkdir(exist_ok=True)
    for name, text in outputs.items():
        (RESULTS / name).write_text(text, encoding="utf-8")
    print(outputs["linters.md"])
    print(f"Wrote {', '.join(outputs)} to {shown(RESULTS)}.")
    return 0
