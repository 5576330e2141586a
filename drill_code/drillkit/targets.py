"""Choosing the code a drill's tests run against.

Every target of a drill has the same shape: a small Django project with
`config/settings.py` and the drill's app folder. The reference solution and the
starter live in the drill folder; a learner's copy can live anywhere.
"""

from __future__ import annotations

import os
import shlex
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from drillkit.catalog import Drill, shown
from drillkit.errors import DrillError

SETTINGS_MODULE = "config.settings"
BUILT_IN = ("solution", "starter")


@dataclass(frozen=True)
class Target:
    drill: Drill
    path: Path
    label: str  # "solution", "starter", or the folder as the learner typed it

    @property
    def is_starter(self) -> bool:
        return self.path == self.drill.starter


def resolve_target(drill: Drill, spec: str | None) -> Target:
    """Turn `--target` (None, "solution", "starter" or a folder) into a checked Target."""
    spec = spec or "solution"
    if spec in BUILT_IN:
        path = getattr(drill, spec)
    else:
        path = Path(spec).expanduser()
        if not path.is_absolute():
            path = Path.cwd() / path
        path = path.resolve()
        # The handbook's own starter or solution, named by its folder, is that built-in
        # target: a run on it records no learner progress inside drill_code/.
        spec = next((name for name in BUILT_IN if path == getattr(drill, name).resolve()), spec)
    if not path.is_dir():
        raise DrillError(
            f"The target folder {spec} does not exist. Make a copy of the starter with "
            f"`nox -s start -- {drill.name}` (it goes to workspace/{drill.name}), then run "
            f"`nox -s {drill.name} -- --target workspace/{drill.name}`."
        )
    missing = [
        name
        for name in ("config/settings.py", f"{drill.app}/__init__.py")
        if not (path / name).is_file()
    ]
    if missing:
        raise DrillError(
            f"The folder {spec} does not hold {drill.name}'s Django project: "
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing. "
            f"--target must point at a copy of the whole starter folder, the one that "
            f"`nox -s start -- {drill.name}` creates in workspace/{drill.name}."
        )
    if spec not in BUILT_IN:
        _check_copy_is_of(drill, path, spec)
    return Target(drill=drill, path=path, label=spec if spec in BUILT_IN else shown(path))


def _matching_files(drill: Drill, path: Path) -> int:
    """How many of the drill's starter and solution files the folder holds unchanged."""
    matching = 0
    for original in (drill.starter, drill.solution):
        for file in original.rglob("*.py"):
            copy = path / file.relative_to(original)
            if copy.is_file() and copy.read_bytes() == file.read_bytes():
                matching += 1
    return matching


def _check_copy_is_of(drill: Drill, path: Path, spec: str) -> None:
    """Refuse a copy of another drill: several drills share an app name and a project
    layout, so Drill 5's copy would otherwise load under Drill 3's tests and fail in ways
    that say nothing about the learner's work (or record 0 of 0 flaws in a scorecard).
    A copy belongs to the drill whose starter or solution files it holds unchanged most."""
    from drillkit.catalog import all_drills

    counts = {other.name: _matching_files(other, path) for other in all_drills()}
    best = max(all_drills(), key=lambda other: counts[other.name])
    if best.name == drill.name or counts[best.name] <= counts[drill.name]:
        return
    folder = shlex.quote(spec)
    raise DrillError(
        f"{spec} is a copy of {best.name} ({best.title}), not of {drill.name}: "
        f"{counts[best.name]} of its files are {best.name}'s unchanged, and "
        f"{counts[drill.name]} are {drill.name}'s. Check it with `nox -s {best.name} -- "
        f"--target {folder}`, or start {drill.name} with `nox -s start -- {drill.name}`."
    )


def activate(target: Target) -> None:
    """Make `target` the Django project of this process: check the database, put the
    target on sys.path and point DJANGO_SETTINGS_MODULE at it. Call before django.setup()
    (pytest-django calls it for tests; a benchmark calls it itself)."""
    from drillkit.backends import HARNESS_FLAG, check_reachable

    check_reachable()
    sys.path.insert(0, str(target.path))
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    os.environ[HARNESS_FLAG] = "1"
    label = target.label if target.label in BUILT_IN else "copy"
    # One test database per run: two runs at once (a learner's copy and the variant
    # checks, or two variants in parallel) must never drop each other's database.
    os.environ["DRILLKIT_TEST_DATABASE"] = f"test_{target.drill.name}_{label}_{os.getpid()}"


def preflight(target: Target) -> None:
    """Set the target's project up as a test run would, and turn the first failure into
    one paragraph. Without this, a syntax error in the learner's copy repeats its
    traceback once per test, and a missing migration shows as dozens of database errors."""
    import django
    from django.conf import settings

    try:
        django.setup()
        __import__(settings.ROOT_URLCONF)
    except Exception as exc:
        raise DrillError(
            f"{target.label} does not import, so no test can run. {_where(target, exc)}: "
            f"{type(exc).__name__}: {exc}. Fix that first, then run the tests again."
        ) from exc
    if _unrecorded_model_changes():
        raise DrillError(
            f"The models in {target.label} have changes that no migration records, so the "
            f"test database would not match them. Create the migration with "
            f"`nox -s manage -- {target.drill.name} --target {shlex.quote(target.label)} "
            "makemigrations`, "
            "then run the tests again."
        )


def _unrecorded_model_changes() -> dict:
    """What `makemigrations --check` would find, worked out without opening a database
    connection: a connection opened before pytest-django creates the test database can
    leave worker threads looking at a different SQLite database."""
    from django.apps import apps
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.state import ProjectState

    loader = MigrationLoader(None, ignore_no_migrations=True)
    detector = MigrationAutodetector(loader.project_state(), ProjectState.from_apps(apps))
    return detector.changes(graph=loader.graph)


def _where(target: Target, exc: BaseException) -> str:
    """The file and line in the target where `exc` started, as the learner would look it up."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{_inside(target, Path(exc.filename))}, line {exc.lineno}"
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename)
        if path.is_relative_to(target.path):
            return f"{_inside(target, path)}, line {frame.lineno}"
    return "While importing the project"


def _inside(target: Target, path: Path) -> str:
    return (
        shown(path)
        if not path.is_relative_to(target.path)
        else str(Path(shown(target.path)) / path.relative_to(target.path))
    )
