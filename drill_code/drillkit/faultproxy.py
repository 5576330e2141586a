"""A TCP proxy a test or a demo controls, to make a real dependency fail on purpose.

Point a client (a Django project, a load test) at the proxy instead of the server, then
switch faults on and off while it runs:

    with FaultProxy("127.0.0.1", 5432) as proxy:   # listens on 127.0.0.1:proxy.port
        proxy.cut()          # drop every open connection and refuse new ones
        proxy.latency(0.2)   # hold every chunk of data 0.2 s, in each direction
        proxy.hang()         # drop open connections; accept new ones and never answer
        proxy.restore()      # clean pass-through again

The faults are the ones a network or an overloaded server produces, seen from the
client's side of a real socket: the client library raises its real errors, and the
server really sees its connections go (PostgreSQL rolls back their open transactions).
It never stops or touches the server itself, so it is safe on a shared machine.

"Refused" here means accepted and reset at once: a client gets its error in
milliseconds, as when a server is down, instead of waiting in the listen backlog.

The proxy listens on 127.0.0.1 only. It uses one thread to accept and two per
connection, one for each direction, all daemon threads that `stop()` ends.

An upstream host that is a path is a folder of unix sockets, read as libpq reads it:
`FaultProxy("/srv/pg", 5432)` forwards to /srv/pg/.s.PGSQL.5432. That is how the
harness's own PostgreSQL (drillkit.embedded) listens, so a test can put the same proxy in
front of it as in front of a server on TCP.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"
CHUNK = 64 * 1024
ACCEPT_POLL_SECONDS = 0.1  # how quickly the accept loop notices stop()
THREAD_PREFIX = "faultproxy"


@dataclass
class ProxyStats:
    """What the proxy has done since it started; read it to count a client's attempts."""

    accepted: int = 0  # connections forwarded to the upstream server
    refused: int = 0  # connections reset on arrival because the proxy was cut
    dropped: int = 0  # open connections reset by cut() or hang()
    hung: int = 0  # connections accepted during hang() and never answered
    upstream_failures: int = 0  # connections reset because the upstream did not answer


def _reset(sock: socket.socket) -> None:
    """Close with RST rather than FIN: the peer sees 'connection reset', at once."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class _Link:
    """One client connection and its upstream connection."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.closed = threading.Event()
        self._lock = threading.Lock()
        self._pumps_left = 2
        self._reset = False

    def close(self, *, reset: bool = False) -> bool:
        """End both directions now. Returns False if the link was already closed."""
        with self._lock:
            if self.closed.is_set():
                return False
            self.closed.set()
            self._reset = reset
        # shutdown() wakes the pump threads blocked in recv(); they close the sockets.
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        return True

    def pump_finished(self) -> None:
        with self._lock:
            self._pumps_left -= 1
            last = self._pumps_left == 0
        if last:
            for sock in (self.client, self.upstream):
                _reset(sock) if self._reset else sock.close()


class FaultProxy:
    """Forward 127.0.0.1:<port> to (upstream_host, upstream_port), with faults on demand."""

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        listen_port: int = 0,
        upstream_connect_timeout: float = 3.0,
    ) -> None:
        self.upstream = (upstream_host, int(upstream_port))
        self.upstream_connect_timeout = upstream_connect_timeout
        self.stats = ProxyStats()
        self._listen_port = listen_port
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self._links: set[_Link] = set()
        self._threads: list[threading.Thread] = []
        self._accept_thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._cut = False
        self._hang = False
        self._held: set[socket.socket] = set()  # accepted during hang(), never answered
        self._latency = 0.0

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> FaultProxy:
        if self._listener is not None:
            raise RuntimeError("this FaultProxy is already running")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, self._listen_port))
        listener.listen(128)
        listener.settimeout(ACCEPT_POLL_SECONDS)
        self._listener = listener
        self._accept_thread = self._spawn(self._accept_loop, "accept")
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Close the listener and every connection, and wait for the threads to end."""
        self._stopping.set()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)  # after this, no new connection appears
        with self._lock:
            links = list(self._links)
        for link in links:
            link.close(reset=True)
        self._release_held()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
        if self._listener is not None:
            self._listener.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("start the FaultProxy before asking for its port")
        return self._listener.getsockname()[1]

    @property
    def address(self) -> tuple[str, int]:
        return (LOOPBACK, self.port)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._links)

    @property
    def is_cut(self) -> bool:
        return self._cut

    # -- faults ---------------------------------------------------------------------

    def cut(self) -> None:
        """Drop every open connection (RST) and reset new ones on arrival until restore().

        When this returns, no byte a client sends afterwards reaches the upstream.
        """
        with self._lock:
            self._cut = True
        self._drop_open_links()

    def hang(self) -> None:
        """Drop every open connection, then accept new ones and never answer them.

        A server mid-failover, or one too overloaded to run its accept loop, looks like
        this from the client: the TCP connection succeeds, and then nothing comes back.
        Only a client-side timeout ends the wait. restore() resets the held connections.
        """
        with self._lock:
            self._hang = True
        self._drop_open_links()

    def _drop_open_links(self) -> None:
        with self._lock:
            links = list(self._links)
            self._links.clear()
        for link in links:
            if link.close(reset=True):
                with self._lock:
                    self.stats.dropped += 1

    def latency(self, seconds: float) -> None:
        """Hold every chunk of data `seconds` before forwarding it, in each direction.

        A request and its answer therefore take at least 2 x `seconds` longer. A large
        value makes a server that accepts connections but never seems to answer.
        """
        if not 0 <= seconds <= 3600:
            raise ValueError(f"latency must be between 0 and 3600 seconds, not {seconds!r}")
        self._latency = float(seconds)

    def restore(self) -> None:
        """Clear every fault: new connections are forwarded again, with no added delay.

        Connections dropped by cut() stay dropped; clients reconnect as they would after
        a real outage.
        """
        with self._lock:
            self._cut = False
            self._hang = False
            self._latency = 0.0
        self._release_held()

    def _release_held(self) -> None:
        with self._lock:
            held = list(self._held)
            self._held.clear()
        for sock in held:
            _reset(sock)

    # -- the threads ----------------------------------------------------------------

    def _spawn(self, target, name: str, *args) -> threading.Thread:
        thread = threading.Thread(
            target=target, args=args, name=f"{THREAD_PREFIX}-{name}", daemon=True
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return thread

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                continue
            client.settimeout(None)
            self._connect(client)

    def _open_upstream(self) -> socket.socket:
        host, port = self.upstream
        if not host.startswith("/"):
            return socket.create_connection(self.upstream, self.upstream_connect_timeout)
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.settimeout(self.upstream_connect_timeout)
        try:
            upstream.connect(f"{host}/.s.PGSQL.{port}")
        except OSError:
            upstream.close()
            raise
        return upstream

    def _connect(self, client: socket.socket) -> None:
        if self._cut or self._stopping.is_set():
            with self._lock:
                self.stats.refused += 1
            _reset(client)
            return
        if self._hang:
            with self._lock:
                self.stats.hung += 1
                self._held.add(client)
            return
        try:
            upstream = self._open_upstream()
        except OSError:
            with self._lock:
                self.stats.upstream_failures += 1
            _reset(client)
            return
        upstream.settimeout(None)
        for sock in (client, upstream):
            if sock.family != socket.AF_UNIX:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link = _Link(client, upstream)
        with self._lock:
            # cut() or hang() may have run while we connected upstream: honour it.
            refused = self._cut or self._stopping.is_set()
            held = not refused and self._hang
            if refused:
                self.stats.refused += 1
            elif held:
                self.stats.hung += 1
                self._held.add(client)
            else:
                self.stats.accepted += 1
                self._links.add(link)
        if refused or held:
            if refused:
                _reset(client)
            upstream.close()
            return
        self._spawn(self._pump, "up", link, client, upstream)
        self._spawn(self._pump, "down", link, upstream, client)

    def _pump(self, link: _Link, source: socket.socket, destination: socket.socket) -> None:
        try:
            while not link.closed.is_set():
                data = source.recv(CHUNK)
                if not data:
                    break
                delay = self._latency
                if delay and link.closed.wait(delay):
                    break  # cut while the data was held: it is never delivered
                if link.closed.is_set():
                    break
                destination.sendall(data)
        except OSError:
            pass
        finally:
            # One side has gone, so end both: the clients we proxy do not half-close.
            link.close()
            with self._lock:
                self._links.discard(link)
            link.pump_finished()
