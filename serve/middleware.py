"""ASGI middleware: Host check (421), body size (413) and time (408) limits, load shedding
(503 overall, 429 per client), the client behind trusted proxies, metrics."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from swarmlens.classifier.errors import (
    BodyTimeoutError,
    ClientOverloadedError,
    HostNotAllowedError,
    OverloadedError,
    PayloadTooLargeError,
    SwarmlensError,
)
from swarmlens.serve.metrics import Metrics

UNSHED_PATHS = frozenset({"/healthz"})
"""Answered whatever the load: a health check that fails under load restarts a server
that is merely busy."""
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
BODY_LIMITS = {"/labelstudio/webhook": "max_webhook_bytes"}
"""Paths with a smaller body limit than ``max_body_bytes``: the setting that gives it."""
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class _Refused(Exception):
    """The body broke a limit and the guard has answered in the app's place."""


async def _problem(send: Send, error: SwarmlensError, headers: list | None = None) -> None:
    # The same body shape as every other API error (see serve.app.error_response).
    body = json.dumps(error.body()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.http_status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def host_name(header: str) -> str:
    """The name of a Host header, without port or IPv6 brackets, lower case."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    if header.count(":") == 1:
        return header.split(":", 1)[0]
    return header


def is_loopback_name(name: str) -> bool:
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address of an ``X-Forwarded-For`` hop (``1.2.3.4``, ``1.2.3.4:80``,
    ``[::1]:80``, ``::1``), or None when it is none."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def forwarded_client(peer: str, forwarded: list[bytes], proxies: list[Network]) -> str:
    """Who sent the request: ``peer`` (the TCP peer's address), unless ``peer`` is one of
    the trusted ``proxies``; then the last ``X-Forwarded-For`` hop that is no trusted proxy
    (each proxy appends the address it was reached from, so only the hops right of the
    first untrusted one are vouched for). A hop that is no IP address ends the walk: the
    last address vouched for (a trusted proxy's) is kept rather than believe it."""

    def trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in net for net in proxies)

    if not proxies or not forwarded or not trusted(_address(peer)):
        return peer
    hops = [hop for value in forwarded for hop in value.decode("latin-1").split(",")]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return client
        client = str(address)
        if not trusted(address):
            return client
    return client


def client_key(client: str) -> str:
    """What one client's share is counted under: its address; for IPv6 its /64, which a
    single host is normally given whole (one address per request costs it nothing)."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class GuardMiddleware:
    """What every request passes before any route runs.

    - Host: only loopback names and ``allowed_hosts`` (``*`` allows any): a page on
      another site cannot reach the server through a DNS name rebound to 127.0.0.1 (421).
    - Load: over ``max_inflight`` concurrent requests, 503 with Retry-After; a client (IP
      address) already sending ``max_inflight_per_client`` request bodies gets 429 for
      another, so a few slow clients cannot take every slot. ``/healthz`` is never shed.
    - Body: over ``max_body_bytes`` (declared or streamed, chunked included) 413; a body
      that does not finish arriving within ``body_timeout`` seconds 408. Paths in
      ``body_limits`` have their own, smaller limit (the Label Studio webhook).
    - Client: the TCP peer, or behind one of ``trusted_proxies`` the client named in
      ``X-Forwarded-For`` (``scope["client"]`` is set to it for the routes); the header is
      ignored from anyone else, so one client cannot pose as many.
    """

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        max_body_bytes: int,
        max_inflight: int,
        max_inflight_per_client: int | None = None,
        body_timeout: float = 10.0,
        allowed_hosts: Iterable[str] = ("*",),
        trusted_proxies: Iterable[Network] = (),
        body_limits: dict[str, tuple[int, str]] | None = None,
    ):
        self.app = app
        self.metrics = metrics
        self.max_body = max_body_bytes
        self.max_inflight = max_inflight
        self.per_client = max_inflight_per_client or max_inflight
        self.body_timeout = body_timeout
        self.allowed = {h.strip().lower() for h in allowed_hosts if h.strip()}
        self.proxies = list(trusted_proxies)
        self.body_limits = body_limits or {}
        self.inflight = 0
        self.by_client: dict[str, int] = {}

    def _host_allowed(self, scope: Scope) -> bool:
        if "*" in self.allowed:
            return True
        header = dict(scope.get("headers") or []).get(b"host")
        if header is None:
            return True  # HTTP/1.0 without Host: no browser, so no rebinding
        name = host_name(header.decode("latin-1"))
        return is_loopback_name(name) or name in self.allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        if not self._host_allowed(scope):
            await _problem(send, HostNotAllowedError(
                "this server answers only to loopback names and SWARMLENS_ALLOWED_HOSTS; "
                "add the name you use to that setting"
            ))
            self._record(scope, 421, started)
            return
        shed = scope.get("path") not in UNSHED_PATHS
        client = self._client(scope)
        if shed and self.inflight >= self.max_inflight:
            self.metrics.rejected_busy.inc()
            await _problem(
                send, OverloadedError("server busy: retry shortly"), [(b"retry-after", b"1")]
            )
            self._record(scope, 503, started)
            return
        headers = dict(scope.get("headers") or [])
        max_body, limit_name = self.body_limits.get(scope.get("path", ""), (self.max_body, ""))
        if max_body >= self.max_body:
            max_body, limit_name = self.max_body, "max_body_bytes"
        has_body = (headers.get(b"content-length") not in (None, b"0")) or (
            b"transfer-encoding" in headers
        )
        # A client's share counts its requests still sending a body: what slow clients hold.
        counted = shed and has_body
        if counted and self.by_client.get(client, 0) >= self.per_client:
            self.metrics.rejected_busy.inc()
            await _problem(send, ClientOverloadedError(
                f"this client is already sending {self.per_client} request bodies "
                "(max_inflight_per_client): finish them before starting more"
            ), [(b"retry-after", b"1")])
            self._record(scope, 429, started)
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            await _problem(send, self._too_large(max_body, limit_name))
            self._record(scope, 413, started)
            return
        status = {"code": 500}
        state = {"received": 0, "body_done": False, "started": False, "answered": False}
        deadline = time.monotonic() + self.body_timeout

        async def refuse(error: SwarmlensError) -> None:
            if not state["started"]:
                state["answered"] = True
                status["code"] = error.http_status
                await _problem(send, error)
            raise _Refused

        def body_done() -> None:
            if not state["body_done"]:
                state["body_done"] = True
                if counted:
                    left = self.by_client[client] - 1
                    if left:
                        self.by_client[client] = left
                    else:
                        del self.by_client[client]

        async def guarded_receive() -> Message:
            if state["body_done"]:
                return await receive()  # after the body: waiting for a disconnect is fine
            try:
                message = await asyncio.wait_for(receive(), deadline - time.monotonic())
            except TimeoutError:
                await refuse(BodyTimeoutError(
                    f"the request body did not arrive within {self.body_timeout:g} s "
                    "(body_timeout): send it at once"
                ))
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > max_body:
                    await refuse(self._too_large(max_body, limit_name))
                if not message.get("more_body", False):
                    body_done()
            else:
                body_done()
            return message

        async def tracking_send(message: Message) -> None:
            if state["answered"]:
                return  # the guard answered already; the app's late answer is dropped
            if message["type"] == "http.response.start":
                state["started"] = True
                status["code"] = message["status"]
            await send(message)

        self.inflight += 1
        if counted:
            self.by_client[client] = self.by_client.get(client, 0) + 1
        try:
            await self.app(scope, guarded_receive, tracking_send)
        except _Refused:
            pass
        finally:
            self.inflight -= 1
            body_done()
            self._record(scope, status["code"], started)

    def _too_large(self, limit: int, name: str) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"request body over {limit} bytes ({name}): send less per request"
        )

    def _client(self, scope: Scope) -> str:
        """The client's share key; behind a trusted proxy ``scope["client"]`` becomes the
        forwarded client (what uvicorn's proxy headers would do, for trusted peers only)."""
        peer = (scope.get("client") or ("?", 0))[0]
        if self.proxies:
            forwarded = [v for k, v in scope.get("headers") or [] if k == b"x-forwarded-for"]
            client = forwarded_client(peer, forwarded, self.proxies)
            if client != peer:
                scope["client"] = (client, 0)
                proto = dict(scope.get("headers") or []).get(b"x-forwarded-proto")
                if proto in (b"http", b"https"):
                    scope["scheme"] = proto.decode()
            peer = client
        return client_key(peer)

    def _record(self, scope: Scope, status: int, started: float) -> None:
        route: Any = scope.get("route")
        name = getattr(route, "path", None) or "unmatched"
        self.metrics.requests.labels(scope.get("method", ""), name, str(status)).inc()
        self.metrics.latency.labels(name).observe(time.perf_counter() - started)
