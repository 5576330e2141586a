"""Running code inside one target's Django project, for benchmarks and generated reports.

Each target of a drill (starter, solution, a learner's copy) is its own Django project,
so one process cannot load two of them. `run_in_target()` runs a function in a fresh
Python process with the target activated, Django set up and an empty database migrated,
and returns what the function returned (anything JSON can carry):

    def measure(sizes):                     # at module level in the drill's bench.py
        from bookstore.models import Book   # the target's app: import it inside
        ...
        return {"rows": [...]}

    starter = resolve_target(drill, "starter")
    result = run_in_target(starter, measure, sizes=[10, 100])

The database is the one the tests use (SQLite in memory, or PostgreSQL when
DATABASE_URL is set), under its own name (`bench_<drill>_<target>`), so a benchmark
never drops the database of a test run going on at the same time.

`median_seconds()` times a call, and `markdown_table()` prints results as a table that
reads well in a terminal and renders on the handbook's pages.
"""

from __future__ import annotations

import gc
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from drillkit.catalog import DRILL_CODE, get_drill, import_file, shown
from drillkit.errors import DrillError
from drillkit.targets import BUILT_IN, Target, activate, resolve_target
from drillkit.terminal import status

_TRACEBACK_LINES = 25


def run_in_target(target: Target, function: Callable[..., Any], /, **kwargs: Any) -> Any:
    """Call `function(**kwargs)` inside `target`'s Django project, in a subprocess.

    `function` must be defined at module level in a file (the drill's bench.py), and its
    arguments and result must be JSON. A failure in the subprocess becomes a DrillError
    that shows the end of its traceback.
    """
    source = inspect.getsourcefile(function)
    if source is None or function.__qualname__ != function.__name__:
        raise TypeError("run_in_target() needs a function defined at module level in a file")
    with tempfile.TemporaryDirectory(prefix="drillkit-bench-") as scratch:
        job, result = Path(scratch, "job.json"), Path(scratch, "result.json")
        job.write_text(
            json.dumps(
                {
                    "drill": target.drill.name,
                    "target": target.label if target.label in BUILT_IN else str(target.path),
                    "file": source,
                    "function": function.__name__,
                    "kwargs": kwargs,
                    "result": str(result),
                }
            )
        )
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(DRILL_CODE), env.get("PYTHONPATH")) if p
        )
        with status(f"{function.__name__}() in {target.drill.name}'s {target.label}"):
            done = subprocess.run(
                [sys.executable, "-m", "drillkit.benchkit", str(job)],
                env=env,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-_TRACEBACK_LINES:])
            raise DrillError(
                f"{function.__name__}() failed inside {target.drill.name}'s {target.label} "
                f"({shown(target.path)}). If that is your copy, the end of the error below "
                f"points at the line to fix:\n\n{tail}"
            )
        return json.loads(result.read_text())


def median_seconds(call: Callable[[], object], *, repeat: int = 5, warmup: int = 1) -> float:
    """The median wall-clock time of `call()` over `repeat` runs, after `warmup` runs.

    The garbage collector is paused while timing, as `timeit` does, so a collection
    triggered by earlier work does not land on one target's clock and not the other's.
    """
    for _ in range(warmup):
        call()
    timings = []
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for _ in range(max(1, repeat)):
            start = time.perf_counter()
            call()
            timings.append(time.perf_counter() - start)
    finally:
        if was_enabled:
            gc.enable()
    return statistics.median(timings)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A pipe table; columns whose cells are all numbers are right-aligned."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(_is_number(row[i]) for row in cells[1:]) and len(cells) > 1 for i in range(len(headers))
    ]

    columns = list(zip(widths, numeric, strict=True))

    def line(row):
        padded = (
            c.rjust(w) if num else c.ljust(w) for c, (w, num) in zip(row, columns, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ":" if num else "-" * (w + 2) for w, num in columns)
    rule += "|"
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _is_number(text: str) -> bool:
    try:
        float(text.rstrip("x%").replace(",", ""))
    except ValueError:
        return False
    return True


# -- the subprocess side -----------------------------------------------------------------


def _child(job_file: str) -> int:
    job = json.loads(Path(job_file).read_text())
    try:
        target = resolve_target(get_drill(job["drill"]), job["target"])
        activate(target)
    except DrillError as problem:
        print(problem, file=sys.stderr)
        return 2
    label = target.label if target.label in BUILT_IN else "copy"
    os.environ["DRILLKIT_TEST_DATABASE"] = f"bench_{target.drill.name}_{label}"

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    module = import_file(Path(job["file"]), f"bench_{target.drill.name}")
    function = getattr(module, job["function"])

    setup_test_environment()
    original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        result = function(**job["kwargs"])
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0)
        teardown_test_environment()
    Path(job["result"]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1]))
