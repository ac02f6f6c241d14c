"""``swarmlens serve``: run the API and dashboard with uvicorn."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from swarmlens.classifier.errors import BindError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from swarmlens.serve.settings import ServerSettings


def is_loopback(host: str) -> bool:
    """Whether ``host`` only ever resolves to loopback addresses."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default: SWARMLENS_HOST or 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default: SWARMLENS_PORT or 8000).")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where the DuckDB store lives (default: user data dir).")
    ] = None,
    attach: Annotated[
        list[Path] | None, typer.Option(help="Scored dataset(s) to attach at start (repeatable).")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model version or path.")] = None,
    audit: Annotated[
        list[Path] | None,
        typer.Option(help="Audit file(s) from `annotate pull` to store at start (repeatable)."),
    ] = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) and the dashboard (/)."""
    from swarmlens.serve.app import create_app
    from swarmlens.serve.settings import ServerSettings

    # Options given on the command line win over SWARMLENS_* variables, which win over
    # the defaults.
    settings = ServerSettings(
        **{
            k: v
            for k, v in {"host": host, "port": port, "data_dir": data_dir, "model": model}.items()
            if v is not None
        }
    )
    host, port = settings.host, settings.port
    if not settings.keys and not is_loopback(host):
        raise BindError(
            f"refusing to bind to {host} with no API keys: set SWARMLENS_API_KEYS, "
            "or bind to 127.0.0.1"
        )
    app = create_app(settings)
    from swarmlens.serve.services.estimates import load_audit_file
    from swarmlens.serve.store import Store

    # The store is opened (and checked) here first, always: a damaged store (E045) or one
    # another server owns (E009) is one error line, not a traceback of the server's
    # start-up. Attach here too: DuckDB allows one writer process.
    store = Store(settings.data_dir)
    try:
        for path in attach or []:
            result = store.attach(path)
            typer.echo(f"attached {result['path']} ({result['rows']} posts)", err=True)
        for path in audit or []:
            for stored in load_audit_file(store, path):
                typer.echo(
                    f"audit {stored.audit_id} (#{stored.hashtag}): {stored.inserted} new, "
                    f"{stored.updated} updated, {stored.unchanged} unchanged labels",
                    err=True,
                )
    finally:
        store.close()
    shown = f"[{host}]" if ":" in host else host
    typer.echo(
        f"swarmlens dashboard: http://{shown}:{port}/   API docs: http://{shown}:{port}/docs",
        err=True,
    )
    run(app, settings)


def run(app: FastAPI, settings: ServerSettings) -> None:
    """uvicorn with the server's limits (see ``serve.connections``): headers within
    ``header_timeout``, at most ``max_connections`` (fitted to the raised descriptor
    limit, the longest idle dropped first, so /healthz always gets in), X-Forwarded-For
    left to the app (believed from ``trusted_proxies`` only), and a shutdown that stops
    expensive work at once instead of waiting for it."""
    import uvicorn
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    from swarmlens.serve.connections import (
        MAX_HEADER_BYTES,
        ConnectionGuard,
        guarded_protocol,
        plan,
        raise_fd_limit,
    )

    limit, backlog = plan(settings.max_connections, raise_fd_limit())
    guard = ConnectionGuard(limit, settings.header_timeout, app.state.metrics)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        http=guarded_protocol(AutoHTTPProtocol, guard),
        proxy_headers=False,  # the app's guard reads X-Forwarded-For from trusted proxies only
        backlog=backlog,
        timeout_keep_alive=max(1, round(settings.header_timeout)),
        timeout_graceful_shutdown=settings.shutdown_timeout,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            # Stop explanations and networks first: uvicorn waits for requests in flight.
            pools = getattr(app.state, "pools", None)  # none if the start-up failed
            if pools is not None:
                pools.close()
            await super().shutdown(sockets)

    Server(config).run()
