"""``swarmlens serve``: run the API and dashboard with uvicorn."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Annotated

import typer

from swarmlens.classifier.errors import BindError


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
    import uvicorn

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
    if attach or audit:
        from swarmlens.serve.services.estimates import load_audit_file
        from swarmlens.serve.store import Store

        # Attach before the server opens the store: DuckDB allows one writer process.
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
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
