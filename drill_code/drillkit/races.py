"""Real concurrent requests, with the bad interleaving forced instead of hoped for.

`run_concurrently()` sends each request from its own thread, with its own database
connection, all released at once by a `threading.Barrier`. That alone makes a race
likely, not certain: one request may finish before the next one starts. So every thread
is also held just before it first writes to one of the chosen tables, until each of the
others has either reached the same point, finished, or is waiting for a row lock that a
held thread owns. On code with a race, every request has read the old value before anyone writes:
the race happens every run. On correct code nothing is lost: a request that waits for a
lock is not waited for, and the held ones go on and release it.

Knowing which requests wait for a lock needs PostgreSQL's pg_stat_activity, and SQLite
has no row locks to wait for: tests that use this are marked `postgres`.

Drill 3 grew this first (its tests/races.py); it lives here so that every drill with a
read-modify-write race tests it the same way.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection

GATE_TIMEOUT_SECONDS = 30
POLL_SECONDS = 0.005


class WriteGate:
    """Holds each thread before its first INSERT, UPDATE or DELETE on one of `tables`."""

    def __init__(self, tables: Iterable[str], parties: int) -> None:
        self.parties = parties
        names = "|".join(re.escape(table) for table in tables)
        self._writes = re.compile(
            rf'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?({names})"?[\s(]',
            re.IGNORECASE,
        )
        self._lock = threading.Condition()
        self.backend_pids: dict[int, int | None] = {}  # party -> its backend, as of now
        self.arrived: set[int] = set()
        self.finished: set[int] = set()
        self.open = False

    def wrapper(self, party: int):
        """A Django execute_wrapper for one thread's connection."""
        held = False

        def execute(execute_, sql, params, many, context):
            nonlocal held
            # Note the backend on every statement, not once per thread: Django may close
            # and reopen a thread's connection between statements (the test client's
            # request signals run close_old_connections(), and CONN_MAX_AGE=0 closes), and
            # a stale pid would hide this thread's lock wait from the coordinator.
            self.backend_pids[party] = _backend_pid(context["connection"])
            if not held and self._writes.match(sql):
                held = True
                with self._lock:
                    self.arrived.add(party)
                    self._lock.notify_all()
                    if not self._lock.wait_for(lambda: self.open, GATE_TIMEOUT_SECONDS):
                        raise RuntimeError("the write gate never opened (test harness bug)")
            return execute_(sql, params, many, context)

        return execute

    def finish(self, party: int) -> None:
        with self._lock:
            self.finished.add(party)
            self._lock.notify_all()

    def coordinate(self, monitor) -> None:
        """Run in the test's own thread: open the gate once nobody else can get there."""
        deadline = time.monotonic() + GATE_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.finished) == self.parties:
                    return
                if self.open:
                    self._lock.wait(POLL_SECONDS * 20)
                    continue
                pending = set(range(self.parties)) - self.arrived - self.finished
                if self.arrived and not pending:
                    self._open()
                    continue
            if self.arrived and pending <= self._waiting_for_a_lock(monitor, pending):
                with self._lock:
                    self._open()
                continue
            time.sleep(POLL_SECONDS)
        raise RuntimeError(f"concurrent requests did not finish in {GATE_TIMEOUT_SECONDS} s")

    def _open(self) -> None:
        self.open = True
        self._lock.notify_all()

    def _waiting_for_a_lock(self, monitor, parties: set[int]) -> set[int]:
        pids = {self.backend_pids[p]: p for p in parties if self.backend_pids.get(p)}
        if not pids:
            return set()
        with monitor.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid = ANY(%s)",
                [list(pids)],
            )
            return {pids[pid] for (pid,) in cursor.fetchall()}


def _backend_pid(wrapper) -> int | None:
    """The PostgreSQL backend serving a Django connection wrapper right now."""
    if wrapper.vendor != "postgresql" or wrapper.connection is None:
        return None
    return wrapper.connection.info.backend_pid


def run_concurrently(calls: list[Callable[[], Any]], *, hold_before_writing_to) -> list[Any]:
    """Run every call at once, each in its own thread and database connection.

    `hold_before_writing_to` is the model whose table the race is about, or a tuple of
    models when the racing requests write to different tables (e.g. one books a ticket
    while another lowers the event's capacity). Returns the calls' results in order; an
    exception in a thread is raised here.
    """
    parties = len(calls)
    models = (
        hold_before_writing_to
        if isinstance(hold_before_writing_to, tuple | list)
        else (hold_before_writing_to,)
    )
    gate = WriteGate([model._meta.db_table for model in models], parties)
    start_line = threading.Barrier(parties)
    results: list[Any] = [None] * parties
    errors: list[BaseException] = []

    def run(party: int, call: Callable[[], Any]) -> None:
        try:
            start_line.wait(timeout=GATE_TIMEOUT_SECONDS)
            with connection.execute_wrapper(gate.wrapper(party)):
                results[party] = call()
        except BaseException as exc:  # re-raised in the test's thread below
            errors.append(exc)
        finally:
            connection.close()  # every thread opened its own connection: close it
            gate.finish(party)

    threads = [
        threading.Thread(target=run, args=(party, call), name=f"request-{party}")
        for party, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    try:
        gate.coordinate(connection)
    finally:
        for thread in threads:
            thread.join(GATE_TIMEOUT_SECONDS)
    if errors:
        raise errors[0]
    return results
