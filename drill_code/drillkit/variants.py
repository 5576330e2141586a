"""The variant bank: the reference solution with one planted flaw, or with a fix that
looks right but is not, kept as patches beside each drill.

    drill_code/drill4_auth/variants/flaws/D4-F3.patch          solution + flaw D4-F3
    drill_code/drill4_auth/variants/wrong-fixes/D4-F3-*.patch  a plausible fix that leaves it

A patch is a few `Key: value` header lines, a blank line, then a unified diff whose paths
are relative to the solution folder (`a/notes/views.py`). `git apply` skips the header.
Patches rather than overlay folders: a diff shows the learner exactly what changed, it is
reviewed like any change, and a patch that no longer applies to an edited solution fails
loudly instead of silently reverting the edit (an overlay would copy the old file back).

This module holds the one loop every check needs: copy a target (the solution with some
patches applied, or any folder), run a drill's tests on it in a fresh process, and read
the outcome. The starter check, the variant and wrong-fix proofs, a learner's graded
tests and the mixes all go through `run_tests` and `run_on_variants`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from drillkit.catalog import PROJECT_ROOT, Drill, shown
from drillkit.errors import DrillError

FLAWS = "flaws"
WRONG_FIXES = "wrong-fixes"
# The kinds of wrong fix that reviews of learners' attempts keep finding.
KINDS = {
    "partial": "fixed on one route, method or path, not on its sibling",
    "wrong-level": "the right idea applied to the wrong field, object or layer",
    "luck-of-data": "holds only for small, uniform or friendly data",
    "open-bound": "a size, count, page size, timeout or expiry left open",
    "race": "a race reintroduced elsewhere",
    "wrong-state": "a guard that checks the wrong state, or too few states",
    "slip-past": "a check that crafted input slips past",
    "schema-without-data": "a schema change without the data change it needs",
}
REQUIRED = {"flaw": ("Flaw",), "wrong-fix": ("Flaw", "Summary", "Why wrong", "Kind", "Caught by")}
# One run of a drill's tests must end; a hung run is a failed proof, not a hung CI.
RUN_TIMEOUT_SECONDS = 600
_NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.sqlite3")


@dataclass(frozen=True)
class Variant:
    drill: Drill
    path: Path
    header: dict[str, str]

    @property
    def kind(self) -> str:
        return "flaw" if self.path.parent.name == FLAWS else "wrong-fix"

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def flaw(self) -> str:
        return self.header["Flaw"]

    @property
    def summary(self) -> str:
        return self.header.get("Summary", "")

    @property
    def why_wrong(self) -> str:
        return self.header.get("Why wrong", "")

    @property
    def needs_postgres(self) -> bool:
        """`Needs: postgres`: the fix is wrong only where rows are locked and requests run
        at once (a race). Its flaw's SQLite tests pass on it; its proof is the PostgreSQL
        pass's."""
        return self.header.get("Needs", "").lower() == "postgres"

    @property
    def caught_by(self) -> str:
        return self.header.get("Caught by", "")


def read_variant(drill: Drill, path: Path) -> Variant:
    """Parse a patch's header and check it names a real flaw and, for a wrong fix, says
    what it does, why it is wrong and which test catches it."""
    header: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith(("diff --git", "--- ")):
            break
        key, sep, value = line.partition(":")
        if not sep:
            raise DrillError(f"{shown(path)}: header line {line!r} is not `Key: value`.")
        header[key.strip()] = value.strip()
    variant = Variant(drill, path, header)
    missing = [key for key in REQUIRED[variant.kind] if not header.get(key)]
    if missing:
        raise DrillError(f"{shown(path)} has no {', '.join(missing)} line in its header.")
    if variant.flaw not in {flaw.id for flaw in drill.flaws}:
        raise DrillError(f"{shown(path)} names flaw {variant.flaw}, which drill.toml lacks.")
    if variant.kind == "flaw" and not variant.name.startswith(variant.flaw):
        raise DrillError(f"{shown(path)} should be named after its flaw, {variant.flaw}.")
    if header.get("Needs", "postgres").lower() != "postgres":
        raise DrillError(f"{shown(path)}: `Needs:` takes one value, postgres.")
    if variant.kind == "wrong-fix" and header["Kind"] not in KINDS:
        raise DrillError(
            f"{shown(path)}: Kind {header['Kind']!r} is not one of {', '.join(KINDS)}."
        )
    return variant


def bank(drill: Drill, kind: str) -> list[Variant]:
    """The drill's flaw variants (`kind="flaw"`) or wrong fixes, in flaw order."""
    folder = drill.folder / "variants" / (FLAWS if kind == "flaw" else WRONG_FIXES)
    order = {flaw.id: index for index, flaw in enumerate(drill.flaws)}
    variants = [read_variant(drill, path) for path in sorted(folder.glob("*.patch"))]
    return sorted(variants, key=lambda v: (order[v.flaw], v.name))


# -- making copies --------------------------------------------------------------------


def _git(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    # Outside any repository, so git applies and diffs plain folders even when the
    # temporary folder sits inside a checkout.
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(cwd.parent)}
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, text=True, env=env
        )
    except FileNotFoundError as exc:
        raise DrillError(
            "The variant bank is applied with git, which is not installed here. Install git "
            "(the handbook is cloned with it), then run the command again."
        ) from exc


def materialize(drill: Drill, variants: Sequence[Variant], destination: Path) -> Path:
    """A copy of the reference solution at `destination` with `variants` applied in order."""
    shutil.copytree(drill.solution, destination, ignore=_NOT_COPIED)
    for applied, variant in enumerate(variants):
        result = _apply(variant, destination, after_another=applied > 0)
        if result.returncode != 0:
            raise DrillError(
                f"{shown(variant.path)} no longer applies to {shown(drill.solution)}: "
                f"{result.stderr.strip()}. Recreate it from an edited copy of the solution "
                f"with `python -m drillkit variants diff {drill.name} EDITED_COPY`."
            )
    return destination


def _apply(variant: Variant, copy: Path, *, after_another: bool, check: bool = False):
    options = ["--check"] if check else []
    result = _git("apply", *options, "--whitespace=nowarn", str(variant.path), cwd=copy)
    if result.returncode != 0 and after_another:
        # Composing a mix: an earlier variant may have changed a line of this one's
        # context. One matching line on each side is enough to place the hunk, and the
        # pairs proof runs the tests on every composition a mix may draw.
        result = _git("apply", *options, "-C1", "--whitespace=nowarn", str(variant.path), cwd=copy)
    return result


def not_applying_after(drill: Drill, first: Variant, others: Sequence[Variant]) -> list[str]:
    """Which of `others` do not apply on top of `first`: a quick check, with no test run,
    of what a mix composes (the pairs proof also runs the tests on each pair)."""
    with tempfile.TemporaryDirectory(prefix="drillkit-compose-") as scratch:
        copy = materialize(drill, [first], Path(scratch) / drill.name)
        return [
            other.name
            for other in others
            if _apply(other, copy, after_another=True, check=True).returncode != 0
        ]


def diff_against_solution(drill: Drill, edited: Path) -> str:
    """The unified diff from the solution to `edited`, with paths relative to the
    solution folder: the body of a variant patch."""
    with tempfile.TemporaryDirectory(prefix="drillkit-diff-") as scratch:
        base, changed = Path(scratch) / "a", Path(scratch) / "b"
        shutil.copytree(drill.solution, base, ignore=_NOT_COPIED)
        shutil.copytree(edited, changed, ignore=_NOT_COPIED)
        result = _git("diff", "--no-index", "--no-color", "a", "b", cwd=Path(scratch))
    if result.returncode not in (0, 1):
        raise DrillError(f"git diff failed: {result.stderr.strip()}")
    # git labels the sides a/a/<path> and b/b/<path>: drop the folder names.
    return result.stdout.replace(" a/a/", " a/").replace(" b/b/", " b/")


# -- running a drill's tests on a copy ------------------------------------------------


@dataclass
class Run:
    """What one run of a drill's tests on one target found."""

    label: str
    code: int
    flaws: dict[str, str] = field(default_factory=dict)  # flaw id -> fixed/open/error/not run
    failed_tests: dict[str, list[str]] = field(default_factory=dict)  # node id -> flaw ids
    passed: int = 0
    skipped_tests: list[str] = field(default_factory=list)
    output: str = ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output.rstrip().splitlines()[-lines:])


def run_tests(
    drill: Drill,
    target: Path | str,
    *,
    label: str = "",
    tests: Path | None = None,
    only_flaws: Iterable[str] = (),
    expect_flaws: bool = False,
    blind: bool = False,
    pytest_args: Sequence[str] = (),
) -> Run:
    """Run the drill's tests (or `tests`, a learner's own) on `target` in a fresh process.

    A fresh process per run: each target is its own Django project, and Django can be set
    up only once per process.
    """
    with tempfile.TemporaryDirectory(prefix="drillkit-run-") as scratch:
        report = Path(scratch) / "report.json"
        command = [sys.executable, "-m", "drillkit", "test", drill.name, "--target", str(target)]
        command += ["--flaw-report", str(report)]
        if tests is not None:
            command += ["--learner-tests", str(tests)]
        if only_flaws:
            command += ["--only-flaws", ",".join(only_flaws)]
        if expect_flaws:
            command.append("--expect-flaws")
        if blind:
            command.append("--blind")
        command += ["-q", "-p", "no:cacheprovider", *pytest_args]
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "drill_code"), "COLUMNS": "100"}
        try:
            result = subprocess.run(
                command,
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                env=env,
                timeout=RUN_TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired as exc:
            output = (exc.stdout or b"").decode(errors="replace") if exc.stdout else ""
            return Run(label, code=-1, output=f"{output}\n(timed out after {exc.timeout} s)")
        run = Run(label or str(target), result.returncode, output=result.stdout + result.stderr)
        if report.exists():
            outcome = json.loads(report.read_text())
            run.flaws = outcome["flaws"]
            run.failed_tests = outcome["failed_tests"]
            run.passed = outcome["passed"]
            run.skipped_tests = outcome.get("skipped_tests", [])
    return run


def run_on_variants(drill: Drill, variants: Sequence[Variant], **options) -> Run:
    """Apply `variants` to a temporary copy of the solution and run tests on it."""
    label = " + ".join(v.name for v in variants) or "solution"
    with tempfile.TemporaryDirectory(prefix=f"drillkit-{drill.name}-") as scratch:
        copy = materialize(drill, variants, Path(scratch) / drill.name)
        return run_tests(drill, copy, label=label, **options)


def in_parallel(jobs: Sequence[tuple[str, Callable[[], object]]], *, title: str) -> list:
    """Run independent jobs (each starts its own test process) on every core, with a
    progress bar on a terminal and one plain line per finished job elsewhere (CI logs)."""
    cores = int(os.environ.get("DRILLKIT_JOBS", 0)) or os.cpu_count() or 1
    workers = max(1, min(len(jobs), cores))
    results: list = [None] * len(jobs)
    with ThreadPoolExecutor(max_workers=workers) as pool, _progress(title, len(jobs)) as advance:
        futures = {pool.submit(job): index for index, (_, job) in enumerate(jobs)}
        for future in as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            advance(jobs[index][0])
    return results


class _progress:
    """rich's progress bar on a terminal; plain `[k/n] label` lines otherwise. Inside
    another progress (grading each attempt of a team grades its tests), only the outer
    one shows: a terminal holds one live display at a time."""

    active = 0

    def __init__(self, title: str, total: int) -> None:
        self.title, self.total, self.done = title, total, 0
        self.bar = None
        self.quiet = _progress.active > 0

    def __enter__(self):
        _progress.active += 1
        if self.quiet:
            return lambda label: None
        if sys.stdout.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
            )
            self.bar.start()
            self.task = self.bar.add_task(self.title, total=self.total)
        else:
            print(f"{self.title}: {self.total} runs", flush=True)
        return self.advance

    def advance(self, label: str) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"{self.title}: {label}")
        else:
            print(f"  [{self.done}/{self.total}] {label}", flush=True)

    def __exit__(self, *exc) -> None:
        _progress.active -= 1
        if self.bar is not None:
            self.bar.stop()
