"""A fake internet for the import tests: nothing the target fetches ever leaves this machine.

Three layers, so the guarantee holds whatever HTTP client a learner's rewrite uses:

* `requests` is answered by a table of routes: the transport adapter's `send()` is
  replaced, so redirects, status codes and timeouts behave as they do for real, and every
  request is recorded with the timeout it was sent with. A body is a stream that counts
  the bytes the target reads from it, so a test can tell "refused after 1 MB" from
  "read 8 MB, then refused";
* DNS answers from a table of names: real look-ups are never made;
* any other socket connection to a host that is not loopback is refused and recorded
  (PostgreSQL on 127.0.0.1 still works; psycopg does not use Python sockets anyway).
"""

from __future__ import annotations

import io
import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

LOOPBACK = {"localhost", "127.0.0.1", "::1"}


# A padded body is `body`, then `blank` bytes of spaces, then FILLER: a control character
# that JSON and YAML parsers reject at once (PyYAML checks the whole text for it before
# scanning). The spaces keep a document valid as far as a test wants it valid, so a target
# that silently cuts a feed at the limit and parses the rest still imports it, and is
# caught. The filler beyond spares the learner's loop the seconds pure-Python YAML would
# spend scanning megabytes of spaces in a target that reads everything.
BLANK = b" "
FILLER = b"\x01"


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    never_answers: bool = False  # accepts the connection, then sends nothing, ever
    padding: int = 0  # bytes generated after `body`, without holding them
    blank: int = 0  # how many of those bytes are spaces before the FILLER starts


class Body(io.RawIOBase):
    """A response body of `len(body) + padding` bytes, counted as the target reads it."""

    def __init__(self, body: bytes, padding: int, blank: int, on_read) -> None:
        super().__init__()
        self.body, self.padding, self.on_read, self.offset = body, padding, on_read, 0
        self.filler_from = len(body) + min(blank, padding)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = len(self.body) + self.padding
        count = max(0, min(len(buffer), size - self.offset))
        start, end = self.offset, self.offset + count
        head = self.body[start:end]
        spaces = max(0, min(end, self.filler_from) - max(start, len(self.body)))
        buffer[:count] = head + BLANK * spaces + FILLER * (count - len(head) - spaces)
        self.offset += count
        self.on_read(count)
        return count


@dataclass
class Sent:
    method: str
    url: str
    host: str
    timeout: object


def canonical(host: str | None) -> str | None:
    """One spelling per IPv4 address, so 0xa9fea9fe and ::ffff:169.254.169.254 match."""
    if not host:
        return host
    host = host.strip("[]").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            return socket.inet_ntoa(socket.inet_aton(host))  # 2852039166, 0251.0376.0251.0376
        except OSError:
            return host
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


class FakeInternet:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.dns: dict[str, str] = {}
        self.sent: list[Sent] = []  # requests that reached the fake (over `requests`)
        self.connections: list[tuple[str, int]] = []  # raw connections refused
        self.waited_forever: list[str] = []  # URLs fetched with no timeout from a silent host
        self.bytes_read: dict[str, int] = {}  # body bytes the target read, per URL

    # -- what the tests set up ----------------------------------------------------------

    def serve(
        self,
        url: str,
        body: str | bytes = "",
        status: int = 200,
        padding: int = 0,
        blank: int = 0,
        **headers,
    ) -> None:
        """Answer `url` with `body` and then `padding` bytes: `blank` spaces, then FILLER.
        Content-Length is sent unless a test passes its own (None leaves it out, as a
        chunked answer would)."""
        data = body.encode() if isinstance(body, str) else body
        headers.setdefault("Content-Length", str(len(data) + padding))
        headers = {name: value for name, value in headers.items() if value is not None}
        self.routes[url] = Route(
            status=status, body=data, headers=headers, padding=padding, blank=blank
        )

    def redirect(self, url: str, location: str) -> None:
        self.routes[url] = Route(status=302, headers={"Location": location})

    def hang(self, url: str) -> None:
        self.routes[url] = Route(never_answers=True)

    # -- what the tests ask -------------------------------------------------------------

    def contacted(self, host: str) -> bool:
        """Did the target send anything at all to `host` (a name or an address, in any of
        the spellings an address has: 2852039166, ::ffff:169.254.169.254, ...)?"""
        addresses = {canonical(host), canonical(self.dns.get(host))}
        return any(
            canonical(s.host) in addresses or canonical(self.dns.get(s.host)) in addresses
            for s in self.sent
        ) or any(canonical(h) in addresses for h, _port in self.connections)

    # -- the transport ------------------------------------------------------------------

    def send(self, adapter, request, stream=False, timeout=None, **kwargs):
        host = urlsplit(request.url).hostname or ""
        self.sent.append(Sent(request.method, request.url, host, timeout))
        route = self.routes.get(request.url)
        if route is None:
            raise requests.ConnectionError(f"fake internet: nothing listens at {request.url}")
        if route.never_answers:
            read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
            if read_timeout is None:
                # A real server like this one would hold the worker until it is killed.
                # The test cannot wait forever, so it records the fact and fails the call.
                self.waited_forever.append(request.url)
                raise requests.ConnectionError("fake internet: would have waited forever")
            raise requests.ReadTimeout(f"fake internet: no answer within {timeout}")
        response = requests.Response()
        response.status_code = route.status
        response.headers = CaseInsensitiveDict(route.headers)
        self.bytes_read.setdefault(request.url, 0)

        def count(n, url=request.url):
            self.bytes_read[url] += n

        response.raw = Body(route.body, route.padding, route.blank, count)
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        response.reason = "OK" if route.status == 200 else "Fake"
        response.connection = adapter
        return response

    def getaddrinfo(self, real):
        def lookup(host, port, *args, **kwargs):
            name = host.decode() if isinstance(host, bytes) else host
            if name is None or name in LOOPBACK:
                return real(host, port, *args, **kwargs)
            address = self.dns.get(name)
            if address is None:
                try:
                    address = str(ipaddress.ip_address(name))
                except ValueError:
                    raise socket.gaierror(
                        socket.EAI_NONAME, f"fake DNS: no such name {name}"
                    ) from None
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port or 0))]

        return lookup

    def connect(self, real):
        internet = self

        def guarded(sock, address):
            if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK:
                internet.connections.append((address[0], address[1]))
                raise ConnectionRefusedError(f"fake internet: no connections to {address[0]}")
            return real(sock, address)

        return guarded

    def install(self, monkeypatch) -> FakeInternet:
        internet = self
        monkeypatch.setattr(
            HTTPAdapter,
            "send",
            lambda adapter, request, *args, **kwargs: internet.send(adapter, request, **kwargs),
        )
        monkeypatch.setattr(socket, "getaddrinfo", self.getaddrinfo(socket.getaddrinfo))
        monkeypatch.setattr(socket.socket, "connect", self.connect(socket.socket.connect))
        return self
