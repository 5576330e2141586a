"""Finding drills and reading their metadata.

A drill is a folder `drill_code/drill<N>_<topic>/` holding a `drill.toml`. Nothing
else registers it: nox sessions, the docs and CI all start from `all_drills()`.
This module uses the standard library only, because the noxfile imports it before
any virtualenv exists.
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from drillkit.errors import DrillError

DRILL_CODE = Path(__file__).resolve().parent.parent
PROJECT_ROOT = DRILL_CODE.parent
METADATA_FILE = "drill.toml"
POSTGRES_MARK = "mark.postgres"  # how a test says it needs PostgreSQL


def shown(path: Path) -> str:
    """A path as the learner would type it: relative to the project when it is inside."""
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Location:
    """Where a reviewer would point at a planted flaw in the starter: a file relative to
    the starter folder, an inclusive line range, and a text inside that range (a harness
    test checks it is still there, so a starter edit cannot leave the range stale)."""

    file: str
    lines: tuple[int, int]
    contains: str


@dataclass(frozen=True)
class Flaw:
    id: str
    title: str
    why: str
    locations: tuple[Location, ...] = ()


@dataclass(frozen=True)
class Drill:
    name: str  # "drill4": the nox session, the `start` argument, the workspace folder
    number: int
    title: str
    summary: str
    checklist: tuple[str, ...]
    time_box: str
    app: str  # the Django app every target of this drill holds
    folder: Path
    flaws: tuple[Flaw, ...]
    pytest_plugins: tuple[str, ...] = ()  # extra plugins the drill's tests need, e.g. Celery's
    # Pairs of flaws whose variants cannot be planted together in a mix.
    incompatible: tuple[tuple[str, str], ...] = ()

    @property
    def tests(self) -> Path:
        return self.folder / "tests"

    @property
    def starter(self) -> Path:
        return self.folder / "starter"

    @property
    def solution(self) -> Path:
        return self.folder / "solution"

    @property
    def needs_postgres(self) -> bool:
        """Whether some of the drill's tests need PostgreSQL (they carry the `postgres`
        marker, see drillkit.pytest_plugin): such a drill runs on the embedded server
        unless told otherwise. Read from the test files, so a new drill needs no wiring."""
        return any(
            POSTGRES_MARK in path.read_text(encoding="utf-8")
            for path in sorted(self.tests.glob("*.py"))
        )

    def has_script(self, kind: str) -> bool:
        return (self.folder / f"{kind}.py").is_file()

    def flaw(self, flaw_id: str) -> Flaw:
        for flaw in self.flaws:
            if flaw.id == flaw_id:
                return flaw
        raise KeyError(flaw_id)


def _read_drill(folder: Path) -> Drill:
    path = folder / METADATA_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        number = int(data["number"])
        flaws = tuple(
            Flaw(
                id=str(f["id"]),
                title=str(f["title"]),
                why=str(f["why"]).strip(),
                locations=tuple(
                    Location(
                        file=str(spot["file"]),
                        lines=(int(spot["lines"][0]), int(spot["lines"][1])),
                        contains=str(spot["contains"]),
                    )
                    for spot in f.get("locations", ())
                ),
            )
            for f in data["flaws"]
        )
        drill = Drill(
            name=f"drill{number}",
            number=number,
            title=str(data["title"]),
            summary=str(data["summary"]).strip(),
            checklist=tuple(data["checklist"]),
            time_box=str(data["time_box"]),
            app=str(data["app"]),
            folder=folder,
            flaws=flaws,
            pytest_plugins=tuple(data.get("pytest_plugins", ())),
            incompatible=tuple(
                (str(first), str(second)) for first, second in data.get("incompatible", ())
            ),
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise DrillError(
            f"{shown(path)} is not valid drill metadata ({exc!r}). "
            "Compare it with another drill's drill.toml: it needs number, title, summary, "
            "checklist, time_box, app and a [[flaws]] table with id, title and why."
        ) from exc
    ids = [f.id for f in flaws]
    if len(set(ids)) != len(ids):
        raise DrillError(f"{shown(path)} lists a flaw id twice: {ids}.")
    strangers = {f for pair in drill.incompatible for f in pair} - set(ids)
    if strangers:
        raise DrillError(f"{shown(path)}: `incompatible` names unknown flaws {sorted(strangers)}.")
    wrong = [flaw_id for flaw_id in ids if not flaw_id.startswith(f"D{number}-F")]
    if wrong:
        raise DrillError(
            f"{shown(path)}: flaw ids must read D{number}-F<k> for drill {number}; "
            f"these do not: {', '.join(wrong)}."
        )
    return drill


@cache
def all_drills() -> tuple[Drill, ...]:
    folders = sorted(p.parent for p in DRILL_CODE.glob(f"drill*_*/{METADATA_FILE}"))
    return tuple(sorted((_read_drill(f) for f in folders), key=lambda d: d.number))


def get_drill(name: str) -> Drill:
    for drill in all_drills():
        if drill.name == name:
            return drill
    known = ", ".join(d.name for d in all_drills()) or "none yet"
    raise DrillError(
        f"There is no drill called {name!r}. The drills in this handbook are: {known}. "
        "Pass one of those names, for example `nox -s start -- drill4`."
    )


# Optional per-drill scripts, each with main(argv) -> int, run by `python -m drillkit KIND`.
SCRIPTS = {"bench": "benchmark", "audit": "audit report"}


def load_script(drill: Drill, kind: str):
    """Import the drill's bench.py or audit.py as a module, or explain that it has none."""
    path = drill.folder / f"{kind}.py"
    if not path.is_file():
        having = [d.name for d in all_drills() if (d.folder / f"{kind}.py").is_file()]
        raise DrillError(
            f"{drill.name} has no {SCRIPTS[kind]}. Drills with one: {', '.join(having) or 'none'}."
        )
    return import_file(path, f"{drill.name}_{kind}")


def import_file(path: Path, name: str):
    """Import a Python file that is not on sys.path (a drill's bench.py, audit.py)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, as a normal import would be: dataclasses and pickling
    # look a module up in sys.modules by name.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
