"""`nox -s start -- drillN`: copy a drill's starter into the learner's workspace."""

from __future__ import annotations

import json
import shlex
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from drillkit.catalog import PROJECT_ROOT, all_drills, get_drill, shown
from drillkit.errors import DrillError

WORKSPACE = PROJECT_ROOT / "workspace"
# Byte-code and local databases are not part of a starter; copying them would only confuse.
_NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.sqlite3")
START_USAGE = (
    "`nox -s start -- DRILL [--force] [--mix [--seed N]] [--into FOLDER]`, e.g. "
    "`nox -s start -- drill4`"
)


@dataclass(frozen=True)
class StartRequest:
    name: str
    force: bool = False
    mix: bool = False
    seed: int | None = None
    into: Path | None = None


def parse_start_args(args: list[str]) -> StartRequest:
    """`nox -s start -- drill4 [--force] [--mix [--seed N]] [--into FOLDER]` as a request,
    or one paragraph saying what is wrong with the arguments."""
    names, options, rest = [], {}, list(args)
    while rest:
        arg = rest.pop(0)
        if arg in ("--force", "--mix"):
            options[arg[2:]] = True
        elif arg in ("--seed", "--into"):
            if not rest or rest[0].startswith("-"):
                raise DrillError(f"{arg} needs a value: {START_USAGE}.")
            value = rest.pop(0)
            if arg == "--seed" and not value.isdigit():
                raise DrillError(f"--seed takes a whole number, not {value!r}: {START_USAGE}.")
            options[arg[2:]] = int(value) if arg == "--seed" else Path(value)
        elif arg.startswith("-"):
            raise DrillError(
                f"`nox -s start` does not know {arg}. It takes a drill name and, optionally, "
                "--force (moves an existing copy aside), --mix [--seed N] (a fresh mix of the "
                f"drill's flaws) and --into FOLDER: {START_USAGE}."
            )
        else:
            names.append(arg)
    if len(names) != 1:
        known = ", ".join(drill.name for drill in all_drills())
        given = f" (you gave {len(names)}: {' '.join(names)})" if names else ""
        raise DrillError(f"Name one drill to start{given}: {START_USAGE}. Drills: {known}.")
    return StartRequest(names[0], **options)


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
    destination = into.resolve() if into is not None else workspace / drill.name
    workspace = destination.parent
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
    planting = mix or seed is not None
    try:
        if planting:
            seed = _writing(workspace, lambda: _mix_into(drill, destination, seed))
        else:
            _writing(
                workspace,
                lambda: shutil.copytree(drill.starter, destination, ignore=_NOT_COPIED),
            )
    except DrillError:
        # A half-made copy would later pass for the learner's work: take it away again.
        shutil.rmtree(destination, ignore_errors=True)
        raise
    if planting:
        return moved + _mix_message(drill, destination, seed, typed)
    return (
        f"{moved}Copied the {drill.title} starter to {shown(destination)}.\n"
        f"Read the brief in the handbook, then check your copy with:\n"
        f"    nox -s {drill.name} -- --target {typed}"
    )


def _mix_into(drill, destination: Path, seed: int | None) -> int:
    """The reference solution with a drawn subset of flaws put back; returns the seed."""
    from drillkit import mixes
    from drillkit.attempt import ATTEMPT_FILE

    seed = mixes.new_seed() if seed is None else seed
    mix = mixes.draw(drill, seed)
    mixes.make_copy(mix, destination)
    record = destination / ATTEMPT_FILE
    record.parent.mkdir(exist_ok=True)
    # The seed and a digest of what made the copy: the flaws are recomputed from the seed,
    # so the copy names none of them.
    mark = {"seed": seed, "made_from": mix.made_from}
    record.write_text(json.dumps({"mix": mark}, indent=2), encoding="utf-8")
    return seed


def _mix_message(drill, destination: Path, seed: int, typed: str) -> str:
    from drillkit import mixes

    planted = len(mixes.draw(drill, seed).variants)
    return (
        f"Made a fresh mix of {drill.title} in {shown(destination)}: the reference solution "
        f"with {planted} of the drill's {len(drill.flaws)} planted flaws put back. Which ones "
        f"is for you to find.\nIts seed is {seed}: `nox -s start -- {drill.name} --mix --seed "
        f"{seed}` gives anyone the same mix.\nCheck it without naming the flaws:\n"
        f"    nox -s {drill.name} -- --target {typed} --blind"
    )


def _writing(workspace: Path, action):
    """Run a step that writes to the workspace; a refusal becomes one paragraph."""
    try:
        return action()
    except (OSError, shutil.Error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise DrillError(
            f"Could not write the copy in {shown(workspace)}: {reason}. Make that folder "
            "writable for you (or free some space), then run `nox -s start` again. Nothing "
            "of yours was deleted."
        ) from exc
