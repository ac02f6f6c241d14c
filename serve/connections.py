"""Connections the server holds before any request: a time limit on headers, a cap that
fits the file descriptor limit, and /healthz that still gets in.

uvicorn gives no time limit to a connection that never finishes its headers, and its own
connection cap (``limit_concurrency``) answers 503 to every request, health checks
included. So the server's HTTP protocol is uvicorn's own with three rules added
(``guarded_protocol``):

- headers must arrive within ``header_timeout`` seconds of the connection opening, or of
  the previous answer on a kept-alive connection; else it is closed;
- at most ``limit`` connections are open: a new one beyond it closes the one that has
  waited longest for its headers (never one whose request is being answered). A flood of
  idle connections so churns through itself, and a health check, which sends its headers
  at once, is answered;
- header bytes beyond ``MAX_HEADER_BYTES`` get 431 and a close.

``limit`` is ``max_connections`` lowered to fit the process's file descriptor limit (raised
to its hard limit at start-up, ``raise_fd_limit``), minus what a burst of accepts
(``backlog``) and the store's files need.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections import OrderedDict
from typing import Any

from swarmlens.serve.metrics import Metrics

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 64 * 1024
"""Most bytes of a request line and headers (h11's default is 16 KiB; cookies and keys fit)."""
RESERVED_FDS = 128
"""File descriptors kept for the store, datasets, the model and logs, not for connections."""
MAX_BACKLOG = 2048
"""uvicorn's default listen backlog; lowered with a small descriptor limit (see ``plan``)."""


def raise_fd_limit() -> int:
    """Raise the soft limit on open files to the hard one (the default soft limit, often
    1024, is what 20,000 idle connections exhaust); the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20) if soft != resource.RLIM_INFINITY else 1 << 20
    if soft == resource.RLIM_INFINITY or soft >= hard:
        return hard if soft == resource.RLIM_INFINITY else soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):  # not allowed here (some sandboxes): keep the soft one
        return soft
    return hard


def plan(max_connections: int, fd_limit: int) -> tuple[int, int]:
    """(connections, backlog) that fit ``fd_limit`` descriptors: accepts come in bursts of
    up to ``backlog`` before the cap is applied, and ``RESERVED_FDS`` stay for the rest."""
    backlog = max(16, min(MAX_BACKLOG, fd_limit // 8))
    room = fd_limit - backlog - max(RESERVED_FDS, fd_limit // 16)
    return max(8, min(max_connections, room)), backlog


class ConnectionGuard:
    """The server-wide state behind ``guarded_protocol``: connections waiting for headers,
    oldest first, and the counts."""

    def __init__(self, limit: int, header_timeout: float, metrics: Metrics | None = None):
        self.limit = limit
        self.header_timeout = header_timeout
        self.metrics = metrics
        self.open: set[Any] = set()
        self.idle: OrderedDict[Any, None] = OrderedDict()

    def dropped(self, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.connections_dropped.labels(reason).inc()

    def admit(self, protocol: Any) -> bool:
        """Count a new connection; over the limit, close the longest idle one (or, when
        every connection is busy answering, refuse this one: False)."""
        self.open.add(protocol)
        while len(self.open) > self.limit:
            if not self.idle:
                self.open.discard(protocol)
                self.dropped("over_limit")
                return False
            oldest, _ = self.idle.popitem(last=False)
            self.open.discard(oldest)
            self.dropped("over_limit")
            oldest.drop()
        return True

    def forget(self, protocol: Any) -> None:
        self.open.discard(protocol)
        self.idle.pop(protocol, None)


def guarded_protocol(base: type[asyncio.Protocol], guard: ConnectionGuard) -> type:
    """uvicorn's HTTP protocol ``base`` (httptools' or h11's) with ``guard``'s rules.

    Both of uvicorn's protocols keep the request being answered in ``cycle`` and call
    ``on_response_complete`` after each answer: a connection waits for headers when it has
    no cycle or its cycle's answer is complete.
    """
    class GuardedProtocol(base):  # type: ignore[misc, valid-type]
        _phase = 0
        _header_bytes = 0
        _timer: asyncio.TimerHandle | None = None

        def _waiting(self) -> bool:
            cycle = getattr(self, "cycle", None)
            return cycle is None or cycle.response_complete

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            if not guard.admit(self):
                transport.abort()
                return
            self._wait_for_headers()

        def _wait_for_headers(self) -> None:
            # Start (again) the clock for the next request's headers.
            self._phase += 1
            self._header_bytes = 0
            guard.idle[self] = None
            guard.idle.move_to_end(self)
            if self._timer is not None:
                self._timer.cancel()
            phase = self._phase
            self._timer = asyncio.get_running_loop().call_later(
                guard.header_timeout, self._header_deadline, phase
            )

        def _header_deadline(self, phase: int) -> None:
            self._timer = None
            if phase == self._phase and self._waiting() and not self.transport.is_closing():
                guard.dropped("header_timeout")
                guard.forget(self)
                self.transport.close()

        def drop(self) -> None:
            """Close at once (over the limit): nothing is being answered here."""
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self.transport.abort()

        def data_received(self, data: bytes) -> None:
            waiting = self._waiting()
            if waiting:
                self._header_bytes += len(data)
            super().data_received(data)
            if waiting and not self._waiting():  # the headers are in: a request runs
                self._phase += 1
                guard.idle.pop(self, None)
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
            elif waiting and self._header_bytes > MAX_HEADER_BYTES:
                guard.dropped("headers_too_large")
                guard.forget(self)
                body = b"request headers too large"
                self.transport.write(
                    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                    b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
                    b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                self.transport.close()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self._waiting() and not self.transport.is_closing():
                self._wait_for_headers()

        def connection_lost(self, exc: Exception | None) -> None:
            guard.forget(self)
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            super().connection_lost(exc)

    GuardedProtocol.__name__ = f"Guarded{base.__name__}"
    return GuardedProtocol
