"""How long the learner waits: warm timings of each drill's loop and of the docs build.

    nox -s loopbench                          every drill on copies of its starter and its
                                              solution, and docs
    nox -s loopbench -- drill3 docs --runs 5  some loops, more runs
    nox -s loopbench -- drill4 --copies solution
                                              a drill's loop on a copy of its solution only
    nox -s loopbench -- nox --runs 1          the whole default `nox`, warm (budget 90 s)
    nox -s loopbench -- --stability 20 drill3 drill5
                                              the same verdict 20 times in a row, on the
                                              starter and on the solution

A loop is what the learner types again and again: `nox -R -s drillN -- --target PATH` on a
copy of the starter (as after `nox -s start`, where the learner begins) and on a copy of
the solution (where they end), and `nox -R -s docs` for someone writing a page. Each is
run once untimed (venvs built, caches warm), then `--runs` times; the table gives the
median wall time against the handbook's budget of 3 s. This is a benchmark, not a test:
the machine's load changes its figures, so it reports them and fails nothing unless asked
with `--check`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from drillkit.catalog import PROJECT_ROOT, all_drills, get_drill
from drillkit.errors import DrillError
from drillkit.terminal import steps

BUDGET_SECONDS = 3.0
DOCS = "docs"
# The whole default `nox` (every check CI's first pass runs), warm: a contributor's loop.
FULL = "nox"
FULL_BUDGET_SECONDS = 90.0


def budget(loop: str) -> float:
    return FULL_BUDGET_SECONDS if loop == FULL else BUDGET_SECONDS


def _nox() -> list[str]:
    found = shutil.which("nox")
    if found is None:
        raise DrillError("The loop benchmark runs nox itself, and nox is not on PATH.")
    return [found]


def _environment() -> dict[str, str]:
    """The learner's environment: no database or broker of CI's, nothing of this session's
    virtualenv (the nested nox picks its own)."""
    env = dict(os.environ)
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "VIRTUAL_ENV", "NOX_CURRENT_SESSION"):
        env.pop(name, None)
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    return env


COPIES = ("starter", "solution")  # what a learner's copy is a copy of, at first and at last


def loop_command(loop: str, copy: Path | None) -> list[str]:
    if loop == DOCS:
        return [*_nox(), "-R", "-s", DOCS]
    if loop == FULL:
        return [*_nox(), "-R"]
    return [*_nox(), "-R", "-s", loop, "--", "--target", str(copy)]


def _timed(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the command and its children, exit code). CPU time
    hardly depends on what else the machine runs; wall time is what the learner feels."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(
        command, cwd=PROJECT_ROOT, env=_environment(), capture_output=True, text=True
    )
    return time.perf_counter() - started, _children_cpu() - cpu_before, result.returncode


def _children_cpu() -> float:
    try:
        import resource
    except ImportError:  # Windows: no CPU figure, the wall time still stands
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(loops: list[str], runs: int, copies: tuple[str, ...] = COPIES) -> list[dict]:
    """Median warm wall time of each loop, after one untimed warm-up run. A drill's loop
    is timed on a copy of each of `copies`, outside the handbook's folders as a learner's
    copy is."""
    with tempfile.TemporaryDirectory(prefix="loopbench-") as tmp:
        jobs = []  # (loop, label, the copy it targets)
        for loop in loops:
            if loop in (DOCS, FULL):
                jobs.append((loop, loop, None))
                continue
            for of in copies:
                copy = Path(tmp) / f"{loop}-{of}"
                shutil.copytree(getattr(get_drill(loop), of), copy)
                jobs.append((loop, f"{loop} ({of})", copy))
        rows = []
        with steps(len(jobs) * (runs + 1), "loops") as advance:
            for loop, label, copy in jobs:
                command = loop_command(loop, copy)
                _timed(command)  # warm-up: builds the venv on a first run
                advance(f"{label}: warm-up")
                times, cpu = [], []
                for run in range(runs):
                    seconds, cpu_seconds, code = _timed(command)
                    times.append(seconds)
                    cpu.append(cpu_seconds)
                    advance(f"{label}: run {run + 1} of {runs}, {seconds:.2f} s (exit {code})")
                median = statistics.median(times)
                rows.append(
                    {
                        "loop": " ".join(command[1:]).replace(tmp, "COPIES"),
                        "name": label,
                        "median_seconds": round(median, 2),
                        "runs": [round(t, 2) for t in times],
                        "median_cpu_seconds": round(statistics.median(cpu), 2),
                        "budget_seconds": budget(loop),
                        "within_budget": median <= budget(loop),
                    }
                )
    return rows


def stability(
    drills: list[str], repeats: int, targets: tuple[str, ...] = ("starter", "solution")
) -> list[dict]:
    """Run each drill `repeats` times on the starter and on the solution; every run of a
    target must find the same flaws fixed and open."""
    rows = []
    with steps(len(drills) * len(targets) * repeats, "verdicts") as advance:
        for name in drills:
            for target in targets:
                verdicts = []
                for run in range(repeats):
                    verdicts.append(_verdict(name, target))
                    advance(f"{name} on {target}: run {run + 1} of {repeats}")
                distinct = Counter(json.dumps(v, sort_keys=True) for v in verdicts)
                rows.append(
                    {
                        "drill": name,
                        "target": target,
                        "runs": repeats,
                        "distinct_verdicts": len(distinct),
                        "verdict": verdicts[0],
                        # Each different verdict and how many runs gave it.
                        "verdicts": [
                            {"runs": n, **json.loads(v)} for v, n in distinct.most_common()
                        ],
                    }
                )
    return rows


def _verdict(drill: str, target: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "flaws.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "drillkit",
                "test",
                drill,
                "--target",
                target,
                "--flaw-report",
                str(report),
                "-q",
                "-p",
                "no:cacheprovider",
            ],
            cwd=PROJECT_ROOT,
            env={**_environment(), "PYTHONPATH": str(PROJECT_ROOT / "drill_code")},
            capture_output=True,
            text=True,
        )
        if not report.exists():
            return {"error": "the run wrote no flaw report"}
        outcome = json.loads(report.read_text())
    # Which tests failed, by node id from the flaw report (not from the printed output,
    # where a captured log line can start with "ERROR" too), then the flaw states.
    failing = sorted(outcome["failed_tests"])
    return {"failed": outcome["failed"], "failing_tests": failing, "flaws": outcome["flaws"]}


def table(rows: list[dict]) -> str:
    from drillkit.benchkit import markdown_table

    body = [
        [
            row["loop"],
            f"{row['median_seconds']:.2f}",
            " ".join(f"{t:.2f}" for t in row["runs"]),
            f"{row['median_cpu_seconds']:.2f}",
            f"{row['budget_seconds']:g}",
            "yes" if row["within_budget"] else "NO",
        ]
        for row in rows
    ]
    headers = ["Loop (warm)", "Median s", "Runs s", "CPU s", "Budget s", "Within"]
    if not hasattr(os, "getloadavg"):  # Windows
        return markdown_table(headers, body)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return markdown_table(headers, body) + f"\n\nLoad average while measuring: {load}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s loopbench --", description=__doc__.split("\n")[0])
    parser.add_argument(
        "loops", nargs="*", help="drillN, docs or nox (default: every drill and docs)"
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs per loop (default 3)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 if a loop is over budget")
    parser.add_argument(
        "--stability",
        type=int,
        metavar="N",
        help="instead: run the drills N times on starter and solution; verdicts must agree",
    )
    parser.add_argument(
        "--targets", default="starter,solution", help="with --stability (default both)"
    )
    parser.add_argument(
        "--copies",
        default=",".join(COPIES),
        help="time each drill's loop on copies of these (default starter,solution)",
    )
    options = parser.parse_args(argv)
    if options.runs < 1 or (options.stability is not None and options.stability < 1):
        parser.error("--runs and --stability need a count of 1 or more")
    loops = options.loops or [d.name for d in all_drills()] + [DOCS]
    for loop in loops:
        if loop not in (DOCS, FULL):
            get_drill(loop)  # an unknown name is one paragraph, before any work
    if options.stability:
        targets = tuple(options.targets.split(","))
        drills = [loop for loop in loops if loop not in (DOCS, FULL)]
        rows = stability(drills, options.stability, targets)
        for row in rows:
            agreed = (
                "same verdict every time"
                if row["distinct_verdicts"] == 1
                else (f"{row['distinct_verdicts']} DIFFERENT verdicts")
            )
            print(f"{row['drill']} on {row['target']}: {row['runs']} runs, {agreed}")
            if row["distinct_verdicts"] > 1:
                for verdict in row["verdicts"]:
                    states = verdict.get("flaws", {})
                    not_fixed = [f for f, state in states.items() if state != "fixed"]
                    print(
                        f"    {verdict['runs']} runs: {verdict.get('failed')} tests failed; "
                        f"flaws not fixed: {', '.join(not_fixed) or 'none'}"
                    )
                    for test in verdict.get("failing_tests", []):
                        print(f"        {test}")
        failed = any(row["distinct_verdicts"] != 1 for row in rows)
    else:
        copies = tuple(options.copies.split(","))
        if not copies or set(copies) - set(COPIES):
            parser.error(f"--copies takes {' and/or '.join(COPIES)}, comma-separated")
        rows = measure(loops, options.runs, copies)
        print(table(rows))
        failed = options.check and not all(row["within_budget"] for row in rows)
    if options.json:
        options.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DrillError as problem:
        print(f"\n{problem}\n", file=sys.stderr)
        sys.exit(2)
