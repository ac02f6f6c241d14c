"""The FastAPI application: routers, limits, metrics, and the model loaded once."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from classifier.errors import InputError, SwarmlensError
from classifier.training import ensure_model
from serve.metrics import Metrics
from serve.middleware import GuardMiddleware
from serve.routers import classify, datasets, domains, hashtags, labelstudio, meta, posts
from serve.settings import Settings
from serve.store import Store


def create_app(settings: Settings | None = None, say: Callable[[str], None] = print) -> FastAPI:
    """Build the app. The model and the store open in the lifespan, once per process."""
    settings = settings or Settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        model, entry = ensure_model(settings.model, say=say)
        app.state.model, app.state.entry = model, entry
        app.state.model_lock = threading.Lock()
        app.state.store = Store(settings.data_dir)
        app.state.store.tune_for_serving()
        metrics.model.labels(entry.id).set(1)
        try:
            yield
        finally:
            app.state.store.close()

    app = FastAPI(
        title="swarmlens",
        summary="Who really drives an extremist hashtag: stance labels and hashtag volumes.",
        version="1",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    for module in (classify, posts, datasets, hashtags, domains, labelstudio, meta):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=meta.STATIC), name="static")
    app.add_middleware(
        GuardMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        max_inflight=settings.max_inflight,
    )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        return JSONResponse(status_code=422, content={"detail": errors, "message": summary})

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": exc.message, "code": exc.code})

    @app.exception_handler(SwarmlensError)
    async def swarmlens_error(request: Request, exc: SwarmlensError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": exc.message, "code": exc.code})

    return app
