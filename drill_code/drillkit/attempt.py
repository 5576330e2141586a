"""What the harness remembers about one attempt, kept inside the learner's copy.

`.drillkit/attempt.json` travels with the copy (into a team repository too) and records
what scorecards need and no later run could recover: when the findings were scored, and
whether any run had named the flaws before that; the latest grade of the learner's own
tests. The harness only ever writes this one file of the copy.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from drillkit.targets import Target

ATTEMPT_FILE = Path(".drillkit") / "attempt.json"


def _path(target: Target) -> Path | None:
    # The solution and the starter in drill_code/ are not attempts.
    return None if target.label in ("solution", "starter") else target.path / ATTEMPT_FILE


def load(copy: Path) -> dict:
    path = copy / ATTEMPT_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _update(target: Target, **fields) -> None:
    path = _path(target)
    if path is None:
        return
    record = load(target.path)
    record.update(fields)
    try:
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")
    except OSError:
        pass  # a read-only copy still gets its results on screen; only the record is lost


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def note_test_run(target: Target, *, blind: bool) -> None:
    """A run that names the flaws ends the blind part of the attempt."""
    if not blind and "first_named_run" not in load(target.path):
        _update(target, first_named_run=_now())


def note_findings(target: Target, located: int, total: int, unmatched: int) -> None:
    record = load(target.path)
    score = {
        "located": located,
        "of": total,
        "unmatched": unmatched,
        "scored": _now(),
        # Scored before any run had named a flaw: an audit, not a recollection.
        "blind": "first_named_run" not in record,
    }
    if record.get("findings", {}).get("blind") and not score["blind"]:
        # The blind score is the audit score; a later one, after the flaws were named,
        # is kept beside it and never replaces it.
        _update(target, findings_after_reveal=score)
    else:
        _update(target, findings=score)


def note_grade(target: Target, grade) -> None:
    _update(target, own_tests={**grade.figures(), "graded": _now()})


def note_assistant_findings(
    target: Target, findings_file: Path, located: int, total: int, unmatched: int
) -> None:
    """An assistant's review, scored with the same yardstick as the learner's findings."""
    _update(
        target,
        assistant_findings={
            "file": findings_file.name,
            "located": located,
            "of": total,
            "unmatched": unmatched,
            "scored": _now(),
        },
    )
