"""Shared request-time helpers: the served model, the store, time parameters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException, Request

from serve.store import Store


def store(request: Request) -> Store:
    return request.app.state.store


def model_version(request: Request) -> str:
    return request.app.state.entry.id


def aware(moment: datetime | None) -> datetime | None:
    """Naive times in query parameters are UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def bad_request(detail: str) -> HTTPException:
    return HTTPException(status_code=400, detail=detail)


def served(request: Request) -> Any:
    return request.app.state.model
