"""Typed dependencies of the API: what a route needs, declared once, injected by FastAPI.

They are ``async def``: each is a few attribute reads, and FastAPI would run a plain
``def`` dependency on its thread pool, one hop per dependency per request.

Routers take ``SettingsDep``, ``ModelDep``, ``StoreDep``, ``MetricsDep``, ``FiltersDep``
and ``WriteKey`` instead of reaching into ``request.app.state``; tests swap any of them
with ``app.dependency_overrides``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

import duckdb
from fastapi import Depends, Query, Request

from swarmlens.classifier.errors import AuthenticationError, ForbiddenError, QueryError
from swarmlens.classifier.posts.post import check_query_time
from swarmlens.classifier.vocab import Label
from swarmlens.serve.metrics import Metrics
from swarmlens.serve.services.analytics import Filters
from swarmlens.serve.services.serving import ServingModel
from swarmlens.serve.services.training import Trainer
from swarmlens.serve.settings import ServerSettings
from swarmlens.serve.store import Store


async def get_settings(request: Request) -> ServerSettings:
    return request.app.state.settings


async def get_model(request: Request) -> ServingModel:
    return request.app.state.serving


async def get_store(request: Request) -> AsyncIterator[Store]:
    """The store; a DuckDB failure of its file in the route leaves as E046 (a full disk:
    503 with Retry-After) or E045 (a damaged file), never as a 500 "this is a bug"."""
    store: Store = request.app.state.store
    try:
        yield store
    except duckdb.Error as exc:
        error = store.failure(exc)
        if error is exc:
            raise
        raise error from None


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


async def get_trainer(request: Request) -> Trainer:
    return request.app.state.trainer


SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
ModelDep = Annotated[ServingModel, Depends(get_model)]
StoreDep = Annotated[Store, Depends(get_store)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
TrainerDep = Annotated[Trainer, Depends(get_trainer)]


def aware(moment: datetime | None, name: str = "time") -> datetime | None:
    """A query time as an aware UTC-comparable datetime: naive means UTC, and times
    outside ``QUERY_TIME_RANGE`` (where bucket arithmetic would overflow) are a 400.

    name: the parameter, for the message.
    """
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return check_query_time(name, moment)
    except ValueError as exc:
        raise QueryError(str(exc)) from None


async def filters(
    start: datetime | None = None,
    end: datetime | None = None,
    label: Annotated[
        list[Label] | None, Query(description="Repeatable; default all three.")
    ] = None,
    lang: Annotated[str | None, Query(max_length=16)] = None,
) -> Filters:
    """start / end (ISO 8601; naive means UTC), label (repeatable) and lang."""
    return Filters(aware(start), aware(end), label, lang)


FiltersDep = Annotated[Filters, Depends(filters)]


def presented_keys(request: Request) -> list[str]:
    """Every credential the request carries: ``X-API-Key``, ``Authorization: Bearer KEY``,
    ``Token KEY`` (Label Studio's style) or ``Basic`` with the key as password (what Label
    Studio sends for an ML backend connected with basic auth)."""
    found = []
    given = request.headers.get("x-api-key")
    if given:
        found.append(given.strip())
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme in ("bearer", "token") and value:
        found.append(value)
    elif scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        found.append(decoded.partition(":")[2])
    return found


async def require_key(settings: SettingsDep, request: Request) -> None:
    """Accept ``Authorization: Bearer KEY``, ``X-API-Key: KEY`` (or Label Studio's Token or
    Basic credentials, see ``presented_keys``) when keys are set. Any one credential that
    matches is enough: a wrong ``X-API-Key`` does not spoil a correct Bearer token."""
    keys = settings.keys
    if not keys:
        return
    given = presented_keys(request)
    if not given:
        raise AuthenticationError(
            "this endpoint needs an API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
        )
    for candidate in given:
        if any(hmac.compare_digest(candidate.encode(), key.encode()) for key in keys):
            return
    raise ForbiddenError("API key not accepted: check SWARMLENS_API_KEYS on the server")


async def require_read_key(settings: SettingsDep, request: Request) -> None:
    """``require_key`` for reading endpoints, when ``reads_need_key`` (default: keys set)."""
    if settings.reads_locked:
        await require_key(settings, request)


WriteKey = Depends(require_key)
"""For ``dependencies=[WriteKey]`` on endpoints that change state."""
ReadKey = Depends(require_read_key)
"""For endpoints that read data or use the model (not ``/healthz``)."""
