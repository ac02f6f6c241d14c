"""Service endpoints: current model, info, health, Prometheus metrics, the dashboard, and the
API docs (Swagger UI at /docs, ReDoc at /redoc) served from local assets, so they work offline."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from swarmlens.classifier.model.registry import SYNTHETIC_NOTE
from swarmlens.serve.deps import MetricsDep, ModelDep, ReadKey, SettingsDep, StoreDep
from swarmlens.serve.schemas import ErrorBody, Health, Info, ModelInfo

router = APIRouter(tags=["service"])
STATIC = Path(__file__).resolve().parent.parent / "static"
# Swagger UI (5.x, which reads OpenAPI 3.1) and ReDoc as shipped by the fastapi-offline
# package: FastAPI's own /docs page loads them from a CDN and is blank without internet.
DOCS_ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
DOCS_ASSETS_URL = "/docs-assets"
OPENAPI_URL = "/openapi.json"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"


def _version() -> str:
    try:
        return version("swarmlens")
    except PackageNotFoundError:
        return "0+unknown"


@router.get("/v1/models/current", response_model=ModelInfo, dependencies=[ReadKey])
def current_model(serving: ModelDep) -> ModelInfo:
    entry = serving.entry
    return ModelInfo(
        model_version=entry.id,
        created_at=entry.created_at,
        labels=entry.labels,
        n_train=entry.n_train,
        data_fingerprint=entry.data_fingerprint,
        metrics=entry.metrics,
        training_data=entry.training_data,
        synthetic=entry.synthetic,
        note=SYNTHETIC_NOTE if entry.synthetic else None,
    )


@router.get("/info", response_model=Info, dependencies=[ReadKey])
def info(settings: SettingsDep, serving: ModelDep, store: StoreDep) -> Info:
    """Version, model, limits, store counts, and the stance labels with display colours."""
    return Info(
        version=_version(),
        model_version=serving.version,
        model_synthetic=serving.entry.synthetic,
        model_note=SYNTHETIC_NOTE if serving.entry.synthetic else None,
        max_batch=settings.max_batch,
        max_body_bytes=settings.max_body_bytes,
        max_inflight=settings.max_inflight,
        writes_need_api_key=bool(settings.keys),
        reads_need_api_key=settings.reads_locked,
        store=store.counts(),
    )


@router.get("/healthz", response_model=Health, responses={503: {"model": ErrorBody}})
def healthz(store: StoreDep) -> Health:
    """ok when the store answers a query; 503 E045 when its file is damaged (a server over
    a store that cannot answer is not healthy, however fast it says so)."""
    problem = store.health()
    if problem is not None:
        raise problem
    return Health()


@router.get("/metrics", include_in_schema=False, dependencies=[ReadKey])
def metrics(registry: MetricsDep) -> Response:
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/", include_in_schema=False)
def dashboard() -> FileResponse:
    return FileResponse(STATIC / "index.html")


@router.get("/docs", include_in_schema=False)
def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=root + OPENAPI_URL,
        title="swarmlens API",
        oauth2_redirect_url=root + OAUTH2_REDIRECT_URL,
        swagger_js_url=root + DOCS_ASSETS_URL + "/swagger-ui-bundle.js",
        swagger_css_url=root + DOCS_ASSETS_URL + "/swagger-ui.css",
        swagger_favicon_url=root + DOCS_ASSETS_URL + "/favicon.png",
    )


@router.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", include_in_schema=False)
def redoc(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=root + OPENAPI_URL,
        title="swarmlens API",
        redoc_js_url=root + DOCS_ASSETS_URL + "/redoc.standalone.js",
        redoc_favicon_url=root + DOCS_ASSETS_URL + "/favicon.png",
        with_google_fonts=False,
    )
