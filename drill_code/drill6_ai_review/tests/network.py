"""A fake internet for the import tests: nothing the target fetches ever leaves this machine.

Three layers, so the guarantee holds whatever HTTP client a learner's rewrite uses:

* `requests` is answered by a table of routes: the transport adapter's `send()` is
  replaced, so redirects, status codes and timeouts behave as they do for real, and every
  request is recorded with the timeout it was sent with;
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


@dataclass
class Route:
    status: int = 200
    body: str = ""
    headers: dict = field(default_factory=dict)
    never_answers: bool = False  # accepts the connection, then sends nothing, ever


@dataclass
class Sent:
    method: str
    url: str
    host: str
    timeout: object


class FakeInternet:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.dns: dict[str, str] = {}
        self.sent: list[Sent] = []  # requests that reached the fake (over `requests`)
        self.connections: list[tuple[str, int]] = []  # raw connections refused
        self.waited_forever: list[str] = []  # URLs fetched with no timeout from a silent host

    # -- what the tests set up ----------------------------------------------------------

    def serve(self, url: str, body: str = "", status: int = 200, **headers: str) -> None:
        self.routes[url] = Route(status=status, body=body, headers=headers)

    def redirect(self, url: str, location: str) -> None:
        self.routes[url] = Route(status=302, headers={"Location": location})

    def hang(self, url: str) -> None:
        self.routes[url] = Route(never_answers=True)

    # -- what the tests ask -------------------------------------------------------------

    def contacted(self, host: str) -> bool:
        """Did the target send anything at all to `host` (a name or an address)?"""
        addresses = {host, self.dns.get(host)}
        return any(
            s.host in addresses or self.dns.get(s.host) in addresses for s in self.sent
        ) or any(h in addresses for h, _port in self.connections)

    # -- the transport ------------------------------------------------------------------

    def send(self, adapter, request, stream=False, timeout=None, **kwargs):
        host = urlsplit(request.url).hostname or ""
        self.sent.append(Sent(request.method, request.url, host, timeout))
        route = self.routes.get(request.url)
        if route is None:
            raise requests.ConnectionError(f"fake internet: nothing listens at {request.url}")
        if route.never_answers:
            if timeout is None:
                # A real server like this one would hold the worker until it is killed.
                # The test cannot wait forever, so it records the fact and fails the call.
                self.waited_forever.append(request.url)
                raise requests.ConnectionError("fake internet: would have waited forever")
            raise requests.ReadTimeout(f"fake internet: no answer within {timeout}")
        response = requests.Response()
        response.status_code = route.status
        response.headers = CaseInsensitiveDict(route.headers)
        response.raw = io.BytesIO(route.body.encode())
        response._content = route.body.encode()
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
