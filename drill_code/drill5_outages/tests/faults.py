"""Database faults a test can switch on and off: the same calls on SQLite and PostgreSQL.

* On PostgreSQL the tests reach the server through drillkit's FaultProxy, so a cut is a
  real one: sockets are reset, psycopg raises its own errors, and the server rolls back
  whatever transaction the dropped connection had open.
* On SQLite there is no network to cut, so the fault sits in Django's
  `connection.execute_wrapper` hook and raises the OperationalError a lost database
  raises. https://docs.djangoproject.com/en/5.2/topics/db/instrumentation/

Both count `attempts`: how often the code under test reached for the database while it
was cut (statements tried, plus, on PostgreSQL, connections the proxy had to refuse).
"""

from __future__ import annotations

import re
import time

from django.db import OperationalError

from drillkit.faultproxy import FaultProxy

# What a client library reports when its server has gone. Tests check that nothing of
# this text reaches an API response.
SQLITE_OUTAGE_MESSAGE = (
    'connection to server at "127.0.0.1", port 5432 failed: Connection refused '
    "(simulated on SQLite by the drill's fault injector)"
)
WRITE_STATEMENT = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


class DatabaseFaults:
    """The switchboard. Install it with `connection.execute_wrappers.append(faults)`."""

    def __init__(self, proxy: FaultProxy | None) -> None:
        self.proxy = proxy  # None on SQLite
        self.is_cut = False
        self.was_cut = False
        self.delay = 0.0
        self._statements_while_cut = 0
        self._refused_before_cut = 0
        self._refused_in_earlier_cuts = 0
        self._writes_until_cut: int | None = None

    # -- the faults -------------------------------------------------------------------

    def cut(self) -> None:
        """The database is gone: every connection drops, every new one is refused."""
        if self.is_cut:
            return
        self.is_cut = self.was_cut = True
        if self.proxy is not None:
            self._refused_before_cut = self.proxy.stats.refused
            self.proxy.cut()

    def slow(self, seconds: float) -> None:
        """Every round trip to the database takes `seconds` longer (it still answers)."""
        self.delay = seconds
        if self.proxy is not None:
            self.proxy.latency(seconds / 2)  # the proxy delays each direction

    def cut_before_write(self, number: int) -> None:
        """Cut the database just before the `number`-th INSERT/UPDATE/DELETE from now:
        the outage lands in the middle of a request, between two of its writes."""
        self._writes_until_cut = number

    def restore(self) -> None:
        """The database is back. Connections dropped by the cut stay dropped."""
        if self.is_cut and self.proxy is not None:
            self._refused_in_earlier_cuts += self.proxy.stats.refused - self._refused_before_cut
        self.is_cut = False
        self.delay = 0.0
        self._writes_until_cut = None
        if self.proxy is not None:
            self.proxy.restore()

    @property
    def attempts(self) -> int:
        """How often the code reached for the database while it was cut."""
        refused = self._refused_in_earlier_cuts
        if self.is_cut and self.proxy is not None:
            refused += self.proxy.stats.refused - self._refused_before_cut
        return self._statements_while_cut + refused

    # -- the execute wrapper ------------------------------------------------------------

    # --8<-- [start:wrapper]
    def __call__(self, execute, sql, params, many, context):
        if self._writes_until_cut is not None and WRITE_STATEMENT.match(sql):
            self._writes_until_cut -= 1
            if self._writes_until_cut == 0:
                self._writes_until_cut = None
                self.cut()
        if self.is_cut:
            self._statements_while_cut += 1
            if self.proxy is None:
                raise OperationalError(SQLITE_OUTAGE_MESSAGE)
            # On PostgreSQL the statement goes to a socket the proxy has reset, and
            # psycopg raises the real error.
        elif self.delay and self.proxy is None:
            time.sleep(self.delay)
        return execute(sql, params, many, context)

    # --8<-- [end:wrapper]
