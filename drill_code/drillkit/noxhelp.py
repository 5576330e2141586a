"""What the noxfile says about a session that does not exist (`nox -s drill9`).

nox itself only answers "Sessions not found". The noxfile registers, for each unknown
name on its command line, a session that fails with this paragraph instead. Standard
library only: the noxfile imports it before any virtualenv exists.
"""

from __future__ import annotations

import re

from drillkit.catalog import all_drills

SESSION_FLAGS = ("-s", "--session", "--sessions", "-e")


def requested_sessions(argv: list[str]) -> list[str]:
    """The session names given with -s/--session/--sessions/-e in nox's arguments."""
    names, taking = [], False
    for arg in argv:
        if arg == "--":
            break
        flag, equals, value = arg.partition("=")
        if equals and flag in SESSION_FLAGS:
            names.append(value)
            taking = False
        elif arg in SESSION_FLAGS:
            taking = True
        elif arg.startswith("-"):
            taking = False
        elif taking:
            names.append(arg)
    return names


def unknown_session_message(name: str, known: list[str]) -> str:
    drills = ", ".join(drill.name for drill in all_drills())
    if re.fullmatch(r"drill\d+", name):
        return (
            f"There is no {name}: the drills in this handbook are {drills}. Run one with "
            f"`nox -s drill4`; `nox -l` lists every session."
        )
    return (
        f"There is no session {name!r}. The sessions are: {', '.join(sorted(known))}. "
        "`nox -l` lists them with what each does."
    )
