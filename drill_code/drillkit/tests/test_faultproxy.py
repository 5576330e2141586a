"""The fault-injecting TCP proxy: it forwards faithfully, and each fault does what it says.

The upstream here is a small echo server on 127.0.0.1 that also records every byte it
receives, so a test can tell what reached the server and what the client saw.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time

import pytest

from drillkit.faultproxy import LOOPBACK, THREAD_PREFIX, FaultProxy

TIMEOUT = 2.0  # no socket operation in these tests waits longer than this


class EchoServer:
    """Echoes every byte back and keeps a copy of everything it received."""

    def __init__(self) -> None:
        self.listener = socket.create_server((LOOPBACK, 0))
        self.listener.settimeout(0.1)
        self.received = bytearray()
        self.connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    @property
    def port(self) -> int:
        return self.listener.getsockname()[1]

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(None)
            with self._lock:
                self.connections.append(conn)
            thread = threading.Thread(target=self._echo, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _echo(self, conn: socket.socket) -> None:
        try:
            while data := conn.recv(65536):
                with self._lock:
                    self.received += data
                conn.sendall(data)
        except OSError:
            pass
        finally:
            conn.close()

    def close_all_connections(self) -> None:
        with self._lock:
            for conn in self.connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._stop.set()
        self.close_all_connections()
        for thread in self._threads:
            thread.join(TIMEOUT)
        self.listener.close()


@pytest.fixture
def echo():
    server = EchoServer()
    yield server
    server.stop()


@pytest.fixture
def proxy(echo):
    with FaultProxy(LOOPBACK, echo.port) as running:
        yield running


def connect(proxy: FaultProxy) -> socket.socket:
    sock = socket.create_connection(proxy.address, timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def round_trip(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    return recv_exactly(sock, len(payload))


def refused(proxy: FaultProxy) -> bool:
    """Connect while the proxy is cut: True when the connection is reset at once. The
    reset can arrive before connect() returns, or on the first read after it."""
    try:
        sock = connect(proxy)
    except ConnectionResetError:
        return True
    with sock:
        return is_closed_by_peer(sock)


def is_closed_by_peer(sock: socket.socket) -> bool:
    """True when the peer closed or reset the connection within TIMEOUT."""
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def wait_until(condition, timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


# -- pass-through -------------------------------------------------------------------


def test_listens_on_loopback_only(proxy):
    assert proxy.address[0] == "127.0.0.1"


def test_forwards_bytes_both_ways_unchanged(proxy, echo):
    payload = os.urandom(512 * 1024)
    with connect(proxy) as sock:
        assert round_trip(sock, payload) == payload
    assert bytes(echo.received) == payload
    assert proxy.stats.accepted == 1


def test_many_connections_at_once_stay_separate(proxy):
    socks = [connect(proxy) for _ in range(8)]
    try:
        for n, sock in enumerate(socks):
            sock.sendall(f"client {n};".encode())
        answers = [recv_exactly(sock, len(f"client {n};")) for n, sock in enumerate(socks)]
    finally:
        for sock in socks:
            sock.close()
    assert answers == [f"client {n};".encode() for n in range(8)]


def test_upstream_closing_closes_the_client_connection(proxy, echo):
    with connect(proxy) as sock:
        assert round_trip(sock, b"ping") == b"ping"
        echo.close_all_connections()
        assert is_closed_by_peer(sock), "the client must see the server's close"
    assert wait_until(lambda: proxy.open_connections == 0)


# -- cut ----------------------------------------------------------------------------


def test_cut_drops_open_connections_at_once(proxy):
    with connect(proxy) as sock:
        assert round_trip(sock, b"before") == b"before"
        started = time.monotonic()
        proxy.cut()
        assert is_closed_by_peer(sock), "an open connection must be dropped by cut()"
        assert time.monotonic() - started < 1.0
    assert proxy.stats.dropped == 1
    assert proxy.open_connections == 0


def test_nothing_sent_after_a_cut_reaches_the_server(proxy, echo):
    with connect(proxy) as sock:
        assert round_trip(sock, b"before;") == b"before;"
        proxy.cut()
        with contextlib.suppress(OSError):  # the reset may already have arrived
            sock.sendall(b"after;")
    time.sleep(0.2)
    assert bytes(echo.received) == b"before;"


def test_cut_resets_new_connections_until_restore(proxy):
    proxy.cut()
    assert refused(proxy), "a new connection must be refused while cut"
    assert proxy.stats.refused == 1
    assert proxy.stats.accepted == 0

    proxy.restore()
    with connect(proxy) as sock:
        assert round_trip(sock, b"back") == b"back"
    assert proxy.stats.accepted == 1


def test_a_refused_connection_fails_fast(proxy):
    proxy.cut()
    started = time.monotonic()
    assert refused(proxy)
    assert time.monotonic() - started < 0.5, "a refused client must not wait for a timeout"


# -- hang ---------------------------------------------------------------------------


def test_hang_drops_open_connections(proxy):
    with connect(proxy) as sock:
        assert round_trip(sock, b"before") == b"before"
        proxy.hang()
        assert is_closed_by_peer(sock), "an open connection must be dropped by hang()"
    assert proxy.stats.dropped == 1


def test_hang_accepts_new_connections_and_never_answers(proxy, echo):
    proxy.hang()
    with connect(proxy) as sock:  # the TCP connection itself succeeds
        sock.settimeout(0.3)
        sock.sendall(b"hello?")
        with pytest.raises(TimeoutError):
            sock.recv(1)
        assert wait_until(lambda: proxy.stats.hung == 1)
        assert proxy.stats.accepted == 0
        assert bytes(echo.received) == b"", "nothing may reach the server while hung"

        proxy.restore()
        sock.settimeout(TIMEOUT)
        assert is_closed_by_peer(sock), "restore() must end a held connection at once"
    with connect(proxy) as sock:
        assert round_trip(sock, b"back") == b"back"


# -- latency ------------------------------------------------------------------------


def test_latency_delays_each_direction(proxy):
    with connect(proxy) as sock:
        assert round_trip(sock, b"warm") == b"warm"
        proxy.latency(0.15)
        started = time.monotonic()
        assert round_trip(sock, b"slow") == b"slow"
        elapsed = time.monotonic() - started
        assert 0.3 <= elapsed < 1.5, f"a round trip took {elapsed:.3f}s, expected about 0.3s"

        proxy.restore()
        started = time.monotonic()
        assert round_trip(sock, b"fast") == b"fast"
        assert time.monotonic() - started < 0.1


def test_latency_applies_to_connections_opened_before_it(proxy):
    with connect(proxy) as sock:
        proxy.latency(0.1)
        started = time.monotonic()
        round_trip(sock, b"x")
        assert time.monotonic() - started >= 0.2


def test_cut_discards_data_held_by_latency(proxy, echo):
    with connect(proxy) as sock:
        proxy.latency(30)  # a server that seems to hang
        sock.sendall(b"held")
        time.sleep(0.05)
        started = time.monotonic()
        proxy.cut()
        assert is_closed_by_peer(sock)
        assert time.monotonic() - started < 1.0, "cut() must not wait for held data"
    time.sleep(0.1)
    assert bytes(echo.received) == b"", "data held when the proxy was cut is never delivered"


@pytest.mark.parametrize("seconds", [-0.1, 7200])
def test_latency_out_of_range_is_refused(proxy, seconds):
    with pytest.raises(ValueError, match="between 0 and 3600 seconds"):
        proxy.latency(seconds)


# -- upstream and lifecycle ----------------------------------------------------------


def test_unreachable_upstream_resets_the_client():
    placeholder = socket.socket()
    placeholder.bind((LOOPBACK, 0))  # bound, never listening: connections are refused
    port = placeholder.getsockname()[1]
    try:
        with FaultProxy(LOOPBACK, port, upstream_connect_timeout=1) as proxy:
            assert refused(proxy)
            assert proxy.stats.upstream_failures == 1
    finally:
        placeholder.close()


def test_stop_ends_every_thread_and_frees_the_port(echo):
    proxy = FaultProxy(LOOPBACK, echo.port).start()
    socks = [connect(proxy) for _ in range(3)]
    for sock in socks:
        round_trip(sock, b"hi")
    port = proxy.port
    proxy.stop()
    for sock in socks:
        assert is_closed_by_peer(sock)
        sock.close()
    alive = [t.name for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]
    assert alive == []
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((LOOPBACK, port), timeout=TIMEOUT).close()


def test_port_before_start_is_a_clear_error(echo):
    with pytest.raises(RuntimeError, match="start the FaultProxy"):
        _ = FaultProxy(LOOPBACK, echo.port).port


def test_a_path_as_upstream_host_is_a_folder_of_unix_sockets(tmp_path):
    """The harness's own PostgreSQL listens only on a unix socket in its data folder; the
    proxy reaches it under the name libpq uses, .s.PGSQL.<port>."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(tmp_path / ".s.PGSQL.5432"))
    listener.listen(1)
    listener.settimeout(TIMEOUT)

    def echo_once():
        conn, _ = listener.accept()
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    server = threading.Thread(target=echo_once, daemon=True)
    server.start()
    with FaultProxy(str(tmp_path), 5432) as proxy, connect(proxy) as client:
        assert round_trip(client, b"SELECT 1") == b"SELECT 1"
        proxy.cut()
        assert proxy.stats.dropped == 1
    server.join(TIMEOUT)
    listener.close()
