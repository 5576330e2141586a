"""`nox -s start -- drillN`: copy a drill's starter into the learner's workspace."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

from drillkit.catalog import PROJECT_ROOT, get_drill, shown
from drillkit.errors import DrillError

WORKSPACE = PROJECT_ROOT / "workspace"
# Byte-code and local databases are not part of a starter; copying them would only confuse.
_NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.sqlite3")


def start(
    name: str,
    *,
    force: bool = False,
    workspace: Path = WORKSPACE,
    mix: bool = False,
    seed: int | None = None,
    into: Path | None = None,
) -> str:
    """Copy the starter (or, with `mix`, a fresh mix of flaws) and return a message
    saying what happened and what to run next.

    An existing copy is never deleted: `force` moves it aside under a dated name first.
    """
    drill = get_drill(name)
    # `into` places the copy elsewhere, e.g. attempts/<person>/drill4 in a team repository.
    destination = into if into is not None else workspace / drill.name
    moved = ""
    if destination.exists():
        if not force:
            raise DrillError(
                f"{shown(destination)} already exists, so nothing was copied: it may hold "
                f"your work. Keep going with `nox -s {drill.name} -- --target "
                f"{shown(destination)}`, or start over with `nox -s start -- {drill.name} "
                "--force`, which moves your copy aside (nothing is deleted)."
            )
        stamp = f"{drill.name}.{datetime.now():%Y%m%d-%H%M%S}"
        backup = destination.with_name(stamp)
        number = 1
        while backup.exists():  # two --force runs in the same second
            number += 1
            backup = destination.with_name(f"{stamp}-{number}")
        destination.rename(backup)
        moved = f"Your previous copy is now in {shown(backup)}.\n"
    if mix or seed is not None:
        return moved + _start_mix(drill, destination, seed)
    shutil.copytree(drill.starter, destination, ignore=_NOT_COPIED)
    return (
        f"{moved}Copied the {drill.title} starter to {shown(destination)}.\n"
        f"Read the brief in the handbook, then check your copy with:\n"
        f"    nox -s {drill.name} -- --target {shown(destination)}"
    )


def _start_mix(drill, destination: Path, seed: int | None) -> str:
    from drillkit import mixes
    from drillkit.attempt import ATTEMPT_FILE

    seed = mixes.new_seed() if seed is None else seed
    mix = mixes.draw(drill, seed)
    mixes.make_copy(mix, destination)
    record = destination / ATTEMPT_FILE
    record.parent.mkdir(exist_ok=True)
    # Only the seed: the flaws are recomputed from it, so the copy names none of them.
    record.write_text(json.dumps({"mix": {"seed": seed}}, indent=2), encoding="utf-8")
    return (
        f"Made a fresh mix of {drill.title} in {shown(destination)}: the reference solution "
        f"with {len(mix.variants)} of the drill's {len(drill.flaws)} planted flaws put back. "
        f"Which ones is for you to find.\n"
        f"Its seed is {seed}: `nox -s start -- {drill.name} --mix --seed {seed}` gives anyone "
        f"the same mix.\nCheck it without naming the flaws:\n"
        f"    nox -s {drill.name} -- --target {shown(destination)} --blind"
    )
