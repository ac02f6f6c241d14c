"""ASGI middleware: body size limit (413), load shedding (503), metrics."""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from swarmlens.classifier.errors import OverloadedError, PayloadTooLargeError, SwarmlensError
from swarmlens.serve.metrics import Metrics


class _BodyTooLarge(Exception):
    pass


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
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    """Rejects bodies over ``max_body_bytes`` (413), sheds load over ``max_inflight``
    concurrent requests (503 with Retry-After), and records request metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics, max_body_bytes: int, max_inflight: int):
        self.app = app
        self.metrics = metrics
        self.max_body = max_body_bytes
        self.max_inflight = max_inflight
        self.inflight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}
        if self.inflight >= self.max_inflight:
            self.metrics.rejected_busy.inc()
            await _problem(
                send, OverloadedError("server busy: retry shortly"), [(b"retry-after", b"1")]
            )
            self._record(scope, 503, started)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await _problem(send, self._too_large())
            self._record(scope, 413, started)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _BodyTooLarge
            return message

        started_response = False

        async def tracking_send(message: Message) -> None:
            nonlocal started_response
            if message["type"] == "http.response.start":
                started_response = True
                status["code"] = message["status"]
            await send(message)

        self.inflight += 1
        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started_response:
                status["code"] = 413
                await _problem(send, self._too_large())
        finally:
            self.inflight -= 1
            self._record(scope, status["code"], started)

    def _too_large(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"request body over {self.max_body} bytes (max_body_bytes): send less per request"
        )

    def _record(self, scope: Scope, status: int, started: float) -> None:
        route: Any = scope.get("route")
        name = getattr(route, "path", None) or "unmatched"
        self.metrics.requests.labels(scope.get("method", ""), name, str(status)).inc()
        self.metrics.latency.labels(name).observe(time.perf_counter() - started)
