"""The FastAPI application: routers, limits, metrics, one error shape, the model loaded once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from swarmlens.classifier.errors import (
    HTTPError,
    InternalError,
    RequestInvalidError,
    SwarmlensError,
)
from swarmlens.classifier.model.training import ensure_model
from swarmlens.serve.metrics import Metrics
from swarmlens.serve.middleware import BODY_LIMITS, GuardMiddleware
from swarmlens.serve.routers import (
    audits,
    classify,
    datasets,
    domains,
    hashtags,
    labelstudio,
    meta,
    posts,
)
from swarmlens.serve.services.serving import ServingModel
from swarmlens.serve.services.training import Trainer
from swarmlens.serve.services.work import ClientGone, Pools, WorkPool
from swarmlens.serve.settings import ServerSettings
from swarmlens.serve.store import Store

log = logging.getLogger(__name__)


CLIENT_GONE = 499
"""Status recorded (in /metrics) for a request whose client left before its answer (nginx's
"client closed request"); nobody receives it."""


def error_response(error: SwarmlensError, headers: dict[str, str] | None = None) -> JSONResponse:
    """Every API error as ``{"code", "message", "detail"}`` with the error's HTTP status, and
    the error's own headers (``Retry-After``) when it has some."""
    headers = {**getattr(error, "headers", {}), **(headers or {})} or None
    return JSONResponse(status_code=error.http_status, content=error.body(), headers=headers)


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """Build the app. The model and the store open in the lifespan, once per process."""
    settings = settings or ServerSettings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        model, entry = ensure_model(settings.model, settings.models_dir)
        app.state.serving = ServingModel(model, entry)
        app.state.trainer = Trainer(settings, app.state.serving, metrics)
        app.state.store = Store(settings.data_dir)
        app.state.store.tune_for_serving()
        metrics.model.labels(entry.id).set(1)
        # Expensive work runs here, apart from the cheap path (see services.work); the CLI
        # closes the pools as soon as a shutdown starts, so it never waits for them.
        app.state.pools = Pools(
            explain=WorkPool("explain", settings.explain_workers, settings.explain_timeout,
                             metrics),
            network=WorkPool("network", settings.network_workers, settings.network_timeout,
                             metrics),
        )
        try:
            yield
        finally:
            app.state.pools.close()
            app.state.store.close()

    app = FastAPI(
        title="swarmlens",
        summary="Who really drives an extremist hashtag: stance labels and hashtag volumes.",
        version="1",
        lifespan=lifespan,
        # /docs and /redoc come from the meta router, with local assets (no CDN).
        docs_url=None,
        redoc_url=None,
        openapi_url=meta.OPENAPI_URL,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    for module in (classify, posts, datasets, audits, hashtags, domains, labelstudio, meta):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=meta.STATIC), name="static")
    app.mount(meta.DOCS_ASSETS_URL, StaticFiles(directory=meta.DOCS_ASSETS), name="docs-assets")
    app.add_middleware(
        GuardMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        max_inflight=settings.max_inflight,
        max_inflight_per_client=settings.max_inflight_per_client,
        body_timeout=settings.body_timeout,
        allowed_hosts=settings.hosts,
        trusted_proxies=settings.proxy_networks,
        body_limits={path: (getattr(settings, name), name) for path, name in BODY_LIMITS.items()},
    )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        return error_response(RequestInvalidError(summary, detail=errors))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(HTTPError(str(exc.detail), exc.status_code), exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Still a 500, but in the one error shape; the traceback goes to the server's log.
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(
            InternalError(f"unexpected {type(exc).__name__}: this is a bug, please report it")
        )

    @app.exception_handler(ClientGone)
    async def client_gone(request: Request, exc: ClientGone) -> Response:
        return Response(status_code=CLIENT_GONE)

    @app.exception_handler(SwarmlensError)
    async def swarmlens_error(request: Request, exc: SwarmlensError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
        return error_response(exc, headers)

    return app
