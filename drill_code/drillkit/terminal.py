"""Showing progress of long work: what it is doing, and how far along it is.

On a terminal, `rich` draws a progress bar (or a spinner where the amount of work is not
known); anywhere else, as in CI logs or a pipe, each step is one plain line on stderr.
Used by the loop benchmark and by `benchkit.run_in_target`; anything that takes more than
a few seconds (variant proofs, grading) can use it the same way:

    with steps(len(jobs), "variants") as advance:
        for job in jobs:
            run(job)
            advance(f"{job.name}: rejected")
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def _console():
    try:
        from rich.console import Console
    except ImportError:  # a virtualenv without rich: plain lines are enough
        return None
    console = Console(stderr=True)
    return console if console.is_terminal else None


@contextmanager
def steps(total: int, title: str) -> Iterator[Callable[[str], None]]:
    """Yields advance(description), to call after each of `total` steps."""
    console = _console()
    if console is None:
        done = [0]

        def advance_plain(description: str) -> None:
            done[0] += 1
            print(f"[{done[0]}/{total}] {description}", file=sys.stderr, flush=True)

        yield advance_plain
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(title, total=total)
        yield lambda description: bar.update(task, advance=1, description=description)


@contextmanager
def status(description: str) -> Iterator[None]:
    """One piece of work of unknown length: a spinner with the time so far on a terminal,
    a line before and after it elsewhere."""
    console = _console()
    started = time.perf_counter()
    if console is None:
        print(f"{description} ...", file=sys.stderr, flush=True)
        yield
        print(f"{description}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        return
    with console.status(description):
        yield
