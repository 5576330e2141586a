"""Database faults a test can switch on and off: the same calls on SQLite and PostgreSQL.

* On PostgreSQL the tests reach the server through drillkit's FaultProxy, so a cut is a
  real one: sockets are reset, psycopg raises its own errors, and the server rolls back
  whatever transaction the dropped connection had open.
* On SQLite there is no network to cut, so the fault sits in Django's
  `connection.execute_wrapper` hook and raises the OperationalError a lost database
  raises. https://docs.djangoproject.com/en/5.2/topics/db/instrumentation/

Both count `attempts`: how often the code under test reached for the database while it
was cut or hung (statements tried, plus, on PostgreSQL, connections the proxy refused or
held). The switchboard joins every connection the process opens, in any thread, through
Django's `connection_created` signal, so a request served in another thread meets the
same faults.
"""

from __future__ import annotations

import re
import threading
import time

from django.db import OperationalError

from drillkit.faultproxy import FaultProxy

# What a client library reports when its server has gone. Tests check that nothing of
# this text reaches an API response.
SQLITE_OUTAGE_MESSAGE = (
    'connection to server at "127.0.0.1", port 5432 failed: Connection refused '
    "(simulated on SQLite by the drill's fault injector)"
)
# What a client-side timeout reports when the server accepted the connection and never
# answered.
SQLITE_HANG_MESSAGE = "timeout expired (simulated on SQLite by the drill's fault injector)"
# How long a statement may hang on SQLite before the injector gives up on its own, so a
# target without any timeout cannot hold a test forever.
SQLITE_HANG_LIMIT = 10.0
WRITE_STATEMENT = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


class DatabaseFaults:
    """The switchboard. Install it with `connection.execute_wrappers.append(faults)`, and
    connect `faults.join` to `connection_created` for connections of other threads."""

    def __init__(self, proxy: FaultProxy | None) -> None:
        self.proxy = proxy  # None on SQLite
        self.is_cut = False
        self.is_hung = False
        self.was_cut = False
        self.delay = 0.0
        self._statements_while_cut = 0
        self._refused_before_cut = 0
        self._refused_in_earlier_cuts = 0
        self._lock = threading.Lock()
        self._released = threading.Event()
        self.hanging = threading.Event()  # set once a statement is held by hang()
        self._hung_before = 0
        self._writes_until_action: int | None = None
        self._action = None

    # -- the faults -------------------------------------------------------------------

    def cut(self) -> None:
        """The database is gone: every connection drops, every new one is refused."""
        if self.is_cut:
            return
        self._settle()
        self.is_cut = self.was_cut = True
        self.is_hung = False
        self._released.set()
        if self.proxy is not None:
            self.proxy.cut()

    def hang(self) -> None:
        """The database accepts connections and never answers, until restore().

        On PostgreSQL the proxy drops open connections and holds new ones silently: only
        a client-side timeout ends the wait. On SQLite a statement blocks, and after
        restore() (or SQLITE_HANG_LIMIT) fails as a timed-out one would.
        """
        self._settle()
        self.is_hung = self.was_cut = True
        self.is_cut = False
        self._released.clear()
        if self.proxy is not None:
            self._hung_before = self.proxy.stats.hung
            self.proxy.restore()  # a cut would refuse connections that hang() must hold
            self.proxy.hang()

    def slow(self, seconds: float) -> None:
        """Every round trip to the database takes `seconds` longer (it still answers)."""
        self.delay = seconds
        if self.proxy is not None:
            self.proxy.latency(seconds / 2)  # the proxy delays each direction

    def cut_before_write(self, number: int) -> None:
        """Cut the database just before the `number`-th INSERT/UPDATE/DELETE from now:
        the outage lands in the middle of a request, between two of its writes."""
        self.before_write(number, self.cut)

    def before_write(self, number: int, action) -> None:
        """Run `action()` just before the `number`-th INSERT/UPDATE/DELETE from now, in
        the thread about to run it, which waits until `action` returns."""
        self._writes_until_action, self._action = number, action

    def restore(self) -> None:
        """The database is back. Connections dropped by the cut stay dropped."""
        self._settle()
        self.is_cut = self.is_hung = False
        self._released.set()
        self.delay = 0.0
        self._writes_until_action = self._action = None
        if self.proxy is not None:
            self.proxy.restore()

    def _settle(self) -> None:
        """Bank the proxy's count for the fault that is ending, and start a new one."""
        if self.proxy is None:
            return
        if self.is_cut or self.is_hung:
            self._refused_in_earlier_cuts += self._proxy_attempts() - self._refused_before_cut
        self._refused_before_cut = self._proxy_attempts()

    def _proxy_attempts(self) -> int:
        assert self.proxy is not None
        return self.proxy.stats.refused + self.proxy.stats.hung

    @property
    def attempts(self) -> int:
        """How often the code reached for the database while it was cut or hung."""
        refused = self._refused_in_earlier_cuts
        if (self.is_cut or self.is_hung) and self.proxy is not None:
            refused += self._proxy_attempts() - self._refused_before_cut
        return self._statements_while_cut + refused

    def wait_until_hanging(self, timeout: float = 5.0) -> bool:
        """Block until some code is held by hang(): a statement (SQLite) or a connection
        (PostgreSQL). True if it happened within `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.hanging.is_set() or (
                self.proxy is not None and self.proxy.stats.hung > self._hung_before
            ):
                return True
            time.sleep(0.005)
        return False

    # -- every connection of the process ------------------------------------------------

    def join(self, sender, connection, **kwargs) -> None:
        """`connection_created` receiver: a connection opened in any thread gets faults."""
        if self not in connection.execute_wrappers:
            connection.execute_wrappers.append(self)

    # -- the execute wrapper ------------------------------------------------------------

    # --8<-- [start:wrapper]
    def __call__(self, execute, sql, params, many, context):
        if self._writes_until_action is not None and WRITE_STATEMENT.match(sql):
            self._writes_until_action -= 1
            if self._writes_until_action == 0:
                action, self._writes_until_action, self._action = self._action, None, None
                action()
        if self.is_cut or self.is_hung:
            with self._lock:
                self._statements_while_cut += 1
            if self.proxy is None and self.is_hung:
                self.hanging.set()
                self._released.wait(SQLITE_HANG_LIMIT)
                raise OperationalError(SQLITE_HANG_MESSAGE)
            if self.proxy is None:
                raise OperationalError(SQLITE_OUTAGE_MESSAGE)
            # On PostgreSQL the statement goes to a socket the proxy has reset, and
            # psycopg raises the real error.
        elif self.delay and self.proxy is None:
            time.sleep(self.delay)
        return execute(sql, params, many, context)

    # --8<-- [end:wrapper]
