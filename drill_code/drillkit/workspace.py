"""`nox -s start -- drillN`: copy a drill's starter into the learner's workspace."""

from __future__ import annotations

import shlex
import shutil
from datetime import datetime
from pathlib import Path

from drillkit.catalog import PROJECT_ROOT, all_drills, get_drill, shown
from drillkit.errors import DrillError

WORKSPACE = PROJECT_ROOT / "workspace"
# Byte-code and local databases are not part of a starter; copying them would only confuse.
_NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.sqlite3")
START_OPTIONS = ("--force",)


def parse_start_args(args: list[str]) -> tuple[str, bool]:
    """`nox -s start -- drill4 [--force]` -> ("drill4", force), or one paragraph saying
    what is wrong with the arguments."""
    unknown = [arg for arg in args if arg.startswith("-") and arg not in START_OPTIONS]
    if unknown:
        raise DrillError(
            f"`nox -s start` does not know {' '.join(unknown)}: it takes a drill name and, "
            "optionally, --force (which moves an existing copy aside), e.g. "
            "`nox -s start -- drill4 --force`."
        )
    names = [arg for arg in args if not arg.startswith("-")]
    if len(names) != 1:
        known = ", ".join(drill.name for drill in all_drills())
        given = f" (you gave {len(names)}: {' '.join(names)})" if names else ""
        raise DrillError(
            f"Name one drill to start{given}, e.g. `nox -s start -- drill4`. Drills: {known}."
        )
    return names[0], "--force" in args


def start(name: str, *, force: bool = False, workspace: Path = WORKSPACE) -> str:
    """Copy the starter and return a message saying what happened and what to run next.

    An existing copy is never deleted: `force` moves it aside under a dated name first.
    """
    drill = get_drill(name)
    destination = workspace / drill.name
    typed = shlex.quote(shown(destination))
    moved = ""
    if destination.exists():
        if not force:
            raise DrillError(
                f"{shown(destination)} already exists, so nothing was copied: it may hold "
                f"your work. Keep going with `nox -s {drill.name} -- --target {typed}`, or "
                f"start over with `nox -s start -- {drill.name} --force`, which moves your "
                "copy aside (nothing is deleted)."
            )
        stamp = f"{drill.name}.{datetime.now():%Y%m%d-%H%M%S}"
        backup = destination.with_name(stamp)
        number = 1
        while backup.exists():  # two --force runs in the same second
            number += 1
            backup = destination.with_name(f"{stamp}-{number}")
        _writing(workspace, lambda: destination.rename(backup))
        moved = f"Your previous copy is now in {shown(backup)}.\n"
    try:
        _writing(workspace, lambda: shutil.copytree(drill.starter, destination, ignore=_NOT_COPIED))
    except DrillError:
        # A half-made copy would later pass for the learner's work: take it away again.
        shutil.rmtree(destination, ignore_errors=True)
        raise
    return (
        f"{moved}Copied the {drill.title} starter to {shown(destination)}.\n"
        f"Read the brief in the handbook, then check your copy with:\n"
        f"    nox -s {drill.name} -- --target {typed}"
    )


def _writing(workspace: Path, action) -> None:
    """Run a step that writes to the workspace; a refusal becomes one paragraph."""
    try:
        action()
    except (OSError, shutil.Error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise DrillError(
            f"Could not write the copy in {shown(workspace)}: {reason}. Make that folder "
            "writable for you (or free some space), then run `nox -s start` again. Nothing "
            "of yours was deleted."
        ) from exc
