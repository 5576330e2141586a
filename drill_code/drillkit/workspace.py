"""`nox -s start -- drillN`: copy a drill's starter into the learner's workspace."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from drillkit.catalog import PROJECT_ROOT, get_drill, shown
from drillkit.errors import DrillError

WORKSPACE = PROJECT_ROOT / "workspace"
# Byte-code and local databases are not part of a starter; copying them would only confuse.
_NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.sqlite3")


def start(name: str, *, force: bool = False, workspace: Path = WORKSPACE) -> str:
    """Copy the starter and return a message saying what happened and what to run next.

    An existing copy is never deleted: `force` moves it aside under a dated name first.
    """
    drill = get_drill(name)
    destination = workspace / drill.name
    moved = ""
    if destination.exists():
        if not force:
            raise DrillError(
                f"{shown(destination)} already exists, so nothing was copied: it may hold "
                f"your work. Keep going with `nox -s {drill.name} -- --target "
                f"{shown(destination)}`, or start over with `nox -s start -- {drill.name} "
                "--force`, which moves your copy aside (nothing is deleted)."
            )
        backup = destination.with_name(f"{drill.name}.{datetime.now():%Y%m%d-%H%M%S}")
        destination.rename(backup)
        moved = f"Your previous copy is now in {shown(backup)}.\n"
    shutil.copytree(drill.starter, destination, ignore=_NOT_COPIED)
    return (
        f"{moved}Copied the {drill.title} starter to {shown(destination)}.\n"
        f"Read the brief in the handbook, then check your copy with:\n"
        f"    nox -s {drill.name} -- --target {shown(destination)}"
    )
