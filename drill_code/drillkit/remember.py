"""Slow checks that passed on exactly the same inputs are not run again on a warm machine.

A check here (a proof, a drill's results, the browser check, a grading run) is a pure
function of files (a drill, the harness, the built site, the dependency bounds), of the
Python and the exact package versions it runs with, and of where it runs (the database
and broker, CI). When it passes, what it found is kept under
.cache/drillkit/ (git-ignored), named after the digest of all its inputs; the next run
with the same digest says so instead of running it again. A change to any input gives
another digest, and the check runs. A fresh clone, as CI uses, remembers nothing and runs
everything; DRILLKIT_FRESH=1 ignores what was kept, anywhere.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from importlib import metadata
from pathlib import Path

from drillkit.catalog import PROJECT_ROOT

MEMORY = PROJECT_ROOT / ".cache" / "drillkit"
HARNESS = Path(__file__).parent
PYPROJECT = PROJECT_ROOT / "pyproject.toml"
NOXFILE = PROJECT_ROOT / "noxfile.py"
# Where a check ran: the same proof on SQLite and on PostgreSQL are two proofs.
WHERE = ("DATABASE_URL", "CELERY_BROKER_URL", "DRILLKIT_DATABASE", "DRILLKIT_SQLITE_PASS", "CI")
NEVER_INPUTS = {"__pycache__", ".drillkit", ".pytest_cache"}


def digest(*inputs: Path | str, skip: frozenset[str] = frozenset()) -> str:
    """The digest of files (a folder: every file in it, but folders named in `skip`),
    words such as a browser's version, the Python and its installed packages, and where
    the check runs."""
    h = hashlib.sha256(sys.version.encode())
    h.update(installed_packages().encode())
    for source in inputs:
        if isinstance(source, str):
            h.update(f"text:{source};".encode())
            continue
        files = [source] if source.is_file() else sorted(source.rglob("*"))
        for path in files:
            parts = set(path.relative_to(source).parts) if path != source else set()
            if path.is_file() and not parts & (NEVER_INPUTS | skip):
                h.update(f"file:{_shown(path)};".encode() + path.read_bytes())
    for name in WHERE:
        h.update(f"{name}={os.environ.get(name, '')};".encode())
    return h.hexdigest()[:24]


def harness_digest() -> str:
    """The harness's code, the nox sessions that call it and the dependency bounds,
    without the harness's own tests: a change to those reruns them, not every drill's
    proofs."""
    return digest(HARNESS, PYPROJECT, NOXFILE, skip=frozenset({"tests"}))


@functools.cache
def installed_packages() -> str:
    """Every distribution this Python imports from, with its exact version: a bound in
    pyproject.toml admits many releases, and an upgrade within it must run checks again."""
    found = {
        f"{dist.metadata['Name']}=={dist.version}".lower() for dist in metadata.distributions()
    }
    return ";".join(sorted(found))


def _shown(path: Path) -> str:
    # Relative to the checkout, so that two clones of the same commit agree.
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _entry(check: str, key: str) -> Path:
    return MEMORY / check / f"{key}.json"


def recall(check: str, key: str):
    """What `check` found when it last passed on these inputs, or None."""
    entry = _entry(check, key)
    if os.environ.get("DRILLKIT_FRESH") == "1" or not entry.is_file():
        return None
    try:
        return json.loads(entry.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # a half-written or damaged entry: run the check
        return None


def keep(check: str, key: str, found=True) -> None:
    """Keep what a check that passed found (JSON), for the next run on the same inputs."""
    entry = _entry(check, key)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        partial = entry.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(found), encoding="utf-8")
        partial.replace(entry)  # whole or not at all, even with two runs at once
    except OSError:
        pass  # a read-only checkout only loses the shortcut
